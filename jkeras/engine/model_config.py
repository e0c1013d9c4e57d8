"""Model configs: the graph of a Functional or Sequential model as plain JSON-able data.

Writing follows the Keras 2 layout (`inbound_nodes` as `[[layer, node, tensor, kwargs]]`)
or, for `.keras` archives, the Keras 3 one (`{"args", "kwargs"}` with `__keras_tensor__`
entries). Reading accepts both. Node indices count only the nodes that belong to the
model. Keras 2 counts a nested model's own creation node as its node 0, so the calls of
a nested model are numbered from 1; Keras 3 numbers them from 0 (and from 1 only in a
config's `input_layers` / `output_layers`, for Functional models). Layer configs in Keras
3's schema (`module`, `registered_name`, `build_config`) are written here too, since model
configs nest them (`layer_to_keras3`).

Class names resolve only through `custom_object_scope`, `custom_objects`, classes
registered with `register_keras_serializable`, and `jkeras.layers.layer_classes()` (read
through `serialization.builtin_tables`: this module sits below the layers and the model
classes whose configs it writes); the `module` a Keras 3 config names is never imported.
"""
import collections
import inspect

import numpy as np

from jkeras import dtype_policies
from jkeras.engine.base_layer import _LAYER_KWARGS, Layer, standardize_shape
from jkeras.engine.input_layer import InputLayer
from jkeras.engine.keras_tensor import KerasTensor
from jkeras.engine.model import Model
from jkeras.engine.structure import flatten
from jkeras.serialization import builtin_tables
from jkeras.serialization.object_registry import (CustomObjectScope, get_registered_name,
                                                  get_registered_object)

__all__ = ["serialize_layer", "keras3_tensor", "functional_config", "sequential_config",
           "model_to_dict", "portable_layer_config", "layer_to_keras3",
           "resolve_layer_class", "deserialize_layer", "functional_from_config",
           "sequential_from_config", "model_from_config"]

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
    custom = registered != type(layer).__name__
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


# ---------------------------------------------------------------------------- reading
def _strip_keras3_defaults(config):
    """Removes `shared_object_id` and the Keras-3-only keys that hold their default."""
    if isinstance(config, list):
        return [_strip_keras3_defaults(c) for c in config]
    if not isinstance(config, dict):
        return config
    out = {}
    for key, value in config.items():
        if key == "shared_object_id":
            continue
        if key in _KERAS3_DEFAULTS and value == _KERAS3_DEFAULTS[key]:
            continue
        out[key] = _strip_keras3_defaults(value)
    return out


def _accepted_keys(cls):
    """Argument names the class's constructors accept (None: anything goes)."""
    names = set(_LAYER_KWARGS)
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        try:
            params = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            return None
        names.update(p.name for p in params if p.kind not in (p.VAR_KEYWORD,
                                                               p.VAR_POSITIONAL))
        if klass is Layer:
            break
    return names


def _clean_layer_config(cls, class_name, config):
    """A layer config read from a Keras file, with Keras 3's format differences undone."""
    config = _strip_keras3_defaults(dict(config))
    if isinstance(config.get("dtype"), dict):  # a policy config: keep its name
        config["dtype"] = dtype_policies.get(config["dtype"]).name
    if issubclass(cls, Model):
        return config
    if "batch_shape" in config and "batch_input_shape" not in config:
        config["batch_input_shape"] = config.pop("batch_shape")
    accepted = _accepted_keys(cls)
    if accepted is not None:
        for key in [k for k in config if k not in accepted]:
            if config[key] is None:
                del config[key]
    return config


def resolve_layer_class(class_name, registered_name=None, custom_objects=None):
    """The class a layer config names, from the registry and the built-in table only."""
    table = builtin_tables.table("layers")
    for candidate in (registered_name, class_name):
        if isinstance(candidate, str):
            cls = get_registered_object(candidate, custom_objects, table)
            if cls is not None:
                return cls
    raise ValueError(
        f"Unknown layer: '{class_name}'. Please ensure you are using a "
        "`keras.utils.custom_object_scope` and that this object is included in the scope "
        "(or pass it in `custom_objects`). Classes are never imported from the module a "
        "file names.")


def deserialize_layer(layer_data, custom_objects=None):
    """A layer (or model) from `{"class_name", "config", ...}`, Keras 2 or Keras 3."""
    if not isinstance(layer_data, dict) or "class_name" not in layer_data:
        raise ValueError(
            "Expected a layer config: a dict with 'class_name' and 'config' keys. "
            f"Received: {layer_data!r:.200}")
    class_name = layer_data["class_name"]
    registered = layer_data.get("registered_name")
    cls = resolve_layer_class(class_name, registered, custom_objects)
    config = layer_data.get("config", {})
    if cls is Model and isinstance(config, dict) and "layers" in config:
        cls = _model_class("Functional")  # Keras <= 2.3 wrote "Model"
    if isinstance(config, dict):
        config = _clean_layer_config(cls, class_name, config)
    with CustomObjectScope(custom_objects or {}):
        try:
            if "custom_objects" in inspect.signature(cls.from_config).parameters:
                return cls.from_config(config, custom_objects=custom_objects)
            return cls.from_config(config)
        except TypeError as e:
            name = config.get("name") if isinstance(config, dict) else None
            raise TypeError(
                f"Could not rebuild layer '{name}' of class {class_name} from its config: "
                f"{e}") from e


class _NotReady(Exception):
    """An inbound node of this node has not been created yet."""


class _GraphBuilder:
    """Replays the layer calls of a functional config, in dependency order."""

    def __init__(self, custom_objects, created_layers=None, style=KERAS2):
        self.custom_objects = custom_objects
        self.style = style
        self.created_layers = created_layers or {}
        self.layers = collections.OrderedDict()
        self.node_count = {}
        self.node_index = {}

    def add_layer(self, layer_data):
        name = layer_data.get("name") or layer_data.get("config", {}).get("name")
        if name in self.created_layers:
            layer = self.created_layers[name]
        else:
            layer = deserialize_layer(layer_data, self.custom_objects)
        name = name or layer.name
        if name in self.layers:
            raise ValueError(f"The config lists layer '{name}' twice.")
        self.layers[name] = layer
        self.node_count[name] = _first_node_offset(layer, self.style)
        return name, layer

    def layer(self, name):
        if name not in self.layers:
            raise ValueError(
                f"The config refers to layer '{name}', which is not in its 'layers' list.")
        return self.layers[name]

    def tensor(self, name, node_index, tensor_index, endpoint=False):
        layer = self.layer(name)
        node_index = int(node_index)
        if endpoint and self.style == KERAS3:
            node_index -= _first_node_offset(layer, KERAS3, endpoint=True)
        if isinstance(layer, InputLayer):
            index = 0
        else:
            index = self.node_index.get((name, node_index))
            if index is None:
                raise _NotReady
        outputs = layer._inbound_nodes[index].flat_outputs
        if not 0 <= int(tensor_index) < len(outputs):
            raise ValueError(
                f"The config refers to output {tensor_index} of layer '{name}' (node "
                f"{node_index}), which has only {len(outputs)} output(s).")
        return outputs[int(tensor_index)]

    # -- Keras 2 node data: [[layer_name, node_index, tensor_index, kwargs], ...]
    def _is_history(self, value):
        return (isinstance(value, (list, tuple)) and len(value) in (3, 4)
                and isinstance(value[0], str) and isinstance(value[1], int)
                and isinstance(value[2], int) and value[0] in self.layers)

    def _keras2_kwargs(self, value):
        if self._is_history(value):
            return self.tensor(*value[:3])
        if isinstance(value, list):
            return [self._keras2_kwargs(v) for v in value]
        if isinstance(value, dict):
            return {k: self._keras2_kwargs(v) for k, v in value.items()}
        return value

    def _keras2_entry(self, entry):
        if not isinstance(entry, (list, tuple)) or len(entry) not in (3, 4):
            raise ValueError(
                "Expected an inbound node entry [layer_name, node_index, tensor_index, "
                f"kwargs]. Received: {entry!r:.200}")
        kwargs = entry[3] if len(entry) == 4 and entry[3] else {}
        if entry[0] == _CONSTANT_VALUE:
            return entry[2], kwargs
        return self.tensor(entry[0], entry[1], entry[2]), kwargs

    def _call_keras2(self, layer, node_data):
        kwargs = {}
        if isinstance(node_data, dict):
            inputs = {}
            for key, entry in node_data.items():
                inputs[key], kwargs = self._keras2_entry(entry)
        else:
            if node_data and isinstance(node_data[0], str):
                node_data = [node_data]  # a single entry written without its list
            inputs = []
            for entry in node_data:
                tensor, kwargs = self._keras2_entry(entry)
                inputs.append(tensor)
            if len(inputs) == 1:
                inputs = inputs[0]
        kwargs = self._keras2_kwargs(dict(kwargs))
        return layer(inputs, **kwargs)

    # -- Keras 3 node data: {"args": [...], "kwargs": {...}}
    def _keras3_value(self, value):
        if isinstance(value, dict):
            if value.get("class_name") == "__keras_tensor__":
                history = value["config"]["keras_history"]
                return self.tensor(*history)
            return {k: self._keras3_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._keras3_value(v) for v in value]
        return value

    def _call_keras3(self, layer, node_data):
        args = self._keras3_value(list(node_data.get("args", [])))
        kwargs = self._keras3_value(dict(node_data.get("kwargs", {})))
        if kwargs.get("mask", 0) is None:
            kwargs.pop("mask")
        if not args:
            raise ValueError(f"Node data of layer {layer.name} has no arguments.")
        return layer(*args, **kwargs)

    def call(self, name, node_data):
        layer = self.layers[name]
        if isinstance(node_data, dict) and ("args" in node_data or "kwargs" in node_data):
            outputs = self._call_keras3(layer, node_data)
        else:
            outputs = self._call_keras2(layer, node_data)
        created = flatten(outputs)[0]._keras_history[1]
        self.node_index[(name, self.node_count[name])] = created
        self.node_count[name] += 1


def _config_style(config):
    """KERAS3 when the config's nodes use Keras 3's `{"args", "kwargs"}` form."""
    for layer_data in config.get("layers", []):
        for node in layer_data.get("inbound_nodes") or []:
            return KERAS3 if isinstance(node, dict) and ("args" in node or
                                                         "kwargs" in node) else KERAS2
    return KERAS2


def _histories(value):
    """Layer names of the `__keras_tensor__` entries inside `value`."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return [value["config"]["keras_history"][0]]
        return [n for v in value.values() for n in _histories(v)]
    if isinstance(value, list):
        return [n for v in value for n in _histories(v)]
    return []


def _without_mask_ops(layers, custom_objects=None):
    """Keras 3 records mask computations (`NotEqual`, `Any`, ... of `keras.src.ops`) as
    graph operations and passes their results as `mask=` arguments. jkeras propagates
    masks itself, so those arguments and the operations feeding only them are dropped;
    an operation whose result is used for anything else is refused with a clear error."""
    table = builtin_tables.table("layers")

    def known(entry):
        return get_registered_object(entry.get("class_name"), custom_objects, table) \
            is not None

    by_name = {entry.get("name"): entry for entry in layers}
    mask_refs, cleaned = set(), []
    for entry in layers:
        nodes = []
        for node in entry.get("inbound_nodes") or []:
            if isinstance(node, dict):
                kwargs = dict(node.get("kwargs") or {})
                mask_refs.update(_histories(kwargs.pop("mask", None)))
                node = dict(node, kwargs=kwargs)
            nodes.append(node)
        cleaned.append(dict(entry, inbound_nodes=nodes))
    ops = {e.get("name") for e in layers
           if str(e.get("module") or "").startswith("keras.src.ops")}
    ops |= {n for n in mask_refs if n in by_name and not known(by_name[n])}
    frontier = set(ops)
    while frontier:  # operations feeding operations (Any(NotEqual(x)))
        feeding = {n for e in cleaned if e.get("name") in frontier
                   for n in _histories(e.get("inbound_nodes")) if n in by_name and
                   n not in ops and not known(by_name[n])}
        ops |= feeding
        frontier = feeding
    kept = []
    for entry in cleaned:
        if entry.get("name") in ops:
            continue
        used = set(_histories(entry.get("inbound_nodes"))) & ops
        if used:
            raise ValueError(
                f"Layer '{entry.get('name')}' takes the result of Keras 3 operation(s) "
                f"{sorted(used)} as input; jkeras rebuilds only layers (operations are "
                "supported only where they compute masks).")
        kept.append(entry)
    return kept


def _endpoint_list(value, what):
    """`[name, node, tensor]` or a list / dict of those, as (structure, flat entries)."""
    if isinstance(value, dict):
        return value, list(value.values())
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], str):
        return None, [list(value)]  # Keras 3 writes a single endpoint unnested
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"Expected '{what}' to list [layer, node, tensor] entries. "
                         f"Received: {value!r:.200}")
    return list(value), [list(v) for v in value]


def functional_from_config(cls, config, custom_objects=None, created_layers=None):
    """Rebuilds a functional model from a Keras 2 or Keras 3 config. `created_layers`
    (name -> layer) supplies layers to use instead of deserializing them (cloning)."""
    if not isinstance(config, dict) or "layers" not in config:
        raise ValueError(
            "Expected a functional model config with 'layers', 'input_layers' and "
            f"'output_layers'. Received keys: "
            f"{sorted(config) if isinstance(config, dict) else type(config).__name__}")
    style = _config_style(config)
    layer_list = config["layers"]
    if style == KERAS3:
        layer_list = _without_mask_ops(layer_list, custom_objects)
    builder = _GraphBuilder(custom_objects, created_layers, style)
    pending = collections.OrderedDict()
    for layer_data in layer_list:
        name, _ = builder.add_layer(layer_data)
        nodes = list(layer_data.get("inbound_nodes") or [])
        if nodes:
            pending[name] = nodes
    while pending:
        progressed = False
        for name in list(pending):
            nodes = pending[name]
            while nodes:
                try:
                    builder.call(name, nodes[0])
                except _NotReady:
                    break
                nodes.pop(0)
                progressed = True
            if not nodes:
                del pending[name]
        if not progressed:
            raise ValueError(
                "The model config cannot be rebuilt: the inbound nodes of layer(s) "
                f"{list(pending)} refer to nodes that are never created.")

    def endpoints(key):
        if key not in config:
            raise ValueError(f"The model config has no '{key}'.")
        structure, entries = _endpoint_list(config[key], key)
        tensors = []
        for entry in entries:
            try:
                tensors.append(builder.tensor(*entry[:3], endpoint=True))
            except _NotReady:
                raise ValueError(f"'{key}' refers to node {entry[1]} of layer '{entry[0]}', "
                                 "which the config never creates.") from None
        if isinstance(structure, dict):
            return dict(zip(structure, tensors))
        return tensors[0] if len(tensors) == 1 else tensors

    inputs, outputs = endpoints("input_layers"), endpoints("output_layers")
    model = cls(inputs=inputs, outputs=outputs, name=config.get("name"))
    if config.get("trainable") is False:
        model.trainable = False
    return model


def sequential_from_config(cls, config, custom_objects=None):
    """Rebuilds a Sequential model from `{"name", "layers"}` (or a bare list of layers)."""
    if isinstance(config, list):  # Keras 2.2 and older wrote just the layer list
        config = {"layers": config}
    if not isinstance(config, dict) or "layers" not in config:
        raise ValueError(f"Expected a Sequential config with 'layers'. Received: "
                         f"{config!r:.200}")
    model = cls(name=config.get("name"))
    for layer_data in config["layers"]:
        model.add(deserialize_layer(layer_data, custom_objects))
    shape = config.get("build_input_shape")
    if not model._is_graph_network and shape and model.layers:
        model.build(standardize_shape(shape))
    if config.get("trainable") is False:
        model.trainable = False
    return model


def model_from_config(config, custom_objects=None):
    """A model (or layer) from `{"class_name", "config"}` as `to_json` writes it."""
    if isinstance(config, list):
        raise TypeError(
            "`model_from_config` expects a dictionary, not a list. Received: "
            f"config={config!r:.200}. Did you mean `Sequential.from_config(config)`?")
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "Expected a model config: a dict with 'class_name' and 'config' keys. "
            f"Received: {config!r:.200}")
    return deserialize_layer(config, custom_objects)
