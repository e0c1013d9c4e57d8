"""`ModelCheckpoint`: saves the model or its weights as training goes."""
import os

import numpy as np

from jkeras.callbacks.callback import Callback
from jkeras.callbacks.logs import alias_of
from jkeras.callbacks.monitor import (MonitorMixin, check_positive_int, check_save_freq,
                                      monitor_mode)

__all__ = ["ModelCheckpoint"]


def _template_fields(logs):
    """Logs for a filepath template, with each accuracy key also under its other spelling."""
    fields = dict(logs)
    for key, value in list(fields.items()):
        alias = alias_of(key)
        if alias is not None and alias not in fields:
            fields[alias] = value
    return fields


class ModelCheckpoint(MonitorMixin, Callback):
    """Saves the model (or its weights) at the end of each epoch or every `save_freq`
    batches.

    `filepath` is a template such as `weights.{epoch:02d}-{val_loss:.2f}.h5`, formatted
    with the 1-based epoch (and `batch`) and the logs; its extension picks the format
    (`.h5`/`.hdf5`, `.keras`, `.msgpack`). `save_best_only` saves only when `monitor`
    improves on `best`. `period` (Keras 2) saves every `period` epochs.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch", period=None,
                 options=None, initial_value_threshold=None, **kwargs):
        super().__init__()
        kwargs.pop("load_weights_on_restart", None)  # tf.keras 2, deprecated: no effect
        if kwargs:
            raise TypeError(f"Unrecognized arguments for ModelCheckpoint: {sorted(kwargs)}")
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = check_save_freq(save_freq)
        self.period = 1 if period is None else check_positive_int("period", period)
        self.options = options
        self.mode = monitor_mode(monitor, mode, "ModelCheckpoint")
        self.monitor_op = np.less if self.mode == "min" else np.greater
        if initial_value_threshold is not None:
            self.best = float(initial_value_threshold)
        else:
            self.best = np.inf if self.mode == "min" else -np.inf
        self.epochs_since_last_save = 0
        self._batches_since_last_save = 0
        self._last_batch_seen = -1
        self._current_epoch = 0

    def _implements_train_batch_hooks(self):
        return self.save_freq != "epoch"

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        new_epoch = batch <= self._last_batch_seen
        self._batches_since_last_save += batch + 1 if new_epoch else \
            batch - self._last_batch_seen
        self._last_batch_seen = batch
        if self._batches_since_last_save >= self.save_freq:
            self._batches_since_last_save = 0
            self._save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_since_last_save += 1
        if self.save_freq == "epoch" and self.epochs_since_last_save >= self.period:
            self._save(epoch, None, logs)

    def _file_path(self, epoch, batch, logs):
        fields = _template_fields(logs)
        fields["epoch"] = epoch + 1
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as error:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". '
                           f"Reason: {error}. Available keys: {sorted(fields)}") from None

    def _save(self, epoch, batch, logs):
        from jkeras.distribution.distribution_lib import is_chief
        # In a multi-process job whose weights are split over processes this runs in
        # every process (their saves gather the weights together); process 0 alone prints
        # and writes.
        verbose = self.verbose if is_chief() else 0
        self.epochs_since_last_save = 0
        logs = dict(logs or {})
        filepath = self._file_path(epoch, batch, logs)
        if self.save_best_only:
            current = self.get_monitor_value(logs)
            if current is None:
                return
            if not self.monitor_op(current, self.best):
                if verbose > 0:
                    print(f"\nEpoch {epoch + 1:05d}: {self.monitor} did not improve from "
                          f"{self.best:0.5f}", flush=True)
                return
            if verbose > 0:
                print(f"\nEpoch {epoch + 1:05d}: {self.monitor} improved from "
                      f"{self.best:0.5f} to {current:0.5f}, saving model to {filepath}",
                      flush=True)
            self.best = current
        elif verbose > 0:
            print(f"\nEpoch {epoch + 1:05d}: saving model to {filepath}", flush=True)
        self._write(filepath)

    def _write(self, filepath):
        from jkeras.distribution.distribution_lib import is_chief
        dirname = os.path.dirname(filepath)
        if dirname and is_chief():
            os.makedirs(dirname, exist_ok=True)
        extra = {} if self.options is None else {"options": self.options}
        try:
            if self.save_weights_only:
                self.model.save_weights(filepath, overwrite=True, **extra)
            else:
                self.model.save(filepath, overwrite=True, **extra)
        except IsADirectoryError:
            raise IOError("Please specify a non-directory filepath for ModelCheckpoint. "
                          f"Filepath used is an existing directory: {filepath}") from None
