"""`ProgbarLogger`: the `Epoch 1/10` line and progress bar that `fit(verbose=...)` prints."""
import numpy as np

from jkeras.callbacks.callback import Callback
from jkeras.utils.generic_utils import Progbar

__all__ = ["ProgbarLogger"]


class ProgbarLogger(Callback):
    """Prints `Epoch 1/10` and a progress bar (verbose=1) or one line per epoch (2)."""

    def __init__(self, count_mode="samples", stateful_metrics=None):
        super().__init__()
        if count_mode not in ("samples", "steps"):
            raise ValueError(
                f"Unknown `count_mode`: {count_mode}. Expected 'samples' or 'steps'.")
        self.count_mode = count_mode
        self.progbar = None
        self.seen = 0

    def on_train_begin(self, logs=None):
        self.verbose = self.params.get("verbose", 1)
        self.epochs = self.params.get("epochs", 1)

    def on_epoch_begin(self, epoch, logs=None):
        if not self.verbose:
            return
        print(f"Epoch {epoch + 1}/{self.epochs}", flush=True)
        target = self.params.get("samples") if self.count_mode == "samples" else \
            self.params.get("steps")
        if self.count_mode == "samples" and target is None:
            target = self.params.get("steps")
        # (Keras 2.3's bar says "/step" whether it counts samples or steps)
        self.progbar = Progbar(target=target, verbose=self.verbose,
                               stateful_metrics=self.params.get("metrics", ()))
        self.seen = 0

    def wants_logs(self, seen):
        """Whether the bar will redraw at `seen`, so batch logs are worth fetching."""
        return self.verbose == 1 and self.progbar is not None and self.progbar.due(seen)

    def on_train_batch_end(self, batch, logs=None):
        if not self.verbose or self.progbar is None:
            return
        size = dict.get(logs, "size", 1) if logs is not None else 1
        self.seen += size if self.count_mode == "samples" else 1
        target = self.progbar.target
        if self.verbose == 1 and self.progbar.due(self.seen) and \
                (target is None or self.seen < target):
            values = [(k, float(v)) for k, v in logs.items() if k not in ("batch", "size")]
            self.progbar.update(self.seen, values)

    def on_epoch_end(self, epoch, logs=None):
        if not self.verbose or self.progbar is None:
            return
        values = [(k, float(np.mean(v))) for k, v in (logs or {}).items()
                  if k not in ("batch", "size")]
        self.progbar.update(self.progbar.target or self.seen, values, finalize=True)
