"""jkeras.engine.base_layer's Keras-style side: a user's layer written as Keras code
(`build` with `add_weight`, `call`, `get_config`) behaves as the same code does in Keras 3:
weights, trainable split, outputs, shapes known at graph-build time and configs."""
import numpy as np
import pytest

import jkeras


def scale_layer(lib):
    """The same user code for both libraries (`lib` is jkeras or keras)."""

    class Scale(lib.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units),
                                          initializer="glorot_uniform")
            self.offset = self.add_weight(name="offset", shape=(self.units,),
                                          initializer="ones", trainable=False)

        def call(self, inputs):
            return lib.activations.relu(inputs @ self.kernel + self.offset)

        def compute_output_shape(self, input_shape):
            return tuple(input_shape[:-1]) + (self.units,)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return Scale


def _model(lib, name="scale"):
    inputs = lib.Input((5, 4))
    return lib.Model(inputs, scale_layer(lib)(3, name=name)(inputs))


def test_weights_and_trainable_split_like_keras(keras_ref):
    ours, theirs = _model(jkeras), _model(keras_ref)
    ours_layer, their_layer = ours.get_layer("scale"), theirs.get_layer("scale")
    assert [w.name for w in ours_layer.weights] == ["scale/kernel:0", "scale/offset:0"]
    assert [w.path.split("/")[-1] for w in their_layer.weights] == ["kernel", "offset"]
    assert [w.shape for w in ours_layer.weights] == [tuple(w.shape) for w in their_layer.weights]
    assert len(ours.trainable_weights) == len(theirs.trainable_weights) == 1
    assert len(ours.non_trainable_weights) == len(theirs.non_trainable_weights) == 1
    assert ours.count_params() == theirs.count_params() == 4 * 3 + 3


def test_outputs_and_shapes_like_keras(keras_ref, rng):
    ours, theirs = _model(jkeras), _model(keras_ref)
    ours.set_weights(theirs.get_weights())
    x = rng.normal(size=(2, 5, 4)).astype("float32")
    got = ours.predict(x, verbose=0)
    np.testing.assert_allclose(got, theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
    assert ours.output_shape == tuple(theirs.output.shape) == (None, 5, 3)
    assert got.shape == (2,) + ours.output_shape[1:]  # the graph-time shape is the run shape


def test_trainable_false_freezes_like_keras(keras_ref, rng):
    ours, theirs = _model(jkeras), _model(keras_ref)
    ours.get_layer("scale").trainable = False
    theirs.get_layer("scale").trainable = False
    assert len(ours.trainable_weights) == len(theirs.trainable_weights) == 0
    x = rng.normal(size=(8, 5, 4)).astype("float32")
    ours.compile(jkeras.optimizers.SGD(0.1), "mse")
    before = ours.get_weights()
    ours.fit(x, np.zeros((8, 5, 3), "float32"), epochs=2, verbose=0)
    for a, b in zip(before, ours.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_config_round_trip_with_custom_objects(rng):
    model = _model(jkeras)
    layer_class = type(model.get_layer("scale"))
    clone = jkeras.models.model_from_json(model.to_json(),
                                          custom_objects={"Scale": layer_class})
    assert clone.get_layer("scale").units == 3
    clone.set_weights(model.get_weights())
    x = rng.normal(size=(2, 5, 4)).astype("float32")
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))


def test_add_weight_errors_name_the_layer():
    class Bad(jkeras.layers.Layer):
        def build(self, input_shape):
            self.add_weight(name="w", shape=(2,), initializer="no_such_initializer")

        def call(self, inputs):
            return inputs

    with pytest.raises(ValueError, match="no_such_initializer"):
        Bad(name="bad")(np.ones((1, 2), "float32"))


@pytest.mark.parametrize("build", [
    lambda L: (L.Dense(3), (2, 4), ("kernel", "bias")),
    lambda L: (L.Conv2D(2, 3), (1, 6, 6, 2), ("kernel", "bias")),
    lambda L: (L.BatchNormalization(), (2, 5), ("gamma", "beta", "moving_mean",
                                                "moving_variance")),
    lambda L: (L.LayerNormalization(), (2, 5), ("gamma", "beta")),
    lambda L: (L.Embedding(7, 3), (2, 4), ("embeddings",)),
])
def test_weights_under_their_keras_attribute_names(keras_ref, build):
    """`layer.kernel`, `bn.moving_mean`, ...: Keras 2 scripts read and write built-in
    layers' weights by attribute; the same names as Keras's, the same values."""
    from jkeras import backend as K
    ours, shape, names = build(jkeras.layers)
    theirs, _, _ = build(keras_ref.layers)
    theirs.build(shape)
    ours.build_from_shape(shape)
    ours.set_weights(theirs.get_weights())
    for name in names:
        np.testing.assert_array_equal(K.get_value(getattr(ours, name)),
                                      np.asarray(getattr(theirs, name)))
    first = getattr(ours, names[0])
    assert first in ours.weights and ours.weights.index(first) == 0  # handles compare equal
    K.set_value(first, np.ones(first.shape, "float32"))
    np.testing.assert_array_equal(ours.get_weights()[0], np.ones(first.shape))
    with pytest.raises(AttributeError, match="has no attribute 'no_such_weight'"):
        ours.no_such_weight
