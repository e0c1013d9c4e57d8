"""`Weight`: the read-only handle a layer hands out for one of its weights
(`layer.weights`, `layer.trainable_weights`), with the `.name`, `.shape`, `.numpy()` and
`.assign()` of a Keras variable; the array itself stays in the layer's variables tree.
"""
import jax.numpy as jnp
import numpy as np

from jkeras.engine import call_context, host_values
from jkeras.engine.variables import expose

__all__ = ["Weight", "assign_all"]


class Weight:
    """A read-only view of one weight (`.name`, `.shape`, `.numpy()`), like a Keras variable."""

    def __init__(self, layer, key, kind, trainable, scope=""):
        self._layer = layer
        self._key = key
        self._kind = kind
        self.trainable = trainable
        self._scope = scope  # the names of the layers holding this one, as Keras 2 names

    @property
    def name(self):
        return f"{self._scope}{self._layer.name}/{self._key}:0"

    def scoped(self, prefix):
        """The same weight, its name under `prefix` (a holding layer's name and `/`)."""
        return Weight(self._layer, self._key, self._kind, self.trainable,
                      prefix + self._scope)

    def value(self):
        """The current array, as it is (so no trainer donates it later)."""
        return expose(self._current())

    def _current(self):
        # Inside a traced call that hands this layer its arrays (a subclassed model's, a
        # layer holding layers), the traced array: `call` code that reads another
        # layer's weight (tied embeddings) then has its gradient.
        context = call_context.active()
        if context is not None and context.owns(self._layer):
            if self._kind == "params":
                return context.variables["params"][self._layer.name][self._key]
            return context.new_state[self._layer.name][self._key]
        return self._layer._get_vars()[self._kind][self._key]

    def numpy(self):
        return np.asarray(host_values.to_host(self._current()))

    @property
    def shape(self):
        return tuple(self._current().shape)

    @property
    def dtype(self):
        return np.dtype(self._current().dtype).name

    def assign(self, value):
        variables = self._layer._get_vars()
        current = variables[self._kind][self._key]
        value = jnp.asarray(value, dtype=current.dtype)
        if value.shape != current.shape:
            raise ValueError(
                f"Cannot assign a value of shape {value.shape} to weight {self.name} of "
                f"shape {current.shape}.")
        new = {kind: dict(tree) for kind, tree in variables.items()}
        new[self._kind][self._key] = value
        self._layer._set_vars(new)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.numpy(), dtype=dtype)

    def __jkeras_value__(self):
        """The current array (traced inside a train step), for backend functions."""
        return self.value()

    def __eq__(self, other):
        """Handles of one weight are equal (`layer.kernel in layer.weights`)."""
        if not isinstance(other, Weight):
            return NotImplemented
        return (self._layer is other._layer and self._key == other._key and
                self._kind == other._kind)

    def __hash__(self):
        return hash((id(self._layer), self._key, self._kind))

    def __repr__(self):
        return f"<Weight {self.name} shape={self.shape} dtype={self.dtype}>"


def assign_all(pairs):
    """Writes each `(handle, value)` pair (shapes already checked), one write per layer."""
    by_layer = {}
    for handle, value in pairs:
        by_layer.setdefault(id(handle._layer), (handle._layer, []))[1].append((handle, value))
    for layer, items in by_layer.values():
        variables = layer._get_vars()
        new = {kind: dict(tree) for kind, tree in variables.items()}
        for handle, value in items:
            current = variables[handle._kind][handle._key]
            new[handle._kind][handle._key] = jnp.asarray(value, dtype=current.dtype)
        layer._set_vars(new)
