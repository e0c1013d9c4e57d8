"""LossScaleOptimizer: dynamic loss scaling around a jkeras optimizer, as an optax wrapper.

In float16 small gradients underflow to zero. The trainer multiplies the loss by a scale
before differentiating (`scale_loss(loss, opt_state)`), and this optimizer's update divides
the gradients by the same scale before handing them to the wrapped optimizer. The scale
lives in the transformation's state (`LossScaleState`), so it changes inside the jitted
step:

- a step whose gradients are all finite is applied; after `dynamic_growth_steps` such
  steps in a row the scale doubles (when the doubled value is finite);
- a step with any inf or NaN gradient is skipped (zero updates, the wrapped optimizer's
  state and step count unchanged) and the scale halves, never below 1 (Keras 2's floor;
  Keras 3 has none but agrees above 1).

The hook the trainer needs, inside the differentiated loss function:

    loss_for_grad = optimizer.scale_loss(loss, opt_state)   # or mixed_precision.scale_loss

with `opt_state` the state the step's `tx.update` then receives; gradients of
`loss_for_grad` go to `tx.update` unchanged (it unscales them). Metrics use `loss`.
"""
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jkeras import optimizers

__all__ = ["LossScaleOptimizer", "LossScaleState", "scale_loss", "unscale", "all_finite"]


class LossScaleState(NamedTuple):
    """inner_state: the wrapped optimizer's state. scale: float32 scalar, the current loss
    scale. counter: int32 scalar, finite steps since the scale last changed."""
    inner_state: Any
    scale: Any
    counter: Any


def scale_loss(loss, opt_state):
    """`loss` times the loss scale held in `opt_state` (unchanged for other states)."""
    if isinstance(opt_state, LossScaleState):
        return loss * opt_state.scale.astype(jnp.result_type(loss, jnp.float32))
    return loss


def unscale(grads, scale):
    """`grads` divided by `scale`, computed in float32 (or wider)."""
    def divide(g):
        wide = g.astype(jnp.promote_types(g.dtype, jnp.float32))
        return wide / scale.astype(wide.dtype)
    return jax.tree.map(divide, grads)


def all_finite(grads):
    """A boolean scalar: True when no gradient holds an inf or a NaN."""
    leaves = jax.tree.leaves(grads)
    if not leaves:
        return jnp.asarray(True)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(g)) for g in leaves]))


def _next_scale(scale, counter, finite, dynamic, growth_steps):
    """(scale, counter) after a step; `finite` says whether its gradients were."""
    if not dynamic:
        return scale, counter
    grow = finite & (counter + 1 >= growth_steps)
    doubled = scale * 2.0
    grown = jnp.where(jnp.isfinite(doubled), doubled, scale)
    new_scale = jnp.where(finite, jnp.where(grow, grown, scale),
                          jnp.maximum(scale * 0.5, 1.0))
    new_counter = jnp.where(finite & ~grow, counter + 1, 0).astype(counter.dtype)
    return new_scale, new_counter


class LossScaleOptimizer(optimizers.Optimizer):
    """Wraps `inner_optimizer` with loss scaling.

    Arguments:
        inner_optimizer: the jkeras optimizer (or its name) to wrap.
        dynamic: True (default) to adjust the scale as described in the module; False
            for a fixed `initial_scale` (Keras 2).
        initial_scale: the first loss scale (default 2**15).
        dynamic_growth_steps: finite steps in a row after which the scale doubles
            (default 2000).

    `learning_rate`, `iterations` and the other attributes read through to the wrapped
    optimizer; `dynamic_scale` (Keras 3) and `loss_scale` (Keras 2) give the current scale.
    """

    def __init__(self, inner_optimizer, dynamic=True, initial_scale=None,
                 dynamic_growth_steps=None, name=None, **kwargs):
        inner = optimizers.get(inner_optimizer)
        if not isinstance(inner, optimizers.Optimizer):
            raise TypeError(
                "LossScaleOptimizer expects a jkeras optimizer (or its name) as "
                f"`inner_optimizer`. Received: inner_optimizer={inner_optimizer!r}")
        if isinstance(inner, LossScaleOptimizer):
            raise TypeError(
                "LossScaleOptimizer cannot wrap another LossScaleOptimizer. Received: "
                f"inner_optimizer={inner_optimizer!r}")
        unexpected = {k: v for k, v in kwargs.items() if v is not None and v is not False}
        if unexpected:
            raise ValueError(
                f"LossScaleOptimizer does not take {sorted(unexpected)}: set them on the "
                f"inner optimizer. Received: {unexpected}")
        initial_scale = 2.0 ** 15 if initial_scale is None else initial_scale
        growth = 2000 if dynamic_growth_steps is None else dynamic_growth_steps
        if not np.isfinite(initial_scale) or initial_scale <= 0:
            raise ValueError("Expected `initial_scale` to be a positive finite number. "
                             f"Received: initial_scale={initial_scale!r}")
        if not isinstance(growth, (int, np.integer)) or growth < 1:
            raise ValueError("Expected `dynamic_growth_steps` to be an integer >= 1. "
                             f"Received: dynamic_growth_steps={dynamic_growth_steps!r}")
        object.__setattr__(self, "_hypers", {})
        object.__setattr__(self, "inner_optimizer", inner)
        self.name = name or f"loss_scale_optimizer_{inner.name}".lower()
        self.dynamic = bool(dynamic)
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = int(growth)
        self._tx = None
        self._observed = None

    # ---- reads go to the wrapped optimizer --------------------------------------------
    def __getattr__(self, name):
        inner = self.__dict__.get("inner_optimizer")
        if inner is None:
            raise AttributeError(name)
        return getattr(inner, name)

    def __setattr__(self, name, value):
        inner = self.__dict__.get("inner_optimizer")
        hypers = inner.__dict__.get("_hypers", {}) if inner is not None else {}
        if inner is not None and (name in ("lr", "learning_rate", "iterations")
                                  or name in hypers):
            setattr(inner, name, value)
        else:
            object.__setattr__(self, name, value)

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    # ---- the transformation ----------------------------------------------------------
    def transformation(self):
        if self._tx is None:
            self._tx = optax.GradientTransformation(self._init, self._update)
        return self._tx

    def _init(self, params):
        return LossScaleState(self.inner_optimizer.transformation().init(params),
                              jnp.asarray(self.initial_scale, jnp.float32),
                              jnp.asarray(0, jnp.int32))

    def _update(self, grads, state, params=None):
        finite = all_finite(grads)
        inner_updates, inner_state = self.inner_optimizer.transformation().update(
            unscale(grads, state.scale), state.inner_state, params)

        def keep_if_finite(new, old):
            return jnp.where(finite, new, old)
        updates = jax.tree.map(lambda u: jnp.where(finite, u, jnp.zeros_like(u)),
                               inner_updates)
        inner_state = jax.tree.map(keep_if_finite, inner_state, state.inner_state)
        scale, counter = _next_scale(state.scale, state.counter, finite, self.dynamic,
                                     self.dynamic_growth_steps)
        return updates, LossScaleState(inner_state, scale, counter)

    def scale_loss(self, loss, opt_state=None):
        """`loss` times the current scale (the initial one when no state is given)."""
        if isinstance(opt_state, LossScaleState):
            return scale_loss(loss, opt_state)
        return loss * self.initial_scale

    def get_scaled_loss(self, loss):
        """Keras 2's name: `loss` times the current loss scale."""
        return loss * self.dynamic_scale

    def get_unscaled_gradients(self, grads):
        """Keras 2's name: `grads` divided by the current loss scale."""
        return unscale(grads, jnp.asarray(self.dynamic_scale, jnp.float32))

    # ---- host side -------------------------------------------------------------------
    def sync_state(self, opt_state):
        if not isinstance(opt_state, LossScaleState):
            return opt_state
        inner = self.inner_optimizer.sync_state(opt_state.inner_state)
        return opt_state if inner is opt_state.inner_state else \
            opt_state._replace(inner_state=inner)

    def observe_state(self, opt_state):
        if isinstance(opt_state, LossScaleState):
            self._observed = opt_state
            self.inner_optimizer.observe_state(opt_state.inner_state)

    def finalize_params(self, params, opt_state):
        inner = opt_state.inner_state if isinstance(opt_state, LossScaleState) else opt_state
        return self.inner_optimizer.finalize_params(params, inner)

    def _observed_value(self, field, default):
        state = self._observed
        if state is None:
            return default
        array = getattr(state, field)
        deleted = getattr(array, "is_deleted", None)
        if deleted is not None and deleted():
            return self.__dict__.get(f"_last_{field}", default)
        value = np.asarray(array).item()
        object.__setattr__(self, f"_last_{field}", value)
        return value

    @property
    def dynamic_scale(self):
        """The current loss scale (Keras 3's name)."""
        return float(self._observed_value("scale", self.initial_scale))

    loss_scale = dynamic_scale  # Keras 2's name

    @property
    def dynamic_counter(self):
        """Finite steps since the scale last changed (Keras 2's name)."""
        return int(self._observed_value("counter", 0))

    step_counter = dynamic_counter  # Keras 3's name

    # ---- config ----------------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name,
                  "inner_optimizer": optimizers.serialize(self.inner_optimizer),
                  "initial_scale": self.initial_scale,
                  "dynamic_growth_steps": self.dynamic_growth_steps}
        if not self.dynamic:
            config["dynamic"] = False
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        inner = config.pop("inner_optimizer", None) or config.pop("optimizer")
        if isinstance(inner, dict):
            inner = optimizers.deserialize(inner, custom_objects=custom_objects)
        base_defaults = ("weight_decay", "clipnorm", "global_clipnorm", "clipvalue",
                         "use_ema", "ema_momentum", "ema_overwrite_frequency",
                         "loss_scale_factor", "gradient_accumulation_steps",
                         "learning_rate", "is_legacy_optimizer", "jit_compile")
        for key in base_defaults:  # Keras 3 and tf.keras configs carry these at defaults
            config.pop(key, None)
        return cls(inner, **config)

    def __repr__(self):
        return (f"<jkeras.mixed_precision.LossScaleOptimizer name={self.name!r} "
                f"inner={self.inner_optimizer!r}>")
