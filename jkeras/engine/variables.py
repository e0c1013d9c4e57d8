"""`Variable`: the one place a weight's current value lives.

A layer keeps one cell per weight. A cell is *free* (it holds its array) or *bound* to a
running trainer (it holds a slot in the trainer's state, and reads and writes go there).
Everything that reads or writes weights (`get_weights`, saving, callbacks, the trainer)
goes through the cells, so there is never a second copy to keep in step.
"""
import copy
import weakref
from typing import Any, Protocol

import jax
import jax.numpy as jnp
import numpy as np

from jkeras.engine import host_values

__all__ = ["Variable", "Binding", "expose", "is_exposed"]

# Weight arrays handed to user code as they are (`Weight.value()`, `variables_tree()`,
# backend functions given a weight): a trainer never donates these to its step, since
# whoever holds one may still use it (another model's weight assigned from it, a
# `K.constant` snapshot). Internal reads that copy or only look (shapes, host copies,
# the trainer's own) do not mark.
_EXPOSED = weakref.WeakValueDictionary()


def expose(tree):
    """Marks the device arrays in `tree` as held outside jkeras; returns `tree`."""
    for leaf in jax.tree_util.tree_leaves(tree):
        if isinstance(leaf, jax.Array) and not isinstance(leaf, jax.core.Tracer):
            _EXPOSED[id(leaf)] = leaf
    return tree


def is_exposed(array):
    return _EXPOSED.get(id(array)) is array


class Binding(Protocol):
    """What a bound cell reads from and writes to (the trainer's state)."""

    def read(self, slot: Any) -> Any: ...

    def write(self, slot: Any, value: Any) -> None: ...


class Variable:
    """A mutable cell holding one weight array (or a slot in a trainer's state)."""

    __slots__ = ("_value", "_binding", "_slot", "shape", "dtype")

    def __init__(self, value):
        value = jnp.asarray(value)
        self._value = value
        self._binding = None
        self._slot = None
        self.shape = tuple(value.shape)
        self.dtype = value.dtype

    # ---- reading and writing
    @property
    def value(self):
        """The current array. While a trainer holds the cell, a read of its state."""
        if self._binding is not None:
            return self._binding.read(self._slot)
        return self._value

    def assign(self, value):
        value = jnp.asarray(value, dtype=self.dtype)
        if tuple(value.shape) != self.shape:
            raise ValueError(
                f"Cannot assign a value of shape {tuple(value.shape)} to a variable of "
                f"shape {self.shape}.")
        if self._binding is not None:
            self._binding.write(self._slot, value)
        else:
            self._value = value

    def numpy(self):
        return np.asarray(host_values.to_host(self.value))

    # ---- binding (used by the trainer only)
    @property
    def bound(self):
        return self._binding is not None

    def bind(self, binding, slot):
        if self._binding is not None and self._binding is not binding:
            raise RuntimeError(
                "A weight is already held by another running trainer; a model cannot "
                "train inside another model's fit().")
        self._binding, self._slot = binding, slot

    def release(self, value):
        """Frees the cell, leaving it holding `value` (the trainer's last array)."""
        self._binding, self._slot = None, None
        self._value = value

    # ---- copies (a callback may copy the model inside a `fit`): the current array, free
    # of the running trainer, whose state is not the model's to carry
    def __getstate__(self):
        return {"value": self.value, "shape": self.shape, "dtype": self.dtype}

    def __setstate__(self, state):
        self._binding = self._slot = None
        self._value, self.shape, self.dtype = state["value"], state["shape"], state["dtype"]

    def __deepcopy__(self, memo):
        new = Variable.__new__(Variable)
        memo[id(self)] = new
        new.__setstate__(copy.deepcopy(self.__getstate__(), memo))
        return new

    def __repr__(self):
        where = "bound" if self._binding is not None else "free"
        return f"<Variable shape={self.shape} dtype={np.dtype(self.dtype).name} {where}>"
