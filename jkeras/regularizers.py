"""Weight penalties: pure functions of a weight array returning a scalar loss term."""
import math
import numbers

import jax.numpy as jnp

from jkeras.serialization.serialize import (deserialize_instance, get_object,
                                            serialize_keras_object)

__all__ = ["Regularizer", "L1L2", "L1", "L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2",
           "serialize", "deserialize", "get"]


def _penalty(value, name):
    """A finite float penalty factor (None means 0, as in Keras)."""
    if value is None:
        return 0.0
    if (not isinstance(value, numbers.Real) or isinstance(value, bool)
            or not math.isfinite(float(value))):
        raise ValueError(
            f"Expected a finite number for regularization penalty `{name}`. "
            f"Received: {name}={value!r}")
    return float(value)


class Regularizer:
    """Base class: `regularizer(x)` returns a scalar penalty for the weights `x`."""

    def __call__(self, x):
        return jnp.zeros((), dtype=jnp.asarray(x).dtype)

    def get_config(self):
        if type(self).__init__ is not Regularizer.__init__:
            raise NotImplementedError(
                f"{type(self).__name__} takes constructor arguments, so it must implement "
                "get_config() to be serialized.")
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """`l1 * sum(abs(x)) + l2 * sum(square(x))`."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _penalty(l1, "l1")
        self.l2 = _penalty(l2, "l2")

    def __call__(self, x):
        x = jnp.asarray(x)
        penalty = jnp.zeros((), dtype=x.dtype)
        if self.l1:
            penalty = penalty + self.l1 * jnp.sum(jnp.abs(x))
        if self.l2:
            penalty = penalty + self.l2 * jnp.sum(jnp.square(x))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


def _pop_l(kwargs, value, owner):
    """Keras 2 accepted the factor as `l=`; anything else is an error."""
    value = kwargs.pop("l", value)
    if kwargs:
        raise TypeError(f"{owner} got unexpected argument(s): {sorted(kwargs)}")
    return value


class L1(Regularizer):
    """`l1 * sum(abs(x))`."""

    def __init__(self, l1=0.01, **kwargs):
        self.l1 = _penalty(_pop_l(kwargs, l1, "L1"), "l1")

    def __call__(self, x):
        return self.l1 * jnp.sum(jnp.abs(jnp.asarray(x)))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """`l2 * sum(square(x))`."""

    def __init__(self, l2=0.01, **kwargs):
        self.l2 = _penalty(_pop_l(kwargs, l2, "L2"), "l2")

    def __call__(self, x):
        return self.l2 * jnp.sum(jnp.square(jnp.asarray(x)))

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Penalizes non-orthogonal rows (or columns) of a 2D kernel.

    `factor * mean(abs(cosine similarity))` over the distinct pairs of unit-normalized
    rows (`mode='rows'`) or columns (`mode='columns'`).
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _penalty(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError(
                f"Expected `mode` to be 'rows' or 'columns'. Received: mode={mode!r}")
        self.mode = mode

    def __call__(self, x):
        x = jnp.asarray(x)
        if x.ndim != 2:
            raise ValueError(
                f"OrthogonalRegularizer expects a rank-2 weight. Received: shape={x.shape}")
        if self.mode == "columns":
            x = x.T
        x = x / jnp.sqrt(jnp.maximum(jnp.sum(jnp.square(x), axis=1, keepdims=True), 1e-12))
        size = x.shape[0]
        cosines = (x @ x.T) * (1.0 - jnp.eye(size, dtype=x.dtype))
        num_pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * jnp.sum(jnp.abs(cosines)) / num_pairs

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# Keras 2 lowercase constructors.
l1 = L1
l2 = L2


def l1_l2(l1=0.01, l2=0.01):
    """An `L1L2` with both factors (default 0.01 each)."""
    return L1L2(l1=l1, l2=l2)


_BUILTINS = {cls.__name__: cls for cls in (Regularizer, L1L2, L1, L2, OrthogonalRegularizer)}
_BUILTINS.update({"l1": L1, "l2": L2, "l1l2": L1L2, "l1_l2": l1_l2,
                  "orthogonal_regularizer": OrthogonalRegularizer})


def serialize(regularizer):
    """Keras 2 layout: `{'class_name': ..., 'config': {...}}`."""
    return serialize_keras_object(regularizer)


def deserialize(config, custom_objects=None):
    """Rebuilds a regularizer from a config dict or a name (names give default instances)."""
    return deserialize_instance(config, _BUILTINS, custom_objects, "regularizer", factories=(l1_l2,))


def get(identifier):
    """Resolves None, a name, a config dict or a callable to a regularizer."""
    return get_object(identifier, deserialize, "regularizer")
