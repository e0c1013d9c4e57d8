"""Pure image functions on batches (channels-last inside): layout changes, affine
resampling with Keras's fill modes, the affine transforms of the random augmentation
layers, and resizing. The preprocessing layers (layers/preprocessing.py) are built on
them."""
import jax
import jax.numpy as jnp

from jkeras import _config

__all__ = ["FILL_MODES", "AFFINE_INTERPOLATIONS", "RESIZE_INTERPOLATIONS", "to_nhwc",
           "image_size", "sample", "affine_transform", "rotation_transforms",
           "translation_transforms", "zoom_transforms", "resize_nhwc", "smart_resize_nhwc",
           "pad_to_aspect_nhwc", "aspect_crop_box"]


FILL_MODES = ("reflect", "wrap", "constant", "nearest", "mirror")
AFFINE_INTERPOLATIONS = ("nearest", "bilinear")
RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5")


def to_nhwc(images, data_format):
    """`images` (rank 3 or 4, in `data_format`) as a channels-last batch, and a function
    that turns a channels-last batch back into the caller's layout."""
    images = jnp.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(
            "Expected images of rank 3 (one image) or 4 (a batch). "
            f"Received: images.shape={images.shape}")
    single = images.ndim == 3
    x = images[None] if single else images
    if data_format == "channels_first":
        x = jnp.transpose(x, (0, 2, 3, 1))

    def restore(y):
        if data_format == "channels_first":
            y = jnp.transpose(y, (0, 3, 1, 2))
        return y[0] if single else y
    return x, restore


def image_size(shape, data_format):
    """(height, width) of an image or batch of images of `shape`."""
    if data_format == "channels_first":
        return shape[-2], shape[-1]
    return shape[-3], shape[-2]


def _fix_index(index, size, fill_mode):
    """Maps integer pixel indices outside [0, size) back inside, per `fill_mode`."""
    if fill_mode in ("constant", "nearest"):
        return jnp.clip(index, 0, size - 1)
    if fill_mode == "wrap":
        return jnp.mod(index, size)
    if fill_mode == "reflect":  # (d c b a | a b c d | d c b a)
        m = jnp.mod(index, 2 * size)
        return jnp.where(m < size, m, 2 * size - 1 - m)
    if size == 1:  # mirror: (d c b | a b c d | c b a)
        return jnp.zeros_like(index)
    period = 2 * size - 2
    m = jnp.mod(index, period)
    return jnp.where(m < size, m, period - m)


def sample(images, ys, xs, interpolation="bilinear", fill_mode="constant", fill_value=0.0):
    """Samples channels-last `images` (B, H, W, C) at fractional pixel rows `ys` and
    columns `xs` (each (B, H', W')); returns (B, H', W', C)."""
    batch, height, width, _ = images.shape
    b = jnp.arange(batch)[:, None, None]
    if interpolation == "nearest":
        corners = [(jax.lax.round(ys).astype(jnp.int32), jax.lax.round(xs).astype(jnp.int32),
                    None)]
    else:
        y0, x0 = jnp.floor(ys), jnp.floor(xs)
        wy, wx = ys - y0, xs - x0
        y0, x0 = y0.astype(jnp.int32), x0.astype(jnp.int32)
        corners = [(y0, x0, (1 - wy) * (1 - wx)), (y0, x0 + 1, (1 - wy) * wx),
                   (y0 + 1, x0, wy * (1 - wx)), (y0 + 1, x0 + 1, wy * wx)]
    fill = jnp.asarray(fill_value, images.dtype)
    out = None
    for iy, ix, weight in corners:
        values = images[b, _fix_index(iy, height, fill_mode), _fix_index(ix, width, fill_mode)]
        if fill_mode == "constant":
            valid = (iy >= 0) & (iy < height) & (ix >= 0) & (ix < width)
            values = jnp.where(valid[..., None], values, fill)
        term = values if weight is None else weight[..., None].astype(images.dtype) * values
        out = term if out is None else out + term
    return out


def affine_transform(images, transforms, interpolation="bilinear", fill_mode="constant",
                     fill_value=0.0, data_format=None):
    """Applies projective `transforms` (8 numbers `[a0, a1, a2, b0, b1, b2, c0, c1]` per
    image, or one for all) to `images`: output pixel (x, y) takes the input at
    `((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)` with `k = c0 x + c1 y + 1`."""
    data_format = _config.normalize_data_format(data_format)
    if interpolation not in AFFINE_INTERPOLATIONS:
        raise ValueError(f"Expected interpolation to be one of {AFFINE_INTERPOLATIONS}. "
                         f"Received: interpolation={interpolation!r}")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"Expected fill_mode to be one of {FILL_MODES}. "
                         f"Received: fill_mode={fill_mode!r}")
    x, restore = to_nhwc(images, data_format)
    batch, height, width, _ = x.shape
    t = jnp.broadcast_to(jnp.reshape(jnp.asarray(transforms, jnp.float32), (-1, 8)),
                         (batch, 8))
    rows, cols = jnp.meshgrid(jnp.arange(height, dtype=jnp.float32),
                              jnp.arange(width, dtype=jnp.float32), indexing="ij")
    a0, a1, a2, b0, b1, b2, c0, c1 = (t[:, i, None, None] for i in range(8))
    k = c0 * cols + c1 * rows + 1.0
    xs = (a0 * cols + a1 * rows + a2) / k
    ys = (b0 * cols + b1 * rows + b2) / k
    return restore(sample(x, ys, xs, interpolation, fill_mode, fill_value))


def rotation_transforms(angles, height, width):
    """Transforms rotating images by `angles` (radians, counter-clockwise) about their
    centre."""
    angles = jnp.asarray(angles, jnp.float32)
    cos, sin = jnp.cos(angles), jnp.sin(angles)
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    zeros = jnp.zeros_like(angles)
    return jnp.stack([cos, -sin, cx - cx * cos + cy * sin,
                      sin, cos, cy - cx * sin - cy * cos, zeros, zeros], axis=-1)


def translation_transforms(dx, dy):
    """Transforms shifting images right by `dx` and down by `dy` pixels."""
    dx, dy = jnp.asarray(dx, jnp.float32), jnp.asarray(dy, jnp.float32)
    ones, zeros = jnp.ones_like(dx), jnp.zeros_like(dx)
    return jnp.stack([ones, zeros, -dx, zeros, ones, -dy, zeros, zeros], axis=-1)


def zoom_transforms(zx, zy, height, width):
    """Transforms sampling a `zx` by `zy` fraction of the image about its centre (values
    below 1 zoom in)."""
    zx, zy = jnp.asarray(zx, jnp.float32), jnp.asarray(zy, jnp.float32)
    zeros = jnp.zeros_like(zx)
    return jnp.stack([zx, zeros, (width - 1) / 2.0 * (1.0 - zx),
                      zeros, zy, (height - 1) / 2.0 * (1.0 - zy), zeros, zeros], axis=-1)


def resize_nhwc(x, height, width, interpolation="bilinear", antialias=False):
    """Resizes a channels-last batch to (height, width) (half-pixel centres)."""
    if (x.shape[1], x.shape[2]) == (height, width):
        return x
    shape = (x.shape[0], height, width, x.shape[3])
    return jax.image.resize(x, shape, method=interpolation, antialias=antialias)


def aspect_crop_box(height, width, target_height, target_width):
    crop_height = max(min(height, int(float(width * target_height) / target_width)), 1)
    crop_width = max(min(width, int(float(height * target_width) / target_height)), 1)
    return (int(float(height - crop_height) / 2), int(float(width - crop_width) / 2),
            crop_height, crop_width)


def smart_resize_nhwc(x, height, width, interpolation="bilinear"):
    """Crops the largest centred window with the target aspect ratio, then resizes it."""
    top, left, h, w = aspect_crop_box(x.shape[1], x.shape[2], height, width)
    return resize_nhwc(x[:, top:top + h, left:left + w], height, width, interpolation)


def pad_to_aspect_nhwc(x, height, width, fill_value):
    in_h, in_w = x.shape[1], x.shape[2]
    pad_h = max(in_h, int(float(in_w * height) / width))
    pad_w = max(in_w, int(float(in_h * width) / height))
    top, left = int(float(pad_h - in_h) / 2), int(float(pad_w - in_w) / 2)
    # Keras 3 pads the same amount on both sides (an odd difference loses one row)
    widths = [(0, 0), (top, top), (left, left), (0, 0)]
    return jnp.pad(x, widths, constant_values=jnp.asarray(fill_value, x.dtype))
