"""Callbacks that stop training: `TerminateOnNaN` and `EarlyStopping`."""
import numpy as np

from jkeras.callbacks.callback import Callback
from jkeras.callbacks.monitor import MonitorMixin, monitor_mode

__all__ = ["TerminateOnNaN", "EarlyStopping"]


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch's loss is NaN or infinite (reads batch logs)."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.all(np.isfinite(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training", flush=True)
            self.model.stop_training = True


class EarlyStopping(MonitorMixin, Callback):
    """Stops training when `monitor` stopped improving for `patience` epochs.

    An improvement is a change by more than `min_delta` in the direction of `mode`; with a
    `baseline`, the patience count restarts only when the value also beats the baseline.
    `restore_best_weights` puts back the best epoch's weights when training stopped early.
    Epochs before `start_from_epoch` are not monitored. Attributes: `best`, `wait`,
    `stopped_epoch` (0 when training ran to the end), `best_epoch`.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.mode = monitor_mode(monitor, mode, "EarlyStopping")
        self.monitor_op = np.less if self.mode == "min" else np.greater
        self._reset()

    def _reset(self):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = np.inf if self.mode == "min" else -np.inf
        self.best_weights = None
        self.best_epoch = 0

    def _is_improvement(self, value, reference):
        shifted = value + self.min_delta if self.mode == "min" else value - self.min_delta
        return bool(self.monitor_op(shifted, reference))

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
                return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch <= 0:
            return
        if self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1:05d}: early stopping", flush=True)
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print("Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.", flush=True)
            self.model.set_weights(self.best_weights)
