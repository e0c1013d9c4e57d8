"""`Lion`: the sign of an interpolated momentum as the step."""
import jax.numpy as jnp

from jkeras.optimizers.optimizer import Optimizer, check_unit_interval

__all__ = ["Lion"]


class Lion(Optimizer):
    """Lion: steps of fixed size in the sign of an interpolated momentum.

    Slots: `momentum`.
    """

    slot_names = ("momentum",)
    legacy_slot_names = {"momentum": "m"}
    _hyper_names = ("beta_1", "beta_2")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, name="Lion", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        check_unit_interval("beta_1", beta_1, low_open=True)
        self._add_hyper("beta_1", beta_1)
        self._add_hyper("beta_2", beta_2)

    def _slot_specs(self):
        return [("momentum", 0.0)]

    def _update_leaf(self, grad, param, slots, hp, lr, step, shared):
        beta_1, beta_2 = hp["beta_1"], hp["beta_2"]
        m = slots["momentum"]
        delta = -lr * jnp.sign(m * beta_1 + grad * (1.0 - beta_1))
        return delta, {"momentum": m * beta_2 + grad * (1.0 - beta_2)}

    def _own_config(self):
        return {"beta_1": self._hyper_value("beta_1"), "beta_2": self._hyper_value("beta_2")}
