"""Affine augmentation in NumPy: rotation, shift, shear, zoom (a NumPy equivalent of
`scipy.ndimage.affine_transform` of orders 0 and 1), flips, channel and brightness shifts.
"""
import numpy as np

from jkeras.preprocessing.image.files import (ImageEnhance, array_to_img, img_to_array,
                                              require_pil)
from jkeras.preprocessing.image.resize import linear_taps

__all__ = [
    "transform_matrix_offset_center", "apply_affine_transform", "flip_axis",
    "apply_channel_shift", "random_channel_shift", "apply_brightness_shift",
    "random_brightness", "random_rotation", "random_shift", "random_shear", "random_zoom",
    "FILL_MODES",
]

FILL_MODES = ("constant", "nearest", "reflect", "wrap")


def transform_matrix_offset_center(matrix, x, y):
    """Conjugates a 3x3 homogeneous `matrix` so that it acts about the image centre."""
    o_x = float(x) / 2 - 0.5
    o_y = float(y) / 2 - 0.5
    offset = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
    reset = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    return offset @ matrix @ reset


def _map_coordinates_1d(coords, size, fill_mode):
    """Maps sampling coordinates into [0, size-1] the way scipy.ndimage's modes do.

    Returns the mapped coordinates and, for 'constant', the mask of in-range samples.
    """
    inside = None
    if size == 1:
        mapped = np.zeros_like(coords)
        if fill_mode == "constant":
            inside = coords == 0
        return mapped, inside
    if fill_mode == "constant":
        inside = (coords >= 0) & (coords <= size - 1)
        mapped = np.clip(coords, 0, size - 1)
    elif fill_mode == "nearest":
        mapped = np.clip(coords, 0, size - 1)
    elif fill_mode == "reflect":  # half-sample symmetric: d c b a | a b c d | d c b a
        period = 2 * size
        t = np.mod(coords + 0.5, period)
        t = np.where(t >= size, period - t, t)
        mapped = np.clip(t - 0.5, 0, size - 1)
    elif fill_mode == "wrap":  # scipy's 'wrap': the first and last samples coincide
        span = size - 1
        below = coords < 0
        above = coords > span
        mapped = coords.copy()
        mapped[below] += span * (np.trunc(-coords[below] / span) + 1)
        mapped[above] -= span * np.trunc(coords[above] / span)
        mapped = np.clip(mapped, 0, span)
    else:
        raise ValueError(
            f"Expected fill_mode to be one of {FILL_MODES}. Received: fill_mode={fill_mode!r}")
    return mapped, inside


def _affine_sample(image, matrix, offset, fill_mode="nearest", cval=0.0, order=1):
    """Resamples a (d0, d1, channels) image: output[o] = image[matrix @ o + offset]."""
    if order not in (0, 1):
        raise ValueError(
            "Expected interpolation order 0 (nearest) or 1 (bilinear). "
            f"Received: order={order}")
    d0, d1 = image.shape[:2]
    grid0, grid1 = np.meshgrid(np.arange(d0, dtype=np.float64),
                               np.arange(d1, dtype=np.float64), indexing="ij")
    src0 = matrix[0, 0] * grid0 + matrix[0, 1] * grid1 + offset[0]
    src1 = matrix[1, 0] * grid0 + matrix[1, 1] * grid1 + offset[1]
    src0, inside0 = _map_coordinates_1d(src0, d0, fill_mode)
    src1, inside1 = _map_coordinates_1d(src1, d1, fill_mode)
    flat = image.reshape(d0 * d1, -1).astype(np.float64)
    if order == 0:
        i0 = np.minimum(np.floor(src0 + 0.5), d0 - 1).astype(np.int64)
        i1 = np.minimum(np.floor(src1 + 0.5), d1 - 1).astype(np.int64)
        out = np.take(flat, (i0 * d1 + i1).ravel(), axis=0)
    else:
        a0, b0, f0 = linear_taps(src0.ravel(), d0)
        a1, b1, f1 = linear_taps(src1.ravel(), d1)
        f0 = f0[:, None]
        f1 = f1[:, None]
        a0 *= d1
        b0 *= d1
        out = ((np.take(flat, a0 + a1, axis=0) * (1 - f1)
                + np.take(flat, a0 + b1, axis=0) * f1) * (1 - f0)
               + (np.take(flat, b0 + a1, axis=0) * (1 - f1)
                  + np.take(flat, b0 + b1, axis=0) * f1) * f0)
    out = out.reshape(image.shape)
    if fill_mode == "constant":
        out = np.where((inside0 & inside1)[..., None], out, cval)
    return out.astype(image.dtype)


def _compose_affine(theta=0, tx=0, ty=0, shear=0, zx=1, zy=1):
    """Keras's 3x3 matrix: rotation @ shift @ shear @ zoom (angles in degrees), or None."""
    matrix = None

    def then(m):
        return m if matrix is None else matrix @ m

    if theta != 0:
        t = np.deg2rad(theta)
        matrix = then(np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0],
                                [0, 0, 1]]))
    if tx != 0 or ty != 0:
        matrix = then(np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]], dtype=np.float64))
    if shear != 0:
        s = np.deg2rad(shear)
        matrix = then(np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]]))
    if zx != 1 or zy != 1:
        matrix = then(np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]], dtype=np.float64))
    return matrix


def apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, row_axis=1,
                           col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
                           order=1):
    """Rotates, shifts, shears and zooms one 3D image, as Keras does.

    Arguments:
        x: a 3D image; axes named by `row_axis`, `col_axis`, `channel_axis`.
        theta: rotation in degrees. tx, ty: shifts in pixels. shear: degrees.
        zx, zy: zoom factors (> 1 shows a smaller part of the image).
        fill_mode: 'constant', 'nearest', 'reflect' or 'wrap' (scipy.ndimage's modes).
        cval: fill value for 'constant'. order: 0 (nearest) or 1 (bilinear).

    As in Keras, the matrix works in (x, y) coordinates swapped onto (row, col), so for
    images with rows before columns `tx` moves content along the columns and `ty`
    along the rows, and the centre used for rotation is (rows/2, cols/2) swapped.
    """
    if len({row_axis, col_axis, channel_axis}) != 3:
        raise ValueError(
            "Expected distinct row_axis, col_axis and channel_axis. Received: "
            f"{row_axis}, {col_axis}, {channel_axis}")
    if {row_axis, col_axis, channel_axis} != {0, 1, 2}:
        raise ValueError(
            "Expected row_axis, col_axis and channel_axis to be 0, 1 and 2 in some order. "
            f"Received: {row_axis}, {col_axis}, {channel_axis}")
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"Expected a 3D image (rows, cols, channels). Received: shape {x.shape}")
    if channel_axis not in (0, 2):
        raise ValueError(
            f"Expected channel_axis to be 0 or 2. Received: channel_axis={channel_axis}")
    if fill_mode not in FILL_MODES:
        raise ValueError(
            f"Expected fill_mode to be one of {FILL_MODES}. Received: fill_mode={fill_mode!r}")
    matrix = _compose_affine(theta, tx, ty, shear, zx, zy)
    if matrix is None:
        return x
    h, w = x.shape[row_axis], x.shape[col_axis]
    matrix = transform_matrix_offset_center(matrix, h, w)
    if col_axis > row_axis:
        matrix[:, [0, 1]] = matrix[:, [1, 0]]
        matrix[[0, 1]] = matrix[[1, 0]]
    image = np.moveaxis(x, channel_axis, -1)
    out = _affine_sample(image, matrix[:2, :2], matrix[:2, 2], fill_mode, cval, order)
    return np.moveaxis(out, -1, channel_axis)


def flip_axis(x, axis):
    """`x` reversed along `axis`."""
    return np.flip(np.asarray(x), axis)


def apply_channel_shift(x, intensity, channel_axis=0):
    """Adds `intensity` to every channel, clipped to the image's original [min, max]."""
    x = np.asarray(x)
    return np.clip(x + intensity, np.min(x), np.max(x))


def random_channel_shift(x, intensity_range, channel_axis=0):
    """`apply_channel_shift` with an intensity drawn from (-range, range)."""
    intensity = np.random.uniform(-intensity_range, intensity_range)
    return apply_channel_shift(x, intensity, channel_axis=channel_axis)


def apply_brightness_shift(x, brightness, scale=True, data_format=None):
    """Multiplies brightness by `brightness` through Pillow (8-bit rounding, as Keras).

    Images outside [0, 255] are rescaled to it for the operation and, when `scale` is
    False, mapped back to their original range afterwards.
    """
    require_pil("apply_brightness_shift")
    x = np.asarray(x)
    low, high = np.min(x), np.max(x)
    outside = bool(low < 0 or high > 255)
    img = array_to_img(x, data_format=data_format, scale=outside or scale)
    img = ImageEnhance.Brightness(img).enhance(brightness)
    out = img_to_array(img, data_format=data_format)
    if not scale and outside:
        out = out / 255 * (high - low) + low
    return out


def random_brightness(x, brightness_range, scale=True):
    """`apply_brightness_shift` with a factor drawn from `brightness_range`."""
    if len(brightness_range) != 2:
        raise ValueError(
            "Expected brightness_range to be a pair of floats. "
            f"Received: brightness_range={brightness_range}")
    factor = np.random.uniform(brightness_range[0], brightness_range[1])
    return apply_brightness_shift(x, factor, scale)


def random_rotation(x, rg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                    cval=0.0, interpolation_order=1):
    """Rotates by an angle drawn from (-rg, rg) degrees."""
    theta = np.random.uniform(-rg, rg)
    return apply_affine_transform(x, theta=theta, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def random_shift(x, wrg, hrg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                 cval=0.0, interpolation_order=1):
    """Shifts by fractions drawn from (-hrg, hrg) of the height and (-wrg, wrg) of the width."""
    h, w = x.shape[row_axis], x.shape[col_axis]
    tx = np.random.uniform(-hrg, hrg) * h
    ty = np.random.uniform(-wrg, wrg) * w
    return apply_affine_transform(x, tx=tx, ty=ty, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def random_shear(x, intensity, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                 cval=0.0, interpolation_order=1):
    """Shears by an angle drawn from (-intensity, intensity) degrees."""
    shear = np.random.uniform(-intensity, intensity)
    return apply_affine_transform(x, shear=shear, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def random_zoom(x, zoom_range, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                cval=0.0, interpolation_order=1):
    """Zooms by factors drawn from `zoom_range` = (lower, upper), one per axis."""
    if len(zoom_range) != 2:
        raise ValueError(
            f"Expected zoom_range to be a pair of floats. Received: zoom_range={zoom_range}")
    if zoom_range[0] == 1 and zoom_range[1] == 1:
        zx, zy = 1, 1
    else:
        zx, zy = np.random.uniform(zoom_range[0], zoom_range[1], 2)
    return apply_affine_transform(x, zx=zx, zy=zy, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)
