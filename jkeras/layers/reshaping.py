"""Layers that resize the spatial axes without weights: UpSampling (repeat or resample),
ZeroPadding and Cropping, 1D to 3D (Keras's reshaping layers)."""
import jax
import jax.numpy as jnp

from jkeras.engine.base_layer import Layer
from jkeras.engine.input_spec import InputSpec
from jkeras.layers.autocast import autocast
from jkeras.layers import arguments
from jkeras.utils import conv_utils

__all__ = ["UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D",
           "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D"]

_UPSAMPLING_METHODS = {"nearest": "nearest", "area": "nearest", "bilinear": "bilinear",
                       "bicubic": "bicubic", "lanczos3": "lanczos3", "lanczos5": "lanczos5"}


class _Spatial(Layer):
    """Base of the weightless layers acting on the spatial axes of a rank-N input."""

    rank = None

    def __init__(self, data_format, **kwargs):
        data_format = arguments.data_format(data_format, arguments.owner_of(self))
        super().__init__(**kwargs)
        self.data_format = data_format
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _axes(self):
        return conv_utils.spatial_axes(self.rank, self.data_format)

    def _map_spatial(self, input_shape, fn):
        shape = list(input_shape)
        for i, axis in enumerate(self._axes()):
            shape[axis] = None if shape[axis] is None else fn(i, shape[axis])
        return tuple(shape)


class _UpSampling(_Spatial):

    def __init__(self, size, data_format=None, **kwargs):
        size = arguments.int_tuple(size, self.rank, "size", arguments.owner_of(self))
        super().__init__(data_format, **kwargs)
        self.size = size

    @autocast
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        y = inputs
        for axis, repeats in zip(self._axes(), self.size):
            y = jnp.repeat(y, repeats, axis=axis)
        return y, variables["state"]

    def compute_output_shape(self, input_shape):
        return self._map_spatial(input_shape, lambda i, n: n * self.size[i])

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}


class UpSampling1D(_UpSampling):
    """Repeats each timestep `size` times."""

    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(size, "channels_last", **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("data_format")
        config["size"] = self.size[0]
        return config


class UpSampling2D(_UpSampling):
    """Enlarges images by integer factors: nearest repeats, or bilinear/bicubic/lanczos
    resampling (half-pixel centers, as Keras)."""

    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        interpolation = arguments.choice(str(interpolation).lower(),
                                         sorted(_UPSAMPLING_METHODS), "interpolation",
                                         arguments.owner_of(self))
        super().__init__(size, data_format, **kwargs)
        self.interpolation = interpolation

    @autocast
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        method = _UPSAMPLING_METHODS[self.interpolation]
        if method == "nearest":
            return super().apply(variables, inputs)
        x = jnp.asarray(inputs, self.compute_dtype)
        shape = list(x.shape)
        for axis, factor in zip(self._axes(), self.size):
            shape[axis] *= factor
        return jax.image.resize(x, tuple(shape), method=method), variables["state"]

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation}


class UpSampling3D(_UpSampling):
    """Repeats each voxel `size` times along each spatial axis."""

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, **kwargs)


class _ZeroPadding(_Spatial):

    def __init__(self, padding, data_format=None, **kwargs):
        padding = arguments.pairs(padding, self.rank, "padding", arguments.owner_of(self))
        super().__init__(data_format, **kwargs)
        self.padding = padding

    @autocast
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        widths = [(0, 0)] * inputs.ndim
        for axis, pair in zip(self._axes(), self.padding):
            widths[axis] = pair
        return jnp.pad(inputs, widths), variables["state"]

    def compute_output_shape(self, input_shape):
        return self._map_spatial(input_shape, lambda i, n: n + sum(self.padding[i]))

    def get_config(self):
        return {**super().get_config(), "padding": self.padding,
                "data_format": self.data_format}


class ZeroPadding1D(_ZeroPadding):
    """Adds zeros at the start and end of the steps axis: `padding` is an int or a pair.

    `data_format` defaults to channels_last (steps on axis 1) as in Keras 2.
    """

    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        pair = arguments.int_tuple(padding, 2, "padding", arguments.owner_of(self),
                                   allow_zero=True)
        super().__init__((pair,), data_format or "channels_last", **kwargs)

    def get_config(self):
        config = super().get_config()
        config["padding"] = self.padding[0]
        if self.data_format == "channels_last":  # Keras 2 configs have no data_format
            config.pop("data_format")
        return config


class ZeroPadding2D(_ZeroPadding):
    """Adds rows and columns of zeros around images."""

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Adds zeros around volumes."""

    rank = 3

    def __init__(self, padding=(1, 1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class _Cropping(_Spatial):

    def __init__(self, cropping, data_format=None, **kwargs):
        cropping = arguments.pairs(cropping, self.rank, "cropping",
                                   arguments.owner_of(self))
        super().__init__(data_format, **kwargs)
        self.cropping = cropping

    @autocast
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        self.compute_output_shape(inputs.shape)
        index = [slice(None)] * inputs.ndim
        for axis, (start, end) in zip(self._axes(), self.cropping):
            index[axis] = slice(start, inputs.shape[axis] - end)
        return inputs[tuple(index)], variables["state"]

    def compute_output_shape(self, input_shape):
        def length(i, n):
            if sum(self.cropping[i]) >= n:
                raise ValueError(
                    f"Layer {self.name}: `cropping` must be smaller than the input along "
                    f"each spatial axis. Received: cropping={self.cropping}, input_shape="
                    f"{tuple(input_shape)}")
            return n - sum(self.cropping[i])
        return self._map_spatial(input_shape, length)

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping,
                "data_format": self.data_format}


class Cropping1D(_Cropping):
    """Removes steps from the start and end of a sequence: `cropping` is an int or a pair."""

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        pair = arguments.int_tuple(cropping, 2, "cropping", arguments.owner_of(self),
                                   allow_zero=True)
        super().__init__((pair,), "channels_last", **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("data_format")
        config["cropping"] = self.cropping[0]
        return config


class Cropping2D(_Cropping):
    """Removes rows and columns at the borders of images."""

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Removes slices at the borders of volumes."""

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)
