"""The one home of jkeras's global settings: floatx, epsilon, image data format, the seed,
op determinism, the global dtype policy's name, the flash attention switch, the device
data budget, the distribution (and the replica split of a data-parallel step being
traced) and the HDF5 load guard.

Everything else in the package is pure; it reads these values through the functions here
(re-exported by `jkeras.backend`) and never keeps global state of its own.
"""
import contextlib
import os
import re

import jax

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_SEED_STATE = {"seed": None, "counter": 0}
_DTYPE_POLICY = {"name": None}        # None: follow floatx()
_FLASH_ATTENTION = {"enabled": None}  # None: automatic, False: never (Keras 3's values)
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


def next_key_bits():
    """A new raw threefry key (uint32[2]) from the global stream, made on the host: a jit
    takes it as an argument, with no PRNG op dispatched to make it."""
    import numpy as np
    return np.array([0, next_seed()], np.uint32)


def next_seed():
    """A new integer seed from the global stream (for NumPy-side randomness), made on the
    host: the same sequence for the same seed, with no device work."""
    seed = peek_seed()
    _SEED_STATE["counter"] += 1
    return seed


def peek_seed():
    """The seed `next_seed()` will give next, without drawing it (for work done ahead)."""
    if _SEED_STATE["seed"] is None:
        import secrets
        _SEED_STATE["seed"] = secrets.randbits(31)
    # SplitMix64's finalizer of (seed mixed, counter): distinct, well-mixed seeds for a few
    # integer operations (NumPy's SeedSequence took 40-80 us of each `fit`'s set-up).
    return _splitmix64(_splitmix64(_SEED_STATE["seed"]) ^ _SEED_STATE["counter"]) & 0x7FFFFFFF


_MASK64 = (1 << 64) - 1


def _splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


_DEVICE_DATA_BUDGET = {"bytes": None}


def set_device_data_budget(nbytes):
    """How many bytes of training arrays `fit`/`evaluate`/`predict` may keep on the device.

    Arrays within the budget are sent once and batched on the device; larger ones stream
    from the host, batch by batch, two batches ahead. None restores the default: a quarter
    of the accelerator's memory, or 2 GiB on the CPU.
    """
    if nbytes is not None and (not isinstance(nbytes, (int, float)) or nbytes < 0):
        raise ValueError(
            "`nbytes` must be a non-negative number of bytes or None. Received: "
            f"nbytes={nbytes!r}")
    _DEVICE_DATA_BUDGET["bytes"] = None if nbytes is None else int(nbytes)


def device_data_budget():
    if _DEVICE_DATA_BUDGET["bytes"] is not None:
        return _DEVICE_DATA_BUDGET["bytes"]
    device = jax.devices()[0]
    if device.platform != "cpu":
        try:
            return int(device.memory_stats()["bytes_limit"]) // 4
        except Exception:  # noqa: BLE001 - no memory stats on this backend
            pass
    return 2 << 30


# ----------------------------------------------------------------------------- compile ahead
COMPILE_AHEAD_VARIABLE = "JKERAS_COMPILE_AHEAD"


def compile_ahead():
    """Whether `fit` compiles its first step on a worker thread while the host prepares
    the rest (on by default; `JKERAS_COMPILE_AHEAD=0` turns it off)."""
    return os.environ.get(COMPILE_AHEAD_VARIABLE, "1").strip().lower() not in _FALSE

# ----------------------------------------------------------------------------- op determinism
# XLA reads XLA_FLAGS once, when jax starts its first backend; after that the flag is fixed
# for the life of the process. `--xla_gpu_deterministic_ops` is the superset of
# `--xla_gpu_exclude_nondeterministic_ops`: under either, XLA:GPU picks the first (not the
# fastest-measured) GEMM/convolution algorithm, asks cuDNN attention for its deterministic
# backward pass, and turns every scatter (the gradients of gathers, embeddings and
# max-pooling) into a loop over its indices: deterministic, but slow, so in this mode our
# ops avoid scatters (`jkeras.deterministic_ops`). XLA:GPU reductions are tree reductions
# without atomics. On CPU, where runs repeat anyway, the flag changes nothing.
DETERMINISM_VARIABLE = "JKERAS_DETERMINISTIC"
_XLA_FLAG = "--xla_gpu_deterministic_ops"
_XLA_FLAG_TOKEN = re.compile(r"(?:^|(?<=\s))--?xla_gpu_deterministic_ops(?:=(\S*))?(?=\s|$)")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


def _backend_started():
    """Whether jax has created a backend (and so has read XLA_FLAGS for good)."""
    from jax._src import xla_bridge
    started = getattr(xla_bridge, "backends_are_initialized", None)
    if started is not None:
        return bool(started())
    return bool(getattr(xla_bridge, "_backends", None))


def is_op_determinism_enabled():
    """Whether XLA_FLAGS asks XLA for deterministic GPU ops (by `enable_op_determinism`,
    the JKERAS_DETERMINISTIC variable or by hand); the last mention of the flag wins, as in
    XLA."""
    values = _XLA_FLAG_TOKEN.findall(os.environ.get("XLA_FLAGS", ""))
    return bool(values) and values[-1].lower() in ("", "true", "1")


def enable_op_determinism():
    """Makes every later computation run-to-run deterministic on GPU (Keras 2's
    `tf.config.experimental.enable_op_determinism()`): the same inputs give bit-identical
    outputs and gradients, at some cost in step time. Seeds are a separate matter:
    `jkeras.utils.set_random_seed` makes the random numbers the same.

    It sets `--xla_gpu_deterministic_ops=true` in XLA_FLAGS, which XLA reads once, when jax
    starts its backend. Call it at the top of the script, before any jax computation (or
    set JKERAS_DETERMINISTIC=1 in the environment). Raises RuntimeError if the backend has
    already started without the flag."""
    if is_op_determinism_enabled():
        return
    if _backend_started():
        raise RuntimeError(
            "Op determinism was asked for after jax had started its backend, and XLA reads "
            "its flags only at that start. Call jkeras.utils.enable_op_determinism() at "
            "the top of the script, right after `import jkeras` and before any computation "
            "(creating a model or an array, or calling jax.devices(), already starts it), "
            f"or run the script with {DETERMINISM_VARIABLE}=1 in the environment and "
            "import jkeras before using jax.")
    flags = _XLA_FLAG_TOKEN.sub("", os.environ.get("XLA_FLAGS", "")).strip()
    os.environ["XLA_FLAGS"] = f"{flags} {_XLA_FLAG}=true".strip()


def read_determinism_variable():
    """Applies JKERAS_DETERMINISTIC (read once, by `import jkeras`): 1/true/yes/on turns op
    determinism on, 0/false/no/off or unset leaves it alone."""
    value = os.environ.get(DETERMINISM_VARIABLE, "").strip().lower()
    if value in _FALSE:
        return
    if value not in _TRUE:
        raise ValueError(
            f"Expected the environment variable {DETERMINISM_VARIABLE} to be 1 or 0 (or "
            f"true/false, yes/no, on/off). Received: "
            f"{DETERMINISM_VARIABLE}={os.environ[DETERMINISM_VARIABLE]!r}")
    enable_op_determinism()


def dtype_policy_name():
    """The global dtype policy's name ('float32', 'mixed_bfloat16', ...)."""
    return _DTYPE_POLICY["name"] or _FLOATX


def set_dtype_policy_name(name):
    """Sets the global policy by name (checked by `jkeras.mixed_precision`); None resets."""
    _DTYPE_POLICY["name"] = None if name is None else str(name)


def enable_flash_attention():
    """Lets attention layers use fused (flash) attention where inputs allow it (default)."""
    _FLASH_ATTENTION["enabled"] = None


def disable_flash_attention():
    """Keeps attention layers on the exact path unless a layer asks for flash attention."""
    _FLASH_ATTENTION["enabled"] = False


def is_flash_attention_enabled():
    """None (automatic, the default) or False (disabled), as Keras 3 reports it."""
    return _FLASH_ATTENTION["enabled"]


_DISTRIBUTION = {"value": None}


def set_distribution(value):
    """The global `jkeras.distribution.Distribution` (None: one device)."""
    _DISTRIBUTION["value"] = value


def get_distribution():
    return _DISTRIBUTION["value"]


# While a data-parallel train step is traced: `(jax mesh, batch axis name, replicas)`, so
# that BatchNormalization can take its statistics per replica (see layers/normalization.py).
_REPLICAS = {"value": None}


@contextlib.contextmanager
def tracing_replicas(mesh, axis_name, count):
    """Marks the step being traced as split over `count` replicas along `axis_name`."""
    previous, _REPLICAS["value"] = _REPLICAS["value"], (mesh, axis_name, int(count))
    try:
        yield
    finally:
        _REPLICAS["value"] = previous


def batch_replicas():
    """`(mesh, axis name, count)` while a data-parallel step is traced, else None."""
    return _REPLICAS["value"]


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
