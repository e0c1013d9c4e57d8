"""InputLayer and `Input()`: the entry points of a functional graph."""
import numpy as np

from jkeras import _config
from jkeras.engine import naming
from jkeras.engine.base_layer import Layer, _Spec, dtype_name, standardize_shape
from jkeras.engine.node import Node


class InputLayer(Layer):
    """Holds the shape and dtype of one model input; has no weights."""

    def __init__(self, input_shape=None, batch_size=None, dtype=None, input_tensor=None,
                 sparse=False, name=None, ragged=False, batch_input_shape=None,
                 batch_shape=None, **kwargs):
        if batch_shape is not None and batch_input_shape is None:
            batch_input_shape = batch_shape
        if batch_input_shape is None:
            if input_shape is None:
                raise ValueError(
                    "An InputLayer needs `input_shape` or `batch_input_shape`. Received "
                    "neither.")
            batch_input_shape = (batch_size,) + tuple(standardize_shape(input_shape))
        name = name or naming.unique_name("input", zero_based=False)
        super().__init__(name=name, dtype=dtype_name(dtype) or _config.floatx(),
                         batch_input_shape=batch_input_shape, **kwargs)
        self.sparse = bool(sparse)
        self.ragged = bool(ragged)
        self._variables = {"params": {}, "state": {}}
        Node(self, [], [], {}, _Spec(self._batch_input_shape, np.dtype(self.dtype)), None)

    def apply(self, variables, inputs, *, training=False, key=None, mask=None, **kwargs):
        return inputs, {}

    @property
    def output_shape(self):
        # tf.keras 2 reports an input layer's shape as a one-element list.
        return [self._batch_input_shape]

    def get_config(self):
        return {"batch_input_shape": list(self._batch_input_shape), "dtype": self.dtype,
                "sparse": self.sparse, "ragged": self.ragged, "name": self.name}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("trainable", None)
        return cls(**config)


def Input(shape=None, batch_size=None, name=None, dtype=None, sparse=False, tensor=None,
          ragged=False, batch_shape=None, **kwargs):
    """A symbolic input tensor: `Input(shape=(32,))` has shape `(None, 32)`."""
    if shape is None and batch_shape is None and "batch_input_shape" not in kwargs:
        raise ValueError(
            "Please provide to Input a `shape` or a `batch_shape` argument. Note that "
            "`shape` does not include the batch dimension.")
    layer = InputLayer(input_shape=shape, batch_size=batch_size, name=name, dtype=dtype,
                       sparse=sparse, ragged=ragged,
                       batch_input_shape=batch_shape or kwargs.pop("batch_input_shape", None))
    return layer._inbound_nodes[0].outputs
