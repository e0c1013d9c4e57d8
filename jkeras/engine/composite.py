"""Layers made of layers: a Keras-style layer (`build`/`call`) that holds other layers or
models as attributes, as a transformer block holds its attention, normalization and dense
layers.

The base class tracks the layers assigned to such a layer's attributes (`track`). Its
variables are its own weights and, under each built sublayer's name, that sublayer's tree,
read through the sublayer's own cells: `{"params": {own: ..., "dense": {"kernel": ...}},
"state": {...}}`. `apply` runs `call` inside a call context that owns the built sublayers
(`call_context`), so each takes its traced arrays from the variables `apply` was given.
A sublayer builds where it is first called; `weight_lists` orders the weights as Keras 2
does: the layer's own, then each sublayer's, trainable ones before the others.
"""
import jax

from jkeras.engine import added_losses, call_context
from jkeras.serialization import builtin_tables

__all__ = ["track", "built_sublayers", "has_sublayers", "read", "split", "init",
           "weight_lists", "trainable_mask", "context", "finish"]


def _is_model(layer):
    return isinstance(layer, builtin_tables.table("layers")["Model"])  # above this module


def track(layer, items):
    """Remembers each of `items` (layers) as a sublayer of `layer`, once."""
    subs = layer.__dict__.get("_sublayers")
    if subs is None:
        subs = []
        object.__setattr__(layer, "_sublayers", subs)
    for item in items:
        if item is not layer and all(item is not s for s in subs):
            subs.append(item)


def has_sublayers(layer):
    return bool(layer.__dict__.get("_sublayers"))


def built_sublayers(layer):
    """The tracked sublayers whose variables exist, in the order they were assigned."""
    return [s for s in layer.__dict__.get("_sublayers", ()) if s.built]


def read(layer, own, of_sublayer):
    """`own` (`{"params": ..., "state": ...}`) with each built sublayer's
    `of_sublayer(sub)` tree added under its name."""
    out = {"params": dict(own["params"]), "state": dict(own["state"])}
    for sub in built_sublayers(layer):
        tree = of_sublayer(sub) or {"params": {}, "state": {}}
        for kind in ("params", "state"):
            if sub.name in own[kind]:
                raise ValueError(
                    f'Layer "{layer.name}" has a weight and a sublayer both named '
                    f'"{sub.name}"; rename one of them.')
            out[kind][sub.name] = tree[kind]
    return out


def split(layer, variables):
    """`(own variables, [(sublayer, its variables), ...])` of a composite tree."""
    subs = built_sublayers(layer)
    names = {s.name for s in subs}
    own = {kind: {k: v for k, v in variables.get(kind, {}).items() if k not in names}
           for kind in ("params", "state")}
    parts = [(s, {kind: variables.get(kind, {}).get(s.name, {}) for kind in ("params", "state")})
             for s in subs
             if s.name in variables.get("params", {}) or s.name in variables.get("state", {})]
    return own, parts


def init(layer, own, key):
    """`own` fresh variables with fresh ones for every built sublayer."""
    order = {id(sub): i for i, sub in enumerate(built_sublayers(layer))}

    def fresh(sub):
        shape = None if _is_model(sub) else sub._build_input_shape
        return sub.init(jax.random.fold_in(key, 1 + order[id(sub)]), shape)
    return read(layer, own, fresh)


def weight_lists(layer, own_params, own_state):
    """`(trainable, non_trainable)` weight handles: the layer's own, then each built
    sublayer's (Keras 2's order), each weight once; a frozen sublayer's, or all of them
    when the layer itself is frozen, are non-trainable."""
    trainable = list(own_params) if layer.trainable else []
    non_trainable = list(own_state) if layer.trainable else list(own_params) + list(own_state)
    for sub in built_sublayers(layer):
        if layer.trainable:
            trainable += sub.trainable_weights
            non_trainable += sub.non_trainable_weights
        else:
            non_trainable += sub.weights
    seen = set()

    def once(handles):
        out = []
        for h in handles:
            key = (id(h._layer), h._key, h._kind)
            if key not in seen:
                seen.add(key)
                out.append(h)
        return out
    return once(trainable), once(non_trainable)


def trainable_mask(layer, trainable):
    """A tree like the layer's params: True where a weight trains."""
    params = (layer._variables or {"params": {}})["params"]
    mask = {k: trainable for k in params}
    for sub in built_sublayers(layer):
        sub_trainable = trainable and sub.trainable
        if _is_model(sub):
            mask[sub.name] = sub._trainable_mask(sub_trainable)
        elif has_sublayers(sub):
            mask[sub.name] = trainable_mask(sub, sub_trainable)
        else:
            sub_params = (sub._variables or {"params": {}})["params"]
            mask[sub.name] = {k: sub_trainable for k in sub_params}
    return mask


def context(layer, variables, training, key):
    """The call context `apply` runs `call` in: the built sublayers take their arrays
    from `variables` (those not in it yet, built during this call, run on their own)."""
    present = variables.get("params", {})
    owned = [s for s in built_sublayers(layer) if s.name in present]
    return call_context.CallContext(
        {"params": present, "state": variables.get("state", {})}, owned, training, key)


def finish(layer, context_):
    """The new state after `call` ran in `context_`; the sublayers' activity losses go
    where an array `add_loss` from inside `call` would."""
    if not (isinstance(context_.losses, float) and context_.losses == 0.0):
        added_losses.add_loss(layer, context_.losses)
    return context_.new_state
