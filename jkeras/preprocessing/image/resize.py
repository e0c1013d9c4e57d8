"""Resizing image arrays on the host: bilinear and nearest in NumPy, the other methods
through Pillow, and `smart_resize` (crop to the target's aspect ratio, then resize)."""
import numpy as np

from jkeras.preprocessing.image.files import PIL_INTERPOLATION, pil_image, require_pil

__all__ = ["smart_resize", "resize_array"]


def linear_taps(coords, size):
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
    r0, r1, fr = linear_taps(rows, in_h)
    c0, c1, fc = linear_taps(cols, in_w)
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


def resize_array(x, size, interpolation="bilinear"):
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
        require_pil(f"interpolation={interpolation!r}")
        resample = PIL_INTERPOLATION[_PIL_FALLBACK[interpolation]]
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


def center_crop_box(height, width, target_height, target_width):
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
    top, left, crop_h, crop_w = center_crop_box(x.shape[-3], x.shape[-2], *size)
    x = x[..., top:top + crop_h, left:left + crop_w, :]
    if x.ndim == 4:
        out = np.stack([resize_array(img, size, interpolation) for img in x])
    else:
        out = resize_array(x, size, interpolation)
    return np.moveaxis(out, -1, -3) if channels_first else out
