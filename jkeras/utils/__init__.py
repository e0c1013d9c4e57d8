"""Utilities users import from `keras.utils`."""
import random as _random

import numpy as _np

from jkeras import _config
from jkeras.saving.object_registry import (CustomObjectScope, custom_object_scope,
                                           get_custom_objects, get_registered_name,
                                           get_registered_object, register_keras_serializable)
from jkeras.preprocessing.image import (array_to_img, image_dataset_from_directory,
                                        img_to_array, load_img, save_img)
from jkeras.preprocessing.sequence import pad_sequences
from jkeras.utils import data_utils, np_utils
from jkeras.utils.data_utils import PyDataset, Sequence, get_file, validate_file
from jkeras.utils.generic_utils import Progbar
from jkeras.utils.layer_utils import get_source_inputs, print_summary
from jkeras.utils.np_utils import normalize, to_categorical


def set_random_seed(seed):
    """Seeds Python's `random`, NumPy and jkeras, so a script's run repeats bit for bit."""
    if not isinstance(seed, int):
        raise ValueError(f"Expected `seed` argument to be an integer. Received: seed={seed!r}")
    _random.seed(seed)
    _np.random.seed(seed)
    _config.set_seed(seed)
