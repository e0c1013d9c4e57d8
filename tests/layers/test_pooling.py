"""Pooling layers against real Keras 3 (and NumPy for the masked mean)."""
import numpy as np
import pytest

from jkeras.layers import pooling

CF = {"data_format": "channels_first"}


def check_pooling(keras, name, kwargs, input_shape, rng, keras_kwargs=None):
    x = rng.standard_normal(input_shape).astype("float32")
    ref = getattr(keras.layers, name)(**(kwargs if keras_kwargs is None else keras_kwargs))
    expected = np.asarray(ref(x))
    ours = getattr(pooling, name)(**kwargs)
    got = np.asarray(ours(x))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-5)
    assert ours.weights == [] and ours.count_params() == 0
    for shape in [(None,) + tuple(input_shape[1:]),
                  tuple(None if i in (1, 2) else d for i, d in enumerate(input_shape))]:
        assert tuple(ours.compute_output_shape(shape)) == tuple(ref.compute_output_shape(shape))
    config = ours.get_config()
    ref_config = ref.get_config()
    for key in set(config) & set(ref_config) - {"name", "dtype"}:
        value = config[key]
        assert (list(value) if isinstance(value, tuple) else value) == \
            (list(ref_config[key]) if isinstance(ref_config[key], tuple) else ref_config[key])
    assert type(ours).from_config(config).get_config() == config
    return ours


POOL_CASES = [
    ("MaxPooling1D", dict(), (2, 7, 3)),
    ("MaxPooling1D", dict(pool_size=3, strides=2, padding="same"), (2, 8, 3)),
    ("MaxPooling1D", dict(pool_size=2, padding="same", **CF), (2, 3, 7)),
    ("AveragePooling1D", dict(pool_size=3), (2, 7, 3)),
    ("AveragePooling1D", dict(pool_size=3, strides=2, padding="same"), (2, 8, 3)),
    ("AveragePooling1D", dict(pool_size=2, strides=1, padding="same", **CF), (2, 3, 7)),
    ("MaxPooling2D", dict(), (2, 7, 7, 3)),
    ("MaxPooling2D", dict(pool_size=(3, 2), strides=(2, 1), padding="same"), (2, 7, 6, 3)),
    ("MaxPooling2D", dict(pool_size=3, padding="same", **CF), (2, 3, 7, 5)),
    ("AveragePooling2D", dict(pool_size=3, strides=2), (2, 7, 7, 3)),
    ("AveragePooling2D", dict(pool_size=3, strides=2, padding="same"), (2, 7, 7, 3)),
    ("AveragePooling2D", dict(pool_size=(2, 3), padding="same", **CF), (2, 3, 7, 5)),
    ("AveragePooling2D", dict(pool_size=2, strides=1, padding="same"), (2, 5, 4, 3)),
    ("MaxPooling3D", dict(), (2, 4, 5, 4, 2)),
    ("MaxPooling3D", dict(pool_size=3, strides=2, padding="same", **CF), (2, 2, 5, 4, 5)),
    ("AveragePooling3D", dict(pool_size=(2, 3, 1), padding="same"), (2, 3, 5, 4, 2)),
    ("AveragePooling3D", dict(pool_size=2, strides=1, **CF), (2, 2, 3, 4, 5)),
]

GLOBAL_CASES = [
    ("GlobalMaxPooling1D", dict(), (2, 5, 3)),
    ("GlobalMaxPooling1D", dict(keepdims=True, **CF), (2, 3, 5)),
    ("GlobalAveragePooling1D", dict(), (2, 5, 3)),
    ("GlobalAveragePooling1D", dict(keepdims=True, **CF), (2, 3, 5)),
    ("GlobalMaxPooling2D", dict(), (2, 4, 5, 3)),
    ("GlobalMaxPooling2D", dict(keepdims=True, **CF), (2, 3, 4, 5)),
    ("GlobalAveragePooling2D", dict(keepdims=True), (2, 4, 5, 3)),
    ("GlobalAveragePooling2D", dict(**CF), (2, 3, 4, 5)),
    ("GlobalMaxPooling3D", dict(**CF), (2, 3, 2, 4, 3)),
    ("GlobalAveragePooling3D", dict(keepdims=True), (2, 2, 4, 3, 3)),
]


@pytest.mark.parametrize("name,kwargs,shape", POOL_CASES)
def test_pooling_matches_keras(keras_ref, rng, name, kwargs, shape):
    keras_kwargs = dict(kwargs)
    keras_kwargs.setdefault("pool_size", 2)  # Keras 3 has no default pool_size for 1D
    check_pooling(keras_ref, name, kwargs, shape, rng, keras_kwargs)


@pytest.mark.parametrize("name,kwargs,shape", GLOBAL_CASES)
def test_global_pooling_matches_keras(keras_ref, rng, name, kwargs, shape):
    check_pooling(keras_ref, name, kwargs, shape, rng)


def test_average_same_excludes_padding_numpy(rng):
    x = rng.standard_normal((1, 5, 1)).astype("float32")
    got = np.asarray(pooling.AveragePooling1D(2, padding="same")(x))[0, :, 0]
    expected = [x[0, 0:2, 0].mean(), x[0, 2:4, 0].mean(), x[0, 4, 0]]
    np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize("data_format,keepdims", [("channels_last", False),
                                                  ("channels_first", True)])
def test_masked_global_average_pooling_1d(keras_ref, rng, data_format, keepdims):
    x = rng.standard_normal((3, 5, 4)).astype("float32")
    mask = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [0, 1, 0, 1, 0]], bool)
    if data_format == "channels_first":
        x = x.transpose(0, 2, 1)
    kwargs = dict(data_format=data_format, keepdims=keepdims)
    ours = pooling.GlobalAveragePooling1D(**kwargs)
    got = np.asarray(ours(x, mask=mask))
    expected = np.asarray(keras_ref.layers.GlobalAveragePooling1D(**kwargs)(x, mask=mask))
    np.testing.assert_allclose(got, expected, atol=1e-6)
    steps = 1 if data_format == "channels_last" else 2
    weights = np.expand_dims(mask, 3 - steps).astype("float32")
    numpy_mean = (x * weights).sum(steps, keepdims=keepdims) / weights.sum(
        steps, keepdims=keepdims)
    np.testing.assert_allclose(got, numpy_mean, atol=1e-6)
    assert ours.compute_mask(x, mask) is None


def test_global_max_and_pool_1d_ignore_masks(rng):
    x = rng.standard_normal((2, 6, 3)).astype("float32")
    mask = np.array([[1, 1, 0, 0, 0, 0]] * 2, bool)
    for layer in [pooling.GlobalMaxPooling1D(), pooling.MaxPooling1D(),
                  pooling.AveragePooling1D()]:
        np.testing.assert_array_equal(np.asarray(layer(x, mask=mask)), np.asarray(layer(x)))
        assert layer.compute_mask(x, mask) is None


def test_masked_pooling_in_a_graph(keras_ref):
    from jkeras.engine.functional import Functional
    from jkeras.engine.input_layer import Input
    from jkeras.layers.embeddings import Embedding
    tokens = np.array([[1, 2, 0, 0, 0], [3, 4, 5, 6, 0]], "int32")
    ref_in = keras_ref.Input((5,), dtype="int32")
    ref_embedding = keras_ref.layers.Embedding(10, 4, mask_zero=True)
    ref_model = keras_ref.Model(
        ref_in, keras_ref.layers.GlobalAveragePooling1D()(ref_embedding(ref_in)))
    inputs = Input((5,), dtype="int32")
    embedding = Embedding(10, 4, mask_zero=True, embeddings_initializer="ones")
    embedded = embedding(inputs)
    pooled = pooling.GlobalAveragePooling1D()(embedded)
    assert tuple(pooled.shape) == (None, 4) and pooled._mask_spec is None
    embedding.set_weights(ref_embedding.get_weights())
    np.testing.assert_allclose(np.asarray(Functional(inputs, pooled)(tokens)),
                               np.asarray(ref_model(tokens)), atol=1e-6)
    windowed = pooling.MaxPooling1D(3, padding="same")(embedded)
    assert tuple(windowed.shape) == (None, 2, 4) and windowed._mask_spec is None


def test_strides_default_to_pool_size_and_keras2_defaults():
    layer = pooling.MaxPooling2D((3, 2))
    assert layer.strides == (3, 2)
    assert pooling.AveragePooling1D().pool_size == (2,)
    assert pooling.MaxPooling3D().pool_size == (2, 2, 2)
    assert pooling.GlobalAveragePooling1D().data_format == "channels_last"


def test_aliases():
    assert pooling.MaxPool2D is pooling.MaxPooling2D
    assert pooling.AvgPool1D is pooling.AveragePooling1D
    assert pooling.GlobalAvgPool2D is pooling.GlobalAveragePooling2D
    assert pooling.GlobalMaxPool3D is pooling.GlobalMaxPooling3D


@pytest.mark.parametrize("make,message", [
    (lambda: pooling.MaxPooling2D(0), "pool_size"),
    (lambda: pooling.AveragePooling2D(2, strides=(1, 0)), "strides"),
    (lambda: pooling.MaxPooling1D(2, padding="causal"), "padding"),
    (lambda: pooling.GlobalMaxPooling2D(data_format="nhwc"), "data_format"),
])
def test_bad_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_too_small_input_is_reported():
    with pytest.raises(ValueError, match="zero or negative"):
        pooling.MaxPooling2D(3).compute_output_shape((None, 2, 5, 1))
