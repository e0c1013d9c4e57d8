"""The Layer: a configuration object that hands out a pure `init`/`apply` pair.

A layer also keeps its live variables once built, records the nodes it was called on
(for the functional API), and adapts Keras-style subclasses (`build` + `add_weight` +
`call`) to the pure pair.

The weight handles (`weight_handle.Weight`), the shape and spec helpers (`layer_specs`)
and the node accessors (`node_accessors`, a base class of `Layer`) live beside it; their
public names are re-exported here.
"""
import inspect
import threading
from typing import Any, Dict, Optional, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np

from jkeras import _config, dtype_policies
from jkeras.engine import call_context, composite, host_values, naming
from jkeras.engine.input_spec import assert_input_compatibility
from jkeras.engine.keras_tensor import KerasTensor
from jkeras.engine.layer_specs import (_shapes_to_specs, dtype_name, eval_specs,
                                       input_shape_to_specs, shape_of, standardize_nested_shape,
                                       standardize_shape, to_specs)
from jkeras.engine.node_accessors import NodeAccessors
from jkeras.engine.structure import _Spec, flatten, map_structure  # noqa: F401 - re-exported
from jkeras.engine.variables import Variable, expose
from jkeras.engine.weight_handle import Weight, assign_all
from jkeras.engine.weight_spec import WeightSpec, declare_weight

__all__ = ["shape_of", "standardize_shape", "dtype_name", "Weight", "Layer", "to_specs",
           "eval_specs", "input_shape_to_specs", "standardize_nested_shape"]

# The layer protocol's types: a shape (batch axis included, None where unknown) or a
# list of them for several inputs; the variables `init` returns and `apply` takes.
Shape = Union[Tuple[Optional[int], ...], list]
VariablesTree = Dict[str, Dict[str, jax.Array]]

_LAYER_KWARGS = ("input_shape", "batch_input_shape", "batch_size", "input_dim", "weights",
                 "activity_regularizer", "autocast", "dtype", "name", "trainable",
                 "input_length")


class _BuildRecorder(threading.local):
    """Collects `add_weight` calls while a Keras-style `build` runs inside `init`."""
    active = None


_RECORDER = _BuildRecorder()


class Layer(NodeAccessors):
    """Base class of all layers. Subclasses implement `init` and `apply` (pure), or the
    Keras-style `build` + `call`, which this class adapts to the same pure pair."""

    supports_masking = False
    # State entries that are not saved as weights (a stateful RNN's carry, for instance).
    non_weight_state = ()

    def __init__(self, trainable=True, name=None, dtype=None, **kwargs):
        unknown = set(kwargs) - set(_LAYER_KWARGS)
        if unknown:
            raise TypeError(
                f"Keyword argument(s) not understood by {type(self).__name__}: "
                f"{sorted(unknown)}")
        try:
            dtype_policy = dtype_policies.get(dtype)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{type(self).__name__}: invalid `dtype`. {error}") from None
        self._name = name or naming.unique_name(naming.to_snake_case(type(self).__name__))
        self.trainable = bool(trainable)
        self._dtype_policy = dtype_policy
        self.dtype = self._dtype_policy.variable_dtype  # Keras's `layer.dtype`
        batch_input_shape = kwargs.get("batch_input_shape")
        if batch_input_shape is None:
            input_shape = kwargs.get("input_shape")
            if input_shape is None and kwargs.get("input_dim") is not None:
                input_shape = (kwargs["input_dim"],)
                if kwargs.get("input_length") is not None:
                    input_shape = (kwargs["input_length"], kwargs["input_dim"])
            if input_shape is not None:
                batch_input_shape = (kwargs.get("batch_size"),) + standardize_shape(input_shape)
        self._batch_input_shape = standardize_shape(batch_input_shape)
        self._initial_weights = kwargs.get("weights")
        self.activity_regularizer = None
        if kwargs.get("activity_regularizer") is not None:
            from jkeras import regularizers
            self.activity_regularizer = regularizers.get(kwargs["activity_regularizer"])
        self.input_spec = None
        self._variables = None
        self._build_input_shape = None
        self._inbound_nodes = []
        self._outbound_nodes = []
        # name -> WeightSpec (engine/weight_spec.py); a constructor may declare its weights
        # before calling this one, so that a bad initializer name fails before any work.
        self.__dict__.setdefault("_weight_specs", {})

    def __setattr__(self, name, value):
        # A Keras-style layer (`call`) keeps the layers it is given as its sublayers
        # (engine/composite.py; `_find_sublayers` also finds those put in containers
        # later); built-in layers manage the layers they hold themselves.
        if not name.startswith("_") and _uses_call(type(self)):
            items = value if isinstance(value, (list, tuple)) else (value,)
            layers = [v for v in items if isinstance(v, Layer)]
            if layers:
                composite.track(self, layers)
        object.__setattr__(self, name, value)
        if name == "trainable" and composite.has_sublayers(self):
            for sub in self._sublayers:  # as Keras: freezing a layer freezes its parts
                sub.trainable = value

    def _find_sublayers(self):
        if _uses_call(type(self)):
            composite.discover(self, Layer)
        return composite.has_sublayers(self)

    # ------------------------------------------------------------------ identity
    @property
    def name(self):
        return self._name

    @property
    def built(self):
        return self._variables is not None

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

    @property
    def dtype_policy(self):
        return self._dtype_policy

    @property
    def compute_dtype(self):
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self):
        return self._dtype_policy.variable_dtype

    # ------------------------------------------------------------------ pure pair
    def init(self, key: jax.Array, input_shape: Shape) -> VariablesTree:
        """Returns `{"params": ..., "state": ...}` for inputs of `input_shape`."""
        own = self._built_own(key, input_shape)
        if not self._find_sublayers():
            return own
        if input_shape is not None and not all(s.built for s in self._sublayers):
            # Built here when a wrapper (TimeDistributed, an RNN) asks for the variables
            # first; inputs taken as floats of the compute dtype.
            try:
                composite.build_sublayers(
                    self, input_shape_to_specs(input_shape, self.compute_dtype), own=own)
            except Exception:  # pylint: disable=broad-except
                pass  # built where first called; a compiled step then raises
        return composite.init(self, own, key)

    def _own_init(self, key, input_shape):
        """Fresh values of the layer's own weights: a layer's `init`, or a Keras-style
        layer's `build` (its sublayers hold theirs)."""
        if type(self).init is not Layer.init:
            variables = self.init(key, input_shape)
            return composite.split(self, variables)[0] \
                if composite.has_sublayers(self) else variables
        return self._built_own(key, input_shape)

    def _built_own(self, key, input_shape):
        """The own weights a Keras-style `build` makes (none without one)."""
        if type(self).build is not Layer.build:
            return self._init_from_build(key, input_shape)
        return {"params": {}, "state": {}}

    def apply(self, variables: VariablesTree, inputs: Any, *, training: bool = False,
              key: Optional[jax.Array] = None, mask: Any = None,
              **kwargs) -> Tuple[Any, Dict[str, jax.Array]]:
        """Returns `(outputs, new_state)`; pure."""
        if type(self).call is Layer.call:
            raise NotImplementedError(
                f"Layer {type(self).__name__} defines neither apply() nor call().")
        return self._apply_through_call(variables, inputs, training=training, key=key,
                                        mask=mask, **kwargs)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """Shapes of the outputs for `input_shape`, inferred without running real data."""
        self._maybe_build(standardize_nested_shape(input_shape))
        spec = self._infer_output_spec(input_shape_to_specs(input_shape, self.dtype))
        return jax.tree_util.tree_map(lambda s: s.shape, spec,
                                      is_leaf=lambda x: isinstance(x, _Spec))

    def compute_mask(self, inputs, mask=None):
        return mask if self.supports_masking else None

    # ------------------------------------------------------------------ Keras-style subclasses
    def build(self, input_shape):
        """Creates the weights for `input_shape`. Keras-style subclasses override this
        (with `add_weight`) and it then runs inside `init`."""
        if type(self).build is Layer.build and not self.built:
            self.build_from_shape(input_shape)

    def call(self, inputs, *args, **kwargs):
        """Keras-style forward computation; weights made by `add_weight` are attributes."""
        raise NotImplementedError

    def add_weight(self, name=None, shape=None, dtype=None, initializer=None,
                   regularizer=None, trainable=True, constraint=None, **kwargs):
        recorder = _RECORDER.active
        if recorder is None or recorder["layer"] is not self:
            raise RuntimeError(
                f"Layer {self.name}: add_weight() can only be called from build().")
        if name is None:
            name = f"variable_{len(recorder['params']) + len(recorder['state'])}"
        dtype = dtype_name(dtype) or self.dtype
        if initializer is None:
            floating = np.issubdtype(np.dtype(dtype), np.floating)
            initializer = "glorot_uniform" if floating else "zeros"
        spec = declare_weight(self, name, initializer, regularizer, constraint,
                              trainable=trainable, dtype=dtype, options=())
        recorder["key"], sub = jax.random.split(recorder["key"])
        value = spec.create(sub, tuple(shape))
        (recorder["params"] if trainable else recorder["state"])[name] = jnp.asarray(value)
        return Weight(self, name, "params" if trainable else "state", trainable)

    def _weight_attribute_names(self):
        return {name: attr for attr, value in vars(self).items() if isinstance(value, Weight)
                for name in [value._key] if value._layer is self}

    def _init_from_build(self, key, input_shape):
        recorder = {"layer": self, "key": key, "params": {}, "state": {}}
        # Fresh values for a built layer whose `build` makes its sublayers: the layers
        # it holds stay the ones it holds (their own `init` gives their fresh values).
        kept = {k: v for k, v in vars(self).items()
                if isinstance(v, (Layer, list, tuple, dict)) and not k.startswith("__")} \
            if self.built and composite.has_sublayers(self) else None
        tracked = list(self._sublayers) if kept is not None else None
        previous, _RECORDER.active = _RECORDER.active, recorder
        try:
            self.build(input_shape)
        finally:
            _RECORDER.active = previous
            if kept is not None:
                for k, v in kept.items():
                    object.__setattr__(self, k, v)
                self._sublayers[:] = tracked
        return {"params": recorder["params"], "state": recorder["state"]}

    def _apply_through_call(self, variables, inputs, *, training, key, mask, **kwargs):
        attrs = self._weight_attribute_names()
        saved = {attr: getattr(self, attr) for attr in attrs.values()}
        merged = {**variables.get("params", {}), **variables.get("state", {})}
        try:
            for weight_name, attr in attrs.items():
                object.__setattr__(self, attr, merged[weight_name])
            self._call_key = key
            params = inspect.signature(self.call).parameters
            has_varkw = any(p.kind is p.VAR_KEYWORD for p in params.values())
            if "training" in params or has_varkw:
                kwargs["training"] = training
            if ("mask" in params or has_varkw) and mask is not None:
                kwargs["mask"] = mask
            if composite.has_sublayers(self):
                scope = composite.context(self, variables, inputs, training, key)
                with scope:
                    outputs = self.call(inputs, **kwargs)
                return outputs, composite.finish(self, scope)
            with call_context.KeyScope(key):
                outputs = self.call(inputs, **kwargs)
        finally:
            for attr, value in saved.items():
                object.__setattr__(self, attr, value)
            self._call_key = None
        return outputs, variables.get("state", {})

    # ------------------------------------------------------------------ regularizers, constraints
    def weight_spec(self, name: str) -> Optional[WeightSpec]:
        """The declared spec of weight `name` (None for an undeclared one). Layers that
        hold other layers' weights under prefixed names look them up in those layers."""
        return self._weight_specs.get(name)

    def _weight_option(self, option, name):
        spec = self.weight_spec(name)
        return None if spec is None else getattr(spec, option)

    def regularization_loss(self, params, seen=None):
        """Sum of this layer's weight penalties for `params` (pure); a composite's
        sublayers add theirs, each once (`seen`: ids of the layers counted already)."""
        subs = self._sublayers_by_name()
        seen = set() if seen is None else seen
        total = 0.0
        for key, value in params.items():
            if key in subs:
                if id(subs[key]) not in seen:
                    seen.add(id(subs[key]))
                    total = total + subs[key].regularization_loss(value, seen)
                continue
            regularizer = self._weight_option("regularizer", key)
            if regularizer is not None:
                total = total + regularizer(value)
        return total

    def has_regularizers(self):
        return any(self._weight_option("regularizer", k) is not None
                   for k in self._params_template()) or \
            any(s.has_regularizers() for s in self._sublayers_by_name().values())

    def apply_constraints(self, params):
        """`params` with each weight's constraint applied (pure)."""
        subs = self._sublayers_by_name()
        out = {}
        for key, value in params.items():
            if key in subs:
                out[key] = subs[key].apply_constraints(value)
                continue
            constraint = self._weight_option("constraint", key)
            out[key] = constraint(value) if constraint is not None else value
        return out

    def has_constraints(self):
        return any(self._weight_option("constraint", k) is not None
                   for k in self._params_template()) or \
            any(s.has_constraints() for s in self._sublayers_by_name().values())

    def _sublayers_by_name(self):
        if not composite.has_sublayers(self):
            return {}
        return {s.name: s for s in composite.built_sublayers(self)}

    def _params_template(self):
        return self._variables["params"] if self._variables is not None else {}

    # ------------------------------------------------------------------ live variables
    def _get_vars(self):
        """The current arrays, `{"params": {name: array}, "state": {...}}` (read through
        the layer's `Variable` cells, so a running trainer's values are seen)."""
        cells = self._variables
        if cells is None:
            return None
        own = {kind: {k: c.value for k, c in tree.items()} for kind, tree in cells.items()}
        if composite.has_sublayers(self):
            return composite.read(self, own, lambda sub: sub._get_vars())
        return own

    def variables_tree(self):
        """The arrays `apply` takes, `{"params": {name: array}, "state": {name: array}}`
        (None before the layer is built). Reads the live values, also during `fit`; the
        arrays are handed out as they are (no trainer donates them later)."""
        return expose(self._get_vars())

    def _set_vars(self, variables):
        """Writes arrays into the layer's cells (shapes must already match)."""
        if composite.has_sublayers(self):
            variables, parts = composite.split(self, variables)
            for sub, part in parts:
                sub._set_vars(part)
        if self._variables is None:
            self._variables = _new_cells(variables)
            return
        for kind in ("params", "state"):
            cells = self._variables[kind]
            for k, value in variables.get(kind, {}).items():
                if k in cells:
                    cells[k].assign(value)
                else:
                    cells[k] = value if isinstance(value, Variable) else Variable(value)

    def _cell_tree(self):
        """The layer's `Variable` cells, in the layout of `_get_vars()`."""
        own = self._variables or {"params": {}, "state": {}}
        if composite.has_sublayers(self):
            return composite.read(self, own, lambda sub: sub._cell_tree())
        return own

    def _maybe_build(self, input_shape):
        if self.built:
            return
        input_shape = map_structure(lambda s: s, input_shape)
        self._build_input_shape = input_shape
        # Initial values are drawn on the host, also when a layer is first called inside
        # a trace (a sublayer during its parent's shape inference): at compile time.
        with jax.ensure_compile_time_eval():
            variables = self._own_init(_config.next_key(), input_shape)
        self._variables = _new_cells(variables)
        self._after_build()
        if self._initial_weights is not None:
            weights, self._initial_weights = self._initial_weights, None
            self.set_weights(weights)

    def _after_build(self):
        """Hook for layers that hand their cells to inner layers (wrappers)."""

    def build_from_shape(self, input_shape):
        """Builds the layer's variables for `input_shape` (batch dimension included)."""
        self._maybe_build(standardize_nested_shape(input_shape))

    # ------------------------------------------------------------------ weights API
    def __getattr__(self, name):
        """A built layer's weight under its Keras attribute name (`dense.kernel`,
        `conv.bias`, `bn.moving_mean`, `embedding.embeddings`), as the handle `weights`
        lists. Only reached when no attribute of that name exists."""
        if hasattr(type(self), name):  # a property that raised: its own error, again
            return object.__getattribute__(self, name)
        if not name.startswith("_") and self.__dict__.get("_variables") is not None:
            params, state = self._weight_handles()
            for handle in params + state:
                if handle._key == name:
                    return handle
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _weight_handles(self):
        if not self.built:
            return [], []
        variables = self._variables
        params = [Weight(self, k, "params", self.trainable) for k in variables["params"]]
        state = [Weight(self, k, "state", False) for k in variables["state"]
                 if k not in self.non_weight_state]
        return params, state

    @property
    def trainable_weights(self):
        params, state = self._weight_handles()
        if composite.has_sublayers(self):
            return composite.weight_lists(self, params, state)[0]
        return params if self.trainable else []

    @property
    def non_trainable_weights(self):
        params, state = self._weight_handles()
        if composite.has_sublayers(self):
            return composite.weight_lists(self, params, state)[1]
        return state if self.trainable else params + state

    @property
    def weights(self):
        params, state = self._weight_handles()
        if composite.has_sublayers(self):
            trainable, non_trainable = composite.weight_lists(self, params, state)
            return trainable + non_trainable
        return params + state

    @property
    def variables(self):
        return self.weights

    @property
    def trainable_variables(self):
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        return self.non_trainable_weights

    def get_weights(self):
        if composite.has_sublayers(self):  # handles of several layers
            return [handle.numpy() for handle in self.weights]
        variables = self._get_vars()
        if variables is None:
            return []
        return [np.asarray(host_values.to_host(variables[w._kind][w._key]))
                for w in self.weights]

    def set_weights(self, weights):
        """Sets weights in `get_weights()` order; on any mismatch nothing is changed."""
        handles = self.weights
        weights = list(weights)
        if len(weights) != len(handles):
            raise ValueError(
                f'Layer "{self.name}" expects {len(handles)} weight(s), but the given '
                f"weights list has {len(weights)} element(s). Provided weights: "
                f"{[np.shape(w) for w in weights]}")
        for handle, value in zip(handles, weights):  # all checked before any is written
            if tuple(np.shape(value)) != handle.shape:
                raise ValueError(
                    f'Layer "{self.name}" weight shape {handle.shape} is not '
                    f"compatible with provided weight shape {tuple(np.shape(value))} "
                    f"(weight {handle.name}).")
        assign_all(zip(handles, weights))  # a composite's handles span several layers

    def count_params(self):
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer {self.name}, but the layer "
                "isn't built. You can build it manually via: "
                f"`{self.name}.build(batch_input_shape)`.")
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    # ------------------------------------------------------------------ calling
    def __call__(self, inputs, *args, **kwargs):
        leaves = flatten([inputs, list(args), kwargs])
        if any(isinstance(x, KerasTensor) for x in leaves):
            return self._call_symbolic(inputs, args, kwargs)
        context = call_context.active()
        if context is not None and context.owns(self):
            from jkeras.engine.call_context import call_in_context
            return call_in_context(self, context, inputs, args, kwargs)
        return self._call_eager(inputs, args, kwargs)

    def _input_shapes(self, inputs):
        return map_structure(shape_of, inputs)

    def _check_inputs(self, inputs):
        shapes = [tuple(x.shape) for x in flatten(inputs)]
        assert_input_compatibility(self.input_spec, shapes, self.name)

    def _call_symbolic(self, inputs, args, kwargs):
        from jkeras.engine.node import Node
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        for leaf in flatten(inputs):
            if not isinstance(leaf, KerasTensor):
                raise ValueError(
                    f'Layer "{self.name}" was called with a mix of symbolic and concrete '
                    f"inputs: {leaf!r:.100}. Use Input() tensors for every input.")
        explicit_mask = kwargs.pop("mask", None)
        training = kwargs.pop("training", None)
        self._check_inputs(inputs)
        self._maybe_build_named(self._input_shapes(inputs))
        self._check_inputs(inputs)
        self._build_sublayers(inputs, args, kwargs)
        out_specs = self._infer_output_spec_symbolic(inputs, args, kwargs)
        mask_specs = self._infer_mask_spec(inputs, explicit_mask)
        node = Node(self, inputs, args, kwargs, out_specs, mask_specs, training=training)
        return node.outputs

    def _maybe_build_named(self, input_shape):
        try:
            self._maybe_build(input_shape)
        except (TypeError, ValueError, IndexError) as e:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) cannot be built for input '
                f"shape {input_shape}: {e}") from e

    def _call_eager(self, inputs, args, kwargs):
        training = bool(kwargs.pop("training", False) or False)
        mask = kwargs.pop("mask", None)
        inputs = map_structure(jnp.asarray, inputs)
        self.__dict__.pop("_eager_losses", None)  # `losses` are the last call's
        self._check_inputs(inputs)
        was_built = self.built
        self._maybe_build_named(self._input_shapes(inputs))
        self._build_sublayers(inputs, args, kwargs)
        if not was_built and self.weights and composite.in_compiled_step(inputs):
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) was first called inside a '
                "compiled step (a layer made or first used inside another layer's `call` "
                "only there), so its weights could not train. Call it once outside, or "
                "hold it in an attribute of the layer whose `call` uses it.")
        variables = self._get_vars()
        has_parts = composite.has_sublayers(self)
        key = _config.next_key() if training or has_parts else None
        outputs, new_state = self.apply(variables, inputs, *args, training=training, key=key,
                                        mask=mask, **kwargs)
        if training and new_state and not any(
                isinstance(v, jax.core.Tracer) for v in jax.tree_util.tree_leaves(new_state)):
            self._set_vars({"params": variables["params"], "state": dict(new_state)})
        return outputs

    def _build_sublayers(self, inputs, args, kwargs):
        """A Keras-style layer holding layers builds those its `call` uses (see
        `composite.build_sublayers`), with its real inputs' shapes and dtypes."""
        if self._find_sublayers() and not all(s.built for s in self._sublayers):
            composite.build_sublayers(self, to_specs(inputs), to_specs(list(args)),
                                      to_specs(kwargs))

    # ------------------------------------------------------------------ shape inference
    def _infer_output_spec_symbolic(self, inputs, args, kwargs):
        in_specs = to_specs(inputs)
        if type(self).compute_output_shape is not Layer.compute_output_shape:
            shapes = self.compute_output_shape(map_structure(lambda s: s.shape, in_specs))
            return _shapes_to_specs(shapes, self._output_dtype(inputs))
        return self._infer_output_spec(in_specs, to_specs(list(args)), to_specs(kwargs))

    def _output_dtype(self, inputs):
        return self.compute_dtype

    def _infer_output_spec(self, in_specs, arg_specs=(), kwarg_specs=None):
        """Output `_Spec`s (None where a dimension is unknown), from eval_shape over apply."""
        variables = to_specs(self._variables or {"params": {}, "state": {}})

        def forward(v, x, a, kw):
            return self.apply(v, x, *a, training=False, key=None, **kw)[0]
        try:
            return eval_specs(forward, variables, in_specs, list(arg_specs), kwarg_specs or {})
        except Exception as e:  # shapes that cannot feed the layer
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) cannot process inputs of '
                f"shape {map_structure(lambda s: s.shape, in_specs)}: {e}") from e

    def _infer_mask_spec(self, inputs, explicit_mask):
        if explicit_mask is not None:
            masks = to_specs(explicit_mask)
        else:
            masks = map_structure(lambda t: t._mask_spec, inputs)
        if not any(m is not None for m in flatten(masks)) and \
                type(self).compute_mask is Layer.compute_mask:
            return None
        try:
            return eval_specs(lambda x, m: self.compute_mask(x, m), to_specs(inputs), masks)
        except Exception as e:
            raise ValueError(f'Layer "{self.name}" failed to compute its output mask: {e}') \
                from e

    # ------------------------------------------------------------------ added losses
    def add_loss(self, losses, inputs=None):
        """Adds a loss: a symbolic tensor (graph-build time), a zero-argument callable
        (a weight penalty) or, inside `call`, an array. See `engine/added_losses.py`."""
        from jkeras.engine import added_losses
        added_losses.add_loss(self, losses)

    def add_metric(self, value, name=None, aggregation="mean"):
        """Reports `value` (a symbolic tensor, or an array inside `call`) under `name`."""
        from jkeras.engine import added_losses
        added_losses.add_metric(self, value, name=name, aggregation=aggregation)

    @property
    def losses(self):
        """The added losses: symbolic tensors, the callables' current values, and the
        arrays added by the last eager call."""
        from jkeras.engine import added_losses
        return (added_losses.symbolic_losses(self)
                + [fn() for fn in self.__dict__.get("_callable_losses") or []]
                + list(self.__dict__.get("_eager_losses") or []))

    # ------------------------------------------------------------------ config
    def get_config(self) -> Dict[str, Any]:
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": dtype_policies.layer_config_value(self._dtype_policy)}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        if self.activity_regularizer is not None:
            from jkeras import regularizers
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "batch_shape" in config and "batch_input_shape" not in config:
            config["batch_input_shape"] = config.pop("batch_shape")
        return cls(**config)


def _uses_call(cls):
    """A Keras-style layer: `call` (and maybe `build`), adapted by the base class."""
    return cls.apply is Layer.apply and cls.init is Layer.init


def _new_cells(variables):
    """`Variable` cells for an init result; cells already in it are kept (shared)."""
    return {kind: {k: v if isinstance(v, Variable) else Variable(v)
                   for k, v in variables.get(kind, {}).items()}
            for kind in ("params", "state")}
