"""What every convolution layer shares: the pure convolution functions (`convolve`,
`convolve_transpose`, `add_bias`), output-shape arithmetic, and `BaseConv`, which checks the
geometry and activation arguments."""
import jax
import jax.numpy as jnp
from jax import lax

from jkeras.engine.base_layer import Layer
from jkeras.engine.input_spec import InputSpec
from jkeras.layers import arguments
from jkeras.ops.conv import convolve
from jkeras.utils import conv_utils

__all__ = ["convolve", "convolve_transpose", "add_bias", "input_channels",
           "spatial_output_shape", "BaseConv"]


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


def input_channels(input_shape, data_format, layer):
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


def spatial_output_shape(layer, input_shape, channels_out, lengths_fn):
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
class BaseConv(Layer):
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

    def _create_weights(self, key, shapes, channels):
        """`init`'s result: the weights named in `shapes` (Keras's order; `bias` only with
        `use_bias`), each made by its spec with its own key; the input spec now knows
        `channels`."""
        keys = jax.random.split(key, len(shapes))
        params = {name: self._weight_specs[name].create(k, shape, self.dtype)
                  for (name, shape), k in zip(shapes.items(), keys)
                  if name != "bias" or self.use_bias}
        self._set_input_spec(channels)
        return {"params": params, "state": {}}

    def _geometry_config(self):
        return {"kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate}

    def _output_lengths(self, input_shape, channels_out):
        return spatial_output_shape(
            self, input_shape, channels_out,
            lambda i, n: conv_utils.conv_output_length(
                n, self.kernel_size[i], self.padding, self.strides[i], self.dilation_rate[i]))
