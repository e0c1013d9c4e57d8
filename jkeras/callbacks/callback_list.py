"""`CallbackList`: calls every callback's hook in order, and tells the training loop which
hooks anybody implements, so that batch hooks (and the device reads their logs cost) are
skipped when no callback asks for them. Callbacks whose batch work is optional
(ModelCheckpoint, BackupAndRestore, TensorBoard) ask for batch hooks only when their
arguments need them.
"""
from jkeras.callbacks.callback import Callback
from jkeras.callbacks.history import History
from jkeras.callbacks.progbar_logger import ProgbarLogger

__all__ = ["CallbackList"]


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
            # First, as Keras 2.3 put it: an epoch's bar line is printed before what the
            # user's callbacks print at the epoch's end.
            self.callbacks.insert(0, ProgbarLogger(count_mode=params.pop("count_mode",
                                                                         "steps")))
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
