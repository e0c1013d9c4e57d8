"""Learning rate schedules (`keras.optimizers.schedules`): pure functions of the step.

Each schedule is a small config object whose `__call__(step)` uses only `jax.numpy`, so it
runs inside a jitted train step (step a traced integer) as well as on the host (step an
int). `get_config()` / `from_config()` round-trip the Keras 2 arguments.
"""
import math

import jax.numpy as jnp

from jkeras import _config
from jkeras.serialization.serialize import deserialize_keras_object, serialize_keras_object

__all__ = [
    "LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay", "PolynomialDecay",
    "InverseTimeDecay", "CosineDecay", "CosineDecayRestarts", "serialize", "deserialize",
]


def _as_float(value):
    return jnp.asarray(value, dtype=_config.floatx())


def _check_positive(name, value):
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")


class LearningRateSchedule:
    """Base class: subclasses define `__call__(step)` (jax.numpy only) and `get_config()`."""

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override "
            "`__call__(self, step)`.")

    def get_config(self):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override "
            "`get_config()` to be serializable.")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)` (floored if staircase)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        lr = _as_float(self.initial_learning_rate)
        p = jnp.asarray(step, lr.dtype) / jnp.asarray(self.decay_steps, lr.dtype)
        if self.staircase:
            p = jnp.floor(p)
        return lr * jnp.power(jnp.asarray(self.decay_rate, lr.dtype), p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[i]` for `boundaries[i-1] < step <= boundaries[i]` (open ends at both sides)."""

    def __init__(self, boundaries, values, name=None):
        boundaries, values = list(boundaries), list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}.")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        step = jnp.asarray(step)
        values = jnp.asarray(self.values)
        if not self.boundaries:
            return values[0]
        # Boundaries are compared in the step's dtype, as Keras casts them.
        boundaries = jnp.asarray(self.boundaries).astype(step.dtype)
        index = jnp.sum((step > boundaries).astype(jnp.int32))
        return values[index]

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from `initial_learning_rate` to `end_learning_rate` in decay_steps."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001,
                 power=1.0, cycle=False, name=None):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        lr = _as_float(self.initial_learning_rate)
        end = jnp.asarray(self.end_learning_rate, lr.dtype)
        step = jnp.asarray(step, lr.dtype)
        decay_steps = jnp.asarray(self.decay_steps, lr.dtype)
        if self.cycle:
            # The first multiple of decay_steps at or above step (1 at step 0).
            multiplier = jnp.where(step == 0, 1.0, jnp.ceil(step / decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            step = jnp.minimum(step, decay_steps)
        p = step / decay_steps
        return (lr - end) * jnp.power(1 - p, jnp.asarray(self.power, lr.dtype)) + end

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)` (floored if staircase)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        lr = _as_float(self.initial_learning_rate)
        p = jnp.asarray(step, lr.dtype) / jnp.asarray(self.decay_steps, lr.dtype)
        if self.staircase:
            p = jnp.floor(p)
        return lr / (1 + jnp.asarray(self.decay_rate, lr.dtype) * p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


def _cosine(fraction, alpha, dtype):
    """`(1 - alpha) * 0.5 * (1 + cos(pi * fraction)) + alpha`."""
    cosine = 0.5 * (1.0 + jnp.cos(jnp.asarray(math.pi, dtype) * fraction))
    return (1 - alpha) * cosine + alpha


class CosineDecay(LearningRateSchedule):
    """Cosine decay over `decay_steps`, optionally after a linear warmup to warmup_target."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name=None,
                 warmup_target=None, warmup_steps=0):
        _check_positive("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        lr = _as_float(self.initial_learning_rate)
        dtype = lr.dtype
        step = jnp.asarray(step, dtype)
        decay_steps = jnp.asarray(self.decay_steps, dtype)
        if self.warmup_target is None:
            step = jnp.minimum(step, decay_steps)
            return lr * _cosine(step / decay_steps, self.alpha, dtype)
        target = jnp.asarray(self.warmup_target, dtype)
        warmup_steps = jnp.asarray(self.warmup_steps, dtype)
        step = jnp.minimum(step, decay_steps + warmup_steps)
        # warmup_steps may be 0: guard the division in the branch that is not taken.
        warmup = (target - lr) * (step / jnp.maximum(warmup_steps, 1)) + lr
        decayed = target * _cosine((step - warmup_steps) / decay_steps, self.alpha, dtype)
        return jnp.where(step < warmup_steps, warmup, decayed)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): periods grow by t_mul, peaks shrink by m_mul."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name=None):
        _check_positive("first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step):
        lr = _as_float(self.initial_learning_rate)
        dtype = lr.dtype
        fraction = jnp.asarray(step, dtype) / jnp.asarray(self.first_decay_steps, dtype)
        t_mul = jnp.asarray(self._t_mul, dtype)
        if self._t_mul == 1.0:
            restart = jnp.floor(fraction)
            fraction = fraction - restart
        else:
            restart = jnp.floor(jnp.log(1.0 - fraction * (1.0 - t_mul)) / jnp.log(t_mul))
            done = (1.0 - jnp.power(t_mul, restart)) / (1.0 - t_mul)
            fraction = (fraction - done) / jnp.power(t_mul, restart)
        peak = jnp.power(jnp.asarray(self._m_mul, dtype), restart)
        cosine = 0.5 * peak * (1.0 + jnp.cos(jnp.asarray(math.pi, dtype) * fraction))
        alpha = jnp.asarray(self.alpha, dtype)
        return lr * ((1 - alpha) * cosine + alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


_BUILTINS = {cls.__name__: cls for cls in (
    LearningRateSchedule, ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay,
    InverseTimeDecay, CosineDecay, CosineDecayRestarts)}


def serialize(learning_rate_schedule):
    """`{'class_name', 'config'}` for a schedule."""
    return serialize_keras_object(learning_rate_schedule)


def deserialize(config, custom_objects=None):
    """A schedule from `{'class_name', 'config'}` (Keras 2 or Keras 3 layout)."""
    return deserialize_keras_object(
        config, module_objects=_BUILTINS, custom_objects=custom_objects,
        printable_module_name="decay")
