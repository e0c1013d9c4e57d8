"""Turning objects into `{'class_name', 'config'}` dicts and back, through the registry.

Both the Keras 2 form (`class_name` + `config`) and the Keras 3 form (which adds `module`
and `registered_name`) are read; `module` is never imported, only ignored.
"""
import inspect

from jkeras.serialization.object_registry import get_registered_name, get_registered_object

__all__ = ["serialize_keras_object", "class_and_config", "deserialize_keras_object",
           "deserialize_instance", "get_object"]


def serialize_keras_object(obj):
    """Keras 2 layout: `None`, a plain value, a function's name, or class_name + config."""
    if obj is None:
        return None
    if isinstance(obj, (str, int, float, bool, list, tuple, dict)):
        return obj
    if hasattr(obj, "get_config"):
        return {"class_name": get_registered_name(type(obj)), "config": obj.get_config()}
    if callable(obj) and hasattr(obj, "__name__"):
        return get_registered_name(obj)
    raise ValueError(f"Cannot serialize {obj!r}: it has no get_config() and no name.")


def class_and_config(config):
    """Splits a serialized dict into (name, config), accepting Keras 2 and Keras 3 forms."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "Expected a dict with 'class_name' and 'config' keys. Received: "
            f"{config!r:.200}")
    name = config.get("registered_name") or config["class_name"]
    if config.get("module") in (None, "builtins") and config["class_name"] == "function":
        name = config["config"]
    return name, config["class_name"], config.get("config", {})


def deserialize_keras_object(identifier, module_objects=None, custom_objects=None,
                             printable_module_name="object"):
    """Rebuilds an object from a name or a serialized dict, never importing anything."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        obj = get_registered_object(identifier, custom_objects, module_objects)
        if obj is None:
            raise ValueError(
                f"Unknown {printable_module_name}: '{identifier}'. Please ensure you are "
                "using a `keras.utils.custom_object_scope` and that this object is "
                "included in the scope (or pass it in `custom_objects`).")
        return obj
    if isinstance(identifier, dict):
        registered, class_name, inner = class_and_config(identifier)
        cls = None
        for candidate in (registered, class_name):
            if isinstance(candidate, str):
                cls = get_registered_object(candidate, custom_objects, module_objects)
                if cls is not None:
                    break
        if cls is None:
            raise ValueError(
                f"Unknown {printable_module_name}: '{class_name}'. Please ensure you are "
                "using a `keras.utils.custom_object_scope` and that this object is "
                "included in the scope (or pass it in `custom_objects`).")
        if not isinstance(cls, type):  # a plain function serialized as Keras 3 'function'
            return cls
        if hasattr(cls, "from_config"):
            if "custom_objects" in inspect.signature(cls.from_config).parameters:
                return cls.from_config(inner, custom_objects=custom_objects)
            return cls.from_config(inner)
        return cls(**inner)
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret {printable_module_name} identifier: {identifier!r}")


def deserialize_instance(config, module_objects, custom_objects=None,
                         printable_module_name="object", factories=()):
    """`deserialize_keras_object`, then calling what it found if it is a class (or one of
    `factories`): a bare name in a Keras 2 config means an instance with default args."""
    obj = deserialize_keras_object(config, module_objects=module_objects,
                                   custom_objects=custom_objects,
                                   printable_module_name=printable_module_name)
    if isinstance(obj, type) or any(obj is f for f in factories):
        obj = obj()
    return obj


def get_object(identifier, deserialize, printable_module_name):
    """The `get()` of a family module: None stays None, names and config dicts go through
    `deserialize`, callables (instances, functions) are used as they are."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret {printable_module_name} identifier: expected None, a string, "
        f"a config dict or a callable. Received: {identifier!r}")
