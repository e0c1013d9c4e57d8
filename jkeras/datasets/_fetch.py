"""Shared by the dataset loaders: where their files come from, and safe `.npz`/pickle reads.

A loader downloads from its module's `ORIGIN` (a base URL). The `origin=` argument of
`load_data`, a changed module `ORIGIN`, or the `JKERAS_DATASETS_ORIGIN` environment
variable (in that order) point it at another server, e.g. a mirror or a test server;
the published file hashes are only checked for files from the official origin.
"""
import io
import os
import pickle
import zipfile

import numpy as np

from jkeras.utils.data_utils import get_file

KERAS_DATASETS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
ORIGIN_ENV_VAR = "JKERAS_DATASETS_ORIGIN"


def resolve_origin(module_origin, default_origin, origin=None):
    """The base URL to download from, and whether it is the official one."""
    if origin is None:
        if module_origin != default_origin:
            origin = module_origin
        else:
            origin = os.environ.get(ORIGIN_ENV_VAR) or default_origin
    origin = str(origin)
    if not origin.endswith("/"):
        origin += "/"
    official = origin == (default_origin if default_origin.endswith("/")
                          else default_origin + "/")
    return origin, official


def fetch(fname, remote_name, module_origin, default_origin, file_hash=None, origin=None,
          cache_dir=None, **get_file_kwargs):
    """`get_file` for a dataset file; the hash is checked only for the official origin."""
    base, official = resolve_origin(module_origin, default_origin, origin)
    return get_file(fname, origin=base + remote_name,
                    file_hash=file_hash if official else None, cache_dir=cache_dir,
                    **get_file_kwargs)


_ALLOWED_PICKLE_GLOBALS = frozenset({
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("_codecs", "encode"),  # how Python 3 writes bytes under pickle protocol 2
})


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles NumPy arrays and plain Python containers only: nothing a dataset file
    names can make it import or run other code."""

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"Refusing to load `{module}.{name}` from a dataset file; only NumPy arrays and "
            "plain Python containers are allowed.")


def _read_npy(fp):
    try:
        return np.lib.format.read_array(fp, allow_pickle=False)
    except ValueError:  # an object array: its payload is a pickle
        fp.seek(0)
        major, _ = np.lib.format.read_magic(fp)
        if major == 1:
            np.lib.format.read_array_header_1_0(fp)
        elif major in (2, 3):
            np.lib.format.read_array_header_2_0(fp)
        else:
            raise ValueError(f"Unsupported .npy format version {major} in a dataset file")
        return RestrictedUnpickler(fp).load()


def load_npz(path):
    """A dict of the arrays in an `.npz` file; object arrays load through
    `RestrictedUnpickler` instead of a full pickle."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                with archive.open(member) as raw:
                    arrays[member[:-len(".npy")]] = _read_npy(io.BytesIO(raw.read()))
    return arrays


def object_array(sequences):
    """A 1D object array holding one list per entry (never a 2D array)."""
    out = np.empty(len(sequences), dtype=object)
    for i, seq in enumerate(sequences):
        out[i] = seq
    return out


def offset_words(sequences, start_char, index_from):
    """Adds `index_from` to every word index and prepends `start_char` (if not None)."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in seq] for seq in sequences]
    if index_from:
        return [[w + index_from for w in seq] for seq in sequences]
    return [list(seq) for seq in sequences]


def remove_long_sequences(maxlen, sequences, labels):
    """Keeps the sequences shorter than `maxlen` (and their labels)."""
    kept = [(seq, label) for seq, label in zip(sequences, labels) if len(seq) < maxlen]
    return [seq for seq, _ in kept], [label for _, label in kept]


def limit_vocabulary(sequences, num_words, skip_top, oov_char):
    """Words outside [skip_top, num_words) become `oov_char`, or are dropped if it is None.

    As in Keras, `num_words=None` means the largest index present (which itself is then
    outside the range).
    """
    if not num_words:
        num_words = max((max(seq) for seq in sequences if len(seq)), default=0)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in seq]
                for seq in sequences]
    return [[w for w in seq if skip_top <= w < num_words] for seq in sequences]
