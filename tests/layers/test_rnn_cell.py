"""The RNN cell protocol (jkeras/layers/rnn_cell.py): a cell written only as `state_size` +
`step` runs under `RNN`, alone and stacked with a Keras-style `call(inputs, states)` cell;
outputs checked against NumPy loops."""
import numpy as np

import jkeras
from jkeras.layers.rnn_cell import RNNCell, as_cell

L = jkeras.layers


class Accumulate(RNNCell):
    """h_t = h_{t-1} + x_t (no weights)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.state_size = self.output_size = units

    def step(self, params, xp, states, masks, training=False):
        h = states[0] + xp
        return h, [h]


class Doubling(L.Layer):
    """A Keras-style cell: `call(inputs, states)` returns `(2 * x + h, [2 * x + h])`."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.state_size = units

    def call(self, inputs, states):
        h = 2.0 * inputs + states[0]
        return h, [h]


def test_protocol_cell_runs_under_rnn(rng):
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    out = L.RNN(Accumulate(3), return_sequences=True)(x)
    np.testing.assert_allclose(np.asarray(out), np.cumsum(x, axis=1), rtol=1e-5, atol=1e-6)


def test_keras_style_cell_gets_the_protocol_through_a_view():
    cell = Doubling(3)
    view = as_cell(cell)
    assert view is not cell and view.num_states == 1 and view.output_size == 3
    assert view.state_shapes((4, 3)) == [(4, 3)]
    assert as_cell(Accumulate(2)).num_states == 1


def test_stack_of_protocol_and_keras_style_cells(rng):
    x = rng.normal(size=(2, 4, 3)).astype("float32")
    out, h1, h2 = L.RNN([Accumulate(3), Doubling(3)], return_state=True)(x)
    acc, dbl = np.zeros((2, 3)), np.zeros((2, 3))
    for t in range(4):
        acc = acc + x[:, t]
        dbl = 2.0 * acc + dbl
    np.testing.assert_allclose(np.asarray(h1), acc, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(out), dbl, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(h2), dbl, rtol=1e-5, atol=1e-5)
