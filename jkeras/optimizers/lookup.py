"""Optimizers by name or config: `get`, `serialize` and `deserialize`, over the built-in
classes and the registry (Keras 2 and Keras 3 config layouts, tf.keras's 'Custom>Adam')."""
import optax

from jkeras.optimizers.adam import Adam, Adamax, AdamW, Nadam
from jkeras.optimizers.adaptive import Adadelta, Adagrad, RMSprop
from jkeras.optimizers.ftrl import Ftrl
from jkeras.optimizers.lion import Lion
from jkeras.optimizers.optax_optimizer import OptaxOptimizer
from jkeras.optimizers.optimizer import Optimizer
from jkeras.optimizers.sgd import SGD
from jkeras.serialization.object_registry import get_registered_object
from jkeras.serialization.serialize import (
    class_and_config, deserialize_keras_object, serialize_keras_object)

__all__ = ["BUILTINS", "get", "serialize", "deserialize"]


BUILTINS = {cls.__name__: cls for cls in (
    Optimizer, SGD, RMSprop, Adagrad, Adadelta, Adam, Adamax, Nadam, AdamW, Ftrl, Lion)}
_BY_LOWER_NAME = {name.lower(): cls for name, cls in BUILTINS.items()}


def _canonical_class_name(name, custom_objects):
    """Built-in names match case-insensitively, also as 'Custom>Adam' (tf.keras 2.11+)."""
    if get_registered_object(name, custom_objects) is not None:
        return name
    bare = name.split(">", 1)[-1]
    cls = _BY_LOWER_NAME.get(bare.lower())
    return cls.__name__ if cls is not None else name


def serialize(optimizer):
    """`{'class_name', 'config'}` of an optimizer."""
    return serialize_keras_object(optimizer)


def deserialize(config, custom_objects=None):
    """An optimizer from `{'class_name', 'config'}` (Keras 2 or Keras 3 layout)."""
    registered, class_name, inner = class_and_config(config)
    config = {"class_name": _canonical_class_name(class_name, custom_objects),
              "config": inner}
    if registered != class_name:
        config["registered_name"] = _canonical_class_name(registered, custom_objects)
    return deserialize_keras_object(
        config, module_objects=BUILTINS, custom_objects=custom_objects,
        printable_module_name="optimizer")


def get(identifier):
    """An optimizer from a name ('adam'), a config dict, an optimizer or an optax
    transformation (wrapped as-is)."""
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, optax.GradientTransformation):
        return OptaxOptimizer(identifier)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")
