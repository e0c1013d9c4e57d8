"""`SGD`: gradient descent with optional (Nesterov) momentum."""
from jkeras.optimizers.host_variable import scalar_value
from jkeras.optimizers.optimizer import Optimizer, check_unit_interval

__all__ = ["SGD"]


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum.

    Slots: `momentum` (only when momentum != 0).
    """

    slot_names = ("momentum",)
    legacy_slot_names = {"momentum": "momentum"}
    _hyper_names = ("momentum",)

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD",
                 **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        check_unit_interval("momentum", momentum)
        self._add_hyper("momentum", momentum)
        self.nesterov = bool(nesterov)
        self._has_momentum = scalar_value("momentum", momentum) != 0

    def _slot_specs(self):
        return [("momentum", 0.0)] if self._has_momentum else []

    def _update_leaf(self, grad, param, slots, hp, lr, step, shared):
        if not self._has_momentum:
            return -grad * lr, {}
        momentum = hp["momentum"]
        m = slots["momentum"] * momentum - grad * lr
        delta = m * momentum - grad * lr if self.nesterov else m
        return delta, {"momentum": m}

    def _own_config(self):
        return {"momentum": self._hyper_value("momentum"), "nesterov": self.nesterov}
