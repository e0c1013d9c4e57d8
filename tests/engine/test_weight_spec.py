"""Weight specs (jkeras/engine/weight_spec.py): each layer's weights declared once, found by
name (also through RNNs, stacks of cells, wrappers and attention projections), and the
penalties and constraints they carry applied to the right arrays (NumPy references)."""
import numpy as np
import pytest

import jkeras
from jkeras import constraints, regularizers
from jkeras.engine.weight_spec import WeightSpec

L = jkeras.layers


def _l2(x, factor):
    return factor * float(np.sum(np.square(x)))


def _l1(x, factor):
    return factor * float(np.sum(np.abs(x)))


def test_dense_declares_kernel_and_bias():
    layer = L.Dense(3, kernel_regularizer=regularizers.l2(0.1), bias_constraint="non_neg")
    layer.build_from_shape((None, 4))
    kernel, bias = layer.weight_spec("kernel"), layer.weight_spec("bias")
    assert isinstance(kernel, WeightSpec) and kernel.shape == (4, 3) and bias.shape == (3,)
    assert layer.kernel_regularizer is kernel.regularizer
    assert isinstance(bias.constraint, constraints.NonNeg)
    assert layer.weight_spec("nothing") is None


def test_setting_an_option_attribute_changes_the_penalty(rng):
    layer = L.Dense(2)
    layer.build_from_shape((None, 3))
    params = layer.variables_tree()["params"]
    assert not layer.has_regularizers()
    layer.kernel_regularizer = "l2"        # a name resolves, as in the constructor
    assert layer.has_regularizers()
    expected = _l2(params["kernel"], 0.01)
    np.testing.assert_allclose(float(layer.regularization_loss(params)), expected, rtol=1e-6)


def test_lstm_penalties_reach_the_cell_weights_by_their_nested_names():
    layer = L.LSTM(3, kernel_regularizer=regularizers.l2(0.1),
                   recurrent_regularizer=regularizers.l1(0.2))
    layer.build_from_shape((None, 5, 4))
    params = layer.variables_tree()["params"]
    assert set(params) == {"lstm_cell/kernel", "lstm_cell/recurrent_kernel", "lstm_cell/bias"}
    expected = _l2(params["lstm_cell/kernel"], 0.1) + \
        _l1(params["lstm_cell/recurrent_kernel"], 0.2)
    np.testing.assert_allclose(float(layer.regularization_loss(params)), expected, rtol=1e-5)
    assert layer.weight_spec("lstm_cell/recurrent_kernel").prefix == "recurrent"


def test_bidirectional_and_stacked_cells_find_each_inner_spec():
    cells = [L.GRUCell(2, bias_constraint=constraints.NonNeg()), L.SimpleRNNCell(3)]
    layer = L.Bidirectional(L.RNN(cells))
    layer.build_from_shape((None, 4, 3))
    names = list(layer.variables_tree()["params"])
    constrained = [n for n in names if layer.weight_spec(n).constraint is not None]
    assert constrained and all(n.endswith("gru_cell/bias") for n in constrained)
    assert len(constrained) == 2                        # forward and backward copies
    params = layer.variables_tree()["params"]
    out = layer.apply_constraints({k: v - 10.0 for k, v in params.items()})
    for name in names:
        value = np.asarray(params[name]) - 10.0
        want = np.maximum(value, 0.0) if name in constrained else value
        np.testing.assert_allclose(np.asarray(out[name]), want, rtol=1e-6)


def test_attention_projections_share_the_kernel_spec():
    layer = L.MultiHeadAttention(2, 3, kernel_constraint=constraints.MaxNorm(0.5))
    layer.build_from_shape([(None, 4, 6), (None, 4, 6)])
    kernels = [n for n in layer.variables_tree()["params"] if n.endswith("/kernel")]
    assert len(kernels) == 4
    assert all(layer.weight_spec(n) is layer.weight_spec("kernel") for n in kernels)


def test_batch_normalization_moving_statistics_are_state_specs():
    layer = L.BatchNormalization(moving_variance_initializer="zeros")
    layer.build_from_shape((None, 3))
    spec = layer.weight_spec("moving_variance")
    assert spec.trainable is False and spec.options == ("initializer",)
    np.testing.assert_array_equal(layer.variables_tree()["state"]["moving_variance"],
                                  np.zeros(3))
    assert "moving_variance_regularizer" not in layer.get_config()


def test_add_weight_in_a_keras_style_layer_declares_a_spec():
    class Scale(L.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(name="w", shape=(input_shape[-1],), initializer="ones",
                                     regularizer=regularizers.l1(0.5))

        def call(self, inputs):
            return inputs * self.w

    layer = Scale()
    layer.build_from_shape((None, 4))
    spec = layer.weight_spec("w")
    assert spec.shape == (4,) and isinstance(spec.regularizer, regularizers.L1)
    params = layer.variables_tree()["params"]
    assert float(layer.regularization_loss(params)) == pytest.approx(_l1(np.ones(4), 0.5))
