"""Model classes and model-level functions (Keras's `keras.models`)."""
from jkeras.engine.functional import Functional
from jkeras.engine.model import Model
from jkeras.engine.sequential import Sequential
from jkeras.saving.saving_api import (clone_model, load_model, model_from_config,
                                      model_from_json, model_from_yaml, save_model)

__all__ = ["Functional", "Model", "Sequential", "clone_model", "load_model",
           "model_from_config", "model_from_json", "model_from_yaml", "save_model"]
