"""The allow-list of classes and functions that configs may name.

Loading a config never imports a module: a `class_name` resolves only through the
built-in tables each package module passes in, the user's `custom_objects`, the active
`custom_object_scope`, or objects registered with `register_keras_serializable`.
"""
import threading

__all__ = ["CustomObjectScope", "get_custom_objects", "register_keras_serializable",
           "get_registered_name", "get_registered_object", "custom_object_scope"]

_GLOBAL_CUSTOM_OBJECTS = {}
_GLOBAL_CUSTOM_NAMES = {}
_SCOPE = threading.local()


def _scope_stack():
    if not hasattr(_SCOPE, "stack"):
        _SCOPE.stack = []
    return _SCOPE.stack


class CustomObjectScope:
    """`with CustomObjectScope({'MyLayer': MyLayer}):` makes names resolvable inside."""

    def __init__(self, *args):
        self.custom_objects = {}
        for arg in args:
            if arg is None:
                continue
            if not isinstance(arg, dict):
                raise TypeError(
                    "CustomObjectScope expects dicts mapping names to objects. "
                    f"Received: {type(arg).__name__}")
            self.custom_objects.update(arg)

    def __enter__(self):
        _scope_stack().append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _scope_stack().pop()


custom_object_scope = CustomObjectScope


def get_custom_objects():
    """The global dict of registered custom objects (mutable, as in Keras)."""
    return _GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package="Custom", name=None):
    """Decorator registering a class or function as `package>name` for deserialization."""

    def decorator(obj):
        registered = f"{package}>{name or obj.__name__}"
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError(
                f"Cannot register {obj.__name__}: classes must define get_config().")
        _GLOBAL_CUSTOM_OBJECTS[registered] = obj
        _GLOBAL_CUSTOM_NAMES[obj] = registered
        return obj

    return decorator


def get_registered_name(obj):
    if obj in _GLOBAL_CUSTOM_NAMES:
        return _GLOBAL_CUSTOM_NAMES[obj]
    return getattr(obj, "__name__", type(obj).__name__)


def get_registered_object(name, custom_objects=None, module_objects=None):
    """Looks `name` up in scopes, `custom_objects`, the registry, then `module_objects`."""
    for scope in reversed(_scope_stack()):
        if name in scope:
            return scope[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    # A registered object may be named without its package prefix.
    for registered, obj in _GLOBAL_CUSTOM_OBJECTS.items():
        if registered.split(">", 1)[-1] == name:
            return obj
    if module_objects and name in module_objects:
        return module_objects[name]
    return None
