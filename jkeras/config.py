"""`keras.config`: Keras 3's names for the global settings kept in `jkeras._config`."""
from jkeras._config import (  # noqa: F401 - re-exported under Keras 3's names
    disable_flash_attention, enable_flash_attention, epsilon, floatx, image_data_format,
    is_flash_attention_enabled, set_epsilon, set_floatx, set_image_data_format)
from jkeras.dtype_policies import global_policy as dtype_policy
from jkeras.dtype_policies import set_global_policy as set_dtype_policy

__all__ = ["disable_flash_attention", "enable_flash_attention", "epsilon", "floatx",
           "image_data_format", "is_flash_attention_enabled", "set_epsilon", "set_floatx",
           "set_image_data_format", "dtype_policy", "set_dtype_policy"]
