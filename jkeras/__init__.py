"""jkeras: the Keras API on JAX. `import jkeras as keras` and Keras 2 code runs as it is."""
from jkeras import (activations, applications, backend, callbacks, constraints, datasets,
                    initializers, layers, losses, metrics, models, optimizers, preprocessing,
                    regularizers, utils)
from jkeras.engine.input_layer import Input
from jkeras.engine.model import Model
from jkeras.engine.sequential import Sequential

__version__ = "0.1.0"
