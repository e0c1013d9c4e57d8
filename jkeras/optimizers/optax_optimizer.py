"""`OptaxOptimizer`: any optax transformation behind the optimizer interface, its
injected hyperparameters readable and settable from the host."""
import jax.numpy as jnp
import numpy as np
import optax

from jkeras.optimizers.host_variable import HostVariable, put_like
from jkeras.optimizers.optimizer import Optimizer

__all__ = ["OptaxOptimizer"]


def _is_float_scalar(value):
    dtype = getattr(value, "dtype", None) or np.asarray(value).dtype
    return np.ndim(value) == 0 and np.issubdtype(dtype, np.floating)


class OptaxOptimizer(Optimizer):
    """Wraps an optax `GradientTransformation` as-is.

    When its state has `hyperparams` (built with `optax.inject_hyperparams`), those become
    readable and settable (`opt.lr`) once a state has been seen; `count` gives
    `iterations`.
    """

    def __init__(self, transformation, name="OptaxOptimizer"):
        if not isinstance(transformation, optax.GradientTransformation):
            raise TypeError("Expected an optax.GradientTransformation. "
                            f"Received: {type(transformation).__name__}")
        object.__setattr__(self, "_hypers", {})
        self.name = name
        self._tx = transformation
        self._iterations = HostVariable("iterations", None, "int64")
        self._observed = None

    def transformation(self):
        return self._tx

    def _see(self, opt_state):
        injected = getattr(opt_state, "hyperparams", None)
        if isinstance(injected, dict):
            for name, value in injected.items():
                if name not in self._hypers and _is_float_scalar(value):
                    self._hypers[name] = HostVariable(name, None)
        return injected

    def sync_state(self, opt_state):
        injected = self._see(opt_state)
        if not isinstance(injected, dict):
            return opt_state
        changed = {name: hyper.numpy().item() for name, hyper in self._hypers.items()
                   if hyper.changed and name in injected}
        if not changed:
            return opt_state
        new = dict(injected)
        for name, value in changed.items():
            new[name] = put_like(value, injected[name], jnp.asarray(injected[name]).dtype)
            self._hypers[name].changed = False
        return opt_state._replace(hyperparams=new)

    def observe_state(self, opt_state):
        self._observed = opt_state
        injected = self._see(opt_state)
        if isinstance(injected, dict):
            for name, hyper in self._hypers.items():
                if name in injected:
                    hyper._observe(injected[name])
        count = getattr(opt_state, "count", None)
        if count is not None:
            self._iterations._observe(count)

    def __setattr__(self, name, value):
        hypers = self.__dict__.get("_hypers")
        key = "learning_rate" if name == "lr" else name
        if hypers is not None and key in hypers:
            hypers[key].assign(value)
        else:
            object.__setattr__(self, name, value)

    def get_config(self):
        raise NotImplementedError(
            f"{self.name} wraps an optax transformation, which has no Keras config.")
