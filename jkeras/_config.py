"""The one home of jkeras's global settings: floatx, epsilon, image data format, the seed
and the HDF5 load guard.

Everything else in the package is pure; it reads these values through the functions here
(re-exported by `jkeras.backend`) and never keeps global state of its own.
"""
import os

import jax

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_SEED_STATE = {"seed": None, "counter": 0}
# The HDF5 load guard (jkeras/saving/file_guard.py): when it runs and its time limit.
LOAD_GUARD_MODES = ("always", "safe_mode", "never")
LOAD_GUARD_ENV = "JKERAS_LOAD_GUARD"
_LOAD_GUARD = {"mode": None, "timeout": 30.0}  # mode None: the environment, else "always"


def floatx():
    return _FLOATX


def set_floatx(value):
    global _FLOATX
    if value not in ("float16", "bfloat16", "float32", "float64"):
        raise ValueError(
            "Unknown floatx type. Expected one of 'float16', 'bfloat16', 'float32', "
            f"'float64'. Received: floatx={value!r}")
    _FLOATX = str(value)


def epsilon():
    return _EPSILON


def set_epsilon(value):
    global _EPSILON
    _EPSILON = float(value)


def image_data_format():
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format):
    global _IMAGE_DATA_FORMAT
    data_format = str(data_format).lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "Expected data_format to be 'channels_last' or 'channels_first'. "
            f"Received: data_format={data_format!r}")
    _IMAGE_DATA_FORMAT = data_format


def normalize_data_format(value):
    """Resolves a layer's `data_format` argument (None means the global default)."""
    if value is None:
        return _IMAGE_DATA_FORMAT
    data_format = str(value).lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "Expected data_format to be 'channels_last', 'channels_first' or None. "
            f"Received: data_format={value!r}")
    return data_format


def set_seed(seed):
    """Restarts jkeras's key stream from `seed` (None: a fresh random seed)."""
    _SEED_STATE["seed"] = None if seed is None else int(seed)
    _SEED_STATE["counter"] = 0


def next_key():
    """A new PRNG key from the global stream: the same sequence for the same seed."""
    if _SEED_STATE["seed"] is None:
        import secrets
        _SEED_STATE["seed"] = secrets.randbits(31)
    counter = _SEED_STATE["counter"]
    _SEED_STATE["counter"] = counter + 1
    return jax.random.fold_in(jax.random.PRNGKey(_SEED_STATE["seed"]), counter)


def next_seed():
    """A new integer seed from the global stream (for NumPy-side randomness)."""
    import numpy as np
    return int(np.asarray(jax.random.randint(next_key(), (), 0, 2**31 - 1)))


def _guard_mode(value, what):
    aliases = {"1": "always", "true": "always", "on": "always", "0": "never",
               "false": "never", "off": "never"}
    mode = aliases.get(str(value).strip().lower(), str(value).strip().lower())
    if mode not in LOAD_GUARD_MODES:
        raise ValueError(f"Expected {what} to be one of {LOAD_GUARD_MODES} (or True / "
                         f"False). Received: {what}={value!r}")
    return mode


def load_guard():
    """`(mode, timeout_s)` of the HDF5 load guard. The mode is what `set_load_guard` set,
    else the environment variable JKERAS_LOAD_GUARD, else "always"."""
    mode = _LOAD_GUARD["mode"]
    if mode is None:
        env = os.environ.get(LOAD_GUARD_ENV)
        mode = _guard_mode(env, LOAD_GUARD_ENV) if env else "always"
    return mode, _LOAD_GUARD["timeout"]


def set_load_guard(mode="always", timeout=None):
    """When HDF5 files are checked in a child process before loading: "always" (or True),
    "safe_mode" (only while safe mode is on), "never" (or False); None goes back to the
    environment variable / default. `timeout` (seconds) is how long a check may take
    before the file is called damaged (default 30)."""
    if isinstance(mode, bool):
        mode = "always" if mode else "never"
    mode = None if mode is None else _guard_mode(mode, "mode")
    if timeout is not None and (isinstance(timeout, bool) or
                                not isinstance(timeout, (int, float)) or not timeout > 0):
        raise ValueError(f"Expected timeout to be a positive number of seconds. "
                         f"Received: timeout={timeout!r}")
    _LOAD_GUARD["mode"] = mode
    if timeout is not None:
        _LOAD_GUARD["timeout"] = float(timeout)
