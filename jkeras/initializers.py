"""Weight initializers (Keras 2 names and defaults), called with an explicit PRNG key."""
import inspect
import math
import numbers

import jax
import jax.numpy as jnp
import numpy as np

from jkeras import _config
from jkeras.serialization.serialize import (deserialize_instance, get_object,
                                            serialize_keras_object)

# Standard deviation of a unit normal truncated to [-2, 2]; dividing by it keeps the
# variance of a truncated draw equal to the requested one.

__all__ = ["compute_fans", "Initializer", "RandomInitializer", "Zeros", "Ones", "Constant",
           "RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling",
           "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform",
           "LecunNormal", "Orthogonal", "Identity", "zeros", "zero", "ones", "one",
           "constant", "random_normal", "normal", "random_uniform", "uniform",
           "truncated_normal", "variance_scaling", "orthogonal", "identity",
           "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
           "lecun_normal", "serialize", "deserialize", "get", "call"]


_TRUNCATED_STDDEV = 0.87962566103423978


def _shape(shape):
    if isinstance(shape, numbers.Integral):
        return (int(shape),)
    return tuple(int(d) for d in shape)


def _float_dtype(dtype, owner):
    dtype = jnp.dtype(dtype or _config.floatx())
    if not jnp.issubdtype(dtype, jnp.floating):
        raise ValueError(
            f"{owner} only makes floating-point values. Expected a float dtype. "
            f"Received: dtype={dtype.name}")
    return dtype


def _sample_dtype(dtype):
    """Draws happen in float32 (float64 when asked for) and are cast afterwards."""
    return np.float64 if dtype == jnp.float64 else np.float32


def _generator(key):
    """A NumPy generator seeded from a jax key's bits.

    Initial values are drawn on the host: eager `jax.random` compiles a program for each
    new shape (seconds per layer on a CPU), while NumPy draws at once. The same key always
    gives the same values, so seeded runs still repeat bit for bit.
    """
    bits = np.asarray(jax.random.key_data(key)).ravel()
    return np.random.default_rng([int(b) for b in bits])


def _normal(key, shape, dtype):
    return _generator(key).standard_normal(shape, dtype=dtype)


def _uniform(key, shape, dtype, minval, maxval):
    draw = _generator(key).random(shape, dtype=dtype)
    return (minval + (maxval - minval) * draw).astype(dtype)


def _truncated_normal(key, shape, dtype):
    """Unit normal draws, each redrawn until it falls inside [-2, 2]."""
    rng = _generator(key)
    draw = rng.standard_normal(shape, dtype=dtype)
    outside = np.abs(draw) > 2.0
    while outside.any():
        draw[outside] = rng.standard_normal(int(outside.sum()), dtype=dtype)
        outside = np.abs(draw) > 2.0
    return draw


def compute_fans(shape, input_axes=None, output_axes=None):
    """Keras's `(fan_in, fan_out)`; kernels of rank > 2 are `(..., in, out)`."""
    shape = _shape(shape)
    if input_axes is not None and output_axes is not None:
        return (int(np.prod([shape[a] for a in input_axes])),
                int(np.prod([shape[a] for a in output_axes])))
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive_field, shape[-1] * receptive_field


class Initializer:
    """Base class: `initializer(shape, dtype=None, key=None)` returns a jax array."""

    def __call__(self, shape, dtype=None, key=None):
        raise NotImplementedError(
            f"{type(self).__name__} must implement __call__(shape, dtype=None, key=None).")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("dtype", None)  # old tf.keras configs stored one
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class RandomInitializer(Initializer):
    """An initializer drawing random values: a set `seed` wins over any key given."""

    def __init__(self, seed=None):
        if seed is not None and not isinstance(seed, numbers.Integral):
            raise ValueError(
                f"Expected `seed` to be an integer or None. Received: seed={seed!r}")
        self.seed = None if seed is None else int(seed)

    def _key(self, key):
        if self.seed is not None:
            return jax.random.PRNGKey(self.seed)
        if key is None:
            return _config.next_key()
        return key

    def get_config(self):
        return {"seed": self.seed}


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None, key=None):
        return jnp.zeros(_shape(shape), dtype=dtype or _config.floatx())


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None, key=None):
        return jnp.ones(_shape(shape), dtype=dtype or _config.floatx())


class Constant(Initializer):
    """Every entry equal to `value` (a scalar, or an array broadcast to the shape)."""

    def __init__(self, value=0):
        self.value = value

    def __call__(self, shape, dtype=None, key=None):
        value = jnp.asarray(self.value, dtype=dtype or _config.floatx())
        return jnp.broadcast_to(value, _shape(shape))

    def get_config(self):
        value = self.value
        if isinstance(value, (np.ndarray, jax.Array)):
            value = np.asarray(value).tolist()
        elif isinstance(value, np.generic):
            value = value.item()
        return {"value": value}


class RandomNormal(RandomInitializer):
    """Normal draws with the given `mean` and `stddev`."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean = mean
        self.stddev = stddev

    def __call__(self, shape, dtype=None, key=None):
        dtype = _float_dtype(dtype, type(self).__name__)
        draw = _normal(self._key(key), _shape(shape), _sample_dtype(dtype))
        return jnp.asarray((self.mean + self.stddev * draw).astype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(RandomInitializer):
    """Uniform draws in `[minval, maxval)`."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval = minval
        self.maxval = maxval

    def __call__(self, shape, dtype=None, key=None):
        dtype = _float_dtype(dtype, type(self).__name__)
        draw = _uniform(self._key(key), _shape(shape), _sample_dtype(dtype),
                        self.minval, self.maxval)
        return jnp.asarray(draw.astype(dtype))

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(RandomInitializer):
    """Normal draws, redrawn beyond two standard deviations from the mean."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean = mean
        self.stddev = stddev

    def __call__(self, shape, dtype=None, key=None):
        dtype = _float_dtype(dtype, type(self).__name__)
        draw = _truncated_normal(self._key(key), _shape(shape), _sample_dtype(dtype))
        return jnp.asarray((self.mean + self.stddev * draw).astype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


class VarianceScaling(RandomInitializer):
    """Draws with variance `scale / n`, n being fan_in, fan_out or their mean."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        super().__init__(seed)
        if not isinstance(scale, numbers.Real) or scale <= 0.0:
            raise ValueError(
                f"Expected `scale` to be a positive float. Received: scale={scale!r}")
        mode = str(mode).lower()
        if mode not in _MODES:
            raise ValueError(f"Expected `mode` to be one of {_MODES}. Received: mode={mode!r}")
        distribution = str(distribution).lower()
        if distribution == "normal":  # the Keras 2.2 spelling of truncated_normal
            distribution = "truncated_normal"
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(
                f"Expected `distribution` to be one of {_DISTRIBUTIONS}. "
                f"Received: distribution={distribution!r}")
        self.scale = float(scale)
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes

    def _variance(self, shape):
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        return self.scale / max(1.0, fan[self.mode])

    def __call__(self, shape, dtype=None, key=None):
        dtype = _float_dtype(dtype, type(self).__name__)
        shape = _shape(shape)
        key = self._key(key)
        variance = self._variance(shape)
        sample = _sample_dtype(dtype)
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(variance) / _TRUNCATED_STDDEV
            draw = stddev * _truncated_normal(key, shape, sample)
        elif self.distribution == "untruncated_normal":
            draw = math.sqrt(variance) * _normal(key, shape, sample)
        else:
            limit = math.sqrt(3.0 * variance)
            draw = _uniform(key, shape, sample, -limit, limit)
        return jnp.asarray(draw.astype(dtype))

    def get_config(self):
        config = {"scale": self.scale, "mode": self.mode,
                  "distribution": self.distribution, "seed": self.seed}
        return self._with_axes(config)

    def _with_axes(self, config):
        if self.input_axes is not None or self.output_axes is not None:
            config.update(input_axes=self.input_axes, output_axes=self.output_axes)
        return config


class _FixedVarianceScaling(VarianceScaling):
    """A named VarianceScaling preset whose config is only the seed (as in Keras)."""

    _preset = (1.0, "fan_in", "truncated_normal")

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        scale, mode, distribution = self._preset
        super().__init__(scale=scale, mode=mode, distribution=distribution, seed=seed,
                         input_axes=input_axes, output_axes=output_axes)

    def get_config(self):
        return self._with_axes({"seed": self.seed})


class GlorotUniform(_FixedVarianceScaling):
    """Uniform in `[-limit, limit]`, `limit = sqrt(6 / (fan_in + fan_out))`."""
    _preset = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal with `stddev = sqrt(2 / (fan_in + fan_out))`."""
    _preset = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """Uniform in `[-limit, limit]`, `limit = sqrt(6 / fan_in)`."""
    _preset = (2.0, "fan_in", "uniform")


class HeNormal(_FixedVarianceScaling):
    """Truncated normal with `stddev = sqrt(2 / fan_in)`."""
    _preset = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """Uniform in `[-limit, limit]`, `limit = sqrt(3 / fan_in)`."""
    _preset = (1.0, "fan_in", "uniform")


class LecunNormal(_FixedVarianceScaling):
    """Truncated normal with `stddev = sqrt(1 / fan_in)`."""
    _preset = (1.0, "fan_in", "truncated_normal")


class Orthogonal(RandomInitializer):
    """A (reshaped) matrix with orthonormal rows or columns, times `gain`."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None, key=None):
        dtype = _float_dtype(dtype, type(self).__name__)
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError(
                "Orthogonal initializer needs a shape of rank >= 2. "
                f"Received: shape={shape}")
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        draw = _normal(self._key(key), (max(rows, cols), min(rows, cols)),
                       _sample_dtype(dtype))
        q, r = np.linalg.qr(draw)
        q = q * np.sign(np.diagonal(r))  # makes the decomposition unique
        if rows < cols:
            q = q.T
        return jnp.asarray((self.gain * q.reshape(shape)).astype(dtype))

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """`gain` times the identity matrix (2D shapes only, need not be square)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None, key=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(
                "Identity initializer only makes 2D matrices. "
                f"Received: shape={shape}")
        dtype = dtype or _config.floatx()
        return (self.gain * jnp.eye(shape[0], shape[1], dtype=dtype)).astype(dtype)

    def get_config(self):
        return {"gain": self.gain}


# Keras 2 function-style aliases: `glorot_uniform(seed=1)` builds an instance.
zeros = zero = Zeros
ones = one = Ones
constant = Constant
random_normal = normal = RandomNormal
random_uniform = uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
orthogonal = Orthogonal
identity = Identity
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
he_uniform = HeUniform
he_normal = HeNormal
lecun_uniform = LecunUniform
lecun_normal = LecunNormal

_CLASSES = (Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal,
            VarianceScaling, Orthogonal, Identity, GlorotUniform, GlorotNormal, HeUniform,
            HeNormal, LecunUniform, LecunNormal)
_BUILTINS = {cls.__name__: cls for cls in _CLASSES}
_BUILTINS.update({
    "zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones, "constant": Constant,
    "random_normal": RandomNormal, "normal": RandomNormal,
    "random_uniform": RandomUniform, "uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "orthogonal": Orthogonal, "OrthogonalInitializer": Orthogonal,
    "identity": Identity, "IdentityInitializer": Identity,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
})


def serialize(initializer):
    """Keras 2 layout: `{'class_name': ..., 'config': {...}}` (a name for plain functions)."""
    return serialize_keras_object(initializer)


def deserialize(config, custom_objects=None):
    """Rebuilds an initializer from a config dict or a name (names give default instances)."""
    return deserialize_instance(config, _BUILTINS, custom_objects, "initializer")


def get(identifier):
    """Resolves None, a name, a config dict or a callable to an initializer."""
    return get_object(identifier, deserialize, "initializer")


def _takes_key(fn):
    """True when `fn` declares a `key` argument (or is our class and takes **kwargs)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    if "key" in params:
        return True
    return isinstance(fn, Initializer) and any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def call(initializer, shape, dtype=None, key=None):
    """Runs any initializer for a layer: ours get `key`, Keras 2 style `fn(shape, dtype=)`."""
    dtype = dtype or _config.floatx()
    shape = _shape(shape)
    if _takes_key(initializer):
        value = initializer(shape, dtype=dtype, key=key)
    else:
        value = initializer(shape, dtype=dtype)
    value = jnp.asarray(value, dtype=dtype)
    if value.shape != shape:
        name = getattr(initializer, "__name__", type(initializer).__name__)
        raise ValueError(
            f"Initializer {name} returned a value of the wrong shape. Expected: {shape}. "
            f"Received: {value.shape}")
    return value
