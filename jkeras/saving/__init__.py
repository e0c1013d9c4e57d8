"""Saving and loading: the object registry, configs, HDF5 files and msgpack checkpoints."""
from jkeras.saving.object_registry import (
    CustomObjectScope, custom_object_scope, get_custom_objects, get_registered_name,
    get_registered_object, register_keras_serializable)
from jkeras.saving.serialization import deserialize_keras_object, serialize_keras_object
