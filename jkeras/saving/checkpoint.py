"""Training checkpoints in msgpack: everything a bit-exact resume needs.

A checkpoint holds the model's variables (params and state, a stateful RNN's carry
included), the optimizer state, the trainer's PRNG key and step counter, as
`model.get_training_state()` returns them, plus metadata (epoch, step). Loading restores
into a template built from the model itself: the structure (layers in order, their
weights in order), shapes and dtypes must match, and nothing is changed unless all of
them do. Layer names may differ (a fresh
model gets new automatic names): layers are paired in order, as topological HDF5 loading
pairs them.

`BackupAndRestore` writes this format too (its metadata adds `hyperparameters`).

Layout: a msgpack map `{"format": "jkeras-checkpoint", "version": 1, "metadata": {...},
"state": tree}` where a tree is maps (insertion order kept), lists (tuples and named
tuples are written as lists), None, and arrays as `{"__ndarray__": [dtype, shape, bytes]}`
(C order, little-endian).
"""
import numpy as np

from jkeras import _version
from jkeras.saving import atomic

__all__ = ["FORMAT", "VERSION", "save_checkpoint", "load_checkpoint", "looks_like_checkpoint",
           "encode_checkpoint", "decode_checkpoint", "read_checkpoint", "restore_state",
           "read_training_state"]

FORMAT = "jkeras-checkpoint"
VERSION = 1
_ARRAY_KEY = "__ndarray__"


def _msgpack():
    import msgpack
    return msgpack


# ---------------------------------------------------------------------------- encoding
def _encode(tree, path="state"):
    if tree is None:
        return None
    if isinstance(tree, dict):
        for key in tree:
            if not isinstance(key, str):
                raise TypeError(f"Checkpoint trees need string keys; {path} has key "
                                f"{key!r}.")
        return {key: _encode(value, f"{path}/{key}") for key, value in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_encode(value, f"{path}[{i}]") for i, value in enumerate(tree)]
    if isinstance(tree, (bool, int, float, str)):
        return tree
    array = np.asarray(tree)
    little = array.astype(array.dtype.newbyteorder("<"), copy=False)
    return {_ARRAY_KEY: [_dtype_code(array.dtype, path), list(array.shape),
                         np.ascontiguousarray(little).tobytes()]}


def _dtype_code(dtype, path):
    """NumPy's code without byte order ('f4', 'i8', 'b1'), or the name of a float type
    NumPy lacks and jax adds ('bfloat16')."""
    if dtype.kind in "biuf":
        return dtype.str.lstrip("<>|=")
    import jax.numpy as jnp
    if dtype.kind == "V" and jnp.issubdtype(dtype, jnp.floating):
        return dtype.name
    raise TypeError(f"Cannot write {path} of dtype {dtype} to a checkpoint.")


def _dtype_from_code(code):
    try:
        return np.dtype(code)
    except TypeError:  # a name NumPy does not know: one of jax's extra float types
        import jax.numpy as jnp
        return np.dtype(jnp.dtype(code))


def _decode_array(payload, path, source):
    try:
        dtype, shape, data = payload
        dtype = _dtype_from_code(dtype)
        array = np.frombuffer(data, dtype=dtype.newbyteorder("<"))
        return array.reshape(tuple(shape)).astype(dtype, copy=True)
    except (TypeError, ValueError) as e:
        raise ValueError(f"Checkpoint {source}: the array at {path} is damaged: {e}") \
            from None


def _restore(template, saved, path, source):
    """`saved` arranged as `template` (named tuples rebuilt); raises on any mismatch."""
    if template is None:
        if saved is not None:
            raise ValueError(f"Checkpoint {source} does not match the model: {path} holds "
                             "a value where the model has none.")
        return None
    if isinstance(template, dict):
        if not isinstance(saved, dict) or _ARRAY_KEY in saved:
            raise ValueError(f"Checkpoint {source} does not match the model: expected a "
                             f"mapping at {path}, found {type(saved).__name__}.")
        if set(saved) != set(template):
            missing = sorted(set(template) - set(saved))
            extra = sorted(set(saved) - set(template))
            raise ValueError(
                f"Checkpoint {source} does not match the model at {path}: missing "
                f"{missing}, unexpected {extra}.")
        return {key: _restore(value, saved[key], f"{path}/{key}", source)
                for key, value in template.items()}
    if isinstance(template, (list, tuple)):
        if not isinstance(saved, list) or len(saved) != len(template):
            got = len(saved) if isinstance(saved, list) else type(saved).__name__
            raise ValueError(
                f"Checkpoint {source} does not match the model at {path}: expected a "
                f"sequence of {len(template)} entries, found {got}.")
        items = [_restore(t, s, f"{path}[{i}]", source)
                 for i, (t, s) in enumerate(zip(template, saved))]
        if hasattr(template, "_fields"):
            return type(template)(*items)
        return type(template)(items) if isinstance(template, tuple) else items
    expected = np.asarray(template)
    if not isinstance(saved, dict) or _ARRAY_KEY not in saved:
        raise ValueError(f"Checkpoint {source} does not match the model: expected an array "
                         f"at {path}, found {type(saved).__name__}.")
    value = _decode_array(saved[_ARRAY_KEY], path, source)
    if value.shape != expected.shape or value.dtype != expected.dtype:
        raise ValueError(
            f"Checkpoint {source} does not match the model at {path}: the model has "
            f"shape {expected.shape} dtype {expected.dtype}, the checkpoint shape "
            f"{value.shape} dtype {value.dtype}.")
    return value


# ---------------------------------------------------------------------------- layer names
def _name_mapping(saved, template):
    """Pairs the saved layer (and weight) names with the model's, in order, level by
    level: a fresh model of the same architecture may have other automatic names."""
    if not isinstance(saved, dict) or not isinstance(template, dict) or \
            _ARRAY_KEY in saved or len(saved) != len(template):
        return None
    mapping = {}
    for (old, value), (new, reference) in zip(saved.items(), template.items()):
        inner = _name_mapping(value, reference) if isinstance(reference, dict) else None
        mapping[old] = (new, inner)
    return mapping


def _renamed(tree, mapping):
    """`tree` with every mapping keyed like `mapping` renamed (optimizer slots mirror the
    params tree, so they are renamed too)."""
    if isinstance(tree, list):
        return [_renamed(v, mapping) for v in tree]
    if not isinstance(tree, dict) or _ARRAY_KEY in tree:
        return tree
    if mapping and set(tree) == set(mapping):
        return {mapping[k][0]: (_renamed(v, mapping[k][1]) if mapping[k][1] else v)
                for k, v in tree.items()}
    return {k: _renamed(v, mapping) for k, v in tree.items()}


# ---------------------------------------------------------------------------- model state
def _state_of(model):
    return dict(model.get_training_state())


def _template(model, saved):
    """What a checkpoint must look like to fit `model`, from the model itself."""
    import jax
    current = jax.device_get(model.get_training_state())
    unknown = sorted(set(saved) - set(current))
    if unknown:
        raise ValueError(f"The checkpoint holds entries this model's training state does "
                         f"not have: {unknown}.")
    template = {}
    for name, value in current.items():
        if saved.get(name) is None:
            template[name] = None
        elif name == "opt_state":
            if model.optimizer is None or not model.compiled:
                raise ValueError(
                    "The checkpoint holds an optimizer state, but the model is not "
                    "compiled. Compile the model (with the same optimizer) before "
                    "loading it.")
            template[name] = jax.device_get(model.optimizer_state_template())
        elif name == "key" and value is None:
            template[name] = np.zeros((2,), np.uint32)
        else:
            template[name] = value
    return template


def encode_checkpoint(state, metadata):
    """The bytes of a checkpoint holding `state` (a `get_training_state()` tree) and
    `metadata` (a dict of plain values)."""
    payload = {"format": FORMAT, "version": VERSION, "metadata": dict(metadata),
               "state": _encode(dict(state))}
    return _msgpack().packb(payload, use_bin_type=True)


def save_checkpoint(model, filepath, epoch=None, step=None, overwrite=True,
                    hyperparameters=None) -> None:
    """Writes the model's full training state to a msgpack file (atomically).

    `hyperparameters` ({name: number}) records optimizer hyperparameters set on the host
    that the state does not hold yet (BackupAndRestore's learning rate set by a callback).
    """
    metadata = {"epoch": epoch, "step": step, "model_name": model.name,
                "jkeras_version": _version.__version__}
    if hyperparameters:
        metadata["hyperparameters"] = dict(hyperparameters)
    atomic.write_bytes(filepath, encode_checkpoint(_state_of(model), metadata),
                       overwrite=overwrite)


def looks_like_checkpoint(filepath) -> bool:
    """Whether the file starts like a jkeras msgpack checkpoint."""
    try:
        with open(filepath, "rb") as f:
            head = f.read(64)
    except OSError:
        return False
    return bool(head) and (0x80 <= head[0] <= 0x8f or head[0] in (0xde, 0xdf)) and \
        FORMAT.encode() in head


def decode_checkpoint(data, source="<bytes>"):
    """`(metadata, encoded state)` of checkpoint bytes; damaged data raises ValueError
    naming `source`."""
    msgpack = _msgpack()
    try:
        payload = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except Exception as e:  # msgpack raises several types for truncated or bad data
        raise ValueError(f"Checkpoint {source} cannot be read (truncated or corrupted): "
                         f"{type(e).__name__}: {e}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"File {source} is not a jkeras msgpack checkpoint.")
    if payload.get("version") != VERSION:
        raise ValueError(f"Checkpoint {source} has format version "
                         f"{payload.get('version')!r}; this jkeras reads version {VERSION}.")
    state = payload.get("state")
    if not isinstance(state, dict) or "variables" not in state:
        raise ValueError(f"Checkpoint {source} holds no model variables.")
    return dict(payload.get("metadata") or {}), state


def read_checkpoint(filepath):
    """`(metadata, encoded state)` of a checkpoint file; damaged files raise ValueError."""
    with open(filepath, "rb") as f:
        data = f.read()
    return decode_checkpoint(data, filepath)


def restore_state(template, saved, source):
    """The decoded state `saved` arranged as `template` (host arrays), layers paired in
    order when their names differ; a ValueError says where they do not match."""
    mapping = _name_mapping(saved.get("variables", {}).get("params"),
                            template["variables"]["params"])
    if mapping:
        saved = _renamed(saved, mapping)
    return _restore(template, {k: saved.get(k) for k in template}, "state", source)


def read_training_state(model, filepath):
    """`(metadata, state)`: a checkpoint file checked against `model` and decoded into the
    structure of `model.get_training_state()`, without changing the model."""
    metadata, saved = read_checkpoint(filepath)
    return metadata, restore_state(_template(model, saved), saved, filepath)


def load_checkpoint(model, filepath) -> dict:
    """Restores a checkpoint into `model` and returns its metadata (epoch, step, ...).

    The model must have the same structure (and, if the checkpoint has an optimizer
    state, be compiled with the same optimizer); otherwise a ValueError says where they
    differ and the model is left unchanged.
    """
    metadata, restored = read_training_state(model, filepath)
    model.set_training_state(restored)
    return metadata
