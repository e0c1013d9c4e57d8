"""Merge layers on inputs of different ranks and shapes: the built (symbolic) shape, the run
shape and the values all match real Keras."""
import numpy as np
import pytest

import jkeras
from jkeras import layers

ELEMENTWISE = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]

# Non-batch input shapes; lower-rank inputs get axes inserted after the batch axis.
SHAPES = [
    [(100,), (1, 100)],
    [(1, 100), (100,)],
    [(3,), (2, 3, 1)],
    [(4,), (3, 1)],
    [(1, 4), (3, 1)],
    [(None, 4), (3, 1)],
    [(2, 3), (2, 3)],
    [(4,), (2, 4), (3, 2, 1)],
]


def _concrete(shape, fill=3):
    return tuple(fill if d is None else d for d in shape)


def _symbolic_and_values(lib, layer, shapes, arrays):
    out = layer([lib.Input(shape=s) for s in shapes])
    return tuple(out.shape), np.asarray(layer(arrays))


def _check_against_keras(keras_ref, name, kwargs, shapes, rng):
    arrays = [rng.standard_normal((2,) + _concrete(s)).astype("float32") for s in shapes]
    k_shape, k_value = _symbolic_and_values(
        keras_ref, getattr(keras_ref.layers, name)(**kwargs), shapes, arrays)
    j_shape, j_value = _symbolic_and_values(
        jkeras, getattr(layers, name)(**kwargs), shapes, arrays)
    assert j_shape == k_shape
    assert j_value.shape == k_value.shape
    assert all(d is None or d == v for d, v in zip(j_shape, j_value.shape))
    np.testing.assert_allclose(j_value, k_value, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_merge_broadcasts_like_keras(keras_ref, rng, name, shapes):
    if name == "Subtract" and len(shapes) != 2:
        pytest.skip("Subtract takes exactly two inputs")
    _check_against_keras(keras_ref, name, {}, shapes, rng)


@pytest.mark.parametrize("axis,shapes", [
    (-1, [(None, 4), (3, 4)]),
    (-1, [(2, 3), (2, 5)]),
    (1, [(2, 3), (4, 3)]),
    (1, [(4,), (5,), (1,)]),
], ids=str)
def test_concatenate_shapes_match_keras(keras_ref, rng, axis, shapes):
    _check_against_keras(keras_ref, "Concatenate", {"axis": axis}, shapes, rng)


@pytest.mark.parametrize("axes,shapes", [
    ((2, 1), [(5, 4), (4,)]),
    ((1, 2), [(4,), (5, 4)]),
    ((3, 1), [(2, 3, 4), (4, 5)]),
    ((2, 1), [(2, 3), (3, 4, 5)]),
    (-1, [(3, 4), (3, 4)]),
], ids=str)
def test_dot_on_different_ranks_matches_keras(keras_ref, rng, axes, shapes):
    _check_against_keras(keras_ref, "Dot", {"axes": axes}, shapes, rng)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_model_run_shape_equals_built_shape(rng, name):
    """The Keras 2 example pattern: (None, 100) times (None, 1, 100) in a model."""
    a, b = jkeras.Input(shape=(100,)), jkeras.Input(shape=(1, 100))
    out = getattr(layers, name)()([a, b])
    assert out.shape == (None, 1, 100)
    model = jkeras.Model([a, b], out)
    x, y = rng.standard_normal((3, 100)), rng.standard_normal((3, 1, 100))
    got = model.predict([x, y], verbose=0)
    assert got.shape == (3, 1, 100)
    reference = {"Add": x[:, None] + y, "Subtract": x[:, None] - y,
                 "Multiply": x[:, None] * y, "Average": (x[:, None] + y) / 2,
                 "Maximum": np.maximum(x[:, None], y), "Minimum": np.minimum(x[:, None], y)}
    np.testing.assert_allclose(got, reference[name], rtol=1e-5, atol=1e-6)


def test_incompatible_ranks_and_shapes_raise_naming_the_layer():
    with pytest.raises(ValueError, match=r'"mul".*incompatible shapes.*\(None, 2, 5\)'):
        layers.Multiply(name="mul")([jkeras.Input(shape=(4,)), jkeras.Input(shape=(2, 5))])
    with pytest.raises(ValueError, match="matching shapes except for the concatenation"):
        layers.Concatenate()([jkeras.Input(shape=(4,)), jkeras.Input(shape=(2, 4))])


def test_masks_of_some_inputs_combine_with_and(rng):
    """Inputs without a mask do not count; the others are and-ed (Keras 2 and 3)."""
    x = jkeras.Input(shape=(3,))
    masked = layers.Embedding(5, 2, mask_zero=True)(x)
    plain = jkeras.Input(shape=(3, 2))
    out = layers.Add()([masked, plain])
    ids = np.array([[1, 0, 2]])
    mask = layers.Add().compute_mask(
        [np.zeros((1, 3, 2)), np.zeros((1, 3, 2))], [ids != 0, None])
    np.testing.assert_array_equal(np.asarray(mask), [[True, False, True]])
    assert out._mask_spec is not None
