"""Model: a layer made of layers. Holds the weights API every kind of model shares.

`Model(inputs, outputs)` builds a functional graph (`engine.functional.Functional`);
subclassing `Model` with `__init__` + `call()` gives a model traced on first use into the
same pure init/apply form. Training methods come from `engine.training.TrainingMixin`.
"""
import jax
import numpy as np

from jkeras import _config
from jkeras.engine import call_context, composite, naming
from jkeras.engine.call_context import activity_loss, call_in_context  # noqa: F401 - re-exported
from jkeras.engine.base_layer import Layer, flatten, map_structure, standardize_nested_shape
from jkeras.engine.training import TrainingMixin
from jkeras.engine.weight_handle import assign_all
from jkeras.serialization import builtin_tables

__all__ = ["Model"]


def _functional_class():
    # Functional subclasses Model (engine.functional imports this module): found by name.
    return builtin_tables.table("layers")["Functional"]


def _saving(name):
    # jkeras.saving sits above the engine (it builds models); it provides its functions.
    return builtin_tables.table("saving")[name]


class Model(TrainingMixin, Layer):
    """Groups layers into an object with training and inference features."""

    _is_graph_network = False

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            Functional = _functional_class()
            return Functional.__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        if args or "inputs" in kwargs or "outputs" in kwargs:
            # `class MyModel(Model)` calling `super().__init__(inputs, outputs)`.
            Functional = _functional_class()
            Functional._init_graph_model(self, *args, **kwargs)
            return
        name = kwargs.pop("name", None) or naming.unique_name(
            naming.to_snake_case(type(self).__name__))
        trainable = kwargs.pop("trainable", True)
        object.__setattr__(self, "_tracked_layers", [])
        Layer.__init__(self, name=name, trainable=trainable, **kwargs)
        self._init_training_state()
        self._subclass_built = False

    # ------------------------------------------------------------------ layer tracking
    def __setattr__(self, name, value):
        tracked = self.__dict__.get("_tracked_layers")
        if tracked is not None and not name.startswith("_"):
            items = value if isinstance(value, (list, tuple)) else [value]
            composite.append_new(tracked, [i for i in items if isinstance(i, Layer)], self)
        object.__setattr__(self, name, value)

    @property
    def layers(self):
        return list(self.__dict__.get("_tracked_layers", []))

    def _all_leaf_layers(self):
        """Every non-model layer inside, nested models flattened, each once."""
        seen, out = set(), []
        for layer in self.layers:
            inner = layer._all_leaf_layers() if isinstance(layer, Model) else [layer]
            for leaf in inner:
                if id(leaf) not in seen:
                    seen.add(id(leaf))
                    out.append(leaf)
        return out

    @property
    def built(self):
        if self._is_graph_network:
            return True
        return bool(self.__dict__.get("_subclass_built"))

    # ------------------------------------------------------------------ variables
    def _unique_layers(self):
        seen, out = set(), []
        for layer in self.layers:
            if id(layer) not in seen:
                seen.add(id(layer))
                out.append(layer)
        return out

    def _get_vars(self):
        params, state = {}, {}
        for layer in self._unique_layers():
            variables = layer._get_vars() or {"params": {}, "state": {}}
            params[layer.name] = variables["params"]
            state[layer.name] = variables["state"]
        return {"params": params, "state": state}

    def _set_vars(self, variables):
        for layer in self._unique_layers():
            if layer.name in variables["params"] or layer.name in variables["state"]:
                layer._set_vars({"params": variables["params"].get(layer.name, {}),
                                 "state": variables["state"].get(layer.name, {})})

    def init(self, key, input_shape=None):
        """Fresh variables for every layer (the live ones are left as they are)."""
        params, state = {}, {}
        for i, layer in enumerate(self._unique_layers()):
            shape = layer._build_input_shape if not isinstance(layer, Model) else None
            fresh = layer.init(jax.random.fold_in(key, i), shape)
            params[layer.name], state[layer.name] = fresh["params"], fresh["state"]
        return {"params": params, "state": state}

    def regularization_loss(self, params, seen=None):
        """Sum of the layers' weight penalties for `params` (pure); `seen`: ids of the
        layers already counted (a layer shared by several holders counts once)."""
        seen = set() if seen is None else seen
        total = 0.0
        for layer in self._unique_layers():
            if layer.name in params and id(layer) not in seen:
                seen.add(id(layer))
                total = total + layer.regularization_loss(params[layer.name], seen)
        return total

    def has_regularizers(self):
        return any(layer.has_regularizers() for layer in self._unique_layers())

    def apply_constraints(self, params):
        return {name: (layer.apply_constraints(params[name]) if name in params else None)
                for layer in self._unique_layers() for name in [layer.name]
                if name in params}

    def has_constraints(self):
        return any(layer.has_constraints() for layer in self._unique_layers())

    def _trainable_mask(self, parent_trainable=True):
        """A tree like params: True where a weight receives gradients."""
        mask = {}
        for layer in self._unique_layers():
            trainable = parent_trainable and layer.trainable
            if isinstance(layer, Model):
                mask[layer.name] = layer._trainable_mask(trainable)
            elif composite.has_sublayers(layer):
                mask[layer.name] = composite.trainable_mask(layer, trainable)
            else:
                params = (layer._variables or {"params": {}})["params"]
                mask[layer.name] = {k: trainable for k in params}
        return mask

    def _cell_tree(self):
        """The `Variable` cells of every layer, in the layout of `_get_vars()`."""
        params, state = {}, {}
        for layer in self._unique_layers():
            cells = layer._cell_tree()
            params[layer.name], state[layer.name] = cells["params"], cells["state"]
        return {"params": params, "state": state}

    # ------------------------------------------------------------------ weights API
    def _collect(self, attribute):
        """`layer.<attribute>` over the layers, each weight once (shared layers)."""
        out, seen = [], set()
        for layer in self._unique_layers():
            for handle in getattr(layer, attribute):
                key = (id(handle._layer), handle._key)
                if key not in seen:
                    seen.add(key)
                    out.append(handle)
        return out

    @property
    def weights(self):
        return self._collect("weights")

    @property
    def trainable_weights(self):
        return self._collect("trainable_weights") if self.trainable else []

    @property
    def non_trainable_weights(self):
        trainable = {(id(h._layer), h._key) for h in self.trainable_weights}
        return [h for h in self.weights if (id(h._layer), h._key) not in trainable]

    def get_weights(self):
        return [handle.numpy() for handle in self.weights]

    def set_weights(self, weights):
        """Sets all weights in `get_weights()` order; any mismatch changes nothing."""
        handles = self.weights
        weights = list(weights)
        if len(weights) != len(handles):
            raise ValueError(
                f'Model "{self.name}" expects {len(handles)} weight arrays, but '
                f"set_weights() received {len(weights)}.")
        for handle, value in zip(handles, weights):
            if tuple(np.shape(value)) != handle.shape:
                raise ValueError(
                    f'Model "{self.name}": weight {handle.name} has shape {handle.shape}, '
                    f"but the provided array has shape {tuple(np.shape(value))}.")
        assign_all(zip(handles, weights))

    def count_params(self):
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on model {self.name}, but the model "
                "isn't built. Call `build(input_shape)` or call the model on data first.")
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    def get_layer(self, name=None, index=None):
        if index is not None:
            if not isinstance(index, int) or not -len(self.layers) <= index < len(self.layers):
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has "
                    f"{len(self.layers)} layers.")
            return self.layers[index]
        if name is None:
            raise ValueError("Provide either a layer name or layer index at `get_layer`.")
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"No such layer: {name}. Existing layers are: {[l.name for l in self.layers]}.")

    def reset_states(self):
        for layer in self._all_leaf_layers():
            if hasattr(layer, "reset_states") and getattr(layer, "stateful", False):
                layer.reset_states()

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        from jkeras.utils.layer_utils import print_summary
        if not self.built:
            raise ValueError(
                "This model has not yet been built. Build the model first by calling "
                "`build()` or by calling the model on a batch of data.")
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A functional config (with `input_layers`) rebuilds a functional model."""
        if "input_layers" in config or "layers" in config:
            Functional = _functional_class()
            return Functional.from_config(config, custom_objects=custom_objects)
        return super().from_config(config)

    # ------------------------------------------------------------------ saving
    def save(self, filepath, overwrite=True, include_optimizer=True, save_format=None,
             **kwargs):
        """Saves architecture, weights and (if compiled) training config and optimizer
        state: Keras HDF5 for `.h5`/`.hdf5`, a Keras 3 archive for `.keras`."""
        _saving("save_model")(self, filepath, overwrite=overwrite,
                              include_optimizer=include_optimizer, save_format=save_format,
                              **kwargs)

    def save_weights(self, filepath, overwrite=True, save_format=None, **kwargs):
        """Saves weights: Keras HDF5 layout, or a msgpack checkpoint for `.msgpack`."""
        _saving("save_weights")(self, filepath, overwrite=overwrite,
                                save_format=save_format, **kwargs)

    def load_weights(self, filepath, by_name=False, skip_mismatch=False, **kwargs):
        """Loads weights saved by `save_weights` (or by Keras); on error nothing changes."""
        return _saving("load_weights")(self, filepath, by_name=by_name,
                                       skip_mismatch=skip_mismatch, **kwargs)

    def to_json(self, **kwargs):
        return _saving("model_to_json")(self, **kwargs)

    def to_yaml(self, **kwargs):
        return _saving("model_to_yaml")(self, **kwargs)

    # ------------------------------------------------------------------ subclassed models
    def build(self, input_shape):
        """Builds a subclassed model's layers by calling it once on zeros of `input_shape`."""
        if self._is_graph_network:
            return
        shape = standardize_nested_shape(input_shape)
        dummy = map_structure(lambda s: np.zeros(tuple(1 if d is None else d for d in s),
                                                 _config.floatx()),
                              shape if isinstance(shape, list) else [shape])
        self._build_input_shape = shape
        self._call_subclassed_eager(dummy if isinstance(shape, list) else dummy[0])

    def call(self, inputs, training=None, mask=None):
        raise NotImplementedError(
            f"Model {type(self).__name__} must implement call(inputs) (or be built with "
            "Model(inputs, outputs)).")

    def _call_subclassed_eager(self, inputs, training=False):
        """Runs `call` eagerly: layers build on the way, live state is updated. First
        the layers the model's attributes hold are tracked, also those put in lists and
        dicts after assignment (as Keras tracks them)."""
        composite.append_new(self.__dict__["_tracked_layers"],
                             composite.held_layers(self, Layer), self)
        object.__setattr__(self, "_subclass_built", True)
        outputs = self.call(inputs, **self._call_kwargs(training))
        return outputs

    def _call_kwargs(self, training):
        import inspect
        params = inspect.signature(self.call).parameters
        return {"training": training} if "training" in params else {}

    def apply(self, variables, inputs, *, training=False, key=None, mask=None, **kwargs):
        outputs, new_state, _ = self.apply_with_losses(variables, inputs, training=training,
                                                       key=key, mask=mask, **kwargs)
        return outputs, new_state

    def apply_with_losses(self, variables, inputs, *, training=False, key=None, mask=None,
                          **kwargs):
        """`(outputs, new_state, activity_losses)` for a subclassed model (pure): `call`
        runs inside a call context that hands every layer its traced arrays."""
        context = call_context.CallContext(variables, self._unique_layers(), training, key)
        with context:
            outputs = self.call(inputs, **self._call_kwargs(training), **kwargs)
        return outputs, context.new_state, context.losses

    def __call__(self, inputs, *args, **kwargs):
        context = call_context.active()
        if context is not None and context.owns(self):
            return call_in_context(self, context, inputs, args, kwargs)
        if self._is_graph_network:
            return Layer.__call__(self, inputs, *args, **kwargs)
        leaves = flatten([inputs, list(args), kwargs])
        from jkeras.engine.keras_tensor import KerasTensor
        symbolic = [x for x in leaves if isinstance(x, KerasTensor)]
        if hasattr(self, "_pending") and leaves and hasattr(leaves[0], "shape"):
            # A Sequential without an input shape learns it from the first tensor or array
            # it is called on.
            self.build(tuple(leaves[0].shape))
            return Layer.__call__(self, inputs, *args, **kwargs)
        if symbolic:
            raise ValueError(
                f"Subclassed model {self.name} cannot be called on symbolic Input tensors; "
                "call it on arrays, or build a functional Model instead.")
        training = bool(kwargs.pop("training", False) or False)
        if not self.built:
            return self._call_subclassed_eager(inputs, training=training)
        variables = self._get_vars()
        key = _config.next_key() if training else None
        outputs, new_state = self.apply(variables, map_structure(jax.numpy.asarray, inputs),
                                        training=training, key=key)
        if training:
            self._set_vars({"params": variables["params"], "state": new_state})
        return outputs
