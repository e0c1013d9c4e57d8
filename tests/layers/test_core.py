"""Core and merge layers: forward passes against real Keras with the same weights."""
import jax
import numpy as np
import pytest

import jkeras
from jkeras import layers


def _run_both(keras_ref, ours, theirs, inputs):
    """Builds both layers on `inputs`, copies Keras's weights into ours, returns outputs."""
    expected = np.asarray(theirs(inputs))
    ours(inputs)  # builds
    ours.set_weights(theirs.get_weights())
    return np.asarray(ours(inputs)), expected


@pytest.mark.parametrize("kwargs", [
    {"units": 5},
    {"units": 3, "activation": "relu", "use_bias": False},
    {"units": 4, "activation": "softmax"},
])
def test_dense_matches_keras(keras_ref, rng, kwargs):
    x = rng.standard_normal((4, 6)).astype("float32")
    got, expected = _run_both(keras_ref, layers.Dense(**kwargs),
                              keras_ref.layers.Dense(**kwargs), x)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_dense_on_3d_inputs_and_weight_names(keras_ref, rng):
    x = rng.standard_normal((2, 3, 6)).astype("float32")
    ours = layers.Dense(4, name="d")
    got, expected = _run_both(keras_ref, ours, keras_ref.layers.Dense(4), x)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert [w.name for w in ours.weights] == ["d/kernel:0", "d/bias:0"]


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid", "softmax", "elu", "selu",
                                  "softplus", "softsign", "exponential", "linear", "swish"])
def test_activation_layer_matches_keras(keras_ref, rng, name):
    x = rng.standard_normal((3, 5)).astype("float32")
    got, expected = _run_both(keras_ref, layers.Activation(name),
                              keras_ref.layers.Activation(name), x)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_dropout_is_identity_at_inference_and_scales_in_training(rng):
    x = np.ones((200, 50), "float32")
    layer = layers.Dropout(0.4)
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    out, _ = layer.apply({"params": {}, "state": {}}, x, training=True,
                         key=jax.random.PRNGKey(0))
    out = np.asarray(out)
    kept = out != 0
    assert abs(kept.mean() - 0.6) < 0.02
    np.testing.assert_allclose(out[kept], 1 / 0.6, rtol=1e-6)
    with pytest.raises(ValueError, match="rate=1.5"):
        layers.Dropout(1.5)


def test_dropout_noise_shape_drops_whole_columns():
    layer = layers.Dropout(0.5, noise_shape=(None, 1, 8))
    out, _ = layer.apply({"params": {}, "state": {}}, np.ones((4, 6, 8), "float32"),
                         training=True, key=jax.random.PRNGKey(1))
    out = np.asarray(out)
    assert (out == out[:, :1, :]).all()


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_flatten_matches_keras(keras_ref, rng, data_format):
    x = rng.standard_normal((2, 3, 4, 5)).astype("float32")
    got, expected = _run_both(keras_ref, layers.Flatten(data_format=data_format),
                              keras_ref.layers.Flatten(data_format=data_format), x)
    np.testing.assert_allclose(got, expected)


def test_reshape_permute_repeat_match_keras(keras_ref, rng):
    x = rng.standard_normal((2, 3, 4)).astype("float32")
    for ours, theirs in [(layers.Reshape((4, 3)), keras_ref.layers.Reshape((4, 3))),
                         (layers.Reshape((-1, 2)), keras_ref.layers.Reshape((-1, 2))),
                         (layers.Permute((2, 1)), keras_ref.layers.Permute((2, 1)))]:
        got, expected = _run_both(keras_ref, ours, theirs, x)
        np.testing.assert_allclose(got, expected)
    v = rng.standard_normal((2, 5)).astype("float32")
    got, expected = _run_both(keras_ref, layers.RepeatVector(3),
                              keras_ref.layers.RepeatVector(3), v)
    np.testing.assert_allclose(got, expected)


def test_symbolic_shapes_of_reshaping_layers():
    x = jkeras.Input(shape=(3, 4))
    assert layers.Reshape((-1,))(x).shape == (None, 12)
    assert layers.Reshape((2, -1))(x).shape == (None, 2, 6)
    assert layers.Permute((2, 1))(x).shape == (None, 4, 3)
    assert layers.Flatten()(x).shape == (None, 12)
    assert layers.RepeatVector(5)(layers.Flatten()(x)).shape == (None, 5, 12)
    seq = jkeras.Input(shape=(None, 4))
    assert layers.Flatten()(seq).shape == (None, None)


def test_lambda_with_and_without_output_shape(rng):
    x = jkeras.Input(shape=(4,))
    doubled = layers.Lambda(lambda t: t * 2)(x)
    assert doubled.shape == (None, 4)
    pair = layers.Lambda(lambda t: jax.numpy.concatenate([t, t], -1),
                         output_shape=(8,))(x)
    assert pair.shape == (None, 8)
    model = jkeras.Model(x, [doubled, pair])
    data = rng.random((3, 4)).astype("float32")
    a, b = model.predict(data)
    np.testing.assert_allclose(a, data * 2, rtol=1e-6)
    np.testing.assert_allclose(b, np.concatenate([data, data], -1), rtol=1e-6)
    scaled = layers.Lambda(lambda t, k: t * k, arguments={"k": 3.0})
    np.testing.assert_allclose(np.asarray(scaled(data)), data * 3, rtol=1e-6)


def test_masking_matches_keras(keras_ref, rng):
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    x[0, 1] = 0.0
    x[1, 3:] = 0.0
    got, expected = _run_both(keras_ref, layers.Masking(0.0), keras_ref.layers.Masking(0.0), x)
    np.testing.assert_allclose(got, expected)
    mask = np.asarray(layers.Masking(0.0).compute_mask(x))
    np.testing.assert_array_equal(
        mask, np.asarray(keras_ref.layers.Masking(0.0).compute_mask(x)))
    tensor = layers.Masking()(jkeras.Input(shape=(5, 3)))
    assert tensor._mask_spec is not None and tensor._mask_spec.shape == (None, 5)


def test_activity_regularization_adds_batch_mean_penalty(rng):
    x = jkeras.Input(shape=(3,))
    y = layers.ActivityRegularization(l1=0.1, l2=0.01)(x)
    model = jkeras.Model(x, y)
    data = rng.standard_normal((4, 3)).astype("float32")
    out, _, loss = model.apply_with_losses(model.variables_tree(), data)
    np.testing.assert_allclose(np.asarray(out), data)
    expected = (0.1 * np.abs(data).sum() + 0.01 * np.square(data).sum()) / 4
    np.testing.assert_allclose(float(loss), expected, rtol=1e-5)


MERGES = [("Add", {}), ("Subtract", {}), ("Multiply", {}), ("Average", {}),
          ("Maximum", {}), ("Minimum", {}), ("Concatenate", {"axis": -1}),
          ("Concatenate", {"axis": 1})]


@pytest.mark.parametrize("name,kwargs", MERGES)
def test_merge_layers_match_keras(keras_ref, rng, name, kwargs):
    a = rng.standard_normal((2, 3, 4)).astype("float32")
    b = rng.standard_normal((2, 3, 4)).astype("float32")
    got, expected = _run_both(keras_ref, getattr(layers, name)(**kwargs),
                              getattr(keras_ref.layers, name)(**kwargs), [a, b])
    np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize("axes,normalize,shapes", [
    (1, False, [(3, 4), (3, 4)]),
    (1, True, [(3, 4), (3, 4)]),
    ((2, 2), False, [(3, 5, 4), (3, 6, 4)]),
    ((1, 1), False, [(3, 5, 4), (3, 5, 2)]),
])
def test_dot_matches_keras(keras_ref, rng, axes, normalize, shapes):
    a, b = (rng.standard_normal(s).astype("float32") for s in shapes)
    got, expected = _run_both(keras_ref, layers.Dot(axes, normalize=normalize),
                              keras_ref.layers.Dot(axes, normalize=normalize), [a, b])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_functional_merge_forms_and_shapes():
    a, b = jkeras.Input(shape=(4,)), jkeras.Input(shape=(4,))
    assert layers.add([a, b]).shape == (None, 4)
    assert layers.concatenate([a, b]).shape == (None, 8)
    assert layers.dot([a, b], axes=1).shape == (None, 1)
    with pytest.raises(ValueError, match="incompatible shapes"):
        layers.add([a, jkeras.Input(shape=(5,))])


def test_symbolic_arithmetic_builds_layers(rng):
    a, b = jkeras.Input(shape=(3,)), jkeras.Input(shape=(3,))
    model = jkeras.Model([a, b], (a + b) * 2.0 - b[:, :1])
    x, y = rng.random((2, 3)).astype("float32"), rng.random((2, 3)).astype("float32")
    np.testing.assert_allclose(model.predict([x, y]), (x + y) * 2 - y[:, :1], rtol=1e-6)


def test_symbolic_arithmetic_with_a_constant_survives_a_config_round_trip(rng):
    a = jkeras.Input(shape=(3,))
    model = jkeras.Model(a, layers.ReLU(6.0)(a + 3.0) * (1.0 / 6.0))
    clone = jkeras.Model.from_config(model.get_config())
    x = rng.normal(size=(2, 3)).astype("float32") * 4
    np.testing.assert_allclose(clone.predict(x, verbose=0), np.clip(x + 3, 0, 6) / 6,
                               rtol=1e-6)


def test_layer_config_round_trip():
    for layer in [layers.Dense(3, activation="relu", kernel_regularizer="l2"),
                  layers.Dropout(0.3), layers.Reshape((2, -1)), layers.Permute((2, 1)),
                  layers.Concatenate(axis=1), layers.Dot(axes=(1, 2), normalize=True)]:
        config = layer.get_config()
        clone = type(layer).from_config(config)
        assert clone.get_config() == config


def test_dense_config_keys_match_keras2():
    config = layers.Dense(3, name="d").get_config()
    assert config["name"] == "d" and config["units"] == 3
    assert config["kernel_initializer"]["class_name"] == "GlorotUniform"
    assert config["activation"] == "linear"
    assert set(config) >= {"use_bias", "bias_initializer", "kernel_regularizer",
                           "bias_regularizer", "activity_regularizer", "kernel_constraint",
                           "bias_constraint", "trainable", "dtype"}


def test_first_layer_shape_arguments():
    def first_shape(**kwargs):
        return layers.Dense(2, **kwargs).get_config()["batch_input_shape"]
    assert first_shape(input_dim=7) == [None, 7]
    assert first_shape(input_shape=(7,), batch_size=4) == [4, 7]
    assert first_shape(batch_input_shape=(None, 3)) == [None, 3]
    with pytest.raises(TypeError, match="not understood"):
        layers.Dense(2, bogus=1)
