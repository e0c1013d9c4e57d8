"""Pooling layers: windowed max/average pooling (1D to 3D) and global pooling."""
import math

import jax.numpy as jnp
from jax import lax

from jkeras import deterministic_ops
from jkeras.engine.base_layer import Layer
from jkeras.engine.input_spec import InputSpec
from jkeras.layers import arguments
from jkeras.utils import conv_utils


# ---------------------------------------------------------------------- pure helpers

__all__ = ["max_pool", "average_pool", "Pooling", "MaxPooling1D", "AveragePooling1D",
           "MaxPooling2D", "AveragePooling2D", "MaxPooling3D", "AveragePooling3D",
           "GlobalPooling", "GlobalMaxPooling1D", "GlobalAveragePooling1D",
           "GlobalMaxPooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling3D",
           "GlobalAveragePooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D",
           "AvgPool2D", "AvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D",
           "GlobalMaxPool3D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D"]


def _window(values, ndim, axes):
    """A full-rank window tuple: `values` on `axes`, 1 elsewhere."""
    full = [1] * ndim
    for axis, value in zip(axes, values):
        full[axis] = value
    return tuple(full)


def max_pool(x, pool_size, strides, padding, axes):
    """Max over windows of `pool_size` on `axes`; 'same' pads with -inf."""
    # Python scalars, not arrays: jax differentiates reduce_window only when it can see
    # the init value is -inf (max) or 0 (sum).
    window, steps = _window(pool_size, x.ndim, axes), _window(strides, x.ndim, axes)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        return lax.reduce_window(x, int(jnp.iinfo(x.dtype).min), lax.max, window, steps,
                                 padding.upper())
    return deterministic_ops.max_pool(x, window, steps, padding.upper())


def average_pool(x, pool_size, strides, padding, axes):
    """Mean over windows of `pool_size` on `axes`; with 'same' the padded cells are left
    out of each mean (a border window divides by the cells it really covers)."""
    window = _window(pool_size, x.ndim, axes)
    steps = _window(strides, x.ndim, axes)
    zero = 0.0 if jnp.issubdtype(x.dtype, jnp.floating) else 0
    sums = lax.reduce_window(x, zero, lax.add, window, steps, padding.upper())
    if padding == "valid":
        return sums / math.prod(pool_size)
    ones_shape = tuple(d if i in axes else 1 for i, d in enumerate(x.shape))
    counts = lax.reduce_window(jnp.ones(ones_shape, x.dtype), zero, lax.add, window, steps,
                               "SAME")
    return sums / counts


def _float_input(inputs, dtype):
    return jnp.asarray(inputs).astype(dtype)


# ---------------------------------------------------------------------- windowed pooling
class Pooling(Layer):
    """N-D pooling with windows of `pool_size` moved by `strides` (None: `pool_size`)."""

    rank = None
    _reduce = None

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        owner = arguments.owner_of(self)
        pool_size = arguments.int_tuple(pool_size, self.rank, "pool_size", owner)
        strides = pool_size if strides is None else arguments.int_tuple(
            strides, self.rank, "strides", owner)
        padding = arguments.padding(padding, owner)
        data_format = arguments.data_format(data_format, owner)
        super().__init__(**kwargs)
        self.pool_size, self.strides, self.padding = pool_size, strides, padding
        self.data_format = data_format
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _axes(self):
        return conv_utils.spatial_axes(self.rank, self.data_format)

    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        x = _float_input(inputs, self.compute_dtype)
        y = type(self)._reduce(x, self.pool_size, self.strides, self.padding, self._axes())
        return y, variables["state"]

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for i, axis in enumerate(self._axes()):
            length = conv_utils.pool_output_length(shape[axis], self.pool_size[i],
                                                   self.padding, self.strides[i])
            if length is not None and length <= 0:
                raise ValueError(
                    f"Layer {self.name}: the computed output size would be zero or "
                    f"negative for input_shape={tuple(input_shape)}. Received: pool_size="
                    f"{self.pool_size}, strides={self.strides}, padding={self.padding!r}")
            shape[axis] = length
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling1D(Pooling):
    """Max pooling over steps; a mask given to it is consumed (no output mask)."""
    rank, _reduce = 1, staticmethod(max_pool)

    def __init__(self, pool_size=2, strides=None, padding="valid",
                 data_format="channels_last", **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(Pooling):
    """Average pooling over steps; a mask given to it is consumed (no output mask)."""
    rank, _reduce = 1, staticmethod(average_pool)

    def __init__(self, pool_size=2, strides=None, padding="valid",
                 data_format="channels_last", **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling2D(Pooling):
    """Max pooling over images."""
    rank, _reduce = 2, staticmethod(max_pool)

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(Pooling):
    """Average pooling over images."""
    rank, _reduce = 2, staticmethod(average_pool)

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling3D(Pooling):
    """Max pooling over volumes."""
    rank, _reduce = 3, staticmethod(max_pool)

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling3D(Pooling):
    """Average pooling over volumes."""
    rank, _reduce = 3, staticmethod(average_pool)

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


# ---------------------------------------------------------------------- global pooling
class GlobalPooling(Layer):
    """Reduces all spatial axes; `keepdims=True` keeps them with length 1."""

    rank = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        data_format = arguments.data_format(data_format, arguments.owner_of(self))
        super().__init__(**kwargs)
        self.data_format = data_format
        self.keepdims = bool(keepdims)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _axes(self):
        return conv_utils.spatial_axes(self.rank, self.data_format)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        axes = self._axes()
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(input_shape))
        return tuple(d for i, d in enumerate(input_shape) if i not in axes)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class _GlobalMax(GlobalPooling):

    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        x = _float_input(inputs, self.compute_dtype)
        return jnp.max(x, axis=self._axes(), keepdims=self.keepdims), variables["state"]


class _GlobalAverage(GlobalPooling):

    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        x = _float_input(inputs, self.compute_dtype)
        return jnp.mean(x, axis=self._axes(), keepdims=self.keepdims), variables["state"]


class GlobalMaxPooling1D(_GlobalMax):
    """Max over steps; masks are ignored (as in Keras 2) and not passed on."""
    rank = 1

    def __init__(self, data_format="channels_last", keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)


class GlobalAveragePooling1D(_GlobalAverage):
    """Mean over steps; masked steps are left out of the mean."""
    rank = 1
    supports_masking = True

    def __init__(self, data_format="channels_last", keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)

    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        if mask is None:
            return super().apply(variables, inputs)
        x = _float_input(inputs, self.compute_dtype)
        steps = self._axes()[0]
        weights = jnp.expand_dims(jnp.asarray(mask).astype(x.dtype),
                                  2 if steps == 1 else 1)
        total = jnp.sum(x * weights, axis=steps, keepdims=self.keepdims)
        return total / jnp.sum(weights, axis=steps, keepdims=self.keepdims), \
            variables["state"]


class GlobalMaxPooling2D(_GlobalMax):
    """Max over height and width."""
    rank = 2


class GlobalAveragePooling2D(_GlobalAverage):
    """Mean over height and width."""
    rank = 2


class GlobalMaxPooling3D(_GlobalMax):
    """Max over the three spatial axes."""
    rank = 3


class GlobalAveragePooling3D(_GlobalAverage):
    """Mean over the three spatial axes."""
    rank = 3


# Keras 2 aliases.
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = (
    GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D)
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (
    GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D)
