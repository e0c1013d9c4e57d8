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
from jkeras.engine.layer_specs import inferring_shapes, shape_inference, to_specs
from jkeras.engine.structure import _Spec, flatten, map_structure
from jkeras.serialization import builtin_tables

__all__ = ["track", "append_new", "discover", "held_layers", "built_sublayers",
           "has_sublayers", "read", "split", "init", "build_sublayers", "weight_lists",
           "trainable_mask", "context", "finish", "in_compiled_step"]

# Attributes of every layer that never hold its sublayers.
_NOT_SUBLAYERS = frozenset({"_sublayers", "_tracked_layers", "_inbound_nodes",
                            "_outbound_nodes"})


_MODEL = []


def _is_model(layer):
    if not _MODEL:  # Model is above this module; its class, looked up once
        _MODEL.append(builtin_tables.table("layers")["Model"])
    return isinstance(layer, _MODEL[0])


def track(layer, items):
    """Remembers each of `items` (layers) as a sublayer of `layer`, once."""
    subs = layer.__dict__.get("_sublayers")
    if subs is None:
        subs = []
        object.__setattr__(layer, "_sublayers", subs)
    append_new(subs, items, layer)


def append_new(tracked, items, owner):
    """Appends to `tracked` each of `items` (layers) not in it yet, `owner` aside."""
    for item in items:
        if item is not owner and all(item is not t for t in tracked):
            tracked.append(item)


def discover(layer, layer_class):
    """Tracks every layer held by `layer`'s attributes (`held_layers`)."""
    found = held_layers(layer, layer_class)
    if found:
        track(layer, found)


def held_layers(layer, layer_class):
    """The layers `layer`'s attributes hold, private ones and those inside lists, tuples
    and dicts (filled after assignment) included, in attribute order."""
    found = []

    def visit(value, depth):
        if isinstance(value, layer_class):
            found.append(value)
        elif depth < 4 and isinstance(value, (list, tuple)):
            for item in value:
                visit(item, depth + 1)
        elif depth < 4 and isinstance(value, dict):
            for item in value.values():
                visit(item, depth + 1)
    for name, value in list(vars(layer).items()):
        if name not in _NOT_SUBLAYERS and not name.startswith("__"):
            visit(value, 0)
    return [item for item in found if item is not layer]


def has_sublayers(layer):
    return bool(layer.__dict__.get("_sublayers"))


def built_sublayers(layer):
    """The tracked sublayers whose variables exist, in the order they were assigned."""
    return [s for s in layer.__dict__.get("_sublayers", ()) if s.built]


def read(layer, own, of_sublayer):
    """`own` (`{"params": ..., "state": ...}`) with each built sublayer's
    `of_sublayer(sub)` tree added under its name."""
    out = {"params": dict(own["params"]), "state": dict(own["state"])}
    subs = built_sublayers(layer)
    _check_names(layer, subs)
    for sub in subs:
        tree = of_sublayer(sub) or {"params": {}, "state": {}}
        for kind in ("params", "state"):
            if sub.name in own[kind]:
                raise ValueError(
                    f'Layer "{layer.name}" has a weight and a sublayer both named '
                    f'"{sub.name}"; rename one of them.')
            out[kind][sub.name] = tree[kind]
    return out


def _check_names(layer, subs):
    names = [s.name for s in subs]
    if len(set(names)) != len(names):
        raise ValueError(
            f'Layer "{layer.name}" holds several layers named '
            f"{sorted({n for n in names if names.count(n) > 1})}; its sublayers need "
            "names of their own.")


def split(layer, variables):
    """`(own variables, [(sublayer, its variables), ...])` of a composite tree."""
    subs = built_sublayers(layer)
    names = {s.name for s in subs}
    own = {kind: {k: v for k, v in variables.get(kind, {}).items() if k not in names}
           for kind in ("params", "state")}
    parts = [(s, {kind: variables.get(kind, {}).get(s.name, {})
                  for kind in ("params", "state")})
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


def build_sublayers(layer, in_specs, arg_specs=(), kwarg_specs=None, own=None):
    """Builds the sublayers `call` uses, in inference and in training, by tracing `apply`
    once each way for inputs like `in_specs` (`_Spec`s, None for unknown dimensions):
    their initial values are drawn then (at compile time), before any step is compiled,
    so every weight is in the model's variables when it trains. `own`: the layer's own
    variables when it is not built yet (`init`)."""
    def concrete(spec):
        return jax.ShapeDtypeStruct(tuple(2 if d is None else d for d in spec.shape),
                                    spec.dtype)
    inputs, args, kwargs = (
        map_structure(lambda x: concrete(x) if isinstance(x, _Spec) else x, t)
        for t in (in_specs, list(arg_specs), kwarg_specs or {}))
    with shape_inference():
        for training in (False, True):
            if all(s.built for s in layer.__dict__.get("_sublayers", ())):
                break
            current = layer._get_vars() if layer.built else \
                read(layer, own or {"params": {}, "state": {}}, lambda sub: sub._get_vars())
            variables = map_structure(concrete, to_specs(current))
            key = jax.random.PRNGKey(0) if training else None
            jax.eval_shape(
                lambda v, x, a, kw, t=training, k=key: layer.apply(
                    v, x, *a, training=t, key=k, **kw)[0],
                variables, inputs, args, kwargs)
    _check_names(layer, built_sublayers(layer))


def in_compiled_step(inputs):
    """Whether `inputs` are traced by something other than shape inference: a compiled
    step, where a layer built now would have its weights as constants."""
    return not inferring_shapes() and any(isinstance(x, jax.core.Tracer)
                                          for x in flatten(inputs))


def weight_lists(layer, own_params, own_state):
    """`(trainable, non_trainable)` weight handles: the layer's own, then each built
    sublayer's (Keras 2's order and names), each weight once; a frozen sublayer's, or all
    of them when the layer itself is frozen, are non-trainable."""
    trainable = list(own_params) if layer.trainable else []
    non_trainable = list(own_state) if layer.trainable else list(own_params) + list(own_state)
    for sub in built_sublayers(layer):
        # Named under the holder, as Keras 2 names them (`block/dense/kernel:0`): two
        # blocks with parts of the same name keep apart in a file.
        prefix = f"{layer.name}/{sub.name}/" if _is_model(sub) else f"{layer.name}/"
        if layer.trainable:
            trainable += [h.scoped(prefix) for h in sub.trainable_weights]
            non_trainable += [h.scoped(prefix) for h in sub.non_trainable_weights]
        else:
            non_trainable += [h.scoped(prefix) for h in sub.weights]
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


def context(layer, variables, inputs, training, key):
    """The call context `apply` runs `call` in: the built sublayers take their arrays
    from `variables`. Those not in it run on their own: during shape inference and
    eager calls (where they may build), never in a compiled step. With no key, a
    sublayer called with `training=True` (Monte Carlo dropout) draws from a fixed one."""
    present = variables.get("params", {})
    built = built_sublayers(layer)
    owned = [s for s in built if s.name in present]
    missing = [s.name for s in built if s.name not in present and s.weights]
    if missing and in_compiled_step(inputs):
        raise ValueError(
            f'Layer "{layer.name}" holds layers whose weights are not among the variables '
            f"it was given: {missing}. They were built after the model took its weights "
            "(inside a layer that builds its parts by itself, such as an RNN's cell): "
            "call the layer once on an input of the right shape before wrapping it.")
    if key is None:
        key = jax.random.PRNGKey(0)
    return call_context.CallContext(
        {"params": present, "state": variables.get("state", {})}, owned, training, key)


def finish(layer, context_):
    """The new state after `call` ran in `context_`; the sublayers' activity losses go
    where an array `add_loss` from inside `call` would."""
    if not (isinstance(context_.losses, float) and context_.losses == 0.0):
        added_losses.add_loss(layer, context_.losses)
    return context_.new_state
