"""jkeras.engine.sequential: a Sequential grows and shrinks one layer at a time (`add`,
`pop`), builds on its first call, and reports the shapes and parameters Keras does for
the same code."""
import numpy as np
import pytest

import jkeras
from jkeras import layers
from jkeras.models import Sequential


def test_sequential_built_on_first_call(rng):
    model = Sequential([layers.Dense(4), layers.Dense(2)])
    assert not model.built
    out = model.predict(rng.random((3, 5)))
    assert out.shape == (3, 2) and model.built
    assert model.input_shape == (None, 5)
    assert [l.name for l in model.layers][-1] == model.layers[-1].name
    assert len(model.layers) == 2


def test_sequential_pop_and_input_tensor():
    model = Sequential()
    model.add(jkeras.Input(shape=(6,)))
    model.add(layers.Dense(3))
    model.add(layers.Dense(2))
    assert model.output_shape == (None, 2)
    model.pop()
    assert model.output_shape == (None, 3) and len(model.layers) == 1


def _grown(lib):
    model = lib.Sequential()
    model.add(lib.Input((6,)))
    model.add(lib.layers.Dense(5, activation="relu"))
    model.add(lib.layers.Dropout(0.2))
    model.add(lib.layers.Dense(2))
    return model


def test_add_and_pop_follow_keras(keras_ref, rng):
    ours, theirs = _grown(jkeras), _grown(keras_ref)
    assert [type(l).__name__ for l in ours.layers] == [type(l).__name__ for l in theirs.layers]
    assert ours.output_shape == tuple(theirs.output_shape) == (None, 2)
    assert ours.count_params() == theirs.count_params()
    ours.set_weights(theirs.get_weights())
    x = rng.normal(size=(3, 6)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)
    ours.pop()
    theirs.pop()
    assert ours.output_shape == tuple(theirs.output_shape) == (None, 5)
    assert len(ours.layers) == len(theirs.layers) == 2


def test_adding_what_is_not_a_layer_is_refused_and_changes_nothing():
    model = Sequential([jkeras.Input((4,)), layers.Dense(3)])
    model.add(layers.Dense(2))
    with pytest.raises(TypeError, match=r"instance of class Layer.*'not a layer' of type str"):
        model.add("not a layer")
    assert len(model.layers) == 2 and model.output_shape == (None, 2)
