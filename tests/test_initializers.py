"""jkeras.initializers: shapes, dtypes, statistics against the formulas, seeds, configs."""
import math

import jax
import numpy as np
import pytest

from jkeras import _config, initializers

BIG = (300, 200)  # fan_in 300, fan_out 200, 60k draws: std estimates within ~1%


def _std(value):
    return float(np.std(np.asarray(value, dtype="float64")))


@pytest.mark.parametrize("cls", [
    initializers.Zeros, initializers.Ones, initializers.RandomNormal,
    initializers.RandomUniform, initializers.TruncatedNormal, initializers.VarianceScaling,
    initializers.Orthogonal, initializers.GlorotUniform, initializers.GlorotNormal,
    initializers.HeUniform, initializers.HeNormal, initializers.LecunUniform,
    initializers.LecunNormal])
def test_shape_and_dtype(cls):
    init = cls()
    value = init((3, 4))
    assert value.shape == (3, 4) and value.dtype == np.dtype(_config.floatx())
    assert init((2, 5), dtype="float16").dtype == np.float16
    assert init((2, 5), dtype="bfloat16").shape == (2, 5)


def test_random_needs_float_dtype():
    with pytest.raises(ValueError, match="dtype=int32"):
        initializers.RandomNormal()((2, 2), dtype="int32")


def test_constants():
    np.testing.assert_array_equal(initializers.Zeros()((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(initializers.Ones()((2, 3)), np.ones((2, 3)))
    np.testing.assert_array_equal(initializers.Constant(2.5)((2, 3)), np.full((2, 3), 2.5))
    np.testing.assert_array_equal(initializers.Constant([1.0, 2.0, 3.0])((2, 3)),
                                  np.tile([1.0, 2.0, 3.0], (2, 1)))
    assert initializers.Constant(np.float32(2))((1,)).dtype == np.float32
    assert initializers.Constant(np.array([1.0, 2.0])).get_config() == {"value": [1.0, 2.0]}


def test_random_normal_statistics():
    value = np.asarray(initializers.RandomNormal(mean=1.0, stddev=0.5, seed=1)(BIG))
    assert abs(value.mean() - 1.0) < 0.01
    assert _std(value) == pytest.approx(0.5, rel=0.02)


def test_random_uniform_statistics():
    value = np.asarray(initializers.RandomUniform(-0.2, 0.6, seed=1)(BIG))
    assert value.min() >= -0.2 and value.max() < 0.6
    assert abs(value.mean() - 0.2) < 0.01
    assert _std(value) == pytest.approx(0.8 / math.sqrt(12), rel=0.02)


def test_truncated_normal_statistics():
    value = np.asarray(initializers.TruncatedNormal(mean=0.5, stddev=0.1, seed=1)(BIG))
    assert value.min() >= 0.5 - 0.2 - 1e-6 and value.max() <= 0.5 + 0.2 + 1e-6
    # A unit normal truncated to [-2, 2] has std 0.87962566.
    assert _std(value) == pytest.approx(0.1 * 0.87962566, rel=0.02)


@pytest.mark.parametrize("cls, variance, kind", [
    (initializers.GlorotUniform, 2.0 / 500, "uniform"),
    (initializers.GlorotNormal, 2.0 / 500, "normal"),
    (initializers.HeUniform, 2.0 / 300, "uniform"),
    (initializers.HeNormal, 2.0 / 300, "normal"),
    (initializers.LecunUniform, 1.0 / 300, "uniform"),
    (initializers.LecunNormal, 1.0 / 300, "normal")])
def test_named_variance_scaling(cls, variance, kind):
    value = np.asarray(cls(seed=3)(BIG))
    # The truncated draws are rescaled so that the variance is the requested one.
    assert _std(value) == pytest.approx(math.sqrt(variance), rel=0.03)
    assert abs(value.mean()) < 0.01 * math.sqrt(variance) * 10
    if kind == "uniform":
        assert np.abs(value).max() <= math.sqrt(3 * variance)
    else:
        assert np.abs(value).max() <= 2 * math.sqrt(variance) / 0.87962566 + 1e-6


@pytest.mark.parametrize("mode, fan", [("fan_in", 300), ("fan_out", 200), ("fan_avg", 250)])
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal",
                                          "uniform"])
def test_variance_scaling(mode, fan, distribution):
    init = initializers.VarianceScaling(scale=3.0, mode=mode, distribution=distribution,
                                        seed=5)
    assert _std(init(BIG)) == pytest.approx(math.sqrt(3.0 / fan), rel=0.03)


def test_variance_scaling_old_normal_spelling():
    assert initializers.VarianceScaling(distribution="normal").distribution == \
        "truncated_normal"


@pytest.mark.parametrize("kwargs, match", [
    ({"scale": 0.0}, "scale"), ({"mode": "fan_sum"}, "mode"),
    ({"distribution": "cauchy"}, "distribution")])
def test_variance_scaling_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        initializers.VarianceScaling(**kwargs)


@pytest.mark.parametrize("shape", [(), (7,), (5, 3), (3, 3, 16, 32), (2, 3, 3, 4, 8)])
def test_fans_match_keras(keras_ref, shape):
    from keras.src.initializers.random_initializers import compute_fans
    assert initializers.compute_fans(shape) == compute_fans(shape)


def test_conv_kernel_fans_in_he_normal():
    shape = (3, 3, 64, 32)  # fan_in = 3 * 3 * 64
    value = initializers.HeNormal(seed=0)(shape)
    assert _std(value) == pytest.approx(math.sqrt(2.0 / 576), rel=0.03)


def test_seed_gives_same_values_each_call_and_wins_over_key():
    init = initializers.GlorotUniform(seed=7)
    first = np.asarray(init((4, 5)))
    np.testing.assert_array_equal(first, init((4, 5)))
    np.testing.assert_array_equal(first, init((4, 5), key=jax.random.PRNGKey(123)))
    np.testing.assert_array_equal(first, initializers.GlorotUniform(seed=7)((4, 5)))
    assert not np.array_equal(first, initializers.GlorotUniform(seed=8)((4, 5)))


def test_key_drives_unseeded_initializers():
    init = initializers.RandomNormal()
    a = np.asarray(init((4, 5), key=jax.random.PRNGKey(1)))
    np.testing.assert_array_equal(a, init((4, 5), key=jax.random.PRNGKey(1)))
    assert not np.array_equal(a, init((4, 5), key=jax.random.PRNGKey(2)))


def test_no_key_uses_global_stream():
    init = initializers.HeUniform()
    try:
        _config.set_seed(11)
        first = [np.asarray(init((3, 3))) for _ in range(2)]
        _config.set_seed(11)
        second = [np.asarray(init((3, 3))) for _ in range(2)]
    finally:
        _config.set_seed(None)
    assert not np.array_equal(first[0], first[1])
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5), (3, 3, 2, 8)])
def test_orthogonal(shape):
    value = np.asarray(initializers.Orthogonal(gain=2.0, seed=0)(shape), dtype="float64")
    matrix = value.reshape(-1, shape[-1]) / 2.0
    rows, cols = matrix.shape
    gram = matrix.T @ matrix if rows >= cols else matrix @ matrix.T
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-5)


def test_orthogonal_needs_2d():
    with pytest.raises(ValueError, match="shape=\\(5,\\)"):
        initializers.Orthogonal()((5,))


def test_identity():
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((3, 4)), 3 * np.eye(3, 4))
    with pytest.raises(ValueError, match="2D"):
        initializers.Identity()((2, 2, 2))


ALL_INITIALIZERS = [
    initializers.Zeros(), initializers.Ones(), initializers.Constant(0.3),
    initializers.RandomNormal(0.1, 0.2, seed=1), initializers.RandomUniform(-1, 1, seed=2),
    initializers.TruncatedNormal(stddev=0.3, seed=3),
    initializers.VarianceScaling(2.0, "fan_out", "uniform", seed=4),
    initializers.Orthogonal(gain=1.5, seed=5), initializers.Identity(gain=2.0),
    initializers.GlorotUniform(seed=6), initializers.GlorotNormal(),
    initializers.HeUniform(seed=7), initializers.HeNormal(), initializers.LecunUniform(),
    initializers.LecunNormal(seed=8)]


@pytest.mark.parametrize("init", ALL_INITIALIZERS, ids=lambda i: type(i).__name__)
def test_config_round_trip(init):
    config = initializers.serialize(init)
    assert set(config) == {"class_name", "config"}
    assert config["class_name"] == type(init).__name__
    rebuilt = initializers.deserialize(config)
    assert type(rebuilt) is type(init) and rebuilt.get_config() == init.get_config()


def test_keras2_configs():
    assert initializers.GlorotUniform(seed=1).get_config() == {"seed": 1}
    assert initializers.VarianceScaling().get_config() == {
        "scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal", "seed": None}
    assert initializers.RandomNormal().get_config() == {"mean": 0.0, "stddev": 0.05,
                                                        "seed": None}
    assert initializers.RandomUniform().get_config() == {"minval": -0.05, "maxval": 0.05,
                                                         "seed": None}


def test_reads_keras3_configs(keras_ref):
    for ref in (keras_ref.initializers.GlorotUniform(seed=1),
                keras_ref.initializers.Orthogonal(gain=2.0),
                keras_ref.initializers.Identity(),
                keras_ref.initializers.VarianceScaling(2.0, "fan_avg", "uniform"),
                keras_ref.initializers.TruncatedNormal(stddev=0.2)):
        config = keras_ref.initializers.serialize(ref)
        ours = initializers.deserialize(config)
        assert type(ours).__name__ == type(ref).__name__
        for name, value in ref.get_config().items():
            assert getattr(ours, name) == value


def test_old_config_with_dtype():
    init = initializers.deserialize({"class_name": "RandomUniform",
                                     "config": {"minval": -1, "maxval": 1, "seed": None,
                                                "dtype": "float32"}})
    assert init.minval == -1


@pytest.mark.parametrize("name, cls", [
    ("glorot_uniform", initializers.GlorotUniform), ("zeros", initializers.Zeros),
    ("zero", initializers.Zeros), ("one", initializers.Ones), ("ones", initializers.Ones),
    ("he_normal", initializers.HeNormal), ("random_normal", initializers.RandomNormal),
    ("normal", initializers.RandomNormal), ("uniform", initializers.RandomUniform),
    ("orthogonal", initializers.Orthogonal), ("identity", initializers.Identity),
    ("Orthogonal", initializers.Orthogonal), ("lecun_normal", initializers.LecunNormal)])
def test_get_by_name(name, cls):
    init = initializers.get(name)
    assert type(init) is cls


def test_aliases_build_instances():
    assert initializers.glorot_uniform(seed=3).seed == 3
    assert isinstance(initializers.zero(), initializers.Zeros)


def test_get_passthrough_and_errors():
    init = initializers.HeNormal()
    assert initializers.get(init) is init
    assert initializers.get(None) is None
    with pytest.raises(ValueError, match="glorot_unifrom"):
        initializers.get("glorot_unifrom")
    with pytest.raises(ValueError, match="3.5"):
        initializers.get(3.5)


def test_call_passes_key_to_ours():
    init = initializers.RandomUniform()
    a = initializers.call(init, (2, 3), "float32", jax.random.PRNGKey(0))
    b = initializers.call(init, (2, 3), "float32", jax.random.PRNGKey(1))
    assert not np.array_equal(a, b)
    assert initializers.call(init, (2, 3), None, None).dtype == np.dtype(_config.floatx())


def test_call_keras2_style_function():
    seen = {}

    def my_init(shape, dtype=None):
        seen["args"] = (shape, dtype)
        return np.full(shape, 0.5)

    value = initializers.call(my_init, (2, 3), "float32", jax.random.PRNGKey(0))
    assert seen["args"] == ((2, 3), "float32")
    assert value.dtype == np.float32
    np.testing.assert_array_equal(value, np.full((2, 3), 0.5))


def test_call_keras2_style_subclass():
    class Halves(initializers.Initializer):
        def __call__(self, shape, dtype=None):
            return np.full(shape, 0.5)

    np.testing.assert_array_equal(
        initializers.call(Halves(), (2,), "float32", jax.random.PRNGKey(0)), [0.5, 0.5])


def test_call_checks_shape():
    with pytest.raises(ValueError, match="wrong shape"):
        initializers.call(lambda shape, dtype=None: np.zeros((1,)), (2, 3), "float32", None)
