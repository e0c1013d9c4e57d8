"""ConvLSTM layers against real Keras 3 (weights copied)."""
import numpy as np
import pytest

from jkeras.layers.convolutional_recurrent import (ConvLSTM1D, ConvLSTM2D, ConvLSTM2DCell,
                                                   ConvLSTM3D)
from tests.conftest import assert_all_close

# ConvLSTM against Keras 3: about 30 s; kept out of the default run, CI runs it with -m slow.
pytestmark = pytest.mark.slow


def _inputs(rng, shape):
    return rng.normal(size=shape).astype("float32")


def _pair(keras, cls, x_shape, **kwargs):
    theirs = getattr(keras.layers, cls.__name__)(**kwargs)
    theirs.build(x_shape)
    ours = cls(**kwargs)
    ours.build_from_shape((None,) + tuple(x_shape[1:]))
    ours.set_weights(theirs.get_weights())
    return theirs, ours


def _shape(data_format, spatial=(6, 5), channels=2):
    if data_format == "channels_last":
        return (2, 3) + spatial + (channels,)
    return (2, 3, channels) + spatial


@pytest.mark.parametrize("data_format,kwargs", [
    ("channels_last", {}),
    ("channels_last", {"padding": "same", "return_sequences": True, "return_state": True}),
    ("channels_first", {"padding": "same", "return_sequences": True, "return_state": True}),
    ("channels_last", {"strides": 2, "padding": "same", "go_backwards": True}),
    ("channels_first", {"strides": 2, "go_backwards": True, "return_sequences": True}),
    ("channels_last", {"dilation_rate": 2, "return_sequences": True, "use_bias": False})])
def test_conv_lstm2d_matches_keras(keras_ref, rng, data_format, kwargs):
    x = _inputs(rng, _shape(data_format))
    theirs, ours = _pair(keras_ref, ConvLSTM2D, x.shape, filters=3, kernel_size=3,
                         recurrent_activation="sigmoid", data_format=data_format, **kwargs)
    assert_all_close(ours(x), theirs(x))


def test_default_recurrent_activation_is_keras2_hard_sigmoid(keras_ref, rng):
    x = 3.0 * _inputs(rng, _shape("channels_last"))
    ops = keras_ref.ops

    def keras2_hard_sigmoid(v):
        return ops.clip(0.2 * v + 0.5, 0.0, 1.0)

    theirs = keras_ref.layers.ConvLSTM2D(3, 3, recurrent_activation=keras2_hard_sigmoid)
    theirs.build(x.shape)
    ours = ConvLSTM2D(3, 3)
    assert ours.get_config()["recurrent_activation"] == "hard_sigmoid"
    ours.build_from_shape((None,) + x.shape[1:])
    ours.set_weights(theirs.get_weights())
    assert_all_close(ours(x), theirs(x))


def test_conv_lstm2d_mask(keras_ref, rng):
    # Keras 3's ConvLSTM fails on masks; a trailing masked step must repeat the previous
    # output, so the reference is Keras's unmasked sequence with that step repeated.
    x = _inputs(rng, _shape("channels_last"))
    mask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    theirs, ours = _pair(keras_ref, ConvLSTM2D, x.shape, filters=2, kernel_size=3,
                         recurrent_activation="sigmoid", return_sequences=True)
    expected = np.array(theirs(x))
    expected[0, 2] = expected[0, 1]
    assert_all_close(ours(x, mask=mask), expected)


def test_conv_lstm2d_stateful(keras_ref, rng):
    shape = _shape("channels_last")
    x1, x2 = _inputs(rng, shape), _inputs(rng, shape)
    theirs = keras_ref.layers.ConvLSTM2D(2, 3, recurrent_activation="sigmoid", stateful=True)
    theirs.build(shape)
    ours = ConvLSTM2D(2, 3, recurrent_activation="sigmoid", stateful=True)
    ours.build_from_shape(shape)
    ours.set_weights(theirs.get_weights())
    assert_all_close(ours(x1), theirs(x1))
    assert_all_close(ours(x2), theirs(x2))
    ours.reset_states()
    assert not np.asarray(ours.states[0]).any()


@pytest.mark.parametrize("cls,spatial", [(ConvLSTM1D, (7,)), (ConvLSTM3D, (4, 4, 3))])
def test_conv_lstm_other_ranks(keras_ref, rng, cls, spatial):
    x = _inputs(rng, (2, 3) + spatial + (2,))
    theirs, ours = _pair(keras_ref, cls, x.shape, filters=2, kernel_size=2,
                         recurrent_activation="sigmoid", return_sequences=True)
    assert_all_close(ours(x), theirs(x))


def test_dropout_inference_equals_no_dropout(keras_ref, rng):
    x = _inputs(rng, _shape("channels_last"))
    theirs, _ = _pair(keras_ref, ConvLSTM2D, x.shape, filters=2, kernel_size=3,
                      recurrent_activation="sigmoid")
    ours = ConvLSTM2D(2, 3, recurrent_activation="sigmoid", dropout=0.4,
                      recurrent_dropout=0.4)
    ours.build_from_shape((None,) + x.shape[1:])
    ours.set_weights(theirs.get_weights())
    assert_all_close(ours(x), theirs(x))
    trained = np.asarray(ours(x, training=True))
    assert trained.shape == (2, 4, 3, 2) and not np.allclose(trained, np.asarray(theirs(x)))


def test_weights_config_and_cell(keras_ref, rng):
    theirs, ours = _pair(keras_ref, ConvLSTM2D, (2, 3, 6, 5, 2), filters=3,
                         kernel_size=(3, 2))
    # tf.keras 2 names them conv_lst_m2d/kernel:0 (no cell scope); Keras 3 adds one
    assert [w.name for w in ours.weights] == [
        f"{ours.name}/{n}:0" for n in ("kernel", "recurrent_kernel", "bias")]
    assert [w.path.split("/")[-1] for w in theirs.weights] == \
        ["kernel", "recurrent_kernel", "bias"]
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert ours.count_params() == theirs.count_params()
    config = ours.get_config()
    k_config = theirs.get_config()
    for key in ("filters", "padding", "data_format", "return_sequences", "stateful",
                "dropout", "unit_forget_bias", "go_backwards"):
        assert config[key] == k_config[key], key
    assert list(config["kernel_size"]) == [3, 2] and list(config["strides"]) == [1, 1]
    clone = ConvLSTM2D.from_config(config)
    assert clone.get_config() == config
    ConvLSTM2D.from_config(k_config)
    assert ours.name.startswith("conv_lst_m2d")

    x = _inputs(rng, (2, 6, 5, 2))
    cell = ConvLSTM2DCell(3, (3, 2), padding="same", recurrent_activation="sigmoid")
    cell.build_from_shape((None, 6, 5, 2))
    h, c = np.zeros((2, 6, 5, 3), "float32"), np.zeros((2, 6, 5, 3), "float32")
    out, states = cell(x, [h, c])
    assert out.shape == (2, 6, 5, 3) and len(states) == 2


def test_argument_errors():
    with pytest.raises(ValueError, match="dilation_rate"):
        ConvLSTM2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(TypeError, match="unroll"):
        ConvLSTM2D(2, 3, unroll=True)
    with pytest.raises(ValueError, match="padding"):
        ConvLSTM2D(2, 3, padding="full")
