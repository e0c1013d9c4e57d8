"""Optimizer state in Keras files: Keras 2's legacy weight names (`Adam/iter:0`,
`Adam/dense/kernel/m:0`), Keras 3's positional order (`adam/dense_kernel_momentum`), and
restoring saved values, from any of those writers, into a model's `OptimizerState`.

Used by the HDF5 layout (`hdf5_format`, which re-exports these names) and by `.keras`
archives (`keras_archive`).
"""
import re
import warnings

import numpy as np

from jkeras.engine.model import Model
from jkeras.optimizers import OptimizerState
from jkeras.saving.h5_files import save_attributes
from jkeras.trainer.state import tree_get, tree_set

__all__ = ["trainable_entries", "optimizer_state", "slot_names", "legacy_optimizer_weights",
           "save_optimizer_weights", "restore_optimizer_weights", "keras3_named",
           "keras3_optimizer_names", "keras3_optimizer_slots"]


def trainable_entries(model):
    """`[(tree path in the params tree, weight path 'layer/key', full path)]` for every
    weight the optimizer updates, in `model.trainable_weights` order (a part of a layer
    holding layers: 'layer/part/key')."""
    mask = model._trainable_mask_tree()
    out = []

    def walk(m, prefix, mask_tree, names):
        for layer in m._unique_layers():
            sub = mask_tree.get(layer.name, {})
            if isinstance(layer, Model):
                walk(layer, prefix + (layer.name,), sub, names + [layer.name])
                continue
            variables = layer._get_vars() or {"params": {}}
            entries(variables["params"], sub, prefix + (layer.name,), names + [layer.name],
                    [layer.name])

    def entries(params, mask_tree, prefix, names, scope):
        # A layer's params; a layer holding layers nests theirs under their names, and
        # Keras 2 names those weights under the holder (`block/dense/kernel`).
        for key, value in params.items():
            flag = mask_tree.get(key, False) if isinstance(mask_tree, dict) else mask_tree
            if isinstance(value, dict):
                entries(value, flag, prefix + (key,), names + [key], scope + [key])
            elif flag is True:
                out.append((prefix + (key,), "/".join(scope + [key]), "/".join(names + [key])))
    walk(model, (), mask, [])
    return out


def optimizer_state(model):
    """The model's optimizer state (an OptimizerState) or None if it has none yet."""
    if model.optimizer is None:
        return None
    state = model.get_training_state().get("opt_state")
    return state if isinstance(state, OptimizerState) else None


def slot_names(optimizer, state):
    """The state's slot names in the order the optimizer creates them (Keras's order;
    the state's dict is in sorted order)."""
    try:
        created = [name for name, _ in optimizer._slot_specs()]
    except (AttributeError, TypeError):
        created = list(getattr(optimizer, "slot_names", ()))
    ordered = [name for name in created if name in state.slots]
    return ordered + [name for name in state.slots if name not in ordered]


def legacy_optimizer_weights(model, state):
    """`[(name, array)]` as Keras 2's (legacy) optimizers name their weights."""
    opt = model.optimizer
    prefix = opt.name
    out = [(f"{prefix}/iter:0", np.asarray(state.iterations, np.int64))]
    if "u_product" in state.extras:
        out.append((f"{prefix}/momentum_cache:0",
                    np.asarray(state.extras["u_product"], np.float32)))
    entries = trainable_entries(model)
    for slot in slot_names(opt, state):
        legacy = opt.legacy_slot_names.get(slot, slot)
        for path, weight_path, _ in entries:
            out.append((f"{prefix}/{weight_path}/{legacy}:0",
                        np.asarray(tree_get(state.slots[slot], path))))
    return out


def save_optimizer_weights(f, model):
    state = optimizer_state(model)
    if state is None:
        return
    weights = legacy_optimizer_weights(model, state)
    group = f.create_group("optimizer_weights")
    save_attributes(group, "weight_names", [n for n, _ in weights])
    for name, value in weights:
        group.create_dataset(name, data=value)


def _slot_candidates(model, state):
    """Names a saved slot may have (Keras 2 legacy / tf-keras 2.11+ / Keras 3) ->
    (tree path, our slot name)."""
    opt = model.optimizer
    table = {}
    for path, weight_path, full_path in trainable_entries(model):
        for slot in state.slots:
            legacy = opt.legacy_slot_names.get(slot, slot)
            # Keras 3 prefixes a Sequential model's paths with the model's name.
            for p in (weight_path, full_path, f"{model.name}/{full_path}"):
                for s in {slot, legacy}:
                    table[f"{p}/{s}"] = (path, slot)
                    table[f"{s}/{p}"] = (path, slot)
                    table[f"{p.replace('/', '_')}_{s}"] = (path, slot)
    return table


# Keras 3's Nadam keeps its u_product in an unnamed variable; Keras 3 names those from a
# process-wide counter, so the file says `variable`, `variable_1`, ... by what ran before.
_KERAS3_UNNAMED = re.compile(r"variable(_\d+)?")


def restore_optimizer_weights(model, named_values, source, by_position=True):
    """Puts saved optimizer weights (`[(name, array)]`) into the model's optimizer state.
    Returns True if restored; warns and leaves a fresh state when they do not match.
    Names that do not match (a layer holding layers names its parts anew when it is
    rebuilt) are matched by position, where the weights' count and shapes allow."""
    try:
        template = model.optimizer_state_template()
    except Exception as e:  # an optimizer without a state we understand
        warnings.warn(f"Could not build the optimizer state to restore from {source}: {e}. "
                      "The optimizer starts fresh.", stacklevel=3)
        return False
    if not isinstance(template, OptimizerState):
        warnings.warn(f"The optimizer of this model keeps no Keras-style state; the "
                      f"optimizer weights in {source} were not restored.", stacklevel=3)
        return False
    candidates = _slot_candidates(model, template)
    slots = {name: tree for name, tree in template.slots.items()}
    filled = set()
    iterations, extras = None, dict(template.extras)
    problems = []
    for name, value in named_values:
        bare = name[:-2] if name.endswith(":0") else name
        rest = bare.split("/", 1)[1] if "/" in bare else bare
        if bare.rsplit("/", 1)[-1] in ("iter", "iteration", "iterations"):
            iterations = int(np.asarray(value).reshape(()))
            continue
        if rest in ("learning_rate", "lr", "decay") or bare.endswith("/learning_rate"):
            continue  # hyperparameters come from the optimizer config
        if bare.rsplit("/", 1)[-1] in ("momentum_cache", "u_product") or \
                (_KERAS3_UNNAMED.fullmatch(bare) and "u_product" in extras):
            if "u_product" in extras:
                extras["u_product"] = np.asarray(value, np.float32).reshape(())
            continue
        match = candidates.get(rest) or candidates.get(bare)
        if match is None:
            problems.append(f"unknown optimizer weight {name}")
            continue
        path, slot = match
        current = tree_get(slots[slot], path)
        if tuple(np.shape(value)) != tuple(current.shape):
            problems.append(f"{name} has shape {np.shape(value)}, expected "
                            f"{tuple(current.shape)}")
            continue
        slots[slot] = tree_set(slots[slot], path, np.asarray(value, current.dtype))
        filled.add((slot, path))
    expected = {(slot, path) for slot in template.slots
                for path, _, _ in trainable_entries(model)}
    missing = expected - filled
    if not filled and not problems and not iterations:
        return False  # an optimizer that never stepped: the fresh state is the same
    if (problems or missing) and by_position:
        ours = legacy_optimizer_weights(model, template)
        if len(ours) == len(named_values) and all(
                np.shape(value) == np.shape(mine) for (_, value), (_, mine)
                in zip(named_values, ours)):
            return restore_optimizer_weights(
                model, [(name, value) for (name, _), (_, value) in zip(ours, named_values)],
                source, by_position=False)
    if problems or missing or iterations is None:
        detail = "; ".join(problems[:3]) or (
            f"{len(missing)} slot value(s) missing" if missing else "no iteration count")
        warnings.warn(
            f"The optimizer weights in {source} do not match this model's optimizer "
            f"({detail}). The optimizer starts with a fresh state.", stacklevel=3)
        return False
    state = OptimizerState(np.asarray(iterations, np.int32), dict(template.hyperparams),
                           slots, extras)
    model.set_training_state({"variables": model._get_vars(), "opt_state": state,
                              "key": None})
    return True


def keras3_named(model, values):
    """Keras 3 saves its optimizer variables by position (its names, such as Nadam's
    `variable_1`, are not unique to a slot): `values` named by their place in Keras 3's
    order, when their count matches this model's optimizer."""
    ours = keras3_optimizer_slots(model)
    if ours is None or len(ours) != len(values):
        return values
    return [(name, value) for name, (_, value) in zip(ours, values)]

# ----------------------------------------------------------------- Keras 3 optimizer order
# Keras 3 creates optimizer slots in groups; names inside a group alternate per variable.
_KERAS3_SLOT_GROUPS = {
    "Adam": [("momentum", "velocity"), ("velocity_hat",)],
    "Adamax": [("momentum", "norm")],
    "Nadam": [("momentum", "velocity")],
    "Adadelta": [("accumulated_grad", "accumulated_delta_var")],
    "Ftrl": [("accumulator", "linear")],
}


def _slot_order(optimizer, state):
    """Keras 3's order of slot variables: groups of names, alternating per variable."""
    active = [s for s in slot_names(optimizer, state) if s != "average"]
    for cls in type(optimizer).__mro__:
        if cls.__name__ in _KERAS3_SLOT_GROUPS:
            groups = [tuple(s for s in g if s in active)
                      for g in _KERAS3_SLOT_GROUPS[cls.__name__]]
            listed = {s for g in groups for s in g}
            groups += [(s,) for s in active if s not in listed]
            return [g for g in groups if g]
    return [(s,) for s in active]


def keras3_optimizer_names(model, state):
    """`[(name, getter)]` of optimizer variables in Keras 3's order; the getter reads the
    value from a state. Names use Keras 3's `adam/dense_kernel_momentum` form."""
    opt = model.optimizer
    base = opt.name.lower()
    entries = trainable_entries(model)
    out = [(f"{base}/iteration", lambda s: np.asarray(s.iterations, np.int64))]
    if opt._schedule is None:
        out.append((f"{base}/learning_rate",
                    lambda s: np.asarray(s.hyperparams["learning_rate"], np.float32)))
    groups = ([("average",)] if "average" in state.slots else []) + _slot_order(opt, state)
    for group in groups:
        for path, _, full in entries:
            for slot in group:
                out.append((f"{base}/{full.replace('/', '_')}_{slot}",
                            lambda s, p=path, n=slot: np.asarray(
                                tree_get(s.slots[n], p))))
    if "u_product" in state.extras:
        out.append((f"{base}/u_product",
                    lambda s: np.asarray(s.extras["u_product"], np.float32)))
    return out


def keras3_optimizer_slots(model):
    """The names of the model's optimizer variables in Keras 3's order (the order Keras 3
    saves them in, by position), or None for an optimizer without a Keras-style state."""
    try:
        template = model.optimizer_state_template()
    except Exception:  # optimizers without a Keras-style state
        return None
    if not isinstance(template, OptimizerState):
        return None
    return [name for name, _ in keras3_optimizer_names(model, template)]
