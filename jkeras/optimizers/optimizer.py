"""The `Optimizer` base class: Keras optimizers as optax transformations whose
hyperparameters live in their state.

An optimizer object holds configuration and a few host-side scalars (`HostVariable`s: the
learning rate, `decay`, `beta_1`, ... and the step count). `opt.transformation()` hands out
an `optax.GradientTransformation` whose state (`OptimizerState`) carries those scalars as
arrays, so changing one (`opt.lr = 0.01`, `K.set_value(opt.lr, 0.01)`) takes effect without
recompiling: the trainer calls `opt.sync_state(state)` before a step, which writes changed
values in, and `opt.observe_state(state)` after it, so that reading `opt.lr` or
`opt.iterations` can fetch current values lazily.

The update math follows Keras exactly (epsilon placement, bias corrections, Nadam's
momentum cache, Ftrl), which differs from optax's own optimizers in small ways; that is why
each class writes its own per-tensor step instead of chaining optax's `scale_by_*`.
One step does, in Keras's order: unscale by `loss_scale_factor`, clip (`clipnorm` per
tensor, `global_clipnorm`, `clipvalue`), decoupled weight decay
(`param -= param * weight_decay * lr`), the optimizer's own step, then the parameters'
moving average when `use_ema=True`. The learning rate of step `t` (counted from 0) is
`schedule(t)` or the constant `learning_rate`, divided by `1 + decay * t` (Keras 2's
time-based `decay`).

Slots (per-parameter state) are kept in `state.slots[slot_name]`, each a tree mirroring the
params tree; each class documents its slot names (Keras 3's names) and
`legacy_slot_names` maps them to Keras 2's.
"""
import numbers
import re
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jkeras import schedules
from jkeras.optimizers.clipping import clip_by_global_norm, clip_by_norm
from jkeras.optimizers.host_variable import HostVariable, put_like, scalar_value
from jkeras.serialization.serialize import serialize_keras_object

__all__ = ["Optimizer", "OptimizerState", "HYPER_DTYPE", "STEP_DTYPE", "check_unit_interval"]

HYPER_DTYPE = jnp.float32
STEP_DTYPE = jnp.int32


class OptimizerState(NamedTuple):
    """The state of a jkeras optimizer's transformation.

    iterations: int32 scalar, the number of updates applied so far.
    hyperparams: {name: float32 scalar}, the values the host may change between steps.
    slots: {slot name: tree mirroring params}, the per-parameter accumulators.
    extras: {name: scalar}, optimizer-wide accumulators (Nadam's `u_product`).
    """
    iterations: Any
    hyperparams: dict
    slots: dict
    extras: dict


def _update_dtype(param_dtype):
    """The dtype updates and slots are computed and kept in: float32 for 16-bit params."""
    return jnp.promote_types(param_dtype, HYPER_DTYPE)


_IGNORED_KWARGS = ("jit_compile", "is_legacy_optimizer")


class Optimizer:
    """Base class of the Keras optimizers.

    Subclasses set `slot_names` (Keras 3's names of their per-parameter accumulators),
    `legacy_slot_names` (Keras 2's), `_hyper_names` (float arguments kept in the state so
    they can change between steps) and define `_slot_specs()` and `_update_leaf(...)`.
    """

    slot_names = ()
    legacy_slot_names = {}
    _hyper_names = ()

    def __init__(self, learning_rate=0.001, name=None, *, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, decay=0.0, **kwargs):
        if "lr" in kwargs:  # Keras 2 spelling, takes precedence as it did there
            learning_rate = kwargs.pop("lr")
        for key in _IGNORED_KWARGS:  # Keras 2.11+ configs carry these; they change nothing
            kwargs.pop(key, None)
        if kwargs:
            raise TypeError(
                f"Argument(s) not recognized by {type(self).__name__}: {kwargs}. Expected "
                "the optimizer's own arguments, `lr`, `decay`, `clipnorm`, `clipvalue`, "
                "`global_clipnorm`, `weight_decay`, `use_ema`, `ema_momentum`, "
                "`ema_overwrite_frequency` or `loss_scale_factor`.")
        if gradient_accumulation_steps:
            raise NotImplementedError(
                "`gradient_accumulation_steps` is not supported by jkeras optimizers. "
                f"Received: gradient_accumulation_steps={gradient_accumulation_steps}")
        clip_args = {"clipnorm": clipnorm, "clipvalue": clipvalue,
                     "global_clipnorm": global_clipnorm}
        set_clips = {k: v for k, v in clip_args.items() if v is not None}
        if len(set_clips) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}")
        for key, value in {**set_clips, "decay": decay}.items():
            if scalar_value(key, value) < 0:
                raise ValueError(f"Expected `{key}` >= 0. Received: {key}={value}")
        if use_ema:
            if not 0 <= ema_momentum <= 1:
                raise ValueError("Expected `ema_momentum` in [0, 1]. "
                                 f"Received: ema_momentum={ema_momentum}")
            if ema_overwrite_frequency is not None and (
                    not isinstance(ema_overwrite_frequency, numbers.Integral)
                    or ema_overwrite_frequency < 1):
                raise ValueError(
                    "Expected `ema_overwrite_frequency` to be an integer >= 1 or None. "
                    f"Received: ema_overwrite_frequency={ema_overwrite_frequency}")
        object.__setattr__(self, "_hypers", {})
        self.name = type(self).__name__ if name is None else name
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = bool(use_ema)
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self._schedule = None
        self._lr_function = None
        self._last_lr_written = None
        self._tx = None
        self._observed = None
        self._exclude_pattern = None
        self._iterations = HostVariable("iterations", 0, "int64")
        self._add_hyper("learning_rate", None)
        self._set_learning_rate(learning_rate)
        self._hypers["learning_rate"].changed = False  # init() writes the initial value
        self._add_hyper("decay", decay)
        self._use_weight_decay = weight_decay is not None
        if self._use_weight_decay:
            self._add_hyper("weight_decay", weight_decay)
        else:
            self.weight_decay = None  # as in Keras 3; decay is fixed when built

    # ---- hyperparameters as attributes ------------------------------------------------
    def _add_hyper(self, name, value):
        self._hypers[name] = HostVariable(
            name, None if value is None else scalar_value(name, value))

    def __getattr__(self, name):
        hypers = self.__dict__.get("_hypers")
        if hypers is not None:
            key = "learning_rate" if name == "lr" else name
            if key in hypers:
                return hypers[key]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        hypers = self.__dict__.get("_hypers")
        key = "learning_rate" if name == "lr" else name
        if key == "learning_rate" and hypers is not None and key in hypers:
            self._set_learning_rate(value)
        elif key == "iterations":
            self._iterations.assign(value)
        elif hypers is not None and key in hypers:
            hypers[key].assign(value)
        else:
            object.__setattr__(self, name, value)

    @property
    def iterations(self):
        """The number of updates applied so far (a `HostVariable` with an int value)."""
        return self._iterations

    def _set_learning_rate(self, value):
        hyper = self._hypers["learning_rate"]
        if isinstance(value, schedules.LearningRateSchedule):
            if self._tx is not None:
                raise ValueError(
                    f"Cannot set a learning rate schedule on {self.name} after its "
                    "transformation was built (it is traced into the step). Pass the "
                    "schedule when creating the optimizer. Received: "
                    f"learning_rate={value!r}")
            self._schedule = value
            self._lr_function = None
            hyper._getter = self._scheduled_learning_rate  # a bound method copies well
            hyper._read_only = (
                f"{self.name} was created with a LearningRateSchedule as its "
                "learning_rate, so its learning rate is not settable. Create the "
                "optimizer with a float learning_rate to change it during training.")
            return
        if self._schedule is not None:
            raise TypeError(hyper._read_only)
        if callable(value) and not isinstance(value, HostVariable):
            # A no-arg callable: evaluated on the host at each sync_state.
            self._lr_function = value
            hyper._getter = lambda: scalar_value("learning_rate", value())
            return
        self._lr_function = None
        hyper._getter = None
        hyper.assign(value)

    def _scheduled_learning_rate(self):
        return float(self._schedule(int(self._iterations)))

    def _hyper_value(self, name):
        return self._hypers[name].python_value()

    def _state_hyper_names(self):
        names = [] if self._schedule is not None else ["learning_rate"]
        names += ["decay", *self._hyper_names]
        if self._use_weight_decay:
            names.append("weight_decay")
        return names

    # ---- weight decay exclusions ------------------------------------------------------
    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Skips weight decay for parameters whose path ('layer/weight') matches a name.

        `var_list` entries may be names or objects with a `path` or `name` attribute.
        """
        if self._tx is not None:
            raise ValueError("`exclude_from_weight_decay()` must be called before the "
                             f"transformation of {self.name} is built.")
        names = list(var_names or [])
        for var in var_list or []:
            names.append(var if isinstance(var, str)
                         else getattr(var, "path", None) or getattr(var, "name"))
        self._exclude_pattern = (
            re.compile("|".join(re.escape(n) for n in sorted(set(names)))) if names else None)

    def _decay_mask(self, params):
        """A list (one per leaf) of whether weight decay applies to that parameter."""
        paths = jax.tree_util.tree_flatten_with_path(params)[0]
        if self._exclude_pattern is None:
            return [True] * len(paths)
        return [self._exclude_pattern.search(_path_name(path)) is None for path, _ in paths]

    # ---- the transformation ----------------------------------------------------------
    def transformation(self):
        """The optax `GradientTransformation` of this optimizer (built once, then reused)."""
        if self._tx is None:
            self._tx = optax.GradientTransformation(self._init, self._update)
        return self._tx

    def _slot_specs(self):
        """[(slot name, initial value)] of the per-parameter accumulators."""
        return []

    def _init(self, params):
        hyperparams = {name: jnp.asarray(self._hyper_value(name), HYPER_DTYPE)
                       for name in self._state_hyper_names()}
        slots = {name: jax.tree.map(
                     lambda p, v=value: jnp.full(p.shape, v, _update_dtype(p.dtype)), params)
                 for name, value in self._slot_specs()}
        if self.use_ema:
            slots["average"] = jax.tree.map(
                lambda p: jnp.zeros(p.shape, _update_dtype(p.dtype)), params)
        iterations = jnp.asarray(int(self._iterations), STEP_DTYPE)
        return OptimizerState(iterations, hyperparams, slots, self._init_extras())

    def _init_extras(self):
        return {}

    def _step_extras(self, extras, hyperparams, step):
        """(new extras, values shared by every leaf's update) for step `step`."""
        return extras, {}

    def _learning_rate_at(self, hyperparams, step):
        if self._schedule is not None:
            lr = jnp.asarray(self._schedule(step), HYPER_DTYPE)
        else:
            lr = hyperparams["learning_rate"]
        return lr / (1.0 + hyperparams["decay"] * step.astype(HYPER_DTYPE))

    def _transform_grads(self, grads):
        if self.loss_scale_factor is not None:
            grads = jax.tree.map(lambda g: g / self.loss_scale_factor, grads)
        if self.clipnorm:
            return jax.tree.map(lambda g: clip_by_norm(g, self.clipnorm), grads)
        if self.global_clipnorm:
            return clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue:
            return jax.tree.map(lambda g: jnp.clip(g, -self.clipvalue, self.clipvalue), grads)
        return grads

    def _update(self, grads, state, params=None):
        if params is None:
            raise ValueError(f"{self.name}'s update needs `params`: call "
                             "`tx.update(grads, opt_state, params)`.")
        step = state.iterations
        hyperparams = state.hyperparams
        grads = jax.tree.map(lambda g: g.astype(_update_dtype(g.dtype)), grads)
        grads = self._transform_grads(grads)
        lr = self._learning_rate_at(hyperparams, step)
        extras, shared = self._step_extras(state.extras, hyperparams, step)

        treedef = jax.tree.structure(grads)
        grad_leaves = treedef.flatten_up_to(grads)
        param_leaves = treedef.flatten_up_to(params)
        own_slots = [name for name in state.slots if name != "average"]
        slot_leaves = {name: treedef.flatten_up_to(state.slots[name]) for name in own_slots}
        decay_mask = self._decay_mask(params) if self._use_weight_decay else None

        updates, new_slot_leaves = [], {name: [] for name in own_slots}
        for i, (grad, param) in enumerate(zip(grad_leaves, param_leaves)):
            # The math runs in float32 (or wider) whatever the params' dtype: in bfloat16,
            # beta_2=0.999 would round to 1.0 and small steps to nothing.
            dtype = _update_dtype(param.dtype)
            hp = {k: v.astype(dtype) for k, v in hyperparams.items()}
            leaf_lr = lr.astype(dtype)
            grad = grad.astype(dtype)
            param = param.astype(dtype)
            decayed = param
            if decay_mask is not None and decay_mask[i]:
                decayed = param - param * hp["weight_decay"] * leaf_lr
            delta, new_slots = self._update_leaf(
                grad, decayed, {n: slot_leaves[n][i].astype(dtype) for n in own_slots}, hp,
                leaf_lr, step, shared)
            updates.append((decayed - param) + delta if decayed is not param else delta)
            for name in own_slots:
                new_slots_leaf = new_slots.get(name, slot_leaves[name][i])
                new_slot_leaves[name].append(new_slots_leaf.astype(slot_leaves[name][i].dtype))

        slots = {name: treedef.unflatten(new_slot_leaves[name]) for name in own_slots}
        updates = treedef.unflatten(updates)
        if self.use_ema:
            updates, slots["average"] = self._moving_average(
                params, updates, state.slots["average"], step)
        new_state = OptimizerState(step + 1, hyperparams, slots, extras)
        return updates, new_state

    def _moving_average(self, params, updates, average, step):
        """Updates the parameters' moving average; every N steps, params jump to it."""
        treedef = jax.tree.structure(params)
        new_updates, new_average = [], []
        for param, update, avg in zip(treedef.flatten_up_to(params),
                                      treedef.flatten_up_to(updates),
                                      treedef.flatten_up_to(average)):
            param = param.astype(avg.dtype)
            momentum = jnp.where(step != 0, self.ema_momentum, 0.0).astype(avg.dtype)
            avg = momentum * avg + (1 - momentum) * (param + update)
            if self.ema_overwrite_frequency:
                overwrite = (step + 1) % self.ema_overwrite_frequency == 0
                update = jnp.where(overwrite, avg - param, update)
            new_updates.append(update)
            new_average.append(avg)
        return treedef.unflatten(new_updates), treedef.unflatten(new_average)

    def _update_leaf(self, grad, param, slots, hp, lr, step, shared):
        """(additive update, {slot name: new value}) for one parameter tensor."""
        raise NotImplementedError(f"{type(self).__name__} must define `_update_leaf`.")

    # ---- host side -------------------------------------------------------------------
    def sync_state(self, opt_state):
        """`opt_state` with host-side changes (lr, iterations, ...) written in; the same
        object, with no device work, when nothing changed."""
        if not isinstance(opt_state, OptimizerState):
            return opt_state
        new_hyperparams = {}
        for name, old in opt_state.hyperparams.items():
            hyper = self._hypers.get(name)
            if hyper is None:
                continue
            if hyper._getter is not None:  # a no-arg callable learning rate
                value = hyper.numpy().item()
                if value != self._last_lr_written:
                    new_hyperparams[name] = value
                    self._last_lr_written = value
            elif hyper.changed:
                new_hyperparams[name] = hyper.numpy().item()
        iterations = opt_state.iterations
        if self._iterations.changed:
            iterations = put_like(int(self._iterations), iterations, np.int32)
        if not new_hyperparams and iterations is opt_state.iterations:
            return opt_state
        hyperparams = dict(opt_state.hyperparams)
        for name, value in new_hyperparams.items():
            hyperparams[name] = put_like(value, hyperparams[name], np.float32)
        for hyper in (*self._hypers.values(), self._iterations):
            hyper.changed = False
        return opt_state._replace(iterations=iterations, hyperparams=hyperparams)

    def observe_state(self, opt_state):
        """Remembers the newest state; reading `opt.lr` / `opt.iterations` fetches from it.

        Call it with each new state as soon as the step is dispatched: no device work
        happens here. Values of a state whose buffers were since donated (deleted) fall
        back to the last values read.
        """
        if not isinstance(opt_state, OptimizerState):
            return
        self._observed = opt_state
        self._iterations._observe(opt_state.iterations)
        for name, array in opt_state.hyperparams.items():
            if name in self._hypers and self._hypers[name]._getter is None:
                self._hypers[name]._observe(array)

    def current_learning_rate(self):
        """The learning rate the next update uses (schedule and `decay` applied)."""
        step = int(self._iterations)
        lr = float(self.learning_rate)
        return lr / (1.0 + float(self._hypers["decay"]) * step)

    def scale_loss(self, loss):
        """`loss * loss_scale_factor` (the update divides the gradients back)."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def finalize_params(self, params, opt_state):
        """The params to keep at the end of training: their moving average with use_ema."""
        if self.use_ema and isinstance(opt_state, OptimizerState):
            return jax.tree.map(lambda avg, p: avg.astype(p.dtype),
                                opt_state.slots["average"], params)
        return params

    # ---- config ----------------------------------------------------------------------
    def _serialized_learning_rate(self):
        if self._schedule is not None:
            return schedules.serialize(self._schedule)
        if self._lr_function is not None and self._hypers["learning_rate"]._getter:
            return serialize_keras_object(self._lr_function)
        return self._hyper_value("learning_rate")

    def get_config(self):
        """Keras 2 layout: name, learning_rate, the optimizer's arguments, decay, clips."""
        config = {"name": self.name, "learning_rate": self._serialized_learning_rate()}
        config.update(self._own_config())
        config["decay"] = self._hyper_value("decay")
        for key in ("clipnorm", "global_clipnorm", "clipvalue"):
            if getattr(self, key) is not None:
                config[key] = getattr(self, key)
        if self._use_weight_decay:
            config["weight_decay"] = self._hyper_value("weight_decay")
        if self.use_ema:
            config.update(use_ema=True, ema_momentum=self.ema_momentum,
                          ema_overwrite_frequency=self.ema_overwrite_frequency)
        if self.loss_scale_factor is not None:
            config["loss_scale_factor"] = self.loss_scale_factor
        return config

    def _own_config(self):
        return {}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if "lr" in config:
            config["learning_rate"] = config.pop("lr")
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(
                config["learning_rate"], custom_objects=custom_objects)
        return cls(**config)

    def __repr__(self):
        return f"<jkeras.optimizers.{type(self).__name__} name={self.name!r}>"


def _path_name(path):
    parts = []
    for key in path:
        for attr in ("key", "name", "idx"):
            if hasattr(key, attr):
                parts.append(str(getattr(key, attr)))
                break
        else:
            parts.append(str(key))
    return "/".join(parts)


def check_unit_interval(name, value, low_open=False):
    value = scalar_value(name, value)
    if (value <= 0 if low_open else value < 0) or value > 1:
        bounds = "0 < " if low_open else "0 <= "
        raise ValueError(f"Expected {bounds}{name} <= 1. Received: {name}={value}")
