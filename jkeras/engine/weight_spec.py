"""How a layer declares its weights: one `WeightSpec` per weight (initializer, regularizer,
constraint, trainable, dtype, name, and the shape once the input is known).

A layer declares its specs in its constructor (`declare_weight`); `Layer.weight_spec(name)`
is where the trainer finds a weight's regularizer and constraint, so nothing is found by
attribute-name convention. The Keras attributes (`layer.kernel_initializer`, ...) and the
config entries (`"kernel_initializer": {...}`) are views of the specs: `weight_options`
installs the attributes on a class, `options_config` writes the config entries.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Optional, Tuple

from jkeras import constraints, initializers, regularizers

__all__ = ["WeightSpec", "declare_weight", "weight_options", "options_config",
           "serialize_option"]

_OPTIONS = ("initializer", "regularizer", "constraint")
_MODULES = {"initializer": initializers, "regularizer": regularizers,
            "constraint": constraints}


@dataclasses.dataclass
class WeightSpec:
    """One weight of a layer.

    Arguments:
      name: the weight's key in the layer's `params` (or `state`) dict, e.g. "kernel".
      initializer, regularizer, constraint: resolved objects (see `declare_weight`).
      trainable: False for weights kept under `state` (moving statistics).
      dtype: the variable dtype; None means the layer's.
      shape: filled in by `create` (unknown until the input shape is).
      prefix: the constructor arguments' prefix ("recurrent" for
        `recurrent_initializer`), so attributes and configs use Keras's names.
      options: which of initializer/regularizer/constraint are constructor arguments.
    """
    name: str
    initializer: Any
    regularizer: Optional[Callable] = None
    constraint: Optional[Callable] = None
    trainable: bool = True
    dtype: Optional[str] = None
    shape: Optional[Tuple[int, ...]] = None
    prefix: Optional[str] = None
    options: Tuple[str, ...] = _OPTIONS

    def create(self, key, shape, dtype=None, initializer=None):
        """The initial value for `shape` (recorded as the spec's shape); `initializer`
        stands in for the spec's own where a layer builds the value from it (an LSTM's
        forget-gate bias)."""
        self.shape = tuple(shape)
        return initializers.call(initializer or self.initializer, self.shape,
                                 dtype or self.dtype, key)


def declare_weight(layer, name, initializer, regularizer=None, constraint=None, *,
                   prefix=None, trainable=True, dtype=None, options=_OPTIONS):
    """Resolves the arguments (names, configs, callables) and records the spec on `layer`.
    An argument that does not resolve raises (ValueError or TypeError, as the lookup does)
    naming the layer class and the argument."""
    prefix = prefix or name
    values = {}
    for option, value in (("initializer", initializer), ("regularizer", regularizer),
                          ("constraint", constraint)):
        try:
            values[option] = _MODULES[option].get(value)
        except (TypeError, ValueError) as error:
            argument = f"{prefix}_{option}" if option in options else option
            raise type(error)(
                f"{type(layer).__name__}: invalid `{argument}`. {error}") from None
    spec = WeightSpec(name=name, trainable=trainable, dtype=dtype, prefix=prefix,
                      options=tuple(options), **values)
    layer.__dict__.setdefault("_weight_specs", {})[name] = spec
    return spec


class _Option:
    """`layer.<prefix>_<option>`: reads and writes the option on the layer's spec."""

    def __init__(self, weight, option):
        self.weight, self.option = weight, option

    def __get__(self, layer, owner=None):
        if layer is None:
            return self
        return getattr(layer._weight_specs[self.weight], self.option)

    def __set__(self, layer, value):
        setattr(layer._weight_specs[self.weight], self.option,
                _MODULES[self.option].get(value))


def weight_options(**weights):
    """Class decorator: `@weight_options(kernel="kernel", recurrent="recurrent_kernel")`
    gives the class the attributes `kernel_initializer`, `recurrent_regularizer`, ...,
    each a view of the named weight's spec."""
    def install(cls):
        for prefix, weight in weights.items():
            for option in _OPTIONS:
                setattr(cls, f"{prefix}_{option}", _Option(weight, option))
        return cls
    return install


def serialize_option(option, value):
    """Keras's config form of an initializer, regularizer or constraint (None stays None)."""
    return _MODULES[option].serialize(value)


def options_config(layer, *weights, activity_regularizer=False, options=_OPTIONS):
    """The config entries of `weights`' options in Keras's order: every initializer, then
    every regularizer (then the activity regularizer if asked), then every constraint
    (only the kinds in `options`)."""
    specs = [layer._weight_specs[w] for w in weights]
    config = {}
    for option in options:
        for spec in specs:
            if option in spec.options:
                config[f"{spec.prefix}_{option}"] = serialize_option(
                    option, getattr(spec, option))
        if option == "regularizer" and activity_regularizer:
            config["activity_regularizer"] = regularizers.serialize(
                layer.activity_regularizer)
    return config
