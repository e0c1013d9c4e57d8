"""Entry points for saving and loading: the file format is chosen by `save_format` or the
file name when writing, and by the file's content when reading.

    .h5 / .hdf5     Keras's legacy HDF5 layout (models and weights)
    .keras          a Keras 3 zip archive (config.json, metadata.json, model.weights.h5)
    .weights.h5     Keras 3's weights layout (`layers/<name>/vars/0..n`)
    .msgpack        a jkeras training checkpoint (weights, optimizer state, PRNG key)
"""
import json
import os
from typing import Any, Callable, Optional, Union

from jkeras.engine import host_values, model_config, model_config_writer
from jkeras.engine.base_layer import Layer, flatten
from jkeras.engine.functional import Functional
from jkeras.engine.input_layer import InputLayer
from jkeras.engine.keras_tensor import KerasTensor
from jkeras.engine.model import Model
from jkeras.engine.sequential import Sequential
from jkeras.engine.weight_handle import assign_all
from jkeras.saving import checkpoint, h5_files, hdf5_format, keras_archive
from jkeras.serialization import builtin_tables
from jkeras.serialization.safe_mode import SafeModeScope

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "model_to_json",
           "model_to_yaml", "model_from_config", "model_from_json", "model_from_yaml",
           "clone_model"]

_H5_FORMATS = ("h5", "hdf5", "keras_h5")


def _path(filepath):
    try:
        return os.fspath(filepath)
    except TypeError:
        raise TypeError(
            "Expected `filepath` to be a string or path-like object. Received: "
            f"filepath={filepath!r} of type {type(filepath).__name__}") from None


def _reject_unknown(kwargs, function):
    if kwargs:
        raise TypeError(f"{function}() got unexpected keyword argument(s): {sorted(kwargs)}")


def _no_saved_model(save_format, filepath):
    raise ValueError(
        f"save_format={save_format!r} (TensorFlow SavedModel / checkpoints) is not supported "
        f"by jkeras. Use a '.h5' or '.keras' file instead of {filepath!r}.")


def _model_format(filepath, save_format):
    if save_format is not None:
        fmt = str(save_format).lower()
        if fmt in _H5_FORMATS:
            return "h5"
        if fmt == "keras":
            return "keras"
        if fmt in ("tf", "savedmodel", "tf_saved_model"):
            _no_saved_model(save_format, filepath)
        raise ValueError(f"Unknown save_format {save_format!r}. Expected 'h5' or 'keras'.")
    lower = filepath.lower()
    if lower.endswith(".keras"):
        return "keras"
    if lower.endswith(".msgpack"):
        raise ValueError(
            f"{filepath}: a '.msgpack' file holds a training checkpoint, not a model. Use "
            "`model.save_weights(path)` or `jkeras.saving.save_checkpoint(model, path)`.")
    return "h5"


def _weights_format(filepath, save_format):
    lower = filepath.lower()
    if save_format is not None:
        fmt = str(save_format).lower()
        if fmt in _H5_FORMATS:
            return "keras3_weights" if lower.endswith(".weights.h5") else "h5"
        if fmt in ("msgpack", "checkpoint"):
            return "msgpack"
        if fmt in ("tf", "savedmodel"):
            _no_saved_model(save_format, filepath)
        raise ValueError(f"Unknown save_format {save_format!r} for weights. Expected 'h5' "
                         "or 'msgpack'.")
    if lower.endswith(".msgpack"):
        return "msgpack"
    if lower.endswith(".weights.h5"):
        return "keras3_weights"
    if lower.endswith(".keras"):
        raise ValueError(
            f"{filepath}: weights cannot be saved as a '.keras' archive; use model.save() "
            "for that, or a '.weights.h5' / '.h5' file name.")
    return "h5"


def _sniff(filepath):
    """'hdf5', 'zip' or 'msgpack' from the file's first bytes; raises for anything else."""
    if os.path.isdir(filepath):
        raise ValueError(
            f"{filepath} is a directory (a TensorFlow SavedModel?). jkeras reads '.h5' and "
            "'.keras' files.")
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No such file: {filepath}")
    with open(filepath, "rb") as f:
        head = f.read(8)
    if head == h5_files.HDF5_SIGNATURE:
        return "hdf5"
    if head[:4] == b"PK\x03\x04":
        return "zip"
    if checkpoint.looks_like_checkpoint(filepath):
        return "msgpack"
    raise ValueError(
        f"File {filepath} is not a Keras HDF5 file, a '.keras' archive or a jkeras msgpack "
        f"checkpoint (its first bytes are {head!r}).")


# ---------------------------------------------------------------------------- models
def save_model(model: Model, filepath: Union[str, "os.PathLike[str]"], overwrite: bool = True,
               include_optimizer: bool = True, save_format: Optional[str] = None,
               **kwargs) -> None:
    """Saves a model: Keras HDF5 (`.h5`) or a Keras 3 archive (`.keras`). In a
    multi-process job only process 0 writes (see `host_values.written_by_chief`)."""
    kwargs.pop("signatures", None)
    kwargs.pop("options", None)
    kwargs.pop("save_traces", None)
    _reject_unknown(kwargs, "save_model")
    with host_values.written_by_chief(model, _path(filepath)) as filepath:
        if filepath is not None:
            _save_model(model, filepath, overwrite, include_optimizer, save_format)


def _save_model(model, filepath, overwrite, include_optimizer, save_format):
    if _model_format(filepath, save_format) == "keras":
        keras_archive.save_model(model, filepath, overwrite=overwrite,
                                 include_optimizer=include_optimizer)
    else:
        hdf5_format.save_model_to_hdf5(model, filepath, overwrite=overwrite,
                                       include_optimizer=include_optimizer)


def load_model(filepath: Union[str, "os.PathLike[str]"], custom_objects: Optional[dict] = None,
               compile: bool = True, safe_mode: bool = True, **kwargs) -> Model:
    """Loads a model saved by `model.save` here, by Keras 2 or by Keras 3.

    `safe_mode=True` refuses Lambda layers carrying Python bytecode; classes resolve only
    through `custom_objects`, `custom_object_scope`, registered objects and jkeras's own.
    """
    kwargs.pop("options", None)
    _reject_unknown(kwargs, "load_model")
    filepath = _path(filepath)
    kind = _sniff(filepath)
    if kind == "hdf5":
        return hdf5_format.load_model_from_hdf5(filepath, custom_objects=custom_objects,
                                                compile=compile, safe_mode=safe_mode)
    if kind == "zip":
        return keras_archive.load_model(filepath, custom_objects=custom_objects,
                                        compile=compile, safe_mode=safe_mode)
    raise ValueError(
        f"{filepath} is a msgpack training checkpoint, which holds no architecture: build "
        "the model and call `load_weights` or `jkeras.saving.load_checkpoint`.")


# ---------------------------------------------------------------------------- weights
def save_weights(model: Model, filepath: Union[str, "os.PathLike[str]"], overwrite: bool = True,
                 save_format: Optional[str] = None, **kwargs) -> None:
    """Saves weights: Keras 2 HDF5 layout (`.h5`), Keras 3 layout (`.weights.h5`) or a
    msgpack checkpoint (`.msgpack`). In a multi-process job only process 0 writes."""
    kwargs.pop("options", None)
    _reject_unknown(kwargs, "save_weights")
    with host_values.written_by_chief(model, _path(filepath)) as filepath:
        if filepath is not None:
            _save_weights(model, filepath, overwrite, save_format)


def _save_weights(model, filepath, overwrite, save_format):
    fmt = _weights_format(filepath, save_format)
    if fmt == "msgpack":
        checkpoint.save_checkpoint(model, filepath, overwrite=overwrite)
    elif fmt == "keras3_weights":
        keras_archive.save_weights(model, filepath, overwrite=overwrite)
    else:
        hdf5_format.save_weights_to_hdf5(model, filepath, overwrite=overwrite)


def load_weights(model: Model, filepath: Union[str, "os.PathLike[str]"], by_name: bool = False,
                 skip_mismatch: bool = False, **kwargs) -> Any:
    """Loads weights from any of the formats `save_weights` writes (or Keras writes).

    Topological by default: layers with weights are paired in order. `by_name=True` pairs
    layers by name; `skip_mismatch=True` (with by_name) warns and skips mismatches. Any
    other mismatch raises before a single weight changes.
    """
    kwargs.pop("options", None)
    _reject_unknown(kwargs, "load_weights")
    filepath = _path(filepath)
    kind = _sniff(filepath)
    if not model.built:
        raise ValueError(
            f"Unable to load weights into model {model.name}: it has not created its "
            "weights yet. Call it on a batch of data or `model.build(input_shape)` first.")
    if kind == "msgpack":
        if by_name or skip_mismatch:
            raise ValueError("by_name and skip_mismatch do not apply to msgpack "
                             f"checkpoints ({filepath}): their structure must match.")
        checkpoint.load_checkpoint(model, filepath)
        return None
    if kind == "zip":
        keras_archive.load_weights(model, filepath, by_name=by_name,
                                   skip_mismatch=skip_mismatch)
        return None
    with h5_files.open_h5(filepath) as f, h5_files.reading(filepath):
        if "layer_names" in f.attrs or "layer_names0" in f.attrs or "model_weights" in f:
            hdf5_format.check_skip_mismatch(by_name, skip_mismatch)
            layout = hdf5_format
        else:
            layout = keras_archive
        pairs = layout.weight_pairs_from_file(model, f, filepath, by_name, skip_mismatch)
    assign_all(pairs)
    return None


# ---------------------------------------------------------------------------- configs
def _wrapped_config(model):
    return {**model_config_writer.model_to_dict(model),
            "keras_version": h5_files.KERAS_FORMAT_VERSION,
            "backend": h5_files.BACKEND_NAME}


def model_to_json(model: Model, **kwargs) -> str:
    """The model's architecture as a JSON string (Keras 2 layout)."""
    return json.dumps(_wrapped_config(model), default=h5_files.json_default, **kwargs)


def model_to_yaml(model: Model, **kwargs) -> str:
    """The model's architecture as YAML (plain types only, written with safe_dump)."""
    import yaml
    data = json.loads(model_to_json(model))
    return yaml.safe_dump(data, **kwargs)


def _maybe_safe(safe_mode):
    if safe_mode is None:
        return _Nothing()
    return SafeModeScope(safe_mode)


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def model_from_config(config: dict, custom_objects: Optional[dict] = None,
                      safe_mode: Optional[bool] = None) -> Model:
    """A model from `{"class_name", "config"}` (Keras 2 or Keras 3 layout)."""
    with _maybe_safe(safe_mode):
        return model_config.model_from_config(config, custom_objects=custom_objects)


def model_from_json(json_string: str, custom_objects: Optional[dict] = None,
                    safe_mode: Optional[bool] = None) -> Model:
    """A model from `model.to_json()` output (or Keras's). `safe_mode=None` follows the
    current setting, which refuses Lambda bytecode unless turned off."""
    try:
        config = json.loads(json_string)
    except (TypeError, ValueError) as e:
        raise ValueError(f"model_from_json expects a JSON string. It could not be parsed: "
                         f"{e}") from None
    return model_from_config(config, custom_objects=custom_objects, safe_mode=safe_mode)


def model_from_yaml(yaml_string: str, custom_objects: Optional[dict] = None,
                    safe_mode: Optional[bool] = None) -> Model:
    """A model from `model.to_yaml()` output. Only plain YAML is read (`yaml.safe_load`):
    tags such as `!!python/object` are refused."""
    import yaml
    try:
        config = yaml.safe_load(yaml_string)
    except yaml.constructor.ConstructorError as e:
        raise ValueError(
            "model_from_yaml refuses this YAML: it carries a tag that would construct "
            f"Python objects ({e.problem}). Only plain YAML configs are read.") from None
    except yaml.YAMLError as e:
        raise ValueError(f"model_from_yaml could not parse the YAML: {e}") from None
    return model_from_config(config, custom_objects=custom_objects, safe_mode=safe_mode)


# ---------------------------------------------------------------------------- cloning
def _clone_layer(layer):
    return type(layer).from_config(layer.get_config())


def _check_clone(layer, cloned):
    if not isinstance(cloned, Layer):
        raise ValueError(
            "Expected `clone_function` to return a Layer instance. Received: "
            f"{cloned!r} for layer {layer.name}")
    return cloned


def _clone_sequential(model, input_tensors, clone_function):
    layers = [_check_clone(l, clone_function(l)) for l in model.layers]
    clone = Sequential(name=model.name)
    if input_tensors is not None:
        tensors = flatten(input_tensors)
        if len(tensors) != 1:
            raise ValueError(
                "To clone a Sequential model, pass one input tensor. Received: "
                f"{len(tensors)} tensors.")
        clone.add(tensors[0])
    elif model._is_graph_network:
        first = model._tracked_layers[0]
        if isinstance(first, InputLayer):
            clone.add(InputLayer.from_config(first.get_config()))
    for layer in layers:
        clone.add(layer)
    return clone


def _clone_functional(model, input_tensors, clone_function):
    created, overrides = {}, {}
    if input_tensors is not None:
        tensors = flatten(input_tensors)
        if len(tensors) != len(model.inputs):
            raise ValueError(
                f"Model {model.name} has {len(model.inputs)} input(s), but clone_model "
                f"received {len(tensors)} input tensor(s).")
        for original, tensor in zip(model.inputs, tensors):
            if not isinstance(tensor, KerasTensor) or \
                    not isinstance(tensor._keras_history[0], InputLayer):
                raise ValueError(
                    "clone_model's input_tensors must be `jkeras.Input` tensors. "
                    f"Received: {tensor!r:.200}")
            overrides[original._keras_history[0].name] = tensor._keras_history[0]
    for layer in model.layers:
        if isinstance(layer, InputLayer):
            created[layer.name] = overrides.get(layer.name) or \
                InputLayer.from_config(layer.get_config())
        else:
            created[layer.name] = _check_clone(layer, clone_function(layer))
    config = model_config_writer.functional_config(model)
    return model_config.functional_from_config(Functional, config, created_layers=created)


def clone_model(model: Model, input_tensors: Any = None,
                clone_function: Optional[Callable[[Layer], Layer]] = None) -> Model:
    """A new model with the same architecture and freshly initialized weights.

    `clone_function(layer)` makes each new layer (default: from the layer's config);
    `input_tensors` (Input tensors) replace the model's inputs.
    """
    clone_function = clone_function or _clone_layer
    if isinstance(model, Sequential):
        return _clone_sequential(model, input_tensors, clone_function)
    if not model_config_writer._is_graph_model(model):
        raise ValueError(
            "Expected `model` to be a functional or Sequential model. Subclassed models "
            f"cannot be cloned. Received: {type(model).__name__}")
    return _clone_functional(model, input_tensors, clone_function)


# `Model.save`, `save_weights`, `load_weights`, `to_json` and `to_yaml` (in the engine, which
# never imports saving/) find these functions here.
builtin_tables.provide("saving", lambda: {
    "save_model": save_model, "save_weights": save_weights, "load_weights": load_weights,
    "model_to_json": model_to_json, "model_to_yaml": model_to_yaml})
