"""Nested structures (lists, tuples, dicts) of arrays or tensors, and `_Spec`, a shape and
dtype standing in for an array during shape inference. A leaf module: the layer base class,
nodes and models all walk structures with these."""
import numpy as np

__all__ = ["_Spec", "flatten", "map_structure"]


def flatten(structure):
    """Leaves of nested lists/tuples/dicts (dicts in sorted key order, as Keras 2)."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    return [structure]


def map_structure(fn, structure):
    if isinstance(structure, list):
        return [map_structure(fn, s) for s in structure]
    if isinstance(structure, tuple):
        return tuple(map_structure(fn, s) for s in structure)
    if isinstance(structure, dict):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    return fn(structure)


class _Spec:
    """A shape that may hold None dimensions, with a dtype (symbolic inference only)."""

    def __init__(self, shape, dtype):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)

    def __repr__(self):
        return f"_Spec({self.shape}, {self.dtype})"
