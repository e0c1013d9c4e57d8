"""The built-in RNN cells: SimpleRNNCell, LSTMCell, GRUCell and StackedRNNCells, on the
`RNNCell` protocol (layers/rnn_cell.py).

`GatedCell` holds what these cells and the ConvLSTM cell share: the `kernel`,
`recurrent_kernel` and `bias` weights of `_gate_count` gates, the activation, input and
recurrent dropout (rates clipped into [0, 1] as Keras 2 does), and their config entries.
Weight order is Keras's: kernel, recurrent_kernel, bias.
"""
import jax
import jax.numpy as jnp

from jkeras import activations, initializers
from jkeras.engine.base_layer import Layer
from jkeras.engine.weight_spec import declare_weight, options_config, weight_options
from jkeras.layers import arguments
from jkeras.layers.nested_weights import strip_prefix, unique_names, with_prefix
from jkeras.layers.rnn_cell import RNNCell, as_cell, dropout_masks, gated_matmul, masks_of
from jkeras.layers.serialization import deserialize as deserialize_layer
from jkeras.serialization.serialize import serialize_keras_object

__all__ = ["GatedCell", "SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells",
           "lstm_update"]

_WEIGHTS = ("kernel", "recurrent_kernel", "bias")


class _UnitForgetBias:
    """Keras's `unit_forget_bias`: the bias initializer's values with the forget gate's
    block (the second of four) set to ones."""

    def __init__(self, initializer):
        self.initializer = initializer

    def __call__(self, shape, dtype=None, key=None):
        units = shape[0] // 4
        k_input, k_rest = jax.random.split(key)
        return jnp.concatenate([
            initializers.call(self.initializer, (units,), dtype, k_input),
            jnp.ones((units,), dtype),
            initializers.call(self.initializer, (2 * units,), dtype, k_rest)])


def lstm_update(cell, z, c_prev, axis=-1):
    """The LSTM state update from gate pre-activations `z` (gates i, f, c, o along
    `axis`): `(h, c)`."""
    z_i, z_f, z_c, z_o = jnp.split(z, 4, axis=axis)
    i = cell.recurrent_activation(z_i)
    f = cell.recurrent_activation(z_f)
    c = f * c_prev + i * cell.activation(z_c)
    h = cell.recurrent_activation(z_o) * cell.activation(c)
    return h, c


@weight_options(kernel="kernel", recurrent="recurrent_kernel", bias="bias")
class GatedCell(RNNCell):
    """Weights, activation and dropout of a cell with `_gate_count` gates."""

    _gate_count = 1

    def __init__(self, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        owner = arguments.owner_of(self)
        self.dropout = arguments.clipped_rate(dropout, "dropout", owner)
        self.recurrent_dropout = arguments.clipped_rate(recurrent_dropout,
                                                        "recurrent_dropout", owner)
        self.activation = arguments.activation(activation, owner)
        declare_weight(self, "kernel", kernel_initializer, kernel_regularizer,
                       kernel_constraint)
        declare_weight(self, "recurrent_kernel", recurrent_initializer, recurrent_regularizer,
                       recurrent_constraint, prefix="recurrent")
        declare_weight(self, "bias", bias_initializer, bias_regularizer, bias_constraint)
        super().__init__(**kwargs)
        self.use_bias = bool(use_bias)
        self.seed = seed

    @property
    def uses_dropout(self):
        return 0.0 < self.dropout < 1.0 or 0.0 < self.recurrent_dropout < 1.0

    def _gate_weights(self, key, kernel_shape, recurrent_shape, bias_shape):
        """`{"kernel", "recurrent_kernel"(, "bias")}` from the specs."""
        specs = self._weight_specs
        k_kernel, k_recurrent, k_bias = jax.random.split(key, 3)
        params = {"kernel": specs["kernel"].create(k_kernel, kernel_shape, self.dtype),
                  "recurrent_kernel": specs["recurrent_kernel"].create(
                      k_recurrent, recurrent_shape, self.dtype)}
        if self.use_bias:
            forget = getattr(self, "unit_forget_bias", False)
            params["bias"] = specs["bias"].create(
                k_bias, bias_shape, self.dtype,
                _UnitForgetBias(specs["bias"].initializer) if forget else None)
        return params

    def _options_config(self, options=("initializer", "regularizer", "constraint")):
        return options_config(self, *_WEIGHTS, options=options)


class _DenseCell(GatedCell):
    """A cell whose transformations are matrix products: SimpleRNN, LSTM and GRU cells."""

    def __init__(self, units, activation="tanh", use_bias=True, **kwargs):
        units = arguments.positive_int(units, "units", arguments.owner_of(self))
        super().__init__(activation=activation, use_bias=use_bias, **kwargs)
        self.units = units
        self.output_size = self.units

    def state_shapes(self, step_shape):
        return [(step_shape[0], self.units)] * self.num_states

    def _bias_shape(self):
        return (self._gate_count * self.units,)

    def init(self, key, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"{type(self).__name__} needs a known last input dimension. Received "
                f"input_shape={tuple(input_shape)}")
        width = self._gate_count * self.units
        return {"params": self._gate_weights(key, (input_dim, width), (self.units, width),
                                             self._bias_shape()),
                "state": {}}

    def dropout_masks(self, key, step_shape, dtype):
        return dropout_masks(key, self.dropout, self.recurrent_dropout, tuple(step_shape),
                             (step_shape[0], self.units), self._gate_count, dtype)

    def _input_bias(self, params):
        return params["bias"] if self.use_bias else None

    def project(self, params, x, masks):
        """The input transformation of every gate (any leading dimensions)."""
        z = gated_matmul(x, params["kernel"], masks_of(masks, "input"))
        bias = self._input_bias(params)
        return z if bias is None else z + bias

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **self._options_config(),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
        })
        return config


class SimpleRNNCell(_DenseCell):
    """`h = activation(x @ kernel + h_prev @ recurrent_kernel + bias)`."""

    def __init__(self, units, activation="tanh", use_bias=True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.state_size = self.units

    def step(self, params, xp, states, masks, training=False):
        recurrent = gated_matmul(states[0], params["recurrent_kernel"],
                                 masks_of(masks, "recurrent"))
        h = self.activation(xp + recurrent)
        return h, [h]


class LSTMCell(_DenseCell):
    """The LSTM step; gates in Keras's order i, f, c, o; states `[h, c]`."""

    _gate_count = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, unit_forget_bias=True, implementation=2, **kwargs):
        recurrent_activation = arguments.activation(
            recurrent_activation, arguments.owner_of(self), "recurrent_activation")
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = recurrent_activation
        self.unit_forget_bias = bool(unit_forget_bias)
        self.implementation = implementation
        self.state_size = [self.units, self.units]

    def step(self, params, xp, states, masks, training=False):
        h_prev, c_prev = states[0], states[1]
        z = xp + gated_matmul(h_prev, params["recurrent_kernel"],
                              masks_of(masks, "recurrent"))
        h, c = lstm_update(self, z, c_prev)
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
        recurrent_activation = arguments.activation(
            recurrent_activation, arguments.owner_of(self), "recurrent_activation")
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = recurrent_activation
        self.reset_after = bool(reset_after)
        self.implementation = implementation
        self.state_size = self.units

    def _bias_shape(self):
        shape = (3 * self.units,)
        return (2,) + shape if self.reset_after else shape

    def _input_bias(self, params):
        if not self.use_bias:
            return None
        return params["bias"][0] if self.reset_after else params["bias"]

    def step(self, params, xp, states, masks, training=False):
        h_prev = states[0]
        kernel = params["recurrent_kernel"]
        rec_masks = masks_of(masks, "recurrent")
        x_z, x_r, x_h = jnp.split(xp, 3, axis=-1)
        if self.reset_after:
            recurrent = gated_matmul(h_prev, kernel, rec_masks)
            if self.use_bias:
                recurrent = recurrent + params["bias"][1]
            r_z, r_r, r_h = jnp.split(recurrent, 3, axis=-1)
            z = self.recurrent_activation(x_z + r_z)
            r = self.recurrent_activation(x_r + r_r)
            candidate = self.activation(x_h + r * r_h)
        else:
            units = self.units
            recurrent = gated_matmul(h_prev, kernel[:, :2 * units],
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


class StackedRNNCells(RNNCell):
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
        self._protocols = [as_cell(cell) for cell in cells]
        self._cell_keys = unique_names([cell.name for cell in cells])

    @property
    def state_size(self):
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self):
        return self._protocols[-1].output_size

    @property
    def num_states(self):
        return sum(p.num_states for p in self._protocols)

    @property
    def uses_dropout(self):
        return any(p.uses_dropout for p in self._protocols)

    def _step_shapes(self, step_shape):
        shapes = []
        for protocol in self._protocols:
            shapes.append(tuple(step_shape))
            step_shape = (step_shape[0], protocol.output_size)
        return shapes

    def init(self, key, input_shape):
        params = {}
        keys = jax.random.split(key, len(self.cells))
        for cell, name, k, shape in zip(self.cells, self._cell_keys, keys,
                                        self._step_shapes(input_shape)):
            params.update(with_prefix(cell.init(k, shape)["params"], name + "/"))
        return {"params": params, "state": {}}

    def _cell_params(self, params, index):
        return strip_prefix(params, self._cell_keys[index] + "/")

    def state_shapes(self, step_shape):
        return [shape for p, cell_shape in zip(self._protocols, self._step_shapes(step_shape))
                for shape in p.state_shapes(cell_shape)]

    def dropout_masks(self, key, step_shape, dtype):
        keys = jax.random.split(key, len(self.cells))
        return [p.dropout_masks(k, shape, dtype) if p.uses_dropout else None
                for p, k, shape in zip(self._protocols, keys, self._step_shapes(step_shape))]

    def project(self, params, x, masks):
        return self._protocols[0].project(self._cell_params(params, 0), x,
                                          None if masks is None else masks[0])

    def step(self, params, xp, states, masks, training=False):
        new_states, start = [], 0
        for index, protocol in enumerate(self._protocols):
            count = protocol.num_states
            cell_params = self._cell_params(params, index)
            cell_masks = None if masks is None else masks[index]
            if index > 0:
                xp = protocol.project(cell_params, xp, cell_masks)
            xp, cell_states = protocol.step(cell_params, xp, states[start:start + count],
                                            cell_masks, training)
            new_states.extend(cell_states)
            start += count
        return xp, new_states

    def group_states(self, flat):
        """The flat list of states as one entry per cell (a list for multi-state cells)."""
        grouped, start = [], 0
        for cell, protocol in zip(self.cells, self._protocols):
            count = protocol.num_states
            part = list(flat[start:start + count])
            grouped.append(part if isinstance(cell.state_size, (list, tuple)) else part[0])
            start += count
        return grouped

    def weight_spec(self, name):
        for cell, key in zip(self.cells, self._cell_keys):
            if name.startswith(key + "/"):
                return cell.weight_spec(name[len(key) + 1:])
        return None

    def get_config(self):
        config = super().get_config()
        config["cells"] = [serialize_keras_object(cell) for cell in self.cells]
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cells = [deserialize_layer(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)
