"""Writing model configs: the graph of a Functional or Sequential model as plain JSON-able
data, in the Keras 2 layout (`inbound_nodes` as `[[layer, node, tensor, kwargs]]`) or, for
`.keras` archives, the Keras 3 one (`{"args", "kwargs"}` with `__keras_tensor__` entries),
and layer configs in Keras 3's schema (`module`, `registered_name`, `build_config`), since
model configs nest them (`layer_to_keras3`).

Node indices count only the nodes that belong to the model. Keras 2 counts a nested
model's own creation node as its node 0, so the calls of a nested model are numbered from
1; Keras 3 numbers them from 0 (and from 1 only in a config's `input_layers` /
`output_layers`, for Functional models). Reading them back is `model_config`'s part, which
re-exports every public name here.
"""
import inspect

import numpy as np

from jkeras.engine.base_layer import Layer
from jkeras.engine.keras_tensor import KerasTensor
from jkeras.engine.model import Model
from jkeras.engine.structure import flatten
from jkeras.serialization import builtin_tables
from jkeras.serialization.object_registry import get_registered_name

__all__ = ["KERAS2", "KERAS3", "serialize_layer", "keras3_tensor", "functional_config",
           "sequential_config", "model_to_dict", "portable_layer_config", "layer_to_keras3",
           "derived_backward_layer", "bidirectional_base_name"]

KERAS2 = "keras2"
KERAS3 = "keras3"
_CONSTANT_VALUE = "_CONSTANT_VALUE"

# Keys Keras 3 adds to configs; dropped on reading when they hold their default value.
_KERAS3_DEFAULTS = {
    "quantization_config": None, "lora_rank": None, "lora_alpha": None,
    "input_axes": None, "output_axes": None, "synchronized": False, "renorm": False,
    "renorm_clipping": None, "renorm_momentum": 0.99, "optional": False,
    "gradient_accumulation_steps": None,
}
_OBJECT_MODULES = (("initializer", "keras.initializers"), ("regularizer", "keras.regularizers"),
                   ("constraint", "keras.constraints"))
_LAYER_KEYS = ("layer", "backward_layer", "cell", "cells")
# Keras 2 arguments that Keras 3 layers refuse; left out when they hold their default
# (Keras 2 reads a missing one as its default).
_KERAS2_ONLY_DEFAULTS = {"time_major": False, "implementation": 2, "input_length": None}


# ---------------------------------------------------------------------------- helpers
def _model_class(name):
    # Functional and Sequential import this module (their configs are written here), so
    # they, and the layer classes configs name, are found in jkeras.layers's table.
    return builtin_tables.table("layers")[name]


def _is_graph_model(layer):
    return isinstance(layer, Model) and bool(getattr(layer, "_is_graph_network", False))


def _json_value(value):
    """Arrays and numpy scalars as plain lists and numbers."""
    if isinstance(value, np.ndarray) or hasattr(value, "__array__") and \
            hasattr(value, "shape") and hasattr(value, "dtype"):
        return np.asarray(value).tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    return value


def serialize_layer(layer, style=KERAS2):
    """`{"class_name", "config"}` of a layer (Keras 3 style adds module and build_config)."""
    if style == KERAS3:
        return layer_to_keras3(layer)
    class_name = get_registered_name(type(layer))
    if isinstance(layer, Model):
        return {"class_name": class_name, "config": layer.get_config()}
    return {"class_name": class_name,
            "config": portable_layer_config(class_name, _json_value(layer.get_config()))}


# ---------------------------------------------------------------------------- writing
def _first_node_offset(layer, style, endpoint=False):
    """1 where Keras counts a nested model's own creation node: any built model in
    Keras 2; in Keras 3 only Functional (not Sequential) models, and only in the
    model's `input_layers` / `output_layers` (its node entries count from 0)."""
    if not _is_graph_model(layer):
        return 0
    if style == KERAS3:
        Sequential = _model_class("Sequential")
        return 1 if endpoint and not isinstance(layer, Sequential) else 0
    return 1


def _node_conversion(model, style=KERAS2, endpoint=False):
    """(id(layer), original node index) -> the index written in the config."""
    network_nodes = model._network_nodes
    conversion = {}
    for layer in model.layers:
        kept = _first_node_offset(layer, style, endpoint)
        for index, node in enumerate(layer._inbound_nodes):
            if id(node) in network_nodes:
                conversion[(id(layer), index)] = kept
                kept += 1
    return conversion


def _history(tensor, conversion):
    layer, node_index, tensor_index = tensor._keras_history
    return [layer.name, conversion.get((id(layer), node_index), 0), tensor_index]


def _positional_names(layer):
    """Names of the call arguments after the inputs, for turning positional args into
    keyword args as Keras 2 does."""
    fn = layer.call if type(layer).call is not Layer.call else layer.apply
    params = list(inspect.signature(fn).parameters.values())
    skip = 1 if fn == layer.call else 2  # (inputs) or (variables, inputs)
    return [p.name for p in params[skip:]
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _node_kwargs(node):
    kwargs = {}
    if node.call_args:
        names = _positional_names(node.layer)
        if len(names) < len(node.call_args):
            raise ValueError(
                f"Layer {node.layer.name} was called with {len(node.call_args)} extra "
                "positional argument(s) that cannot be named for its config. Pass them as "
                "keyword arguments.")
        kwargs.update(zip(names, node.call_args))
    kwargs.update(node.call_kwargs)
    if node.training is not None:
        kwargs["training"] = node.training
    return kwargs


def _json_structure(value, tensor):
    """`value` (nested lists, tuples, dicts) as JSON-able values, KerasTensors written by
    `tensor` (Keras 2 and Keras 3 write them differently)."""
    if isinstance(value, KerasTensor):
        return tensor(value)
    if isinstance(value, (list, tuple)):
        return [_json_structure(v, tensor) for v in value]
    if isinstance(value, dict):
        return {k: _json_structure(v, tensor) for k, v in value.items()}
    return _json_value(value)


def _serialize_kwargs_keras2(kwargs, conversion):
    return _json_structure(kwargs, lambda t: _history(t, conversion))


def _node_keras2(node, conversion):
    kwargs = _serialize_kwargs_keras2(_node_kwargs(node), conversion)

    def entry(tensor):
        return _history(tensor, conversion) + [kwargs]

    inputs = node.input_tensors
    if isinstance(inputs, dict):
        return {k: entry(t) for k, t in inputs.items()}
    if isinstance(inputs, (list, tuple)):
        return [entry(t) for t in flatten(inputs)]
    return [entry(inputs)]


def keras3_tensor(tensor, conversion):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": list(tensor.shape), "dtype": tensor.dtype,
                       "keras_history": _history(tensor, conversion)}}


def _node_keras3(node, conversion):

    def convert(value):
        return _json_structure(value, lambda t: keras3_tensor(t, conversion))
    kwargs = dict(node.call_kwargs)
    if node.training is not None:
        kwargs["training"] = node.training
    return {"args": [convert(node.input_tensors)] + [convert(a) for a in node.call_args],
            "kwargs": convert(kwargs)}


def _endpoints(nested, flat, conversion, style):
    entries = {id(t): _history(t, conversion) for t in flat}
    if isinstance(nested, dict):
        return {k: entries[id(t)] for k, t in nested.items()}
    listed = [entries[id(t)] for t in flat]
    if style == KERAS3 and not isinstance(nested, (list, tuple)):
        return listed[0]
    return listed


def functional_config(model, style=KERAS2):
    """The config of a functional model (Keras 2 layout unless `style="keras3"`)."""
    conversion = _node_conversion(model, style)
    layer_configs = []
    for layer in model.layers:
        inbound = []
        for node in layer._inbound_nodes:
            if id(node) in model._network_nodes and not node.is_input:
                inbound.append(_node_keras3(node, conversion) if style == KERAS3
                               else _node_keras2(node, conversion))
        entry = serialize_layer(layer, style)
        entry["name"] = layer.name
        entry["inbound_nodes"] = inbound
        layer_configs.append(entry)
    ends = _node_conversion(model, style, endpoint=True)
    return {"name": model.name, "trainable": model.trainable, "layers": layer_configs,
            "input_layers": _endpoints(model._nested_inputs, model.inputs, ends, style),
            "output_layers": _endpoints(model._nested_outputs, model.outputs, ends, style)}


def sequential_config(model, style=KERAS2):
    """`{"name", "layers"}` with the InputLayer first once the model has an input, as
    tf.keras 2.x writes it."""
    layers = list(model._tracked_layers) if model._is_graph_network else list(model.layers)
    config = {"name": model.name, "layers": []}
    if not model.trainable or style == KERAS3:
        config["trainable"] = model.trainable
    for layer in layers:
        config["layers"].append(serialize_layer(layer, style))
    shape = getattr(model, "_build_input_shape", None)
    if not model._is_graph_network and shape is not None:
        config["build_input_shape"] = list(shape)
    if style == KERAS3 and model._is_graph_network:
        config["build_input_shape"] = list(model.inputs[0].shape)
    return config


def model_to_dict(model, style=KERAS2):
    """`{"class_name", "config"}` of a model (the body of `to_json`)."""
    Sequential = _model_class("Sequential")
    if not _is_graph_model(model) and not isinstance(model, Sequential):
        raise NotImplementedError(
            f"Model {model.name} ({type(model).__name__}) is a subclassed model; its "
            "architecture cannot be written as a config. Save its weights with "
            "`save_weights` and rebuild it in code, or use the functional API.")
    if style == KERAS3:
        return layer_to_keras3(model)
    return {"class_name": get_registered_name(type(model)), "config": model.get_config()}


# ------------------------------------------------------------------- Keras 3 layer configs
def _module_for(key):
    for suffix, module in _OBJECT_MODULES:
        if key.endswith(suffix):
            return module
    return None


def _tagged_object(value, module, keras3):
    """A nested `{"class_name", "config"}` with `module` and `registered_name`, as
    tf-keras 2.13+ and Keras 3 write them (Keras 3 needs them to find the class)."""
    name = value.get("class_name")
    custom = isinstance(name, str) and ">" in name
    inner = value.get("config")
    if module == "keras.layers" and isinstance(inner, dict):
        inner = portable_layer_config(name, inner, keras3)
    return {"module": None if custom else module,
            "class_name": name.split(">")[-1] if custom else name, "config": inner,
            "registered_name": name if custom else None}


def _tag_value(key, value, keras3):
    if isinstance(value, dict) and "class_name" in value and "config" in value:
        if key in _LAYER_KEYS:
            return _tagged_object(value, "keras.layers", keras3)
        module = _module_for(key)
        if module is not None:
            return _tagged_object(value, module, keras3)
    if isinstance(value, list) and key in _LAYER_KEYS:
        return [_tag_value(key, v, keras3) for v in value]
    return value


def _lambda_function(value):
    if isinstance(value, (list, tuple)):
        code, defaults, closure = (list(value) + [None, None])[:3]
        return {"class_name": "__lambda__",
                "config": {"code": code, "defaults": defaults, "closure": closure}}
    return value


def derived_backward_layer(layer):
    """The backward layer of a Bidirectional given none: its `layer`'s config with
    `go_backwards` flipped, named `backward_<name>` (as `Bidirectional.__init__` makes it).

    `.keras` configs write it out, as Keras 3 does. Left out, Keras 3 derives it while
    loading by serializing the wrapped layer twice inside the loader's object-sharing scope,
    which remembers every object it serialized by `id()` without keeping it alive: once a
    freed object's address is reused, the derived layers can come back as another layer
    (some loads fail with "Forward layer and backward layer should have different
    `go_backwards` value"). Keras 2 configs keep leaving it out: Keras 2.3 takes no
    `backward_layer` argument."""
    inner = layer.get("config") if isinstance(layer, dict) else None
    if not isinstance(inner, dict) or not isinstance(inner.get("go_backwards"), bool):
        return None
    name = bidirectional_base_name(str(inner.get("name", "")))
    return {**layer, "config": {**inner, "name": f"backward_{name}",
                                "go_backwards": not inner["go_backwards"]}}


def bidirectional_base_name(name):
    """The name a Bidirectional's halves are made from: the wrapped layer's, without a
    `forward_` and then a `backward_` prefix (they are `forward_<base>`, `backward_<base>`)."""
    for prefix in ("forward_", "backward_"):
        name = name[len(prefix):] if name.startswith(prefix) else name
    return name


def portable_layer_config(class_name, config, keras3=False):
    """A layer config both Keras 2 and Keras 3 read: Keras-2-only arguments at their
    default left out, nested objects tagged with their module. With `keras3=True`, also
    Keras 3's spellings (`batch_shape`, Lambda functions as `__lambda__` dicts)."""
    config = dict(config)
    for key, default in _KERAS2_ONLY_DEFAULTS.items():
        if class_name != "InputLayer" and key in config and config[key] == default:
            del config[key]
    if class_name.startswith("SpatialDropout"):  # Keras 3 takes neither argument
        if config.get("noise_shape", 0) is None:
            del config["noise_shape"]
        if config.get("trainable") is True:
            del config["trainable"]
    if keras3:
        if class_name == "InputLayer":
            if "batch_input_shape" in config:
                config["batch_shape"] = config.pop("batch_input_shape")
        else:
            config.pop("batch_input_shape", None)
        if class_name == "MultiHeadAttention":  # Keras 2 needs these, Keras 3 refuses them
            for key in ("query_shape", "key_shape", "value_shape"):
                config.pop(key, None)
        if class_name == "Lambda":
            config["function"] = _lambda_function(config.get("function"))
            for key in ("function_type", "module", "output_shape_type",
                        "output_shape_module"):
                config.pop(key, None)
        if isinstance(config.get("axis"), list) and len(config["axis"]) == 1 and \
                class_name in ("BatchNormalization", "LayerNormalization"):
            config["axis"] = config["axis"][0]
        if class_name == "Bidirectional" and config.get("backward_layer") is None:
            backward = derived_backward_layer(config.get("layer"))
            if backward is not None:
                config["backward_layer"] = backward
    return {key: _tag_value(key, value, keras3) for key, value in config.items()}


def _build_shape(layer):
    shape = getattr(layer, "_build_input_shape", None)
    if shape is None:
        return None

    def as_list(s):
        if isinstance(s, (list, tuple)) and s and isinstance(s[0], (list, tuple)):
            return [as_list(x) for x in s]
        return list(s) if s is not None else None
    return as_list(shape)


def layer_to_keras3(layer):
    """A layer or model serialized with Keras 3's schema."""
    Functional, Sequential = _model_class("Functional"), _model_class("Sequential")
    registered = get_registered_name(type(layer))
    # A user's class (registered or not) is found by its registered name, not in
    # `keras.layers`: Keras 3 writes no module for it.
    custom = registered != type(layer).__name__ or \
        not type(layer).__module__.startswith("jkeras.")
    if isinstance(layer, Sequential):
        config = sequential_config(layer, KERAS3)
        shape = list(layer.inputs[0].shape) if layer._is_graph_network else None
        return {"module": "keras", "class_name": "Sequential", "config": config,
                "registered_name": None, "build_config": {"input_shape": shape}}
    if isinstance(layer, Functional) and type(layer) is Functional:
        return {"module": "keras.src.models.functional", "class_name": "Functional",
                "config": functional_config(layer, KERAS3),
                "registered_name": "Functional", "build_config": {"input_shape": None}}
    name = type(layer).__name__
    raw = _json_value(layer.get_config())
    config = portable_layer_config(name, raw, keras3=True)
    entry = {"module": None if custom else "keras.layers", "class_name": name,
             "config": config, "registered_name": registered if custom else None}
    if layer.built and name != "InputLayer":
        entry["build_config"] = _build_config(name, layer, raw)
    return entry


def _build_config(class_name, layer, raw_config):
    if class_name == "MultiHeadAttention" and raw_config.get("query_shape") is not None:
        shapes = {"query_shape": raw_config["query_shape"],
                  "value_shape": raw_config["value_shape"]}
        if raw_config.get("key_shape") not in (None, raw_config["value_shape"]):
            shapes["key_shape"] = raw_config["key_shape"]
        return {"shapes_dict": shapes}
    return {"input_shape": _build_shape(layer)}
