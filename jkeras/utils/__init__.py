"""Utilities users import from `keras.utils`.

The model-level tools Keras 2 also lists here (`multi_gpu_model`, `plot_model`,
`model_to_dot` and the `vis_utils` module) import the engine, and the image and sequence
helpers Keras 3 lists here (`load_img`, `pad_sequences`, ...) live in
`jkeras.preprocessing`, which imports modules of this package: `jkeras/__init__.py` adds
them to this namespace once everything is loaded, so that importing
`jkeras.utils.conv_utils` from a low module loads neither."""
import random as _random

import numpy as _np

from jkeras import _config
from jkeras._config import enable_op_determinism
from jkeras.serialization.object_registry import (
    CustomObjectScope, custom_object_scope, get_custom_objects, get_registered_name,
    get_registered_object, register_keras_serializable)
from jkeras.utils import data_utils, generic_utils, np_utils
from jkeras.utils.data_utils import PyDataset, Sequence, get_file, validate_file
from jkeras.utils.enqueuers import GeneratorEnqueuer, OrderedEnqueuer
from jkeras.utils.generic_utils import Progbar, deserialize_keras_object, serialize_keras_object
from jkeras.utils.layer_utils import get_source_inputs, print_summary
from jkeras.utils.np_utils import normalize, to_categorical

# The last ten are added by jkeras/__init__.py (see above).
__all__ = ["enable_op_determinism", "CustomObjectScope", "custom_object_scope",
           "get_custom_objects", "get_registered_name", "get_registered_object",
           "register_keras_serializable", "data_utils", "generic_utils", "np_utils",
           "PyDataset", "Sequence", "get_file", "validate_file", "GeneratorEnqueuer",
           "OrderedEnqueuer", "Progbar", "deserialize_keras_object",
           "serialize_keras_object", "get_source_inputs", "print_summary", "normalize",
           "to_categorical", "set_random_seed", "multi_gpu_model", "plot_model",
           "model_to_dot", "vis_utils", "array_to_img", "image_dataset_from_directory",
           "img_to_array", "load_img", "save_img", "pad_sequences"]


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
