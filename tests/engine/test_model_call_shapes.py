"""A built model called on tensors of another shape re-infers its output shapes (as Keras
does), and the shapes reported at graph-build time are the shapes it returns when run."""
import numpy as np
import pytest

import jkeras as keras
from jkeras import layers


def _ref_shape(keras_ref, build):
    return tuple(build(keras_ref).shape)


def test_sequential_embedding_without_input_length_then_lstm(keras_ref):
    model = keras.Sequential([layers.Embedding(50, 8)])
    inputs = layers.Input((10,))
    embedded = model(inputs)
    want = _ref_shape(keras_ref, lambda k: k.Sequential([k.layers.Embedding(50, 8)])(
        k.Input((10,))))
    assert tuple(embedded.shape) == want == (None, 10, 8)
    outputs = layers.LSTM(3)(embedded)
    full = keras.Model(inputs, outputs)
    assert full.output_shape == (None, 3)
    run = full.predict(np.zeros((2, 10)), verbose=0)
    assert run.shape == (2, 3)


def test_masked_sequential_called_on_a_fixed_length_input():
    model = keras.Sequential([layers.Embedding(50, 4, mask_zero=True)])
    inputs = layers.Input((6,))
    outputs = layers.LSTM(2, return_sequences=True)(model(inputs))
    assert tuple(outputs.shape) == (None, 6, 2)
    x = np.array([[3, 4, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6]])
    assert keras.Model(inputs, outputs).predict(x, verbose=0).shape == (2, 6, 2)


def test_functional_model_called_on_a_new_spatial_shape(keras_ref):
    def build(k):
        inp = k.Input((None, None, 3))
        out = k.layers.Conv2D(4, 3, strides=2)(inp)
        return k.Model(inp, out)(k.Input((9, 7, 3)))
    new = build(keras)
    assert tuple(new.shape) == _ref_shape(keras_ref, build) == (None, 4, 3, 4)
    # Graph shape equals run shape.
    inp = layers.Input((9, 7, 3))
    inner_inp = layers.Input((None, None, 3))
    inner = keras.Model(inner_inp, layers.Conv2D(4, 3, strides=2)(inner_inp))
    outer = keras.Model(inp, layers.Flatten()(inner(inp)))
    assert outer.output_shape == (None, 48)
    assert outer.predict(np.zeros((2, 9, 7, 3)), verbose=0).shape == (2, 48)


def test_same_shape_call_keeps_the_stored_outputs():
    inp = layers.Input((5,))
    model = keras.Model(inp, layers.Dense(2)(inp))
    assert tuple(model(layers.Input((5,))).shape) == (None, 2)


def test_model_called_on_an_extra_axis_runs_its_layers_there():
    """mnist_acgan's generator: a Sequential built for (None, 4) is called on the
    (None, 1, 4) product of a latent vector and an Embedding. Keras 2 checks nothing there
    (its models' input layers have no input spec) and runs the layers on the shape given:
    Dense on the last axis, Reshape absorbing the extra one. Reported shapes are the run's;
    the model warns, and the model trains."""
    keras.utils.set_random_seed(0)
    dense_only = keras.Sequential([layers.Dense(12, input_dim=4, activation="relu"),
                                   layers.Dense(3)])
    reshaped = keras.Sequential([layers.Dense(12, input_dim=4), layers.Reshape((3, 4))])
    latent, label = layers.Input((4,)), layers.Input((1,), dtype="int32")
    joined = layers.multiply([latent, layers.Embedding(10, 4)(label)])
    with pytest.warns(UserWarning, match="built for input 0 of shape"):
        a = dense_only(joined)
    with pytest.warns(UserWarning):
        b = reshaped(joined)
    assert (tuple(a.shape), tuple(b.shape)) == ((None, 1, 3), (None, 3, 4))
    model = keras.Model([latent, label], [a, b])
    model.compile(keras.optimizers.Adam(0.01), "mse")
    rng = np.random.default_rng(0)
    x = [rng.random((32, 4)).astype("float32"), rng.integers(0, 10, (32, 1))]
    ys = [rng.random((32, 1, 3)).astype("float32"), rng.random((32, 3, 4)).astype("float32")]
    pa, pb = model.predict(x, verbose=0)
    assert (pa.shape, pb.shape) == ((32, 1, 3), (32, 3, 4))
    losses = model.fit(x, ys, epochs=20, batch_size=8, verbose=0).history["loss"]
    assert losses[-1] < 0.8 * losses[0], losses


def test_model_called_on_a_shape_its_layers_cannot_take_says_so():
    model = keras.Sequential([layers.Dense(12, input_dim=4)])
    for given in (layers.Input((5,)), np.ones((2, 5), "float32")):
        with pytest.warns(UserWarning), \
                pytest.raises(ValueError, match=r"built for input shape\(s\) \[\(None, 4\)\] "
                                                r"and its layers cannot run on"):
            model(given)
