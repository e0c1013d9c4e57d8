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

This module holds the weights layout and whole-model files; the optimizer weights live in
`optimizer_weights` and the training config in `training_config`, both re-exported here.
"""
import contextlib
import json
import logging
import os
import warnings
from typing import Optional, Union

from jkeras.engine.model import Model
from jkeras.engine.model_config import model_from_config
from jkeras.engine.model_config_writer import model_to_dict
from jkeras.engine.weight_handle import assign_all
from jkeras.saving import atomic
from jkeras.serialization.object_registry import CustomObjectScope
from jkeras.serialization.safe_mode import SafeModeScope
from jkeras.saving.h5_files import (
    BACKEND_NAME, KERAS_FORMAT_VERSION, attr_text, dumps, get_group, load_attributes, open_h5,
    read_dataset, reading, save_attributes)
from jkeras.saving.optimizer_weights import (
    keras3_named, keras3_optimizer_names, keras3_optimizer_slots, legacy_optimizer_weights,
    optimizer_state, restore_optimizer_weights, save_optimizer_weights, slot_names,
    trainable_entries)
from jkeras.saving.training_config import (compile_args, portable_optimizer_config,
                                           serialize_compile_arg, training_config)

__all__ = [
    "save_model_to_hdf5", "load_model_from_hdf5", "save_weights_to_hdf5",
    "load_weights_from_hdf5", "save_attributes", "load_attributes", "legacy_weights",
    "save_weights_to_group", "read_weights_group", "plan_topological",
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
    assign_all(pairs)


def weight_pairs_from_file(model, f, filepath, by_name=False, skip_mismatch=False):
    """`weight_pairs` of an open legacy-layout file (a weights file or a model file)."""
    return weight_pairs(model, weights_root(f, filepath), filepath, by_name, skip_mismatch)


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
    assign_all(plan_topological(model, saved, filepath))
    if train_config is None:
        if compile:
            _LOG.warning("No training configuration found in %s, so the model was "
                         "*not* compiled. Compile it manually.", filepath)
        return model
    compile_from_config(model, compile_args, train_config, custom_objects, filepath)
    if optimizer is not None:
        restore_optimizer_weights(
            model, keras3_named(model, optimizer) if keras3 else optimizer, filepath)
    return model
