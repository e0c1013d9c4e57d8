"""What the HDF5 layout and the `.keras` archive share at the file level: opening HDF5
files through the load guard, turning HDF5's errors into ValueErrors that name the file,
groups, datasets and attributes (long lists split across attributes as Keras does), and
JSON that takes NumPy values."""
import contextlib
import json
import os

import numpy as np

from jkeras.saving import file_guard

__all__ = [
    "KERAS_FORMAT_VERSION", "BACKEND_NAME", "HDF5_OBJECT_HEADER_LIMIT", "HDF5_SIGNATURE",
    "h5py_module", "save_attributes", "decode_attr", "load_attributes", "attr_text",
    "open_h5", "reading", "is_hdf5", "get_group", "read_dataset", "json_default", "dumps",
]

# The Keras version whose file layout this module follows, written as `keras_version`.
KERAS_FORMAT_VERSION = "2.15.0"
BACKEND_NAME = "jax"
HDF5_OBJECT_HEADER_LIMIT = 64512
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def h5py_module():
    import h5py
    return h5py


# ---------------------------------------------------------------------------- attributes
def save_attributes(group, name, data):
    """Writes a list of strings as attribute `name`, split into `name0`, `name1`, ...
    when it exceeds the HDF5 object header limit (as Keras does)."""
    encoded = [x.encode("utf8") if isinstance(x, str) else x for x in data]
    too_long = [x for x in encoded if len(x) > HDF5_OBJECT_HEADER_LIMIT]
    if too_long:
        raise RuntimeError(
            f"Attribute {name} has entries longer than {HDF5_OBJECT_HEADER_LIMIT} bytes, "
            "which HDF5 cannot store.")
    array = np.asarray(encoded) if encoded else np.asarray([], dtype="S1")
    chunks = 1
    parts = np.array_split(array, chunks)
    while any(p.nbytes > HDF5_OBJECT_HEADER_LIMIT for p in parts):
        chunks += 1
        parts = np.array_split(array, chunks)
    if chunks > 1:
        for index, part in enumerate(parts):
            group.attrs[f"{name}{index}"] = part
    else:
        group.attrs[name] = array


def decode_attr(value):
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def load_attributes(group, name):
    """The list of strings `save_attributes` wrote (chunked or not)."""
    if name in group.attrs:
        return [decode_attr(v) for v in np.atleast_1d(group.attrs[name])]
    data, index = [], 0
    while f"{name}{index}" in group.attrs:
        data.extend(decode_attr(v) for v in np.atleast_1d(group.attrs[f"{name}{index}"]))
        index += 1
    return data


def attr_text(attrs, name):
    value = attrs.get(name)
    if value is None:
        return None
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value.item()
    return decode_attr(value)


# ---------------------------------------------------------------------------- files
def open_h5(filepath, mode="r", safe_mode=None):
    """Opens an HDF5 file; an unreadable file raises OSError naming it. For reading, the
    file is checked first (`file_guard`): a damaged one raises DamagedFileError."""
    h5py = h5py_module()
    path = os.fspath(filepath)
    if mode == "r":
        if not os.path.exists(path):
            raise FileNotFoundError(f"No such file: {path}")
        file_guard.check_file(path, safe_mode)
    try:
        return h5py.File(path, mode)
    except OSError as e:
        raise OSError(f"Unable to open {path} as an HDF5 file (it may be truncated or "
                      f"corrupted): {e}") from None


@contextlib.contextmanager
def reading(filepath):
    """Around code that only reads an open file: the errors h5py raises for damaged
    structures (RuntimeError, TypeError, KeyError out of HDF5) become a ValueError naming
    the file. Building and changing models happens outside it."""
    try:
        yield
    except (RuntimeError, TypeError, KeyError) as e:
        raise ValueError(f"File {filepath} could not be read: it is damaged or not a Keras "
                         f"file ({type(e).__name__}: {e}).") from e


def is_hdf5(filepath):
    try:
        with open(filepath, "rb") as f:
            return f.read(8) == HDF5_SIGNATURE
    except OSError:
        return False


def get_group(parent, name, filepath):
    h5py = h5py_module()
    try:
        item = parent[name]
    except (KeyError, ValueError, OSError) as e:
        raise ValueError(
            f"File {filepath} has no group '{name}' under '{parent.name}' (it is not a "
            f"Keras weights file of the expected layout, or it is damaged): {e}") from None
    if not isinstance(item, h5py.Group):
        raise ValueError(f"File {filepath}: '{item.name}' should be a group, found a "
                         f"{type(item).__name__}.")
    return item


def read_dataset(group, name, filepath):
    h5py = h5py_module()
    try:
        item = group[name]
    except (KeyError, ValueError, OSError) as e:
        raise ValueError(
            f"File {filepath} has no weight '{name}' in '{group.name}': {e}") from None
    if not isinstance(item, h5py.Dataset):
        raise ValueError(f"File {filepath}: '{item.name}' should be a dataset, found a "
                         f"{type(item).__name__}.")
    try:
        value = item[()]
    except (OSError, ValueError, TypeError, MemoryError) as e:
        raise ValueError(f"File {filepath}: cannot read dataset '{item.name}' (the file "
                         f"may be damaged): {e}") from None
    value = np.asarray(value)
    if value.dtype.kind not in "biuf":
        raise ValueError(f"File {filepath}: dataset '{item.name}' holds {value.dtype} "
                         "values, not numbers.")
    return value


def json_default(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"Not JSON serializable: {obj!r}")


def dumps(value):
    return json.dumps(value, default=json_default)
