"""Callbacks: hooks the host-side training loop calls around epochs and batches.

Batch logs are lazy: reading them fetches metric values from the device, so a callback
that never looks at its batch logs never makes the training loop wait on the device.
Callbacks whose batch work is optional (ModelCheckpoint, BackupAndRestore, TensorBoard)
ask for batch hooks only when their arguments need them.
"""
import collections.abc
import csv
import inspect
import json
import numbers
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from jkeras import backend
from jkeras.callback_base import Callback
from jkeras.tensorboard.callback import TensorBoard
from jkeras.utils.generic_utils import Progbar

__all__ = [
    "Callback", "CallbackList", "BaseLogger", "History", "ProgbarLogger", "TerminateOnNaN",
    "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler", "ReduceLROnPlateau",
    "CSVLogger", "RemoteMonitor", "LambdaCallback", "BackupAndRestore", "TensorBoard",
    "LazyLogs", "alias_of", "lookup", "monitor_mode",
]


def alias_of(name):
    """The other spelling of an accuracy key: Keras before 2.3 wrote `acc`, later `accuracy`
    (`val_acc` <-> `val_accuracy`, `out_acc` <-> `out_accuracy`); None for other keys."""
    if name.endswith("accuracy"):
        return name[: -len("accuracy")] + "acc"
    if name.endswith("acc"):
        return name[: -len("acc")] + "accuracy"
    return None


def lookup(logs, name, default=None):
    """`logs[name]`, accepting `acc` and `accuracy` spellings for each other."""
    if logs is None:
        return default
    if name in logs:
        return logs[name]
    alias = alias_of(name)
    if alias is not None and alias in logs:
        return logs[alias]
    return default


class LazyLogs(dict):
    """A logs dict whose values are fetched from the device on first access."""

    def __init__(self, fetch, extra=None):
        super().__init__(extra or {})
        self._fetch = fetch

    def _materialize(self):
        if self._fetch is not None:
            fetch, self._fetch = self._fetch, None
            dict.update(self, fetch())

    def __getitem__(self, key):
        self._materialize()
        return dict.__getitem__(self, key)

    def __contains__(self, key):
        self._materialize()
        return dict.__contains__(self, key)

    def __iter__(self):
        self._materialize()
        return dict.__iter__(self)

    def __len__(self):
        self._materialize()
        return dict.__len__(self)

    def __repr__(self):
        self._materialize()
        return dict.__repr__(self)

    def get(self, key, default=None):
        self._materialize()
        return dict.get(self, key, default)

    def keys(self):
        self._materialize()
        return dict.keys(self)

    def items(self):
        self._materialize()
        return dict.items(self)

    def values(self):
        self._materialize()
        return dict.values(self)

    def copy(self):
        self._materialize()
        return dict(self)

    def __eq__(self, other):
        self._materialize()
        return dict.__eq__(self, other)

    __hash__ = None


_TRAIN_BATCH_HOOKS = frozenset(
    {"on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end"})


def _implements(callback, name):
    """Whether `callback` does something in hook `name`: a subclass override or a function
    set on the instance (LambdaCallback), unless the callback says its train batch hooks
    are off (`_implements_train_batch_hooks()` returning False)."""
    if callable(getattr(callback, "__dict__", {}).get(name)):
        return True
    if getattr(type(callback), name, None) is getattr(Callback, name):
        return False
    if name in _TRAIN_BATCH_HOOKS:
        wants = getattr(callback, "_implements_train_batch_hooks", None)
        return True if wants is None else bool(wants())
    return True


def _overrides(callback, *names):
    return any(_implements(callback, n) for n in names)


class CallbackList:
    """Calls every callback's hook in order; batch hooks only on callbacks that define them."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        self.callbacks = list(callbacks or [])
        self.history = None
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger(count_mode=params.pop("count_mode", "steps")))
        else:
            params.pop("count_mode", None)
        if add_history:
            self.history = next((c for c in self.callbacks if isinstance(c, History)), None)
            if self.history is None:
                self.history = History()
                self.callbacks.append(self.history)
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, callback):
        self.callbacks.append(callback)

    def set_params(self, params):
        self.params = params
        for callback in self.callbacks:
            callback.set_params(params)

    def set_model(self, model):
        self.model = model
        for callback in self.callbacks:
            callback.set_model(model)

    def _with(self, *hooks):
        return [c for c in self.callbacks if _overrides(c, *hooks)]

    @property
    def has_train_batch_hooks(self):
        return bool(self._with("on_train_batch_begin", "on_train_batch_end",
                               "on_batch_begin", "on_batch_end"))

    def _call(self, hook, *args):
        for callback in self.callbacks:
            getattr(callback, hook)(*args)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs if logs is not None else {})

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        self._call("on_epoch_end", epoch, logs)
        for callback in self.callbacks:
            after = getattr(callback, "_after_epoch_end", None)
            if after is not None:
                after(epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        for c in self._with("on_train_batch_begin", "on_batch_begin"):
            c.on_train_batch_begin(batch, logs if logs is not None else {})

    def on_train_batch_end(self, batch, logs=None):
        for c in self._with("on_train_batch_end", "on_batch_end"):
            c.on_train_batch_end(batch, logs if logs is not None else {})

    def on_test_batch_begin(self, batch, logs=None):
        for c in self._with("on_test_batch_begin"):
            c.on_test_batch_begin(batch, logs if logs is not None else {})

    def on_test_batch_end(self, batch, logs=None):
        for c in self._with("on_test_batch_end"):
            c.on_test_batch_end(batch, logs if logs is not None else {})

    def on_predict_batch_begin(self, batch, logs=None):
        for c in self._with("on_predict_batch_begin"):
            c.on_predict_batch_begin(batch, logs if logs is not None else {})

    def on_predict_batch_end(self, batch, logs=None):
        for c in self._with("on_predict_batch_end"):
            c.on_predict_batch_end(batch, logs if logs is not None else {})

    def has_hook(self, *hooks):
        return bool(self._with(*hooks))

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs if logs is not None else {})

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs if logs is not None else {})

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs if logs is not None else {})

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs if logs is not None else {})

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs if logs is not None else {})

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs if logs is not None else {})

    def __iter__(self):
        return iter(self.callbacks)


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
        self.progbar = Progbar(target=target, verbose=self.verbose,
                               stateful_metrics=self.params.get("metrics", ()),
                               unit_name="sample" if self.count_mode == "samples" else "step")
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


# ------------------------------------------------------------------------------------------
# Monitoring a logged quantity
# ------------------------------------------------------------------------------------------

_MAX_MODE_HINTS = ("acc", "auc", "precision", "recall")


def monitor_mode(monitor, mode="auto", owner="Callback"):
    """'min' or 'max': `mode` itself, or for 'auto' the Keras 2 rule (names with `acc`,
    starting with `fmeasure`; here also `auc`, `precision`, `recall`: max; others: min)."""
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{owner} mode {mode!r} is unknown, fallback to auto mode. Expected "
                      "'auto', 'min' or 'max'.", RuntimeWarning, stacklevel=3)
        mode = "auto"
    if mode != "auto":
        return mode
    base = monitor[len("val_"):] if monitor.startswith("val_") else monitor
    if any(hint in base for hint in _MAX_MODE_HINTS) or base.startswith("fmeasure"):
        return "max"
    return "min"


class _MonitorMixin:
    """`get_monitor_value(logs)`: the monitored number (`acc`/`accuracy` spellings are one
    name), warning once per callback when it is missing."""

    _missing_warned = False

    def get_monitor_value(self, logs):
        value = lookup(logs, self.monitor)
        if value is None:
            if not self._missing_warned:
                self._missing_warned = True
                available = ", ".join(sorted(k for k in (logs or {})))
                warnings.warn(
                    f"{type(self).__name__} is conditioned on metric `{self.monitor}` which "
                    f"is not available. Available metrics are: {available}",
                    RuntimeWarning, stacklevel=3)
            return None
        return float(np.asarray(value))


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"Expected `{name}` to be a positive integer. Received: "
                         f"{name}={value!r}")
    return int(value)


def _check_save_freq(save_freq):
    if save_freq == "epoch":
        return save_freq
    if isinstance(save_freq, bool) or not isinstance(save_freq, numbers.Integral) or \
            save_freq < 1:
        raise ValueError(f"Unrecognized save_freq: {save_freq!r}. Expected 'epoch' or a "
                         "positive integer (a number of batches).")
    return int(save_freq)


# ------------------------------------------------------------------------------------------
# Stopping and checkpoints
# ------------------------------------------------------------------------------------------

class TerminateOnNaN(Callback):
    """Stops training as soon as a batch's loss is NaN or infinite (reads batch logs)."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.all(np.isfinite(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training", flush=True)
            self.model.stop_training = True


class EarlyStopping(_MonitorMixin, Callback):
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


def _template_fields(logs):
    """Logs for a filepath template, with each accuracy key also under its other spelling."""
    fields = dict(logs)
    for key, value in list(fields.items()):
        alias = alias_of(key)
        if alias is not None and alias not in fields:
            fields[alias] = value
    return fields


class ModelCheckpoint(_MonitorMixin, Callback):
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
        self.save_freq = _check_save_freq(save_freq)
        self.period = 1 if period is None else _check_positive_int("period", period)
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
        self.epochs_since_last_save = 0
        logs = dict(logs or {})
        filepath = self._file_path(epoch, batch, logs)
        if self.save_best_only:
            current = self.get_monitor_value(logs)
            if current is None:
                return
            if not self.monitor_op(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1:05d}: {self.monitor} did not improve from "
                          f"{self.best:0.5f}", flush=True)
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1:05d}: {self.monitor} improved from "
                      f"{self.best:0.5f} to {current:0.5f}, saving model to {filepath}",
                      flush=True)
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1:05d}: saving model to {filepath}", flush=True)
        self._write(filepath)

    def _write(self, filepath):
        dirname = os.path.dirname(filepath)
        if dirname:
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


# ------------------------------------------------------------------------------------------
# Learning rate
# ------------------------------------------------------------------------------------------

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


class ReduceLROnPlateau(_MonitorMixin, Callback):
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


# ------------------------------------------------------------------------------------------
# Logging elsewhere
# ------------------------------------------------------------------------------------------

def _csv_value(value):
    if isinstance(value, str):
        return value
    if isinstance(value, collections.abc.Iterable) and np.ndim(value) > 0:
        return f'"[{", ".join(map(str, value))}]"'
    return value


class CSVLogger(Callback):
    """Writes one row per epoch to a CSV file: `epoch` then the log keys, sorted.
    `append=True` continues an existing file without writing its header again."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys = None
        self.writer = None
        self.csv_file = None
        self.append_header = True

    def on_train_begin(self, logs=None):
        mode = "w"
        self.append_header = True
        if self.append:
            mode = "a"
            if os.path.exists(self.filename):
                with open(self.filename, "r", newline="") as f:
                    self.append_header = not bool(f.readline())
        self.csv_file = open(self.filename, mode, newline="")
        self.writer = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs.keys())
            if self.params.get("do_validation") and \
                    not any(k.startswith("val_") for k in self.keys):
                # validation_freq > 1: the first epoch has no val_ keys yet.
                self.keys += ["val_" + k for k in self.keys]
        if self.writer is None:
            dialect = type("_Dialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         dialect=dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, _csv_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            self.csv_file.close()
        self.csv_file = None
        self.writer = None


def _json_value(value):
    if isinstance(value, (np.ndarray, np.generic)):
        return value.item() if np.ndim(value) == 0 else value.tolist()
    return value


class RemoteMonitor(Callback):
    """POSTs each epoch's logs (and `epoch`) as JSON to `root + path`: a form field `field`
    by default, or the request body with `send_as_json=True`."""

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data",
                 headers=None, send_as_json=False, timeout=10.0):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json
        self.timeout = timeout

    def on_epoch_end(self, epoch, logs=None):
        send = {"epoch": epoch}
        send.update((k, _json_value(v)) for k, v in (logs or {}).items())
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("utf-8")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError):
            warnings.warn("Warning: could not reach RemoteMonitor root server at "
                          f"{self.root}", RuntimeWarning, stacklevel=2)


class LambdaCallback(Callback):
    """A callback made of the given functions: `on_epoch_begin(epoch, logs)`,
    `on_epoch_end(epoch, logs)`, `on_batch_begin(batch, logs)`, `on_batch_end(batch, logs)`,
    `on_train_begin(logs)`, `on_train_end(logs)`; other hooks may be passed by name."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None,
                 on_batch_end=None, on_train_begin=None, on_train_end=None, **kwargs):
        super().__init__()
        given = dict(kwargs, on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_batch_begin=on_batch_begin, on_batch_end=on_batch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end)
        for name, fn in given.items():
            if fn is not None:
                setattr(self, name, fn)


# ------------------------------------------------------------------------------------------
# Backup and restore
# ------------------------------------------------------------------------------------------

_BACKUP_FORMAT = "jkeras.BackupAndRestore"
_BACKUP_FILE = "training_state.msgpack"


def _encode_array(value):
    array = np.asarray(value)
    return {"dtype": array.dtype.name, "shape": list(array.shape),
            "bytes": array.tobytes(order="C")}


def _decode_array(item):
    import jax.numpy as jnp
    dtype = np.dtype(jnp.dtype(item["dtype"]))
    return np.frombuffer(item["bytes"], dtype=dtype).reshape(item["shape"]).copy()


def write_atomically(path, data):
    """Writes `data` (bytes) to `path` through a temporary file and `os.replace`, so a
    crash leaves either the old file or the new one, never a torn one."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def pack_training_state(snapshot, epoch, step=None, hyperparameters=None):
    """msgpack bytes of a `get_training_state()` snapshot plus where training stood."""
    import jax
    import msgpack
    leaves, treedef = jax.tree_util.tree_flatten(snapshot)
    record = {"format": _BACKUP_FORMAT, "version": 1, "epoch": int(epoch),
              "step": None if step is None else int(step), "treedef": str(treedef),
              "leaves": [_encode_array(leaf) for leaf in leaves],
              "hyperparameters": dict(hyperparameters or {})}
    return msgpack.packb(record, use_bin_type=True)


def unpack_training_state(data, template):
    """(snapshot shaped like `template`, record) from `pack_training_state` bytes."""
    import jax
    import msgpack
    record = msgpack.unpackb(data, raw=False)
    found = record.get("format") if isinstance(record, dict) else type(record).__name__
    if found != _BACKUP_FORMAT:
        raise ValueError(f"Expected a BackupAndRestore training state file (format "
                         f"{_BACKUP_FORMAT!r}). Received: format {found!r}")
    leaves, treedef = jax.tree_util.tree_flatten(template)
    if record["treedef"] != str(treedef) or len(record["leaves"]) != len(leaves):
        raise ValueError(
            "The backed-up training state does not match this model and optimizer (was "
            "the model or compile() changed?). Expected structure "
            f"{treedef} with {len(leaves)} arrays. Received: {record['treedef']} with "
            f"{len(record['leaves'])} arrays.")
    arrays = [_decode_array(item) for item in record["leaves"]]
    for got, want in zip(arrays, leaves):
        if got.shape != np.shape(want):
            raise ValueError("The backed-up training state does not match this model: "
                             f"expected an array of shape {np.shape(want)}. Received: "
                             f"shape {got.shape}.")
    return jax.tree_util.tree_unflatten(treedef, arrays), record


def _host_changed_hyperparameters(optimizer):
    """Hyperparameters set on the host (by a callback) that the device state does not
    hold yet: the next step would write them in."""
    out = {}
    for name, hyper in getattr(optimizer, "_hypers", {}).items():
        if getattr(hyper, "changed", False) and getattr(hyper, "_getter", None) is None:
            out[name] = hyper.python_value()
    return out


class BackupAndRestore(Callback):
    """Backs up the whole training state to `backup_dir` at each epoch end (or every
    `save_freq` batches) and, when `fit` starts and a backup exists, restores it and
    resumes from where it was taken, so an interrupted run ends bit for bit as an
    uninterrupted one.

    The backup is one msgpack file (variables, optimizer state, PRNG key, epoch, step,
    learning rate set by a callback), replaced atomically; it is deleted when training
    ends normally if `delete_checkpoint`. Callbacks' own state (EarlyStopping's or
    ReduceLROnPlateau's counters) is not part of it.

    With an integer `save_freq` a run can be resumed inside an epoch: the training loop
    starts that epoch over, and after each of its batches up to the backed-up one the
    backed-up state is put back. Weights then match exactly; that epoch's logged metrics
    also count the re-run batches.
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True,
                 save_before_preemption=False):
        super().__init__()
        if not backup_dir:
            raise ValueError(f"Empty `backup_dir` argument passed. Received: "
                             f"backup_dir={backup_dir!r}")
        if save_freq is False:
            raise ValueError("Expected `save_freq` to be 'epoch' or a positive integer. "
                             "Received: save_freq=False (preemption checkpoints are not "
                             "supported).")
        if save_before_preemption:
            warnings.warn("`save_before_preemption` has no effect in jkeras.",
                          RuntimeWarning, stacklevel=2)
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = _check_save_freq(save_freq)
        self.delete_checkpoint = delete_checkpoint
        self._batches_count = 0
        self._current_epoch = 0
        self._replay = None
        self._backed_up_hypers = {}

    @property
    def backup_path(self):
        return os.path.join(self.backup_dir, _BACKUP_FILE)

    def _implements_train_batch_hooks(self):
        return self.save_freq != "epoch"

    def on_train_begin(self, logs=None):
        self._batches_count = 0
        self._replay = None
        if not os.path.exists(self.backup_path):
            return
        with open(self.backup_path, "rb") as f:
            data = f.read()
        snapshot, record = unpack_training_state(data, self.model.get_training_state())
        self.model.set_training_state(snapshot)
        for name, value in record.get("hyperparameters", {}).items():
            setattr(self.model.optimizer, name, value)
        epoch, step = record["epoch"], record["step"]
        steps = self.params.get("steps")
        if step is None or (steps is not None and step + 1 >= steps):
            self.model._trainer.resume_at(epoch + 1)
        else:
            # Resume inside `epoch`: the loop starts the epoch over, so the batches up
            # to `step` are run and then undone by putting the backed-up state back.
            self.model._trainer.resume_at(epoch)
            self._replay = {"epoch": epoch, "step": step, "snapshot": snapshot,
                            "hyperparameters": record.get("hyperparameters", {})}

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def _after_epoch_end(self, epoch, logs=None):
        """Called by CallbackList once every callback's on_epoch_end has run."""
        if self.save_freq == "epoch" and \
                _host_changed_hyperparameters(self.model.optimizer) != self._backed_up_hypers:
            # A callback listed after this one changed a hyperparameter at this epoch's
            # end (ReduceLROnPlateau): back up again so that the change is kept.
            self._backup(epoch, None)

    def on_train_batch_end(self, batch, logs=None):
        replay = self._replay
        if replay is not None:
            if self._current_epoch == replay["epoch"] and batch <= replay["step"]:
                self.model.set_training_state(replay["snapshot"])
                for name, value in replay["hyperparameters"].items():
                    setattr(self.model.optimizer, name, value)
                if batch == replay["step"]:
                    self._replay = None
                return
            self._replay = None
        if self.save_freq == "epoch":
            return
        self._batches_count += 1
        if self._batches_count >= self.save_freq:
            self._batches_count = 0
            self._backup(self._current_epoch, batch)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._backup(epoch, None)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_path):
            os.remove(self.backup_path)

    def _backup(self, epoch, step):
        from jkeras.distribution.distribution_lib import is_chief
        if not is_chief():
            return  # in a multi-process job only process 0 writes files
        state = self.model.get_training_state()
        hypers = _host_changed_hyperparameters(self.model.optimizer)
        write_atomically(self.backup_path, pack_training_state(state, epoch, step, hypers))
        self._backed_up_hypers = hypers
