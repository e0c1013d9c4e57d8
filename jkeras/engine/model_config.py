"""Model configs, read: Functional and Sequential models and their layers built from the
plain JSON-able data `model_config_writer` writes, in the Keras 2 layout or the Keras 3 one.
This module is also the one import path for model configs: it re-exports the writing side.

Class names resolve only through `custom_object_scope`, `custom_objects`, classes
registered with `register_keras_serializable`, and `jkeras.layers.layer_classes()` (read
through `serialization.builtin_tables`: this module sits below the layers and the model
classes whose configs it writes); the `module` a Keras 3 config names is never imported.
"""
import collections
import inspect

from jkeras import dtype_policies
from jkeras.engine.base_layer import _LAYER_KWARGS, Layer, standardize_shape
from jkeras.engine.input_layer import InputLayer
from jkeras.engine.model import Model
from jkeras.engine.model_config_writer import (
    _CONSTANT_VALUE, _KERAS3_DEFAULTS, KERAS2, KERAS3, _first_node_offset, _model_class,
    functional_config, keras3_tensor, layer_to_keras3, model_to_dict, portable_layer_config,
    sequential_config, serialize_layer)
from jkeras.engine.structure import flatten
from jkeras.serialization import builtin_tables
from jkeras.serialization.object_registry import CustomObjectScope, get_registered_object

__all__ = ["serialize_layer", "keras3_tensor", "functional_config", "sequential_config",
           "model_to_dict", "portable_layer_config", "layer_to_keras3",
           "resolve_layer_class", "deserialize_layer", "functional_from_config",
           "sequential_from_config", "model_from_config"]


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
