"""Keras 3 formats: `.keras` zip archives and `.weights.h5` files, read and written.

An archive holds `config.json` (the model in Keras 3's config schema, with `module`,
`registered_name` and `build_config` entries), `metadata.json` and `model.weights.h5`.
The weights file stores each layer's variables as datasets `0..n` of a `vars` group at a
path Keras 3 derives from the object graph: `layers/<snake_case class name>` (made
unique with `_1`, `_2`, ... among siblings), then attribute names for sub-objects
(`cell`, `forward_layer`, `layer`, `query_dense`, ...). The optimizer's variables are under
`optimizer/vars`, in Keras 3's order.
"""
import datetime
import io
import json
import os
import re
import warnings
import zipfile
from typing import Optional, Union

from jkeras import _version, losses, metrics
from jkeras.engine import composite
from jkeras.engine.base_layer import Layer
from jkeras.engine.model import Model
from jkeras.engine.model_config_writer import layer_to_keras3
from jkeras.engine.weight_handle import assign_all
from jkeras.layers import recurrent, wrappers
from jkeras.layers.recurrent import StackedRNNCells
from jkeras.saving import (atomic, file_guard, h5_files, hdf5_format, optimizer_weights,
                           training_config)
from jkeras.serialization.object_registry import get_registered_name

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "weight_pairs_from_file",
           "variable_groups", "layer_layout", "keras3_snake_case"]

KERAS3_FORMAT_VERSION = "3.5.0"
CONFIG_FILE = "config.json"
METADATA_FILE = "metadata.json"
WEIGHTS_FILE = "model.weights.h5"
_MAX_MEMBER_BYTES = 4 << 30

_MHA_SUBLAYERS = {"query": "query_dense", "key": "key_dense", "value": "value_dense",
                  "attention_output": "output_dense"}


def keras3_snake_case(name):
    """Keras 3's `to_snake_case` (it names the groups of a `.weights.h5` file)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _unique(base, used):
    if base in used:
        used[base] += 1
        return f"{base}_{used[base]}"
    used[base] = 0
    return base


# ---------------------------------------------------------------------------- configs
def _keras3_optimizer_config(optimizer):
    name = get_registered_name(type(optimizer))
    config = training_config.portable_optimizer_config(name, optimizer.get_config())
    if not config.get("decay"):
        config.pop("decay", None)
    custom = name != type(optimizer).__name__
    return {"module": None if custom else "keras.optimizers", "class_name": name,
            "config": config, "registered_name": name if custom else None}


def _compile_config(model):
    serialize = training_config.serialize_compile_arg
    return {"optimizer": _keras3_optimizer_config(model.optimizer),
            "loss": serialize(model.loss, losses.serialize, "keras.losses"),
            "loss_weights": getattr(model, "loss_weights", None),
            "metrics": serialize(getattr(model, "_compile_metrics", None), metrics.serialize,
                                 "keras.metrics"),
            "weighted_metrics": serialize(getattr(model, "_weighted_metrics", None),
                                          metrics.serialize, "keras.metrics"),
            "run_eagerly": False, "steps_per_execution": model._steps_per_execution,
            "jit_compile": True}


def _compile_args_from_keras3(config, custom_objects):
    """`compile()` arguments from a Keras 3 `compile_config`."""
    optimizer = config.get("optimizer")
    if optimizer is None:  # Keras 3 drops it when the model was saved to HDF5 before
        warnings.warn("The archive's compile config names no optimizer; compiling with "
                      "'rmsprop', Keras's default.", stacklevel=4)
        optimizer = {"class_name": "RMSprop", "config": {}}
    training = {"optimizer_config": optimizer, "loss": config.get("loss"),
                "metrics": config.get("metrics"),
                "weighted_metrics": config.get("weighted_metrics"),
                "loss_weights": config.get("loss_weights")}
    args = training_config.compile_args(training, custom_objects)
    if config.get("steps_per_execution"):
        args["steps_per_execution"] = int(config["steps_per_execution"])
    return args


# ---------------------------------------------------------------------------- weight layout
def _rnn_layout(layer, keys):
    cell = layer.cell
    prefix = layer._cell_prefix()
    if isinstance(cell, StackedRNNCells):
        used, out = {}, []
        for inner in cell.cells:
            start = f"{prefix}{inner.name}/"
            name = _unique(keras3_snake_case(type(inner).__name__), used)
            out.append((f"cell/cells/{name}", [k for k in keys if k.startswith(start)]))
        return out
    return [("cell", list(keys))]


def _sub_layout(sub_path, inner, keys, prefix):
    """Layout of a wrapped layer whose keys are `prefix + its own key`."""
    own = [k[len(prefix):] for k in keys if k.startswith(prefix)]
    return [(f"{sub_path}/{path}" if path else sub_path, [prefix + k for k in ks])
            for path, ks in layer_layout(inner, own)]


def _model_keys_layout(model, keys):
    """A wrapped model's flattened keys `<layer>/<weight>` laid out as its layers."""
    out = []
    for path, layer in _children(model):
        out.extend(_sub_layout(path, layer, keys, f"{layer.name}/"))
    return out


def layer_layout(layer, keys):
    """`[(sub path, [keys])]`: where a layer's variables (given by key, in order) go in
    Keras 3's weights layout, relative to the layer's own group."""
    if isinstance(layer, Model):
        return _model_keys_layout(layer, keys)
    if isinstance(layer, recurrent.RNN):
        return _rnn_layout(layer, keys)
    if isinstance(layer, wrappers.Bidirectional):
        return (_sub_layout("forward_layer", layer.forward_layer, keys,
                            f"{layer.forward_layer.name}/")
                + _sub_layout("backward_layer", layer.backward_layer, keys,
                              f"{layer.backward_layer.name}/"))
    if isinstance(layer, wrappers.TimeDistributed):
        return [(f"layer/{p}" if p else "layer", ks) for p, ks in
                layer_layout(layer.layer, keys)]
    if type(layer).__name__ == "MultiHeadAttention":
        out = []
        for ours, theirs in _MHA_SUBLAYERS.items():
            out.append((theirs, [k for k in keys if k.startswith(ours + "/")]))
        return out
    return [("", list(keys))]


def _name_key(name):
    return f"~{name}" if name.startswith("_") else name


def _container(items, path, used_paths, seen):
    out, used = [], {}
    for item in items:
        name = _unique(keras3_snake_case(type(item).__name__), used)
        if id(item) not in seen:
            seen.add(id(item))
            out.append((f"{path}/{name}", item))
    return out


def _children(model):
    """`[(path relative to the model, layer)]` as Keras 3 names them: `layers/<snake
    case class>` for functional and Sequential models; for subclassed models and layers
    holding layers, the attribute holding each layer, visited in sorted order (a model's
    `layers` among them)."""
    if getattr(model, "_is_graph_network", False) or hasattr(model, "_pending"):
        return _container(model.layers, "layers", {}, set())
    out, seen = [], set()
    attributes = {k: v for k, v in vars(model).items() if not k.startswith("__")}
    names = set(attributes) | ({"layers"} if isinstance(model, Model) else set())
    for attr in sorted(names, key=_name_key):
        value = model.layers if attr == "layers" else attributes[attr]
        if isinstance(value, Layer) and value is not model:
            if id(value) not in seen:
                seen.add(id(value))
                out.append((attr, value))
        elif isinstance(value, (list, tuple, dict)):
            items = list(value.values()) if isinstance(value, dict) else list(value)
            if any(isinstance(i, Layer) for i in items):
                out.extend(_container([i for i in items if isinstance(i, Layer)], attr, {},
                                      seen))
    return out


def _layer_keys(layer):
    handles = layer.weights
    return [h._key for h in handles], {h._key: h for h in handles}


def variable_groups(model, prefix="", visited=None):
    """`[(group path, [weight handles], layer name)]` of the Keras 3 weights layout. As
    Keras 3, a layer met again (shared) is written at the first place only."""
    visited = set() if visited is None else visited
    out = []
    for relative, layer in _children(model):
        out.extend(_layer_groups(layer, prefix + relative, visited))
    return out


def _layer_groups(layer, path, visited=None):
    """The groups of one layer at `path`: a model's (its layers'), a layer's that holds
    layers (its own variables, then its sublayers' by attribute), or a plain layer's."""
    visited = set() if visited is None else visited
    if id(layer) in visited:
        return []
    visited.add(id(layer))
    if isinstance(layer, Model):
        return [(path, [], layer.name)] + variable_groups(layer, path + "/", visited)
    if composite.has_sublayers(layer):
        params, state = layer._weight_handles()  # its own
        out = [(path, params + state, layer.name)]
        for relative, sub in _children(layer):
            out.extend(_layer_groups(sub, f"{path}/{relative}", visited))
        return out
    return _leaf_groups(layer, path)


def _leaf_groups(layer, path):
    keys, by_key = _layer_keys(layer)
    layout = layer_layout(layer, keys)
    out = [] if any(sub == "" for sub, _ in layout) else [(path, [], layer.name)]
    for sub, sub_keys in layout:
        out.append((f"{path}/{sub}" if sub else path, [by_key[k] for k in sub_keys],
                    layer.name))
    return out


def _write_groups(f, model):
    root = f.create_group("vars")
    root.attrs["name"] = model.name
    for path, handles, name in variable_groups(model):
        group = f.require_group(path).create_group("vars")
        group.attrs["name"] = name
        for index, handle in enumerate(handles):
            group.create_dataset(str(index), data=handle.numpy())


def _read_group_values(f, path, count, filepath):
    group_path = f"{path}/vars"
    if count == 0:
        return []
    if group_path not in f:
        raise ValueError(
            f"File {filepath} has no group '{group_path}' (the layer's weights in the "
            "Keras 3 layout); the file does not match this model.")
    group = h5_files.get_group(f, group_path, filepath)
    names = sorted(group.keys(), key=lambda k: int(k) if k.isdigit() else -1)
    if names != [str(i) for i in range(len(names))]:
        raise ValueError(f"File {filepath}: '{group_path}' should hold datasets 0..n, found "
                         f"{names}.")
    if len(names) != count:
        raise ValueError(
            f"Weight count mismatch in file {filepath} at '{group_path}': the model "
            f"expects {count} weight(s), the file holds {len(names)}.")
    return [h5_files.read_dataset(group, n, filepath) for n in names]


def _plan(f, groups, filepath, skip_mismatch):
    pairs, skipped = [], []
    for path, handles, name in groups:
        try:
            values = _read_group_values(f, path, len(handles), filepath)
            for handle, value in zip(handles, values):
                if tuple(value.shape) != handle.shape:
                    raise ValueError(
                        f"Shape mismatch for layer {name}, weight {handle.name}: the model "
                        f"expects shape {handle.shape}, the file {filepath} holds shape "
                        f"{tuple(value.shape)} (at '{path}/vars').")
            pairs.extend(zip(handles, values))
        except ValueError as e:
            if not skip_mismatch:
                raise
            skipped.append(name)
            warnings.warn(f"Skipping loading weights of layer {name}: {e}", stacklevel=4)
    return pairs


def _groups_by_name(f, model, filepath):
    """The model's groups placed at the file's groups named like its layers (the
    `name` attribute Keras 3 writes on each `vars` group)."""
    h5py = h5_files.h5py_module()
    located = {}

    def visit(path, item):
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        if isinstance(item, h5py.Group) and path.endswith("vars") and parent and \
                parent.count("/") <= 1 and "name" in item.attrs:
            located.setdefault(h5_files.decode_attr(item.attrs["name"]), parent)
    f.visititems(visit)
    out = []
    for _, layer in _children(model):
        if layer.name not in located:
            continue
        out.extend(_layer_groups(layer, located[layer.name]))
    return out


def weight_pairs_from_file(model, f, filepath, by_name=False, skip_mismatch=False):
    """`(handle, value)` pairs from an open file in Keras 3's weights layout; reads and
    checks everything, assigns nothing."""
    groups = _groups_by_name(f, model, filepath) if by_name else variable_groups(model)
    return _plan(f, groups, filepath, skip_mismatch)


def save_weights(model: Model, filepath: Union[str, "os.PathLike[str]"], overwrite: bool = True) -> None:
    """`save_weights('m.weights.h5')` in Keras 3's layout."""
    with atomic.atomic_path(filepath, overwrite) as tmp:
        with h5_files.open_h5(tmp, "w") as f:
            _write_groups(f, model)


def load_weights(model: Model, filepath: Union[str, "os.PathLike[str]"], by_name: bool = False,
                 skip_mismatch: bool = False) -> None:
    """Loads a `.weights.h5` file or the weights of a `.keras` archive."""
    if zipfile.is_zipfile(filepath):
        with _open_zip(filepath) as archive:
            opened = _h5_from_bytes(_read_member(archive, WEIGHTS_FILE, filepath), filepath)
    else:
        opened = h5_files.open_h5(filepath)
    with opened as f, h5_files.reading(filepath):
        pairs = weight_pairs_from_file(model, f, filepath, by_name, skip_mismatch)
    assign_all(pairs)


# ---------------------------------------------------------------------------- optimizer
def _write_optimizer(f, model):
    state = optimizer_weights.optimizer_state(model)
    if state is None:
        return
    group = f.require_group("optimizer").create_group("vars")
    group.attrs["name"] = model.optimizer.name.lower()
    for index, (_, getter) in enumerate(optimizer_weights.keras3_optimizer_names(model, state)):
        group.create_dataset(str(index), data=getter(state))


def _optimizer_values(f, filepath):
    """The arrays under `optimizer/vars` in their order (`0`, `1`, ...), or None."""
    if "optimizer/vars" not in f:
        return None
    group = h5_files.get_group(f, "optimizer/vars", filepath)
    return [h5_files.read_dataset(group, str(i), filepath) for i in range(len(group))]


def _restore_optimizer(model, values, filepath):
    names = optimizer_weights.keras3_optimizer_slots(model) if values else None
    if names is None:
        return
    if len(values) != len(names):
        warnings.warn(
            f"The optimizer in {filepath} has {len(values)} variables, this model's "
            f"optimizer has {len(names)}; the optimizer starts with a fresh state.",
            stacklevel=3)
        return
    optimizer_weights.restore_optimizer_weights(model, list(zip(names, values)), filepath)


# ---------------------------------------------------------------------------- archives
def _open_zip(filepath):
    try:
        return zipfile.ZipFile(filepath, "r")
    except (zipfile.BadZipFile, OSError) as e:
        raise ValueError(f"File {filepath} is not a readable '.keras' archive (a zip "
                         f"file): {e}") from None


def _read_member(archive, name, filepath):
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ValueError(f"Archive {filepath} has no '{name}'; it is not a Keras 3 "
                         f"'.keras' file (members: {archive.namelist()[:10]}).") from None
    if info.file_size > _MAX_MEMBER_BYTES:
        raise ValueError(f"Archive {filepath}: member '{name}' claims {info.file_size} "
                         "bytes, more than a model file should hold.")
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise ValueError(f"Archive {filepath}: cannot read '{name}' (the file is "
                         f"damaged): {e}") from None


class _h5_from_bytes:
    """An HDF5 file opened from bytes in memory, checked first by `file_guard`."""

    def __init__(self, data, filepath, safe_mode=None):
        self.data, self.filepath, self.safe_mode = data, filepath, safe_mode

    def __enter__(self):
        import h5py
        file_guard.check_bytes(self.data, f"{self.filepath} (its '{WEIGHTS_FILE}')",
                               self.safe_mode)
        try:
            self.file = h5py.File(io.BytesIO(self.data), "r")
        except OSError as e:
            raise OSError(f"Archive {self.filepath}: '{WEIGHTS_FILE}' is not a readable "
                          f"HDF5 file: {e}") from None
        return self.file

    def __exit__(self, *exc):
        self.file.close()


def _weights_bytes(model, include_optimizer):
    import h5py
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        _write_groups(f, model)
        if include_optimizer and model.optimizer is not None and model.compiled:
            _write_optimizer(f, model)
    return buffer.getvalue()


def save_model(model: Model, filepath: Union[str, "os.PathLike[str]"], overwrite: bool = True,
               include_optimizer: bool = True) -> None:
    """`model.save('m.keras')`: a Keras 3 zip archive."""
    entry = layer_to_keras3(model)
    if include_optimizer and model.optimizer is not None and model.compiled:
        entry["compile_config"] = _compile_config(model)
    config_json = h5_files.dumps(entry)
    metadata = h5_files.dumps({
        "keras_version": KERAS3_FORMAT_VERSION, "jkeras_version": _version.__version__,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})
    weights = _weights_bytes(model, include_optimizer)
    with atomic.atomic_path(filepath, overwrite) as tmp:
        with zipfile.ZipFile(tmp, "w") as archive:
            archive.writestr(METADATA_FILE, metadata)
            archive.writestr(CONFIG_FILE, config_json)
            archive.writestr(WEIGHTS_FILE, weights)


def load_model(filepath: Union[str, "os.PathLike[str]"], custom_objects: Optional[dict] = None,
               compile: bool = True, safe_mode: bool = True) -> Model:
    """A model from a `.keras` archive (written here or by Keras 3)."""
    filepath = os.fspath(filepath)
    with _open_zip(filepath) as archive:
        config_text = _read_member(archive, CONFIG_FILE, filepath)
        weights = _read_member(archive, WEIGHTS_FILE, filepath)
    try:
        config = json.loads(config_text)
    except ValueError as e:
        raise ValueError(f"Archive {filepath}: '{CONFIG_FILE}' is not valid JSON: "
                         f"{e}") from None
    model = hdf5_format.config_to_model(config, custom_objects, safe_mode, filepath)
    compile_config = config.get("compile_config") if compile else None
    with _h5_from_bytes(weights, filepath, safe_mode) as f, h5_files.reading(filepath):
        pairs = weight_pairs_from_file(model, f, filepath)
        optimizer = _optimizer_values(f, filepath) if compile_config else None
    assign_all(pairs)
    if compile_config:
        hdf5_format.compile_from_config(model, _compile_args_from_keras3, compile_config,
                                        custom_objects, filepath)
        _restore_optimizer(model, optimizer, filepath)
    return model
