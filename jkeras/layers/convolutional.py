"""Convolution layers (plain, grouped, transposed, depthwise, separable; 1D to 3D) and
Keras 1's atrous convolutions. Keras 2's `keras.layers.convolutional` also held the
UpSampling, ZeroPadding and Cropping layers (now in layers/reshaping.py) and the pooling
layers; both are importable from here still."""
import warnings

import jax
import jax.numpy as jnp
from jax import lax

from jkeras import activations
from jkeras.engine.base_layer import Layer
from jkeras.engine.input_spec import InputSpec
from jkeras.engine.weight_spec import declare_weight, options_config, weight_options
from jkeras.layers import arguments
from jkeras.utils import conv_utils
from jkeras.layers.autocast import autocast

# ---------------------------------------------------------------------- pure helpers

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


def convolve(x, kernel, strides, padding, dilation, data_format, groups=1):
    """N-D convolution of `x` with a Keras kernel `(*spatial, in // groups, out)`."""
    rank = kernel.ndim - 2
    if padding == "causal":
        pads = [((kernel.shape[0] - 1) * dilation[0], 0)]
    else:
        pads = padding.upper()
    return lax.conv_general_dilated(
        x, kernel, window_strides=tuple(strides), padding=pads,
        rhs_dilation=tuple(dilation),
        dimension_numbers=conv_utils.dimension_numbers(rank, data_format),
        feature_group_count=groups)


def convolve_transpose(x, kernel, strides, padding, output_padding, dilation, data_format):
    """Transposed convolution of `x` with a Keras kernel `(*spatial, out, in)`: a plain
    convolution of the stride-dilated input with the flipped, in/out-swapped kernel."""
    rank = kernel.ndim - 2
    pads = [conv_utils.deconv_padding(kernel.shape[i], strides[i], dilation[i], padding,
                                      None if output_padding is None else output_padding[i])
            for i in range(rank)]
    flipped = jnp.swapaxes(jnp.flip(kernel, axis=tuple(range(rank))), -1, -2)
    return lax.conv_general_dilated(
        x, flipped, window_strides=(1,) * rank, padding=pads, lhs_dilation=tuple(strides),
        rhs_dilation=tuple(dilation),
        dimension_numbers=conv_utils.dimension_numbers(rank, data_format))


def add_bias(y, bias, data_format):
    if data_format == "channels_last":
        return y + bias
    return y + jnp.reshape(bias, (1, -1) + (1,) * (y.ndim - 2))


def _channels(input_shape, data_format, layer):
    channels = input_shape[conv_utils.channel_axis(data_format)]
    if channels is None:
        raise ValueError(
            f"Layer {layer.name} needs the channel dimension of its inputs to be defined "
            f"(data_format={data_format!r}). Received: input_shape={tuple(input_shape)}")
    return int(channels)


def _check_strides_and_dilation(strides, dilation, owner):
    if max(strides) > 1 and max(dilation) > 1:
        raise ValueError(
            f"{owner}: `strides > 1` is not supported together with `dilation_rate > 1`. "
            f"Received: strides={strides} and dilation_rate={dilation}")


def _spatial_output_shape(layer, input_shape, channels_out, lengths_fn):
    """Rebuilds a full output shape from the per-axis `lengths_fn(axis, length)`."""
    input_shape = tuple(input_shape)
    axes = conv_utils.spatial_axes(layer.rank, layer.data_format)
    spatial = tuple(lengths_fn(i, input_shape[a]) for i, a in enumerate(axes))
    for length in spatial:
        if length is not None and length <= 0:
            raise ValueError(
                f"Layer {layer.name}: the computed output size would be zero or negative "
                f"for input_shape={input_shape}. Received: kernel_size/pool_size="
                f"{getattr(layer, 'kernel_size', getattr(layer, 'pool_size', None))}, "
                f"strides={layer.strides}, padding={layer.padding!r}")
    if layer.data_format == "channels_last":
        return (input_shape[0],) + spatial + (channels_out,)
    return (input_shape[0], channels_out) + spatial


# ---------------------------------------------------------------------- base classes
class _BaseConv(Layer):
    """Arguments shared by every convolution: geometry, activation, bias."""

    _strided_dilation_ok = False

    def __init__(self, rank, kernel_size, strides, padding, data_format, dilation_rate,
                 activation, use_bias, **kwargs):
        """Checks the geometry and the activation, then builds the Layer."""
        owner = type(self).__name__
        kernel_size = arguments.int_tuple(kernel_size, rank, "kernel_size", owner)
        strides = arguments.int_tuple(strides, rank, "strides", owner)
        dilation_rate = arguments.int_tuple(dilation_rate, rank, "dilation_rate", owner)
        padding = arguments.padding(padding, owner, allow_causal=rank == 1)
        data_format = arguments.data_format(data_format, owner)
        if not self._strided_dilation_ok:
            _check_strides_and_dilation(strides, dilation_rate, owner)
        activation = arguments.activation(activation, owner)
        super().__init__(**kwargs)
        self.rank, self.kernel_size, self.strides = rank, kernel_size, strides
        self.dilation_rate, self.padding, self.data_format = dilation_rate, padding, data_format
        self.activation = activation
        self.use_bias = bool(use_bias)
        self.input_spec = InputSpec(ndim=rank + 2)

    def _finish(self, y, params):
        if self.use_bias:
            y = add_bias(y, params["bias"], self.data_format)
        return self.activation(y)

    def _set_input_spec(self, channels):
        self.input_spec = InputSpec(
            ndim=self.rank + 2, axes={conv_utils.channel_axis(self.data_format): channels})

    def _geometry_config(self):
        return {"kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate}

    def _output_lengths(self, input_shape, channels_out):
        return _spatial_output_shape(
            self, input_shape, channels_out,
            lambda i, n: conv_utils.conv_output_length(
                n, self.kernel_size[i], self.padding, self.strides[i], self.dilation_rate[i]))


@weight_options(kernel="kernel", bias="bias")
class Conv(_BaseConv):
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
        channels = _channels(input_shape, self.data_format, self)
        if channels % self.groups:
            raise ValueError(
                f"Layer {self.name}: the number of input channels must be divisible by the "
                f"number of groups. Received: groups={self.groups}, input_shape="
                f"{tuple(input_shape)}")
        self.compute_output_shape(input_shape)  # rejects inputs too small for the kernel
        k1, k2 = jax.random.split(key)
        return self._conv_weights(k1, k2, channels,
                                  self.kernel_size + (channels // self.groups, self.filters))

    def _conv_weights(self, k_kernel, k_bias, channels, kernel_shape):
        specs = self._weight_specs
        params = {"kernel": specs["kernel"].create(k_kernel, kernel_shape, self.dtype)}
        if self.use_bias:
            params["bias"] = specs["bias"].create(k_bias, (self.filters,), self.dtype)
        self._set_input_spec(channels)
        return {"params": params, "state": {}}

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
        channels = _channels(input_shape, self.data_format, self)
        k1, k2 = jax.random.split(key)
        return self._conv_weights(k1, k2, channels,
                                  self.kernel_size + (self.filters, channels))

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
        return _spatial_output_shape(self, input_shape, self.filters, length)

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


def _pop_legacy_kernel_args(kwargs, owner):
    """Removes Keras 2 leftovers a depthwise/separable config may carry: `groups` (must be 1)
    and the `kernel_*` spellings, returned as {'initializer': ..., ...}."""
    groups = kwargs.pop("groups", 1)
    if groups != 1:
        raise ValueError(f"{owner} does not take `groups`. Expected groups=1. "
                         f"Received: groups={groups!r}")
    return {kind: kwargs.pop(f"kernel_{kind}", None)
            for kind in ("initializer", "regularizer", "constraint")}


def _prefer(value, default, legacy):
    """`legacy` (an old `kernel_*` spelling) fills an argument left at its default."""
    return legacy if legacy is not None and value == default else value


@weight_options(depthwise="depthwise_kernel", bias="bias")
class DepthwiseConv(_BaseConv):
    """N-D depthwise convolution; kernel `(*kernel_size, in_channels, depth_multiplier)`."""

    def __init__(self, rank, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        owner = type(self).__name__
        legacy = _pop_legacy_kernel_args(kwargs, owner)
        depth_multiplier = arguments.positive_int(depth_multiplier, "depth_multiplier", owner)
        super().__init__(rank, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, activity_regularizer=activity_regularizer,
                         **kwargs)
        self.depth_multiplier = depth_multiplier
        declare_weight(self, "depthwise_kernel",
                       _prefer(depthwise_initializer, "glorot_uniform", legacy["initializer"]),
                       _prefer(depthwise_regularizer, None, legacy["regularizer"]),
                       _prefer(depthwise_constraint, None, legacy["constraint"]),
                       prefix="depthwise")
        declare_weight(self, "bias", bias_initializer, bias_regularizer, bias_constraint)

    def init(self, key, input_shape):
        channels = _channels(input_shape, self.data_format, self)
        self.compute_output_shape(input_shape)
        k1, k2 = jax.random.split(key)
        specs = self._weight_specs
        shape = self.kernel_size + (channels, self.depth_multiplier)
        params = {"depthwise_kernel": specs["depthwise_kernel"].create(k1, shape, self.dtype)}
        if self.use_bias:
            params["bias"] = specs["bias"].create(k2, (channels * self.depth_multiplier,),
                                                  self.dtype)
        self._set_input_spec(channels)
        return {"params": params, "state": {}}

    @autocast
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        p = variables["params"]
        x = jnp.asarray(inputs, self.compute_dtype)
        y = self._depthwise(x, p["depthwise_kernel"])
        return self._finish(y, p), variables["state"]

    def _depthwise(self, x, kernel):
        channels = kernel.shape[-2]
        grouped = jnp.reshape(kernel, kernel.shape[:-2] + (1, -1))
        return convolve(x, grouped, self.strides, self.padding, self.dilation_rate,
                        self.data_format, groups=channels)

    def compute_output_shape(self, input_shape):
        channels = input_shape[conv_utils.channel_axis(self.data_format)]
        out = None if channels is None else channels * self.depth_multiplier
        return self._output_lengths(input_shape, out)

    def get_config(self):
        config = super().get_config()
        config.update({
            "depth_multiplier": self.depth_multiplier, **self._geometry_config(),
            "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
            **options_config(self, "depthwise_kernel", "bias", activity_regularizer=True)})
        return config


class DepthwiseConv1D(DepthwiseConv):
    """1D depthwise convolution."""

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)


class DepthwiseConv2D(DepthwiseConv):
    """2D depthwise convolution."""

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)


@weight_options(pointwise="pointwise_kernel")
class SeparableConv(DepthwiseConv):
    """Depthwise convolution followed by a 1x1 convolution to `filters` channels.

    Weights: `depthwise_kernel (*kernel_size, in, depth_multiplier)`, `pointwise_kernel
    (1, ..., in * depth_multiplier, filters)`, `bias (filters,)`. The Keras 2 spellings
    `kernel_initializer/regularizer/constraint` are accepted and fill both kernels'
    arguments left at their defaults.
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, depth_multiplier=1, activation=None,
                 use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        legacy = {kind: kwargs.get(f"kernel_{kind}")
                  for kind in ("initializer", "regularizer", "constraint")}
        filters = arguments.positive_int(filters, "filters", type(self).__name__)
        super().__init__(rank, kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)
        self.filters = filters
        declare_weight(self, "pointwise_kernel",
                       _prefer(pointwise_initializer, "glorot_uniform", legacy["initializer"]),
                       _prefer(pointwise_regularizer, None, legacy["regularizer"]),
                       _prefer(pointwise_constraint, None, legacy["constraint"]),
                       prefix="pointwise")

    def init(self, key, input_shape):
        channels = _channels(input_shape, self.data_format, self)
        self.compute_output_shape(input_shape)
        k1, k2, k3 = jax.random.split(key, 3)
        depthwise_shape = self.kernel_size + (channels, self.depth_multiplier)
        pointwise_shape = (1,) * self.rank + (channels * self.depth_multiplier, self.filters)
        specs = self._weight_specs
        params = {
            "depthwise_kernel": specs["depthwise_kernel"].create(k1, depthwise_shape,
                                                                 self.dtype),
            "pointwise_kernel": specs["pointwise_kernel"].create(k2, pointwise_shape,
                                                                 self.dtype)}
        if self.use_bias:
            params["bias"] = specs["bias"].create(k3, (self.filters,), self.dtype)
        self._set_input_spec(channels)
        return {"params": params, "state": {}}

    @autocast
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        p = variables["params"]
        x = jnp.asarray(inputs, self.compute_dtype)
        y = self._depthwise(x, p["depthwise_kernel"])
        ones = (1,) * self.rank
        y = convolve(y, p["pointwise_kernel"], ones, "valid", ones,
                     self.data_format)
        return self._finish(y, p), variables["state"]

    def compute_output_shape(self, input_shape):
        return self._output_lengths(input_shape, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters, **options_config(self, "pointwise_kernel")})
        return config


class SeparableConv1D(SeparableConv):
    """1D separable convolution."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format="channels_last", dilation_rate=1, depth_multiplier=1,
                 activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, depth_multiplier, activation, use_bias,
                         depthwise_initializer, pointwise_initializer, bias_initializer,
                         depthwise_regularizer, pointwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, pointwise_constraint,
                         bias_constraint, **kwargs)


class SeparableConv2D(SeparableConv):
    """2D separable convolution."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, depth_multiplier, activation, use_bias,
                         depthwise_initializer, pointwise_initializer, bias_initializer,
                         depthwise_regularizer, pointwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, pointwise_constraint,
                         bias_constraint, **kwargs)


# Keras 2 aliases.
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
Deconvolution2D = Deconv2D = Conv2DTranspose
Deconvolution3D = Deconv3D = Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
DepthwiseConvolution2D = DepthwiseConv2D


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
