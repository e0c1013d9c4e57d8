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
