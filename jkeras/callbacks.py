"""Callbacks: hooks the host-side training loop calls around epochs and batches.

Batch logs are lazy: reading them fetches metric values from the device, so a callback
that never looks at its batch logs never makes the training loop wait on the device.
"""
import numpy as np

from jkeras.utils.generic_utils import Progbar

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


class Callback:
    """Base class; override the hooks you need. `self.model` and `self.params` are set
    by the training loop before `on_train_begin`."""

    def __init__(self):
        self.model = None
        self.params = {}
        self.validation_data = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self.model = model

    def on_batch_begin(self, batch, logs=None):
        """Keras 2 alias of `on_train_batch_begin`."""

    def on_batch_end(self, batch, logs=None):
        """Keras 2 alias of `on_train_batch_end`."""

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass


def _overrides(callback, *names):
    return any(getattr(type(callback), n) is not getattr(Callback, n) for n in names)


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
        self._call("on_epoch_end", epoch, logs if logs is not None else {})

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
