"""Layer wrappers: `TimeDistributed` (a layer applied to every timestep) and `Bidirectional`
(an RNN run forwards and backwards, outputs merged).

Weight names follow tf.keras 2: `Bidirectional(LSTM)` names its weights
`bidirectional/forward_lstm/lstm_cell/kernel:0` ... then the same under `backward_lstm`, so
its param keys are the inner layers' keys prefixed with `forward_<name>/` and
`backward_<name>/` (forward weights first). `TimeDistributed(Dense)` names them
`time_distributed/kernel:0`: the inner layer's keys are used unchanged. A wrapped model's
nested variables `{layer: {weight: array}}` are flattened to `"<layer>/<weight>"` keys.

The wrapped layer objects (`wrapper.layer`, `forward_layer`, `backward_layer`) read and write
their weights through the wrapper once it is built, so `bidirectional.forward_layer.
get_weights()` and `reset_states()` work as in Keras.
"""
import jax
import jax.numpy as jnp

from jkeras.engine.base_layer import Layer, flatten, map_structure
from jkeras.engine.input_spec import InputSpec
from jkeras.engine.model import Model
from jkeras.engine.model_config_writer import bidirectional_base_name, derived_backward_layer
from jkeras.layers.nested_weights import strip_prefix, with_prefix
from jkeras.layers.recurrent import _eager_call_keeping_state, _first_shape
from jkeras.layers.serialization import deserialize as deserialize_layer
from jkeras.serialization.serialize import serialize_keras_object
from jkeras.layers.autocast import autocast

__all__ = ["Wrapper", "TimeDistributed", "Bidirectional"]


_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


# ---------------------------------------------------------------------------- views
def _slice_vars(variables, prefix):
    if variables is None:
        return None
    return {"params": strip_prefix(variables["params"], prefix),
            "state": strip_prefix(variables["state"], prefix)}


def _shape_template(variables):
    """Shapes standing in for a view's own copy of the arrays (dict order kept)."""
    return {kind: {k: jax.ShapeDtypeStruct(v.shape, v.dtype) for k, v in tree.items()}
            for kind, tree in variables.items()}


def _link_view(inner, owner, prefix):
    """Makes `inner` read and write its variables as the `prefix` part of `owner`'s."""
    def get_vars():
        return _slice_vars(owner._get_vars(), prefix)

    def set_vars(new):
        current = owner._get_vars()
        params = dict(current["params"])
        params.update(with_prefix(new["params"], prefix))
        state = dict(current["state"])
        state.update(with_prefix(new.get("state", {}), prefix))
        owner._set_vars({"params": params, "state": state})

    inner._get_vars = get_vars
    inner._set_vars = set_vars
    inner._view_owner = owner


def _can_link(inner, owner):
    """A layer built and used on its own keeps its own variables."""
    return not inner.built or getattr(inner, "_view_owner", None) is owner


# ---------------------------------------------------------------------------- nested trees
def _skeleton(tree):
    return {k: _skeleton(v) if isinstance(v, dict) else None for k, v in tree.items()}


def _flatten_tree(tree, prefix=""):
    """`{"a": {"b": x}}` -> `{"a/b": x}` (insertion order kept)."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten_tree(value, f"{prefix}{key}/"))
        else:
            flat[prefix + key] = value
    return flat


def _unflatten_tree(flat, skeleton, prefix=""):
    if skeleton is None:
        return dict(flat)
    return {key: (_unflatten_tree(flat, sub, f"{prefix}{key}/") if isinstance(sub, dict)
                  else flat[prefix + key])
            for key, sub in skeleton.items()}


def _is_flat(skeleton):
    return skeleton is None or all(v is None for v in skeleton.values())


# ---------------------------------------------------------------------------- Wrapper
class Wrapper(Layer):
    """Base of layers that wrap another layer (`self.layer`)."""

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"{type(self).__name__} expects a layer instance to wrap. Received: "
                f"layer={layer!r}")
        super().__init__(**kwargs)
        self.layer = layer

    def _check_inputs(self, inputs):
        first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        super()._check_inputs(first)

    def get_config(self):
        config = super().get_config()
        config["layer"] = serialize_keras_object(self.layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"], custom_objects)
        return super().from_config(config)


# ---------------------------------------------------------------------------- TimeDistributed
class TimeDistributed(Wrapper):
    """Applies `layer` to every timestep of `(batch, time, ...)` inputs (one set of weights):
    the inputs are reshaped to `(batch * time, ...)`, run once, and reshaped back."""

    supports_masking = True

    def __init__(self, layer, **kwargs):
        super().__init__(layer, **kwargs)
        self._param_skeleton = None
        self._state_skeleton = None

    def init(self, key, input_shape):
        shape = tuple(input_shape)
        if len(shape) < 3:
            raise ValueError(
                "`TimeDistributed` needs inputs with at least 3 dimensions (batch, time, "
                f"...). Received input_shape={shape}")
        shares_model = isinstance(self.layer, Model) and self.layer.built
        if shares_model:
            # A built model wrapped here keeps one set of weights (as Keras): the wrapper
            # holds the model's own Variable cells.
            inner = self.layer._cell_tree()
        else:
            inner = self.layer.init(key, (shape[0],) + shape[2:])
        self._param_skeleton = _skeleton(inner["params"])
        self._state_skeleton = _skeleton(inner["state"])
        variables = {"params": _flatten_tree(inner["params"]),
                     "state": _flatten_tree(inner["state"])}
        if self._inner_is_flat() and _can_link(self.layer, self):
            self.layer._variables = _shape_template(variables)
            _link_view(self.layer, self, "")
        self.input_spec = InputSpec(shape=(None,) + shape[1:])
        return variables

    def _inner_is_flat(self):
        return _is_flat(self._param_skeleton) and _is_flat(self._state_skeleton)

    def _inner_vars(self, variables):
        return {"params": _unflatten_tree(variables["params"], self._param_skeleton),
                "state": _unflatten_tree(variables["state"], self._state_skeleton)}

    @autocast(params=False)
    def apply(self, variables, inputs, *, training=False, key=None, mask=None, **kwargs):
        x = jnp.asarray(inputs)
        batch, steps = x.shape[0], x.shape[1]
        inner_x = jnp.reshape(x, (batch * steps,) + x.shape[2:])
        inner_mask = None
        if mask is not None:
            mask = jnp.asarray(mask)
            inner_mask = jnp.reshape(mask, (batch * steps,) + mask.shape[2:])
        outputs, new_state = self.layer.apply(self._inner_vars(variables), inner_x,
                                              training=training, key=key, mask=inner_mask,
                                              **kwargs)
        outputs = map_structure(
            lambda y: jnp.reshape(y, (batch, steps) + tuple(y.shape[1:])), outputs)
        return outputs, _flatten_tree(new_state)

    def compute_mask(self, inputs, mask=None):
        x = inputs
        batch, steps = x.shape[0], x.shape[1]
        inner_x = jnp.reshape(x, (batch * steps,) + tuple(x.shape[2:]))
        inner_mask = None
        if mask is not None:
            inner_mask = jnp.reshape(mask, (batch * steps,) + tuple(mask.shape[2:]))
        inner_out = self.layer.compute_mask(inner_x, inner_mask)
        if inner_out is None or isinstance(inner_out, (list, tuple)):
            output_mask = mask
        else:
            output_mask = jnp.reshape(inner_out, (batch, steps) + tuple(inner_out.shape[1:]))
        if output_mask is None:
            return None
        while output_mask.ndim > 2:
            output_mask = jnp.any(output_mask, axis=-1)
        return output_mask

    @property
    def non_weight_state(self):
        if self._inner_is_flat():
            return tuple(self.layer.non_weight_state)
        return ()

    def weight_spec(self, name):
        if self._inner_is_flat():
            return self.layer.weight_spec(name)
        get_layer = getattr(self.layer, "get_layer", None)
        inner, _, rest = name.partition("/")
        if get_layer is None or not rest:
            return None
        try:
            return get_layer(inner).weight_spec(rest)
        except ValueError:
            return None


# ---------------------------------------------------------------------------- Bidirectional
def _is_derived_backward(layer_config, backward_config):
    derived = derived_backward_layer(layer_config)
    return derived is not None and isinstance(backward_config, dict) and all(
        backward_config.get(key) == derived.get(key)
        for key in ("class_name", "registered_name", "config"))


def _recreate(layer, name, **overrides):
    config = layer.get_config()
    config["name"] = name
    config.update(overrides)
    return type(layer).from_config(config)


class Bidirectional(Wrapper):
    """Runs an RNN layer forwards and a copy of it backwards, and merges the two outputs
    (`merge_mode`: 'concat', 'sum', 'mul', 'ave' or None for a list of both).

    The backward layer's returned sequence is reversed back into input order before the
    merge. With `return_state=True` the outputs are `[merged, *forward_states,
    *backward_states]`. Initial states are given forward first, then backward.
    """

    supports_masking = True

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None,
                 **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                "Bidirectional expects a layer instance to wrap. Received: "
                f"layer={layer!r}")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(
                "`backward_layer` must be a layer instance. Received: "
                f"backward_layer={backward_layer!r}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                "Invalid merge mode: expected one of {'sum', 'mul', 'ave', 'concat', None}. "
                f"Received: merge_mode={merge_mode!r}")
        kwargs.pop("num_constants", None)
        if weights is not None:
            kwargs["weights"] = weights
        super().__init__(layer, **kwargs)
        base_name = bidirectional_base_name(layer.name)
        self.forward_layer = _recreate(layer, f"forward_{base_name}")
        if backward_layer is None:
            self.backward_layer = _recreate(layer, f"backward_{base_name}",
                                            go_backwards=not layer.go_backwards)
            self._backward_layer_config = None
        else:
            self._backward_layer_config = serialize_keras_object(backward_layer)
            self.backward_layer = backward_layer
            if not backward_layer.name.startswith("backward_"):
                backward_layer._name = f"backward_{backward_layer.name}"
        self._verify_layers()
        for inner in (self.forward_layer, self.backward_layer):
            if hasattr(inner, "zero_output_for_mask"):
                inner.zero_output_for_mask = inner.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = layer.stateful

    def _verify_layers(self):
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(
                "The forward and backward layers of Bidirectional must have different "
                f"`go_backwards` values. Received: forward go_backwards="
                f"{forward.go_backwards}, backward go_backwards={backward.go_backwards}")
        for attr in ("stateful", "return_sequences", "return_state"):
            if getattr(forward, attr) != getattr(backward, attr):
                raise ValueError(
                    f"The forward and backward layers of Bidirectional must have the same "
                    f"`{attr}`. Received: {getattr(forward, attr)} (forward) and "
                    f"{getattr(backward, attr)} (backward)")

    def _prefixes(self):
        return f"{self.forward_layer.name}/", f"{self.backward_layer.name}/"

    # ------------------------------------------------------------------ pure pair
    def init(self, key, input_shape):
        seq_shape = _first_shape(input_shape)
        k_forward, k_backward = jax.random.split(key)
        forward = self.forward_layer.init(k_forward, seq_shape)
        backward = self.backward_layer.init(k_backward, seq_shape)
        p_forward, p_backward = self._prefixes()
        variables = {
            "params": {**with_prefix(forward["params"], p_forward),
                       **with_prefix(backward["params"], p_backward)},
            "state": {**with_prefix(forward["state"], p_forward),
                      **with_prefix(backward["state"], p_backward)}}
        for inner, part, prefix in ((self.forward_layer, forward, p_forward),
                                    (self.backward_layer, backward, p_backward)):
            if _can_link(inner, self):
                inner._variables = _shape_template(
                    {"params": dict(part["params"]), "state": dict(part["state"])})
                _link_view(inner, self, prefix)
        self.input_spec = self.forward_layer.input_spec
        return variables

    @autocast(params=False)
    def apply(self, variables, inputs, initial_state=None, *, training=False, key=None,
              mask=None, **kwargs):
        if isinstance(inputs, (list, tuple)):
            if initial_state is None and len(inputs) > 1:
                initial_state = list(inputs[1:])
            inputs = inputs[0]
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        forward_kwargs, backward_kwargs = dict(kwargs), dict(kwargs)
        if initial_state is not None:
            flat = flatten(list(initial_state)) if isinstance(initial_state, (list, tuple)) \
                else [initial_state]
            half = len(flat) // 2
            forward_kwargs["initial_state"] = flat[:half]
            backward_kwargs["initial_state"] = flat[half:]
        k_forward = k_backward = None
        if key is not None:
            k_forward, k_backward = jax.random.split(key)
        p_forward, p_backward = self._prefixes()
        y, s_forward = self.forward_layer.apply(
            _slice_vars(variables, p_forward), inputs, training=training, key=k_forward,
            mask=mask, **forward_kwargs)
        y_rev, s_backward = self.backward_layer.apply(
            _slice_vars(variables, p_backward), inputs, training=training, key=k_backward,
            mask=mask, **backward_kwargs)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            time_axis = 0 if getattr(self.forward_layer, "time_major", False) else 1
            y_rev = jnp.flip(y_rev, time_axis)
        output = self._merge(y, y_rev)
        new_state = {**with_prefix(s_forward, p_forward),
                     **with_prefix(s_backward, p_backward)}
        if self.return_state:
            output = (output if self.merge_mode is None else [output]) + states
        return output, new_state

    def _merge(self, y, y_rev):
        if self.merge_mode == "concat":
            return jnp.concatenate([y, y_rev], axis=-1)
        if self.merge_mode == "sum":
            return y + y_rev
        if self.merge_mode == "ave":
            return (y + y_rev) / 2
        if self.merge_mode == "mul":
            return y * y_rev
        return [y, y_rev]

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if self.return_sequences:
            output_mask = [mask, mask] if self.merge_mode is None else mask
        else:
            output_mask = [None, None] if self.merge_mode is None else None
        if self.return_state:
            count = getattr(self.forward_layer, "_num_state_outputs", lambda: 0)()
            state_masks = [None] * (2 * count)
            if isinstance(output_mask, list):
                return output_mask + state_masks
            return [output_mask] + state_masks
        return output_mask

    # ------------------------------------------------------------------ host side
    def _call_eager(self, inputs, args, kwargs):
        if self.stateful:
            return _eager_call_keeping_state(self, inputs, args, kwargs)
        return super()._call_eager(inputs, args, kwargs)

    @property
    def non_weight_state(self):
        p_forward, p_backward = self._prefixes()
        return (tuple(p_forward + k for k in self.forward_layer.non_weight_state)
                + tuple(p_backward + k for k in self.backward_layer.non_weight_state))

    def weight_spec(self, name):
        p_forward, p_backward = self._prefixes()
        for inner, prefix in ((self.forward_layer, p_forward),
                              (self.backward_layer, p_backward)):
            if name.startswith(prefix):
                return inner.weight_spec(name[len(prefix):])
        return None

    @property
    def states(self):
        return list(self.forward_layer.states) + list(self.backward_layer.states)

    def reset_states(self, states=None):
        if not self.stateful:
            raise AttributeError(f"Layer {self.name} must be stateful to reset its states.")
        if states is None:
            self.forward_layer.reset_states()
            self.backward_layer.reset_states()
            return
        flat = flatten(list(states)) if isinstance(states, (list, tuple)) else [states]
        half = len(flat) // 2
        self.forward_layer.reset_states(flat[:half])
        self.backward_layer.reset_states(flat[half:])

    def reset_state(self):
        self.reset_states()

    # ------------------------------------------------------------------ config
    def get_config(self):
        config = super().get_config()
        config["merge_mode"] = self.merge_mode
        if self._backward_layer_config is not None:
            config["backward_layer"] = self._backward_layer_config
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        backward = config.pop("backward_layer", None)
        # One that is just the derived backward layer (`.keras` files write it out) is left
        # to be derived again, so that the config read back is the one written.
        if backward is not None and not _is_derived_backward(config.get("layer"), backward):
            config["backward_layer"] = deserialize_layer(backward, custom_objects)
        return super().from_config(config, custom_objects=custom_objects)
