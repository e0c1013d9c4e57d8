"""Callbacks that set the optimizer's learning rate: `LearningRateScheduler` (by epoch)
and `ReduceLROnPlateau` (when a monitored quantity stops improving)."""
import inspect
import warnings

import numpy as np

from jkeras import backend
from jkeras.callbacks.callback import Callback
from jkeras.callbacks.monitor import MonitorMixin, monitor_mode

__all__ = ["LearningRateScheduler", "ReduceLROnPlateau"]


def _learning_rate(model):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "lr"):
        raise ValueError('Optimizer must have a "lr" attribute. Received: optimizer='
                         f"{optimizer!r}")
    return backend.get_value(optimizer.lr)


def _set_learning_rate(model, value):
    backend.set_value(model.optimizer.lr, value)


def _takes_two_arguments(fn):
    """Whether `fn` can be called as fn(epoch, lr); None when its signature is unknown."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    kinds = [p.kind for p in parameters]
    positional = [k for k in kinds if k in (inspect.Parameter.POSITIONAL_ONLY,
                                            inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    return inspect.Parameter.VAR_POSITIONAL in kinds or len(positional) >= 2


class LearningRateScheduler(Callback):
    """Sets the learning rate at each epoch's start to `schedule(epoch, lr)` (or
    `schedule(epoch)`); adds `lr` to the epoch logs."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise ValueError(f"Expected `schedule` to be callable. Received: "
                             f"schedule={schedule!r}")
        self.schedule = schedule
        self.verbose = verbose

    def _call_schedule(self, epoch, lr):
        two = _takes_two_arguments(self.schedule)
        if two is None:
            try:
                return self.schedule(epoch, lr)
            except TypeError:
                return self.schedule(epoch)
        return self.schedule(epoch, lr) if two else self.schedule(epoch)

    def on_epoch_begin(self, epoch, logs=None):
        lr = float(_learning_rate(self.model))
        new_lr = self._call_schedule(epoch, lr)
        array = np.asarray(new_lr) if not isinstance(new_lr, (str, bytes, bool)) else None
        if array is None or array.shape != () or array.dtype.kind not in "iuf":
            raise ValueError('The output of the "schedule" function should be a float. '
                             f"Received: {new_lr!r}")
        new_lr = float(array)
        _set_learning_rate(self.model, new_lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1:05d}: LearningRateScheduler setting learning rate "
                  f"to {new_lr}.", flush=True)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = _learning_rate(self.model)


class ReduceLROnPlateau(MonitorMixin, Callback):
    """Multiplies the learning rate by `factor` when `monitor` has not improved by
    `min_delta` for `patience` epochs, then waits `cooldown` epochs; never below `min_lr`.
    Adds `lr` (the rate used in that epoch) to each epoch's logs."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0, epsilon=None, **kwargs):
        super().__init__()
        if kwargs:
            raise TypeError(f"Unrecognized arguments for ReduceLROnPlateau: {sorted(kwargs)}")
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor >= 1.0. Received: "
                             f"factor={factor}")
        if epsilon is not None:  # Keras 2's earlier name for min_delta
            warnings.warn("`epsilon` argument is deprecated, use `min_delta` instead.",
                          DeprecationWarning, stacklevel=2)
            min_delta = epsilon
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.min_delta = min_delta
        self.cooldown = cooldown
        self.min_lr = min_lr
        self.mode = monitor_mode(monitor, mode, "ReduceLROnPlateau")
        self._reset()

    def _reset(self):
        self.best = np.inf if self.mode == "min" else -np.inf
        self.cooldown_counter = 0
        self.wait = 0

    def monitor_op(self, current, best):
        if self.mode == "min":
            return bool(np.less(current, best - self.min_delta))
        return bool(np.greater(current, best + self.min_delta))

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["lr"] = _learning_rate(self.model)
        current = self.get_monitor_value(logs)
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
            return
        if self.in_cooldown():
            return
        self.wait += 1
        if self.wait < self.patience:
            return
        old_lr = logs["lr"]
        if old_lr > np.float32(self.min_lr):
            new_lr = max(float(old_lr) * self.factor, self.min_lr)
            _set_learning_rate(self.model, new_lr)
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1:05d}: ReduceLROnPlateau reducing learning rate "
                      f"to {new_lr}.", flush=True)
            self.cooldown_counter = self.cooldown
            self.wait = 0
