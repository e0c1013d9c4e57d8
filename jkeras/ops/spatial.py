"""Keras 2's backend padding and resizing of sequences, images and volumes
(`K.temporal_padding`, `K.spatial_2d_padding`, `K.spatial_3d_padding`, `K.resize_images`,
`K.resize_volumes`)."""
import jax.numpy as jnp

from jkeras.ops.tensors import normalize_data_format

__all__ = ["temporal_padding", "spatial_2d_padding", "spatial_3d_padding", "resize_images",
           "resize_volumes"]


def _pairs(padding, rank, fn):
    try:
        pairs = [tuple(int(v) for v in pair) for pair in padding]
    except (TypeError, ValueError):
        pairs = []
    if len(pairs) != rank or any(len(p) != 2 or min(p) < 0 for p in pairs):
        raise ValueError(f"{fn}: `padding` must be {rank} pairs of non-negative ints. "
                         f"Received: padding={padding!r}")
    return pairs


def _pad_spatial(x, pairs, data_format):
    x = jnp.asarray(x)
    if x.ndim != len(pairs) + 2:
        raise ValueError(f"padding of {len(pairs)} spatial axes needs an input of rank "
                         f"{len(pairs) + 2}. Received: x.shape={tuple(x.shape)}")
    if data_format == "channels_last":
        return jnp.pad(x, [(0, 0)] + pairs + [(0, 0)])
    return jnp.pad(x, [(0, 0), (0, 0)] + pairs)


def temporal_padding(x, padding=(1, 1)):
    """Zeros added before and after axis 1 of a 3D `(batch, steps, features)` array."""
    (pair,) = _pairs([padding], 1, "temporal_padding")
    return _pad_spatial(x, [pair], "channels_last")


def spatial_2d_padding(x, padding=((1, 1), (1, 1)), data_format=None):
    """Zeros around the rows and columns of a 4D array."""
    return _pad_spatial(x, _pairs(padding, 2, "spatial_2d_padding"),
                        normalize_data_format(data_format))


def spatial_3d_padding(x, padding=((1, 1), (1, 1), (1, 1)), data_format=None):
    """Zeros around the three spatial axes of a 5D array."""
    return _pad_spatial(x, _pairs(padding, 3, "spatial_3d_padding"),
                        normalize_data_format(data_format))


def _factor(value, name, fn):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{fn}: `{name}` must be a positive int. "
                         f"Received: {name}={value!r}")
    return value


def _legacy_bilinear(x, axis, factor):
    """TensorFlow 1's `resize_bilinear` (no half-pixel centres, corners not aligned) along
    one axis scaled by an integer: output `i` samples input position `i / factor`."""
    length = x.shape[axis]
    source = jnp.arange(length * factor) / factor
    low = jnp.floor(source).astype(jnp.int32)
    high = jnp.minimum(low + 1, length - 1)
    shape = [1] * x.ndim
    shape[axis] = -1
    weight = (source - low).astype(x.dtype).reshape(shape)
    return (jnp.take(x, low, axis=axis) * (1 - weight)
            + jnp.take(x, high, axis=axis) * weight)


def resize_images(x, height_factor, width_factor, data_format, interpolation="nearest"):
    """A 4D array's rows and columns scaled by integer factors: 'nearest' repeats each
    entry, 'bilinear' interpolates as Keras 2 (TensorFlow 1) did."""
    x = jnp.asarray(x)
    data_format = normalize_data_format(data_format)
    factors = (_factor(height_factor, "height_factor", "resize_images"),
               _factor(width_factor, "width_factor", "resize_images"))
    if x.ndim != 4:
        raise ValueError(f"resize_images needs a 4D input. Received: x.shape={x.shape}")
    axes = (1, 2) if data_format == "channels_last" else (2, 3)
    for axis, factor in zip(axes, factors):
        if interpolation == "nearest":
            x = jnp.repeat(x, factor, axis=axis)
        elif interpolation == "bilinear":
            x = _legacy_bilinear(x, axis, factor)
        else:
            raise ValueError("resize_images: `interpolation` must be 'nearest' or "
                             f"'bilinear'. Received: interpolation={interpolation!r}")
    return x


def resize_volumes(x, depth_factor, height_factor, width_factor, data_format):
    """A 5D array's three spatial axes scaled by repeating each entry."""
    x = jnp.asarray(x)
    data_format = normalize_data_format(data_format)
    if x.ndim != 5:
        raise ValueError(f"resize_volumes needs a 5D input. Received: x.shape={x.shape}")
    first = 1 if data_format == "channels_last" else 2
    for offset, (name, factor) in enumerate((("depth_factor", depth_factor),
                                             ("height_factor", height_factor),
                                             ("width_factor", width_factor))):
        x = jnp.repeat(x, _factor(factor, name, "resize_volumes"), axis=first + offset)
    return x
