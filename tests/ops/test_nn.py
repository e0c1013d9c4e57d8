"""K.in_top_k, K.normalize_batch_in_training, K.batch_normalization and
K.moving_average_update (jkeras/ops/nn.py) against Keras 3 ops and NumPy."""
import numpy as np
import pytest

from jkeras.engine.variables import Variable
from jkeras.ops import nn


def test_in_top_k_matches_keras_ties_included(keras_ref):
    predictions = np.array([[0.1, 0.5, 0.5, 0.2], [0.9, 0.05, 0.03, 0.02],
                            [np.nan, 0.1, 0.2, 0.3]], "float32")
    targets = np.array([2, 3, 0])
    got = np.asarray(nn.in_top_k(predictions, targets, 1))
    np.testing.assert_array_equal(got, [True, False, False])
    want = keras_ref.ops.in_top_k(targets[:2], predictions[:2], 2)
    np.testing.assert_array_equal(np.asarray(nn.in_top_k(predictions[:2], targets[:2], 2)),
                                  np.asarray(want))


@pytest.mark.parametrize("axes", [[0, 1, 2], [0, 2, 3]])
def test_normalize_batch_in_training_matches_keras(rng, keras_ref, axes):
    x = rng.normal(size=(4, 3, 5, 6)).astype("float32")
    kept = [a for a in range(4) if a not in axes]
    shape = tuple(x.shape[a] for a in kept)
    gamma = rng.uniform(0.5, 2, size=shape).astype("float32")
    beta = rng.normal(size=shape).astype("float32")
    normed, mean, var = nn.normalize_batch_in_training(x, gamma, beta, axes, epsilon=1e-3)
    ref_mean, ref_var = keras_ref.ops.moments(x, axes)
    np.testing.assert_allclose(np.asarray(mean), np.asarray(ref_mean), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(var), np.asarray(ref_var), rtol=1e-5, atol=1e-6)
    axis = kept[0]
    want = keras_ref.ops.batch_normalization(x, ref_mean, ref_var, axis=axis, offset=beta,
                                             scale=gamma, epsilon=1e-3)
    np.testing.assert_allclose(np.asarray(normed), np.asarray(want), rtol=1e-4, atol=1e-4)


def test_batch_normalization_along_axis_and_broadcast(rng, keras_ref):
    x = rng.normal(size=(2, 3, 4, 4)).astype("float32")
    mean, var = rng.normal(size=3).astype("float32"), rng.uniform(1, 2, 3).astype("float32")
    beta, gamma = rng.normal(size=3).astype("float32"), rng.normal(size=3).astype("float32")
    want = keras_ref.ops.batch_normalization(x, mean, var, axis=1, offset=beta, scale=gamma,
                                             epsilon=1e-3)
    got = nn.batch_normalization(x, mean, var, beta, gamma, axis=1)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-4, atol=1e-5)
    shaped = [v.reshape(1, 3, 1, 1) for v in (mean, var)]
    got = nn.batch_normalization(x, *shaped, None, None)
    want = (x - shaped[0]) / np.sqrt(shaped[1] + 1e-3)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-4, atol=1e-5)


def test_moving_average_update_writes_a_variable():
    cell = Variable(np.array([1.0, 2.0], "float32"))
    new = nn.moving_average_update(cell, np.array([3.0, 0.0]), 0.9)
    np.testing.assert_allclose(np.asarray(new), [1.2, 1.8], rtol=1e-6)
    np.testing.assert_allclose(cell.numpy(), [1.2, 1.8], rtol=1e-6)
    plain = nn.moving_average_update(np.array([0.0]), np.array([1.0]), 0.5)
    np.testing.assert_allclose(np.asarray(plain), [0.5])
