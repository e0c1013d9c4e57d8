"""Symbolic tensors: a shape, a dtype and where they came from (layer, node, tensor index)."""
import numpy as np

from jkeras.serialization import builtin_tables

__all__ = ["KerasTensor", "is_keras_tensor"]


class KerasTensor:
    """The output of a layer called on symbolic inputs; it holds no data."""

    def __init__(self, shape, dtype="float32", name=None, history=None, has_mask=False):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = np.dtype(dtype).name if dtype is not None else "float32"
        self.name = name
        # (layer, node_index, tensor_index), set by the node that produced this tensor.
        self._keras_history = history
        self._has_mask = has_mask

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def node(self):
        layer, node_index, _ = self._keras_history
        return layer._inbound_nodes[node_index]

    def __repr__(self):
        origin = self._keras_history[0].name if self._keras_history else None
        return (f"<KerasTensor shape={self.shape}, dtype={self.dtype}, "
                f"name={self.name}, created by layer '{origin}'>")

    def __hash__(self):
        return id(self)

    def __len__(self):
        raise TypeError("A symbolic KerasTensor has no length; use `.shape`.")

    def __array__(self, *args, **kwargs):
        raise TypeError(
            "A symbolic KerasTensor holds no data and cannot be converted to a NumPy "
            "array. It is only an input to layers when building a model.")

    # Arithmetic on symbolic tensors becomes a layer in the graph, as in Keras 2. The op
    # layers (jkeras.layers.core) sit above this module, so they are found by name.
    def _op(self, other, op, reverse=False):
        TensorOp = builtin_tables.table("layers")["TensorOp"]
        return TensorOp(op, reverse=reverse)([self, other])

    def __add__(self, other):
        return self._op(other, "add")

    def __radd__(self, other):
        return self._op(other, "add", reverse=True)

    def __sub__(self, other):
        return self._op(other, "subtract")

    def __rsub__(self, other):
        return self._op(other, "subtract", reverse=True)

    def __mul__(self, other):
        return self._op(other, "multiply")

    def __rmul__(self, other):
        return self._op(other, "multiply", reverse=True)

    def __truediv__(self, other):
        return self._op(other, "truediv")

    def __rtruediv__(self, other):
        return self._op(other, "truediv", reverse=True)

    def __neg__(self):
        return self._op(-1.0, "multiply")

    def _function_op(self, op, *operands):
        return builtin_tables.table("layers")["FunctionOp"].operator(op, *operands)

    def __pow__(self, other):
        return self._function_op("pow", self, other)

    def __rpow__(self, other):
        return self._function_op("pow", other, self)

    def __floordiv__(self, other):
        return self._function_op("floordiv", self, other)

    def __mod__(self, other):
        return self._function_op("mod", self, other)

    def __matmul__(self, other):
        return self._function_op("matmul", self, other)

    def __rmatmul__(self, other):
        return self._function_op("matmul", other, self)

    def __abs__(self):
        return self._function_op("abs", self)

    def __getitem__(self, index):
        SliceOp = builtin_tables.table("layers")["SliceOp"]
        return SliceOp(index)(self)


def is_keras_tensor(x):
    return isinstance(x, KerasTensor)
