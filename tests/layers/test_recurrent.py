"""Recurrent layers against real Keras 3 (weights copied) and NumPy references."""
import jax
import numpy as np
import pytest

from jkeras import regularizers
from jkeras.layers import recurrent
from jkeras.layers.recurrent import (GRU, GRUCell, LSTM, LSTMCell, RNN, SimpleRNN,
                                     SimpleRNNCell, StackedRNNCells)
from tests.conftest import TOL, assert_all_close, assert_config_like_keras

LAYERS = {"SimpleRNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}
MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [0, 0, 1, 1, 1]], bool)


def _inputs(rng, shape=(3, 5, 4)):
    return rng.normal(size=shape).astype("float32")


def _keras2_defaults(name, kwargs):
    """Keras 3 arguments for the layer jkeras builds from `kwargs`: GRU's reset_after
    defaults to False in jkeras, as in Keras 2.3 (Keras 3: True)."""
    return {"reset_after": False, **kwargs} if name in ("GRU", "GRUCell") else kwargs


def _pair(keras, name, x_shape, **kwargs):
    """The Keras layer built on `x_shape` and ours with its weights."""
    theirs = getattr(keras.layers, name)(**_keras2_defaults(name, kwargs))
    theirs.build(x_shape)
    ours = LAYERS[name](**kwargs)
    ours.build_from_shape((None,) + tuple(x_shape[1:]))
    ours.set_weights(theirs.get_weights())
    return theirs, ours


LAYER_CASES = [("SimpleRNN", {}), ("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": True})]
CALL_CASES = [{}, {"return_sequences": True, "return_state": True}, {"go_backwards": True},
              {"go_backwards": True, "return_sequences": True}]


@pytest.mark.slow
@pytest.mark.parametrize("name,layer_kwargs", LAYER_CASES)
@pytest.mark.parametrize("call_kwargs", CALL_CASES)
def test_matches_keras(keras_ref, rng, name, layer_kwargs, call_kwargs):
    x = _inputs(rng)
    theirs, ours = _pair(keras_ref, name, x.shape, units=3, **layer_kwargs, **call_kwargs)
    assert_all_close(ours(x), theirs(x))


@pytest.mark.slow
@pytest.mark.parametrize("name,layer_kwargs", [
    ("LSTM", {"use_bias": False}), ("GRU", {"use_bias": False, "reset_after": False}),
    ("GRU", {"use_bias": False, "reset_after": True}), ("LSTM", {"unroll": True, "return_sequences": True}),
    ("SimpleRNN", {"unroll": True, "go_backwards": True})])
def test_variants_match_keras(keras_ref, rng, name, layer_kwargs):
    x = _inputs(rng)
    theirs, ours = _pair(keras_ref, name, x.shape, units=3, **layer_kwargs)
    assert_all_close(ours(x), theirs(x))


@pytest.mark.parametrize("name,layer_kwargs", LAYER_CASES)
@pytest.mark.parametrize("call_kwargs", [{"return_sequences": True, "go_backwards": True},
                                         {"return_state": True}])
def test_mask_matches_keras(keras_ref, rng, name, layer_kwargs, call_kwargs):
    x = _inputs(rng)
    theirs, ours = _pair(keras_ref, name, x.shape, units=3, **layer_kwargs, **call_kwargs)
    assert_all_close(ours(x, mask=MASK), theirs(x, mask=MASK))


def test_masked_step_repeats_previous_output(rng):
    x = _inputs(rng)
    layer = LSTM(3, return_sequences=True)
    y = np.asarray(layer(x, mask=MASK))
    np.testing.assert_array_equal(y[0, 3], y[0, 2])
    np.testing.assert_array_equal(y[0, 4], y[0, 2])
    np.testing.assert_array_equal(y[2, :2], 0.0)   # nothing seen yet: zeros


def test_output_mask():
    layer = LSTM(3, return_sequences=True, return_state=True)
    mask = MASK
    out = layer.compute_mask(np.zeros((3, 5, 4)), mask)
    assert out[0] is mask and out[1:] == [None, None]
    assert LSTM(3).compute_mask(np.zeros((3, 5, 4)), mask) is None


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_initial_state_matches_keras(keras_ref, rng, name):
    x = _inputs(rng)
    theirs, ours = _pair(keras_ref, name, x.shape, units=3, return_sequences=True,
                         return_state=True)
    count = 2 if name == "LSTM" else 1
    states = [rng.normal(size=(3, 3)).astype("float32") for _ in range(count)]
    assert_all_close(ours(x, initial_state=states), theirs(x, initial_state=states))
    # Keras 2 also accepts the states as extra inputs
    assert_all_close(ours([x] + states), theirs(x, initial_state=states))


def test_initial_state_count_is_checked(rng):
    layer = LSTM(3)
    with pytest.raises(ValueError, match="expects 2 initial state"):
        layer(_inputs(rng), initial_state=[np.zeros((3, 3), "float32")])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_stateful_matches_keras(keras_ref, rng, name):
    x1, x2 = _inputs(rng, (2, 4, 3)), _inputs(rng, (2, 4, 3))
    theirs = getattr(keras_ref.layers, name)(**_keras2_defaults(name, {"units": 3,
                                                                   "stateful": True}))
    theirs.build((2, 4, 3))
    ours = LAYERS[name](3, stateful=True, batch_input_shape=(2, 4, 3))
    ours.build_from_shape((2, 4, 3))
    assert len(ours.get_weights()) == len(theirs.get_weights()) == 3
    ours.set_weights(theirs.get_weights())
    assert_all_close(ours(x1), theirs(x1))
    assert_all_close(ours(x2), theirs(x2))          # carries the state of the first batch
    theirs.reset_states()
    ours.reset_states()
    assert_all_close(ours(x2), theirs(x2))
    assert ours.non_weight_state == tuple(f"states_{i}" for i in range(len(ours.states)))


def test_reset_states_to_values(rng):
    layer = LSTM(3, stateful=True, return_state=True)
    layer.build_from_shape((2, 4, 3))
    h, c = np.ones((2, 3), "float32"), np.full((2, 3), 2.0, "float32")
    layer.reset_states([h, c])
    np.testing.assert_array_equal(np.asarray(layer.states[1]), c)
    x = _inputs(rng, (2, 4, 3))
    stateless = LSTM(3, return_state=True)
    stateless.build_from_shape((None, 4, 3))
    stateless.set_weights(layer.get_weights())
    assert_all_close(layer(x), stateless(x, initial_state=[h, c]))
    with pytest.raises(ValueError, match="expected shape"):
        layer.reset_states([np.ones((3, 3)), c])
    with pytest.raises(AttributeError):
        LSTM(3).reset_states()


def test_stateful_needs_batch_size():
    with pytest.raises(ValueError, match="batch size"):
        LSTM(3, stateful=True).build_from_shape((None, 4, 3))


def _np_lstm_hard_sigmoid(x, kernel, recurrent_kernel, bias):
    def hard_sigmoid(v):
        return np.clip(0.2 * v + 0.5, 0.0, 1.0)
    units = recurrent_kernel.shape[0]
    h = np.zeros((x.shape[0], units))
    c = np.zeros((x.shape[0], units))
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent_kernel + bias
        i, f, g, o = np.split(z, 4, axis=-1)
        c = hard_sigmoid(f) * c + hard_sigmoid(i) * np.tanh(g)
        h = hard_sigmoid(o) * np.tanh(c)
    return h


def test_hard_sigmoid_is_the_keras2_formula(rng):
    x = 3.0 * _inputs(rng)                 # large enough to reach the clipped parts
    layer = LSTM(3, recurrent_activation="hard_sigmoid")
    layer.build_from_shape((None, 5, 4))
    weights = [rng.normal(size=w.shape).astype("float32") for w in layer.get_weights()]
    layer.set_weights(weights)
    np.testing.assert_allclose(np.asarray(layer(x)), _np_lstm_hard_sigmoid(x, *weights),
                               **TOL)
    assert layer.get_config()["recurrent_activation"] == "hard_sigmoid"


@pytest.mark.slow
def test_stacked_cells_match_keras(keras_ref, rng):
    x = _inputs(rng)
    k = keras_ref.layers
    # Every layer named on both sides: Keras 3's name counters run on across tests
    # (rnn_1, stacked_rnn_cells_1, lstm_cell_1 after other tests made some).
    theirs = k.RNN(k.StackedRNNCells([k.LSTMCell(3, name="lstm_cell"),
                                      k.GRUCell(2, reset_after=False, name="gru_cell"),
                                      k.SimpleRNNCell(2, name="simple_rnn_cell")],
                                     name="stacked_rnn_cells"),
                   return_sequences=True, return_state=True, name="rnn")
    theirs.build(x.shape)
    ours = RNN(StackedRNNCells([LSTMCell(3, name="lstm_cell"), GRUCell(2, name="gru_cell"),
                                SimpleRNNCell(2, name="simple_rnn_cell")],
                               name="stacked_rnn_cells"),
               return_sequences=True, return_state=True, name="rnn")
    ours.build_from_shape((None, 5, 4))
    assert [w.name[:-2] for w in ours.weights] == [w.path for w in theirs.weights]
    ours.set_weights(theirs.get_weights())
    y_ours, y_theirs = ours(x), theirs(x)
    assert len(y_ours) == 4 and len(y_ours[1]) == 2   # output, [h, c], h, h
    assert_all_close(y_ours[0], y_theirs[0])
    assert_all_close(y_ours[1], y_theirs[1])
    assert_all_close(y_ours[2], y_theirs[2])
    assert_all_close(y_ours[3], y_theirs[3])


def test_rnn_with_single_cell_and_masks(keras_ref, rng):
    x = _inputs(rng)
    theirs = keras_ref.layers.RNN(keras_ref.layers.GRUCell(3, reset_after=False),
                                  return_sequences=True)
    theirs.build(x.shape)
    ours = RNN(GRUCell(3), return_sequences=True)
    ours.build_from_shape((None, 5, 4))
    ours.set_weights(theirs.get_weights())
    assert_all_close(ours(x, mask=MASK), theirs(x, mask=MASK))


def test_keras_style_user_cell(rng):
    from jkeras.engine.base_layer import Layer

    class MinimalCell(Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units))

        def call(self, inputs, states):
            output = inputs @ self.kernel + states[0]
            return output, [output]

    x = _inputs(rng)
    layer = RNN(MinimalCell(2), return_sequences=True)
    y = np.asarray(layer(x))
    kernel = layer.get_weights()[0]
    np.testing.assert_allclose(y, np.cumsum(x @ kernel, axis=1), **TOL)
    assert layer.weights[0].name == f"{layer.name}/{layer.cell.name}/kernel:0"


def test_cells_called_alone_match_keras(keras_ref, rng):
    x = rng.normal(size=(3, 4)).astype("float32")
    h, c = (rng.normal(size=(3, 2)).astype("float32") for _ in range(2))
    theirs = keras_ref.layers.LSTMCell(2)
    out_theirs, states_theirs = theirs(x, [h, c])
    ours = LSTMCell(2)
    ours.build_from_shape((None, 4))
    ours.set_weights(theirs.get_weights())
    out_ours, states_ours = ours(x, [h, c])
    assert_all_close(out_ours, out_theirs)
    assert_all_close(states_ours, states_theirs)


def test_time_major_matches_keras_transposed(keras_ref, rng):
    x = _inputs(rng)
    theirs, _ = _pair(keras_ref, "GRU", x.shape, units=3, return_sequences=True)
    ours = GRU(3, return_sequences=True, time_major=True)
    ours.build_from_shape((5, None, 4))
    ours.set_weights(theirs.get_weights())
    y = ours(np.swapaxes(x, 0, 1))
    assert_all_close(np.swapaxes(np.asarray(y), 0, 1), theirs(x))


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_dropout_inference_equals_no_dropout(keras_ref, rng, name):
    x = _inputs(rng)
    theirs = getattr(keras_ref.layers, name)(**_keras2_defaults(name, {"units": 3}))
    theirs.build(x.shape)
    ours = LAYERS[name](3, dropout=0.5, recurrent_dropout=0.5)
    ours.build_from_shape((None, 5, 4))
    ours.set_weights(theirs.get_weights())
    assert_all_close(ours(x), theirs(x))
    assert_all_close(ours(x, training=False), theirs(x))


@pytest.mark.slow
def test_dropout_mask_is_sampled_once_per_sequence():
    layer = SimpleRNN(6, activation="linear", dropout=0.5, return_sequences=True)
    layer.build_from_shape((None, 5, 6))
    layer.set_weights([np.eye(6, dtype="float32"), np.zeros((6, 6), "float32"),
                       np.zeros(6, "float32")])
    x = np.ones((4, 5, 6), "float32")
    variables = layer.variables_tree()
    y, _ = layer.apply(variables, x, training=True, key=jax.random.PRNGKey(1))
    y = np.asarray(y)
    np.testing.assert_array_equal(y, np.broadcast_to(y[:, :1], y.shape))   # same mask
    assert set(np.unique(y)) <= {0.0, 2.0} and (y == 0).any() and (y == 2).any()
    again, _ = layer.apply(variables, x, training=True, key=jax.random.PRNGKey(1))
    np.testing.assert_array_equal(np.asarray(again), y)


def test_dropout_training_needs_a_key(rng):
    layer = LSTM(3, recurrent_dropout=0.3)
    layer.build_from_shape((None, 5, 4))
    with pytest.raises(ValueError, match="PRNG key"):
        layer.apply(layer.variables_tree(), _inputs(rng), training=True, key=None)
    y_train = layer(_inputs(rng), training=True)   # eager calls draw a key
    assert y_train.shape == (3, 3)


@pytest.mark.parametrize("name,kwargs", [("SimpleRNN", {}), ("LSTM", {}), ("GRU", {}),
                                         ("GRU", {"reset_after": True})])
def test_weights_names_shapes_and_config(keras_ref, rng, name, kwargs):
    theirs, ours = _pair(keras_ref, name, (3, 5, 4), units=3, **kwargs)
    assert [w.name[:-2].split("/", 1)[1] for w in ours.weights] == \
        [w.path.split("/", 1)[1] for w in theirs.weights]
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert ours.count_params() == theirs.count_params()
    config = ours.get_config()
    assert_config_like_keras(config, theirs.get_config())
    assert "cell" not in config and config["time_major"] is False
    clone = LAYERS[name].from_config(config)
    assert clone.get_config() == config
    # a Keras 3 config loads too
    LAYERS[name].from_config(theirs.get_config())


@pytest.mark.slow
def test_stacked_lstm_param_count(keras_ref):
    first, second = LSTM(8, return_sequences=True), LSTM(4)
    first.build_from_shape((None, 6, 5))
    second.build_from_shape((None, 6, 8))
    k_first = keras_ref.layers.LSTM(8, return_sequences=True)
    k_second = keras_ref.layers.LSTM(4)
    k_first.build((None, 6, 5))
    k_second.build((None, 6, 8))
    assert first.count_params() + second.count_params() == \
        k_first.count_params() + k_second.count_params()


def test_rnn_config_round_trip():
    layer = RNN([LSTMCell(3), GRUCell(2, reset_after=False)], return_sequences=True,
                go_backwards=True)
    config = layer.get_config()
    assert config["cell"]["class_name"] == "StackedRNNCells"
    clone = RNN.from_config(config)
    assert [type(c) for c in clone.cell.cells] == [LSTMCell, GRUCell]
    assert clone.cell.cells[1].reset_after is False
    assert clone.get_config() == config


def test_unit_forget_bias_and_gru_bias_shapes():
    lstm = LSTM(3)
    lstm.build_from_shape((None, 5, 4))
    np.testing.assert_array_equal(lstm.get_weights()[2], [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    gru = GRU(3)  # Keras 2.3's default, reset_after=False
    gru.build_from_shape((None, 5, 4))
    assert gru.get_weights()[2].shape == (9,)
    gru_v2 = GRU(3, reset_after=True)
    gru_v2.build_from_shape((None, 5, 4))
    assert gru_v2.get_weights()[2].shape == (2, 9)


def test_regularizers_reach_the_cell_weights():
    layer = LSTM(3, kernel_regularizer=regularizers.l2(0.1), bias_regularizer="l1")
    layer.build_from_shape((None, 5, 4))
    kernel, _, bias = layer.get_weights()
    expected = 0.1 * np.sum(kernel ** 2) + 0.01 * np.sum(np.abs(bias))
    loss = layer.regularization_loss(layer.variables_tree()["params"])
    np.testing.assert_allclose(float(loss), expected, rtol=1e-5)
    assert layer.kernel_regularizer is layer.cell.kernel_regularizer


def test_argument_errors():
    with pytest.raises(ValueError, match="units"):
        LSTM(0)
    with pytest.raises(ValueError, match="state_size"):
        RNN(object())


def test_functional_model_with_initial_state(keras_ref, rng):
    from jkeras.engine.input_layer import Input
    from jkeras.engine.model import Model
    x = _inputs(rng)
    h, c = (rng.normal(size=(3, 3)).astype("float32") for _ in range(2))
    k_in = [keras_ref.Input((5, 4)), keras_ref.Input((3,)), keras_ref.Input((3,))]
    k_layer = keras_ref.layers.LSTM(3, return_sequences=True, return_state=True)
    theirs = keras_ref.Model(k_in, k_layer(k_in[0], initial_state=k_in[1:]))
    inputs = [Input((5, 4)), Input((3,)), Input((3,))]
    layer = LSTM(3, return_sequences=True, return_state=True)
    ours = Model(inputs, layer(inputs[0], initial_state=inputs[1:]))
    layer.set_weights(k_layer.get_weights())
    assert_all_close(ours.predict([x, h, c], verbose=0), theirs.predict([x, h, c], verbose=0))


def test_module_lists_its_layers():
    assert recurrent.LSTM is LSTM and issubclass(LSTM, RNN)
