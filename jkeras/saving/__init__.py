"""Saving and loading: HDF5 files, `.keras` archives and msgpack checkpoints.

The object registry and safe mode live in `jkeras.serialization`; they are re-exported here
under the names Keras 3 gives them in `keras.saving`. The model functions (`load_model`,
`save_model`, ...) build and read models, so they import the engine, which imports this
package's file formats: `jkeras/__init__.py` adds them to this namespace once everything is
loaded (`jkeras.saving.saving_api` holds them).
"""
from jkeras.serialization.object_registry import (
    CustomObjectScope, custom_object_scope, get_custom_objects, get_registered_name,
    get_registered_object, register_keras_serializable)
from jkeras.serialization.serialize import deserialize_keras_object, serialize_keras_object
from jkeras.serialization.safe_mode import SafeModeScope, enable_unsafe_deserialization
from jkeras.saving.checkpoint import load_checkpoint, save_checkpoint
from jkeras.saving.file_guard import DamagedFileError
from jkeras._config import load_guard, set_load_guard

__all__ = [
    "CustomObjectScope", "custom_object_scope", "get_custom_objects", "get_registered_name",
    "get_registered_object", "register_keras_serializable", "deserialize_keras_object",
    "serialize_keras_object", "SafeModeScope", "enable_unsafe_deserialization",
    "load_checkpoint", "save_checkpoint", "DamagedFileError", "load_guard", "set_load_guard",
    "clone_model", "load_model", "load_weights", "model_from_config", "model_from_json",
    "model_from_yaml", "save_model", "save_weights",
]
