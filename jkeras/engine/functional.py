"""Functional models: a graph of layer calls from Input tensors to outputs, run in order.

The graph is mapped once (nodes sorted by depth, as Keras 2 orders them); `apply` walks
the nodes and is a pure function of the variables tree, so a whole model traces into one
jitted computation and can itself be called as a layer.
"""
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from jkeras.engine import added_graph, naming
from jkeras.engine.base_layer import Layer, flatten, map_structure
from jkeras.engine.input_layer import InputLayer
from jkeras.engine.keras_tensor import KerasTensor
from jkeras.engine.model import Model, activity_loss

__all__ = ["Functional"]


def _accepts(fn, name):
    import inspect
    params = inspect.signature(fn).parameters
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


class Functional(Model):
    """`Model(inputs, outputs)`: inputs and outputs may be tensors, lists or dicts."""

    _is_graph_network = True

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        self._init_graph_model(inputs, outputs, name=name, trainable=trainable, **kwargs)

    def _init_graph_model(self, inputs, outputs, name=None, trainable=True, **kwargs):
        object.__setattr__(self, "_tracked_layers", None)
        Layer.__init__(self, name=name or naming.unique_name(
            naming.to_snake_case(type(self).__name__) if type(self) not in
            (Functional,) else "model"), trainable=trainable, **kwargs)
        object.__setattr__(self, "_is_graph_network", True)
        self._init_training_state()
        self._init_graph(inputs, outputs)

    # ------------------------------------------------------------------ graph
    def _init_graph(self, inputs, outputs):
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        if isinstance(outputs, tuple):
            outputs = list(outputs)
        self._nested_inputs = inputs
        self._nested_outputs = outputs
        self.inputs = flatten(inputs)
        self.outputs = flatten(outputs)
        for tensor in self.inputs:
            if not isinstance(tensor, KerasTensor) or \
                    not isinstance(tensor._keras_history[0], InputLayer):
                raise ValueError(
                    f"Model inputs must come from `jkeras.Input` (thus holding past layer "
                    f"metadata). Received: {tensor!r:.200}")
        if len({id(t) for t in self.inputs}) != len(self.inputs):
            raise ValueError(
                "The list of inputs passed to the model is redundant: each input must "
                f"appear once. Received: inputs={[t.name for t in self.inputs]}")
        for tensor in self.outputs:
            if not isinstance(tensor, KerasTensor):
                raise ValueError(
                    f"Model outputs must be tensors returned by layers. Received: "
                    f"{tensor!r:.200}")
        self._map_graph()
        self._input_layers = [t._keras_history[0] for t in self.inputs]
        self._output_layers = [t._keras_history[0] for t in self.outputs]
        self.input_names = [layer.name for layer in self._input_layers]
        self.output_names = [layer.name for layer in self._output_layers]
        if isinstance(outputs, dict):
            self.output_names = sorted(outputs)
        self._build_input_shape = map_structure(lambda t: t.shape, inputs)
        if added_graph.has_added(self):  # symbolic losses its layers were given
            added_graph.plan(self)

    def _map_graph(self):
        layer_order = {}
        finished, in_progress, ordered_nodes = set(), set(), []

        def visit(tensor):
            layer, node_index, _ = tensor._keras_history
            node = layer._inbound_nodes[node_index]
            if id(node) in in_progress:
                raise ValueError(f"The graph has a cycle at layer {layer.name}.")
            if id(node) in finished:
                return
            layer_order.setdefault(id(layer), (len(layer_order), layer))
            in_progress.add(id(node))
            for parent in node.keras_inputs:
                visit(parent)
            in_progress.discard(id(node))
            finished.add(id(node))
            ordered_nodes.append(node)

        for tensor in self.outputs:
            visit(tensor)

        node_depth, layer_depth = {}, {}
        for node in reversed(ordered_nodes):
            depth = max(node_depth.setdefault(id(node), 0),
                        layer_depth.get(id(node.layer), 0))
            layer_depth[id(node.layer)] = depth
            node_depth[id(node)] = depth
            for parent in node.parent_nodes:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))

        for tensor in self.inputs:
            layer = tensor._keras_history[0]
            if id(layer) not in layer_depth:
                raise ValueError(
                    f'Input "{layer.name}" (shape {tensor.shape}) is not connected to the '
                    f"outputs of the model: no output depends on it. Remove it from "
                    "`inputs` or use it.")

        nodes_by_depth = {}
        for node in ordered_nodes:
            nodes_by_depth.setdefault(node_depth[id(node)], []).append(node)
        layers_by_depth = {}
        for layer_id, depth in layer_depth.items():
            layers_by_depth.setdefault(depth, []).append(layer_order[layer_id])
        layers = []
        for depth in sorted(layers_by_depth, reverse=True):
            layers.extend(layer for _, layer in sorted(layers_by_depth[depth],
                                                       key=lambda p: p[0]))

        # Every tensor a node needs must be computable from the model's inputs.
        computable = {id(t) for t in self.inputs}
        seen_layers = []
        for depth in sorted(nodes_by_depth, reverse=True):
            for node in nodes_by_depth[depth]:
                if not node.is_input:
                    for tensor in node.keras_inputs:
                        if id(tensor) not in computable:
                            raise ValueError(
                                f"Graph disconnected: cannot obtain value for tensor "
                                f"{tensor.name} at layer \"{node.layer.name}\". The "
                                "following previous layers were accessed without issue: "
                                f"{seen_layers}")
                elif node.outputs is not None and \
                        id(flatten(node.outputs)[0]) not in computable:
                    tensor = flatten(node.outputs)[0]
                    raise ValueError(
                        f"Graph disconnected: cannot obtain value for tensor {tensor.name} "
                        f"at layer \"{node.layer.name}\": it is an Input that is not listed "
                        f"in the model's inputs. The following previous layers were "
                        f"accessed without issue: {seen_layers}")
                for tensor in node.flat_outputs:
                    computable.add(id(tensor))
                seen_layers.append(node.layer.name)

        names = [layer.name for layer in layers]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(
                    f'The name "{name}" is used {names.count(name)} times in the model. '
                    "All layer names should be unique.")

        self._nodes_by_depth = nodes_by_depth
        self._network_nodes = {id(n) for n in ordered_nodes}
        object.__setattr__(self, "_tracked_layers", layers)
        self._execution_order = [node for depth in sorted(nodes_by_depth, reverse=True)
                                 for node in nodes_by_depth[depth] if not node.is_input]

    @property
    def layers(self):
        return list(self._tracked_layers)

    def _unique_layers(self):
        """The model's layers, then those only its added losses and metrics use."""
        layers = Model._unique_layers(self)
        known = {id(layer) for layer in layers}
        return layers + [layer for layer in self.__dict__.get("_added_layers") or []
                         if id(layer) not in known]

    def add_loss(self, losses, inputs=None):
        self._add_checked(Model.add_loss, losses)

    def add_metric(self, value, name=None, aggregation="mean"):
        self._add_checked(Model.add_metric, value, name=name, aggregation=aggregation)

    def _add_checked(self, add, *args, **kwargs):
        """Adds, then plans the added tensors' evaluation now (before any training); a
        tensor the model cannot compute raises and leaves the model as it was."""
        saved = {k: list(self.__dict__.get(k) or []) for k in
                 ("_symbolic_losses", "_symbolic_metrics", "_callable_losses")}
        add(self, *args, **kwargs)
        try:
            if added_graph.has_added(self):
                added_graph.plan(self)
        except ValueError:
            self.__dict__.update(saved)
            raise

    @property
    def input(self):
        return self._nested_inputs if not isinstance(self._nested_inputs, list) or \
            len(self.inputs) > 1 else self.inputs[0]

    @property
    def output(self):
        return self._nested_outputs if not isinstance(self._nested_outputs, list) or \
            len(self.outputs) > 1 else self.outputs[0]

    @property
    def input_shape(self):
        if self._inbound_nodes and len(self._inbound_nodes) == 1:
            return Layer.input_shape.fget(self)
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        if self._inbound_nodes and len(self._inbound_nodes) == 1:
            return Layer.output_shape.fget(self)
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def compute_output_shape(self, input_shape):
        return self.output_shape

    def _infer_output_spec_symbolic(self, inputs, args, kwargs):
        from jkeras.engine.base_layer import _Spec, eval_specs, to_specs
        if [tuple(t.shape) for t in flatten(inputs)] == [t.shape for t in self.inputs]:
            return map_structure(lambda t: _Spec(t.shape, t.dtype), self._nested_outputs)
        # Called on tensors of other shapes: the shapes the graph gives them when run.
        def forward(v, x, a, kw):
            return self.apply(v, x, *a, training=False, key=None, **kw)[0]
        try:
            return eval_specs(forward, to_specs(self._get_vars()), to_specs(inputs),
                              to_specs(list(args)), to_specs(kwargs))
        except (TypeError, ValueError) as e:
            got = [tuple(t.shape) for t in flatten(inputs)]
            raise ValueError(
                f'Model "{self.name}" was built for input shape(s) '
                f"{[t.shape for t in self.inputs]} and its layers cannot run on {got}: "
                f"{e}") from e

    def _infer_mask_spec(self, inputs, explicit_mask):
        masks = [getattr(t, "_mask_spec", None) for t in self.outputs]
        return masks if any(m is not None for m in masks) else None

    def _maybe_build(self, input_shape):
        pass

    def _check_inputs(self, inputs):
        flat = flatten(inputs)
        if len(flat) != len(self.inputs):
            raise ValueError(
                f'Model "{self.name}" expects {len(self.inputs)} input(s), but it received '
                f"{len(flat)} input tensors.")
        for index, (given, expected) in enumerate(zip(flat, self.inputs)):
            got, want = tuple(given.shape), expected.shape
            if len(got) != len(want) or any(
                    w is not None and g is not None and w != g for g, w in zip(got, want)):
                # Keras 2 runs the model's layers on the shape given (a Dense applies to
                # the last axis, a Reshape absorbs an extra one: mnist_acgan's generator).
                # Where a layer cannot take it, running the graph's shapes says so.
                warnings.warn(
                    f'Model "{self.name}" was built for input {index} of shape {want}, but it '
                    f"is called on shape {got}; its layers run on the shape given.",
                    stacklevel=4)
                if not isinstance(given, KerasTensor):  # arrays: fail here, clearly
                    self._infer_output_spec_symbolic(inputs, [], {})
                return

    # ------------------------------------------------------------------ running the graph
    def _flatten_inputs(self, inputs):
        """Model inputs given as an array, a list or a dict, in `self.inputs` order."""
        if isinstance(inputs, dict):
            missing = [n for n in self.input_names if n not in inputs]
            if missing and isinstance(self._nested_inputs, dict):
                keyed = {id(t): k for k, t in self._nested_inputs.items()}
                return [inputs[keyed[id(t)]] for t in self.inputs]
            if missing:
                raise ValueError(
                    f'Model "{self.name}" is missing input(s) {missing}; the dict given has '
                    f"keys {sorted(inputs)}.")
            return [inputs[n] for n in self.input_names]
        if isinstance(inputs, (list, tuple)):
            return list(inputs)
        return [inputs]

    def apply_with_losses(self, variables, inputs, *, training=False, key=None, mask=None,
                          **kwargs):
        """`(outputs, new_state, activity_losses)`, walking the graph in order (pure)."""
        flat_inputs = self._flatten_inputs(inputs)
        if len(flat_inputs) != len(self.inputs):
            raise ValueError(
                f'Model "{self.name}" expects {len(self.inputs)} input(s), but it received '
                f"{len(flat_inputs)}.")
        flat_masks = flatten(mask) if mask is not None else [None] * len(flat_inputs)
        values = {}
        for tensor, value, m in zip(self.inputs, flat_inputs, flat_masks):
            value = jnp.asarray(value)
            if value.dtype != tensor.dtype:
                value = value.astype(tensor.dtype)
            values[id(tensor)] = (value, m)
        params, state = variables["params"], variables["state"]
        new_state = dict(state)
        losses = 0.0
        for count, node in enumerate(self._execution_order):
            layer = node.layer
            layer_vars = {"params": params[layer.name], "state": new_state[layer.name]}
            layer_state, node_losses = self._run_node(node, values, layer_vars, training, key,
                                                      count)
            new_state[layer.name] = layer_state
            losses = losses + node_losses
        if self.__dict__.get("_added_plan") is not None:
            losses = losses + added_graph.evaluate(self, values, variables, training, key)
        outputs = map_structure(lambda t: values[id(t)][0], self._nested_outputs)
        return outputs, new_state, losses

    def _run_node(self, node, values, layer_vars, training, key, count):
        """Runs one node on the values computed so far (`values[id(tensor)] = (array,
        mask)`), stores its outputs there; returns `(new layer state, its losses)`."""
        layer = node.layer
        fetch = (lambda t: values[id(t)][0] if isinstance(t, KerasTensor) else t)
        args = map_structure(fetch, node.input_tensors)
        call_args = map_structure(fetch, node.call_args)
        call_kwargs = map_structure(fetch, node.call_kwargs)
        masks = map_structure(lambda t: values[id(t)][1], node.input_tensors)
        if not any(m is not None for m in flatten(masks)):
            masks = None
        call_kwargs.update(self._kwarg_masks(layer, node, values))
        node_training = training if node.training is None else node.training
        if key is not None:
            node_key = jax.random.fold_in(key, count)
        elif node_training and not training:
            # Called with training=True inside an inference pass (MC dropout) and no
            # key was given (evaluate): a fixed key keeps the pass pure.
            node_key = jax.random.fold_in(jax.random.PRNGKey(0), count)
        else:
            node_key = None
        losses = 0.0
        if isinstance(layer, Model):
            outputs, layer_state, inner = layer.apply_with_losses(
                layer_vars, args, *call_args, training=node_training, key=node_key,
                mask=masks, **call_kwargs)
            losses = losses + inner
        else:
            outputs, layer_state = layer.apply(
                layer_vars, args, *call_args, training=node_training, key=node_key,
                mask=masks, **call_kwargs)
            if layer.activity_regularizer is not None:
                losses = losses + activity_loss(layer, outputs)
        out_masks = self._node_masks(layer, node, args, masks, outputs)
        for tensor, value, m in zip(node.flat_outputs, flatten(outputs), out_masks):
            values[id(tensor)] = (value, m)
        return layer_state, losses

    @staticmethod
    def _kwarg_masks(layer, node, values):
        """Masks of tensors passed as keyword arguments (MultiHeadAttention's `value=`),
        given as `<name>_mask` to layers whose apply accepts that argument."""
        extra = {}
        for name, tensor in node.call_kwargs.items():
            if isinstance(tensor, KerasTensor) and values[id(tensor)][1] is not None:
                if _accepts(layer.apply, f"{name}_mask"):
                    extra[f"{name}_mask"] = values[id(tensor)][1]
        return extra

    @staticmethod
    def _node_masks(layer, node, args, masks, outputs):
        flat_out = node.flat_outputs
        if all(getattr(t, "_mask_spec", None) is None for t in flat_out):
            return [None] * len(flat_out)
        if isinstance(layer, Functional):
            return [None] * len(flat_out)
        computed = layer.compute_mask(args, masks)
        flat = flatten(computed) if isinstance(computed, (list, tuple)) else [computed]
        if len(flat) == 1 and len(flat_out) > 1:
            flat = flat * len(flat_out)
        return flat

    def compute_mask(self, inputs, mask=None):
        return None

    # ------------------------------------------------------------------ config
    def get_config(self):
        from jkeras.engine.model_config_writer import functional_config
        return functional_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from jkeras.engine.model_config import functional_from_config
        return functional_from_config(cls, config, custom_objects)
