"""InputLayer and `Input()`: the entry points of a functional graph."""
import numpy as np

from jkeras import _config
from jkeras.engine import naming
from jkeras.engine.base_layer import Layer, _Spec, dtype_name, standardize_shape
from jkeras.engine.keras_tensor import KerasTensor
from jkeras.engine.node import Node

__all__ = ["InputLayer", "Input"]


def _check_shape(shape, argument, batch=False):
    """Raises a ValueError naming `argument` unless `shape` is an int or a sequence of
    non-negative ints and Nones (a `batch` shape also needs at least one entry)."""
    def is_int(d):
        return isinstance(d, (int, np.integer)) and not isinstance(d, (bool, np.bool_))

    expected = (f"expected a tuple of non-negative integers or None (the batch dimension "
                f"{'included' if batch else 'not included'})")
    if shape is None or (is_int(shape) and not batch and shape >= 0):
        return
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        raise ValueError(f"Invalid `{argument}`: {expected}. Received: {argument}={shape!r} "
                         f"of type {type(shape).__name__}")
    entries = tuple(shape)
    for d in entries:
        if d is not None and not (is_int(d) and d >= 0):
            raise ValueError(
                f"Invalid `{argument}`: {expected}. Received: {argument}={shape!r}, "
                f"whose entry {d!r} is not a non-negative integer or None")
    if batch and not entries:
        raise ValueError(f"Invalid `{argument}`: {expected}. Received: {argument}={shape!r}")


def _check_name_and_dtype(name, dtype):
    if name is not None and not isinstance(name, str):
        raise TypeError(f"Invalid `name` for an Input: expected a string. Received: "
                        f"name={name!r} of type {type(name).__name__}")
    if dtype is None:
        return
    try:
        dtype_name(dtype)
    except (TypeError, ValueError):
        raise ValueError(
            "Invalid `dtype` for an Input: expected a dtype or its name, such as "
            f"'float32' or 'int32'. Received: dtype={dtype!r}") from None


class InputLayer(Layer):
    """Holds the shape and dtype of one model input; has no weights."""

    def __init__(self, input_shape=None, batch_size=None, dtype=None, input_tensor=None,
                 sparse=False, name=None, ragged=False, batch_input_shape=None,
                 batch_shape=None, **kwargs):
        if batch_shape is not None and batch_input_shape is None:
            batch_input_shape = batch_shape
        _check_shape(input_shape, "shape")
        _check_name_and_dtype(name, dtype)
        _check_shape(batch_input_shape, "batch_shape", batch=True)
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(
                batch_size, (int, np.integer)) or batch_size < 1):
            raise ValueError("Invalid `batch_size`: expected a positive integer or None. "
                             f"Received: batch_size={batch_size!r}")
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
    batch_input_shape = kwargs.pop("batch_input_shape", None)
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments to Input: {sorted(kwargs)}")
    if tensor is not None:
        return _existing_input(tensor)
    if shape is None and batch_shape is None and batch_input_shape is None:
        raise ValueError(
            "Please provide to Input a `shape` or a `batch_shape` argument. Note that "
            "`shape` does not include the batch dimension.")
    layer = InputLayer(input_shape=shape, batch_size=batch_size, name=name, dtype=dtype,
                       sparse=sparse, ragged=ragged,
                       batch_input_shape=batch_shape or batch_input_shape)
    return layer._inbound_nodes[0].outputs


def _existing_input(tensor):
    """`Input(tensor=t)`: an `Input` tensor is used as it is (Keras 2 made it the new
    layer's output); anything else cannot start a graph here."""
    if isinstance(tensor, KerasTensor) and isinstance(tensor._keras_history[0], InputLayer):
        return tensor
    raise ValueError(
        "Invalid `tensor` for Input: expected a tensor returned by `Input()`. Received: "
        f"tensor={tensor!r:.200} of type {type(tensor).__name__}")
