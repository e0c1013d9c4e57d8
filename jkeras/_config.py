"""The one home of jkeras's global settings: floatx, epsilon, image data format, the seed,
the global dtype policy's name and the flash attention switch.

Everything else in the package is pure; it reads these values through the functions here
(re-exported by `jkeras.backend`) and never keeps global state of its own.
"""
import jax

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_SEED_STATE = {"seed": None, "counter": 0}
_DTYPE_POLICY = {"name": None}        # None: follow floatx()
_FLASH_ATTENTION = {"enabled": None}  # None: automatic, False: never (Keras 3's values)


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
