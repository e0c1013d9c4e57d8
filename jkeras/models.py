"""Model classes and model-level functions (Keras's `keras.models`)."""
from jkeras.engine.functional import Functional
from jkeras.engine.model import Model
from jkeras.engine.sequential import Sequential
