"""Small tensor functions of Keras 2's backend: size, identity, slice, repeat, sparse
checks, data-format normalization, uid counters and the TensorFlow-graph helpers that have
nothing to do under jax (accepted so Keras 2 code runs)."""
import contextlib

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import sparse as jsparse

from jkeras import _config
from jkeras.engine import keras_tensor, naming

__all__ = ["normalize_data_format", "size", "identity", "slice", "repeat", "is_sparse",
           "to_dense", "is_tensor", "get_uid", "reset_uids", "control_dependencies",
           "manual_variable_initialization", "symbolic", "eager"]


def normalize_data_format(value):
    """'channels_first' or 'channels_last' (any case); None gives the global setting."""
    if value is None:
        return _config.image_data_format()
    if not isinstance(value, str) or value.lower() not in ("channels_first",
                                                           "channels_last"):
        raise ValueError("`data_format` must be 'channels_first' or 'channels_last'. "
                         f"Received: data_format={value!r}")
    return value.lower()


def size(x, name=None):
    """The number of entries of `x`, as an int32 scalar array."""
    return jnp.asarray(np.prod(jnp.shape(x)), dtype=jnp.int32)


def identity(x, name=None):
    """An array equal to `x`."""
    return jnp.array(x, copy=True)


def slice(x, start, size):
    """`x[start[i]:start[i] + size[i]]` on every axis; a size of -1 runs to the end."""
    x = jnp.asarray(x)
    start, size = [int(s) for s in start], [int(s) for s in size]
    if not len(start) == len(size) == x.ndim:
        raise ValueError("slice: `start` and `size` need one entry per axis of x. "
                         f"Received: x.shape={tuple(x.shape)}, start={start}, size={size}")
    size = [d - s if n == -1 else n for d, s, n in zip(x.shape, start, size)]
    return jax.lax.slice(x, start, [s + n for s, n in zip(start, size)])


def repeat(x, n):
    """A 2D `(batch, dim)` array repeated `n` times on a new axis 1: `(batch, n, dim)`."""
    x = jnp.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"repeat needs a 2D input. Received: x.shape={tuple(x.shape)}")
    return jnp.repeat(x[:, None, :], int(n), axis=1)


def is_sparse(tensor):
    """True for jax's sparse arrays (`jax.experimental.sparse.BCOO`)."""
    return isinstance(tensor, jsparse.JAXSparse)


def to_dense(tensor):
    """A sparse array as a dense one; anything else unchanged."""
    return tensor.todense() if is_sparse(tensor) else tensor


def is_tensor(x):
    """True for jax arrays and symbolic tensors; False for NumPy arrays and numbers."""
    return isinstance(x, (jax.Array, keras_tensor.KerasTensor))


def get_uid(prefix=""):
    """1, 2, 3, ... on successive calls with one `prefix` (cleared by `reset_uids`)."""
    name = naming.unique_name("uid:" + prefix, zero_based=False)
    return int(name.rsplit("_", 1)[1])


def reset_uids():
    """Restarts every automatic name counter (and `get_uid`'s)."""
    naming.reset_uids()


@contextlib.contextmanager
def control_dependencies(control_inputs):
    """A no-op: jax orders computations by their data, not by declared dependencies."""
    yield


def manual_variable_initialization(value):
    """Accepted for TensorFlow 1 code; jkeras variables always hold their values."""


def symbolic(func):
    """Keras 2's graph-mode decorator; functions here run the same in both modes."""
    return func


def eager(func):
    """Keras 2's eager-mode decorator; functions here run the same in both modes."""
    return func
