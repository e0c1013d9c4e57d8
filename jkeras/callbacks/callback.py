"""The `Callback` base class: the hooks the training loop calls, all doing nothing.

Callbacks defined outside this package (TensorBoard, in `jkeras.tensorboard`) import it
from this module; `jkeras.callbacks` re-exports them beside its own."""

__all__ = ["Callback"]


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
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

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

    def _implements_train_batch_hooks(self):
        """Whether overridden train batch hooks should be called; a callback whose batch
        work depends on its arguments returns False when it has none to do, so that the
        training loop need not hand it batch logs (which would wait on the device)."""
        return True
