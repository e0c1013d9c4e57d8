"""Preprocessing layers that run inside the model graph: Rescaling, Normalization (with
`adapt`), Resizing, CenterCrop, and the training-only augmentations RandomFlip,
RandomRotation, RandomZoom, RandomTranslation and RandomCrop (the pure image functions
they are built on are in layers/image_ops.py)."""
import math

import jax
import jax.numpy as jnp
import numpy as np

from jkeras import _config
from jkeras.engine.base_layer import Layer
from jkeras.layers import arguments
from jkeras.layers.arguments import require_key
from jkeras.layers.image_ops import (  # noqa: F401 - the helpers were importable from here
    AFFINE_INTERPOLATIONS, FILL_MODES, RESIZE_INTERPOLATIONS, affine_transform,
    aspect_crop_box, image_size, pad_to_aspect_nhwc, resize_nhwc, rotation_transforms,
    sample, smart_resize_nhwc, to_nhwc, translation_transforms, zoom_transforms)

__all__ = ["Rescaling", "Normalization", "Resizing", "CenterCrop", "RandomCrop",
           "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation"]


# ---------------------------------------------------------------------- shared plumbing
def _factor_range(factor, name, owner, bounded=True):
    """`factor` as (lower, upper): a number f means (-f, f)."""
    if isinstance(factor, (list, tuple)):
        if len(factor) != 2:
            raise ValueError(
                f"{owner}: expected `{name}` to be a number or a pair (lower, upper). "
                f"Received: {name}={factor!r}")
        lower, upper = float(factor[0]), float(factor[1])
    else:
        lower, upper = -float(factor), float(factor)
    if upper < lower:
        raise ValueError(
            f"{owner}: expected `{name}` as (lower, upper) with lower <= upper. "
            f"Received: {name}={factor!r}")
    if bounded and (abs(lower) > 1 or abs(upper) > 1):
        raise ValueError(
            f"{owner}: expected `{name}` values between -1 and 1. Received: {name}={factor!r}")
    return lower, upper


def _json_number(value):
    if isinstance(value, (list, tuple)):
        return [_json_number(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _height_width(layer, height, width):
    owner = arguments.owner_of(layer)
    return (arguments.positive_int(height, "height", owner),
            arguments.positive_int(width, "width", owner))


class _ImageLayer(Layer):
    """Image layers take rank-3 or rank-4 inputs in `data_format` and cast them to the
    layer's dtype."""

    def __init__(self, data_format=None, **kwargs):
        data_format = arguments.data_format(data_format, arguments.owner_of(self))
        super().__init__(**kwargs)
        self.data_format = data_format

    def _images(self, inputs):
        x = jnp.asarray(inputs)
        dtype = jnp.dtype(self.compute_dtype)
        return x.astype(dtype) if x.dtype != dtype else x

    def _format_config(self, config):
        if self.data_format == "channels_first":  # Keras 2 configs have no such key
            config["data_format"] = self.data_format
        return config


class _RandomAffine(_ImageLayer):
    """Random per-image affine augmentation in training; the identity at inference."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        owner = f"{type(self).__name__} {self.name}"
        self.fill_mode = arguments.choice(fill_mode, FILL_MODES, "fill_mode", owner)
        self.interpolation = arguments.choice(interpolation, AFFINE_INTERPOLATIONS,
                                           "interpolation", owner)
        self.seed = seed
        self.fill_value = float(fill_value)

    def _transforms(self, key, batch, height, width):
        raise NotImplementedError

    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        x = self._images(inputs)
        if not training:
            return x, variables["state"]
        key = require_key(self, key)
        height, width = image_size(x.shape, self.data_format)
        batch = x.shape[0] if x.ndim == 4 else 1
        transforms = self._transforms(key, batch, height, width)
        return affine_transform(x, transforms, self.interpolation, self.fill_mode,
                                self.fill_value, self.data_format), variables["state"]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"fill_mode": self.fill_mode, "fill_value": self.fill_value,
                       "interpolation": self.interpolation, "seed": self.seed})
        return self._format_config(config)


# ---------------------------------------------------------------------- value layers
class Rescaling(Layer):
    """`inputs * scale + offset` (e.g. `scale=1/255` maps [0, 255] to [0, 1])."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = _json_number(scale)
        self.offset = _json_number(offset)
        self.supports_masking = True
        self._channels_first = _config.image_data_format() == "channels_first"

    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        x = jnp.asarray(inputs).astype(self.compute_dtype)
        scale = jnp.asarray(self.scale, self.compute_dtype)
        offset = jnp.asarray(self.offset, self.compute_dtype)
        if scale.ndim > 0 and self._channels_first:
            scale = jnp.reshape(scale, scale.shape + (1,) * (3 - scale.ndim))
        return x * scale + offset, variables["state"]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale, "offset": self.offset})
        return config


class Normalization(Layer):
    """`(inputs - mean) / sqrt(variance)` per position of the kept `axis` (`invert=True`
    undoes it). Statistics come from the `mean`/`variance` arguments or from `adapt(data)`,
    which stores them as the non-trainable weights `mean`, `variance` and `count`."""

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        owner = f"Normalization {self.name}"
        if axis is None:
            axis = ()
        elif isinstance(axis, (int, np.integer)):
            axis = (int(axis),)
        else:
            axis = tuple(int(a) for a in axis)
        self.axis = axis
        if (mean is None) != (variance is None):
            raise ValueError(
                f"{owner}: when setting values directly, both `mean` and `variance` must "
                f"be set. Received: mean={mean}, variance={variance}")
        if mean is not None and np.shape(mean) != np.shape(variance):
            raise ValueError(
                f"{owner}: `mean` and `variance` must have the same shape. Received: "
                f"mean shape {np.shape(mean)}, variance shape {np.shape(variance)}")
        self.input_mean = _json_number(mean)
        self.input_variance = _json_number(variance)
        self.invert = bool(invert)
        self.supports_masking = True
        self._epsilon = _config.epsilon()

    def _keep_axes(self, ndim):
        for a in self.axis:
            if not -ndim <= a < ndim:
                raise ValueError(
                    f"Normalization {self.name}: all `axis` values must be in the range "
                    f"[-ndim, ndim) for inputs of ndim={ndim}. Received: axis={self.axis}")
        return tuple(sorted(a % ndim for a in self.axis))

    def init(self, key, input_shape):
        keep = self._keep_axes(len(input_shape))
        shape = tuple(input_shape[d] for d in keep)
        if any(d is None for d in shape):
            raise ValueError(
                f"Normalization {self.name}: the kept axes {self.axis} must have a known "
                f"size. Received input shape: {tuple(input_shape)}")
        if self.input_mean is not None:
            return {"params": {}, "state": {}}
        return {"params": {}, "state": {"mean": jnp.zeros(shape, self.dtype),
                                        "variance": jnp.ones(shape, self.dtype),
                                        "count": jnp.zeros((), jnp.int32)}}

    def _statistics(self, state, shape):
        keep = self._keep_axes(len(shape))
        broadcast = [shape[d] if d in keep else 1 for d in range(len(shape))]
        if self.input_mean is None:
            return (jnp.reshape(state["mean"].astype(self.compute_dtype), broadcast),
                    jnp.reshape(state["variance"].astype(self.compute_dtype), broadcast))
        stats = []
        for value in (self.input_mean, self.input_variance):
            value = jnp.asarray(value, self.compute_dtype)
            if value.ndim:
                expanded = [1] * len(shape)
                for i in range(1, value.ndim + 1):
                    expanded[keep[-i]] = value.shape[-i]
                value = jnp.reshape(value, expanded)
            stats.append(jnp.broadcast_to(value, broadcast))
        return tuple(stats)

    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        x = jnp.asarray(inputs).astype(self.compute_dtype)
        mean, variance = self._statistics(variables["state"], x.shape)
        std = jnp.maximum(jnp.sqrt(variance), self._epsilon)
        outputs = mean + x * std if self.invert else (x - mean) / std
        return outputs, variables["state"]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def adapt(self, data, batch_size=None, steps=None):
        """Sets `mean`, `variance` and `count` from `data`: an array, or an iterable of
        batches (arrays, or tuples whose first item is the input batch)."""
        if self.input_mean is not None:
            raise ValueError(
                f"Normalization {self.name}: cannot adapt a layer created with explicit "
                "`mean` and `variance`.")
        if hasattr(data, "shape") and hasattr(data, "dtype"):
            batches = [np.asarray(data)]
        else:
            batches = (np.asarray(b[0] if isinstance(b, (tuple, list)) else b)
                       for b in data)
        total_mean = total_var = None
        total_count = 0
        for step, batch in enumerate(batches):
            if steps is not None and step >= steps:
                break
            keep = self._keep_axes(batch.ndim)
            if not self.built:
                shape = tuple(d if i in keep else None for i, d in enumerate(batch.shape))
                self.build_from_shape(shape)
            expected = self._build_input_shape
            for d in keep:
                if expected[d] is not None and batch.shape[d] != expected[d]:
                    raise ValueError(
                        f"Normalization {self.name}: the layer was built for input shape "
                        f"{tuple(expected)}, but adapt() received data of shape "
                        f"{batch.shape}.")
            reduce = tuple(d for d in range(batch.ndim) if d not in keep)
            batch = batch.astype(np.float64)
            mean, var = batch.mean(axis=reduce), batch.var(axis=reduce)
            count = int(np.prod([batch.shape[d] for d in reduce])) if reduce else 1
            if total_mean is None:
                total_mean, total_var, total_count = mean, var, count
                continue
            new_count = total_count + count
            w_new = count / new_count
            w_old = 1.0 - w_new
            merged = total_mean * w_old + mean * w_new
            total_var = (total_var + (total_mean - merged) ** 2) * w_old + \
                (var + (mean - merged) ** 2) * w_new
            total_mean, total_count = merged, new_count
        if total_mean is None:
            raise ValueError(f"Normalization {self.name}: adapt() received no data.")
        variables = self._get_vars()
        state = dict(variables["state"])
        state["mean"] = jnp.asarray(total_mean, state["mean"].dtype)
        state["variance"] = jnp.asarray(total_var, state["variance"].dtype)
        state["count"] = jnp.asarray(total_count, state["count"].dtype)
        self._set_vars({"params": variables["params"], "state": state})

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "mean": self.input_mean,
                       "variance": self.input_variance, "invert": self.invert})
        return config


# ---------------------------------------------------------------------- resizing and crops
class Resizing(_ImageLayer):
    """Resizes images to (height, width), optionally cropping or padding to the target
    aspect ratio first."""

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        owner = f"Resizing {self.name}"
        self.height, self.width = _height_width(self, height, width)
        self.interpolation = arguments.choice(interpolation, RESIZE_INTERPOLATIONS,
                                           "interpolation", owner)
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(
                f"{owner}: only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` "
                "can be True.")
        arguments.choice(fill_mode, ("constant",), "fill_mode", owner)
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode = fill_mode
        self.fill_value = float(fill_value)
        self.antialias = bool(antialias)

    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        x, restore = to_nhwc(self._images(inputs), self.data_format)
        if self.crop_to_aspect_ratio:
            top, left, h, w = aspect_crop_box(x.shape[1], x.shape[2], self.height,
                                               self.width)
            x = x[:, top:top + h, left:left + w]
        elif self.pad_to_aspect_ratio:
            x = pad_to_aspect_nhwc(x, self.height, self.width, self.fill_value)
        x = resize_nhwc(x, self.height, self.width, self.interpolation, self.antialias)
        return restore(x), variables["state"]

    def get_config(self):
        config = super().get_config()
        config.update({"height": self.height, "width": self.width,
                       "interpolation": self.interpolation,
                       "crop_to_aspect_ratio": self.crop_to_aspect_ratio})
        if self.pad_to_aspect_ratio:
            config.update({"pad_to_aspect_ratio": True, "fill_mode": self.fill_mode,
                           "fill_value": self.fill_value})
        if self.antialias:
            config["antialias"] = True
        return self._format_config(config)


class CenterCrop(_ImageLayer):
    """Crops the central (height, width) window; smaller images are first cropped to the
    target aspect ratio and resized up."""

    def __init__(self, height, width, data_format=None, **kwargs):
        height, width = _height_width(self, height, width)
        super().__init__(data_format=data_format, **kwargs)
        self.height, self.width = height, width

    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        x, restore = to_nhwc(self._images(inputs), self.data_format)
        h_diff, w_diff = x.shape[1] - self.height, x.shape[2] - self.width
        if h_diff >= 0 and w_diff >= 0:
            top, left = h_diff // 2, w_diff // 2
            x = x[:, top:top + self.height, left:left + self.width]
        else:
            x = smart_resize_nhwc(x, self.height, self.width)
        return restore(x), variables["state"]

    def get_config(self):
        config = super().get_config()
        config.update({"height": self.height, "width": self.width})
        return self._format_config(config)


class RandomCrop(_ImageLayer):
    """In training, crops one random (height, width) window from the batch; at inference
    (or for images smaller than the target) crops the largest centred window with the
    target aspect ratio and resizes it, as Keras 2 does."""

    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        height, width = _height_width(self, height, width)
        super().__init__(data_format=data_format, **kwargs)
        self.height, self.width = height, width
        self.seed = seed

    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        x, restore = to_nhwc(self._images(inputs), self.data_format)
        h_diff, w_diff = x.shape[1] - self.height, x.shape[2] - self.width
        if training and h_diff >= 0 and w_diff >= 0:
            k1, k2 = jax.random.split(require_key(self, key))
            top = jax.random.randint(k1, (), 0, h_diff + 1)
            left = jax.random.randint(k2, (), 0, w_diff + 1)
            x = jax.lax.dynamic_slice(x, (0, top, left, 0),
                                      (x.shape[0], self.height, self.width, x.shape[3]))
        else:
            x = smart_resize_nhwc(x, self.height, self.width)
        return restore(x), variables["state"]

    def get_config(self):
        config = super().get_config()
        config.update({"height": self.height, "width": self.width, "seed": self.seed})
        return self._format_config(config)


# ---------------------------------------------------------------------- random augmentations
class RandomFlip(_ImageLayer):
    """In training, flips each image left-right and/or upside down with probability 1/2."""

    _MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None,
                 **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.mode = arguments.choice(mode, self._MODES, "mode", f"RandomFlip {self.name}")
        self.seed = seed

    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        x = self._images(inputs)
        if not training:
            return x, variables["state"]
        kh, kv = jax.random.split(require_key(self, key))
        x4, restore = to_nhwc(x, self.data_format)
        flip_shape = (x4.shape[0], 1, 1, 1)
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            flip = jax.random.bernoulli(kh, 0.5, flip_shape)
            x4 = jnp.where(flip, x4[:, :, ::-1], x4)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            flip = jax.random.bernoulli(kv, 0.5, flip_shape)
            x4 = jnp.where(flip, x4[:, ::-1], x4)
        return restore(x4), variables["state"]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"mode": self.mode, "seed": self.seed})
        return self._format_config(config)


class RandomRotation(_RandomAffine):
    """In training, rotates each image by a random angle of `factor * 2pi` radians, with
    `factor` drawn uniformly from (lower, upper) (a number f means (-f, f))."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, **kwargs)
        self.factor = _json_number(factor)
        self.lower, self.upper = _factor_range(factor, "factor",
                                               f"RandomRotation {self.name}", bounded=False)

    def _transforms(self, key, batch, height, width):
        angles = jax.random.uniform(key, (batch,), minval=self.lower * 2 * math.pi,
                                    maxval=self.upper * 2 * math.pi)
        return rotation_transforms(angles, height, width)

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config


class RandomZoom(_RandomAffine):
    """In training, zooms each image by a random factor: a height_factor (or width_factor)
    value f gives a zoom of `1 + f` of the image's extent (negative values zoom in)."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, **kwargs)
        owner = f"RandomZoom {self.name}"
        self.height_factor = _json_number(height_factor)
        self.width_factor = _json_number(width_factor)
        self.height_lower, self.height_upper = _factor_range(height_factor, "height_factor",
                                                             owner)
        if width_factor is not None:
            self.width_lower, self.width_upper = _factor_range(width_factor, "width_factor",
                                                               owner)

    def _transforms(self, key, batch, height, width):
        k1, k2 = jax.random.split(key)
        zy = jax.random.uniform(k1, (batch,), minval=1.0 + self.height_lower,
                                maxval=1.0 + self.height_upper)
        if self.width_factor is None:
            zx = zy
        else:
            zx = jax.random.uniform(k2, (batch,), minval=1.0 + self.width_lower,
                                    maxval=1.0 + self.width_upper)
        return zoom_transforms(zx, zy, height, width)

    def get_config(self):
        config = super().get_config()
        config.update({"height_factor": self.height_factor,
                       "width_factor": self.width_factor})
        return config


class RandomTranslation(_RandomAffine):
    """In training, shifts each image by a random fraction of its height and width."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, **kwargs)
        owner = f"RandomTranslation {self.name}"
        self.height_factor = _json_number(height_factor)
        self.width_factor = _json_number(width_factor)
        self.height_lower, self.height_upper = _factor_range(height_factor, "height_factor",
                                                             owner)
        self.width_lower, self.width_upper = _factor_range(width_factor, "width_factor",
                                                           owner)

    def _transforms(self, key, batch, height, width):
        k1, k2 = jax.random.split(key)
        dy = jax.random.uniform(k1, (batch,), minval=self.height_lower,
                                maxval=self.height_upper) * height
        dx = jax.random.uniform(k2, (batch,), minval=self.width_lower,
                                maxval=self.width_upper) * width
        return translation_transforms(dx, dy)

    def get_config(self):
        config = super().get_config()
        config.update({"height_factor": self.height_factor,
                       "width_factor": self.width_factor})
        return config
