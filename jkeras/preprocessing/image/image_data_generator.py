"""`ImageDataGenerator`: Keras's random image augmentation, and the `flow*` methods that
hand out its batch iterators.

Everything runs on the host in NumPy; batches come out as NumPy arrays for the trainer to
feed. Randomness comes from NumPy: a `seed` makes a flow repeat exactly; without one,
NumPy's global generator is used, as in Keras.
"""
import math
import warnings

import numpy as np

from jkeras import _config
from jkeras.preprocessing.image.affine import (FILL_MODES, apply_affine_transform,
                                               apply_brightness_shift, apply_channel_shift,
                                               flip_axis)
from jkeras.preprocessing.image.file_iterators import DataFrameIterator, DirectoryIterator
from jkeras.preprocessing.image.files import resolve_format
from jkeras.preprocessing.image.iterator import NumpyArrayIterator, as_rng

__all__ = ["ImageDataGenerator"]


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
        data_format = resolve_format(data_format)
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
        if fill_mode not in FILL_MODES:
            raise ValueError(
                f"Expected fill_mode to be one of {FILL_MODES}. "
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
        rng = as_rng(seed)
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
        rng = as_rng(seed)
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
