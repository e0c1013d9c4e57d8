"""Shapes, dtypes and specs as layers see them: shapes standardized (None where unknown),
the variables' dtype of a dtype argument, and `_Spec`s (shape and dtype) of inputs and of
outputs found with `jax.eval_shape`, without running anything.
"""
import contextlib
import threading

import jax

from jkeras import dtype_policies
from jkeras.engine.keras_tensor import KerasTensor
from jkeras.engine.structure import _Spec, map_structure

__all__ = ["shape_of", "standardize_shape", "standardize_nested_shape", "dtype_name",
           "to_specs", "eval_specs", "input_shape_to_specs", "inferring_shapes",
           "shape_inference"]


class _Inferring(threading.local):
    depth = 0


_INFERRING = _Inferring()


@contextlib.contextmanager
def shape_inference():
    """Marks code that traces layers only to learn shapes (and build them): there a layer
    may be built inside a trace; anywhere else, a trace is a compiled step."""
    _INFERRING.depth += 1
    try:
        yield
    finally:
        _INFERRING.depth -= 1


def inferring_shapes():
    return _INFERRING.depth > 0


def shape_of(x):
    return tuple(x.shape)


def standardize_shape(shape):
    if shape is None:
        return None
    if isinstance(shape, int):
        return (shape,)
    return tuple(None if d is None or (isinstance(d, int) and d < 0) else int(d)
                 for d in shape)


def dtype_name(dtype):
    """The variables' dtype name of a dtype argument (a name, numpy dtype, policy or policy
    config): 'float32' for 'mixed_bfloat16'."""
    if dtype is None:
        return None
    return dtype_policies.get(dtype).variable_dtype

def standardize_nested_shape(shape):
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return [standardize_nested_shape(s) for s in shape]
    return standardize_shape(shape)


def to_specs(tree):
    """KerasTensors and arrays in `tree` as `_Spec`s; other leaves stay as they are."""
    def convert(x):
        if isinstance(x, KerasTensor) or hasattr(x, "shape") and hasattr(x, "dtype"):
            return _Spec(x.shape, x.dtype)
        return x
    return map_structure(convert, tree)


def _fill(shape, value):
    return tuple(value if d is None else d for d in shape)


def eval_specs(fn, *trees):
    """Runs `fn` under `jax.eval_shape` with each unknown dimension set to 5, then to 7;
    returns its outputs as `_Spec`s with None where the two runs disagree."""
    leaves, treedef = jax.tree_util.tree_flatten(
        trees, is_leaf=lambda x: isinstance(x, _Spec) or x is None)
    dynamic = [i for i, leaf in enumerate(leaves) if isinstance(leaf, _Spec)]

    def run(fill):
        def wrapped(values):
            full = list(leaves)
            for i, value in zip(dynamic, values):
                full[i] = value
            return fn(*jax.tree_util.tree_unflatten(treedef, full))
        structs = [jax.ShapeDtypeStruct(_fill(leaves[i].shape, fill), leaves[i].dtype)
                   for i in dynamic]
        return jax.eval_shape(wrapped, structs)

    with shape_inference():
        first, second = run(5), run(7)
    return jax.tree_util.tree_map(
        lambda a, b: _Spec(tuple(x if x == y else None for x, y in zip(a.shape, b.shape)),
                           a.dtype), first, second)


def _shapes_to_specs(shapes, dtype):
    if isinstance(shapes, dict):
        return {k: _shapes_to_specs(v, dtype) for k, v in shapes.items()}
    if isinstance(shapes, (list, tuple)) and shapes and \
            isinstance(shapes[0], (list, tuple, dict)):
        return [_shapes_to_specs(s, dtype) for s in shapes]
    return _Spec(tuple(shapes), dtype)


def input_shape_to_specs(input_shape, dtype):
    if isinstance(input_shape, (list, tuple)) and input_shape and \
            isinstance(input_shape[0], (list, tuple)):
        return [input_shape_to_specs(s, dtype) for s in input_shape]
    return _Spec(tuple(input_shape), dtype)
