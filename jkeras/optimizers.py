"""Keras optimizers as optax transformations whose hyperparameters live in their state.

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
import sys
import types
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jkeras import schedules
from jkeras.serialization.serialize import (
    class_and_config, deserialize_keras_object, serialize_keras_object)
from jkeras.serialization.object_registry import get_registered_object

__all__ = [
    "Optimizer", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "Adamax", "Nadam", "AdamW",
    "Ftrl", "Lion", "OptaxOptimizer", "OptimizerState", "HostVariable", "get", "serialize",
    "deserialize", "schedules", "legacy", "experimental",
]

_HYPER_DTYPE = jnp.float32
_STEP_DTYPE = jnp.int32


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


# --------------------------------------------------------------------------------------
# Host-side scalars
# --------------------------------------------------------------------------------------

def _scalar(name, value):
    """A Python number from a number, a 0-d array or a HostVariable; errors name `name`."""
    if isinstance(value, HostVariable):
        value = value.numpy()
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - anything not array-like is reported below
        array = None
    if array is None or array.shape != () or array.dtype.kind not in "biuf":
        raise ValueError(f"Expected `{name}` to be a number. Received: {name}={value!r}")
    return array.item()


def _fetch(array):
    """The host value of a device scalar (waits for it), or None if it was donated."""
    deleted = getattr(array, "is_deleted", None)
    if deleted is not None and deleted():
        return None
    return np.asarray(array).item()


def _binary(op, reflected=False):
    def method(self, other):
        if isinstance(other, HostVariable):
            other = other.numpy()
        mine = self.numpy()
        return op(other, mine) if reflected else op(mine, other)
    return method


class HostVariable:
    """A scalar the host owns: an optimizer hyperparameter or its step count.

    Reads like a Keras variable (`numpy()`, `float()`, arithmetic, `np.asarray`) and is
    set with `assign(value)`; setting marks it changed, and the optimizer's next
    `sync_state` writes it into the transformation's state. Its value is, first to
    apply: a getter's (a scheduled learning rate), a value assigned since the last sync,
    the last state the optimizer observed (fetched when read), the last value known.
    """

    shape = ()

    def __init__(self, name, value, dtype="float32"):
        self.name = name
        self.dtype = np.dtype(dtype)
        self._value = None if value is None else self._python(value)
        self._source = None      # a device scalar to read when asked
        self._getter = None      # computes the value (schedules, no-arg callables)
        self._read_only = None   # message for assign() when not settable
        self.changed = False     # set by assign(), cleared by the optimizer's sync_state

    def _python(self, value, fetched=False):
        """A Python number. A fetched float keeps its shortest repr in this dtype (0.001,
        not 0.0010000000474974513), so configs read as they were written."""
        if self.dtype.kind in "iu":
            return int(value)
        return float(str(self.dtype.type(value))) if fetched else float(value)

    def python_value(self):
        """The value as a Python number (what configs store)."""
        value = self.numpy()
        return value.item() if self._getter is not None else self._value

    def numpy(self):
        if self._getter is not None:
            return self.dtype.type(self._getter())
        if self._source is not None:
            fetched = _fetch(self._source)
            if fetched is not None and (self._value is None or
                                        self.dtype.type(fetched) != self.dtype.type(self._value)):
                self._value = self._python(fetched, fetched=True)
            if fetched is not None:
                self._source = None
        if self._value is None:
            raise ValueError(f"The value of `{self.name}` is not known yet: the optimizer "
                             "has not seen a state holding it.")
        return self.dtype.type(self._value)

    @property
    def value(self):
        return self.numpy()

    def assign(self, value):
        if self._read_only:
            raise TypeError(self._read_only)
        self._getter = None  # a set value replaces a no-arg callable learning rate
        self._value = self._python(_scalar(self.name, value))
        self._source = None
        self.changed = True
        return self

    def assign_add(self, delta):
        return self.assign(self.numpy() + _scalar(self.name, delta))

    def assign_sub(self, delta):
        return self.assign(self.numpy() - _scalar(self.name, delta))

    def _observe(self, array):
        """Remembers a device scalar holding the current value, unless changed on the host."""
        if not self.changed:
            self._source = array

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.numpy(), dtype=dtype)

    def __float__(self):
        return float(self.numpy())

    def __int__(self):
        return int(self.numpy())

    def __index__(self):
        if self.dtype.kind not in "iu":
            raise TypeError(f"`{self.name}` is a float and cannot be used as an index.")
        return int(self.numpy())

    def __bool__(self):
        return bool(self.numpy())

    def __format__(self, spec):
        return format(self.numpy().item(), spec)

    def __repr__(self):
        try:
            shown = str(self.numpy())
        except ValueError:
            shown = "<unknown>"
        return f"<HostVariable '{self.name}' shape=() dtype={self.dtype.name}, numpy={shown}>"

    __hash__ = object.__hash__
    __add__, __radd__ = _binary(np.add), _binary(np.add, True)
    __sub__, __rsub__ = _binary(np.subtract), _binary(np.subtract, True)
    __mul__, __rmul__ = _binary(np.multiply), _binary(np.multiply, True)
    __truediv__, __rtruediv__ = _binary(np.true_divide), _binary(np.true_divide, True)
    __floordiv__, __rfloordiv__ = _binary(np.floor_divide), _binary(np.floor_divide, True)
    __mod__, __rmod__ = _binary(np.mod), _binary(np.mod, True)
    __pow__, __rpow__ = _binary(np.power), _binary(np.power, True)
    __lt__, __le__ = _binary(np.less), _binary(np.less_equal)
    __gt__, __ge__ = _binary(np.greater), _binary(np.greater_equal)
    __eq__, __ne__ = _binary(np.equal), _binary(np.not_equal)

    def __neg__(self):
        return -self.numpy()

    def __abs__(self):
        return abs(self.numpy())


def _put_like(value, old, dtype):
    """A new device scalar holding `value`, placed like `old` (replicated stays replicated)."""
    array = np.asarray(value, dtype=dtype)
    sharding = getattr(old, "sharding", None)
    if sharding is not None:
        try:
            return jax.device_put(array, sharding)
        except Exception:  # noqa: BLE001 - fall back to the default device
            pass
    return jnp.asarray(array)


def _update_dtype(param_dtype):
    """The dtype updates and slots are computed and kept in: float32 for 16-bit params."""
    return jnp.promote_types(param_dtype, _HYPER_DTYPE)


# --------------------------------------------------------------------------------------
# Gradient clipping (pure)
# --------------------------------------------------------------------------------------

def clip_by_norm(grad, clipnorm):
    """Scales one tensor so that its L2 norm is at most `clipnorm` (NaN-safe at zero)."""
    l2sum = jnp.sum(jnp.square(grad), keepdims=True)
    nonzero = l2sum > 0
    l2norm = jnp.where(nonzero, jnp.sqrt(jnp.where(nonzero, l2sum, 1)), l2sum)
    return grad * clipnorm / jnp.maximum(l2norm, clipnorm)


def clip_by_global_norm(grads, clipnorm):
    """Scales all tensors together so that their joint L2 norm is at most `clipnorm`."""
    leaves = jax.tree.leaves(grads)
    if not leaves:
        return grads
    norm = jnp.sqrt(sum(jnp.sum(jnp.square(g)) for g in leaves))
    # A non-finite norm makes the scale NaN instead of silently zeroing the update.
    scale = clipnorm * jnp.minimum(1.0 / norm, 1.0 / clipnorm) + (norm - norm)
    return jax.tree.map(lambda g: g * scale.astype(g.dtype), grads)


# --------------------------------------------------------------------------------------
# The base class
# --------------------------------------------------------------------------------------

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
            if _scalar(key, value) < 0:
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
            name, None if value is None else _scalar(name, value))

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
            hyper._getter = lambda: _scalar("learning_rate", value())
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
        hyperparams = {name: jnp.asarray(self._hyper_value(name), _HYPER_DTYPE)
                       for name in self._state_hyper_names()}
        slots = {name: jax.tree.map(
                     lambda p, v=value: jnp.full(p.shape, v, _update_dtype(p.dtype)), params)
                 for name, value in self._slot_specs()}
        if self.use_ema:
            slots["average"] = jax.tree.map(
                lambda p: jnp.zeros(p.shape, _update_dtype(p.dtype)), params)
        iterations = jnp.asarray(int(self._iterations), _STEP_DTYPE)
        return OptimizerState(iterations, hyperparams, slots, self._init_extras())

    def _init_extras(self):
        return {}

    def _step_extras(self, extras, hyperparams, step):
        """(new extras, values shared by every leaf's update) for step `step`."""
        return extras, {}

    def _learning_rate_at(self, hyperparams, step):
        if self._schedule is not None:
            lr = jnp.asarray(self._schedule(step), _HYPER_DTYPE)
        else:
            lr = hyperparams["learning_rate"]
        return lr / (1.0 + hyperparams["decay"] * step.astype(_HYPER_DTYPE))

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
            iterations = _put_like(int(self._iterations), iterations, np.int32)
        if not new_hyperparams and iterations is opt_state.iterations:
            return opt_state
        hyperparams = dict(opt_state.hyperparams)
        for name, value in new_hyperparams.items():
            hyperparams[name] = _put_like(value, hyperparams[name], np.float32)
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


def _check_unit_interval(name, value, low_open=False):
    value = _scalar(name, value)
    if (value <= 0 if low_open else value < 0) or value > 1:
        bounds = "0 < " if low_open else "0 <= "
        raise ValueError(f"Expected {bounds}{name} <= 1. Received: {name}={value}")


# --------------------------------------------------------------------------------------
# The optimizers
# --------------------------------------------------------------------------------------

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
        _check_unit_interval("momentum", momentum)
        self._add_hyper("momentum", momentum)
        self.nesterov = bool(nesterov)
        self._has_momentum = _scalar("momentum", momentum) != 0

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
        self._has_momentum = _scalar("momentum", momentum) > 0

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
        if _scalar("initial_accumulator_value", initial_accumulator_value) < 0:
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
        if _scalar("schedule_decay", schedule_decay) < 0:
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
        return {"u_product": jnp.asarray(1.0, _HYPER_DTYPE)}

    def _step_extras(self, extras, hyperparams, step):
        local_step = (step + 1).astype(_HYPER_DTYPE)
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
            if _scalar(key, value) < 0:
                raise ValueError(f"Expected `{key}` >= 0. Received: {key}={value}")
        if _scalar("learning_rate_power", learning_rate_power) > 0:
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


class Lion(Optimizer):
    """Lion: steps of fixed size in the sign of an interpolated momentum.

    Slots: `momentum`.
    """

    slot_names = ("momentum",)
    legacy_slot_names = {"momentum": "m"}
    _hyper_names = ("beta_1", "beta_2")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, name="Lion", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        _check_unit_interval("beta_1", beta_1, low_open=True)
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


# --------------------------------------------------------------------------------------
# A plain optax transformation behind the same interface
# --------------------------------------------------------------------------------------

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
            new[name] = _put_like(value, injected[name], jnp.asarray(injected[name]).dtype)
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


# --------------------------------------------------------------------------------------
# Lookup and (de)serialization
# --------------------------------------------------------------------------------------

_BUILTINS = {cls.__name__: cls for cls in (
    Optimizer, SGD, RMSprop, Adagrad, Adadelta, Adam, Adamax, Nadam, AdamW, Ftrl, Lion)}
_BY_LOWER_NAME = {name.lower(): cls for name, cls in _BUILTINS.items()}


def _canonical_class_name(name, custom_objects):
    """Built-in names match case-insensitively, also as 'Custom>Adam' (tf.keras 2.11+)."""
    if get_registered_object(name, custom_objects) is not None:
        return name
    bare = name.split(">", 1)[-1]
    cls = _BY_LOWER_NAME.get(bare.lower())
    return cls.__name__ if cls is not None else name


def serialize(optimizer):
    """`{'class_name', 'config'}` of an optimizer."""
    return serialize_keras_object(optimizer)


def deserialize(config, custom_objects=None):
    """An optimizer from `{'class_name', 'config'}` (Keras 2 or Keras 3 layout)."""
    registered, class_name, inner = class_and_config(config)
    config = {"class_name": _canonical_class_name(class_name, custom_objects),
              "config": inner}
    if registered != class_name:
        config["registered_name"] = _canonical_class_name(registered, custom_objects)
    return deserialize_keras_object(
        config, module_objects=_BUILTINS, custom_objects=custom_objects,
        printable_module_name="optimizer")


def get(identifier):
    """An optimizer from a name ('adam'), a config dict, an optimizer or an optax
    transformation (wrapped as-is)."""
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, optax.GradientTransformation):
        return OptaxOptimizer(identifier)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")


# `jkeras.optimizers.schedules`, `.legacy` and `.experimental` as importable submodules.
def _namespace(name, objects):
    module = types.ModuleType(f"{__name__}.{name}", f"Keras 2's optimizers.{name} names.")
    for key, value in objects.items():
        setattr(module, key, value)
    sys.modules[module.__name__] = module
    return module


sys.modules[f"{__name__}.schedules"] = schedules
legacy = _namespace("legacy", _BUILTINS)
experimental = _namespace("experimental", _BUILTINS)
