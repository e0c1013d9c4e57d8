"""Weight constraints: pure projections the trainer applies after each update."""
import jax.numpy as jnp

from jkeras import _config
from jkeras.serialization.serialize import (deserialize_instance, get_object,
                                            serialize_keras_object)

__all__ = ["Constraint", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm", "max_norm",
           "maxnorm", "non_neg", "nonneg", "unit_norm", "unitnorm", "min_max_norm",
           "serialize", "deserialize", "get"]


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _norms(w, axis):
    return jnp.sqrt(jnp.sum(jnp.square(w), axis=_axis(axis), keepdims=True))


class Constraint:
    """Base class: `constraint(w)` returns the projected weights (identity here)."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Rescales slices along `axis` whose L2 norm exceeds `max_value` down to it."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = jnp.asarray(w)
        norms = _norms(w, self.axis)
        desired = jnp.clip(norms, 0, self.max_value)
        return w * (desired / (_config.epsilon() + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Zeroes negative weights."""

    def __call__(self, w):
        w = jnp.asarray(w)
        return w * (w >= 0).astype(w.dtype)


class UnitNorm(Constraint):
    """Divides slices along `axis` by their L2 norm."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = jnp.asarray(w)
        return w / (_config.epsilon() + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves slice norms a `rate` of the way into `[min_value, max_value]`."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        w = jnp.asarray(w)
        norms = _norms(w, self.axis)
        desired = (self.rate * jnp.clip(norms, self.min_value, self.max_value)
                   + (1 - self.rate) * norms)
        return w * (desired / (_config.epsilon() + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value,
                "rate": self.rate, "axis": self.axis}


# Keras 2 lowercase names (the last three from Keras 1 days).
max_norm = maxnorm = MaxNorm
non_neg = nonneg = NonNeg
unit_norm = unitnorm = UnitNorm
min_max_norm = MinMaxNorm

_BUILTINS = {cls.__name__: cls for cls in (Constraint, MaxNorm, NonNeg, UnitNorm, MinMaxNorm)}
_BUILTINS.update({"max_norm": MaxNorm, "maxnorm": MaxNorm, "non_neg": NonNeg,
                  "nonneg": NonNeg, "unit_norm": UnitNorm, "unitnorm": UnitNorm,
                  "min_max_norm": MinMaxNorm})


def serialize(constraint):
    """Keras 2 layout: `{'class_name': ..., 'config': {...}}`."""
    return serialize_keras_object(constraint)


def deserialize(config, custom_objects=None):
    """Rebuilds a constraint from a config dict or a name (names give default instances)."""
    return deserialize_instance(config, _BUILTINS, custom_objects, "constraint")


def get(identifier):
    """Resolves None, a name, a config dict or a callable to a constraint."""
    return get_object(identifier, deserialize, "constraint")
