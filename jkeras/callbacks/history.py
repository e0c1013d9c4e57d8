"""`History`, which records each epoch's logs, and Keras 2's `BaseLogger`."""
from jkeras.callbacks.callback import Callback

__all__ = ["BaseLogger", "History"]


class BaseLogger(Callback):
    """Keras 2 kept epoch averages here; jkeras averages on the device, so this only
    exists so that code constructing it keeps working."""

    def __init__(self, stateful_metrics=None):
        super().__init__()
        self.stateful_metrics = set(stateful_metrics or ())


class History(Callback):
    """Records each epoch's logs in `history` (`{'loss': [...], 'val_loss': [...]}`)."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self
