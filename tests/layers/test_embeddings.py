"""Embedding against real Keras 3 (lookups, mask) and Keras 2's first-layer shape rules."""
import numpy as np
import pytest

from jkeras.layers.embeddings import Embedding
from tests.conftest import assert_config_like_keras


def test_lookup_matches_keras(keras_ref, rng):
    ids = rng.integers(0, 10, (3, 5))
    k = keras_ref.layers.Embedding(10, 4)
    k(ids)
    o = Embedding(10, 4)
    o.build_from_shape((None, 5))
    assert [w.name for w in o.weights] == [f"{o.name}/embeddings:0"]
    assert o.weights[0].shape == tuple(k.weights[0].shape)
    assert o.count_params() == k.count_params()
    o.set_weights(k.get_weights())
    np.testing.assert_allclose(o(ids), k(ids), atol=1e-6)
    # float indices are cast to int32
    np.testing.assert_allclose(o(ids.astype("float32")), k(ids), atol=1e-6)


def test_mask_zero(keras_ref, rng):
    ids = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    o = Embedding(5, 3, mask_zero=True)
    k = keras_ref.layers.Embedding(5, 3, mask_zero=True)
    np.testing.assert_array_equal(o.compute_mask(ids), k.compute_mask(ids))
    assert o.compute_mask(ids).dtype == bool
    assert Embedding(5, 3).compute_mask(ids) is None


def test_mask_propagates_symbolically():
    from jkeras.engine.input_layer import Input
    x = Input((6,))
    y = Embedding(5, 3, mask_zero=True)(x)
    assert y.shape == (None, 6, 3)
    assert y._mask_spec is not None and tuple(y._mask_spec.shape) == (None, 6)


def test_default_initializer_is_uniform_005():
    layer = Embedding(200, 50)
    layer.build_from_shape((None, 3))
    table = layer.get_weights()[0]
    assert np.abs(table).max() <= 0.05 and table.std() > 0.02


def test_input_length_sets_first_layer_shape():
    assert Embedding(10, 4, input_length=7).get_config()["batch_input_shape"] == [None, 7]
    assert Embedding(10, 4).get_config()["batch_input_shape"] == [None, None]
    assert Embedding(10, 4, input_shape=(3,)).get_config()["batch_input_shape"] == [None, 3]
    layer = Embedding(10, 4, input_length=7)
    assert layer.compute_output_shape((None, None)) == (None, 7, 4)
    with pytest.raises(ValueError, match="input_length"):
        layer.compute_output_shape((None, 5))


def test_config(keras_ref):
    kwargs = dict(input_dim=12, output_dim=3, mask_zero=True,
                  embeddings_initializer="glorot_uniform", embeddings_regularizer="l2")
    ours = Embedding(input_length=4, **kwargs)
    config = ours.get_config()
    theirs = keras_ref.layers.Embedding(**kwargs).get_config()
    shared = assert_config_like_keras(config, theirs)
    assert {"input_dim", "output_dim", "mask_zero", "embeddings_initializer"} <= shared
    assert config["input_length"] == 4 and config["batch_input_shape"] == [None, 4]
    again = Embedding.from_config(config)
    assert again.get_config() == config


def test_rejects_bad_dims():
    with pytest.raises(ValueError, match="input_dim"):
        Embedding(0, 3)
    with pytest.raises(ValueError, match="output_dim"):
        Embedding(3, -1)
