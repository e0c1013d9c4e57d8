"""Activation layers against real Keras 3 (ThresholdedReLU, gone from Keras 3, against
NumPy)."""
import numpy as np
import pytest

from jkeras.layers import advanced_activations as act
from tests.conftest import assert_config_like_keras

TOL = dict(atol=1e-6, rtol=1e-6)


def _check(ours, theirs, x):
    np.testing.assert_allclose(ours(x), theirs(x), **TOL)
    assert_config_like_keras(ours, theirs)


@pytest.mark.parametrize("kwargs", [{}, dict(max_value=1.5), dict(negative_slope=0.1),
                                    dict(threshold=0.5, negative_slope=0.2, max_value=2.0)])
def test_relu(keras_ref, rng, kwargs):
    x = rng.normal(0, 2, (4, 7)).astype("float32")
    _check(act.ReLU(**kwargs), keras_ref.layers.ReLU(**kwargs), x)


def test_relu_rejects_negative_arguments():
    with pytest.raises(ValueError, match="max_value"):
        act.ReLU(max_value=-1)
    with pytest.raises(ValueError, match="threshold"):
        act.ReLU(threshold=-0.5)


def test_leaky_relu_keras2_default_and_spellings(keras_ref, rng):
    x = rng.normal(size=(3, 5)).astype("float32")
    ours = act.LeakyReLU()
    assert ours.alpha == 0.3 and ours.get_config()["alpha"] == 0.3
    np.testing.assert_allclose(ours(x), keras_ref.layers.LeakyReLU(negative_slope=0.3)(x),
                               **TOL)
    np.testing.assert_allclose(act.LeakyReLU(negative_slope=0.1)(x),
                               keras_ref.layers.LeakyReLU(negative_slope=0.1)(x), **TOL)
    np.testing.assert_allclose(act.LeakyReLU(alpha=0.2)(x),
                               keras_ref.layers.LeakyReLU(negative_slope=0.2)(x), **TOL)
    assert act.LeakyReLU.from_config(act.LeakyReLU(0.2).get_config()).alpha == 0.2


@pytest.mark.parametrize("shared_axes, shape", [(None, (3, 4, 5)), ([1], (3, 4, 5)),
                                                ([1, 2], (2, 3, 3, 4))])
def test_prelu(keras_ref, rng, shared_axes, shape):
    x = rng.normal(size=shape).astype("float32")
    k = keras_ref.layers.PReLU(shared_axes=shared_axes, alpha_initializer="random_uniform")
    k(x)
    o = act.PReLU(shared_axes=shared_axes, alpha_initializer="random_uniform")
    o.build_from_shape((None,) + shape[1:])
    assert [w.name.split("/")[-1] for w in o.weights] == ["alpha:0"]
    assert o.weights[0].shape == tuple(k.weights[0].shape)
    assert o.count_params() == k.count_params()
    o.set_weights(k.get_weights())
    _check(o, k, x)


def test_prelu_regularizer_and_constraint_are_found():
    layer = act.PReLU(alpha_regularizer="l2", alpha_constraint="non_neg")
    layer.build_from_shape((None, 3))
    assert layer.has_regularizers() and layer.has_constraints()


def test_elu(keras_ref, rng):
    x = rng.normal(size=(3, 6)).astype("float32")
    _check(act.ELU(), keras_ref.layers.ELU(), x)
    _check(act.ELU(alpha=0.5), keras_ref.layers.ELU(alpha=0.5), x)


def test_thresholded_relu(rng):
    x = rng.normal(0, 2, (4, 5)).astype("float32")
    np.testing.assert_allclose(act.ThresholdedReLU()(x), np.where(x > 1.0, x, 0.0), **TOL)
    np.testing.assert_allclose(act.ThresholdedReLU(theta=0.3)(x), np.where(x > 0.3, x, 0.0),
                               **TOL)
    layer = act.ThresholdedReLU(theta=0.3)
    assert act.ThresholdedReLU.from_config(layer.get_config()).theta == 0.3
    with pytest.raises(ValueError, match="theta"):
        act.ThresholdedReLU(theta=-1)


@pytest.mark.parametrize("axis", [-1, 1, [1, 2]])
def test_softmax(keras_ref, rng, axis):
    x = rng.normal(size=(2, 3, 4)).astype("float32")
    _check(act.Softmax(axis=axis), keras_ref.layers.Softmax(axis=axis), x)


def test_softmax_mask(keras_ref, rng):
    x = rng.normal(size=(2, 3, 4)).astype("float32")
    mask = rng.uniform(size=(2, 3, 4)) > 0.3
    mask[..., 0] = True
    ours = act.Softmax()(x, mask=mask)
    np.testing.assert_allclose(ours, keras_ref.layers.Softmax()(x, mask=mask), **TOL)
    assert np.all(np.asarray(ours)[~mask] == 0)
    np.testing.assert_allclose(np.asarray(ours).sum(-1), 1.0, atol=1e-6)
    # a broadcastable mask
    row_mask = np.array([[True, True, False, True]])
    np.testing.assert_allclose(act.Softmax()(x, mask=row_mask),
                               keras_ref.layers.Softmax()(x, mask=row_mask), **TOL)


def test_symbolic_shapes():
    from jkeras.engine.input_layer import Input
    x = Input((4, 5))
    for layer in (act.ReLU(), act.LeakyReLU(), act.PReLU(), act.ELU(), act.ThresholdedReLU(),
                  act.Softmax()):
        assert layer(x).shape == (None, 4, 5)
