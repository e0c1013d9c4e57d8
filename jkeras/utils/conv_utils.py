"""Argument normalizing and shape arithmetic shared by convolution and pooling layers."""
import numbers

import numpy as np

from jkeras._config import normalize_data_format  # noqa: F401  (re-exported, as Keras 2 did)

__all__ = ["normalize_tuple", "normalize_padding", "normalize_pair_padding",
           "conv_output_length", "conv_input_length", "deconv_output_length",
           "pool_output_length", "deconv_padding", "spatial_axes", "channel_axis",
           "dimension_numbers", "convert_kernel", "normalize_data_format"]


_SPATIAL_LETTERS = "DHW"


def normalize_tuple(value, n, name, allow_zero=False):
    """`value` (an int or an iterable of `n` ints) as a tuple of `n` ints.

    Raises ValueError naming `name` when the value is not `n` integers, or when an entry
    is negative (zero too, unless `allow_zero`).
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        values = (int(value),) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(
                f"The `{name}` argument must be a tuple of {n} integers. "
                f"Received: {name}={value!r}") from None
        if len(values) != n or not all(
                isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
            raise ValueError(
                f"The `{name}` argument must be a tuple of {n} integers. "
                f"Received: {name}={value!r}")
        values = tuple(int(v) for v in values)
    lowest = 0 if allow_zero else 1
    if any(v < lowest for v in values):
        expected = ">= 0" if allow_zero else "> 0"
        raise ValueError(
            f"The `{name}` argument must be a tuple of {n} integers, each {expected}. "
            f"Received: {name}={value!r}")
    return values


def normalize_padding(value, allow_causal=False):
    """'valid', 'same' (or 'causal' where allowed), lower-cased."""
    padding = str(value).lower() if isinstance(value, str) else value
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    if padding not in allowed:
        raise ValueError(
            f"The `padding` argument must be one of {allowed}. Received: padding={value!r}")
    return padding


def normalize_pair_padding(value, rank, name):
    """ZeroPadding/Cropping amounts: an int, `rank` ints, or `rank` (before, after) pairs,
    as a tuple of `rank` pairs."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"The `{name}` argument cannot be negative. Received: "
                             f"{name}={value!r}")
        return ((int(value), int(value)),) * rank
    try:
        entries = tuple(value)
    except TypeError:
        entries = None
    if entries is None or len(entries) != rank:
        raise ValueError(
            f"The `{name}` argument must be an int, a tuple of {rank} ints or a tuple of "
            f"{rank} tuples of 2 ints. Received: {name}={value!r}")
    return tuple(normalize_tuple(entry, 2, f"{name}[{i}]", allow_zero=True)
                 for i, entry in enumerate(entries))


def conv_output_length(input_length, filter_size, padding, stride, dilation=1):
    """Length of a convolution's output along one axis (None stays None)."""
    if input_length is None:
        return None
    dilated = (filter_size - 1) * dilation + 1
    if padding in ("same", "causal"):
        length = input_length
    elif padding == "valid":
        length = input_length - dilated + 1
    elif padding == "full":
        length = input_length + dilated - 1
    else:
        raise ValueError(f"Unknown padding. Received: padding={padding!r}")
    return (length + stride - 1) // stride


def conv_input_length(output_length, filter_size, padding, stride):
    """Inverse of `conv_output_length` (the smallest input giving `output_length`)."""
    if output_length is None:
        return None
    pad = {"same": filter_size // 2, "valid": 0, "full": filter_size - 1}.get(padding)
    if pad is None:
        raise ValueError(f"Unknown padding. Received: padding={padding!r}")
    return (output_length - 1) * stride - 2 * pad + filter_size


def deconv_output_length(input_length, filter_size, padding, output_padding=None, stride=0,
                         dilation=1):
    """Length of a transposed convolution's output along one axis (None stays None)."""
    if input_length is None:
        return None
    filter_size = (filter_size - 1) * dilation + 1
    if output_padding is None:
        if padding == "valid":
            return input_length * stride + max(filter_size - stride, 0)
        if padding == "full":
            return input_length * stride - (stride + filter_size - 2)
        if padding == "same":
            return input_length * stride
        raise ValueError(f"Unknown padding. Received: padding={padding!r}")
    pad = {"same": filter_size // 2, "valid": 0, "full": filter_size - 1}.get(padding)
    if pad is None:
        raise ValueError(f"Unknown padding. Received: padding={padding!r}")
    return (input_length - 1) * stride + filter_size - 2 * pad + output_padding


def pool_output_length(input_length, pool_size, padding, stride):
    """Length of a pooling output along one axis (None stays None)."""
    return conv_output_length(input_length, pool_size, padding, stride)


def deconv_padding(filter_size, stride, dilation, padding, output_padding):
    """(low, high) padding of the stride-dilated input that makes a plain convolution with
    the flipped kernel compute Keras's transposed convolution along one axis."""
    dilated = (filter_size - 1) * dilation + 1
    if padding == "valid":
        extra = max(dilated, stride) - dilated if output_padding is None else output_padding
        return dilated - 1, dilated - 1 + extra
    if output_padding is None:
        total = stride + dilated - 2
    else:
        total = dilated + dilated % 2 - 2 + output_padding
    low = min(total // 2 + total % 2, dilated - 1)
    return low, total - low


def spatial_axes(rank, data_format):
    """Positions of the spatial axes in an input of rank `rank + 2`."""
    start = 1 if data_format == "channels_last" else 2
    return tuple(range(start, start + rank))


def channel_axis(data_format):
    return -1 if data_format == "channels_last" else 1


def dimension_numbers(rank, data_format):
    """`jax.lax.conv_general_dilated` layout strings for Keras's kernels (spatial..., in, out)."""
    spatial = _SPATIAL_LETTERS[-rank:] if rank <= 3 else None
    if spatial is None:
        raise ValueError(f"Convolutions of rank 1 to 3 are supported. Received: rank={rank}")
    data = f"N{spatial}C" if data_format == "channels_last" else f"NC{spatial}"
    return data, f"{spatial}IO", data


def convert_kernel(kernel):
    """`kernel` flipped along its spatial axes (Theano <-> TensorFlow convolution kernels)."""
    kernel = np.asarray(kernel)
    if kernel.ndim < 3:
        raise ValueError(
            f"Expected a kernel of rank 3 to 5 (spatial axes, in, out). Received a kernel "
            f"of shape {kernel.shape}")
    slices = [slice(None, None, -1)] * (kernel.ndim - 2) + [slice(None), slice(None)]
    return np.copy(kernel[tuple(slices)])
