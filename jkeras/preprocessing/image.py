"""Image preprocessing: file I/O, NumPy affine augmentation, `ImageDataGenerator` and
its batch iterators, and `image_dataset_from_directory`.

Everything here runs on the host in NumPy (Pillow reads and writes files); batches come
out as NumPy arrays for the trainer to feed. Randomness comes from NumPy: a `seed`
makes a flow repeat exactly; without one, NumPy's global generator is used, as in Keras.
"""
import io
import math
import os
import pathlib
import threading
import warnings

import numpy as np

from jkeras import _config
from jkeras.utils.data_utils import Sequence

try:
    from PIL import Image as pil_image
    from PIL import ImageEnhance
except ImportError:  # pragma: no cover - Pillow is a dependency of the image helpers
    pil_image = None
    ImageEnhance = None

if pil_image is not None:
    _RESAMPLING = getattr(pil_image, "Resampling", pil_image)
    _PIL_INTERPOLATION = {
        "nearest": _RESAMPLING.NEAREST,
        "bilinear": _RESAMPLING.BILINEAR,
        "bicubic": _RESAMPLING.BICUBIC,
        "hamming": _RESAMPLING.HAMMING,
        "box": _RESAMPLING.BOX,
        "lanczos": _RESAMPLING.LANCZOS,
    }
else:  # pragma: no cover
    _PIL_INTERPOLATION = {}

_FILL_MODES = ("constant", "nearest", "reflect", "wrap")


def _require_pil(what):
    if pil_image is None:
        raise ImportError(f"{what} requires Pillow (`pip install pillow`).")


def _resolve_format(data_format):
    return _config.normalize_data_format(data_format)


# ---------------------------------------------------------------------------------------
# Files and arrays


def load_img(path, grayscale=False, color_mode="rgb", target_size=None,
             interpolation="nearest", keep_aspect_ratio=False):
    """Loads an image file (path or file-like) as a PIL image.

    Arguments:
        path: path (str, bytes, pathlib.Path) or a binary file-like object.
        grayscale: deprecated Keras 1 spelling of `color_mode='grayscale'`.
        color_mode: 'grayscale', 'rgb' or 'rgba'.
        target_size: `(height, width)` to resize to, or None.
        interpolation: Pillow resampling: 'nearest', 'bilinear', 'bicubic', 'hamming',
            'box' or 'lanczos'.
        keep_aspect_ratio: crop the centre to the target aspect ratio before resizing.
    """
    _require_pil("load_img")
    if grayscale:
        warnings.warn("grayscale is deprecated; use color_mode='grayscale'.")
        color_mode = "grayscale"
    if isinstance(path, (str, bytes, pathlib.Path, os.PathLike)):
        with open(os.fspath(path), "rb") as f:
            img = pil_image.open(io.BytesIO(f.read()))
    elif hasattr(path, "read"):
        img = pil_image.open(path)
    else:
        raise TypeError(f"Expected path to be path-like or a file object. Received: {type(path)}")
    if color_mode == "grayscale":
        if img.mode not in ("L", "I;16", "I"):
            img = img.convert("L")
    elif color_mode == "rgba":
        if img.mode != "RGBA":
            img = img.convert("RGBA")
    elif color_mode == "rgb":
        if img.mode != "RGB":
            img = img.convert("RGB")
    else:
        raise ValueError(
            "Expected color_mode to be 'grayscale', 'rgb' or 'rgba'. "
            f"Received: color_mode={color_mode!r}")
    if target_size is not None:
        size = (int(target_size[1]), int(target_size[0]))
        if img.size != size:
            if interpolation not in _PIL_INTERPOLATION:
                raise ValueError(
                    f"Expected interpolation to be one of {sorted(_PIL_INTERPOLATION)}. "
                    f"Received: interpolation={interpolation!r}")
            resample = _PIL_INTERPOLATION[interpolation]
            if keep_aspect_ratio:
                width, height = img.size
                crop_h = min(height, width * size[1] // size[0])
                crop_w = min(width, height * size[0] // size[1])
                top, left = (height - crop_h) // 2, (width - crop_w) // 2
                img = img.resize(size, resample, box=(left, top, left + crop_w, top + crop_h))
            else:
                img = img.resize(size, resample)
    return img


def img_to_array(img, data_format=None, dtype=None):
    """A PIL image (or array) as a 3D float array, channels placed by `data_format`."""
    data_format = _resolve_format(data_format)
    x = np.asarray(img, dtype=dtype or _config.floatx())
    if x.ndim == 2:
        x = x[None] if data_format == "channels_first" else x[..., None]
    elif x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    else:
        raise ValueError(f"Expected an image of rank 2 or 3. Received: shape {x.shape}")
    return x


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A 3D array as a PIL image (1, 3 or 4 channels); `scale` maps its range to 0-255."""
    _require_pil("array_to_img")
    data_format = _resolve_format(data_format)
    x = np.array(x, dtype=dtype or _config.floatx())
    if x.ndim != 3:
        raise ValueError(f"Expected a single image of rank 3. Received: shape {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x /= top
        x *= 255
    channels = x.shape[2]
    if channels == 4:
        return pil_image.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return pil_image.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:
            return pil_image.fromarray(x[:, :, 0].astype("int32"), "I")
        return pil_image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Expected 1, 3 or 4 channels. Received: {channels} channels")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Writes a 3D array as an image file (format from `file_format` or the suffix)."""
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower() or None
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("JPEG cannot store an alpha channel; saving as RGB.")
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def _linear_taps(coords, size):
    """Indices and weights for 1D linear interpolation at coordinates within [0, size-1]."""
    low = np.clip(np.floor(coords), 0, size - 1).astype(np.int64)
    high = np.minimum(low + 1, size - 1)
    return low, high, coords - low


def _resize_linear(x, size):
    """Bilinear resize of (h, w, c) with half-pixel centres and no antialiasing."""
    in_h, in_w = x.shape[:2]
    out_h, out_w = size
    rows = np.clip((np.arange(out_h) + 0.5) * (in_h / out_h) - 0.5, 0, in_h - 1)
    cols = np.clip((np.arange(out_w) + 0.5) * (in_w / out_w) - 0.5, 0, in_w - 1)
    r0, r1, fr = _linear_taps(rows, in_h)
    c0, c1, fc = _linear_taps(cols, in_w)
    fr = fr[:, None, None]
    fc = fc[None, :, None]
    top = x[r0][:, c0] * (1 - fc) + x[r0][:, c1] * fc
    bottom = x[r1][:, c0] * (1 - fc) + x[r1][:, c1] * fc
    return top * (1 - fr) + bottom * fr


def _resize_nearest(x, size):
    in_h, in_w = x.shape[:2]
    out_h, out_w = size
    rows = np.minimum(np.floor((np.arange(out_h) + 0.5) * (in_h / out_h)), in_h - 1)
    cols = np.minimum(np.floor((np.arange(out_w) + 0.5) * (in_w / out_w)), in_w - 1)
    return x[rows.astype(np.int64)][:, cols.astype(np.int64)]


_PIL_FALLBACK = {"bicubic": "bicubic", "area": "box", "lanczos3": "lanczos",
                 "lanczos5": "lanczos", "gaussian": "bicubic", "mitchellcubic": "bicubic"}


def _resize_array(x, size, interpolation="bilinear"):
    """Resizes a (h, w, c) float array to `size` = (height, width).

    'bilinear' and 'nearest' match `tf.image.resize`/`keras.ops.image.resize`; the other
    Keras names are served by the nearest Pillow filter (an approximation).
    """
    size = (int(size[0]), int(size[1]))
    if tuple(x.shape[:2]) == size:
        return np.asarray(x, dtype="float32")
    x = np.asarray(x, dtype="float64")
    if interpolation == "bilinear":
        out = _resize_linear(x, size)
    elif interpolation == "nearest":
        out = _resize_nearest(x, size)
    elif interpolation in _PIL_FALLBACK:
        _require_pil(f"interpolation={interpolation!r}")
        resample = _PIL_INTERPOLATION[_PIL_FALLBACK[interpolation]]
        out = np.stack([
            np.asarray(pil_image.fromarray(x[..., k].astype("float32"), "F")
                       .resize((size[1], size[0]), resample))
            for k in range(x.shape[-1])], axis=-1)
    else:
        raise ValueError(
            "Expected interpolation to be one of 'bilinear', 'nearest', "
            f"{', '.join(repr(k) for k in _PIL_FALLBACK)}. "
            f"Received: interpolation={interpolation!r}")
    return out.astype("float32")


def _center_crop_box(height, width, target_height, target_width):
    crop_h = max(min(height, int(float(width * target_height) / target_width)), 1)
    crop_w = max(min(width, int(float(height * target_width) / target_height)), 1)
    return (int(float(height - crop_h) / 2), int(float(width - crop_w) / 2), crop_h, crop_w)


def smart_resize(x, size, interpolation="bilinear", data_format="channels_last"):
    """Resizes image(s) to `size` without distortion: crops the centre to the target
    aspect ratio first. `x` is (h, w, c) or (n, h, w, c) (channels first if asked)."""
    if len(size) != 2:
        raise ValueError(f"Expected size to be (height, width). Received: size={size}")
    x = np.asarray(x)
    if x.ndim not in (3, 4):
        raise ValueError(f"Expected an image of rank 3 or 4. Received: shape {x.shape}")
    channels_first = data_format == "channels_first"
    if channels_first:
        x = np.moveaxis(x, -3, -1)
    top, left, crop_h, crop_w = _center_crop_box(x.shape[-3], x.shape[-2], *size)
    x = x[..., top:top + crop_h, left:left + crop_w, :]
    if x.ndim == 4:
        out = np.stack([_resize_array(img, size, interpolation) for img in x])
    else:
        out = _resize_array(x, size, interpolation)
    return np.moveaxis(out, -1, -3) if channels_first else out


# ---------------------------------------------------------------------------------------
# Affine transforms (a NumPy equivalent of scipy.ndimage.affine_transform, orders 0/1)


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
            f"Expected fill_mode to be one of {_FILL_MODES}. Received: fill_mode={fill_mode!r}")
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
        a0, b0, f0 = _linear_taps(src0.ravel(), d0)
        a1, b1, f1 = _linear_taps(src1.ravel(), d1)
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
    if fill_mode not in _FILL_MODES:
        raise ValueError(
            f"Expected fill_mode to be one of {_FILL_MODES}. Received: fill_mode={fill_mode!r}")
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
    _require_pil("apply_brightness_shift")
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


# ---------------------------------------------------------------------------------------
# ImageDataGenerator


def _as_rng(seed):
    """A NumPy random source: a RandomState/Generator as given, a fresh RandomState for
    an int seed, or NumPy's global generator for None (Keras's behaviour)."""
    if seed is None or seed is np.random:
        return np.random
    if isinstance(seed, (np.random.RandomState, np.random.Generator)):
        return seed
    return np.random.RandomState(int(seed) % (2 ** 32))


def _draw_shift(rng, shift_range, size):
    """A shift in pixels: floats are fractions of `size` (if < 1); ints and lists pick."""
    if np.ndim(shift_range) == 0 and not isinstance(shift_range, (int, np.integer)):
        shift = rng.uniform(-shift_range, shift_range)
    else:
        shift = rng.choice(shift_range) * rng.choice([-1, 1])
    if np.max(shift_range) < 1:
        shift *= size
    return shift


class ImageDataGenerator:
    """Real-time image augmentation and normalization, batch by batch (Keras 2 API).

    Random transforms (rotation, shifts, shear, zoom, flips, channel and brightness
    shifts) are applied per image, then `standardize` (preprocessing function, rescale,
    sample- and feature-wise centring/normalization, ZCA). Feature-wise statistics come
    from `fit(x)`. `flow`, `flow_from_directory` and `flow_from_dataframe` return
    iterators of batches.
    """

    def __init__(self, featurewise_center=False, samplewise_center=False,
                 featurewise_std_normalization=False, samplewise_std_normalization=False,
                 zca_whitening=False, zca_epsilon=1e-6, rotation_range=0,
                 width_shift_range=0.0, height_shift_range=0.0, brightness_range=None,
                 shear_range=0.0, zoom_range=0.0, channel_shift_range=0.0,
                 fill_mode="nearest", cval=0.0, horizontal_flip=False, vertical_flip=False,
                 rescale=None, preprocessing_function=None, data_format=None,
                 validation_split=0.0, interpolation_order=1, dtype=None):
        data_format = _resolve_format(data_format)
        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening = zca_whitening
        self.zca_epsilon = zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        self.shear_range = shear_range
        self.channel_shift_range = channel_shift_range
        self.fill_mode = fill_mode
        self.cval = cval
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.dtype = dtype or _config.floatx()
        self.interpolation_order = interpolation_order
        self.data_format = data_format
        if data_format == "channels_first":
            self.channel_axis, self.row_axis, self.col_axis = 1, 2, 3
        else:
            self.channel_axis, self.row_axis, self.col_axis = 3, 1, 2
        if fill_mode not in _FILL_MODES:
            raise ValueError(
                f"Expected fill_mode to be one of {_FILL_MODES}. "
                f"Received: fill_mode={fill_mode!r}")
        if interpolation_order not in (0, 1):
            raise ValueError(
                "Expected interpolation_order 0 or 1. "
                f"Received: interpolation_order={interpolation_order}")
        if validation_split and not 0 < validation_split < 1:
            raise ValueError(
                "Expected 0 < validation_split < 1. "
                f"Received: validation_split={validation_split}")
        self._validation_split = validation_split
        self.mean = None
        self.std = None
        self.zca_whitening_matrix = None

        if isinstance(zoom_range, (float, int)):
            self.zoom_range = [1 - zoom_range, 1 + zoom_range]
        elif (isinstance(zoom_range, (list, tuple)) and len(zoom_range) == 2
              and all(isinstance(v, (float, int)) for v in zoom_range)):
            self.zoom_range = [zoom_range[0], zoom_range[1]]
        else:
            raise ValueError(
                "Expected zoom_range to be a float or a pair of floats. "
                f"Received: zoom_range={zoom_range}")
        if zca_whitening:
            if not featurewise_center:
                self.featurewise_center = True
                warnings.warn("zca_whitening turns on featurewise_center.")
            if featurewise_std_normalization:
                self.featurewise_std_normalization = False
                warnings.warn("zca_whitening turns off featurewise_std_normalization.")
        if self.featurewise_std_normalization and not self.featurewise_center:
            self.featurewise_center = True
            warnings.warn("featurewise_std_normalization turns on featurewise_center.")
        if samplewise_std_normalization and not samplewise_center:
            self.samplewise_center = True
            warnings.warn("samplewise_std_normalization turns on samplewise_center.")
        if brightness_range is not None and (
                not isinstance(brightness_range, (tuple, list)) or len(brightness_range) != 2):
            raise ValueError(
                "Expected brightness_range to be a pair of floats. "
                f"Received: brightness_range={brightness_range}")
        self.brightness_range = brightness_range

    @property
    def principal_components(self):
        """Keras 1/2 name of `zca_whitening_matrix`."""
        return self.zca_whitening_matrix

    # -- iterators ----------------------------------------------------------------------

    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None,
             save_to_dir=None, save_prefix="", save_format="png", ignore_class_split=False,
             subset=None):
        """An iterator over augmented batches of the arrays `x` (and `y`, `sample_weight`)."""
        return NumpyArrayIterator(
            x, y, self, batch_size=batch_size, shuffle=shuffle, sample_weight=sample_weight,
            seed=seed, data_format=self.data_format, save_to_dir=save_to_dir,
            save_prefix=save_prefix, save_format=save_format,
            ignore_class_split=ignore_class_split, subset=subset, dtype=self.dtype)

    def flow_from_directory(self, directory, target_size=(256, 256), color_mode="rgb",
                            classes=None, class_mode="categorical", batch_size=32,
                            shuffle=True, seed=None, save_to_dir=None, save_prefix="",
                            save_format="png", follow_links=False, subset=None,
                            interpolation="nearest", keep_aspect_ratio=False):
        """An iterator over augmented batches of the images in `directory/<class>/...`."""
        return DirectoryIterator(
            directory, self, target_size=target_size, color_mode=color_mode,
            keep_aspect_ratio=keep_aspect_ratio, classes=classes, class_mode=class_mode,
            data_format=self.data_format, batch_size=batch_size, shuffle=shuffle, seed=seed,
            save_to_dir=save_to_dir, save_prefix=save_prefix, save_format=save_format,
            follow_links=follow_links, subset=subset, interpolation=interpolation,
            dtype=self.dtype)

    def flow_from_dataframe(self, dataframe, directory=None, x_col="filename", y_col="class",
                            weight_col=None, target_size=(256, 256), color_mode="rgb",
                            classes=None, class_mode="categorical", batch_size=32,
                            shuffle=True, seed=None, save_to_dir=None, save_prefix="",
                            save_format="png", subset=None, interpolation="nearest",
                            validate_filenames=True, **kwargs):
        """An iterator over augmented batches of the image files a pandas DataFrame lists."""
        try:
            import pandas  # noqa: F401
        except ImportError as error:
            raise ImportError(
                "flow_from_dataframe requires pandas (`pip install pandas`).") from error
        for name in ("has_ext", "sort", "drop_duplicates"):
            if name in kwargs:
                warnings.warn(f"flow_from_dataframe: `{name}` is deprecated and ignored.",
                              DeprecationWarning)
                kwargs.pop(name)
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments for flow_from_dataframe: {kwargs}")
        if class_mode == "other":
            warnings.warn("class_mode='other' is deprecated; use 'raw'.", DeprecationWarning)
            class_mode = "raw"
        return DataFrameIterator(
            dataframe, directory, self, x_col=x_col, y_col=y_col, weight_col=weight_col,
            target_size=target_size, color_mode=color_mode, classes=classes,
            class_mode=class_mode, data_format=self.data_format, batch_size=batch_size,
            shuffle=shuffle, seed=seed, save_to_dir=save_to_dir, save_prefix=save_prefix,
            save_format=save_format, subset=subset, interpolation=interpolation,
            validate_filenames=validate_filenames, dtype=self.dtype)

    # -- normalization ------------------------------------------------------------------

    def standardize(self, x):
        """Applies the normalization settings to an image or batch (in place for float
        arrays, as Keras does) and returns the result."""
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        if self.rescale:
            x *= self.rescale
        if self.samplewise_center:
            x -= np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, keepdims=True) + 1e-6
        if self.featurewise_center:
            if self.mean is not None:
                x -= self.mean
            else:
                warnings.warn("featurewise_center is set but the generator has not been "
                              "fit on data; call .fit(x) first.")
        if self.featurewise_std_normalization:
            if self.std is not None:
                x /= self.std + 1e-6
            else:
                warnings.warn("featurewise_std_normalization is set but the generator has "
                              "not been fit on data; call .fit(x) first.")
        if self.zca_whitening:
            if self.zca_whitening_matrix is not None:
                flat = np.reshape(x, (-1, math.prod(x.shape[-3:])))
                x = np.reshape(flat @ self.zca_whitening_matrix, x.shape)
            else:
                warnings.warn("zca_whitening is set but the generator has not been fit on "
                              "data; call .fit(x) first.")
        return x

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Computes the feature-wise mean, std and ZCA matrix from sample images `x`
        (rank 4, rescaled first if `rescale` is set, augmented if `augment`)."""
        x = np.array(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(f"Expected fit() input of rank 4. Received: shape {x.shape}")
        if x.shape[self.channel_axis] not in (1, 3, 4):
            warnings.warn(
                f"Expected 1, 3 or 4 channels on axis {self.channel_axis} "
                f"({self.data_format}). Received: shape {x.shape}")
        rng = _as_rng(seed)
        if self.rescale:
            x *= self.rescale
        if augment:
            augmented = np.zeros((rounds * x.shape[0],) + x.shape[1:], dtype=self.dtype)
            for r in range(rounds):
                for i in range(x.shape[0]):
                    augmented[i + r * x.shape[0]] = self.random_transform(x[i], rng)
            x = augmented
        stat_axes = (0, self.row_axis, self.col_axis)
        stat_shape = [1, 1, 1]
        stat_shape[self.channel_axis - 1] = x.shape[self.channel_axis]
        if self.featurewise_center:
            self.mean = np.reshape(np.mean(x, axis=stat_axes), stat_shape)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.reshape(np.std(x, axis=stat_axes), stat_shape)
            x /= self.std + 1e-6
        if self.zca_whitening:
            n = len(x)
            flat = np.reshape(x, (n, -1))
            u, s, _ = np.linalg.svd(flat.T, full_matrices=False)
            scale = np.sqrt(n) / (s + self.zca_epsilon)
            self.zca_whitening_matrix = (u * scale) @ u.T

    # -- random transforms --------------------------------------------------------------

    def get_random_transform(self, img_shape, seed=None):
        """Draws the parameters of one random transform for an image of `img_shape`.

        `seed`: an int, a NumPy RandomState/Generator, or None (NumPy's global state).
        Returns a dict with 'theta', 'tx', 'ty', 'shear', 'zx', 'zy', 'flip_horizontal',
        'flip_vertical', 'channel_shift_intensity' and 'brightness'.
        """
        rng = _as_rng(seed)
        img_row_axis = self.row_axis - 1
        img_col_axis = self.col_axis - 1
        theta = rng.uniform(-self.rotation_range, self.rotation_range) \
            if self.rotation_range else 0
        tx = _draw_shift(rng, self.height_shift_range, img_shape[img_row_axis]) \
            if self.height_shift_range else 0
        ty = _draw_shift(rng, self.width_shift_range, img_shape[img_col_axis]) \
            if self.width_shift_range else 0
        shear = rng.uniform(-self.shear_range, self.shear_range) if self.shear_range else 0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1, 1
        else:
            zx, zy = rng.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_horizontal = (rng.random() < 0.5) * self.horizontal_flip
        flip_vertical = (rng.random() < 0.5) * self.vertical_flip
        channel_shift_intensity = None
        if self.channel_shift_range != 0:
            channel_shift_intensity = rng.uniform(-self.channel_shift_range,
                                                  self.channel_shift_range)
        brightness = None
        if self.brightness_range is not None:
            brightness = rng.uniform(self.brightness_range[0], self.brightness_range[1])
        return {
            "theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
            "flip_horizontal": flip_horizontal, "flip_vertical": flip_vertical,
            "channel_shift_intensity": channel_shift_intensity, "brightness": brightness,
        }

    def apply_transform(self, x, transform_parameters):
        """Applies a transform (a dict as from `get_random_transform`) to one 3D image."""
        img_row_axis = self.row_axis - 1
        img_col_axis = self.col_axis - 1
        img_channel_axis = self.channel_axis - 1
        p = transform_parameters
        x = apply_affine_transform(
            x, p.get("theta", 0), p.get("tx", 0), p.get("ty", 0), p.get("shear", 0),
            p.get("zx", 1), p.get("zy", 1), row_axis=img_row_axis, col_axis=img_col_axis,
            channel_axis=img_channel_axis, fill_mode=self.fill_mode, cval=self.cval,
            order=self.interpolation_order)
        if p.get("channel_shift_intensity") is not None:
            x = apply_channel_shift(x, p["channel_shift_intensity"], img_channel_axis)
        if p.get("flip_horizontal", False):
            x = flip_axis(x, img_col_axis)
        if p.get("flip_vertical", False):
            x = flip_axis(x, img_row_axis)
        if p.get("brightness") is not None:
            x = apply_brightness_shift(x, p["brightness"], False,
                                       data_format=self.data_format)
        return x

    def random_transform(self, x, seed=None):
        """One image, randomly transformed (`seed` as in `get_random_transform`)."""
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))


# ---------------------------------------------------------------------------------------
# Iterators


class _BatchIndexError(IndexError, ValueError):
    """An out-of-range batch index (an IndexError, and a ValueError as in Keras)."""


class Iterator(Sequence):
    """Base of the batch iterators: index bookkeeping, shuffling and thread safety.

    Usable two ways: as an endless iterator (`next(it)`; batches wrap at the end of an
    epoch, so 7 samples in batches of 3 give 3, 3, 1, 3, 3, 1, ...) or as a `Sequence`
    (`it[i]`, `len(it)`, `on_epoch_end()`). Index generation is under a lock; the
    images of a batch are produced outside it, each batch with its own random state
    when `seed` is set (state `seed + batches seen so far`, as Keras seeds it).
    Subclasses implement `_get_batches_of_transformed_samples(index_array)`.
    """

    white_list_formats = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")

    def __init__(self, n, batch_size, shuffle, seed):
        self.n = n
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_array = None
        self._last_rng = None
        self._local = threading.local()
        self.index_generator = self._flow_index()

    def _next_rng(self):
        """The random state of the next batch (caller holds the lock)."""
        if self.seed is None:
            return _as_rng(None)
        return np.random.RandomState((self.seed + self.total_batches_seen) % (2 ** 32))

    def _set_index_array(self, rng=None):
        rng = self._next_rng() if rng is None else rng
        self.index_array = rng.permutation(self.n) if self.shuffle else np.arange(self.n)

    @property
    def _rng(self):
        """The random state of the batch being made on this thread."""
        return getattr(self._local, "rng", None) or _as_rng(None)

    def _make_batch(self, index_array, rng):
        self._local.rng = rng
        try:
            return self._get_batches_of_transformed_samples(index_array)
        finally:
            self._local.rng = None

    def __getitem__(self, idx):
        if idx < 0:
            idx += len(self)
        if not 0 <= idx < len(self):
            raise _BatchIndexError(
                f"Expected a batch index in [0, {len(self)}). Received: index={idx}")
        with self.lock:
            rng = self._next_rng()
            self.total_batches_seen += 1
            if self.index_array is None:
                self._set_index_array(rng)
            index_array = self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)]
            self._last_rng = rng
        return self._make_batch(index_array, rng)

    def __len__(self):
        return (self.n + self.batch_size - 1) // self.batch_size

    def on_epoch_end(self):
        with self.lock:
            rng = self._last_rng if self._last_rng is not None else self._next_rng()
            self._set_index_array(rng)

    def reset(self):
        self.batch_index = 0

    def _flow_index(self):
        self.reset()
        while True:
            rng = self._next_rng()
            if self.batch_index == 0:
                self._set_index_array(rng)
            current = 0 if self.n == 0 else (self.batch_index * self.batch_size) % self.n
            if self.n > current + self.batch_size:
                self.batch_index += 1
            else:
                self.batch_index = 0
            self.total_batches_seen += 1
            self._last_rng = rng
            yield self.index_array[current:current + self.batch_size], rng

    def __iter__(self):
        return self

    def __next__(self):
        with self.lock:
            index_array, rng = next(self.index_generator)
        return self._make_batch(index_array, rng)

    def next(self):
        """The next batch (Keras 1/2 spelling of `next(iterator)`)."""
        return self.__next__()

    def _get_batches_of_transformed_samples(self, index_array):
        raise NotImplementedError(
            f"{type(self).__name__} must implement _get_batches_of_transformed_samples")

    def _save_batch(self, batch_x, index_array, rng, hash_high):
        for i, j in enumerate(index_array):
            img = array_to_img(batch_x[i], self.data_format, scale=True)
            name = f"{self.save_prefix}_{j}_{rng.randint(hash_high)}.{self.save_format}"
            img.save(os.path.join(self.save_to_dir, name))


class NumpyArrayIterator(Iterator):
    """Batches of augmented images from a rank-4 array (plus labels and weights).

    `x` may be a list `[images, extra, ...]`: the extra arrays ride along unaugmented
    and batches are then `([images, extra, ...], y)`.
    """

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=False,
                 sample_weight=None, seed=None, data_format=None, save_to_dir=None,
                 save_prefix="", save_format="png", subset=None, ignore_class_split=False,
                 dtype=None):
        data_format = _resolve_format(data_format)
        self.dtype = dtype or _config.floatx()
        if isinstance(x, (tuple, list)):
            extras = x[1] if isinstance(x[1], list) else [x[1]]
            x_misc = [np.asarray(a) for a in extras]
            x = x[0]
            for extra in x_misc:
                if len(x) != len(extra):
                    raise ValueError(
                        "Expected every array in x to have the same length. Received: "
                        f"len(x[0])={len(x)}, an extra array of length {len(extra)}")
        else:
            x_misc = []
        if y is not None and len(x) != len(y):
            raise ValueError(
                "Expected x (images) and y (labels) of the same length. Received: "
                f"x.shape={np.shape(x)}, y.shape={np.shape(y)}")
        if sample_weight is not None and len(x) != len(sample_weight):
            raise ValueError(
                "Expected x (images) and sample_weight of the same length. Received: "
                f"x.shape={np.shape(x)}, sample_weight.shape={np.shape(sample_weight)}")
        if subset is not None:
            if subset not in ("training", "validation"):
                raise ValueError(
                    "Expected subset to be 'training' or 'validation'. "
                    f"Received: subset={subset!r}")
            split_idx = int(len(x) * image_data_generator._validation_split)
            if y is not None and not ignore_class_split and not np.array_equal(
                    np.unique(y[:split_idx]), np.unique(y[split_idx:])):
                raise ValueError(
                    "Training and validation subsets have different classes after the "
                    "split; shuffle arrays sorted by label (or pass ignore_class_split=True).")
            part = slice(None, split_idx) if subset == "validation" else slice(split_idx, None)
            x = x[part]
            x_misc = [np.asarray(a[part]) for a in x_misc]
            if y is not None:
                y = y[part]
            if sample_weight is not None:
                sample_weight = sample_weight[part]
        self.x = np.asarray(x, dtype=self.dtype)
        self.x_misc = x_misc
        if self.x.ndim != 4:
            raise ValueError(
                f"Expected image data of rank 4 in NumpyArrayIterator. Received: shape "
                f"{self.x.shape}")
        channels_axis = 3 if data_format == "channels_last" else 1
        if self.x.shape[channels_axis] not in (1, 3, 4):
            warnings.warn(
                f"NumpyArrayIterator expects 1, 3 or 4 channels on axis {channels_axis} "
                f"({data_format}). Received: shape {self.x.shape}")
        self.y = None if y is None else np.asarray(y)
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        self.image_data_generator = image_data_generator
        self.data_format = data_format
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        super().__init__(self.x.shape[0], batch_size, shuffle, seed)

    def _get_batches_of_transformed_samples(self, index_array):
        rng = self._rng
        gen = self.image_data_generator
        batch_x = np.zeros((len(index_array),) + self.x.shape[1:], dtype=self.dtype)
        for i, j in enumerate(index_array):
            x = np.array(self.x[j], dtype=self.dtype)
            params = gen.get_random_transform(x.shape, rng)
            x = gen.apply_transform(x, params)
            batch_x[i] = gen.standardize(np.array(x, dtype=self.dtype))
        if self.save_to_dir:
            self._save_batch(batch_x, index_array, rng, 10_000)
        extras = [a[index_array] for a in self.x_misc]
        inputs = [batch_x] + extras if extras else batch_x
        if self.y is None:
            return inputs
        out = (inputs, self.y[index_array])
        if self.sample_weight is not None:
            out += (self.sample_weight[index_array],)
        return out


class _FilesIteratorMixin:
    """Shared by the directory and dataframe iterators: loads files into a batch."""

    def _set_processing_attrs(self, image_data_generator, target_size, color_mode,
                              data_format, save_to_dir, save_prefix, save_format, subset,
                              interpolation, keep_aspect_ratio):
        self.image_data_generator = image_data_generator
        self.target_size = tuple(target_size)
        self.keep_aspect_ratio = keep_aspect_ratio
        channels = {"rgb": 3, "rgba": 4, "grayscale": 1}.get(color_mode)
        if channels is None:
            raise ValueError(
                "Expected color_mode to be 'rgb', 'rgba' or 'grayscale'. "
                f"Received: color_mode={color_mode!r}")
        self.color_mode = color_mode
        self.data_format = data_format
        if data_format == "channels_last":
            self.image_shape = self.target_size + (channels,)
        else:
            self.image_shape = (channels,) + self.target_size
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        self.interpolation = interpolation
        if subset is None:
            self.split = None
        else:
            fraction = image_data_generator._validation_split if image_data_generator else 0
            if subset == "validation":
                self.split = (0, fraction)
            elif subset == "training":
                self.split = (fraction, 1)
            else:
                raise ValueError(
                    "Expected subset to be 'training' or 'validation'. "
                    f"Received: subset={subset!r}")
        self.subset = subset

    def _get_batches_of_transformed_samples(self, index_array):
        rng = self._rng
        gen = self.image_data_generator
        batch_x = np.zeros((len(index_array),) + self.image_shape, dtype=self.dtype)
        paths = self.filepaths
        for i, j in enumerate(index_array):
            img = load_img(paths[j], color_mode=self.color_mode, target_size=self.target_size,
                           interpolation=self.interpolation,
                           keep_aspect_ratio=self.keep_aspect_ratio)
            x = img_to_array(img, data_format=self.data_format, dtype=self.dtype)
            img.close()
            if gen:
                x = gen.apply_transform(x, gen.get_random_transform(x.shape, rng))
                x = gen.standardize(np.array(x, dtype=self.dtype))
            batch_x[i] = x
        if self.save_to_dir:
            self._save_batch(batch_x, index_array, rng, 10_000_000)
        mode = self.class_mode
        if mode == "input":
            batch_y = batch_x.copy()
        elif mode in ("binary", "sparse"):
            batch_y = np.asarray([self.classes[j] for j in index_array], dtype=self.dtype)
        elif mode == "categorical":
            batch_y = np.zeros((len(batch_x), len(self.class_indices)), dtype=self.dtype)
            for i, j in enumerate(index_array):
                batch_y[i, self.classes[j]] = 1.0
        elif mode == "multi_output":
            batch_y = [output[index_array] for output in self.labels]
        elif mode == "raw":
            batch_y = self.labels[index_array]
        else:
            return batch_x
        if self.sample_weight is None:
            return batch_x, batch_y
        return batch_x, batch_y, self.sample_weight[index_array]


def _walk_image_files(directory, formats, follow_links):
    """(root, name) of the files under `directory` with an allowed extension, sorted."""
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links),
                                 key=lambda item: item[0]):
        for name in sorted(files):
            if name.lower().endswith(formats):
                yield root, name


def _list_class_files(class_dir, formats, split, follow_links):
    """Paths relative to the class folder's parent, optionally a (start, stop) fraction."""
    found = list(_walk_image_files(class_dir, formats, follow_links))
    if split:
        found = found[int(split[0] * len(found)):int(split[1] * len(found))]
    label = os.path.basename(class_dir)
    return [os.path.join(label, os.path.relpath(os.path.join(root, name), class_dir))
            for root, name in found]


class DirectoryIterator(_FilesIteratorMixin, Iterator):
    """Batches of augmented images read from `directory/<class_name>/<image files>`.

    Class names are the sub-folders (sorted) unless `classes` lists them; attributes
    `class_indices`, `classes` (per sample), `filenames` (relative) and `filepaths`.
    """

    allowed_class_modes = {"categorical", "binary", "sparse", "input", None}

    def __init__(self, directory, image_data_generator, target_size=(256, 256),
                 color_mode="rgb", classes=None, class_mode="categorical", batch_size=32,
                 shuffle=True, seed=None, data_format=None, save_to_dir=None,
                 save_prefix="", save_format="png", follow_links=False, subset=None,
                 interpolation="nearest", keep_aspect_ratio=False, dtype=None):
        data_format = _resolve_format(data_format)
        self.dtype = dtype or _config.floatx()
        self._set_processing_attrs(image_data_generator, target_size, color_mode,
                                   data_format, save_to_dir, save_prefix, save_format,
                                   subset, interpolation, keep_aspect_ratio)
        if class_mode not in self.allowed_class_modes:
            raise ValueError(
                f"Expected class_mode to be one of {sorted(map(str, self.allowed_class_modes))}"
                f". Received: class_mode={class_mode!r}")
        self.directory = directory
        self.class_mode = class_mode
        if not classes:
            classes = [d for d in sorted(os.listdir(directory))
                       if os.path.isdir(os.path.join(directory, d))]
        self.num_classes = len(classes)
        self.class_indices = {name: i for i, name in enumerate(classes)}
        self.filenames = []
        labels = []
        for name in classes:
            files = _list_class_files(os.path.join(directory, name), self.white_list_formats,
                                      self.split, follow_links)
            self.filenames += files
            labels += [self.class_indices[name]] * len(files)
        self.samples = len(self.filenames)
        self.classes = np.asarray(labels, dtype="int32")
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        self._filepaths = [os.path.join(directory, f) for f in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed)

    @property
    def filepaths(self):
        return self._filepaths

    @property
    def labels(self):
        return self.classes

    @property
    def sample_weight(self):
        return None


class DataFrameIterator(_FilesIteratorMixin, Iterator):
    """Batches of augmented images whose file names (and labels) are columns of a table.

    `dataframe` is a pandas DataFrame (anything indexable by column name works):
    `x_col` holds file names (joined to `directory` if given), `y_col` the labels.
    """

    allowed_class_modes = {"binary", "categorical", "input", "multi_output", "raw",
                           "sparse", None}

    def __init__(self, dataframe, directory=None, image_data_generator=None,
                 x_col="filename", y_col="class", weight_col=None, target_size=(256, 256),
                 color_mode="rgb", classes=None, class_mode="categorical", batch_size=32,
                 shuffle=True, seed=None, data_format="channels_last", save_to_dir=None,
                 save_prefix="", save_format="png", subset=None, interpolation="nearest",
                 keep_aspect_ratio=False, dtype="float32", validate_filenames=True):
        data_format = _resolve_format(data_format)
        self._set_processing_attrs(image_data_generator, target_size, color_mode,
                                   data_format, save_to_dir, save_prefix, save_format,
                                   subset, interpolation, keep_aspect_ratio)
        if class_mode not in self.allowed_class_modes:
            raise ValueError(
                f"Expected class_mode to be one of {sorted(map(str, self.allowed_class_modes))}"
                f". Received: class_mode={class_mode!r}")
        if class_mode == "multi_output" and not isinstance(y_col, list):
            raise TypeError(
                "Expected y_col to be a list for class_mode='multi_output'. "
                f"Received: y_col={y_col!r}")
        self.directory = directory or ""
        self.class_mode = class_mode
        self.dtype = dtype
        rows = self._read_rows(dataframe, x_col, y_col, weight_col, class_mode)
        if validate_filenames:
            rows = self._keep_valid_files(rows, x_col)
        labelled = class_mode not in ("input", "multi_output", "raw", None)
        if labelled:
            rows, classes = self._filter_classes(rows, classes, class_mode)
            self.class_indices = {name: i for i, name in enumerate(classes)}
        elif classes:
            warnings.warn(f"classes is ignored with class_mode={class_mode!r}.")
        if self.split:
            rows = rows[int(self.split[0] * len(rows)):int(self.split[1] * len(rows))]
        if labelled:
            self.classes = [[self.class_indices[v] for v in r["y"]]
                            if isinstance(r["y"], (list, tuple)) else self.class_indices[r["y"]]
                            for r in rows]
        self.filenames = [r["x"] for r in rows]
        self._sample_weight = (np.asarray([r["w"] for r in rows])
                               if weight_col else None)
        if class_mode == "multi_output":
            self._targets = [np.array([r["y"][k] for r in rows]) for k in range(len(y_col))]
        elif class_mode == "raw":
            self._targets = np.array([r["y"] for r in rows])
        self.samples = len(self.filenames)
        checked = "validated" if validate_filenames else "non-validated"
        if labelled:
            print(f"Found {self.samples} {checked} image filenames belonging to "
                  f"{len(self.class_indices)} classes.")
        else:
            print(f"Found {self.samples} {checked} image filenames.")
        self._filepaths = [os.path.join(self.directory, f) for f in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed)

    @staticmethod
    def _read_rows(df, x_col, y_col, weight_col, class_mode):
        filenames = list(df[x_col])
        if not all(isinstance(f, str) for f in filenames):
            raise TypeError(f"Expected strings in column x_col={x_col!r}.")
        if class_mode is None or class_mode == "input":
            labels = [None] * len(filenames)
        elif class_mode == "multi_output":
            labels = list(zip(*[list(df[c]) for c in y_col]))
        else:
            labels = list(df[y_col])
        if class_mode in ("binary", "sparse") and not all(isinstance(v, str) for v in labels):
            raise TypeError(
                f"Expected string labels in column y_col={y_col!r} for "
                f"class_mode={class_mode!r}.")
        if class_mode == "categorical" and not all(
                isinstance(v, (str, list, tuple)) for v in labels):
            raise TypeError(
                f"Expected string, list or tuple labels in column y_col={y_col!r} for "
                "class_mode='categorical'.")
        weights = [None] * len(filenames)
        if weight_col:
            weights = np.asarray(list(df[weight_col]))
            if not np.issubdtype(weights.dtype, np.number):
                raise TypeError(f"Expected numbers in column weight_col={weight_col!r}.")
            weights = list(weights)
        return [{"x": f, "y": v, "w": w} for f, v, w in zip(filenames, labels, weights)]

    def _keep_valid_files(self, rows, x_col):
        def valid(name):
            path = os.path.join(self.directory, name)
            return name.lower().endswith(self.white_list_formats) and os.path.isfile(path)

        kept = [r for r in rows if valid(r["x"])]
        if len(kept) != len(rows):
            warnings.warn(f"Found {len(rows) - len(kept)} invalid image filename(s) in "
                          f"x_col={x_col!r}; they will be ignored.")
        return kept

    @staticmethod
    def _filter_classes(rows, classes, class_mode):
        if class_mode == "binary":
            count = len(set(classes)) if classes else len({r["y"] for r in rows})
            if count != 2:
                raise ValueError(
                    f"Expected 2 classes for class_mode='binary'. Received: {count} classes")
        if classes:
            classes = list(dict.fromkeys(classes))
            allowed = set(classes)
            kept = []
            for r in rows:
                y = r["y"]
                if isinstance(y, (list, tuple)):
                    y = [v for v in y if v in allowed] or None
                elif y not in allowed:
                    y = None
                if y is not None:
                    kept.append(dict(r, y=y))
            return kept, classes
        found = set()
        for r in rows:
            found.update(r["y"] if isinstance(r["y"], (list, tuple)) else [r["y"]])
        return rows, sorted(found)

    @property
    def filepaths(self):
        return self._filepaths

    @property
    def labels(self):
        if self.class_mode in ("multi_output", "raw"):
            return self._targets
        return self.classes

    @property
    def sample_weight(self):
        return self._sample_weight


# ---------------------------------------------------------------------------------------
# image_dataset_from_directory

IMAGE_DATASET_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_DATASET_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5",
                           "gaussian", "mitchellcubic")


def _index_directory(directory, labels, class_names, follow_links):
    """File paths, integer labels (or None) and class names, in alphanumeric order."""
    if labels == "inferred":
        subdirs = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(subdirs):
                raise ValueError(
                    "Expected class_names to name sub-folders of the directory "
                    f"({subdirs}). Received: class_names={class_names}")
            subdirs = list(class_names)
        paths, found_labels = [], []
        for index, name in enumerate(subdirs):
            files = _list_class_files(os.path.join(directory, name), IMAGE_DATASET_FORMATS,
                                      None, follow_links)
            paths += [os.path.join(directory, f) for f in files]
            found_labels += [index] * len(files)
        return paths, np.asarray(found_labels, dtype="int32"), list(subdirs)
    if class_names is not None:
        raise ValueError(
            "Expected class_names only with labels='inferred'. Received: "
            f"labels={labels!r}, class_names={class_names}")
    paths = [os.path.join(root, name)
             for root, name in _walk_image_files(directory, IMAGE_DATASET_FORMATS, follow_links)]
    if labels is None:
        return paths, None, None
    if len(labels) != len(paths):
        raise ValueError(
            f"Expected one label per image file ({len(paths)} files in {directory}). "
            f"Received: {len(labels)} labels")
    names = [str(v) for v in sorted(set(labels))]
    return paths, np.asarray(labels), names


def _pad_to_aspect(img, size):
    height, width = img.shape[:2]
    pad_h = max(height, int(float(width * size[0]) / size[1]))
    pad_w = max(width, int(float(height * size[1]) / size[0]))
    top, left = int(float(pad_h - height) / 2), int(float(pad_w - width) / 2)
    out = np.zeros((pad_h, pad_w, img.shape[2]), dtype=img.dtype)
    out[top:top + height, left:left + width] = img
    return out


def _load_dataset_image(path, image_size, color_mode, interpolation, data_format,
                        crop_to_aspect_ratio, pad_to_aspect_ratio):
    img = load_img(path, color_mode=color_mode)
    x = np.asarray(img, dtype="float32")
    img.close()
    if x.ndim == 2:
        x = x[..., None]
    if crop_to_aspect_ratio:
        top, left, crop_h, crop_w = _center_crop_box(x.shape[0], x.shape[1], *image_size)
        x = x[top:top + crop_h, left:left + crop_w]
    elif pad_to_aspect_ratio:
        x = _pad_to_aspect(x, image_size)
    x = _resize_array(x, image_size, interpolation)
    return x.transpose(2, 0, 1) if data_format == "channels_first" else x


class ImageDataset(Sequence):
    """The batches `image_dataset_from_directory` returns: iterate for `(images, labels)`
    NumPy batches (just images when there are no labels), one pass per epoch.

    `class_names` and `file_paths` describe the data; with `shuffle`, every new pass
    (or `on_epoch_end()`) draws a new order from the seed.
    """

    def __init__(self, file_paths, labels, class_names, label_mode, batch_size, image_size,
                 color_mode, interpolation, data_format, crop_to_aspect_ratio,
                 pad_to_aspect_ratio, shuffle, seed):
        super().__init__()
        self.file_paths = list(file_paths)
        self.labels = labels
        self.class_names = class_names
        self.label_mode = label_mode
        self.batch_size = batch_size
        self.image_size = tuple(image_size)
        self._load_args = (self.image_size, color_mode, interpolation, data_format,
                           crop_to_aspect_ratio, pad_to_aspect_ratio)
        self.shuffle = shuffle
        self.seed = seed
        self._epoch = 0
        self._order = self._draw_order()

    def _draw_order(self):
        n = len(self.file_paths)
        if not self.shuffle:
            return np.arange(n)
        return np.random.RandomState((self.seed + 7919 * self._epoch) % (2 ** 32)).permutation(n)

    def _encode_labels(self, picked):
        if self.label_mode == "categorical":
            out = np.zeros((len(picked), len(self.class_names)), dtype="float32")
            out[np.arange(len(picked)), picked] = 1.0
            return out
        if self.label_mode == "binary":
            return np.asarray(picked, dtype="float32")[:, None]
        return np.asarray(picked, dtype="int32")

    def __len__(self):
        if self.batch_size is None:
            return len(self.file_paths)
        return (len(self.file_paths) + self.batch_size - 1) // self.batch_size

    def __getitem__(self, index):
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"Expected a batch index in [0, {len(self)}). Received: {index}")
        if self.batch_size is None:
            picked = self._order[index:index + 1]
        else:
            picked = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        images = np.stack([_load_dataset_image(self.file_paths[j], *self._load_args)
                           for j in picked])
        if self.label_mode is None:
            return images[0] if self.batch_size is None else images
        labels = self._encode_labels(self.labels[picked])
        if self.batch_size is None:
            return images[0], labels[0]
        return images, labels

    def on_epoch_end(self):
        self._epoch += 1
        self._order = self._draw_order()

    def __iter__(self):
        for index in range(len(self)):
            yield self[index]
        self.on_epoch_end()

    def unbatch(self):
        """The same data as single examples (`batch_size=None`)."""
        out = ImageDataset.__new__(ImageDataset)
        out.__dict__.update(self.__dict__)
        out.batch_size = None
        return out


def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear",
                                 follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, verbose=True,
                                 **kwargs):
    """Batches of images (float32, 0-255, resized to `image_size`) and labels from a
    folder of class sub-folders; returns an `ImageDataset` (a pair of them for
    `subset='both'`).

    Labels: 'inferred' (from sub-folder names), None, or a list in the sorted order of
    the files. `label_mode`: 'int' (int32), 'categorical' (one-hot float32), 'binary'
    (float32, shape (batch, 1)) or None. The file order is shuffled once with `seed`
    before the `validation_split` is cut (the last fraction is the validation set).
    """
    kwargs.pop("format", None)
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple)):
        raise ValueError(
            "Expected labels to be 'inferred', None, or a list/tuple of integer labels. "
            f"Received: labels={labels!r}")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(
            "Expected label_mode to be 'int', 'categorical', 'binary' or None. "
            f"Received: label_mode={label_mode!r}")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    if color_mode not in ("rgb", "rgba", "grayscale"):
        raise ValueError(
            "Expected color_mode to be 'rgb', 'rgba' or 'grayscale'. "
            f"Received: color_mode={color_mode!r}")
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(
            f"Expected image_size to be (height, width). Received: image_size={image_size}")
    interpolation = interpolation.lower()
    if interpolation not in _DATASET_INTERPOLATIONS:
        raise ValueError(
            f"Expected interpolation to be one of {_DATASET_INTERPOLATIONS}. "
            f"Received: interpolation={interpolation!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Expected only one of crop_to_aspect_ratio and pad_to_aspect_ratio.")
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(
            f"Expected 0 < validation_split < 1. Received: validation_split={validation_split}")
    if bool(validation_split) != bool(subset):
        raise ValueError(
            "Expected validation_split and subset to be given together. Received: "
            f"validation_split={validation_split}, subset={subset!r}")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(
            "Expected subset to be 'training', 'validation', 'both' or None. "
            f"Received: subset={subset!r}")
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "Expected a seed when shuffling with validation_split, so that the training "
            "and validation subsets do not overlap. Received: seed=None")
    if seed is None:
        seed = int(np.random.randint(1_000_000))
    data_format = _resolve_format(data_format)

    paths, label_array, names = _index_directory(directory, labels, class_names, follow_links)
    if verbose:
        if label_array is None:
            print(f"Found {len(paths)} files.")
        else:
            print(f"Found {len(paths)} files belonging to {len(names)} classes.")
    if label_mode == "binary" and len(names) != 2:
        raise ValueError(
            "Expected exactly 2 classes for label_mode='binary'. "
            f"Received: class_names={names}")
    if shuffle:
        order = np.random.RandomState(seed).permutation(len(paths))
        paths = [paths[i] for i in order]
        if label_array is not None:
            label_array = label_array[order]

    def make(part_paths, part_labels, part_shuffle):
        if not part_paths:
            raise ValueError(
                f"No images found in directory {directory}. Allowed formats: "
                f"{IMAGE_DATASET_FORMATS}")
        return ImageDataset(part_paths, part_labels, names, label_mode, batch_size,
                            image_size, color_mode, interpolation, data_format,
                            crop_to_aspect_ratio, pad_to_aspect_ratio, part_shuffle, seed)

    def split(which):
        if not validation_split:
            return paths, label_array
        n_val = int(validation_split * len(paths))
        part = slice(len(paths) - n_val, None) if which == "validation" \
            else slice(None, len(paths) - n_val)
        if verbose:
            print(f"Using {len(paths[part])} files for {which}.")
        return paths[part], None if label_array is None else label_array[part]

    if subset == "both":
        return (make(*split("training"), shuffle), make(*split("validation"), False))
    return make(*split(subset), shuffle)
