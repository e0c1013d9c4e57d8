"""Optimizers that scale each parameter's step by an accumulator of its squared
gradients: `RMSprop`, `Adagrad` and `Adadelta`."""
import jax.numpy as jnp

from jkeras.optimizers.host_variable import scalar_value
from jkeras.optimizers.optimizer import Optimizer

__all__ = ["RMSprop", "Adagrad", "Adadelta"]


class RMSprop(Optimizer):
    """Divides the gradient by a moving root mean square of recent gradients.

    Slots: `velocity`; `momentum` when momentum > 0; `average_gradient` when centered.
    Epsilon is added inside the square root.
    """

    slot_names = ("velocity", "momentum", "average_gradient")
    legacy_slot_names = {"velocity": "rms", "momentum": "momentum", "average_gradient": "mg"}
    _hyper_names = ("rho", "momentum")

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, name="RMSprop", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self._add_hyper("rho", rho)
        self._add_hyper("momentum", momentum)
        self.epsilon = float(epsilon)
        self.centered = bool(centered)
        self._has_momentum = scalar_value("momentum", momentum) > 0

    def _slot_specs(self):
        specs = [("velocity", 0.0)]
        if self._has_momentum:
            specs.append(("momentum", 0.0))
        if self.centered:
            specs.append(("average_gradient", 0.0))
        return specs

    def _update_leaf(self, grad, param, slots, hp, lr, step, shared):
        rho = hp["rho"]
        new = {"velocity": rho * slots["velocity"] + (1 - rho) * jnp.square(grad)}
        if self.centered:
            new["average_gradient"] = rho * slots["average_gradient"] + (1 - rho) * grad
            denominator = new["velocity"] - jnp.square(new["average_gradient"]) + self.epsilon
        else:
            denominator = new["velocity"] + self.epsilon
        increment = lr * grad / jnp.sqrt(denominator)
        if self._has_momentum:
            new["momentum"] = hp["momentum"] * slots["momentum"] + increment
            return -new["momentum"], new
        return -increment, new

    def _own_config(self):
        return {"rho": self._hyper_value("rho"), "momentum": self._hyper_value("momentum"),
                "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    """Per-parameter rates scaled by the root of the sum of squared gradients.

    Slots: `accumulator` (starts at initial_accumulator_value).
    """

    slot_names = ("accumulator",)
    legacy_slot_names = {"accumulator": "accumulator"}

    def __init__(self, learning_rate=0.01, initial_accumulator_value=0.0, epsilon=1e-7,
                 name="Adagrad", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        if scalar_value("initial_accumulator_value", initial_accumulator_value) < 0:
            raise ValueError("Expected `initial_accumulator_value` >= 0. Received: "
                             f"initial_accumulator_value={initial_accumulator_value}")
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def _slot_specs(self):
        return [("accumulator", self.initial_accumulator_value)]

    def _update_leaf(self, grad, param, slots, hp, lr, step, shared):
        accumulator = slots["accumulator"] + jnp.square(grad)
        delta = -(lr * grad) / jnp.sqrt(accumulator + self.epsilon)
        return delta, {"accumulator": accumulator}

    def _own_config(self):
        return {"initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta: steps scaled by moving RMS of past updates over moving RMS of gradients.

    Slots: `accumulated_grad`, `accumulated_delta_var`.
    """

    slot_names = ("accumulated_grad", "accumulated_delta_var")
    legacy_slot_names = {"accumulated_grad": "accum_grad", "accumulated_delta_var": "accum_var"}
    _hyper_names = ("rho",)

    def __init__(self, learning_rate=1.0, rho=0.95, epsilon=1e-7, name="Adadelta",
                 **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self._add_hyper("rho", rho)
        self.epsilon = float(epsilon)

    def _slot_specs(self):
        return [("accumulated_grad", 0.0), ("accumulated_delta_var", 0.0)]

    def _update_leaf(self, grad, param, slots, hp, lr, step, shared):
        rho = hp["rho"]
        rms = lambda x: jnp.sqrt(x + self.epsilon)  # noqa: E731
        accumulated_grad = rho * slots["accumulated_grad"] + (1 - rho) * jnp.square(grad)
        delta_var = -(rms(slots["accumulated_delta_var"]) * grad) / rms(accumulated_grad)
        accumulated_delta = (rho * slots["accumulated_delta_var"]
                             + (1 - rho) * jnp.square(delta_var))
        return lr * delta_var, {"accumulated_grad": accumulated_grad,
                                "accumulated_delta_var": accumulated_delta}

    def _own_config(self):
        return {"rho": self._hyper_value("rho"), "epsilon": self.epsilon}
