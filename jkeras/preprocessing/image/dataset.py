"""`image_dataset_from_directory`: a labelled dataset of images in subfolders, read in
batches by `ImageDataset` (a `Sequence`)."""
import os

import numpy as np

from jkeras.utils.data_utils import Sequence
from jkeras.preprocessing.image.file_iterators import list_class_files, walk_image_files
from jkeras.preprocessing.image.files import load_img, resolve_format
from jkeras.preprocessing.image.resize import center_crop_box, resize_array

__all__ = ["image_dataset_from_directory", "ImageDataset", "IMAGE_DATASET_FORMATS"]


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
            files = list_class_files(os.path.join(directory, name), IMAGE_DATASET_FORMATS,
                                      None, follow_links)
            paths += [os.path.join(directory, f) for f in files]
            found_labels += [index] * len(files)
        return paths, np.asarray(found_labels, dtype="int32"), list(subdirs)
    if class_names is not None:
        raise ValueError(
            "Expected class_names only with labels='inferred'. Received: "
            f"labels={labels!r}, class_names={class_names}")
    paths = [os.path.join(root, name)
             for root, name in walk_image_files(directory, IMAGE_DATASET_FORMATS, follow_links)]
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
        top, left, crop_h, crop_w = center_crop_box(x.shape[0], x.shape[1], *image_size)
        x = x[top:top + crop_h, left:left + crop_w]
    elif pad_to_aspect_ratio:
        x = _pad_to_aspect(x, image_size)
    x = resize_array(x, image_size, interpolation)
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
    data_format = resolve_format(data_format)

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
