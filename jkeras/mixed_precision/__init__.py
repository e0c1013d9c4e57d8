"""Mixed precision under Keras's names: dtype policies (compute in 16 bits, keep variables
in float32) and dynamic loss scaling (`LossScaleOptimizer`). `experimental` holds Keras
2.3's spellings (`experimental.Policy`, `set_policy`, `global_policy`)."""
import sys
import types

from jkeras.dtype_policies import DTypePolicy, Policy, global_policy, set_global_policy
from jkeras.mixed_precision.loss_scale_optimizer import (
    LossScaleOptimizer, LossScaleState, scale_loss, unscale)

__all__ = ["Policy", "DTypePolicy", "global_policy", "set_global_policy", "set_policy",
           "dtype_policy", "set_dtype_policy", "LossScaleOptimizer", "LossScaleState",
           "scale_loss", "unscale", "experimental"]

set_policy = set_global_policy       # Keras 2.3
dtype_policy = global_policy         # Keras 3
set_dtype_policy = set_global_policy  # Keras 3


def _experimental_loss_scale_optimizer(optimizer, loss_scale="dynamic"):
    """Keras 2.3's `experimental.LossScaleOptimizer(optimizer, loss_scale)`: 'dynamic' or
    a fixed number."""
    if loss_scale == "dynamic":
        return LossScaleOptimizer(optimizer)
    return LossScaleOptimizer(optimizer, dynamic=False, initial_scale=loss_scale)


experimental = types.ModuleType(f"{__name__}.experimental",
                                "Keras 2.3's mixed_precision.experimental names.")
for _name, _value in {"Policy": Policy, "global_policy": global_policy,
                      "set_policy": set_global_policy,
                      "LossScaleOptimizer": _experimental_loss_scale_optimizer}.items():
    setattr(experimental, _name, _value)
sys.modules[experimental.__name__] = experimental
