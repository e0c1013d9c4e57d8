"""Convolutional LSTMs (ConvLSTM1D, ConvLSTM2D, ConvLSTM3D): an LSTM whose input and
recurrent transformations are convolutions, over `(batch, time, *spatial, channels)` inputs
(`(batch, time, channels, *spatial)` with channels_first).

Weights as tf.keras 2 names them (its ConvRNN builds the cell without a name scope):
`conv_lst_m2d/kernel:0` of shape `kernel_size + (channels, 4 * filters)`,
`conv_lst_m2d/recurrent_kernel:0` of shape `kernel_size + (filters, 4 * filters)` and
`conv_lst_m2d/bias:0` of shape `(4 * filters,)`; gates in the LSTM order i, f, c, o. The
recurrent convolution always uses stride 1 and 'same' padding.
"""
import jax
import jax.numpy as jnp

from jkeras import _config, activations, constraints, initializers, regularizers
from jkeras.engine.base_layer import Layer
from jkeras.engine.input_spec import InputSpec
from jkeras.layers.recurrent import RNN, _gate_masks, _masks_of, _needs_key, _positive_int, \
    _rate
from jkeras.utils import conv_utils
from jkeras.layers.autocast import autocast


def _conv(x, kernel, strides, padding, dilation, data_format):
    """An N-d convolution of `x` (batch, ...) with a Keras kernel (spatial..., in, out)."""
    rank = kernel.ndim - 2
    return jax.lax.conv_general_dilated(
        x, kernel, window_strides=strides, padding=padding.upper(),
        rhs_dilation=dilation,
        dimension_numbers=conv_utils.dimension_numbers(rank, data_format))


def _gated_conv(x, kernel, masks, conv):
    """`conv(x, kernel)`, or one masked convolution per gate block of the kernel's outputs."""
    if masks is None:
        return conv(x, kernel)
    blocks = jnp.split(kernel, len(masks), axis=-1)
    return [conv(x * m, k) for m, k in zip(masks, blocks)]


class ConvLSTMCell(Layer):
    """One step of a convolutional LSTM of rank 1, 2 or 3; states `[h, c]`."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, activation="tanh",
                 recurrent_activation="hard_sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if rank not in (1, 2, 3):
            raise ValueError(f"ConvLSTM supports rank 1, 2 or 3. Received: rank={rank}")
        self.rank = rank
        self.filters = _positive_int(filters, "filters", type(self).__name__)
        self.kernel_size = conv_utils.normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = conv_utils.normalize_tuple(strides, rank, "strides")
        self.padding = conv_utils.normalize_padding(padding)
        self.data_format = _config.normalize_data_format(data_format)
        self.dilation_rate = conv_utils.normalize_tuple(dilation_rate, rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "`strides > 1` is not compatible with `dilation_rate > 1`. Received: "
                f"strides={self.strides}, dilation_rate={self.dilation_rate}")
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _rate(dropout)
        self.recurrent_dropout = _rate(recurrent_dropout)
        self.seed = seed
        self.state_size = [self.filters, self.filters]
        self.output_size = self.filters

    # ------------------------------------------------------------------ shapes
    def _channel_axis(self):
        return conv_utils.channel_axis(self.data_format)

    def _spatial(self, shape):
        return tuple(shape[1:-1]) if self.data_format == "channels_last" else tuple(shape[2:])

    def _state_shapes(self, step_shape):
        spatial = tuple(
            conv_utils.conv_output_length(n, k, self.padding, s, d)
            for n, k, s, d in zip(self._spatial(step_shape), self.kernel_size, self.strides,
                                  self.dilation_rate))
        if self.data_format == "channels_last":
            shape = (step_shape[0],) + spatial + (self.filters,)
        else:
            shape = (step_shape[0], self.filters) + spatial
        return [shape, shape]

    @property
    def _uses_dropout(self):
        return 0.0 < self.dropout < 1.0 or 0.0 < self.recurrent_dropout < 1.0

    # ------------------------------------------------------------------ pure pieces
    def init(self, key, input_shape):
        channels = input_shape[self._channel_axis()]
        if channels is None:
            raise ValueError(
                f"{type(self).__name__} needs a known channel dimension. Received "
                f"input_shape={tuple(input_shape)}")
        k_kernel, k_recurrent, k_bias = jax.random.split(key, 3)
        width = 4 * self.filters
        params = {
            "kernel": initializers.call(self.kernel_initializer,
                                        self.kernel_size + (channels, width), self.dtype,
                                        k_kernel),
            "recurrent_kernel": initializers.call(self.recurrent_initializer,
                                                  self.kernel_size + (self.filters, width),
                                                  self.dtype, k_recurrent)}
        if self.use_bias:
            params["bias"] = self._init_bias(k_bias)
        return {"params": params, "state": {}}

    def _init_bias(self, key):
        if not self.unit_forget_bias:
            return initializers.call(self.bias_initializer, (4 * self.filters,), self.dtype,
                                     key)
        k_input, k_rest = jax.random.split(key)
        f = self.filters
        return jnp.concatenate([
            initializers.call(self.bias_initializer, (f,), self.dtype, k_input),
            jnp.ones((f,), self.dtype),
            initializers.call(self.bias_initializer, (2 * f,), self.dtype, k_rest)])

    def _dropout_masks(self, key, step_shape, dtype):
        return _gate_masks(key, self.dropout, self.recurrent_dropout, tuple(step_shape),
                           self._state_shapes(step_shape)[0], 4, dtype)

    def _input_conv(self, x, kernel):
        return _conv(x, kernel, self.strides, self.padding, self.dilation_rate,
                     self.data_format)

    def _recurrent_conv(self, h, kernel):
        ones = (1,) * self.rank
        return _conv(h, kernel, ones, "same", ones, self.data_format)

    def _project(self, params, x, masks):
        """Input convolutions of every gate; `x` may carry leading (time) dimensions."""
        step_rank = self.rank + 2
        lead = x.shape[:x.ndim - step_rank + 1]
        in_masks = _masks_of(masks, "input")
        if in_masks is not None:
            x_parts = [x * m for m in in_masks]
        else:
            x_parts = [x]
        merged = [jnp.reshape(p, (-1,) + p.shape[x.ndim - step_rank + 1:]) for p in x_parts]
        kernel = params["kernel"]
        if in_masks is None:
            z = self._input_conv(merged[0], kernel)
        else:
            blocks = jnp.split(kernel, 4, axis=-1)
            z = jnp.concatenate([self._input_conv(p, k) for p, k in zip(merged, blocks)],
                                axis=self._channel_axis())
        if self.use_bias:
            bias = params["bias"]
            if self.data_format == "channels_first":
                bias = jnp.reshape(bias, (-1,) + (1,) * self.rank)
            z = z + bias
        return jnp.reshape(z, lead + z.shape[1:])

    def _recurrent_step(self, params, xp, states, masks, training=False):
        h_prev, c_prev = states[0], states[1]
        rec = _gated_conv(h_prev, params["recurrent_kernel"], _masks_of(masks, "recurrent"),
                          self._recurrent_conv)
        axis = self._channel_axis()
        if isinstance(rec, list):
            rec = jnp.concatenate(rec, axis=axis)
        z_i, z_f, z_c, z_o = jnp.split(xp + rec, 4, axis=axis)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = f * c_prev + i * self.activation(z_c)
        o = self.recurrent_activation(z_o)
        h = o * self.activation(c)
        return h, [h, c]

    @autocast
    def apply(self, variables, inputs, states=None, *, training=False, key=None, mask=None,
              **kwargs):
        params = variables["params"]
        x = jnp.asarray(inputs)
        if states is None:
            states = [jnp.zeros(s, x.dtype) for s in self._state_shapes(x.shape)]
        masks = None
        if training and self._uses_dropout:
            _needs_key(self, key)
            masks = self._dropout_masks(key, x.shape, x.dtype)
        output, new_states = self._recurrent_step(params, self._project(params, x, masks),
                                                  list(states), masks)
        return (output, new_states), variables["state"]

    def get_config(self):
        config = super().get_config()
        config.update(_conv_lstm_arguments(self))
        return config


def _conv_lstm_arguments(cell):
    return {
        "filters": cell.filters,
        "kernel_size": cell.kernel_size,
        "strides": cell.strides,
        "padding": cell.padding,
        "data_format": cell.data_format,
        "dilation_rate": cell.dilation_rate,
        "activation": activations.serialize(cell.activation),
        "recurrent_activation": activations.serialize(cell.recurrent_activation),
        "use_bias": cell.use_bias,
        "kernel_initializer": initializers.serialize(cell.kernel_initializer),
        "recurrent_initializer": initializers.serialize(cell.recurrent_initializer),
        "bias_initializer": initializers.serialize(cell.bias_initializer),
        "unit_forget_bias": cell.unit_forget_bias,
        "kernel_regularizer": regularizers.serialize(cell.kernel_regularizer),
        "recurrent_regularizer": regularizers.serialize(cell.recurrent_regularizer),
        "bias_regularizer": regularizers.serialize(cell.bias_regularizer),
        "kernel_constraint": constraints.serialize(cell.kernel_constraint),
        "recurrent_constraint": constraints.serialize(cell.recurrent_constraint),
        "bias_constraint": constraints.serialize(cell.bias_constraint),
        "dropout": cell.dropout,
        "recurrent_dropout": cell.recurrent_dropout,
    }


class _RankedCell(ConvLSTMCell):
    _rank = None

    def __init__(self, filters, kernel_size, **kwargs):
        kwargs.pop("rank", None)
        super().__init__(self._rank, filters, kernel_size, **kwargs)


class ConvLSTM1DCell(_RankedCell):
    """A ConvLSTM1D step."""
    _rank = 1


class ConvLSTM2DCell(_RankedCell):
    """A ConvLSTM2D step (tf.keras 2's `ConvLSTM2DCell`)."""
    _rank = 2


class ConvLSTM3DCell(_RankedCell):
    """A ConvLSTM3D step."""
    _rank = 3


class _ConvLSTM(RNN):
    """The RNN over a ConvLSTM cell; the config is flat, as tf.keras 2 writes it."""

    _rank = None
    _cell_scoped_weights = False

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="hard_sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, unroll=False, **kwargs):
        if unroll:
            raise TypeError(
                f"{type(self).__name__} cannot be unrolled. Received: unroll={unroll!r}")
        kwargs.pop("time_major", None)
        cell = ConvLSTMCell(
            self._rank, filters, kernel_size, strides=strides, padding=padding,
            data_format=data_format, dilation_rate=dilation_rate, activation=activation,
            recurrent_activation=recurrent_activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
            name="conv_lstm_cell", dtype=kwargs.get("dtype"))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.input_spec = InputSpec(ndim=self._rank + 3)

    def get_config(self):
        config = super().get_config()
        del config["cell"]
        config.pop("time_major", None)
        config.update(_conv_lstm_arguments(self.cell))
        config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config


def _delegate(cls, names):
    for attr in names:
        setattr(cls, attr, property(lambda self, _a=attr: getattr(self.cell, _a)))


_delegate(_ConvLSTM, ("filters", "kernel_size", "strides", "padding", "data_format",
                      "dilation_rate", "activation", "recurrent_activation", "use_bias",
                      "kernel_initializer", "recurrent_initializer", "bias_initializer",
                      "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
                      "bias_regularizer", "kernel_constraint", "recurrent_constraint",
                      "bias_constraint", "dropout", "recurrent_dropout"))


class ConvLSTM1D(_ConvLSTM):
    """Convolutional LSTM over `(batch, time, steps, channels)` inputs."""
    _rank = 1


class ConvLSTM2D(_ConvLSTM):
    """Convolutional LSTM over `(batch, time, rows, cols, channels)` inputs."""
    _rank = 2


class ConvLSTM3D(_ConvLSTM):
    """Convolutional LSTM over `(batch, time, dim1, dim2, dim3, channels)` inputs."""
    _rank = 3
