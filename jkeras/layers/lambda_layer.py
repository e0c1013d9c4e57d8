"""The Lambda layer: a Python function as a layer, and how its function is written into a
config and read back (a name resolved through `custom_objects`, or marshalled bytecode that
is refused in safe mode)."""
import sys
import types

import jax
import jax.numpy as jnp
import numpy as np

from jkeras.engine.base_layer import Layer, flatten, input_shape_to_specs, to_specs
from jkeras.layers.autocast import autocast
from jkeras.serialization.object_registry import get_registered_object
from jkeras.serialization.safe_mode import is_safe_mode
from jkeras.utils.generic_utils import func_dump, func_load

__all__ = ["Lambda", "LambdaUnsafeError"]


def _function_to_config(fn):
    """Keras 2 layout for a Python function: its name, or marshalled bytecode for lambdas."""
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>" or \
            getattr(fn, "__closure__", None):
        code, defaults, closure = func_dump(fn)
        return [code, list(defaults) if defaults else None,
                list(closure) if closure else None], "lambda", fn.__module__
    return fn.__name__, "function", fn.__module__


class LambdaUnsafeError(ValueError):
    """Raised when a config carries Python bytecode and safe mode is on."""


def _function_from_config(value, function_type, custom_objects, safe_mode):
    if function_type == "function" or isinstance(value, str):
        fn = get_registered_object(value, custom_objects, _LAMBDA_GLOBALS)
        if fn is None:
            raise ValueError(
                f"Unknown function in Lambda layer config: '{value}'. Pass it in "
                "`custom_objects` (functions named in a file are never imported).")
        return fn
    if safe_mode:
        raise LambdaUnsafeError(
            "Requested the deserialization of a Lambda layer with a Python `lambda` inside "
            "it. This carries a potential risk of arbitrary code execution and thus it is "
            "disallowed by default. If you trust the source of the saved model, you can "
            "pass `safe_mode=False` to the loading function in order to allow Lambda "
            "layer loading.")
    if isinstance(value, dict):  # Keras 3: {'class_name': '__lambda__', 'config': {...}}
        value = [value["config"]["code"], value["config"].get("defaults"),
                 value["config"].get("closure")]
    code_b64, defaults, closure = (list(value) + [None, None])[:3]
    return func_load(code_b64, defaults, closure, globs=dict(_LAMBDA_GLOBALS))


def _lambda_globals():
    # The `keras` a Lambda's code sees is the jkeras package, which Python loaded before
    # this module of it: looked up, not imported, so the package's imports stay one-way.
    jkeras = sys.modules["jkeras"]
    return {"jnp": jnp, "np": np, "jax": jax, "K": jkeras.backend,
            "keras": jkeras, "__builtins__": __builtins__}


class _LazyGlobals(dict):
    def __missing__(self, key):
        self.update(_lambda_globals())
        return dict.__getitem__(self, key)

    def keys(self):
        self.update(_lambda_globals())
        return dict.keys(self)


_LAMBDA_GLOBALS = _LazyGlobals()


def _safe_mode_default():
    return is_safe_mode()


class Lambda(Layer):
    """Wraps a Python function `function(inputs, **arguments)` as a layer."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(
                f"Lambda layer {self.name} expects a callable `function`. Received: "
                f"{function!r}")
        self.function = function
        self._output_shape = output_shape
        self.mask = mask
        self.arguments = dict(arguments or {})
        self.supports_masking = mask is not None

    @autocast
    def apply(self, variables, inputs, *, training=False, key=None, mask=None, **kwargs):
        return self.function(inputs, **self.arguments), variables["state"]

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            spec = self._infer_output_spec(input_shape_to_specs(input_shape, self.dtype))
            return jax.tree_util.tree_map(lambda s: s.shape, spec,
                                          is_leaf=lambda x: hasattr(x, "shape"))
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        shape = tuple(self._output_shape)
        batch = input_shape[0][0] if isinstance(input_shape, list) else input_shape[0]
        if shape and isinstance(shape[0], (list, tuple)):
            return [(batch,) + tuple(s) for s in shape]
        return (batch,) + shape

    def _infer_output_spec_symbolic(self, inputs, args, kwargs):
        if self._output_shape is None:
            return self._infer_output_spec(to_specs(inputs), to_specs(list(args)),
                                           to_specs(kwargs))
        return super()._infer_output_spec_symbolic(inputs, args, kwargs)

    def _output_dtype(self, inputs):
        flat = flatten(inputs)
        return flat[0].dtype if flat else self.dtype

    def get_config(self):
        config = super().get_config()
        function, function_type, module = _function_to_config(self.function)
        config.update({"function": function, "function_type": function_type,
                       "module": module, "arguments": self.arguments})
        if self._output_shape is None:
            config.update({"output_shape": None, "output_shape_type": "raw"})
        elif callable(self._output_shape):
            value, kind, mod = _function_to_config(self._output_shape)
            config.update({"output_shape": value, "output_shape_type": kind,
                           "output_shape_module": mod})
        else:
            config.update({"output_shape": list(self._output_shape),
                           "output_shape_type": "raw"})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        config = dict(config)
        if safe_mode is None:
            safe_mode = _safe_mode_default()
        function = _function_from_config(config.pop("function"),
                                         config.pop("function_type", "lambda"),
                                         custom_objects, safe_mode)
        config.pop("module", None)
        output_shape = config.pop("output_shape", None)
        shape_type = config.pop("output_shape_type", "raw")
        config.pop("output_shape_module", None)
        if shape_type in ("function", "lambda") and output_shape is not None:
            output_shape = _function_from_config(output_shape, shape_type, custom_objects,
                                                 safe_mode)
        return cls(function, output_shape=output_shape, **config)
