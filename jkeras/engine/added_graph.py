"""A functional model's added symbolic losses and metrics, evaluated with the model.

`vae.add_loss(K.mean(xent + kl))` names tensors of the graph that built the model, often
inside a nested model (`z_mean` of the encoder). The *plan* is the nodes those tensors
need beyond what the model's own pass computes, with where each node's layer keeps its
variables in the model's tree. It is made when the loss is added (so a tensor the model's
inputs cannot reach is an error then), and run after the model's own pass on the same
values, inside the same traced step.
"""
import jax.numpy as jnp

from jkeras.engine import added_losses

__all__ = ["plan", "evaluate", "layer_paths", "has_added"]


def layer_paths(model, prefix=()):
    """`id(layer) -> path` in the model's variables tree, nested models included (a layer
    at several places gets its shallowest one)."""
    paths, nested = {}, []
    for layer in model._unique_layers():
        paths.setdefault(id(layer), prefix + (layer.name,))
        if hasattr(layer, "_unique_layers"):
            nested.append(layer)
    for inner in nested:
        for key, path in layer_paths(inner, prefix + (inner.name,)).items():
            paths.setdefault(key, path)
    return paths


def _added(model):
    """The symbolic losses and metrics added to the model and to its (non-model) layers."""
    owners = [model] + [layer for layer in model.layers if not hasattr(layer, "_unique_layers")]
    return ([t for owner in owners for t in added_losses.symbolic_losses(owner)],
            [m for owner in owners for m in added_losses.symbolic_metrics(owner)])


def has_added(model):
    losses, metrics = _added(model)
    return bool(losses or metrics)


def plan(model):
    """`(nodes, paths, loss tensors, [(name, metric tensor)])`, made once per change."""
    losses, metrics = _added(model)
    cached = model.__dict__.get("_added_plan")
    if cached is not None and cached[0] == (len(losses), len(metrics)):
        return cached[1]
    computable = {id(t) for t in model.inputs}
    for node in model._execution_order:
        computable.update(id(t) for t in node.flat_outputs)
    nodes, seen = [], set()

    def visit(tensor, root):
        if id(tensor) in computable:
            return
        node = tensor.node
        if id(node) in seen:
            return
        if node.is_input:
            raise ValueError(
                f'Model "{model.name}": the added loss or metric {root.name!r} depends on '
                f"the input {tensor.name!r}, which is not an input of the model (its "
                f"inputs are {[t.name for t in model.inputs]}).")
        for parent in node.keras_inputs:
            visit(parent, root)
        seen.add(id(node))
        nodes.append(node)

    for tensor in losses + [t for _, t in metrics]:
        visit(tensor, tensor)
    paths = layer_paths(model)
    extra = list(model.__dict__.get("_added_layers") or [])
    for node in nodes:
        if id(node.layer) not in paths:
            # Layers only the added tensors use (the ops of `K.mean(...)`) join the
            # model's variables, so their cells (a `K.variable` they read) are trained with it.
            extra.append(node.layer)
            paths[id(node.layer)] = (node.layer.name,)
    object.__setattr__(model, "_added_layers", extra)
    result = (nodes, paths, losses, metrics)
    object.__setattr__(model, "_added_plan", ((len(losses), len(metrics)), result))
    return result


def _at(tree, path):
    for key in path:
        tree = tree[key]
    return tree


def evaluate(model, values, variables, training, key):
    """The sum of the added losses' means; the added metrics go to the active collector."""
    nodes, paths, losses, metrics = plan(model)
    values = dict(values)
    for index, node in enumerate(nodes):
        path = paths[id(node.layer)]
        layer_vars = {"params": _at(variables["params"], path),
                      "state": _at(variables["state"], path)}
        # New state and activity penalties of these recomputed nodes are not kept: the
        # model's own pass already counted the layers it runs.
        model._run_node(node, values, layer_vars, training, key, len(values) + index)
    total = 0.0
    for tensor in losses:
        total = total + jnp.mean(jnp.asarray(values[id(tensor)][0], jnp.float32))
    collected = added_losses.active()
    if collected is not None:
        for name, tensor in metrics:
            collected.metrics[name] = values[id(tensor)][0]
    return total
