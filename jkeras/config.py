"""`keras.config`: the global settings a user reads and changes (floatx, epsilon, image data
format, unsafe deserialization, op determinism), in one public place.

The state itself lives in `jkeras._config` (and the loading switch in
`jkeras.saving.safe_mode`); this module only names it the way Keras 3 does.
"""
from jkeras._config import (device_data_budget, enable_op_determinism, epsilon, floatx,
                            image_data_format, is_op_determinism_enabled,
                            set_device_data_budget, set_epsilon, set_floatx,
                            set_image_data_format)
from jkeras.backend import backend
from jkeras.saving.safe_mode import enable_unsafe_deserialization

__all__ = ["backend", "device_data_budget", "set_device_data_budget", "enable_op_determinism", "enable_unsafe_deserialization", "epsilon",
           "floatx", "image_data_format", "is_op_determinism_enabled", "set_epsilon",
           "set_floatx", "set_image_data_format"]

