"""`serialize`/`deserialize` for layers (Keras's `keras.layers.serialize` and
`keras.layers.deserialize`): layer configs resolve against the table of built-in layers
that `jkeras.layers` provides, plus `custom_objects`; nothing is imported by name."""
from jkeras.serialization import builtin_tables
from jkeras.serialization.serialize import deserialize_keras_object, serialize_keras_object

__all__ = ["serialize", "deserialize"]


def serialize(layer):
    """`{'class_name': ..., 'config': {...}}` for `layer` (Keras 2 layout)."""
    return serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """A layer from its serialized config (a wrapped layer, an RNN's cell, ...)."""
    return deserialize_keras_object(config, module_objects=builtin_tables.table("layers"),
                                    custom_objects=custom_objects,
                                    printable_module_name="layer")
