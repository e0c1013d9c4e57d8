"""Noise layers: identities at inference (as Keras), and the statistics and spatial pattern of
their training-time noise."""
import jax
import numpy as np
import pytest

from jkeras.layers import noise


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


CASES = [
    (noise.GaussianNoise, "GaussianNoise", dict(stddev=0.5), (4, 6)),
    (noise.GaussianDropout, "GaussianDropout", dict(rate=0.3), (4, 6)),
    (noise.AlphaDropout, "AlphaDropout", dict(rate=0.2), (4, 6)),
    (noise.SpatialDropout1D, "SpatialDropout1D", dict(rate=0.4), (2, 5, 3)),
    (noise.SpatialDropout2D, "SpatialDropout2D", dict(rate=0.4), (2, 4, 4, 3)),
    (noise.SpatialDropout3D, "SpatialDropout3D", dict(rate=0.4), (2, 3, 3, 3, 2)),
]


@pytest.mark.parametrize("cls, keras_name, kwargs, shape", CASES)
def test_identity_at_inference_and_config(keras_ref, rng, cls, keras_name, kwargs, shape):
    x = rng.normal(size=shape).astype("float32")
    ours, theirs = cls(**kwargs), getattr(keras_ref.layers, keras_name)(**kwargs)
    np.testing.assert_array_equal(ours(x), theirs(x, training=False))
    assert ours.weights == [] and ours.count_params() == 0
    config, reference = ours.get_config(), theirs.get_config()
    for key in (set(config) & set(reference)) - {"name", "dtype"}:
        assert _plain(config[key]) == _plain(reference[key]), key
    assert cls.from_config(config).get_config() == config


def _train(layer, x, seed=0):
    layer.build_from_shape(x.shape)
    out, _ = layer.apply(layer.variables_tree(), x, training=True, key=jax.random.PRNGKey(seed))
    return np.asarray(out)


def test_training_needs_a_key():
    layer = noise.GaussianNoise(0.1)
    layer.build_from_shape((None, 3))
    with pytest.raises(ValueError, match="key"):
        layer.apply(layer.variables_tree(), np.ones((2, 3), "float32"), training=True, key=None)


def test_gaussian_noise_statistics():
    x = np.full((200, 100), 3.0, "float32")
    out = _train(noise.GaussianNoise(0.5), x)
    assert abs(out.mean() - 3.0) < 0.01 and abs(out.std() - 0.5) < 0.01


def test_gaussian_dropout_statistics():
    x = np.full((200, 100), 2.0, "float32")
    out = _train(noise.GaussianDropout(0.2), x)
    # multiplicative noise of mean 1, std sqrt(rate / (1 - rate)) = 0.5
    assert abs(out.mean() - 2.0) < 0.02 and abs(out.std() - 1.0) < 0.02


def test_alpha_dropout_keeps_selu_moments():
    x = np.random.default_rng(1).normal(size=(400, 100)).astype("float32")
    out = _train(noise.AlphaDropout(0.3), x)
    assert abs(out.mean()) < 0.02 and abs(out.std() - 1.0) < 0.02
    # dropped units share one value: a * alpha' + b
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - 0.3) * (1 + 0.3 * alpha_p ** 2)) ** -0.5
    dropped = np.isclose(out, a * alpha_p - a * alpha_p * 0.3, atol=1e-6)
    assert abs(dropped.mean() - 0.3) < 0.01


@pytest.mark.parametrize("cls, shape, fmt, channel_axis", [
    (noise.SpatialDropout1D, (40, 6, 8), None, 2),
    (noise.SpatialDropout2D, (40, 5, 5, 8), "channels_last", 3),
    (noise.SpatialDropout2D, (40, 8, 5, 5), "channels_first", 1),
    (noise.SpatialDropout3D, (40, 3, 3, 3, 8), "channels_last", 4),
    (noise.SpatialDropout3D, (40, 8, 3, 3, 3), "channels_first", 1),
])
def test_spatial_dropout_drops_whole_channels(cls, shape, fmt, channel_axis):
    x = np.ones(shape, "float32")
    layer = cls(0.5) if fmt is None else cls(0.5, data_format=fmt)
    out = _train(layer, x)
    assert set(np.unique(out)) <= {0.0, 2.0}
    spatial = tuple(i for i in range(1, len(shape)) if i != channel_axis)
    # each (sample, channel) map is all dropped or all kept
    assert np.all(out.min(axis=spatial) == out.max(axis=spatial))
    kept = (out.max(axis=spatial) > 0).mean()
    assert 0.4 < kept < 0.6


def test_spatial_dropout_checks_rank():
    with pytest.raises(ValueError, match="ndim"):
        noise.SpatialDropout2D(0.5)(np.ones((2, 3, 4), "float32"))


def test_rate_validation():
    with pytest.raises(ValueError, match="rate"):
        noise.GaussianDropout(1.5)
    with pytest.raises(ValueError, match="rate"):
        noise.AlphaDropout(-0.1)
