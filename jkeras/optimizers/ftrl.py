"""`Ftrl`: Follow The Regularized Leader, as Keras computes it."""
import jax.numpy as jnp

from jkeras.optimizers.host_variable import scalar_value
from jkeras.optimizers.optimizer import Optimizer

__all__ = ["Ftrl"]


class Ftrl(Optimizer):
    """Follow The Regularized Leader, with L1, L2 and L2-shrinkage regularization.

    Slots: `accumulator` (starts at initial_accumulator_value), `linear`.
    """

    slot_names = ("accumulator", "linear")
    legacy_slot_names = {"accumulator": "accumulator", "linear": "linear"}

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, name="Ftrl",
                 l2_shrinkage_regularization_strength=0.0, beta=0.0, **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        checks = {"initial_accumulator_value": initial_accumulator_value,
                  "l1_regularization_strength": l1_regularization_strength,
                  "l2_regularization_strength": l2_regularization_strength,
                  "l2_shrinkage_regularization_strength": l2_shrinkage_regularization_strength}
        for key, value in checks.items():
            if scalar_value(key, value) < 0:
                raise ValueError(f"Expected `{key}` >= 0. Received: {key}={value}")
        if scalar_value("learning_rate_power", learning_rate_power) > 0:
            raise ValueError("Expected `learning_rate_power` <= 0. Received: "
                             f"learning_rate_power={learning_rate_power}")
        self.learning_rate_power = float(learning_rate_power)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.l1_regularization_strength = float(l1_regularization_strength)
        self.l2_regularization_strength = float(l2_regularization_strength)
        self.l2_shrinkage_regularization_strength = float(
            l2_shrinkage_regularization_strength)
        self.beta = float(beta)

    def _slot_specs(self):
        return [("accumulator", self.initial_accumulator_value), ("linear", 0.0)]

    def _update_leaf(self, grad, param, slots, hp, lr, step, shared):
        power = -self.learning_rate_power
        accumulator = slots["accumulator"]
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        shrunk_grad = grad + 2 * self.l2_shrinkage_regularization_strength * param
        new_accumulator = accumulator + jnp.square(grad)
        sigma = (jnp.power(new_accumulator, power) - jnp.power(accumulator, power)) / lr
        linear = slots["linear"] + (shrunk_grad - sigma * param)
        quadratic = jnp.power(new_accumulator, power) / lr + 2 * l2
        l1 = self.l1_regularization_strength
        new_param = (jnp.clip(linear, -l1, l1) - linear) / quadratic
        return new_param - param, {"accumulator": new_accumulator, "linear": linear}

    def _own_config(self):
        return {"initial_accumulator_value": self.initial_accumulator_value,
                "learning_rate_power": self.learning_rate_power,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "beta": self.beta,
                "l2_shrinkage_regularization_strength":
                    self.l2_shrinkage_regularization_strength}
