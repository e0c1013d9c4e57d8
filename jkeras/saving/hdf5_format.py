"""Keras's legacy HDF5 layout, written and read: whole models (`model.save('m.h5')`) and
weights (`save_weights('w.h5')`).

A model file holds root attributes `model_config`, `training_config` (JSON),
`keras_version` and `backend`; a `model_weights` group whose `layer_names` attribute lists
the layers and, per layer, a group whose `weight_names` attribute lists datasets named as
the variables were (`dense/kernel:0`); and, when the optimizer has state, an
`optimizer_weights` group with Keras 2's names (`Adam/iter:0`, `Adam/dense/kernel/m:0`).
A weights file is the `model_weights` layout at the root. A nested model is one entry of
`layer_names` whose weights are those of its layers.

Per layer, weights are in Keras's legacy order: trainable ones, then the others. Loading
checks every layer before assigning anything, so a failed load leaves the model as it was.
Files written by Keras 3 (paths such as `sub/inner/kernel`, optimizer names such as
`adam/dense_kernel_momentum`) and by Keras 2 (both optimizer generations) are read.
"""
import contextlib
import json
import logging
import os
import re
import warnings
from typing import Optional, Union

import numpy as np

from jkeras import losses, metrics, optimizers
from jkeras.engine.model import Model
from jkeras.engine.model_config import model_from_config, model_to_dict
from jkeras.optimizers import OptimizerState
from jkeras.saving import atomic
from jkeras.serialization.object_registry import CustomObjectScope, get_registered_name
from jkeras.serialization.safe_mode import SafeModeScope
from jkeras.saving.h5_files import (
    BACKEND_NAME, KERAS_FORMAT_VERSION, attr_text, dumps, get_group, load_attributes, open_h5,
    read_dataset, reading, save_attributes)
from jkeras.trainer.state import tree_get, tree_set

__all__ = [
    "save_model_to_hdf5", "load_model_from_hdf5", "save_weights_to_hdf5",
    "load_weights_from_hdf5", "save_attributes", "load_attributes", "legacy_weights",
    "save_weights_to_group", "read_weights_group", "assign_weights", "plan_topological",
    "plan_by_name", "weight_pairs", "weights_root", "check_skip_mismatch",
    "weight_pairs_from_file", "trainable_entries", "optimizer_state", "slot_names",
    "legacy_optimizer_weights", "save_optimizer_weights", "restore_optimizer_weights",
    "serialize_compile_arg", "portable_optimizer_config", "training_config", "compile_args",
    "malformed", "compile_from_config", "config_to_model", "keras3_optimizer_names",
    "keras3_optimizer_slots",
]

_LOG = logging.getLogger("jkeras")


# ---------------------------------------------------------------------------- weights
def legacy_weights(layer):
    """A layer's (or nested model's) weights in Keras's HDF5 order."""
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def save_weights_to_group(group, model):
    """Writes the `model_weights` layout into `group`."""
    save_attributes(group, "layer_names", [layer.name for layer in model.layers])
    group.attrs["backend"] = BACKEND_NAME.encode("utf8")
    group.attrs["keras_version"] = KERAS_FORMAT_VERSION.encode("utf8")
    for layer in sorted(model.layers, key=lambda l: l.name):
        layer_group = group.create_group(layer.name)
        handles = legacy_weights(layer)
        names = [h.name for h in handles]
        if len(set(names)) != len(names):
            raise ValueError(f"Layer {layer.name} has several weights with the same name: "
                             f"{names}; they cannot be saved in the HDF5 layout.")
        save_attributes(layer_group, "weight_names", names)
        for handle, name in zip(handles, names):
            value = handle.numpy()
            layer_group.create_dataset(name, data=value)
    top = group.create_group("top_level_model_weights")
    save_attributes(top, "weight_names", [])


def read_weights_group(group, filepath):
    """`[(layer_name, [(weight_name, array)])]` in `layer_names` order."""
    names = load_attributes(group, "layer_names")
    if not names and "layer_names" not in group.attrs and "layer_names0" not in group.attrs:
        raise ValueError(
            f"File {filepath} has no 'layer_names' attribute in '{group.name}': it is not "
            "a Keras HDF5 weights file.")
    layers = []
    for name in names:
        layer_group = get_group(group, name, filepath)
        weight_names = load_attributes(layer_group, "weight_names")
        layers.append((name, [(w, read_dataset(layer_group, w, filepath))
                              for w in weight_names]))
    return layers


def _shape_error(layer, handle, value, filepath, saved_name):
    return ValueError(
        f"Shape mismatch for layer {layer.name}, weight {handle.name}: the model expects "
        f"shape {handle.shape}, the file {filepath} holds shape {tuple(value.shape)} "
        f"(saved as {saved_name}).")


def assign_weights(pairs):
    """Sets `(handle, value)` pairs, one `_set_vars` per layer. Shapes must be checked."""
    import jax.numpy as jnp
    by_layer = {}
    for handle, value in pairs:
        by_layer.setdefault(id(handle._layer), (handle._layer, []))[1].append(
            (handle, value))
    for layer, items in by_layer.values():
        variables = layer._get_vars()
        new = {kind: dict(tree) for kind, tree in variables.items()}
        for handle, value in items:
            current = variables[handle._kind][handle._key]
            new[handle._kind][handle._key] = jnp.asarray(value, dtype=current.dtype)
        layer._set_vars(new)


def plan_topological(model, saved_layers, filepath):
    """`(handle, value)` pairs matching the file's layers with weights to the model's, in
    order; raises on any count or shape mismatch before anything is assigned."""
    layers = [layer for layer in model.layers if legacy_weights(layer)]
    saved = [(name, weights) for name, weights in saved_layers if weights]
    if len(saved) != len(layers):
        raise ValueError(
            f"Layer count mismatch when loading weights from file {filepath}: the model "
            f"has {len(layers)} layers with weights ({[l.name for l in layers]}), the file "
            f"has {len(saved)} ({[n for n, _ in saved]}).")
    pairs = []
    for index, (layer, (name, weights)) in enumerate(zip(layers, saved)):
        handles = legacy_weights(layer)
        if len(handles) != len(weights):
            raise ValueError(
                f"Weight count mismatch for layer #{index} (named {layer.name} in the "
                f"current model, {name} in the file {filepath}): the layer expects "
                f"{len(handles)} weight(s), the file holds {len(weights)}.")
        for handle, (saved_name, value) in zip(handles, weights):
            if tuple(value.shape) != handle.shape:
                raise _shape_error(layer, handle, value, filepath, saved_name)
            pairs.append((handle, value))
    return pairs


def plan_by_name(model, saved_layers, filepath, skip_mismatch=False):
    """`(handle, value)` pairs for the layers whose names appear in the file."""
    index = {}
    for layer in model.layers:
        index.setdefault(layer.name, []).append(layer)
    pairs = []
    for k, (name, weights) in enumerate(saved_layers):
        for layer in index.get(name, []):
            handles = legacy_weights(layer)
            if len(handles) != len(weights):
                message = (
                    f"Weight count mismatch for layer #{k} (named {layer.name}): the layer "
                    f"expects {len(handles)} weight(s), the file {filepath} holds "
                    f"{len(weights)}.")
                if skip_mismatch:
                    warnings.warn(f"Skipping loading of weights for layer {layer.name}: "
                                  + message, stacklevel=3)
                    continue
                raise ValueError(message)
            for handle, (saved_name, value) in zip(handles, weights):
                if tuple(value.shape) != handle.shape:
                    if skip_mismatch:
                        warnings.warn(
                            f"Skipping loading weight {handle.name} of layer {layer.name}: "
                            f"the model expects shape {handle.shape}, the file holds "
                            f"shape {tuple(value.shape)}.", stacklevel=3)
                        continue
                    raise _shape_error(layer, handle, value, filepath, saved_name)
                pairs.append((handle, value))
    return pairs


def weight_pairs(model, group, filepath, by_name=False, skip_mismatch=False):
    """`(handle, value)` pairs for the weights in a `model_weights`-layout group; reads and
    checks everything, assigns nothing."""
    saved = read_weights_group(group, filepath)
    if by_name:
        pairs = plan_by_name(model, saved, filepath, skip_mismatch)
    else:
        pairs = plan_topological(model, saved, filepath)
    _check_top_level(group, filepath)
    return pairs


def _check_top_level(group, filepath):
    if "top_level_model_weights" in group:
        top = get_group(group, "top_level_model_weights", filepath)
        if load_attributes(top, "weight_names"):
            raise ValueError(
                f"File {filepath} holds top-level model weights (written by a subclassed "
                "Keras model); jkeras models have weights only in their layers.")


def save_weights_to_hdf5(model: Model, filepath: Union[str, "os.PathLike[str]"], overwrite: bool = True) -> None:
    """`save_weights('w.h5')`: the `model_weights` layout at the file's root."""
    with atomic.atomic_path(filepath, overwrite) as tmp:
        with open_h5(tmp, "w") as f:
            save_weights_to_group(f, model)


def weights_root(f, filepath):
    """The group holding `layer_names`: the root of a weights file or `model_weights`."""
    if "layer_names" in f.attrs or "layer_names0" in f.attrs:
        return f
    if "model_weights" in f:
        return get_group(f, "model_weights", filepath)
    raise ValueError(
        f"File {filepath} is not a Keras HDF5 weights file: it has no 'layer_names' "
        "attribute and no 'model_weights' group.")


def check_skip_mismatch(by_name, skip_mismatch):
    if skip_mismatch and not by_name:
        raise ValueError(
            "When calling model.load_weights, skip_mismatch can only be set to True when "
            "by_name is True.")


def load_weights_from_hdf5(model: Model, filepath: Union[str, "os.PathLike[str]"], by_name: bool = False,
                           skip_mismatch: bool = False) -> None:
    check_skip_mismatch(by_name, skip_mismatch)
    with open_h5(filepath) as f, reading(filepath):
        pairs = weight_pairs_from_file(model, f, filepath, by_name, skip_mismatch)
    assign_weights(pairs)


def weight_pairs_from_file(model, f, filepath, by_name=False, skip_mismatch=False):
    """`weight_pairs` of an open legacy-layout file (a weights file or a model file)."""
    return weight_pairs(model, weights_root(f, filepath), filepath, by_name, skip_mismatch)


# ---------------------------------------------------------------------------- optimizer
def trainable_entries(model):
    """`[(tree path in the params tree, weight path 'layer/key', full path)]` for every
    weight the optimizer updates, in `model.trainable_weights` order."""
    mask = model._trainable_mask_tree()
    out = []

    def walk(m, prefix, mask_tree, names):
        for layer in m._unique_layers():
            sub = mask_tree.get(layer.name, {})
            if isinstance(layer, Model):
                walk(layer, prefix + (layer.name,), sub, names + [layer.name])
                continue
            variables = layer._get_vars() or {"params": {}}
            for key in variables["params"]:
                if sub.get(key, False) is True:
                    out.append((prefix + (layer.name, key), f"{layer.name}/{key}",
                                "/".join(names + [layer.name, key])))
    walk(model, (), mask, [])
    return out


def optimizer_state(model):
    """The model's optimizer state (an OptimizerState) or None if it has none yet."""
    if model.optimizer is None:
        return None
    state = model.get_training_state().get("opt_state")
    return state if isinstance(state, OptimizerState) else None


def slot_names(optimizer, state):
    """The state's slot names in the order the optimizer creates them (Keras's order;
    the state's dict is in sorted order)."""
    try:
        created = [name for name, _ in optimizer._slot_specs()]
    except (AttributeError, TypeError):
        created = list(getattr(optimizer, "slot_names", ()))
    ordered = [name for name in created if name in state.slots]
    return ordered + [name for name in state.slots if name not in ordered]


def legacy_optimizer_weights(model, state):
    """`[(name, array)]` as Keras 2's (legacy) optimizers name their weights."""
    opt = model.optimizer
    prefix = opt.name
    out = [(f"{prefix}/iter:0", np.asarray(state.iterations, np.int64))]
    if "u_product" in state.extras:
        out.append((f"{prefix}/momentum_cache:0",
                    np.asarray(state.extras["u_product"], np.float32)))
    entries = trainable_entries(model)
    for slot in slot_names(opt, state):
        legacy = opt.legacy_slot_names.get(slot, slot)
        for path, weight_path, _ in entries:
            out.append((f"{prefix}/{weight_path}/{legacy}:0",
                        np.asarray(tree_get(state.slots[slot], path))))
    return out


def save_optimizer_weights(f, model):
    state = optimizer_state(model)
    if state is None:
        return
    weights = legacy_optimizer_weights(model, state)
    group = f.create_group("optimizer_weights")
    save_attributes(group, "weight_names", [n for n, _ in weights])
    for name, value in weights:
        group.create_dataset(name, data=value)


def _slot_candidates(model, state):
    """Names a saved slot may have (Keras 2 legacy / tf-keras 2.11+ / Keras 3) ->
    (tree path, our slot name)."""
    opt = model.optimizer
    table = {}
    for path, weight_path, full_path in trainable_entries(model):
        for slot in state.slots:
            legacy = opt.legacy_slot_names.get(slot, slot)
            # Keras 3 prefixes a Sequential model's paths with the model's name.
            for p in (weight_path, full_path, f"{model.name}/{full_path}"):
                for s in {slot, legacy}:
                    table[f"{p}/{s}"] = (path, slot)
                    table[f"{s}/{p}"] = (path, slot)
                    table[f"{p.replace('/', '_')}_{s}"] = (path, slot)
    return table


# Keras 3's Nadam keeps its u_product in an unnamed variable; Keras 3 names those from a
# process-wide counter, so the file says `variable`, `variable_1`, ... by what ran before.
_KERAS3_UNNAMED = re.compile(r"variable(_\d+)?")


def restore_optimizer_weights(model, named_values, source):
    """Puts saved optimizer weights (`[(name, array)]`) into the model's optimizer state.
    Returns True if restored; warns and leaves a fresh state when they do not match."""
    try:
        template = model.optimizer_state_template()
    except Exception as e:  # an optimizer without a state we understand
        warnings.warn(f"Could not build the optimizer state to restore from {source}: {e}. "
                      "The optimizer starts fresh.", stacklevel=3)
        return False
    if not isinstance(template, OptimizerState):
        warnings.warn(f"The optimizer of this model keeps no Keras-style state; the "
                      f"optimizer weights in {source} were not restored.", stacklevel=3)
        return False
    candidates = _slot_candidates(model, template)
    slots = {name: tree for name, tree in template.slots.items()}
    filled = set()
    iterations, extras = None, dict(template.extras)
    problems = []
    for name, value in named_values:
        bare = name[:-2] if name.endswith(":0") else name
        rest = bare.split("/", 1)[1] if "/" in bare else bare
        if bare.rsplit("/", 1)[-1] in ("iter", "iteration", "iterations"):
            iterations = int(np.asarray(value).reshape(()))
            continue
        if rest in ("learning_rate", "lr", "decay") or bare.endswith("/learning_rate"):
            continue  # hyperparameters come from the optimizer config
        if bare.rsplit("/", 1)[-1] in ("momentum_cache", "u_product") or \
                (_KERAS3_UNNAMED.fullmatch(bare) and "u_product" in extras):
            if "u_product" in extras:
                extras["u_product"] = np.asarray(value, np.float32).reshape(())
            continue
        match = candidates.get(rest) or candidates.get(bare)
        if match is None:
            problems.append(f"unknown optimizer weight {name}")
            continue
        path, slot = match
        current = tree_get(slots[slot], path)
        if tuple(np.shape(value)) != tuple(current.shape):
            problems.append(f"{name} has shape {np.shape(value)}, expected "
                            f"{tuple(current.shape)}")
            continue
        slots[slot] = tree_set(slots[slot], path, np.asarray(value, current.dtype))
        filled.add((slot, path))
    expected = {(slot, path) for slot in template.slots
                for path, _, _ in trainable_entries(model)}
    missing = expected - filled
    if not filled and not problems and not iterations:
        return False  # an optimizer that never stepped: the fresh state is the same
    if problems or missing or iterations is None:
        detail = "; ".join(problems[:3]) or (
            f"{len(missing)} slot value(s) missing" if missing else "no iteration count")
        warnings.warn(
            f"The optimizer weights in {source} do not match this model's optimizer "
            f"({detail}). The optimizer starts with a fresh state.", stacklevel=3)
        return False
    state = OptimizerState(np.asarray(iterations, np.int32), dict(template.hyperparams),
                           slots, extras)
    model.set_training_state({"variables": model._get_vars(), "opt_state": state,
                              "key": None})
    return True


# ---------------------------------------------------------------------------- training config
def _portable_object(config, module):
    """A serialized loss or metric both Keras 2 and Keras 3 read: tagged with its module
    (Keras 3 needs it) and with `reduction="auto"` spelled as what it means."""
    if not isinstance(config, dict) or "class_name" not in config:
        return config
    name = config["class_name"]
    inner = dict(config.get("config") or {})
    if inner.get("reduction") == "auto":
        inner["reduction"] = "sum_over_batch_size"
    custom = ">" in name
    return {"module": None if custom else module, "class_name": name.split(">")[-1],
            "config": inner, "registered_name": name if custom else None}


def serialize_compile_arg(value, serialize, module):
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: serialize_compile_arg(v, serialize, module) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [serialize_compile_arg(v, serialize, module) for v in value]
    if isinstance(value, (int, float, str, bool)):
        return value
    return _portable_object(serialize(value), module)


def _is_nadam(class_name):
    return isinstance(class_name, str) and class_name.split(">")[-1].lower() == "nadam"


def portable_optimizer_config(class_name, config):
    """An optimizer config for a file: Nadam's `schedule_decay` (Keras 2 only) is left out
    when it is 1, the schedule Keras 3 and tf.keras 2.11+ always use, so they can read it."""
    config = dict(config)
    if _is_nadam(class_name) and config.get("schedule_decay") == 1.0:
        config.pop("schedule_decay")
    return config


def _optimizer_config_from_file(config):
    """A saved optimizer config with what its writer meant: a Nadam config without
    `schedule_decay` comes from Keras 3 or tf.keras 2.11+, whose schedule is 0.96**t."""
    if not isinstance(config, dict) or not _is_nadam(config.get("class_name")):
        return config
    inner = dict(config.get("config") or {})
    inner.setdefault("schedule_decay", 1.0)
    return {**config, "config": inner}


def training_config(model):
    """The `training_config` attribute: compile arguments as Keras 2 writes them."""
    opt = model.optimizer
    return {
        "loss": serialize_compile_arg(model.loss, losses.serialize, "keras.losses"),
        "metrics": serialize_compile_arg(getattr(model, "_compile_metrics", None),
                                          metrics.serialize, "keras.metrics"),
        "weighted_metrics": serialize_compile_arg(
            getattr(model, "_weighted_metrics", None), metrics.serialize, "keras.metrics"),
        "loss_weights": getattr(model, "loss_weights", None),
        "sample_weight_mode": getattr(model, "sample_weight_mode", None),
        "optimizer_config": {"class_name": get_registered_name(type(opt)),
                             "config": portable_optimizer_config(
                                 get_registered_name(type(opt)), opt.get_config())},
    }


def _deserialize_metric(entry, custom_objects):
    if isinstance(entry, dict) and entry.get("class_name") in (
            "MeanMetricWrapper", "MeanMetricWrapperV2"):
        inner = entry.get("config", {})
        name, fn = inner.get("name"), inner.get("fn")
        if isinstance(name, str) and name in ("accuracy", "acc", "crossentropy", "ce"):
            return name  # resolved against the loss, as Keras 2 did when compiling
        if isinstance(fn, str):
            return fn
    if isinstance(entry, dict):
        return metrics.deserialize(entry, custom_objects=custom_objects)
    return entry


def _map_nested(value, fn):
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _map_nested(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_nested(v, fn) for v in value]
    return fn(value) if value is not None else None


def compile_args(config, custom_objects=None):
    """`compile()` keyword arguments from a `training_config` (Keras 2 or Keras 3)."""
    with CustomObjectScope(custom_objects or {}):
        optimizer = optimizers.deserialize(
            _optimizer_config_from_file(config["optimizer_config"]),
            custom_objects=custom_objects)
        loss = _map_nested(config.get("loss"), lambda e: losses.deserialize(
            e, custom_objects=custom_objects) if isinstance(e, dict) else e)
        metrics_ = _map_nested(config.get("metrics"),
                               lambda e: _deserialize_metric(e, custom_objects))
        weighted = _map_nested(config.get("weighted_metrics"),
                               lambda e: _deserialize_metric(e, custom_objects))
    args = {"optimizer": optimizer, "loss": loss, "metrics": metrics_,
            "weighted_metrics": weighted, "loss_weights": config.get("loss_weights")}
    if config.get("sample_weight_mode") is not None:
        args["sample_weight_mode"] = config["sample_weight_mode"]
    return args


# ---------------------------------------------------------------------------- models

def save_model_to_hdf5(model: Model, filepath: Union[str, "os.PathLike[str]"], overwrite: bool = True,
                       include_optimizer: bool = True) -> None:
    """`model.save('m.h5')`."""
    model_config = model_to_dict(model)
    with atomic.atomic_path(filepath, overwrite) as tmp:
        with open_h5(tmp, "w") as f:
            f.attrs["keras_version"] = KERAS_FORMAT_VERSION.encode("utf8")
            f.attrs["backend"] = BACKEND_NAME.encode("utf8")
            f.attrs["model_config"] = dumps(model_config).encode("utf8")
            if include_optimizer and model.optimizer is not None and model.compiled:
                f.attrs["training_config"] = dumps(training_config(model)).encode("utf8")
            save_weights_to_group(f.create_group("model_weights"), model)
            if include_optimizer and model.optimizer is not None and model.compiled:
                save_optimizer_weights(f, model)


def _json_attr(f, name, filepath):
    text = attr_text(f.attrs, name)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as e:
        raise ValueError(f"File {filepath}: attribute '{name}' is not valid JSON: "
                         f"{e}") from None


@contextlib.contextmanager
def malformed(filepath, what):
    """Around code that turns a config read from a file into objects: the errors a config
    of the wrong shape causes (KeyError, IndexError, AttributeError, TypeError) become a
    ValueError naming the file and the config."""
    try:
        yield
    except (KeyError, IndexError, AttributeError, TypeError) as e:
        raise ValueError(f"File {filepath}: the {what} is malformed "
                         f"({type(e).__name__}: {e}).") from e


def compile_from_config(model, args_from_config, config, custom_objects, filepath):
    """`model.compile(**args_from_config(config, custom_objects))` with `custom_objects`
    in scope (names of custom losses and metrics are resolved while compiling)."""
    with malformed(filepath, "training config"):
        args = args_from_config(config, custom_objects)
        with CustomObjectScope(custom_objects or {}):
            model.compile(**args)


def config_to_model(config, custom_objects, safe_mode, filepath):
    """The model a file's config describes; a malformed config raises ValueError naming
    the file (unknown classes, Lambda bytecode in safe mode: their own clear errors)."""
    with SafeModeScope(safe_mode), malformed(filepath, "model config"):
        return model_from_config(config, custom_objects=custom_objects)


def _read_model_file(f, filepath, compile):
    """`(config, saved layers, training config, optimizer weights, written by Keras 3)`:
    all that `load_model` reads from a legacy file, read before anything is built."""
    config = _json_attr(f, "model_config", filepath)
    if config is None:
        raise ValueError(f"No model config found in the file at {filepath}: it is a "
                         "weights file; build the model and call load_weights().")
    group = get_group(f, "model_weights", filepath)
    saved = read_weights_group(group, filepath)
    _check_top_level(group, filepath)
    train_config = _json_attr(f, "training_config", filepath) if compile else None
    optimizer = None
    if train_config is not None and "optimizer_weights" in f:
        opt_group = get_group(f, "optimizer_weights", filepath)
        optimizer = [(n, read_dataset(opt_group, n, filepath))
                     for n in load_attributes(opt_group, "weight_names")]
    keras3 = (attr_text(f.attrs, "keras_version") or "").startswith("3.")
    return config, saved, train_config, optimizer, keras3


def load_model_from_hdf5(filepath: Union[str, "os.PathLike[str]"], custom_objects: Optional[dict] = None,
                         compile: bool = True, safe_mode: bool = True) -> Model:
    """A model from a Keras HDF5 file (written here, by Keras 2 or by Keras 3)."""
    with open_h5(filepath, safe_mode=safe_mode) as f, reading(filepath):
        config, saved, train_config, optimizer, keras3 = _read_model_file(f, filepath,
                                                                          compile)
    model = config_to_model(config, custom_objects, safe_mode, filepath)
    assign_weights(plan_topological(model, saved, filepath))
    if train_config is None:
        if compile:
            _LOG.warning("No training configuration found in %s, so the model was "
                         "*not* compiled. Compile it manually.", filepath)
        return model
    compile_from_config(model, compile_args, train_config, custom_objects, filepath)
    if optimizer is not None:
        restore_optimizer_weights(
            model, _keras3_named(model, optimizer) if keras3 else optimizer, filepath)
    return model


def _keras3_named(model, values):
    """Keras 3 saves its optimizer variables by position (its names, such as Nadam's
    `variable_1`, are not unique to a slot): `values` named by their place in Keras 3's
    order, when their count matches this model's optimizer."""
    ours = keras3_optimizer_slots(model)
    if ours is None or len(ours) != len(values):
        return values
    return [(name, value) for name, (_, value) in zip(ours, values)]


# ----------------------------------------------------------------- Keras 3 optimizer order
# Keras 3 creates optimizer slots in groups; names inside a group alternate per variable.
_KERAS3_SLOT_GROUPS = {
    "Adam": [("momentum", "velocity"), ("velocity_hat",)],
    "Adamax": [("momentum", "norm")],
    "Nadam": [("momentum", "velocity")],
    "Adadelta": [("accumulated_grad", "accumulated_delta_var")],
    "Ftrl": [("accumulator", "linear")],
}


def _slot_order(optimizer, state):
    """Keras 3's order of slot variables: groups of names, alternating per variable."""
    active = [s for s in slot_names(optimizer, state) if s != "average"]
    for cls in type(optimizer).__mro__:
        if cls.__name__ in _KERAS3_SLOT_GROUPS:
            groups = [tuple(s for s in g if s in active)
                      for g in _KERAS3_SLOT_GROUPS[cls.__name__]]
            listed = {s for g in groups for s in g}
            groups += [(s,) for s in active if s not in listed]
            return [g for g in groups if g]
    return [(s,) for s in active]


def keras3_optimizer_names(model, state):
    """`[(name, getter)]` of optimizer variables in Keras 3's order; the getter reads the
    value from a state. Names use Keras 3's `adam/dense_kernel_momentum` form."""
    opt = model.optimizer
    base = opt.name.lower()
    entries = trainable_entries(model)
    out = [(f"{base}/iteration", lambda s: np.asarray(s.iterations, np.int64))]
    if opt._schedule is None:
        out.append((f"{base}/learning_rate",
                    lambda s: np.asarray(s.hyperparams["learning_rate"], np.float32)))
    groups = ([("average",)] if "average" in state.slots else []) + _slot_order(opt, state)
    for group in groups:
        for path, _, full in entries:
            for slot in group:
                out.append((f"{base}/{full.replace('/', '_')}_{slot}",
                            lambda s, p=path, n=slot: np.asarray(
                                tree_get(s.slots[n], p))))
    if "u_product" in state.extras:
        out.append((f"{base}/u_product",
                    lambda s: np.asarray(s.extras["u_product"], np.float32)))
    return out


def keras3_optimizer_slots(model):
    """The names of the model's optimizer variables in Keras 3's order (the order Keras 3
    saves them in, by position), or None for an optimizer without a Keras-style state."""
    try:
        template = model.optimizer_state_template()
    except Exception:  # optimizers without a Keras-style state
        return None
    if not isinstance(template, OptimizerState):
        return None
    return [name for name, _ in keras3_optimizer_names(model, template)]
