"""A Node records one call of a layer on symbolic tensors: what went in, what came out."""
import jax

from jkeras.engine.structure import _Spec, flatten, map_structure
from jkeras.engine.keras_tensor import KerasTensor

__all__ = ["Node"]


class Node:
    def __init__(self, layer, inputs, args, kwargs, out_specs, mask_specs, training=None):
        self.layer = layer
        self.input_tensors = inputs
        self.call_args = list(args)
        self.call_kwargs = dict(kwargs)
        self.training = training
        self.keras_inputs = [t for t in flatten([inputs, self.call_args, self.call_kwargs])
                             if isinstance(t, KerasTensor)]
        self.is_input = not self.keras_inputs
        layer._inbound_nodes.append(self)
        self.index = len(layer._inbound_nodes) - 1
        for tensor in self.keras_inputs:
            tensor._keras_history[0]._outbound_nodes.append(self)

        specs = _as_structure(out_specs)
        flat_specs = flatten(specs)
        flat_masks = _broadcast_masks(mask_specs, len(flat_specs))
        outputs = [
            KerasTensor(spec.shape, spec.dtype,
                        name=layer.name if len(flat_specs) == 1 else f"{layer.name}/{i}",
                        history=(layer, self.index, i))
            for i, spec in enumerate(flat_specs)]
        for tensor, mask in zip(outputs, flat_masks):
            tensor._mask_spec = mask
        self.output_tensors = _rebuild(specs, iter(outputs))
        self.outputs = self.output_tensors

    @property
    def flat_outputs(self):
        return flatten(self.output_tensors)

    @property
    def input_shapes(self):
        return map_structure(lambda t: t.shape, self.input_tensors)

    @property
    def output_shapes(self):
        return map_structure(lambda t: t.shape, self.output_tensors)

    @property
    def inbound_layers(self):
        layers = [t._keras_history[0] for t in self.keras_inputs]
        return layers[0] if len(layers) == 1 else layers

    def iterate_inbound(self):
        for tensor in self.keras_inputs:
            layer, node_index, tensor_index = tensor._keras_history
            yield layer, node_index, tensor_index, tensor

    @property
    def parent_nodes(self):
        return [t.node for t in self.keras_inputs]


def _as_structure(specs):
    if isinstance(specs, tuple):
        return [_as_structure(s) for s in specs]
    if isinstance(specs, list):
        return [_as_structure(s) for s in specs]
    if isinstance(specs, dict):
        return {k: _as_structure(v) for k, v in specs.items()}
    if isinstance(specs, jax.ShapeDtypeStruct):
        return _Spec(specs.shape, specs.dtype)
    return specs


def _rebuild(structure, it):
    if isinstance(structure, list):
        return [_rebuild(s, it) for s in structure]
    if isinstance(structure, dict):
        return {k: _rebuild(structure[k], it) for k in sorted(structure)}
    return next(it)


def _broadcast_masks(mask_specs, count):
    if mask_specs is None:
        return [None] * count
    flat = [m for m in flatten(mask_specs)]
    if isinstance(mask_specs, (list, tuple)) and len(flat) == count:
        return flat
    if len(flat) == 1:
        return flat * count
    return (flat + [None] * count)[:count]
