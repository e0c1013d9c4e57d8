"""jkeras: the Keras API on JAX. `import jkeras as keras` and Keras 2 code runs as it is."""
from jkeras import _config

# Before anything can start jax's backend: JKERAS_DETERMINISTIC=1 sets XLA's flag in time.
_config.read_determinism_variable()

from jkeras import (activations, applications, backend, callbacks, config,  # noqa: E402
                    constraints, datasets, distribution, dtype_policies, initializers,
                    layers, losses, metrics, mixed_precision, models, optimizers,
                    preprocessing, regularizers, utils)
from jkeras.engine.input_layer import Input  # noqa: E402
from jkeras.engine.model import Model  # noqa: E402
from jkeras.engine.sequential import Sequential  # noqa: E402
from jkeras._version import __version__  # noqa: E402

__all__ = ["activations", "applications", "backend", "callbacks", "config", "constraints",
           "datasets", "distribution", "dtype_policies", "initializers", "layers", "losses",
           "metrics", "mixed_precision", "models", "optimizers", "preprocessing",
           "regularizers", "saving", "utils", "Input", "Model", "Sequential", "__version__"]
from jkeras import saving  # noqa: E402
from jkeras.saving import saving_api as _saving_api  # noqa: E402
from jkeras.utils import multi_gpu_utils as _multi_gpu_utils  # noqa: E402
from jkeras.utils import vis_utils as _vis_utils  # noqa: E402

# keras.utils's model-level tools and preprocessing helpers, and keras.saving's model
# functions, added here because they import the engine or jkeras.preprocessing (see
# jkeras/utils/__init__.py and jkeras/saving/__init__.py).
utils.vis_utils = _vis_utils
utils.multi_gpu_model = _multi_gpu_utils.multi_gpu_model
utils.plot_model = _vis_utils.plot_model
utils.model_to_dot = _vis_utils.model_to_dot
for _name in ("array_to_img", "image_dataset_from_directory", "img_to_array", "load_img",
              "save_img"):
    setattr(utils, _name, getattr(preprocessing.image, _name))
utils.pad_sequences = preprocessing.sequence.pad_sequences
for _name in ("clone_model", "load_model", "load_weights", "model_from_config",
              "model_from_json", "model_from_yaml", "save_model", "save_weights"):
    setattr(saving, _name, getattr(_saving_api, _name))
del _name
