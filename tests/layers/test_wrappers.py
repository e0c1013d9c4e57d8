"""TimeDistributed and Bidirectional against real Keras 3 (weights copied)."""
import numpy as np
import pytest

from jkeras.layers.core import Dense
from jkeras.layers.recurrent import GRU, LSTM, SimpleRNN
from jkeras.layers.wrappers import Bidirectional, TimeDistributed
from tests.conftest import assert_all_close

MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 1, 1, 0]], bool)


def _inputs(rng, shape=(3, 5, 4)):
    return rng.normal(size=shape).astype("float32")


def _bidirectional_pair(keras, rnn, x_shape, merge_mode="concat", **kwargs):
    # jkeras's GRU defaults to reset_after=False as Keras 2.3 did (Keras 3: True).
    their_kwargs = {"reset_after": False, **kwargs} if rnn is GRU else kwargs
    theirs = keras.layers.Bidirectional(getattr(keras.layers, rnn.__name__)(3, **their_kwargs),
                                        merge_mode=merge_mode)
    theirs.build(x_shape)
    ours = Bidirectional(rnn(3, **kwargs), merge_mode=merge_mode)
    ours.build_from_shape((None,) + tuple(x_shape[1:]))
    ours.set_weights(theirs.get_weights())
    return theirs, ours


# ---------------------------------------------------------------------------- Bidirectional
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_merge_modes(keras_ref, rng, merge_mode):
    x = _inputs(rng)
    theirs, ours = _bidirectional_pair(keras_ref, LSTM, x.shape, merge_mode,
                                       return_sequences=True)
    assert_all_close(ours(x), theirs(x))


@pytest.mark.parametrize("rnn", [SimpleRNN, LSTM, GRU])
def test_bidirectional_last_output(keras_ref, rng, rnn):
    x = _inputs(rng)
    theirs, ours = _bidirectional_pair(keras_ref, rnn, x.shape)
    assert_all_close(ours(x), theirs(x))


@pytest.mark.parametrize("merge_mode", ["concat", None])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_bidirectional_state_and_mask(keras_ref, rng, merge_mode, return_sequences):
    x = _inputs(rng)
    theirs, ours = _bidirectional_pair(keras_ref, LSTM, x.shape, merge_mode,
                                       return_sequences=return_sequences, return_state=True)
    y_ours = ours(x, mask=MASK)
    assert len(y_ours) == (6 if merge_mode is None else 5)   # output(s), 2 + 2 states
    assert_all_close(y_ours, theirs(x, mask=MASK))


def test_bidirectional_masked_sequence_outputs_zeros(rng):
    layer = Bidirectional(GRU(3, return_sequences=True))
    y = np.asarray(layer(_inputs(rng), mask=MASK))
    np.testing.assert_array_equal(y[0, 3:], 0.0)
    assert layer.forward_layer.zero_output_for_mask is True


def test_bidirectional_initial_state(keras_ref, rng):
    x = _inputs(rng)
    theirs, ours = _bidirectional_pair(keras_ref, GRU, x.shape, return_sequences=True)
    states = [rng.normal(size=(3, 3)).astype("float32") for _ in range(2)]
    assert_all_close(ours(x, initial_state=states), theirs(x, initial_state=states))


@pytest.mark.slow
def test_bidirectional_custom_backward_layer(keras_ref, rng):
    x = _inputs(rng)
    theirs = keras_ref.layers.Bidirectional(
        keras_ref.layers.LSTM(3, return_sequences=True),
        backward_layer=keras_ref.layers.GRU(2, return_sequences=True, go_backwards=True,
                                            reset_after=False))
    theirs.build(x.shape)
    ours = Bidirectional(LSTM(3, return_sequences=True),
                         backward_layer=GRU(2, return_sequences=True, go_backwards=True))
    ours.build_from_shape((None, 5, 4))
    ours.set_weights(theirs.get_weights())
    assert_all_close(ours(x), theirs(x))
    assert ours.backward_layer.name.startswith("backward_")
    assert ours.get_config()["backward_layer"]["class_name"] == "GRU"


def test_bidirectional_checks_its_arguments():
    with pytest.raises(ValueError, match="merge mode"):
        Bidirectional(LSTM(3), merge_mode="max")
    with pytest.raises(ValueError, match="go_backwards"):
        Bidirectional(LSTM(3), backward_layer=LSTM(3))
    with pytest.raises(ValueError, match="return_sequences"):
        Bidirectional(LSTM(3), backward_layer=LSTM(3, go_backwards=True,
                                                   return_sequences=True))


def test_bidirectional_weights_and_param_count(keras_ref):
    theirs, ours = _bidirectional_pair(keras_ref, GRU, (3, 5, 4))
    base = ours.layer.name
    assert [w.name for w in ours.weights] == [
        f"{ours.name}/{d}_{base}/gru_cell/{n}:0" for d in ("forward", "backward")
        for n in ("kernel", "recurrent_kernel", "bias")]
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert ours.count_params() == theirs.count_params()
    # the wrapped layers read their weights through the wrapper
    np.testing.assert_array_equal(ours.backward_layer.get_weights()[0],
                                  theirs.get_weights()[3])


@pytest.mark.slow
def test_bidirectional_stateful(keras_ref, rng):
    x1, x2 = _inputs(rng, (2, 4, 3)), _inputs(rng, (2, 4, 3))
    theirs = keras_ref.layers.Bidirectional(keras_ref.layers.LSTM(3, stateful=True))
    theirs.build((2, 4, 3))
    ours = Bidirectional(LSTM(3, stateful=True))
    ours.build_from_shape((2, 4, 3))
    ours.set_weights(theirs.get_weights())
    assert_all_close(ours(x1), theirs(x1))
    assert_all_close(ours(x2), theirs(x2))
    assert len(ours.non_weight_state) == 4 and len(ours.weights) == 6
    ours.reset_states()
    theirs.reset_states()
    assert_all_close(ours(x2), theirs(x2))


def test_bidirectional_compute_mask():
    layer = Bidirectional(LSTM(3, return_sequences=True, return_state=True), merge_mode=None)
    out = layer.compute_mask(np.zeros((3, 5, 4)), MASK)
    assert out[0] is MASK and out[1] is MASK and out[2:] == [None] * 4
    assert Bidirectional(LSTM(3)).compute_mask(np.zeros((3, 5, 4)), MASK) is None


def test_bidirectional_config(keras_ref):
    layer = Bidirectional(GRU(3, return_sequences=True, reset_after=False), merge_mode="sum")
    config = layer.get_config()
    assert config["merge_mode"] == "sum" and config["layer"]["class_name"] == "GRU"
    assert "backward_layer" not in config
    clone = Bidirectional.from_config(config)
    assert clone.forward_layer.name == f"forward_{layer.layer.name}"
    assert clone.backward_layer.go_backwards and clone.merge_mode == "sum"
    assert clone.get_config() == config
    # a Keras 3 config (inner layer named forward_<name>, explicit backward layer) loads
    theirs = keras_ref.layers.Bidirectional(keras_ref.layers.LSTM(3), merge_mode="ave")
    theirs.build((3, 5, 4))
    loaded = Bidirectional.from_config(theirs.get_config())
    assert loaded.forward_layer.name == "forward_lstm" or \
        loaded.forward_layer.name.startswith("forward_")
    loaded.build_from_shape((None, 5, 4))
    loaded.set_weights(theirs.get_weights())


def test_bidirectional_weights_argument(keras_ref, rng):
    x = _inputs(rng)
    theirs, _ = _bidirectional_pair(keras_ref, SimpleRNN, x.shape)
    ours = Bidirectional(SimpleRNN(3), weights=theirs.get_weights())
    assert_all_close(ours(x), theirs(x))


# ---------------------------------------------------------------------------- TimeDistributed
def test_time_distributed_dense(keras_ref, rng):
    x = _inputs(rng)
    theirs = keras_ref.layers.TimeDistributed(keras_ref.layers.Dense(2, activation="tanh"))
    theirs.build(x.shape)
    ours = TimeDistributed(Dense(2, activation="tanh"))
    ours.build_from_shape((None, 5, 4))
    # tf.keras 2 names them time_distributed/kernel:0 (Keras 3: time_distributed/dense/...)
    assert [w.name for w in ours.weights] == [f"{ours.name}/kernel:0", f"{ours.name}/bias:0"]
    assert [w.path.split("/")[-1] for w in theirs.weights] == ["kernel", "bias"]
    ours.set_weights(theirs.get_weights())
    assert_all_close(ours(x), theirs(x))
    assert ours.count_params() == theirs.count_params()
    np.testing.assert_array_equal(ours.layer.get_weights()[1], theirs.get_weights()[1])


@pytest.mark.slow
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_time_distributed_conv2d(keras_ref, rng, data_format):
    from jkeras.layers.convolutional import Conv2D
    shape = (2, 3, 6, 6, 2) if data_format == "channels_last" else (2, 3, 2, 6, 6)
    x = _inputs(rng, shape)
    theirs = keras_ref.layers.TimeDistributed(
        keras_ref.layers.Conv2D(3, 3, strides=2, padding="same", data_format=data_format))
    theirs.build(x.shape)
    ours = TimeDistributed(Conv2D(3, 3, strides=2, padding="same", data_format=data_format))
    ours.build_from_shape((None,) + shape[1:])
    ours.set_weights(theirs.get_weights())
    assert_all_close(ours(x), theirs(x))


def test_time_distributed_model(keras_ref, rng):
    from jkeras.engine.input_layer import Input
    from jkeras.engine.model import Model
    x = _inputs(rng)
    k_in = keras_ref.Input((4,))
    k_hidden = keras_ref.layers.Dense(3, activation="relu")(k_in)
    theirs = keras_ref.layers.TimeDistributed(
        keras_ref.Model(k_in, keras_ref.layers.Dense(2)(k_hidden)))
    theirs.build(x.shape)
    inputs = Input((4,))
    hidden = Dense(3, activation="relu")(inputs)
    ours = TimeDistributed(Model(inputs, Dense(2)(hidden)))
    ours.build_from_shape((None, 5, 4))
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    ours.set_weights(theirs.get_weights())
    assert_all_close(ours(x), theirs(x))


def test_time_distributed_masks():
    layer = TimeDistributed(Dense(2))
    layer.build_from_shape((None, 5, 4))
    assert layer.compute_mask(np.zeros((3, 5, 4)), None) is None
    np.testing.assert_array_equal(np.asarray(layer.compute_mask(np.zeros((3, 5, 4)), MASK)),
                                  MASK)
    deep_mask = np.ones((3, 5, 2), bool)
    deep_mask[0, 1, 0] = False
    reduced = np.asarray(layer.compute_mask(np.zeros((3, 5, 2, 4)), deep_mask))
    assert reduced.shape == (3, 5) and reduced.all()   # any() over the inner axes


def test_time_distributed_config_and_errors():
    layer = TimeDistributed(Dense(2, use_bias=False))
    config = layer.get_config()
    assert config["layer"]["class_name"] == "Dense"
    clone = TimeDistributed.from_config(config)
    assert isinstance(clone.layer, Dense) and clone.layer.use_bias is False
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        TimeDistributed(Dense(2)).build_from_shape((None, 4))
    with pytest.raises(ValueError, match="layer instance"):
        TimeDistributed("dense")


@pytest.mark.slow
def test_masks_flow_through_a_functional_model(keras_ref):
    from jkeras.engine.input_layer import Input
    from jkeras.engine.model import Model
    from jkeras.layers.embeddings import Embedding
    tokens = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8]])
    k_in = keras_ref.Input((5,), dtype="int32")
    k_out = keras_ref.layers.TimeDistributed(keras_ref.layers.Dense(2))(
        keras_ref.layers.Bidirectional(keras_ref.layers.LSTM(3, return_sequences=True))(
            keras_ref.layers.Embedding(10, 4, mask_zero=True)(k_in)))
    theirs = keras_ref.Model(k_in, k_out)
    inputs = Input((5,), dtype="int32")
    outputs = TimeDistributed(Dense(2))(Bidirectional(LSTM(3, return_sequences=True))(
        Embedding(10, 4, mask_zero=True)(inputs)))
    ours = Model(inputs, outputs)
    ours.set_weights(theirs.get_weights())
    assert_all_close(ours.predict(tokens, verbose=0), theirs.predict(tokens, verbose=0))
