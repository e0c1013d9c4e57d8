"""Depthwise and separable convolutions (1D and 2D): a per-channel convolution, followed
for SeparableConv by a 1x1 convolution to `filters` channels."""
import jax.numpy as jnp

from jkeras import activations
from jkeras.engine.weight_spec import declare_weight, options_config, weight_options
from jkeras.layers import arguments
from jkeras.layers.autocast import autocast
from jkeras.layers.convolution_base import BaseConv, convolve, input_channels
from jkeras.utils import conv_utils

__all__ = ["DepthwiseConv", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv",
           "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D",
           "SeparableConvolution2D", "DepthwiseConvolution2D"]


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
class DepthwiseConv(BaseConv):
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
        channels = input_channels(input_shape, self.data_format, self)
        self.compute_output_shape(input_shape)
        return self._create_weights(
            key, {"depthwise_kernel": self.kernel_size + (channels, self.depth_multiplier),
                  "bias": (channels * self.depth_multiplier,)}, channels)

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
        channels = input_channels(input_shape, self.data_format, self)
        self.compute_output_shape(input_shape)
        return self._create_weights(
            key, {"depthwise_kernel": self.kernel_size + (channels, self.depth_multiplier),
                  "pointwise_kernel": (1,) * self.rank + (channels * self.depth_multiplier,
                                                          self.filters),
                  "bias": (self.filters,)}, channels)

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
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
DepthwiseConvolution2D = DepthwiseConv2D
