"""jkeras.constraints against keras.constraints on random arrays."""
import numpy as np
import pytest

from jkeras import constraints


@pytest.fixture
def w(rng):
    return rng.normal(scale=2.0, size=(3, 3, 4, 5)).astype("float32")


@pytest.mark.parametrize("make", [
    lambda m: m.MaxNorm(), lambda m: m.MaxNorm(1.5, axis=[0, 1, 2]),
    lambda m: m.NonNeg(), lambda m: m.UnitNorm(), lambda m: m.UnitNorm(axis=-1),
    lambda m: m.MinMaxNorm(), lambda m: m.MinMaxNorm(0.5, 2.0, rate=0.5, axis=[0, 1, 2])],
    ids=["maxnorm", "maxnorm_axes", "nonneg", "unitnorm", "unitnorm_last", "minmax",
         "minmax_rate"])
def test_matches_keras(keras_ref, w, make):
    ours = make(constraints)
    theirs = make(keras_ref.constraints)
    np.testing.assert_allclose(ours(w), theirs(w), rtol=1e-5, atol=1e-6)


def test_max_norm_formula(w):
    kernel = w.reshape(-1, 5)
    norms = np.sqrt((kernel ** 2).sum(axis=0, keepdims=True))
    expected = kernel * np.clip(norms, 0, 2.0) / (1e-7 + norms)
    np.testing.assert_allclose(constraints.MaxNorm(2.0)(kernel), expected, rtol=1e-5)


def test_non_neg_keeps_dtype(w):
    out = constraints.NonNeg()(w.astype("float16"))
    assert out.dtype == np.float16 and float(out.min()) >= 0


@pytest.mark.parametrize("con", [
    constraints.MaxNorm(3, axis=1), constraints.NonNeg(), constraints.UnitNorm(axis=[0, 1]),
    constraints.MinMaxNorm(0.1, 0.9, 0.5, 1)], ids=lambda c: type(c).__name__)
def test_config_round_trip(con):
    config = constraints.serialize(con)
    assert config == {"class_name": type(con).__name__, "config": con.get_config()}
    rebuilt = constraints.deserialize(config)
    assert type(rebuilt) is type(con) and rebuilt.get_config() == con.get_config()


def test_keras2_configs():
    assert constraints.MaxNorm().get_config() == {"max_value": 2, "axis": 0}
    assert constraints.MinMaxNorm().get_config() == {
        "min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0}
    assert constraints.UnitNorm().get_config() == {"axis": 0}


def test_reads_keras_configs(keras_ref):
    config = keras_ref.constraints.serialize(keras_ref.constraints.MaxNorm(3.0, axis=1))
    con = constraints.deserialize(config)
    assert isinstance(con, constraints.MaxNorm) and con.max_value == 3.0 and con.axis == 1


@pytest.mark.parametrize("name, cls", [
    ("max_norm", constraints.MaxNorm), ("maxnorm", constraints.MaxNorm),
    ("non_neg", constraints.NonNeg), ("unit_norm", constraints.UnitNorm),
    ("min_max_norm", constraints.MinMaxNorm), ("NonNeg", constraints.NonNeg)])
def test_get_by_name(name, cls):
    assert type(constraints.get(name)) is cls


def test_aliases():
    assert constraints.max_norm(4).max_value == 4
    assert isinstance(constraints.non_neg(), constraints.NonNeg)


def test_get_passthrough_and_errors():
    def clip(w):
        return w

    assert constraints.get(clip) is clip
    assert constraints.get(None) is None
    with pytest.raises(ValueError, match="maxxnorm"):
        constraints.get("maxxnorm")
    with pytest.raises(ValueError, match="2.5"):
        constraints.get(2.5)
