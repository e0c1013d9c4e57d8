"""Recurrent layers: the `RNN` layer that runs a cell over time in `jax.lax.scan`, and
SimpleRNN, LSTM and GRU. The cells are in layers/recurrent_cells.py (and importable from
here, as in Keras); the protocol a cell follows is in layers/rnn_cell.py.

Weight names. tf.keras 2 builds an RNN's cell inside a name scope of the cell's name, so an
LSTM's weights are `lstm/lstm_cell/kernel:0`, `lstm/lstm_cell/recurrent_kernel:0` and
`lstm/lstm_cell/bias:0` (Keras 3 paths are the same: `lstm/lstm_cell/kernel`). Our param keys
are therefore `"<cell name>/<weight>"` (`"lstm_cell/kernel"`), so `f"{layer.name}/{key}:0"`
gives those names back. The built-in layers name their cell `lstm_cell`, `gru_cell` and
`simple_rnn_cell` (what tf.keras 2.x and Keras 3 do); a stack of cells adds one more level:
`rnn/stacked_rnn_cells/lstm_cell/kernel:0`. Weight order is Keras's: kernel,
recurrent_kernel, bias, cell after cell. (Standalone Keras 2.2 named them `lstm_1/kernel:0`;
HDF5 loading matches weights by order, so those files load all the same.)

A stateful layer keeps its carry under `state` as `states_0`, `states_1`, ... (listed by the
`non_weight_state` property, so they are never saved as weights).
"""
import jax
import jax.numpy as jnp
import numpy as np

from jkeras import _config, regularizers
from jkeras.engine.base_layer import Layer, flatten, map_structure
from jkeras.engine.input_spec import InputSpec
from jkeras.layers.arguments import require_key
from jkeras.layers.autocast import autocast
from jkeras.layers.nested_weights import strip_prefix, with_prefix
from jkeras.layers.recurrent_cells import (GRUCell, LSTMCell, SimpleRNNCell,  # noqa: F401
                                           StackedRNNCells)
from jkeras.layers.rnn_cell import RNNCell, as_cell  # noqa: F401 - Keras's import path
from jkeras.layers.serialization import deserialize as deserialize_layer
from jkeras.serialization.serialize import serialize_keras_object

__all__ = ["RNN", "SimpleRNN", "LSTM", "GRU", "RNNCell", "SimpleRNNCell", "LSTMCell",
           "GRUCell", "StackedRNNCells"]


def _expand_like(mask_t, value):
    """A (batch,) step mask shaped to broadcast against `value` (batch, ...)."""
    return jnp.reshape(mask_t, mask_t.shape + (1,) * (value.ndim - mask_t.ndim))


# ---------------------------------------------------------------------------- the RNN layer
def _first_shape(input_shape):
    """The sequence's shape when the layer was called on `[sequence, *initial_states]`."""
    if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0],
                                                                   (list, tuple)):
        return tuple(input_shape[0])
    return tuple(input_shape)


def _flat_states(initial_state):
    if initial_state is None:
        return None
    if isinstance(initial_state, (list, tuple)):
        flat = flatten(list(initial_state))
        return flat or None
    return [initial_state]


def _eager_call_keeping_state(layer, inputs, args, kwargs):
    """An eager call that writes the new state back in inference too (stateful RNNs)."""
    training = bool(kwargs.pop("training", False) or False)
    mask = kwargs.pop("mask", None)
    inputs = map_structure(jnp.asarray, inputs)
    layer._check_inputs(inputs)
    layer._maybe_build_named(layer._input_shapes(inputs))
    variables = layer._get_vars()
    key = _config.next_key() if training else None
    outputs, new_state = layer.apply(variables, inputs, *args, training=training, key=key,
                                     mask=mask, **kwargs)
    layer._set_vars({"params": variables["params"], "state": dict(new_state)})
    return outputs


class RNN(Layer):
    """Runs `cell` over the time axis of `(batch, time, ...)` inputs with `jax.lax.scan`.

    Call arguments besides the inputs: `initial_state` (a list of arrays), `mask` (boolean,
    `(batch, time)`), `training`. A masked step keeps the previous states and repeats the
    previous output (zeros with `zero_output_for_mask=True`). With `go_backwards=True` the
    sequence is read from the end and the returned sequence is in that reversed order.
    """

    supports_masking = True
    # Keras 2 builds an RNN's cell in a name scope of the cell's name; ConvRNN layers do not.
    _cell_scoped_weights = True

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, time_major=False, zero_output_for_mask=False,
                 **kwargs):
        kwargs.pop("num_constants", None)
        if "batch_shape" in kwargs:   # the Keras 3 spelling
            kwargs.setdefault("batch_input_shape", kwargs.pop("batch_shape"))
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not isinstance(cell, Layer) or not hasattr(cell, "state_size"):
            raise ValueError(
                "The RNN cell should be a layer with a `call` method and a `state_size` "
                f"attribute. Received: cell={cell!r}")
        super().__init__(**kwargs)
        self.cell = cell
        self._protocol = as_cell(cell)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.time_major = bool(time_major)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.input_spec = InputSpec(min_ndim=3)

    # ------------------------------------------------------------------ structure
    @property
    def state_size(self):
        return self.cell.state_size

    def _cell_prefix(self):
        return f"{self.cell.name}/" if self._cell_scoped_weights else ""

    def _state_keys(self):
        return [f"states_{i}" for i in range(self._protocol.num_states)]

    @property
    def non_weight_state(self):
        return tuple(self._state_keys())

    def _num_state_outputs(self):
        if isinstance(self.cell, StackedRNNCells):
            return len(self.cell.cells)
        return self._protocol.num_states

    def _batch_and_step_shape(self, seq_shape):
        if self.time_major:
            return seq_shape[1], (seq_shape[1],) + tuple(seq_shape[2:])
        return seq_shape[0], (seq_shape[0],) + tuple(seq_shape[2:])

    # ------------------------------------------------------------------ pure pair
    def init(self, key, input_shape):
        seq_shape = _first_shape(input_shape)
        if len(seq_shape) < 3:
            raise ValueError(
                f"Layer {self.name} expects inputs of rank >= 3 (batch, time, features). "
                f"Received input_shape={seq_shape}")
        batch, step_shape = self._batch_and_step_shape(seq_shape)
        cell_vars = self.cell.init(key, step_shape)
        params = with_prefix(cell_vars["params"], self._cell_prefix())
        state = {}
        if self.stateful:
            shapes = self._protocol.state_shapes(step_shape)
            if batch is None or any(d is None for s in shapes for d in s):
                raise ValueError(
                    f"Layer {self.name} is stateful and needs to know its batch size. "
                    "Specify the batch size of your inputs: pass `batch_input_shape` (or "
                    "`batch_size`) to the first layer of a Sequential model, or "
                    "`batch_shape` to `Input`. Received input_shape="
                    f"{seq_shape}")
            state = {k: jnp.zeros(s, self.dtype) for k, s in zip(self._state_keys(), shapes)}
        spec_shape = [None] * len(seq_shape)
        spec_shape[2:] = seq_shape[2:]
        if self.stateful:
            spec_shape[1 if self.time_major else 0] = batch
        self.input_spec = InputSpec(shape=tuple(spec_shape))
        return {"params": params, "state": state}

    def _initial_states(self, variables, initial_state, x, batch, step_shape):
        flat = _flat_states(initial_state)
        expected = self._protocol.num_states
        if flat is not None:
            if len(flat) != expected:
                raise ValueError(
                    f"Layer {self.name} expects {expected} initial state(s), but it "
                    f"received {len(flat)} initial state tensor(s).")
            return [jnp.asarray(s, x.dtype) for s in flat]
        if self.stateful:
            states = [variables["state"][k] for k in self._state_keys()]
            if states[0].shape[0] != batch:
                raise ValueError(
                    f"Layer {self.name} is stateful with batch size {states[0].shape[0]}, "
                    f"but it received inputs with batch size {batch}.")
            return [s.astype(x.dtype) for s in states]
        return [jnp.zeros(s, x.dtype) for s in self._protocol.state_shapes(step_shape)]

    @autocast
    def apply(self, variables, inputs, initial_state=None, *, training=False, key=None,
              mask=None, **kwargs):
        if isinstance(inputs, (list, tuple)):
            if initial_state is None and len(inputs) > 1:
                initial_state = list(inputs[1:])
            inputs = inputs[0]
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        x = jnp.asarray(inputs)
        if jnp.issubdtype(x.dtype, jnp.floating) and x.dtype != jnp.dtype(self.compute_dtype):
            x = x.astype(self.compute_dtype)
        xs = x if self.time_major else jnp.swapaxes(x, 0, 1)       # (time, batch, ...)
        batch, step_shape = xs.shape[1], (xs.shape[1],) + xs.shape[2:]
        states = self._initial_states(variables, initial_state, x, batch, step_shape)
        if mask is not None:
            mask = jnp.asarray(mask).astype(bool)
            if not self.time_major:
                mask = jnp.swapaxes(mask, 0, 1)
        cell_params = strip_prefix(variables["params"], self._cell_prefix())
        cell = self._protocol
        masks = None
        if training and cell.uses_dropout:
            masks = cell.dropout_masks(require_key(self, key, "for dropout in training mode"),
                                       step_shape, xs.dtype)

        def step(x_t, s):
            return cell.step(cell_params, x_t, s, masks, training)

        xp = cell.project(cell_params, xs, masks)
        last, outputs, final_states = self._scan(step, xp, mask, states)
        if self.return_sequences:
            output = outputs if self.time_major else jnp.swapaxes(outputs, 0, 1)
        else:
            output = last
        new_state = variables["state"]
        if self.stateful:  # the carry is stored in the variables' dtype
            new_state = {k: s.astype(variables["state"][k].dtype)
                         for k, s in zip(self._state_keys(), final_states)}
        if self.return_state:
            return [output] + list(cell.group_states(final_states)), new_state
        return output, new_state

    def _scan(self, step, xp, mask, states):
        """`(last_output, outputs (time-major) or None, final_states)`."""
        if self.go_backwards:
            xp = jnp.flip(xp, 0)
            mask = None if mask is None else jnp.flip(mask, 0)
        out_spec = jax.eval_shape(lambda x, s: step(x, s)[0], xp[0], states)
        zero_output = jnp.zeros(out_spec.shape, out_spec.dtype)

        def body(carry, inputs):
            states, previous = carry
            if mask is None:
                output, new_states = step(inputs, states)
            else:
                x_t, m_t = inputs
                output, new_states = step(x_t, states)
                new_states = [jnp.where(_expand_like(m_t, n), n, s)
                              for n, s in zip(new_states, states)]
                fallback = jnp.zeros_like(output) if self.zero_output_for_mask else previous
                output = jnp.where(_expand_like(m_t, output), output, fallback)
            new_states = [n.astype(s.dtype) for n, s in zip(new_states, states)]
            return (new_states, output), (output if self.return_sequences else None)

        xs = xp if mask is None else (xp, mask)
        (final_states, last), outputs = jax.lax.scan(
            body, (list(states), zero_output), xs, unroll=True if self.unroll else 1)
        return last, outputs, final_states

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * self._num_state_outputs()
        return output_mask

    def _check_inputs(self, inputs):
        first = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        super()._check_inputs(first)

    def _call_eager(self, inputs, args, kwargs):
        if self.stateful:
            return _eager_call_keeping_state(self, inputs, args, kwargs)
        return super()._call_eager(inputs, args, kwargs)

    def weight_spec(self, name):
        prefix = self._cell_prefix()
        if not name.startswith(prefix):
            return None
        return self.cell.weight_spec(name[len(prefix):])

    # ------------------------------------------------------------------ states (host side)
    @property
    def states(self):
        """The carried states of a stateful layer (None entries when there are none)."""
        keys = self._state_keys()
        variables = self._get_vars() if self.built else None
        if not self.stateful or variables is None:
            return [None] * len(keys)
        return [variables["state"][k] for k in keys]

    def get_initial_state(self, inputs):
        x = jnp.asarray(inputs)
        xs = x if self.time_major else jnp.swapaxes(x, 0, 1)
        step_shape = (xs.shape[1],) + xs.shape[2:]
        return [jnp.zeros(s, x.dtype) for s in self._protocol.state_shapes(step_shape)]

    def reset_states(self, states=None):
        """Sets the carried states to zeros, or to `states` (arrays of the same shapes)."""
        if not self.stateful:
            raise AttributeError(f"Layer {self.name} must be stateful to reset its states.")
        if not self.built:
            raise ValueError(
                f"Layer {self.name} is not built yet: call it on data (or build it) before "
                "resetting its states.")
        variables = self._get_vars()
        keys = self._state_keys()
        current = [variables["state"][k] for k in keys]
        if states is None:
            values = [jnp.zeros_like(c) for c in current]
        else:
            values = _flat_states(states) or []
            if len(values) != len(keys):
                raise ValueError(
                    f"Layer {self.name} expects {len(keys)} state(s), but it received "
                    f"{len(values)} state value(s).")
            for index, (value, c) in enumerate(zip(values, current)):
                if tuple(np.shape(value)) != tuple(c.shape):
                    raise ValueError(
                        f"State {index} is incompatible with layer {self.name}: expected "
                        f"shape={tuple(c.shape)}, found shape={tuple(np.shape(value))}")
            values = [jnp.asarray(v, c.dtype) for v, c in zip(values, current)]
        state = dict(variables["state"])
        state.update(zip(keys, values))
        self._set_vars({"params": variables["params"], "state": state})

    def reset_state(self):
        self.reset_states()

    # ------------------------------------------------------------------ config
    def get_config(self):
        config = super().get_config()
        config.update({
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "time_major": self.time_major,
        })
        if self.zero_output_for_mask:
            config["zero_output_for_mask"] = True
        config["cell"] = serialize_keras_object(self.cell)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if "cell" in config:
            config["cell"] = deserialize_layer(config["cell"], custom_objects)
        return super().from_config(config)


# ---------------------------------------------------------------------------- layers
_CELL_CONFIG_SKIP = ("name", "trainable", "dtype", "batch_input_shape")
_LAYER_ONLY_KWARGS = ("name", "trainable", "dtype", "input_shape", "batch_input_shape",
                      "batch_shape", "batch_size", "input_dim", "input_length", "weights",
                      "zero_output_for_mask", "autocast")


def make_cell(layer, cell_class, *args, **kwargs):
    """`cell_class(*args, **kwargs)` for a layer that makes its own cell from its own
    arguments; a bad argument's error names the layer's class (`LSTM`), not the cell's."""
    try:
        return cell_class(*args, **kwargs)
    except (TypeError, ValueError) as error:
        message = str(error)
        prefix = f"{cell_class.__name__}:"
        if message.startswith(prefix):
            raise type(error)(f"{type(layer).__name__}:{message[len(prefix):]}") from None
        raise


class _BuiltinRNN(RNN):
    """An RNN whose cell the layer makes itself from its own arguments (SimpleRNN, LSTM,
    GRU): the config is flat, and the cell's attributes read through the layer."""

    _cell_class = None
    _cell_name = None

    def __init__(self, units, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, time_major=False, activity_regularizer=None,
                 use_cudnn="auto", **kwargs):
        layer_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in _LAYER_ONLY_KWARGS}
        cell = make_cell(self, self._cell_class, units, name=self._cell_name,
                         dtype=layer_kwargs.get("dtype"),
                         trainable=layer_kwargs.get("trainable", True), **kwargs)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         time_major=time_major, activity_regularizer=activity_regularizer,
                         **layer_kwargs)
        self.input_spec = InputSpec(ndim=3)

    def get_config(self):
        config = super().get_config()
        del config["cell"]
        config.update({k: v for k, v in self.cell.get_config().items()
                       if k not in _CELL_CONFIG_SKIP})
        config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config


def delegate_to_cell(cls, names):
    """Makes each of `names` a read-only property of `cls` reading its cell's attribute."""
    for attr in names:
        setattr(cls, attr, property(lambda self, _a=attr: getattr(self.cell, _a)))


_COMMON_CELL_ATTRS = ("units", "activation", "use_bias", "kernel_initializer",
                      "recurrent_initializer", "bias_initializer", "kernel_regularizer",
                      "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
                      "recurrent_constraint", "bias_constraint", "dropout",
                      "recurrent_dropout")


class SimpleRNN(_BuiltinRNN):
    """A fully connected RNN whose output is fed back as the next step's state."""

    _cell_class = SimpleRNNCell
    _cell_name = "simple_rnn_cell"

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, seed=None, **kwargs):
        kwargs.pop("implementation", None)
        super().__init__(
            units, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
            return_sequences=return_sequences, return_state=return_state,
            go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)


class LSTM(_BuiltinRNN):
    """Long Short-Term Memory (Hochreiter & Schmidhuber, 1997), tf.keras 2 defaults."""

    _cell_class = LSTMCell
    _cell_name = "lstm_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, implementation=2, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 seed=None, **kwargs):
        super().__init__(
            units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout,
            implementation=implementation, seed=seed, return_sequences=return_sequences,
            return_state=return_state, go_backwards=go_backwards, stateful=stateful,
            unroll=unroll, **kwargs)


class GRU(_BuiltinRNN):
    """Gated Recurrent Unit (Cho et al., 2014); `reset_after=False` as Keras 2.3 (pass
    `reset_after=True` for tf.keras 2's and Keras 3's variant)."""

    _cell_class = GRUCell
    _cell_name = "gru_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, implementation=2,
                 return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, reset_after=False, seed=None, **kwargs):
        super().__init__(
            units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, implementation=implementation,
            reset_after=reset_after, seed=seed, return_sequences=return_sequences,
            return_state=return_state, go_backwards=go_backwards, stateful=stateful,
            unroll=unroll, **kwargs)


delegate_to_cell(SimpleRNN, _COMMON_CELL_ATTRS)
delegate_to_cell(LSTM, _COMMON_CELL_ATTRS + ("recurrent_activation", "unit_forget_bias",
                                              "implementation"))
delegate_to_cell(GRU, _COMMON_CELL_ATTRS + ("recurrent_activation", "reset_after",
                                             "implementation"))
