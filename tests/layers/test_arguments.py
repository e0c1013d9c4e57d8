"""Layer constructors reject bad arguments before any work, with the error type Keras uses
and a message naming the layer class, the argument, and the value received.

Each row: layer name, positional and keyword arguments, the argument at fault, the error
type, and whether Keras 3 rejects the same call (then with the same error type; Keras 3
accepts some of them, or fails later, and jkeras checks them in the constructor anyway)."""
import inspect
import warnings

import pytest

import jkeras
from jkeras.engine import naming

V, T = ValueError, TypeError
CASES = [
    # core
    ("Dense", (0,), {}, "units", V, True),
    ("Dense", (-3,), {}, "units", V, True),
    ("Dense", ("8",), {}, "units", V, True),
    ("Dense", (2.5,), {}, "units", V, True),
    ("Dense", (4,), {"activation": "relux"}, "activation", V, True),
    ("Dense", (4,), {"kernel_initializer": "glorotx"}, "kernel_initializer", V, True),
    ("Dense", (4,), {"bias_regularizer": "l3"}, "bias_regularizer", V, True),
    ("Dense", (4,), {"kernel_constraint": "maxnormx"}, "kernel_constraint", V, True),
    ("Dense", (4,), {"dtype": "float33"}, "dtype", V, True),
    ("Activation", ("nope",), {}, "activation", V, True),
    ("Dropout", (1.5,), {}, "rate", V, True),
    ("Dropout", (-0.1,), {}, "rate", V, True),
    ("Dropout", ("0.5",), {}, "rate", V, False),   # Keras 3: a TypeError from `<=`
    ("Dropout", (0.5,), {"noise_shape": "abc"}, "noise_shape", V, False),
    ("Flatten", (), {"data_format": "channels_middle"}, "data_format", V, True),
    ("Reshape", ("abc",), {}, "target_shape", V, False),
    ("Reshape", ((-1, -1),), {}, "target_shape", V, True),
    ("Permute", ((1, 3),), {}, "dims", V, True),
    ("RepeatVector", ("3",), {}, "n", T, True),
    ("ActivityRegularization", (), {"l1": -1.0}, "l1", V, True),
    # convolution and pooling
    ("Conv2D", (0, 3), {}, "filters", V, True),
    ("Conv2D", (4, (3, 3, 3)), {}, "kernel_size", V, True),
    ("Conv2D", (4, 3), {"strides": 0}, "strides", V, True),
    ("Conv2D", (4, 3), {"padding": "full"}, "padding", V, True),
    ("Conv2D", (4, 3), {"data_format": "nhwc"}, "data_format", V, True),
    ("Conv2D", (4, 3), {"dilation_rate": -1}, "dilation_rate", V, True),
    ("Conv1D", (4, 3), {"activation": "nope"}, "activation", V, True),
    ("Conv2DTranspose", (4, 3), {"padding": "causal"}, "padding", V, True),
    ("DepthwiseConv2D", (3,), {"depth_multiplier": 0}, "depth_multiplier", V, True),
    ("SeparableConv2D", (0, 3), {}, "filters", V, True),
    ("SeparableConv2D", (4, 3), {"pointwise_initializer": "nope"}, "pointwise_initializer",
     V, True),
    ("MaxPooling2D", (0,), {}, "pool_size", V, True),
    ("AveragePooling1D", (2,), {"strides": -1}, "strides", V, True),
    ("MaxPooling2D", (2,), {"padding": "full"}, "padding", V, False),
    ("GlobalAveragePooling2D", (), {"data_format": "x"}, "data_format", V, True),
    # reshaping
    ("UpSampling2D", ((2, 0),), {}, "size", V, True),
    ("UpSampling2D", (2,), {"interpolation": "cubic"}, "interpolation", V, False),
    ("ZeroPadding2D", (-1,), {}, "padding", V, False),
    ("Cropping2D", (((1, 1),),), {}, "cropping", V, True),
    # embeddings, normalization, noise, activations
    ("Embedding", (0, 4), {}, "input_dim", V, True),
    ("Embedding", (10, -4), {}, "output_dim", V, True),
    ("Embedding", (10, 4), {"embeddings_initializer": "nope"}, "embeddings_initializer",
     V, True),
    ("BatchNormalization", (), {"epsilon": 0}, "epsilon", V, False),
    ("BatchNormalization", (), {"momentum": "a"}, "momentum", V, True),
    ("BatchNormalization", (), {"gamma_regularizer": "nope"}, "gamma_regularizer", V, True),
    ("LayerNormalization", (), {"axis": "last"}, "axis", T, True),
    ("GaussianNoise", (-1.0,), {}, "stddev", V, True),
    ("GaussianDropout", (1.0,), {}, "rate", V, False),
    ("AlphaDropout", (2,), {}, "rate", V, True),
    ("SpatialDropout2D", (1.5,), {}, "rate", V, True),
    ("LeakyReLU", (), {"alpha": -0.1}, "alpha", V, False),
    ("ReLU", (), {"max_value": -1.0}, "max_value", V, True),
    ("ThresholdedReLU", (), {"theta": -1.0}, "theta", V, False),
    ("PReLU", (), {"alpha_initializer": "nope"}, "alpha_initializer", V, True),
    # recurrent
    ("SimpleRNN", (0,), {}, "units", V, True),
    ("LSTM", (4,), {"activation": "nope"}, "activation", V, True),
    ("GRU", (4,), {"recurrent_activation": "nope"}, "recurrent_activation", V, True),
    ("LSTM", (4,), {"recurrent_initializer": "nope"}, "recurrent_initializer", V, True),
    ("GRU", (4,), {"dropout": "x"}, "dropout", V, False),
    ("LSTMCell", (-1,), {}, "units", V, True),
    ("ConvLSTM2D", (0, 3), {}, "filters", V, False),
    ("ConvLSTM2D", (4, (3, 3, 3)), {}, "kernel_size", V, True),
    ("ConvLSTM2D", (4, 3), {"padding": "full"}, "padding", V, True),
    # merge, attention, preprocessing, residual, wrappers
    ("Concatenate", (), {"axis": "1"}, "axis", T, False),
    ("Dot", ((1, 2, 3),), {}, "axes", V, True),
    ("MultiHeadAttention", (0, 4), {}, "num_heads", V, True),
    ("MultiHeadAttention", (2, 4), {"dropout": 1.5}, "dropout", V, False),
    ("Attention", (), {"score_mode": "add"}, "score_mode", V, True),
    ("Resizing", (0, 4), {}, "height", V, False),
    ("CenterCrop", (4, -1), {}, "width", V, False),
    ("RandomFlip", ("diagonal",), {}, "mode", V, False),
    ("StochasticDepth", (1.0,), {}, "drop_path_rate", V, False),
    ("LayerScale", (0.1, 0), {}, "projection_dim", V, False),
    ("Bidirectional", ("lstm",), {}, "layer", V, True),
    ("TimeDistributed", (3,), {}, "layer", V, True),
]


def _ids():
    return [f"{name}-{argument}-{i}" for i, (name, _, _, argument, _, _) in enumerate(CASES)]


@pytest.mark.parametrize("name,args,kwargs,argument,error,_", CASES, ids=_ids())
def test_bad_argument_is_named_in_a_clear_error(name, args, kwargs, argument, error, _):
    with pytest.raises(error) as info:
        getattr(jkeras.layers, name)(*args, **kwargs)
    message = str(info.value)
    assert name in message
    assert argument in message
    cls = getattr(jkeras.layers, name)
    received = kwargs[argument] if argument in kwargs else \
        inspect.signature(cls).bind_partial(*args).arguments[argument]
    assert repr(received) in message or repr(list(received)) in message


@pytest.mark.parametrize("name,args,kwargs,argument,error,keras_rejects",
                         [c for c in CASES if c[5]], ids=[i for i, c in zip(_ids(), CASES)
                                                          if c[5]])
def test_error_type_is_the_one_keras_raises(keras_ref, name, args, kwargs, argument, error,
                                            keras_rejects):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error):
            getattr(keras_ref.layers, name)(*args, **kwargs)


@pytest.mark.parametrize("make,name", [
    (lambda L: L.Dense(0), "dense"),
    (lambda L: L.Dense(4, kernel_initializer="nope"), "dense"),
    (lambda L: L.Conv2D(0, 3), "conv2d"),
    (lambda L: L.BatchNormalization(epsilon=0), "batch_normalization"),
    (lambda L: L.LSTM(3, recurrent_regularizer="nope"), "lstm"),
])
def test_a_rejected_constructor_uses_no_layer_name(make, name):
    """The check runs before the layer takes its automatic name: nothing has changed."""
    with pytest.raises(ValueError):
        make(jkeras.layers)
    assert naming.unique_name(name) == name


@pytest.mark.parametrize("make", [
    lambda L: L.Dense(3.0),
    lambda L: L.Dropout(1),
    lambda L: L.Conv2D(2, [3, 3], padding="SAME", data_format="channels_first"),
    lambda L: L.LSTM(2, dropout=1.5),        # Keras 2 clips recurrent dropout into [0, 1]
    lambda L: L.Reshape((-1, 2)),
    lambda L: L.ZeroPadding2D(((1, 0), (0, 2))),
])
def test_good_arguments_still_construct(make):
    layer = make(jkeras.layers)
    assert layer.get_config()["name"] == layer.name
