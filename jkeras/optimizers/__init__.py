"""Keras optimizers as optax transformations whose hyperparameters live in their state.

`optimizer` holds the base class (the step every optimizer shares: unscaling, clipping,
weight decay, the moving average) and `host_variable` the host's view of its
hyperparameters; one module per family of algorithms (`sgd`, `adaptive`, `adam`, `ftrl`,
`lion`), `optax_optimizer` for a plain optax transformation, `lookup` for names and
configs. `jkeras.optimizers.schedules`, `.legacy` and `.experimental` import as Keras's.
"""
import sys
import types

from jkeras import schedules
from jkeras.optimizers.host_variable import HostVariable
from jkeras.optimizers.optimizer import Optimizer, OptimizerState
from jkeras.optimizers.sgd import SGD
from jkeras.optimizers.adaptive import Adadelta, Adagrad, RMSprop
from jkeras.optimizers.adam import Adam, Adamax, AdamW, Nadam
from jkeras.optimizers.ftrl import Ftrl
from jkeras.optimizers.lion import Lion
from jkeras.optimizers.optax_optimizer import OptaxOptimizer
from jkeras.optimizers.lookup import BUILTINS, deserialize, get, serialize

__all__ = [
    "Optimizer", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "Adamax", "Nadam", "AdamW",
    "Ftrl", "Lion", "OptaxOptimizer", "OptimizerState", "HostVariable", "get", "serialize",
    "deserialize", "schedules", "legacy", "experimental",
]


def _namespace(name, objects):
    """A module `jkeras.optimizers.<name>` holding `objects`, importable by that path."""
    module = types.ModuleType(f"{__name__}.{name}", f"Keras 2's optimizers.{name} names.")
    for key, value in objects.items():
        setattr(module, key, value)
    sys.modules[module.__name__] = module
    return module


sys.modules[f"{__name__}.schedules"] = schedules
legacy = _namespace("legacy", BUILTINS)
experimental = _namespace("experimental", BUILTINS)
