"""The object registry, object (de)serialization and safe mode: how configs name classes.

This package imports no file format and nothing above it in jkeras (no layers, no engine),
so every module that reads or writes configs can import it. The file formats that use it
live in `jkeras.saving`.
"""
from jkeras.serialization.object_registry import (
    CustomObjectScope, custom_object_scope, get_custom_objects, get_registered_name,
    get_registered_object, register_keras_serializable)
from jkeras.serialization.safe_mode import SafeModeScope, enable_unsafe_deserialization
from jkeras.serialization.serialize import deserialize_keras_object, serialize_keras_object

__all__ = ["CustomObjectScope", "SafeModeScope", "custom_object_scope",
           "deserialize_keras_object", "enable_unsafe_deserialization", "get_custom_objects",
           "get_registered_name", "get_registered_object", "register_keras_serializable",
           "serialize_keras_object"]
