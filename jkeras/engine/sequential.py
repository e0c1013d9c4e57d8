"""Sequential: a functional model grown one layer at a time with `add()`."""
from jkeras.engine import naming
from jkeras.engine.base_layer import Layer, standardize_shape
from jkeras.engine.functional import Functional
from jkeras.engine.input_layer import Input, InputLayer
from jkeras.engine.keras_tensor import KerasTensor
from jkeras.engine.model import Model
from jkeras.engine.sequential_legacy import SequentialLegacyMixin

__all__ = ["Sequential"]


class Sequential(SequentialLegacyMixin, Functional):
    """A linear stack of layers. The graph exists as soon as the input shape is known
    (from the first layer's `input_shape`, an `Input`, or the first data it sees)."""

    def __init__(self, layers=None, name=None, trainable=True):
        object.__setattr__(self, "_tracked_layers", [])
        Layer.__init__(self, name=name or naming.unique_name("sequential"),
                       trainable=trainable)
        object.__setattr__(self, "_is_graph_network", False)
        self._init_training_state()
        self._pending = []          # layers added before the input shape is known
        self._input_tensor = None
        self.inputs, self.outputs = [], []
        if layers is not None and not isinstance(layers, (list, tuple)):
            raise TypeError(
                "`layers` of a Sequential model must be a list of layers. Received: "
                f"layers={layers!r:.200} of type {type(layers).__name__}")
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        # As in Keras 2, the input layer is not listed, whether made here or added.
        if self._is_graph_network:
            return [l for l in self._tracked_layers if not isinstance(l, InputLayer)]
        return list(self._pending)

    @property
    def built(self):
        return self._is_graph_network

    def add(self, layer):
        """Appends a layer (or an `Input` tensor, which sets the input shape)."""
        if isinstance(layer, KerasTensor):
            origin = layer._keras_history[0]
            if not isinstance(origin, InputLayer):
                raise TypeError(
                    "Sequential.add() accepts layers and Input tensors only. Received a "
                    f"tensor made by layer {origin.name}.")
            self._start_graph(layer, auto=False)
            return
        if not isinstance(layer, Layer):
            raise TypeError(
                "The added layer must be an instance of class Layer. Received: "
                f"layer={layer!r} of type {type(layer).__name__}.")
        if isinstance(layer, InputLayer):
            self._start_graph(layer._inbound_nodes[0].outputs, auto=False)
            return
        names = [l.name for l in self.layers]
        if layer.name in names:
            raise ValueError(
                f'All layers added to a Sequential model should have unique names. Name '
                f'"{layer.name}" is already the name of a layer in this model. Update the '
                "`name` argument to pass a unique name.")
        if self._input_tensor is None:
            batch_shape = getattr(layer, "_batch_input_shape", None)
            if batch_shape is None and isinstance(layer, Functional) and layer.inputs:
                batch_shape = layer.inputs[0].shape
            if batch_shape is None:
                self._pending.append(layer)
                return
            tensor = Input(batch_shape=batch_shape, dtype=layer.dtype
                           if not isinstance(layer, Model) else None,
                           name=f"{layer.name}_input")
            self._start_graph(tensor, auto=True)
        self._pending.append(layer)
        self._append_to_graph(layer)

    def _start_graph(self, tensor, auto):
        if self._input_tensor is not None:
            raise ValueError(
                f"Sequential model {self.name} already has an input; an Input can only be "
                "the first thing added.")
        self._input_tensor = tensor
        self._auto_input_layer = tensor._keras_history[0] if auto else None
        object.__setattr__(self, "_is_graph_network", False)
        pending, self._pending = self._pending, []
        self._output_tensor = tensor
        for layer in pending:
            self._pending.append(layer)
            self._append_to_graph(layer)
        if not pending:
            self._output_tensor = tensor

    def _append_to_graph(self, layer):
        output = layer(self._output_tensor)
        if isinstance(output, (list, tuple, dict)):
            raise ValueError(
                "All layers in a Sequential model should have a single output tensor. "
                f"Layer {layer.name} returned {len(output)} tensors; use the functional API "
                "for multi-output layers.")
        self._output_tensor = output
        self._init_graph(self._input_tensor, output)
        object.__setattr__(self, "_is_graph_network", True)

    def pop(self):
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        layers = self.layers[:-1]
        self._pending = []
        tensor = self._input_tensor
        self._input_tensor, self._output_tensor = None, None
        object.__setattr__(self, "_is_graph_network", False)
        if tensor is not None and layers:
            self._input_tensor = tensor
            self._output_tensor = tensor
            for layer in layers:
                self._pending.append(layer)
                self._append_to_graph(layer)
        else:
            self._pending = layers

    def build(self, input_shape=None):
        """Creates the graph for inputs of `input_shape` (batch dimension included)."""
        if self._is_graph_network:
            return
        if input_shape is None:
            raise ValueError(
                f"Sequential model {self.name} cannot be built: its input shape is unknown. "
                "Pass `input_shape` to the first layer or call build(input_shape).")
        shape = standardize_shape(input_shape)
        first = self._pending[0] if self._pending else None
        dtype = first.dtype if first is not None and not isinstance(first, Model) else None
        tensor = Input(batch_shape=(None,) + tuple(shape[1:]), dtype=dtype,
                       name=f"{first.name}_input" if first is not None else None)
        self._start_graph(tensor, auto=True)

    def _ensure_built_for(self, data_shape):
        if not self._is_graph_network:
            self.build(data_shape)

    def get_config(self):
        from jkeras.engine.model_config_writer import sequential_config
        return sequential_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from jkeras.engine.model_config import sequential_from_config
        return sequential_from_config(cls, config, custom_objects)
