"""A built model called on tensors of another shape re-infers its output shapes (as Keras
does), and the shapes reported at graph-build time are the shapes it returns when run."""
import numpy as np

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
