"""Recurrent layers: the cells (SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells), the `RNN`
layer that runs a cell over time in `jax.lax.scan`, and SimpleRNN, LSTM and GRU.

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

Cell protocol. A built-in cell is a Layer with the pure methods `_project(params, x, masks)`
(the input transformation, run once over the whole sequence), `_recurrent_step(params, xp,
states, masks)`, `_dropout_masks(key, step_shape, dtype)` and `_state_shapes(step_shape)`.
A Keras-style user cell (`build` + `call(inputs, states)` + `state_size`) works too: it is
called through its own `apply` at every step.
"""
import jax
import jax.numpy as jnp
import numpy as np

from jkeras import _config, activations, constraints, initializers, regularizers
from jkeras.engine.base_layer import Layer, flatten, map_structure
from jkeras.engine.input_spec import InputSpec
from jkeras.serialization import builtin_tables
from jkeras.serialization.serialize import deserialize_keras_object, serialize_keras_object
from jkeras.layers.autocast import autocast


# ---------------------------------------------------------------------------- small helpers
def _positive_int(value, name, owner):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(
            f"{owner}: expected a positive integer for `{name}`. Received: {name}={value!r}")
    return int(value)


def _rate(value):
    """Keras clips dropout rates into [0, 1]."""
    return min(1.0, max(0.0, float(value)))


def _with_prefix(tree, prefix):
    return {prefix + k: v for k, v in tree.items()}


def _strip_prefix(tree, prefix):
    """The entries of `tree` under `prefix`, with the prefix removed (order kept)."""
    n = len(prefix)
    return {k[n:]: v for k, v in tree.items() if k.startswith(prefix)}


def _expand_like(mask_t, value):
    """A (batch,) step mask shaped to broadcast against `value` (batch, ...)."""
    return jnp.reshape(mask_t, mask_t.shape + (1,) * (value.ndim - mask_t.ndim))


def _dropout_mask_list(key, rate, shape, count, dtype):
    """`count` inverted-dropout masks of `shape` (None when `rate` is not in (0, 1))."""
    if not 0.0 < rate < 1.0:
        return None
    keep = 1.0 - rate
    return [jax.random.bernoulli(k, keep, shape).astype(dtype) / jnp.asarray(keep, dtype)
            for k in jax.random.split(key, count)]


def _gate_masks(key, rate, recurrent_rate, input_shape, state_shape, count, dtype):
    k_in, k_rec = jax.random.split(key)
    return {"input": _dropout_mask_list(k_in, rate, input_shape, count, dtype),
            "recurrent": _dropout_mask_list(k_rec, recurrent_rate, state_shape, count, dtype)}


def _gated_matmul(x, weight, masks):
    """`x @ weight`, or with one dropout mask per gate block of `weight`'s columns."""
    if masks is None:
        return x @ weight
    blocks = jnp.split(weight, len(masks), axis=-1)
    return jnp.concatenate([(x * m) @ w for m, w in zip(masks, blocks)], axis=-1)


def _masks_of(masks, kind):
    return None if masks is None else masks[kind]


def _needs_key(layer, key):
    if key is None:
        raise ValueError(
            f"Layer {layer.name} uses dropout in training mode and needs a PRNG key. "
            "Received: key=None")


def _deserialize_layer(config, custom_objects=None):
    """A layer from its config, through the table of built-in layers that `jkeras.layers`
    provides (never importing by name)."""
    return deserialize_keras_object(config, module_objects=builtin_tables.table("layers"),
                                    custom_objects=custom_objects,
                                    printable_module_name="layer")


# ---------------------------------------------------------------------------- cell adapters
def _cell_num_states(cell):
    count = getattr(cell, "_num_states", None)
    if count is not None:
        return count
    size = cell.state_size
    return len(size) if isinstance(size, (list, tuple)) else 1


def _as_shape(size):
    return tuple(size) if isinstance(size, (list, tuple)) else (int(size),)


def _cell_state_shapes(cell, step_shape):
    """Shapes (batch included) of the cell's flat list of states for one step's input."""
    shapes = getattr(cell, "_state_shapes", None)
    if shapes is not None:
        return shapes(step_shape)
    size = cell.state_size
    sizes = list(size) if isinstance(size, (list, tuple)) else [size]
    return [(step_shape[0],) + _as_shape(s) for s in sizes]


def _cell_output_size(cell):
    size = getattr(cell, "output_size", None)
    if size is not None:
        return size
    state = cell.state_size
    return state[0] if isinstance(state, (list, tuple)) else state


def _cell_uses_dropout(cell):
    return bool(getattr(cell, "_uses_dropout", False))


def _cell_dropout_masks(cell, key, step_shape, dtype):
    sample = getattr(cell, "_dropout_masks", None)
    return None if sample is None else sample(key, step_shape, dtype)


def _cell_project(cell, params, x, masks):
    project = getattr(cell, "_project", None)
    return x if project is None else project(params, x, masks)


def _cell_step(cell, params, xp, states, masks, training):
    step = getattr(cell, "_recurrent_step", None)
    if step is not None:
        return step(params, xp, states, masks, training=training)
    (output, new_states), _ = cell.apply({"params": params, "state": {}}, xp, states=states,
                                         training=training)
    if not isinstance(new_states, (list, tuple)):
        new_states = [new_states]
    return output, list(new_states)


# ---------------------------------------------------------------------------- the cells
class _DenseCell(Layer):
    """What SimpleRNNCell, LSTMCell and GRUCell share: weights, dropout masks, config."""

    _gate_count = 1

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.units = _positive_int(units, "units", type(self).__name__)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _rate(dropout)
        self.recurrent_dropout = _rate(recurrent_dropout)
        self.seed = seed
        self.output_size = self.units

    @property
    def _uses_dropout(self):
        return 0.0 < self.dropout < 1.0 or 0.0 < self.recurrent_dropout < 1.0

    def _state_shapes(self, step_shape):
        return [(step_shape[0], self.units)] * _cell_num_states(self)

    def _init_bias(self, key):
        return initializers.call(self.bias_initializer, (self._gate_count * self.units,),
                                 self.dtype, key)

    def init(self, key, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"{type(self).__name__} needs a known last input dimension. Received "
                f"input_shape={tuple(input_shape)}")
        width = self._gate_count * self.units
        k_kernel, k_recurrent, k_bias = jax.random.split(key, 3)
        params = {
            "kernel": initializers.call(self.kernel_initializer, (input_dim, width),
                                        self.dtype, k_kernel),
            "recurrent_kernel": initializers.call(self.recurrent_initializer,
                                                  (self.units, width), self.dtype,
                                                  k_recurrent)}
        if self.use_bias:
            params["bias"] = self._init_bias(k_bias)
        return {"params": params, "state": {}}

    def _dropout_masks(self, key, step_shape, dtype):
        return _gate_masks(key, self.dropout, self.recurrent_dropout, tuple(step_shape),
                           (step_shape[0], self.units), self._gate_count, dtype)

    def _input_bias(self, params):
        return params["bias"] if self.use_bias else None

    def _project(self, params, x, masks):
        """The input transformation of every gate (any leading dimensions)."""
        z = _gated_matmul(x, params["kernel"], _masks_of(masks, "input"))
        bias = self._input_bias(params)
        return z if bias is None else z + bias

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        if batch_size is None:
            batch_size = inputs.shape[0]
        dtype = dtype or self.dtype
        return [jnp.zeros(shape, dtype)
                for shape in self._state_shapes((batch_size, None))]

    @autocast
    def apply(self, variables, inputs, states=None, *, training=False, key=None, mask=None,
              **kwargs):
        """One step: `((output, new_states), state)` for `inputs` (batch, features)."""
        params = variables["params"]
        x = jnp.asarray(inputs)
        if states is None:
            states = self.get_initial_state(batch_size=x.shape[0], dtype=x.dtype)
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        masks = None
        if training and self._uses_dropout:
            _needs_key(self, key)
            masks = self._dropout_masks(key, x.shape, x.dtype)
        output, new_states = self._recurrent_step(params, self._project(params, x, masks),
                                                  states, masks)
        return (output, new_states), variables["state"]

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
        })
        return config


class SimpleRNNCell(_DenseCell):
    """`h = activation(x @ kernel + h_prev @ recurrent_kernel + bias)`."""

    def __init__(self, units, activation="tanh", use_bias=True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.state_size = self.units

    def _recurrent_step(self, params, xp, states, masks, training=False):
        recurrent = _gated_matmul(states[0], params["recurrent_kernel"],
                                  _masks_of(masks, "recurrent"))
        h = self.activation(xp + recurrent)
        return h, [h]


class LSTMCell(_DenseCell):
    """The LSTM step; gates in Keras's order i, f, c, o; states `[h, c]`."""

    _gate_count = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, unit_forget_bias=True, implementation=2, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.implementation = implementation
        self.state_size = [self.units, self.units]

    def _init_bias(self, key):
        if not self.unit_forget_bias:
            return super()._init_bias(key)
        k_input, k_rest = jax.random.split(key)
        units = self.units
        return jnp.concatenate([
            initializers.call(self.bias_initializer, (units,), self.dtype, k_input),
            jnp.ones((units,), self.dtype),
            initializers.call(self.bias_initializer, (2 * units,), self.dtype, k_rest)])

    def _recurrent_step(self, params, xp, states, masks, training=False):
        h_prev, c_prev = states[0], states[1]
        z = xp + _gated_matmul(h_prev, params["recurrent_kernel"],
                               _masks_of(masks, "recurrent"))
        z_i, z_f, z_c, z_o = jnp.split(z, 4, axis=-1)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = f * c_prev + i * self.activation(z_c)
        o = self.recurrent_activation(z_o)
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config.update({
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias,
            "implementation": self.implementation,
        })
        return config


class GRUCell(_DenseCell):
    """The GRU step; gates in Keras's order z, r, h. `reset_after=False` is Keras 2.3's
    default (bias `(3 * units,)`); with `reset_after=True` (tf.keras 2 and Keras 3) the bias
    is `(2, 3 * units)`: input bias, then recurrent bias."""

    _gate_count = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, reset_after=False, implementation=2, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)
        self.implementation = implementation
        self.state_size = self.units

    def _init_bias(self, key):
        shape = (3 * self.units,)
        if self.reset_after:
            shape = (2,) + shape
        return initializers.call(self.bias_initializer, shape, self.dtype, key)

    def _input_bias(self, params):
        if not self.use_bias:
            return None
        return params["bias"][0] if self.reset_after else params["bias"]

    def _recurrent_step(self, params, xp, states, masks, training=False):
        h_prev = states[0]
        kernel = params["recurrent_kernel"]
        rec_masks = _masks_of(masks, "recurrent")
        x_z, x_r, x_h = jnp.split(xp, 3, axis=-1)
        if self.reset_after:
            recurrent = _gated_matmul(h_prev, kernel, rec_masks)
            if self.use_bias:
                recurrent = recurrent + params["bias"][1]
            r_z, r_r, r_h = jnp.split(recurrent, 3, axis=-1)
            z = self.recurrent_activation(x_z + r_z)
            r = self.recurrent_activation(x_r + r_r)
            candidate = self.activation(x_h + r * r_h)
        else:
            units = self.units
            recurrent = _gated_matmul(h_prev, kernel[:, :2 * units],
                                      None if rec_masks is None else rec_masks[:2])
            r_z, r_r = jnp.split(recurrent, 2, axis=-1)
            z = self.recurrent_activation(x_z + r_z)
            r = self.recurrent_activation(x_r + r_r)
            h_for_candidate = h_prev if rec_masks is None else h_prev * rec_masks[2]
            candidate = self.activation(x_h + (r * h_for_candidate) @ kernel[:, 2 * units:])
        h = z * h_prev + (1.0 - z) * candidate
        return h, [h]

    def get_config(self):
        config = super().get_config()
        config.update({
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "implementation": self.implementation,
            "reset_after": self.reset_after,
        })
        return config


class StackedRNNCells(Layer):
    """Several cells run as one: each step feeds a cell's output to the next cell."""

    def __init__(self, cells, **kwargs):
        cells = list(cells)
        for cell in cells:
            if not isinstance(cell, Layer) or not hasattr(cell, "state_size"):
                raise ValueError(
                    "StackedRNNCells expects cells that are layers with a `state_size` "
                    f"attribute. Received: {cell!r}")
        super().__init__(**kwargs)
        self.cells = cells
        self._cell_keys = _unique_names([cell.name for cell in cells])

    @property
    def state_size(self):
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self):
        return _cell_output_size(self.cells[-1])

    @property
    def _num_states(self):
        return sum(_cell_num_states(cell) for cell in self.cells)

    @property
    def _uses_dropout(self):
        return any(_cell_uses_dropout(cell) for cell in self.cells)

    def _step_shapes(self, step_shape):
        shapes = []
        for cell in self.cells:
            shapes.append(tuple(step_shape))
            step_shape = (step_shape[0], _cell_output_size(cell))
        return shapes

    def init(self, key, input_shape):
        params = {}
        keys = jax.random.split(key, len(self.cells))
        for cell, name, k, shape in zip(self.cells, self._cell_keys, keys,
                                        self._step_shapes(input_shape)):
            params.update(_with_prefix(cell.init(k, shape)["params"], name + "/"))
        return {"params": params, "state": {}}

    def _cell_params(self, params, index):
        return _strip_prefix(params, self._cell_keys[index] + "/")

    def _state_shapes(self, step_shape):
        return [shape for cell, cell_shape in zip(self.cells, self._step_shapes(step_shape))
                for shape in _cell_state_shapes(cell, cell_shape)]

    def _dropout_masks(self, key, step_shape, dtype):
        keys = jax.random.split(key, len(self.cells))
        return [_cell_dropout_masks(cell, k, shape, dtype) if _cell_uses_dropout(cell)
                else None
                for cell, k, shape in zip(self.cells, keys, self._step_shapes(step_shape))]

    def _project(self, params, x, masks):
        return _cell_project(self.cells[0], self._cell_params(params, 0), x,
                             None if masks is None else masks[0])

    def _recurrent_step(self, params, xp, states, masks, training=False):
        new_states, start = [], 0
        for index, cell in enumerate(self.cells):
            count = _cell_num_states(cell)
            cell_params = self._cell_params(params, index)
            cell_masks = None if masks is None else masks[index]
            if index > 0:
                xp = _cell_project(cell, cell_params, xp, cell_masks)
            xp, cell_states = _cell_step(cell, cell_params, xp, states[start:start + count],
                                         cell_masks, training)
            new_states.extend(cell_states)
            start += count
        return xp, new_states

    def _group_states(self, flat):
        """The flat list of states as one entry per cell (a list for multi-state cells)."""
        grouped, start = [], 0
        for cell in self.cells:
            count = _cell_num_states(cell)
            part = list(flat[start:start + count])
            grouped.append(part if isinstance(cell.state_size, (list, tuple)) else part[0])
            start += count
        return grouped

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        if batch_size is None:
            batch_size = inputs.shape[0]
        shapes = self._state_shapes((batch_size, None))
        return self._group_states([jnp.zeros(s, dtype or self.dtype) for s in shapes])

    @autocast
    def apply(self, variables, inputs, states=None, *, training=False, key=None, mask=None,
              **kwargs):
        params = variables["params"]
        x = jnp.asarray(inputs)
        if states is None:
            flat = [jnp.zeros(s, x.dtype) for s in self._state_shapes(x.shape)]
        else:
            flat = flatten(list(states))
        masks = None
        if training and self._uses_dropout:
            _needs_key(self, key)
            masks = self._dropout_masks(key, x.shape, x.dtype)
        output, new_states = self._recurrent_step(params, self._project(params, x, masks),
                                                  flat, masks, training=training)
        return (output, self._group_states(new_states)), variables["state"]

    def _per_weight(self, suffix, key):
        for cell, name in zip(self.cells, self._cell_keys):
            if key.startswith(name + "/"):
                return cell._per_weight(suffix, key[len(name) + 1:])
        return None

    def get_config(self):
        config = super().get_config()
        config["cells"] = [serialize_keras_object(cell) for cell in self.cells]
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cells = [_deserialize_layer(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)


def _unique_names(names):
    seen, out = {}, []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        out.append(name if count == 0 else f"{name}_{count}")
    return out


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
        return [f"states_{i}" for i in range(_cell_num_states(self.cell))]

    @property
    def non_weight_state(self):
        return tuple(self._state_keys())

    def _num_state_outputs(self):
        if isinstance(self.cell, StackedRNNCells):
            return len(self.cell.cells)
        return _cell_num_states(self.cell)

    def _structure_states(self, flat):
        group = getattr(self.cell, "_group_states", None)
        return group(flat) if group is not None else list(flat)

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
        params = _with_prefix(cell_vars["params"], self._cell_prefix())
        state = {}
        if self.stateful:
            shapes = _cell_state_shapes(self.cell, step_shape)
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
        expected = _cell_num_states(self.cell)
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
        return [jnp.zeros(s, x.dtype) for s in _cell_state_shapes(self.cell, step_shape)]

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
        cell_params = _strip_prefix(variables["params"], self._cell_prefix())
        masks = None
        if training and _cell_uses_dropout(self.cell):
            _needs_key(self, key)
            masks = _cell_dropout_masks(self.cell, key, step_shape, xs.dtype)

        def step(x_t, s):
            return _cell_step(self.cell, cell_params, x_t, s, masks, training)

        xp = _cell_project(self.cell, cell_params, xs, masks)
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
            return [output] + list(self._structure_states(final_states)), new_state
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

    def _per_weight(self, suffix, key):
        prefix = self._cell_prefix()
        if not key.startswith(prefix):
            return None
        return self.cell._per_weight(suffix, key[len(prefix):])

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
        return [jnp.zeros(s, x.dtype) for s in _cell_state_shapes(self.cell, step_shape)]

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
            config["cell"] = _deserialize_layer(config["cell"], custom_objects)
        return super().from_config(config)


# ---------------------------------------------------------------------------- layers
_CELL_CONFIG_SKIP = ("name", "trainable", "dtype", "batch_input_shape")
_LAYER_ONLY_KWARGS = ("name", "trainable", "dtype", "input_shape", "batch_input_shape",
                      "batch_shape", "batch_size", "input_dim", "input_length", "weights",
                      "zero_output_for_mask", "autocast")


class _BuiltinRNN(RNN):
    """An RNN whose cell the layer makes itself from its own arguments (SimpleRNN, LSTM,
    GRU): the config is flat, and the cell's attributes read through the layer."""

    _cell_class = None
    _cell_name = None

    def __init__(self, units, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, time_major=False, activity_regularizer=None,
                 use_cudnn="auto", **kwargs):
        layer_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in _LAYER_ONLY_KWARGS}
        cell = self._cell_class(units, name=self._cell_name, dtype=layer_kwargs.get("dtype"),
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


def _delegate_to_cell(cls, names):
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


_delegate_to_cell(SimpleRNN, _COMMON_CELL_ATTRS)
_delegate_to_cell(LSTM, _COMMON_CELL_ATTRS + ("recurrent_activation", "unit_forget_bias",
                                              "implementation"))
_delegate_to_cell(GRU, _COMMON_CELL_ATTRS + ("recurrent_activation", "reset_after",
                                             "implementation"))
