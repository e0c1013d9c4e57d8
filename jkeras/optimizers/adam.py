"""The Adam family: `Adam` (with AMSGrad), `AdamW`, `Adamax` and `Nadam`."""
import jax.numpy as jnp

from jkeras.optimizers.host_variable import scalar_value
from jkeras.optimizers.optimizer import HYPER_DTYPE, Optimizer

__all__ = ["Adam", "AdamW", "Adamax", "Nadam"]


class Adam(Optimizer):
    """Adam, with Keras's "epsilon hat": bias correction folded into the step size.

    Slots: `momentum` (m), `velocity` (v), and `velocity_hat` when amsgrad.
    """

    slot_names = ("momentum", "velocity", "velocity_hat")
    legacy_slot_names = {"momentum": "m", "velocity": "v", "velocity_hat": "vhat"}
    _hyper_names = ("beta_1", "beta_2")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name="Adam", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self._add_hyper("beta_1", beta_1)
        self._add_hyper("beta_2", beta_2)
        self.epsilon = float(epsilon)
        self.amsgrad = bool(amsgrad)

    def _slot_specs(self):
        specs = [("momentum", 0.0), ("velocity", 0.0)]
        return specs + [("velocity_hat", 0.0)] if self.amsgrad else specs

    def _update_leaf(self, grad, param, slots, hp, lr, step, shared):
        beta_1, beta_2 = hp["beta_1"], hp["beta_2"]
        local_step = (step + 1).astype(grad.dtype)
        alpha = lr * jnp.sqrt(1 - beta_2 ** local_step) / (1 - beta_1 ** local_step)
        new = {"momentum": slots["momentum"] + (grad - slots["momentum"]) * (1 - beta_1),
               "velocity": slots["velocity"]
               + (jnp.square(grad) - slots["velocity"]) * (1 - beta_2)}
        v = new["velocity"]
        if self.amsgrad:
            v = new["velocity_hat"] = jnp.maximum(slots["velocity_hat"], v)
        return -(new["momentum"] * alpha) / (jnp.sqrt(v) + self.epsilon), new

    def _own_config(self):
        return {"beta_1": self._hyper_value("beta_1"), "beta_2": self._hyper_value("beta_2"),
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (`param -= param * weight_decay * lr` each step).

    Slots: as Adam.
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, name="AdamW", **kwargs):
        if weight_decay is None:
            raise ValueError("Expected `weight_decay` to be a float for AdamW. "
                             "Received: weight_decay=None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, name,
                         weight_decay=weight_decay, **kwargs)


class Adamax(Optimizer):
    """Adam with the infinity norm in place of the second moment.

    Slots: `momentum` (m), `norm` (u).
    """

    slot_names = ("momentum", "norm")
    legacy_slot_names = {"momentum": "m", "norm": "v"}
    _hyper_names = ("beta_1", "beta_2")

    def __init__(self, learning_rate=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name="Adamax", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self._add_hyper("beta_1", beta_1)
        self._add_hyper("beta_2", beta_2)
        self.epsilon = float(epsilon)

    def _slot_specs(self):
        return [("momentum", 0.0), ("norm", 0.0)]

    def _update_leaf(self, grad, param, slots, hp, lr, step, shared):
        beta_1, beta_2 = hp["beta_1"], hp["beta_2"]
        beta_1_power = beta_1 ** (step + 1).astype(grad.dtype)
        m = slots["momentum"] + (grad - slots["momentum"]) * (1 - beta_1)
        u = jnp.maximum(beta_2 * slots["norm"], jnp.abs(grad))
        delta = -(lr * m) / ((1 - beta_1_power) * (u + self.epsilon))
        return delta, {"momentum": m, "norm": u}

    def _own_config(self):
        return {"beta_1": self._hyper_value("beta_1"), "beta_2": self._hyper_value("beta_2"),
                "epsilon": self.epsilon}


_NADAM_DECAY = 0.96


class Nadam(Optimizer):
    """Adam with Nesterov momentum and the momentum-cache schedule of Dozat (2016).

    Slots: `momentum` (m), `velocity` (v); `state.extras['u_product']` is the product
    of the momentum schedule so far.
    """

    slot_names = ("momentum", "velocity")
    legacy_slot_names = {"momentum": "m", "velocity": "v"}
    _hyper_names = ("beta_1", "beta_2")

    def __init__(self, learning_rate=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 schedule_decay=0.004, name="Nadam", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self._add_hyper("beta_1", beta_1)
        self._add_hyper("beta_2", beta_2)
        self.epsilon = float(epsilon)
        if scalar_value("schedule_decay", schedule_decay) < 0:
            raise ValueError(f"Expected `schedule_decay` >= 0. Received: "
                             f"schedule_decay={schedule_decay}")
        self.schedule_decay = float(schedule_decay)

    def _momentum_cache(self, beta_1, step):
        """Keras 2's warming momentum: beta_1 * (1 - 0.5 * 0.96 ** (step * schedule_decay)).
        Keras 3 uses 0.96 ** step, which is `schedule_decay=1`."""
        return beta_1 * (1.0 - 0.5 * jnp.power(_NADAM_DECAY, step * self.schedule_decay))

    def _slot_specs(self):
        return [("momentum", 0.0), ("velocity", 0.0)]

    def _init_extras(self):
        return {"u_product": jnp.asarray(1.0, HYPER_DTYPE)}

    def _step_extras(self, extras, hyperparams, step):
        local_step = (step + 1).astype(HYPER_DTYPE)
        u_product = extras["u_product"] * self._momentum_cache(hyperparams["beta_1"],
                                                               local_step)
        return {"u_product": u_product}, {"u_product": u_product}

    def _update_leaf(self, grad, param, slots, hp, lr, step, shared):
        dtype = grad.dtype
        beta_1, beta_2 = hp["beta_1"], hp["beta_2"]
        local_step = (step + 1).astype(dtype)
        u_t = self._momentum_cache(beta_1, local_step).astype(dtype)
        u_t_1 = self._momentum_cache(beta_1, local_step + 1).astype(dtype)
        u_product_t = shared["u_product"].astype(dtype)
        u_product_t_1 = u_product_t * u_t_1
        m = slots["momentum"] + (grad - slots["momentum"]) * (1 - beta_1)
        v = slots["velocity"] + (jnp.square(grad) - slots["velocity"]) * (1 - beta_2)
        m_hat = u_t_1 * m / (1 - u_product_t_1) + (1 - u_t) * grad / (1 - u_product_t)
        v_hat = v / (1 - beta_2 ** local_step)
        return -(m_hat * lr) / (jnp.sqrt(v_hat) + self.epsilon), {"momentum": m,
                                                                    "velocity": v}

    def _own_config(self):
        return {"beta_1": self._hyper_value("beta_1"), "beta_2": self._hyper_value("beta_2"),
                "epsilon": self.epsilon, "schedule_decay": self.schedule_decay}
