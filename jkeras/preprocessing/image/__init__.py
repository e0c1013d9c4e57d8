"""Image preprocessing on the host, in NumPy: Keras's `keras.preprocessing.image`.

`files` (load, save, convert), `resize` (`smart_resize`), `affine` (the random and
explicit transforms), `image_data_generator` (`ImageDataGenerator`), `iterator` and
`file_iterators` (the batch iterators its `flow*` methods return) and `dataset`
(`image_dataset_from_directory`). Every Keras name imports from this package.
"""
from jkeras.utils.data_utils import Sequence
from jkeras.preprocessing.image.files import array_to_img, img_to_array, load_img, save_img
from jkeras.preprocessing.image.resize import resize_array, smart_resize
from jkeras.preprocessing.image.affine import (
    apply_affine_transform, apply_brightness_shift, apply_channel_shift, flip_axis,
    random_brightness, random_channel_shift, random_rotation, random_shear, random_shift,
    random_zoom, transform_matrix_offset_center)
from jkeras.preprocessing.image.iterator import Iterator, NumpyArrayIterator
from jkeras.preprocessing.image.file_iterators import DataFrameIterator, DirectoryIterator
from jkeras.preprocessing.image.image_data_generator import ImageDataGenerator
from jkeras.preprocessing.image.dataset import (IMAGE_DATASET_FORMATS, ImageDataset,
                                                image_dataset_from_directory)

__all__ = [
    "load_img", "img_to_array", "array_to_img", "save_img", "smart_resize", "resize_array",
    "apply_affine_transform", "apply_brightness_shift", "apply_channel_shift", "flip_axis",
    "random_brightness", "random_channel_shift", "random_rotation", "random_shear",
    "random_shift", "random_zoom", "transform_matrix_offset_center", "Iterator",
    "NumpyArrayIterator", "DirectoryIterator", "DataFrameIterator", "ImageDataGenerator",
    "ImageDataset", "image_dataset_from_directory", "IMAGE_DATASET_FORMATS", "Sequence",
]
