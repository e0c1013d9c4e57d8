"""Tests for jkeras.utils.np_utils against Keras's `to_categorical` and `normalize`."""
import numpy as np
import pytest

from jkeras.utils import np_utils


@pytest.mark.parametrize("labels, num_classes", [
    ([0, 2, 1, 2], None),
    ([[0], [3], [1]], None),
    ([[0], [3], [1]], 5),
    ([[0, 1], [2, 0]], None),
    (np.array([1.0, 0.0]), 3),
])
def test_to_categorical_matches_keras(keras_ref, labels, num_classes):
    expected = keras_ref.utils.to_categorical(labels, num_classes)
    got = np_utils.to_categorical(labels, num_classes)
    assert got.dtype == np.float32
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_to_categorical_column_vector_gives_two_dims():
    out = np_utils.to_categorical(np.array([[1], [0], [2]]))
    assert out.shape == (3, 3)
    np.testing.assert_array_equal(out.argmax(-1), [1, 0, 2])


def test_to_categorical_dtype_and_errors():
    assert np_utils.to_categorical([0, 1], dtype="int32").dtype == np.int32
    with pytest.raises(ValueError, match="num_classes=2"):
        np_utils.to_categorical([0, 3], num_classes=2)
    with pytest.raises(ValueError, match="integer"):
        np_utils.to_categorical([0.5, 1.0])


@pytest.mark.parametrize("order", [2, 1])
def test_normalize_matches_keras_last_axis(keras_ref, rng, order):
    x = rng.normal(size=(4, 3))
    x[1] = 0.0
    expected = keras_ref.utils.normalize(x, axis=-1, order=order)
    np.testing.assert_allclose(np_utils.normalize(x, order=order), expected, rtol=1e-6)


@pytest.mark.parametrize("axis, order", [(0, 2), (1, np.inf), (0, 1)])
def test_normalize_other_axes_numpy_reference(rng, axis, order):
    # Keras 3's normalize mishandles axis=0, so this one is checked against NumPy.
    x = rng.normal(size=(4, 3))
    x[:, 2] = 0.0
    x[1] = 0.0
    norms = np.linalg.norm(x, order, axis=axis, keepdims=True)
    expected = x / np.where(norms == 0, 1, norms)
    np.testing.assert_allclose(np_utils.normalize(x, axis=axis, order=order), expected)
