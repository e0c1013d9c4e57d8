"""LayerScale, StochasticDepth and CustomScaleLayer against the Keras 3 layers of the same
names (which live inside keras.src.applications)."""
import jax
import numpy as np
import pytest

import jkeras
from jkeras.layers import CustomScaleLayer, LayerScale, StochasticDepth


def test_layer_scale_equals_keras(keras_ref, rng):
    from keras.src.applications.convnext import LayerScale as KerasLayerScale
    x = rng.normal(size=(2, 3, 3, 4)).astype("float32")
    theirs = KerasLayerScale(0.5, 4)
    expected = np.asarray(theirs(x))
    ours = LayerScale(0.5, 4)
    variables = ours.init(jax.random.PRNGKey(0), x.shape)
    assert list(variables["params"]) == ["variable"]
    np.testing.assert_allclose(variables["params"]["variable"], np.full(4, 0.5))
    out, _ = ours.apply(variables, x)
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    gamma = rng.normal(size=4).astype("float32")
    theirs.set_weights([gamma])
    out, _ = ours.apply({"params": {"variable": gamma}, "state": {}}, x)
    np.testing.assert_allclose(out, np.asarray(theirs(x)), rtol=1e-6)


def test_layer_scale_checks_its_width():
    with pytest.raises(ValueError, match="projection_dim"):
        LayerScale(1e-6, 0)
    with pytest.raises(ValueError, match="projection_dim=4"):
        LayerScale(1e-6, 4).init(jax.random.PRNGKey(0), (None, 5))


def test_custom_scale_layer_equals_keras(keras_ref, rng):
    from keras.src.applications.inception_resnet_v2 import CustomScaleLayer as Theirs
    a, b = (rng.normal(size=(2, 5)).astype("float32") for _ in range(2))
    out, _ = CustomScaleLayer(0.17).apply({"params": {}, "state": {}}, [a, b])
    np.testing.assert_allclose(out, np.asarray(Theirs(0.17)([a, b])), rtol=1e-6)


def test_stochastic_depth_drops_whole_samples_in_training_only():
    layer = StochasticDepth(0.5)
    x = np.ones((64, 3, 3, 2), "float32")
    variables = {"params": {}, "state": {}}
    out, _ = layer.apply(variables, x)
    np.testing.assert_array_equal(out, x)
    out, _ = layer.apply(variables, x, training=True, key=jax.random.PRNGKey(1))
    out = np.asarray(out)
    per_sample = out.reshape(64, -1)
    assert set(np.unique(per_sample)) <= {0.0, 2.0}  # kept samples scaled by 1 / keep
    assert all(len(set(row)) == 1 for row in per_sample)  # the whole sample or nothing
    assert 10 < (per_sample[:, 0] == 0).sum() < 54
    with pytest.raises(ValueError, match="PRNG key"):
        layer.apply(variables, x, training=True)
    with pytest.raises(ValueError, match="drop_path_rate"):
        StochasticDepth(1.0)


def test_residual_layers_round_trip_through_a_saved_model(tmp_path, rng):
    inputs = jkeras.Input((4,))
    branch = jkeras.layers.Dense(4)(inputs)
    scaled = LayerScale(0.1, 4)(branch)
    dropped = StochasticDepth(0.2)(scaled)
    outputs = CustomScaleLayer(0.5)([inputs, dropped])
    model = jkeras.Model(inputs, outputs)
    x = rng.normal(size=(3, 4)).astype("float32")
    path = str(tmp_path / "residual.h5")
    model.save(path)
    loaded = jkeras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    assert [type(l).__name__ for l in loaded.layers[-3:]] == [
        "LayerScale", "StochasticDepth", "CustomScaleLayer"]
