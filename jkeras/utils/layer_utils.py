"""`print_summary`: the Keras 2 text table of a model's layers, shapes and parameter counts."""
from jkeras.engine.base_layer import flatten


def count_params(weights):
    seen, total = set(), 0
    for w in weights:
        key = (id(w._layer), w._key) if hasattr(w, "_layer") else id(w)
        if key not in seen:
            seen.add(key)
            size = 1
            for d in w.shape:
                size *= int(d)
            total += size
    return total


def _is_sequential_like(model):
    if type(model).__name__ == "Sequential" or not model._is_graph_network:
        return True
    nodes = []
    for depth_nodes in model._nodes_by_depth.values():
        if len(depth_nodes) > 1 or (
                len(depth_nodes) == 1 and len(depth_nodes[0].keras_inputs) > 1):
            return False
        nodes.extend(depth_nodes)
    node_ids = {id(n) for n in nodes}
    for layer in model.layers:
        if sum(id(n) in node_ids for n in layer._inbound_nodes) > 1:
            return False
    return True


def _output_shape_text(layer):
    try:
        return str(layer.output_shape)
    except AttributeError:
        return "multiple"


def print_summary(model, line_length=None, positions=None, print_fn=None):
    """Prints `model`'s layers as Keras 2 does: name (type), output shape, params, and for
    non-sequential graphs the inbound connections (`layer[node][tensor]`)."""
    print_fn = print_fn or print
    sequential_like = _is_sequential_like(model)
    if sequential_like:
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
        headers = ["Layer (type)", "Output Shape", "Param #"]
    else:
        line_length = line_length or 98
        positions = positions or [0.33, 0.55, 0.67, 1.0]
        headers = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    relevant = {id(n) for nodes in getattr(model, "_nodes_by_depth", {}).values()
                for n in nodes}

    def row(fields):
        line = ""
        for i, field in enumerate(fields):
            if i > 0:
                line = line[:-1] + " "
            line += str(field)
            line = line[:positions[i]]
            line += " " * (positions[i] - len(line))
        print_fn(line)

    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    row(headers)
    print_fn("=" * line_length)
    layers = model.layers
    for i, layer in enumerate(layers):
        params = layer.count_params() if layer.built else 0
        name = f"{layer.name} ({type(layer).__name__})"
        if sequential_like:
            row([name, _output_shape_text(layer), params])
        else:
            connections = []
            for node in layer._inbound_nodes:
                if relevant and id(node) not in relevant:
                    continue
                for inbound, node_index, tensor_index, _ in node.iterate_inbound():
                    connections.append(f"{inbound.name}[{node_index}][{tensor_index}]")
            row([name, _output_shape_text(layer), params,
                 connections[0] if connections else ""])
            for extra in connections[1:]:
                row(["", "", "", extra])
        print_fn("=" * line_length if i == len(layers) - 1 else "_" * line_length)
    trainable = count_params(model.trainable_weights)
    non_trainable = count_params(model.non_trainable_weights)
    print_fn(f"Total params: {trainable + non_trainable:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {non_trainable:,}")
    print_fn("_" * line_length)


def get_source_inputs(tensor):
    """The model inputs (`Input` tensors) that the symbolic `tensor` is computed from, in
    the order a depth-first walk of the graph meets them."""
    sources, seen, stack = [], set(), [tensor]
    while stack:
        current = stack.pop()
        node = current.node
        if node.is_input:
            if id(current) not in seen:
                seen.add(id(current))
                sources.append(current)
            continue
        stack.extend(reversed(node.keras_inputs))
    return sources


__all__ = ["print_summary", "count_params", "flatten", "get_source_inputs"]
