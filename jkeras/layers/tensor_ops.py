"""Layers that operations on symbolic tensors create: `a + b`, `a * 2.0` (TensorOp) and
`a[:, 0]` (SliceOp), recorded as weightless layers in the graph as Keras 2 did."""
import jax.numpy as jnp

from jkeras.engine.base_layer import Layer
from jkeras.engine.keras_tensor import KerasTensor

__all__ = ["TensorOp", "SliceOp"]

_BINARY_OPS = {"add": jnp.add, "subtract": jnp.subtract, "multiply": jnp.multiply,
               "truediv": jnp.true_divide}


class TensorOp(Layer):
    """`a + b`, `a * 2.0`, ... on symbolic tensors: one of them may be a constant."""

    def __init__(self, op, reverse=False, constant=None, **kwargs):
        kwargs.setdefault("name", None)
        super().__init__(**kwargs)
        if op not in _BINARY_OPS:
            raise ValueError(f"Unknown tensor op {op!r}; expected one of {list(_BINARY_OPS)}")
        self.op = op
        self.reverse = bool(reverse)
        self.constant = constant

    def __call__(self, inputs, *args, **kwargs):
        if not isinstance(inputs, (list, tuple)):  # rebuilt from a config: the constant is
            return super().__call__(inputs, *args, **kwargs)  # already in self.constant
        a, b = inputs
        if not isinstance(b, KerasTensor):
            self.constant = b.tolist() if hasattr(b, "tolist") else b
            return super().__call__(a, *args, **kwargs)
        return super().__call__([a, b], *args, **kwargs)

    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        fn = _BINARY_OPS[self.op]
        if isinstance(inputs, list):
            a, b = inputs
        else:
            a, b = inputs, jnp.asarray(self.constant, dtype=inputs.dtype)
        return (fn(b, a) if self.reverse else fn(a, b)), variables["state"]

    def get_config(self):
        config = super().get_config()
        config.update({"op": self.op, "reverse": self.reverse, "constant": self.constant})
        return config


class SliceOp(Layer):
    """`tensor[...]` on a symbolic tensor (basic indexing: ints, slices, None, Ellipsis)."""

    def __init__(self, index, **kwargs):
        super().__init__(**kwargs)
        self.index = index if isinstance(index, tuple) else (index,)

    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        return inputs[self.index], variables["state"]

    def get_config(self):
        config = super().get_config()
        config["index"] = [_encode_index(i) for i in self.index]
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["index"] = tuple(_decode_index(i) for i in config["index"])
        return cls(**config)


def _encode_index(item):
    if isinstance(item, slice):
        return {"slice": [item.start, item.stop, item.step]}
    if item is Ellipsis:
        return "..."
    return item


def _decode_index(item):
    if isinstance(item, dict) and "slice" in item:
        return slice(*item["slice"])
    if item == "...":
        return Ellipsis
    return item
