"""Convolutional LSTMs (ConvLSTM1D, ConvLSTM2D, ConvLSTM3D): an LSTM whose input and
recurrent transformations are convolutions, over `(batch, time, *spatial, channels)` inputs
(`(batch, time, channels, *spatial)` with channels_first).

Weights as tf.keras 2 names them (its ConvRNN builds the cell without a name scope):
`conv_lst_m2d/kernel:0` of shape `kernel_size + (channels, 4 * filters)`,
`conv_lst_m2d/recurrent_kernel:0` of shape `kernel_size + (filters, 4 * filters)` and
`conv_lst_m2d/bias:0` of shape `(4 * filters,)`; gates in the LSTM order i, f, c, o. The
recurrent convolution always uses stride 1 and 'same' padding.
"""
import jax.numpy as jnp

from jkeras import activations, regularizers
from jkeras.engine.input_spec import InputSpec
from jkeras.layers import arguments
from jkeras.layers.recurrent import RNN, delegate_to_cell, make_cell
from jkeras.layers.recurrent_cells import GatedCell, lstm_update
from jkeras.layers.rnn_cell import dropout_masks, masks_of
from jkeras.layers.convolution_base import convolve
from jkeras.utils import conv_utils

__all__ = ["ConvLSTMCell", "ConvLSTM1DCell", "ConvLSTM2DCell", "ConvLSTM3DCell",
           "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"]


class ConvLSTMCell(GatedCell):
    """One step of a convolutional LSTM of rank 1, 2 or 3; states `[h, c]`."""

    _gate_count = 4

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, activation="tanh",
                 recurrent_activation="hard_sigmoid", use_bias=True, unit_forget_bias=True,
                 **kwargs):
        owner = arguments.owner_of(self)
        if rank not in (1, 2, 3):
            raise ValueError(f"{owner}: expected `rank` to be 1, 2 or 3. Received: "
                             f"rank={rank!r}")
        self.rank = rank
        self.filters = arguments.positive_int(filters, "filters", owner)
        self.kernel_size = arguments.int_tuple(kernel_size, rank, "kernel_size", owner)
        self.strides = arguments.int_tuple(strides, rank, "strides", owner)
        self.padding = arguments.padding(padding, owner)
        self.data_format = arguments.data_format(data_format, owner)
        self.dilation_rate = arguments.int_tuple(dilation_rate, rank, "dilation_rate", owner)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{owner}: `strides > 1` is not compatible with `dilation_rate > 1`. "
                f"Received: strides={self.strides}, dilation_rate={self.dilation_rate}")
        self.recurrent_activation = arguments.activation(recurrent_activation, owner,
                                                         "recurrent_activation")
        super().__init__(activation=activation, use_bias=use_bias, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [self.filters, self.filters]
        self.output_size = self.filters

    # ------------------------------------------------------------------ shapes
    def _channel_axis(self):
        return conv_utils.channel_axis(self.data_format)

    def _spatial(self, shape):
        return tuple(shape[1:-1]) if self.data_format == "channels_last" else tuple(shape[2:])

    def state_shapes(self, step_shape):
        spatial = tuple(
            conv_utils.conv_output_length(n, k, self.padding, s, d)
            for n, k, s, d in zip(self._spatial(step_shape), self.kernel_size, self.strides,
                                  self.dilation_rate))
        if self.data_format == "channels_last":
            shape = (step_shape[0],) + spatial + (self.filters,)
        else:
            shape = (step_shape[0], self.filters) + spatial
        return [shape, shape]

    # ------------------------------------------------------------------ pure pieces
    def init(self, key, input_shape):
        channels = input_shape[self._channel_axis()]
        if channels is None:
            raise ValueError(
                f"{type(self).__name__} needs a known channel dimension. Received "
                f"input_shape={tuple(input_shape)}")
        width = 4 * self.filters
        return {"params": self._gate_weights(key, self.kernel_size + (channels, width),
                                             self.kernel_size + (self.filters, width),
                                             (width,)),
                "state": {}}

    def dropout_masks(self, key, step_shape, dtype):
        return dropout_masks(key, self.dropout, self.recurrent_dropout, tuple(step_shape),
                             self.state_shapes(step_shape)[0], 4, dtype)

    def _input_conv(self, x, kernel):
        return convolve(x, kernel, self.strides, self.padding, self.dilation_rate,
                        self.data_format)

    def _recurrent_conv(self, h, kernel):
        ones = (1,) * self.rank
        return convolve(h, kernel, ones, "same", ones, self.data_format)

    def _gated(self, conv, x, kernel, masks, reshape=lambda t: t):
        """`conv(reshape(x), kernel)`, or one convolution of the masked input per gate
        block of the kernel's outputs."""
        if masks is None:
            return conv(reshape(x), kernel)
        blocks = jnp.split(kernel, len(masks), axis=-1)
        return jnp.concatenate([conv(reshape(x * m), k) for m, k in zip(masks, blocks)],
                               axis=self._channel_axis())

    def project(self, params, x, masks):
        """Input convolutions of every gate; `x` may carry leading (time) dimensions,
        merged into the batch axis for the convolution."""
        lead = x.shape[:x.ndim - self.rank - 1]
        z = self._gated(self._input_conv, x, params["kernel"], masks_of(masks, "input"),
                        lambda t: jnp.reshape(t, (-1,) + t.shape[len(lead):]))
        if self.use_bias:
            bias = params["bias"]
            if self.data_format == "channels_first":
                bias = jnp.reshape(bias, (-1,) + (1,) * self.rank)
            z = z + bias
        return jnp.reshape(z, lead + z.shape[1:])

    def step(self, params, xp, states, masks, training=False):
        h_prev, c_prev = states[0], states[1]
        rec = self._gated(self._recurrent_conv, h_prev, params["recurrent_kernel"],
                          masks_of(masks, "recurrent"))
        h, c = lstm_update(self, xp + rec, c_prev, axis=self._channel_axis())
        return h, [h, c]

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
        **cell._options_config(("initializer",)),
        "unit_forget_bias": cell.unit_forget_bias,
        **cell._options_config(("regularizer", "constraint")),
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
        cell = make_cell(
            self, ConvLSTMCell, self._rank, filters, kernel_size, strides=strides, padding=padding,
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


delegate_to_cell(_ConvLSTM, ("filters", "kernel_size", "strides", "padding", "data_format",
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
