"""Convolution layers (plain, grouped and transposed; 1D to 3D) and Keras 1's atrous
convolutions. Keras 2's `keras.layers.convolutional` also held the depthwise and separable
convolutions (layers/depthwise_separable.py), UpSampling, ZeroPadding and Cropping
(layers/reshaping.py) and the pooling layers: all are importable from here still."""
import warnings

import jax.numpy as jnp

from jkeras import activations
from jkeras.engine.weight_spec import declare_weight, options_config, weight_options
from jkeras.layers import arguments
from jkeras.layers.autocast import autocast
from jkeras.layers.convolution_base import (BaseConv, add_bias, convolve, convolve_transpose,
                                            input_channels, spatial_output_shape)
from jkeras.layers.depthwise_separable import (
    DepthwiseConv, DepthwiseConv1D, DepthwiseConv2D, DepthwiseConvolution2D, SeparableConv,
    SeparableConv1D, SeparableConv2D, SeparableConvolution1D, SeparableConvolution2D)
from jkeras.utils import conv_utils

__all__ = ["convolve", "convolve_transpose", "add_bias", "Conv", "Conv1D", "Conv2D",
           "Conv3D", "ConvTranspose", "Conv1DTranspose", "Conv2DTranspose",
           "Conv3DTranspose", "DepthwiseConv", "DepthwiseConv1D", "DepthwiseConv2D",
           "SeparableConv", "SeparableConv1D", "SeparableConv2D", "Convolution1D",
           "Convolution2D", "Convolution3D", "Convolution2DTranspose",
           "Convolution3DTranspose", "Deconvolution2D", "Deconv2D", "Deconvolution3D",
           "Deconv3D", "SeparableConvolution1D", "SeparableConvolution2D",
           "DepthwiseConvolution2D", "AtrousConvolution1D", "AtrousConvolution2D",
           "AtrousConv1D", "AtrousConv2D", "AveragePooling1D", "AveragePooling2D",
           "AveragePooling3D", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "Cropping1D",
           "Cropping2D", "Cropping3D", "UpSampling1D", "UpSampling2D", "UpSampling3D",
           "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D"]


@weight_options(kernel="kernel", bias="bias")
class Conv(BaseConv):
    """N-D convolution; kernel `(*kernel_size, in_channels // groups, filters)`."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        owner = type(self).__name__
        filters = arguments.positive_int(filters, "filters", owner)
        groups = arguments.positive_int(groups, "groups", owner)
        if filters % groups:
            raise ValueError(
                f"{owner}: the number of filters must be divisible by the number of groups. "
                f"Received: groups={groups}, filters={filters}")
        super().__init__(rank, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, activity_regularizer=activity_regularizer,
                         **kwargs)
        self.filters, self.groups = filters, groups
        declare_weight(self, "kernel", kernel_initializer, kernel_regularizer,
                       kernel_constraint)
        declare_weight(self, "bias", bias_initializer, bias_regularizer, bias_constraint)

    def init(self, key, input_shape):
        channels = input_channels(input_shape, self.data_format, self)
        if channels % self.groups:
            raise ValueError(
                f"Layer {self.name}: the number of input channels must be divisible by the "
                f"number of groups. Received: groups={self.groups}, input_shape="
                f"{tuple(input_shape)}")
        self.compute_output_shape(input_shape)  # rejects inputs too small for the kernel
        return self._create_weights(
            key, {"kernel": self.kernel_size + (channels // self.groups, self.filters),
                  "bias": (self.filters,)}, channels)

    @autocast
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        p = variables["params"]
        x = jnp.asarray(inputs, self.compute_dtype)
        y = convolve(x, p["kernel"], self.strides, self.padding,
                     self.dilation_rate, self.data_format, self.groups)
        return self._finish(y, p), variables["state"]

    def compute_output_shape(self, input_shape):
        return self._output_lengths(input_shape, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, **self._geometry_config(),
                       "groups": self.groups,
                       "activation": activations.serialize(self.activation),
                       "use_bias": self.use_bias,
                       **options_config(self, "kernel", "bias", activity_regularizer=True)})
        return config


class Conv1D(Conv):
    """1D convolution over `(batch, steps, channels)`; padding may also be 'causal'."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format="channels_last", dilation_rate=1, groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, groups, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv2D(Conv):
    """2D convolution over images."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, groups, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv3D(Conv):
    """3D convolution over volumes."""

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1, 1), groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, groups, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class ConvTranspose(Conv):
    """N-D transposed convolution; kernel `(*kernel_size, filters, in_channels)`."""

    _strided_dilation_ok = True

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 output_padding=None, data_format=None, dilation_rate=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, groups=1, **kwargs):
        if groups != 1:
            raise ValueError(
                f"{type(self).__name__} does not support grouped convolutions. Expected "
                f"groups=1. Received: groups={groups!r}")
        super().__init__(rank, filters, kernel_size, strides, "valid", data_format,
                         dilation_rate, 1, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)
        self.padding = arguments.padding(padding, type(self).__name__)
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = arguments.int_tuple(
                output_padding, rank, "output_padding", type(self).__name__, allow_zero=True)
            for extra, stride in zip(self.output_padding, self.strides):
                if extra >= stride:
                    raise ValueError(
                        f"{type(self).__name__}: `output_padding` must be smaller than "
                        f"`strides` along every axis. Received: output_padding="
                        f"{self.output_padding}, strides={self.strides}")

    def init(self, key, input_shape):
        channels = input_channels(input_shape, self.data_format, self)
        return self._create_weights(
            key, {"kernel": self.kernel_size + (self.filters, channels),
                  "bias": (self.filters,)}, channels)

    @autocast
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        p = variables["params"]
        x = jnp.asarray(inputs, self.compute_dtype)
        y = convolve_transpose(x, p["kernel"], self.strides, self.padding,
                               self.output_padding, self.dilation_rate, self.data_format)
        return self._finish(y, p), variables["state"]

    def compute_output_shape(self, input_shape):
        def length(i, n):
            extra = None if self.output_padding is None else self.output_padding[i]
            return conv_utils.deconv_output_length(n, self.kernel_size[i], self.padding,
                                                   extra, self.strides[i],
                                                   self.dilation_rate[i])
        return spatial_output_shape(self, input_shape, self.filters, length)

    def get_config(self):
        config = super().get_config()
        config.pop("groups")
        config["output_padding"] = self.output_padding
        return config


class Conv1DTranspose(ConvTranspose):
    """1D transposed convolution."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, output_padding,
                         data_format, dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv2DTranspose(ConvTranspose):
    """2D transposed convolution ("deconvolution")."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1), activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, output_padding,
                         data_format, dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv3DTranspose(ConvTranspose):
    """3D transposed convolution."""

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1, 1),
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, output_padding,
                         data_format, dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)



# Keras 2 aliases.
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
Deconvolution2D = Deconv2D = Conv2DTranspose
Deconvolution3D = Deconv3D = Conv3DTranspose


# ---------------------------------------------------------- Keras 1's atrous convolutions
# `AtrousConvolution1D` and `AtrousConvolution2D` (dilated convolutions): Keras 2 kept them as
# deprecated constructors that return a `Conv1D`/`Conv2D` whose `dilation_rate` is the
# `atrous_rate`; so do these. They also take the Keras 1 argument names such layers were
# written with (`nb_filter`, `filter_length`, `nb_row`/`nb_col`, `border_mode`, `subsample`,
# `init`, `W_regularizer`, ...).

# Keras 1 argument name -> Keras 2 name, as Keras 2's legacy conversions had them.
_KERAS1_NAMES = {
    "nb_filter": "filters", "filter_length": "kernel_size", "subsample_length": "strides",
    "subsample": "strides", "border_mode": "padding", "init": "kernel_initializer",
    "W_regularizer": "kernel_regularizer", "b_regularizer": "bias_regularizer",
    "W_constraint": "kernel_constraint", "b_constraint": "bias_constraint",
    "bias": "use_bias", "dim_ordering": "data_format",
}
_DIM_ORDERING = {"tf": "channels_last", "th": "channels_first", "default": None}


def _keras2_kwargs(name, kwargs):
    converted = {}
    for key, value in kwargs.items():
        new = _KERAS1_NAMES.get(key, key)
        if new != key and new in kwargs:
            raise TypeError(f"{name} got both `{key}` and `{new}`; pass `{new}` only.")
        if key == "dim_ordering":
            if value not in _DIM_ORDERING:
                raise ValueError(f"{name}: expected `dim_ordering` in 'tf', 'th' or "
                                 f"'default'. Received: dim_ordering={value!r}")
            value = _DIM_ORDERING[value]
        converted[new] = value
    return converted


def _deprecated(name, replacement):
    warnings.warn(f"The `{name}` layer has been deprecated. Use instead the "
                  f"`{replacement}` layer with the `dilation_rate` argument.",
                  DeprecationWarning, stacklevel=3)


def AtrousConvolution1D(*args, atrous_rate=1, **kwargs):
    """A `Conv1D` with `dilation_rate=atrous_rate` (Keras 1 names accepted)."""
    _deprecated("AtrousConvolution1D", "Conv1D")
    kwargs = _keras2_kwargs("AtrousConvolution1D", kwargs)
    return Conv1D(*args, dilation_rate=atrous_rate, **kwargs)


def AtrousConvolution2D(*args, atrous_rate=(1, 1), **kwargs):
    """A `Conv2D` with `dilation_rate=atrous_rate`; Keras 1's `(nb_filter, nb_row, nb_col)`
    positional form and argument names are accepted."""
    _deprecated("AtrousConvolution2D", "Conv2D")
    kwargs = _keras2_kwargs("AtrousConvolution2D", kwargs)
    if "nb_row" in kwargs or "nb_col" in kwargs:
        if len(args) > 1 or "kernel_size" in kwargs:
            raise TypeError("AtrousConvolution2D got a kernel size twice: pass either "
                            "`kernel_size` or `nb_row` and `nb_col`.")
        kwargs["kernel_size"] = (kwargs.pop("nb_row"), kwargs.pop("nb_col"))
    elif len(args) == 3 and all(isinstance(a, int) for a in args[1:]):
        args = (args[0], tuple(args[1:]))  # Keras 1: (nb_filter, nb_row, nb_col)
    return Conv2D(*args, dilation_rate=atrous_rate, **kwargs)


AtrousConv1D = AtrousConvolution1D
AtrousConv2D = AtrousConvolution2D


# Keras 2's `keras.layers.convolutional` also held the pooling and resizing layers.
from jkeras.layers.pooling import (  # noqa: E402
    AveragePooling1D, AveragePooling2D, AveragePooling3D, MaxPooling1D, MaxPooling2D,
    MaxPooling3D)
from jkeras.layers.reshaping import (  # noqa: E402
    Cropping1D, Cropping2D, Cropping3D, UpSampling1D, UpSampling2D, UpSampling3D,
    ZeroPadding1D, ZeroPadding2D, ZeroPadding3D)
