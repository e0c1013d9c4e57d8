"""`keras.config`: Keras 3's names for the global settings a user reads and changes
(floatx, epsilon, image data format, dtype policy, flash attention, unsafe deserialization,
op determinism, the device data budget). The state itself lives in `jkeras._config` (and
the loading switch in `jkeras.serialization.safe_mode`); this module only names it.
"""
from jkeras._config import (  # noqa: F401 - re-exported under Keras 3's names
    device_data_budget, disable_flash_attention, enable_flash_attention,
    enable_op_determinism, epsilon, floatx, image_data_format, is_flash_attention_enabled,
    is_op_determinism_enabled, set_device_data_budget, set_epsilon, set_floatx,
    set_image_data_format)
from jkeras.backend import backend
from jkeras.dtype_policies import global_policy as dtype_policy
from jkeras.dtype_policies import set_global_policy as set_dtype_policy
from jkeras.serialization.safe_mode import enable_unsafe_deserialization

__all__ = ["backend", "device_data_budget", "disable_flash_attention", "dtype_policy",
           "enable_flash_attention", "enable_op_determinism", "enable_unsafe_deserialization",
           "epsilon", "floatx", "image_data_format", "is_flash_attention_enabled",
           "is_op_determinism_enabled", "set_device_data_budget", "set_dtype_policy",
           "set_epsilon", "set_floatx", "set_image_data_format"]
