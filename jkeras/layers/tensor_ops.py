"""Layers that operations on symbolic tensors create: `a + b`, `a * 2.0` (TensorOp),
`a[:, 0]` (SliceOp), and any backend or loss function called on them (FunctionOp), recorded
as weightless layers in the graph as Keras 2 did."""
import numpy as np
import jax.numpy as jnp

from jkeras.engine import naming, symbolic_ops
from jkeras.engine.base_layer import Layer
from jkeras.engine.keras_tensor import KerasTensor
from jkeras.engine.structure import map_structure

__all__ = ["TensorOp", "SliceOp", "FunctionOp"]

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
        if symbolic_ops.is_variable_like(b) or symbolic_ops.is_variable_like(a):
            # A `K.variable` is read when the graph runs, not frozen in as a constant.
            return FunctionOp.operator(self.op, b, a) if self.reverse else \
                FunctionOp.operator(self.op, a, b)
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


# ---------------------------------------------------------------------- function ops
_OPERATORS = {**_BINARY_OPS, "pow": jnp.power, "floordiv": jnp.floor_divide,
              "mod": jnp.mod, "matmul": jnp.matmul, "abs": jnp.abs}
for _name, _fn in _OPERATORS.items():
    symbolic_ops.register("operator", _name, _fn)


class _Slot:
    """Where a tensor input (`kind='tensor'`) or a `K.variable` (`'variable'`) goes in the
    recorded arguments of a FunctionOp."""

    def __init__(self, kind, index):
        self.kind, self.index = kind, index

    def __repr__(self):
        return f"<{self.kind} {self.index}>"


class FunctionOp(Layer):
    """A function of `jkeras.backend` or `jkeras.losses` called on symbolic tensors.

    Arguments:
        function: the function's name, e.g. 'mean'.
        module: its family: 'backend', 'losses' or 'operator' (Python operators).
        arguments: `{"args": [...], "kwargs": {...}}`, the call's arguments with each
            symbolic tensor replaced by its position in the layer's inputs.
    """

    def __init__(self, function, module="backend", arguments=None, **kwargs):
        kwargs.setdefault("name", None)
        if not kwargs["name"]:
            kwargs["name"] = naming.unique_name(str(function))
        super().__init__(**kwargs)
        fn = symbolic_ops.registered_function(module, function)
        if fn is None:
            raise ValueError(
                f"FunctionOp: unknown function {module}.{function}. Expected a public "
                "function of jkeras.backend or jkeras.losses (functions named in a config "
                "are looked up there, never imported).")
        self.function, self.module, self._fn = function, module, fn
        arguments = arguments or {"args": [], "kwargs": {}}
        self._args = list(arguments.get("args", []))
        self._kwargs = dict(arguments.get("kwargs", {}))
        self._cells = {}

    @classmethod
    def record(cls, fn, args, kwargs):
        """The outputs of a new FunctionOp node for `fn(*args, **kwargs)` on KerasTensors."""
        family, name = symbolic_ops.registered_name(fn)
        tensors, cells = [], {}

        def slot(x):
            if isinstance(x, KerasTensor):
                tensors.append(x)
                return _Slot("tensor", len(tensors) - 1)
            cell = getattr(x, "__jkeras_cell__", None)
            if cell is not None:
                key = f"variable_{len(cells)}"
                cells[key] = cell()
                return _Slot("variable", key)
            if symbolic_ops.is_variable_like(x):
                return x.__jkeras_value__()
            return x
        op = cls(name, family, {"args": map_structure(slot, list(args)),
                                "kwargs": map_structure(slot, dict(kwargs))})
        op._cells = cells
        op.non_weight_state = tuple(cells)
        return op(tensors)

    @classmethod
    def operator(cls, op, *operands):
        """`a <op> b` (or `<op> a`) where an operand is symbolic or a `K.variable`."""
        return cls.record(_OPERATORS[op], list(operands), {})

    def _maybe_build(self, input_shape):
        if self._variables is None:
            self._build_input_shape = input_shape
            self._variables = {"params": {}, "state": dict(self._cells)}

    def init(self, key, input_shape):
        return {"params": {}, "state": {k: c.value for k, c in self._cells.items()}}

    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        values = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        state = variables["state"]

        def fill(x):
            if isinstance(x, _Slot):
                return values[x.index] if x.kind == "tensor" else state[x.index]
            return x
        outputs = self._fn(*map_structure(fill, self._args),
                           **map_structure(fill, self._kwargs))
        return outputs, state

    def get_config(self):
        config = super().get_config()
        if self._cells:
            raise ValueError(
                f'Layer "{self.name}" ({self.module}.{self.function} on symbolic tensors) '
                "reads a K.variable, which a model config cannot hold. Rebuild this part "
                "of the graph in code instead of saving its config.")
        encode = _encoder(f'Layer "{self.name}" ({self.module}.{self.function})')
        config.update({"function": self.function, "module": self.module,
                       "arguments": {"args": encode(self._args),
                                     "kwargs": encode(self._kwargs)}})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        arguments = _decode(config.pop("arguments", None) or {"args": [], "kwargs": {}})
        return cls(arguments=arguments, **config)


def _encoder(where):
    def encode(x):
        if isinstance(x, _Slot):
            return {"__tensor__": x.index}
        if isinstance(x, tuple):
            return {"__tuple__": [encode(i) for i in x]}
        if isinstance(x, list):
            return [encode(i) for i in x]
        if isinstance(x, dict) and all(isinstance(k, str) for k in x):
            return {k: encode(v) for k, v in x.items()}
        if isinstance(x, slice):
            return {"__slice__": [encode(x.start), encode(x.stop), encode(x.step)]}
        if x is None or isinstance(x, (bool, int, float, str)):
            return x
        if isinstance(x, (np.generic, np.ndarray)) or hasattr(x, "__array__") and \
                hasattr(x, "dtype") and not callable(x):
            array = np.asarray(x)
            return {"__array__": array.tolist(), "dtype": array.dtype.name}
        raise ValueError(
            f"{where} cannot be saved in a model config: its argument {x!r:.80} is not a "
            "number, string, list or array. Rebuild this part of the graph in code, or "
            "wrap it in a Lambda layer with a named function.")
    return encode


def _decode(x):
    if isinstance(x, list):
        return [_decode(i) for i in x]
    if isinstance(x, dict):
        if "__tensor__" in x:
            return _Slot("tensor", int(x["__tensor__"]))
        if "__tuple__" in x:
            return tuple(_decode(i) for i in x["__tuple__"])
        if "__slice__" in x:
            return slice(*[_decode(i) for i in x["__slice__"]])
        if "__array__" in x:
            return np.asarray(x["__array__"], dtype=x.get("dtype"))
        return {k: _decode(v) for k, v in x.items()}
    return x
