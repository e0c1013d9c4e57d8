"""Model diagrams: `model_to_dot` (a `pydot.Dot` graph of the layers) and `plot_model`
(that graph drawn to a file by Graphviz), as Keras 2's `keras.utils.vis_utils`.

`model_to_dot` needs the `pydot` package only (`pip install jkeras[plot]`); `plot_model`
also needs Graphviz's `dot` program on the PATH. Each node is a layer, labelled
`name: ClassName` (and, with `show_shapes`, a record of its input and output shapes);
edges follow the model's graph as its config describes it. With `expand_nested`, nested
models (also inside a wrapper such as TimeDistributed) are drawn as dashed clusters.
"""
import os
import shutil

__all__ = ["model_to_dot", "plot_model"]

_RANKDIRS = ("TB", "LR", "BT", "RL")
_RECORD_SPECIALS = str.maketrans({c: "\\" + c for c in "{}|<>"})


def _pydot():
    try:
        import pydot
    except ImportError:
        raise ImportError("model_to_dot and plot_model need the `pydot` package, which is "
                          "not installed. Install it with `pip install pydot` (or "
                          "`pip install jkeras[plot]`).") from None
    return pydot


def _check_dot_program(pydot):
    program = getattr(pydot.Dot(), "prog", "dot") or "dot"
    if shutil.which(program) is None:
        # OSError, as Keras 2.3 raised when pydot could not call Graphviz
        raise OSError(f"plot_model needs Graphviz's `{program}` program, which was not "
                          "found on the PATH. Install Graphviz (https://graphviz.org/download/"
                          ", e.g. `apt-get install graphviz` or `brew install graphviz`); "
                          "`model_to_dot` works without it.")


def _check_args(rankdir, dpi):
    if rankdir not in _RANKDIRS:
        raise ValueError(f"Expected `rankdir` to be one of {_RANKDIRS}. "
                         f"Received: rankdir={rankdir!r}")
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or dpi <= 0:
        raise ValueError(f"Expected `dpi` to be a positive number. Received: dpi={dpi!r}")


def _is_model(layer):
    from jkeras.engine.model import Model
    return isinstance(layer, Model)


def _wrapped_model(layer):
    inner = getattr(layer, "layer", None)
    return inner if inner is not None and _is_model(inner) else None


def _shape(layer, attr):
    """A layer's input or output shape; None when it has several (a shared layer)."""
    try:
        shape = getattr(layer, attr)
    except (AttributeError, ValueError, RuntimeError):
        return None
    return shape[0] if isinstance(shape, list) and len(shape) == 1 else shape


def _shape_texts(layer):
    outputs = _shape(layer, "output_shape")
    inputs = _shape(layer, "input_shape")
    if inputs == []:  # an InputLayer: it passes its shape through
        inputs = outputs
    return tuple("multiple" if shape is None else str(shape) for shape in (inputs, outputs))


def _label(name, class_name, show_layer_names, shapes):
    label = f"{name}: {class_name}" if show_layer_names else class_name
    label = label.translate(_RECORD_SPECIALS)
    if shapes is None:
        return label
    inputs, outputs = (text.translate(_RECORD_SPECIALS) for text in shapes)
    return f"{label}\n|{{input:|output:}}|{{{{{inputs}}}|{{{outputs}}}}}"


def _graph_entries(model):
    """`[(name, layer or None, class_name, [inbound layer names], shapes_source)]` in the
    model's order, from its config (a Sequential becomes a chain from its input)."""
    config = model.get_config()
    entries = []
    if "inbound_nodes" not in (config["layers"][0] if config["layers"] else {}):
        previous = []
        for layer_config in config["layers"]:
            name = layer_config["config"]["name"]
            layer = None if layer_config["class_name"] == "InputLayer" else \
                model.get_layer(name)
            entries.append((name, layer, layer_config["class_name"], previous,
                            layer_config["config"].get("batch_input_shape")))
            previous = [name]
        return entries
    for layer_config in config["layers"]:
        name = layer_config["name"]
        inbound = []
        for node in layer_config["inbound_nodes"]:
            for entry in node:
                if entry[0] not in inbound:
                    inbound.append(entry[0])
        entries.append((name, model.get_layer(name), layer_config["class_name"], inbound,
                        None))
    return entries


def _build(pydot, model, show_shapes, show_layer_names, rankdir, expand_nested, dpi,
           subgraph):
    if subgraph:
        dot = pydot.Cluster(graph_name=model.name, style="dashed")
        dot.set("label", model.name)
        dot.set("labeljust", "l")
    else:
        dot = pydot.Dot()
        dot.set("rankdir", rankdir)
        dot.set("concentrate", True)
        dot.set("dpi", dpi)
        dot.set_node_defaults(shape="record")
    entry_node, exit_node = {}, {}

    def add_node(node_id, label):
        dot.add_node(pydot.Node(node_id, label=label))

    def add_cluster(inner):
        cluster, first, last = _build(pydot, inner, show_shapes, show_layer_names,
                                      rankdir, expand_nested, dpi, subgraph=True)
        dot.add_subgraph(cluster)
        return first, last

    entries = _graph_entries(model)
    for name, layer, class_name, _, input_shape in entries:
        node_id = str(id(layer)) if layer is not None else f"{id(model)}_{name}"
        if layer is not None and expand_nested and _is_model(layer):
            entry_node[name], exit_node[name] = add_cluster(layer)
            continue
        label_name = name
        inner = _wrapped_model(layer) if layer is not None else None
        if inner is not None and not expand_nested:
            label_name = f"{name}({inner.name})"
            class_name = f"{class_name}({type(inner).__name__})"
        shapes = None
        if show_shapes:
            shapes = (str(tuple(input_shape)),) * 2 if layer is None else _shape_texts(layer)
        add_node(node_id, _label(label_name, class_name, show_layer_names, shapes))
        entry_node[name] = exit_node[name] = node_id
        if inner is not None and expand_nested:
            first, exit_node[name] = add_cluster(inner)
            dot.add_edge(pydot.Edge(node_id, first))
    for name, _, _, inbound, _ in entries:
        for source in inbound:
            edge = (exit_node[source], entry_node[name])
            if edge[0] != edge[1] and not dot.get_edge(*edge):
                dot.add_edge(pydot.Edge(*edge))
    if not entries:
        return dot, None, None
    return dot, entry_node[entries[0][0]], exit_node[entries[-1][0]]


def model_to_dot(model, show_shapes=False, show_layer_names=True, rankdir="TB",
                 expand_nested=False, dpi=96, subgraph=False):
    """A `pydot.Dot` graph of `model`'s layers (a `pydot.Cluster` with `subgraph=True`).

    Arguments:
        show_shapes: label each layer with its input and output shapes.
        show_layer_names: put layer names before the class names.
        rankdir: 'TB' (top to bottom), 'LR' (left to right), 'BT' or 'RL'.
        expand_nested: draw nested models' layers as clusters.
        dpi: the image resolution Graphviz is asked for.
    """
    pydot = _pydot()
    _check_args(rankdir, dpi)
    return _build(pydot, model, show_shapes, show_layer_names, rankdir, expand_nested, dpi,
                  subgraph)[0]


def plot_model(model, to_file="model.png", show_shapes=False, show_layer_names=True,
               rankdir="TB", expand_nested=False, dpi=96):
    """Draws `model_to_dot(model, ...)` to `to_file` with Graphviz; the file's extension
    picks the format (png when there is none). Where IPython is installed, a png, jpeg or
    gif is also returned as an `IPython.display.Image` (shown inline in a notebook)."""
    pydot = _pydot()
    _check_dot_program(pydot)
    _check_args(rankdir, dpi)
    dot = model_to_dot(model, show_shapes=show_shapes, show_layer_names=show_layer_names,
                       rankdir=rankdir, expand_nested=expand_nested, dpi=dpi)
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    dot.write(to_file, format=extension)
    if extension.lower() not in ("png", "jpg", "jpeg", "gif"):
        return None
    try:
        from IPython import display
    except ImportError:
        return None
    return display.Image(filename=to_file)
