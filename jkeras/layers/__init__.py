"""All layers, under the names Keras 2 and Keras 3 give them.

Every public Layer subclass (and alias) of the family modules below is exported here, and
this table is also what configs resolve layer class names against.
"""
from jkeras.engine import functional as _functional, model as _model, sequential as _sequential
from jkeras.engine.base_layer import Layer
from jkeras.engine.input_layer import Input, InputLayer
from jkeras.engine.input_spec import InputSpec
from jkeras.layers import (advanced_activations, attention, convolutional,
                           convolutional_recurrent, core, embeddings, merge, noise,
                           normalization, pooling, preprocessing, recurrent, residual,
                           wrappers)
from jkeras.layers.merge import (add, average, concatenate, dot, maximum, minimum, multiply,
                                 subtract)
from jkeras.layers.convolutional import AtrousConvolution1D, AtrousConvolution2D
from jkeras.serialization import builtin_tables

_FAMILIES = [core, merge, convolutional, pooling, normalization, embeddings, noise,
             advanced_activations, attention, preprocessing, recurrent, wrappers,
             convolutional_recurrent, residual]


def _export(module):
    for name, value in vars(module).items():
        if not name.startswith("_") and isinstance(value, type) and issubclass(value, Layer):
            globals()[name] = value


for _module in _FAMILIES:
    _export(_module)


def layer_classes():
    """Name -> class for every exported layer (the allow-list configs resolve against)."""
    table = {name: value for name, value in globals().items()
             if isinstance(value, type) and issubclass(value, Layer)}
    table.update({"Functional": _functional.Functional, "Model": _model.Model,
                  "Sequential": _sequential.Sequential})
    return table


# Modules below this package (the engine, activations) find layer classes by name here.
builtin_tables.provide("layers", layer_classes)
