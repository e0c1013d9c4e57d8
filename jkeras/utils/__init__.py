"""Utilities users import from `keras.utils`."""
import random as _random

import numpy as _np

from jkeras import _config
from jkeras._config import enable_op_determinism
from jkeras.serialization.object_registry import (
    CustomObjectScope, custom_object_scope, get_custom_objects, get_registered_name,
    get_registered_object, register_keras_serializable)
from jkeras.preprocessing.image import (array_to_img, image_dataset_from_directory,
                                        img_to_array, load_img, save_img)
from jkeras.preprocessing.sequence import pad_sequences
from jkeras.utils import data_utils, generic_utils, np_utils, vis_utils
from jkeras.utils.data_utils import PyDataset, Sequence, get_file, validate_file
from jkeras.utils.enqueuers import GeneratorEnqueuer, OrderedEnqueuer
from jkeras.utils.generic_utils import Progbar, deserialize_keras_object, serialize_keras_object
from jkeras.utils.layer_utils import get_source_inputs, print_summary
from jkeras.utils.multi_gpu_utils import multi_gpu_model
from jkeras.utils.np_utils import normalize, to_categorical
from jkeras.utils.vis_utils import model_to_dot, plot_model


def set_random_seed(seed):
    """Seeds Python's `random`, NumPy and jkeras, so a script's run repeats bit for bit.

    On CPU that is all it takes. On GPU the seed makes the random numbers the same (initial
    weights, dropout masks, shuffling), but some GPU kernels add numbers up in an order that
    changes from run to run, so two seeded runs can still drift apart in the last bits and
    then further. `enable_op_determinism()` (or JKERAS_DETERMINISTIC=1) makes that order
    fixed; with both, two runs of the same script on the same GPU and software end with
    bit-identical weights, losses and predictions::

        import jkeras as keras
        keras.utils.enable_op_determinism()  # before any computation
        keras.utils.set_random_seed(0)

    `set_random_seed` may be called at any time (it restarts the key stream); op
    determinism must be switched on before jax starts its backend.
    """
    if not isinstance(seed, int):
        raise ValueError(f"Expected `seed` argument to be an integer. Received: seed={seed!r}")
    _random.seed(seed)
    _np.random.seed(seed)
    _config.set_seed(seed)
