"""Noise and spatial-dropout regularization layers; active in training only, identities at
inference: GaussianNoise, GaussianDropout, AlphaDropout, SpatialDropout1D/2D/3D."""
import math

import jax
import jax.numpy as jnp

from jkeras import _config
from jkeras.engine.base_layer import Layer
from jkeras.engine.input_spec import InputSpec
from jkeras.layers import arguments
from jkeras.layers.arguments import require_key
from jkeras.layers.autocast import autocast

__all__ = ["GaussianNoise", "GaussianDropout", "AlphaDropout", "SpatialDropout1D",
           "SpatialDropout2D", "SpatialDropout3D"]


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class _Noise(Layer):
    """Shared plumbing: a pass-through at inference, `_noisy(x, key)` in training."""

    supports_masking = True

    def _active(self):
        raise NotImplementedError

    def _noisy(self, x, key):
        raise NotImplementedError

    @autocast
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        if not training or not self._active():
            return inputs, variables["state"]
        x = jnp.asarray(inputs)
        return self._noisy(x, require_key(self, key)), variables["state"]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class GaussianNoise(_Noise):
    """Adds zero-mean Gaussian noise of standard deviation `stddev` in training."""

    def __init__(self, stddev, seed=None, **kwargs):
        stddev = arguments.number(stddev, "stddev", arguments.owner_of(self), minimum=0)
        super().__init__(**kwargs)
        self.stddev = stddev
        self.seed = seed

    def _active(self):
        return self.stddev > 0

    def _noisy(self, x, key):
        return x + self.stddev * jax.random.normal(key, x.shape, x.dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config


class GaussianDropout(_Noise):
    """Multiplies by Gaussian noise of mean 1 and variance `rate / (1 - rate)` in training."""

    def __init__(self, rate, seed=None, **kwargs):
        rate = arguments.rate(rate, "rate", arguments.owner_of(self))
        super().__init__(**kwargs)
        self.rate = rate
        self.seed = seed

    def _active(self):
        return 0 < self.rate < 1

    def _noisy(self, x, key):
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return x * (1.0 + stddev * jax.random.normal(key, x.shape, x.dtype))

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config


class AlphaDropout(_Noise):
    """Dropout that keeps the mean and variance of self-normalizing (SELU) activations:
    dropped units are set to SELU's negative saturation value, then an affine
    correction restores the moments."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        rate = arguments.rate(rate, "rate", arguments.owner_of(self))
        super().__init__(**kwargs)
        self.rate = rate
        self.noise_shape = tuple(noise_shape) if noise_shape is not None else None
        self.seed = seed

    def _active(self):
        return 0 < self.rate < 1

    def _noisy(self, x, key):
        shape = x.shape if self.noise_shape is None else tuple(
            x.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))
        kept = (jax.random.uniform(key, shape) >= self.rate).astype(x.dtype)
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1 - self.rate) * (1 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        return a * (x * kept + alpha_p * (1 - kept)) + b

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate,
                       "noise_shape": list(self.noise_shape) if self.noise_shape else None,
                       "seed": self.seed})
        return config


class _SpatialDropout(_Noise):
    """Inverted dropout of whole feature maps: one keep/drop draw per sample and channel."""

    rank = None

    def __init__(self, rate, data_format=None, seed=None, noise_shape=None, **kwargs):
        rate = arguments.rate(rate, "rate", arguments.owner_of(self), upper_inclusive=True)
        super().__init__(**kwargs)
        self.rate = rate
        self.data_format = _config.normalize_data_format(data_format)
        self.seed = seed
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _active(self):
        return self.rate > 0

    def _noise_shape(self, shape):
        if self.data_format == "channels_first":
            return (shape[0], shape[1]) + (1,) * self.rank
        return (shape[0],) + (1,) * self.rank + (shape[-1],)

    def _noisy(self, x, key):
        if self.rate == 1:
            return jnp.zeros_like(x)
        keep = jax.random.bernoulli(key, 1.0 - self.rate, self._noise_shape(x.shape))
        return jnp.where(keep, x / (1.0 - self.rate), jnp.zeros_like(x))

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "noise_shape": None, "seed": self.seed})
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class SpatialDropout1D(_SpatialDropout):
    """Drops whole channels of `(batch, steps, channels)` inputs."""

    rank = 1

    def __init__(self, rate, seed=None, noise_shape=None, **kwargs):
        kwargs.pop("data_format", None)
        super().__init__(rate, data_format="channels_last", seed=seed, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Drops whole 2D feature maps (channels) of 4D inputs."""

    rank = 2


class SpatialDropout3D(_SpatialDropout):
    """Drops whole 3D feature maps (channels) of 5D inputs."""

    rank = 3
