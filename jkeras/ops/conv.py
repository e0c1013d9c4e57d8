"""Keras 2's backend convolutions and pooling (`K.conv1d` ... `K.pool3d`, `K.local_conv*d`,
`K.bias_add`) with Keras 2's arguments: kernels in Keras layout `(*spatial, in, out)`,
`data_format` 'channels_last'/'channels_first' (None: the global image data format),
`padding` 'valid'/'same' ('causal' too for conv1d)."""
import math

import jax
import jax.numpy as jnp
from jax import lax

from jkeras import deterministic_ops
from jkeras.ops.tensors import normalize_data_format
from jkeras.utils import conv_utils

__all__ = ["convolve", "conv1d", "conv2d", "conv3d", "conv2d_transpose", "conv3d_transpose",
           "separable_conv1d", "separable_conv2d", "depthwise_conv2d", "pool2d", "pool3d",
           "local_conv1d", "local_conv2d", "bias_add"]


def _tuple(value, rank, name, fn):
    if isinstance(value, int):
        return (value,) * rank
    value = tuple(value)
    if len(value) != rank or not all(isinstance(v, int) and v > 0 for v in value):
        raise ValueError(f"{fn}: `{name}` must be a positive int or a tuple of {rank} "
                         f"positive ints. Received: {name}={value!r}")
    return value


def _padding(padding, fn, allow_causal=False):
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    if not isinstance(padding, str) or padding.lower() not in allowed:
        raise ValueError(f"{fn}: `padding` must be one of {allowed}. "
                         f"Received: padding={padding!r}")
    return padding.lower()


def _check_ranks(x, kernel, rank, fn):
    if x.ndim != rank + 2 or kernel.ndim != rank + 2:
        raise ValueError(
            f"{fn} needs an input and a kernel of rank {rank + 2}. Received: "
            f"x.shape={tuple(x.shape)}, kernel.shape={tuple(kernel.shape)}")


def convolve(x, kernel, strides, padding, dilation, data_format, groups=1):
    """N-D convolution of `x` with a Keras kernel `(*spatial, in // groups, out)`;
    `padding` 'valid', 'same' or 'causal' (1D). The layers' convolutions use it too."""
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


def _conv(x, kernel, strides, padding, data_format, dilation_rate, rank, fn):
    x, kernel = jnp.asarray(x), jnp.asarray(kernel)
    data_format = normalize_data_format(data_format)
    padding = _padding(padding, fn, allow_causal=rank == 1)
    if padding == "causal" and data_format != "channels_last":
        raise ValueError(f"{fn}: causal padding needs data_format='channels_last'. "
                         f"Received: data_format={data_format!r}")
    _check_ranks(x, kernel, rank, fn)
    return convolve(x, kernel, _tuple(strides, rank, "strides", fn), padding,
                    _tuple(dilation_rate, rank, "dilation_rate", fn), data_format)


def conv1d(x, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """1D convolution; kernel `(width, in, out)`; padding may be 'causal'."""
    return _conv(x, kernel, strides, padding, data_format, dilation_rate, 1, "conv1d")


def conv2d(x, kernel, strides=(1, 1), padding="valid", data_format=None,
           dilation_rate=(1, 1)):
    """2D convolution; kernel `(rows, cols, in, out)`."""
    return _conv(x, kernel, strides, padding, data_format, dilation_rate, 2, "conv2d")


def conv3d(x, kernel, strides=(1, 1, 1), padding="valid", data_format=None,
           dilation_rate=(1, 1, 1)):
    """3D convolution; kernel `(depth, rows, cols, in, out)`."""
    return _conv(x, kernel, strides, padding, data_format, dilation_rate, 3, "conv3d")


def _conv_transpose(x, kernel, output_shape, strides, padding, data_format, dilation_rate,
                    rank, fn):
    """The transpose of the convolution that maps an `output_shape` array to `x`'s shape,
    computed as that convolution's vector-Jacobian product (as TensorFlow defines it)."""
    x, kernel = jnp.asarray(x), jnp.asarray(kernel)
    data_format = normalize_data_format(data_format)
    padding = _padding(padding, fn)
    _check_ranks(x, kernel, rank, fn)
    strides = _tuple(strides, rank, "strides", fn)
    dilation = _tuple(dilation_rate, rank, "dilation_rate", fn)
    output_shape = tuple(output_shape)
    if len(output_shape) != rank + 2:
        raise ValueError(f"{fn}: `output_shape` must have {rank + 2} entries (batch "
                         f"included). Received: output_shape={output_shape!r}")
    output_shape = (x.shape[0],) + tuple(int(d) for d in output_shape[1:])
    forward = lambda y: convolve(y, kernel, strides, padding, dilation, data_format)
    expected = jax.eval_shape(forward, jax.ShapeDtypeStruct(output_shape, x.dtype)).shape
    if tuple(expected) != tuple(x.shape):
        raise ValueError(
            f"{fn}: a convolution of an array of output_shape={output_shape} gives shape "
            f"{tuple(expected)}, which must equal the input's. Received: "
            f"x.shape={tuple(x.shape)}")
    _, pullback = jax.vjp(forward, jnp.zeros(output_shape, x.dtype))
    return pullback(x)[0]


def conv2d_transpose(x, kernel, output_shape, strides=(1, 1), padding="valid",
                     data_format=None, dilation_rate=(1, 1)):
    """Transposed 2D convolution; kernel `(rows, cols, out, in)`; `output_shape` is the
    full result shape (its batch entry may be None)."""
    return _conv_transpose(x, kernel, output_shape, strides, padding, data_format,
                           dilation_rate, 2, "conv2d_transpose")


def conv3d_transpose(x, kernel, output_shape, strides=(1, 1, 1), padding="valid",
                     data_format=None):
    """Transposed 3D convolution; kernel `(depth, rows, cols, out, in)`."""
    return _conv_transpose(x, kernel, output_shape, strides, padding, data_format, 1, 3,
                           "conv3d_transpose")


def _depthwise(x, depthwise_kernel, strides, padding, data_format, dilation_rate, rank,
               fn):
    x, depthwise_kernel = jnp.asarray(x), jnp.asarray(depthwise_kernel)
    data_format = normalize_data_format(data_format)
    padding = _padding(padding, fn)
    _check_ranks(x, depthwise_kernel, rank, fn)
    channels = depthwise_kernel.shape[-2]
    grouped = depthwise_kernel.reshape(
        depthwise_kernel.shape[:-2] + (1, channels * depthwise_kernel.shape[-1]))
    return convolve(x, grouped, _tuple(strides, rank, "strides", fn), padding,
                    _tuple(dilation_rate, rank, "dilation_rate", fn), data_format,
                    groups=channels)


def depthwise_conv2d(x, depthwise_kernel, strides=(1, 1), padding="valid",
                     data_format=None, dilation_rate=(1, 1)):
    """Each input channel convolved with its own `multiplier` filters; kernel
    `(rows, cols, in, multiplier)`, output channel `c * multiplier + m`."""
    return _depthwise(x, depthwise_kernel, strides, padding, data_format, dilation_rate, 2,
                      "depthwise_conv2d")


def separable_conv2d(x, depthwise_kernel, pointwise_kernel, strides=(1, 1),
                     padding="valid", data_format=None, dilation_rate=(1, 1)):
    """A depthwise convolution followed by a 1x1 convolution with `pointwise_kernel`
    `(1, 1, in * multiplier, out)`."""
    y = _depthwise(x, depthwise_kernel, strides, padding, data_format, dilation_rate, 2,
                   "separable_conv2d")
    return convolve(y, jnp.asarray(pointwise_kernel), (1, 1), "valid", (1, 1),
                    normalize_data_format(data_format))


def separable_conv1d(x, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                     data_format=None, dilation_rate=1):
    """1D separable convolution; kernels `(width, in, multiplier)` and
    `(1, in * multiplier, out)`."""
    y = _depthwise(x, depthwise_kernel, strides, padding, data_format, dilation_rate, 1,
                   "separable_conv1d")
    return convolve(y, jnp.asarray(pointwise_kernel), (1,), "valid", (1,),
                    normalize_data_format(data_format))


def _pool(x, pool_size, strides, padding, data_format, pool_mode, rank, fn):
    x = jnp.asarray(x)
    data_format = normalize_data_format(data_format)
    padding = _padding(padding, fn).upper()
    if x.ndim != rank + 2:
        raise ValueError(f"{fn} needs an input of rank {rank + 2}. "
                         f"Received: x.shape={tuple(x.shape)}")
    axes = conv_utils.spatial_axes(rank, data_format)
    window, steps = [1] * x.ndim, [1] * x.ndim
    for axis, size, step in zip(axes, _tuple(pool_size, rank, "pool_size", fn),
                                _tuple(strides, rank, "strides", fn)):
        window[axis], steps[axis] = size, step
    window, steps = tuple(window), tuple(steps)
    if pool_mode == "max":
        return deterministic_ops.max_pool(x, window, steps, padding)
    if pool_mode != "avg":
        raise ValueError(f"{fn}: `pool_mode` must be 'max' or 'avg'. "
                         f"Received: pool_mode={pool_mode!r}")
    sums = lax.reduce_window(x, 0.0, lax.add, window, steps, padding)
    if padding == "VALID":
        return sums / math.prod(window)
    counts = lax.reduce_window(jnp.ones(x.shape, x.dtype), 0.0, lax.add, window, steps,
                               padding)
    return sums / counts  # 'same' averages only the cells a window covers


def pool2d(x, pool_size, strides=(1, 1), padding="valid", data_format=None,
           pool_mode="max"):
    """2D max ('max') or mean ('avg') pooling."""
    return _pool(x, pool_size, strides, padding, data_format, pool_mode, 2, "pool2d")


def pool3d(x, pool_size, strides=(1, 1, 1), padding="valid", data_format=None,
           pool_mode="max"):
    """3D max ('max') or mean ('avg') pooling."""
    return _pool(x, pool_size, strides, padding, data_format, pool_mode, 3, "pool3d")


def _patches(x, starts, size):
    """`x[:, start:start + size]` for every start, stacked on a new axis 1."""
    index = jnp.asarray(starts)[:, None] + jnp.arange(size)[None, :]
    return jnp.take(x, index, axis=1)


def local_conv1d(inputs, kernel, kernel_size, strides, data_format=None):
    """Unshared-weights 1D convolution (channels last): kernel
    `(output_length, kernel_size * channels, filters)`, one matrix per output step."""
    inputs, kernel = jnp.asarray(inputs), jnp.asarray(kernel)
    (size,), (stride,) = _tuple(kernel_size, 1, "kernel_size", "local_conv1d"), _tuple(
        strides, 1, "strides", "local_conv1d")
    length = kernel.shape[0]
    patches = _patches(inputs, [i * stride for i in range(length)], size)
    patches = patches.reshape(inputs.shape[0], length, -1)  # (batch, L, size * C)
    return jnp.einsum("blf,lfo->blo", patches, kernel)


def local_conv2d(inputs, kernel, kernel_size, strides, output_shape, data_format=None):
    """Unshared-weights 2D convolution: kernel `(rows * cols, kh * kw * channels,
    filters)`, one matrix per output position (row-major); patches are flattened in the
    input's own layout."""
    inputs, kernel = jnp.asarray(inputs), jnp.asarray(kernel)
    data_format = normalize_data_format(data_format)
    rows, cols = tuple(output_shape)
    kh, kw = _tuple(kernel_size, 2, "kernel_size", "local_conv2d")
    sh, sw = _tuple(strides, 2, "strides", "local_conv2d")
    x = inputs if data_format == "channels_last" else jnp.moveaxis(inputs, 1, 3)
    x = _patches(x, [i * sh for i in range(rows)], kh)           # (b, rows, kh, W, C)
    x = jnp.moveaxis(x, 3, 1)                                    # (b, W, rows, kh, C)
    x = _patches(x, [j * sw for j in range(cols)], kw)           # (b, cols, kw, rows, kh, C)
    if data_format == "channels_last":
        x = jnp.transpose(x, (0, 3, 1, 4, 2, 5))                 # (b, rows, cols, kh, kw, C)
    else:
        x = jnp.transpose(x, (0, 3, 1, 5, 4, 2))                 # (b, rows, cols, C, kh, kw)
    x = x.reshape(inputs.shape[0], rows * cols, -1)
    out = jnp.einsum("bpf,pfo->bpo", x, kernel).reshape(inputs.shape[0], rows, cols, -1)
    return out if data_format == "channels_last" else jnp.moveaxis(out, 3, 1)


def bias_add(x, bias, data_format=None):
    """`x + bias` along the channel axis. A bias of rank `ndim(x) - 1` is a per-position
    bias given in channels-last order; for channels_first it is reshaped (not transposed)
    to channels-first order, as Keras 2 did."""
    x, bias = jnp.asarray(x), jnp.asarray(bias)
    data_format = normalize_data_format(data_format)
    if bias.ndim not in (1, x.ndim - 1):
        raise ValueError(f"bias_add: the bias must have rank 1 or {x.ndim - 1} (the input's "
                         f"rank - 1). Received: bias.shape={tuple(bias.shape)}, "
                         f"x.shape={tuple(x.shape)}")
    if x.ndim <= 2 or data_format == "channels_last":
        return x + bias
    if bias.ndim == 1:
        return x + bias.reshape((1, -1) + (1,) * (x.ndim - 2))
    return x + bias.reshape((1, bias.shape[-1]) + tuple(bias.shape[:-1]))
