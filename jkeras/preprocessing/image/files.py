"""Image files and arrays: `load_img`, `save_img`, `img_to_array`, `array_to_img`
(Pillow reads and writes files; arrays are NumPy)."""
import io
import os
import pathlib
import warnings

import numpy as np

from jkeras import _config

__all__ = ["load_img", "img_to_array", "array_to_img", "save_img", "pil_image",
           "ImageEnhance", "PIL_INTERPOLATION", "require_pil", "resolve_format"]

try:
    from PIL import Image as pil_image
    from PIL import ImageEnhance
except ImportError:  # pragma: no cover - Pillow is a dependency of the image helpers
    pil_image = None
    ImageEnhance = None

if pil_image is not None:
    _RESAMPLING = getattr(pil_image, "Resampling", pil_image)
    PIL_INTERPOLATION = {
        "nearest": _RESAMPLING.NEAREST,
        "bilinear": _RESAMPLING.BILINEAR,
        "bicubic": _RESAMPLING.BICUBIC,
        "hamming": _RESAMPLING.HAMMING,
        "box": _RESAMPLING.BOX,
        "lanczos": _RESAMPLING.LANCZOS,
    }
else:  # pragma: no cover
    PIL_INTERPOLATION = {}


def require_pil(what):
    """Raises ImportError naming `what` when Pillow is not installed."""
    if pil_image is None:
        raise ImportError(f"{what} requires Pillow (`pip install pillow`).")


def resolve_format(data_format):
    """'channels_first' or 'channels_last': `data_format`, or the global setting for None."""
    return _config.normalize_data_format(data_format)


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
    require_pil("load_img")
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
            if interpolation not in PIL_INTERPOLATION:
                raise ValueError(
                    f"Expected interpolation to be one of {sorted(PIL_INTERPOLATION)}. "
                    f"Received: interpolation={interpolation!r}")
            resample = PIL_INTERPOLATION[interpolation]
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
    data_format = resolve_format(data_format)
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
    require_pil("array_to_img")
    data_format = resolve_format(data_format)
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
