"""jkeras.regularizers against NumPy formulas and keras.regularizers."""
import numpy as np
import pytest

from jkeras import regularizers


@pytest.fixture
def w(rng):
    return rng.normal(size=(5, 3)).astype("float32")


def test_l1l2_formula(w):
    got = regularizers.L1L2(l1=0.2, l2=0.3)(w)
    expected = 0.2 * np.abs(w).sum() + 0.3 * np.square(w).sum()
    assert got.shape == () and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_l1l2_zero_is_zero(w):
    assert float(regularizers.L1L2()(w)) == 0.0
    assert float(regularizers.Regularizer()(w)) == 0.0


@pytest.mark.parametrize("ours, theirs", [
    (lambda: regularizers.L1(0.05), lambda k: k.regularizers.L1(0.05)),
    (lambda: regularizers.L2(0.05), lambda k: k.regularizers.L2(0.05)),
    (lambda: regularizers.L1L2(0.01, 0.02), lambda k: k.regularizers.L1L2(0.01, 0.02)),
    (lambda: regularizers.OrthogonalRegularizer(0.1),
     lambda k: k.regularizers.OrthogonalRegularizer(0.1)),
    (lambda: regularizers.OrthogonalRegularizer(0.1, mode="columns"),
     lambda k: k.regularizers.OrthogonalRegularizer(0.1, mode="columns"))])
def test_matches_keras(keras_ref, w, ours, theirs):
    # A tensor, not NumPy: Keras's NumPy path of `normalize` mishandles axis=0.
    expected = theirs(keras_ref)(keras_ref.ops.convert_to_tensor(w))
    np.testing.assert_allclose(ours()(w), expected, rtol=1e-5)


def test_orthogonal_regularizer_formula(w):
    rows = w / np.linalg.norm(w, axis=1, keepdims=True)
    cosines = rows @ rows.T
    off = np.abs(cosines[~np.eye(5, dtype=bool)]).sum()
    expected = 0.1 * 0.5 * off / (5 * 4 / 2)
    np.testing.assert_allclose(regularizers.OrthogonalRegularizer(0.1)(w), expected,
                               rtol=1e-5)
    with pytest.raises(ValueError, match="rank-2"):
        regularizers.OrthogonalRegularizer()(np.ones((2, 2, 2)))


def test_keras2_defaults_and_functions(w):
    assert regularizers.L1().get_config() == {"l1": 0.01}
    assert regularizers.L2().get_config() == {"l2": 0.01}
    assert regularizers.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert regularizers.l1_l2().get_config() == {"l1": 0.01, "l2": 0.01}
    assert regularizers.l1(l=0.3).get_config() == {"l1": 0.3}
    assert regularizers.l2(0.4).get_config() == {"l2": 0.4}
    np.testing.assert_allclose(regularizers.l2(0.4)(w), 0.4 * np.square(w).sum(), rtol=1e-5)


def test_bad_penalty_raises():
    with pytest.raises(ValueError, match="l1=nan"):
        regularizers.L1L2(l1=float("nan"))
    with pytest.raises(ValueError, match="l2='big'"):
        regularizers.L2("big")
    with pytest.raises(TypeError, match="l3"):
        regularizers.L1(l3=0.1)


@pytest.mark.parametrize("reg", [
    regularizers.L1(0.2), regularizers.L2(0.3), regularizers.L1L2(0.1, 0.4),
    regularizers.OrthogonalRegularizer(0.5, "columns")], ids=lambda r: type(r).__name__)
def test_config_round_trip(reg):
    config = regularizers.serialize(reg)
    assert config == {"class_name": type(reg).__name__, "config": reg.get_config()}
    rebuilt = regularizers.deserialize(config)
    assert type(rebuilt) is type(reg) and rebuilt.get_config() == reg.get_config()


def test_reads_keras_configs(keras_ref):
    config = keras_ref.regularizers.serialize(keras_ref.regularizers.L1L2(0.1, 0.2))
    reg = regularizers.deserialize(config)
    assert isinstance(reg, regularizers.L1L2) and reg.get_config() == {"l1": 0.1, "l2": 0.2}


@pytest.mark.parametrize("name, config", [
    ("l1", {"l1": 0.01}), ("l2", {"l2": 0.01}), ("l1_l2", {"l1": 0.01, "l2": 0.01}),
    ("L2", {"l2": 0.01}), ("l1l2", {"l1": 0.0, "l2": 0.0})])
def test_get_by_name(name, config):
    assert regularizers.get(name).get_config() == config


def test_get_passthrough_and_errors():
    def fn(x):
        return 0.0

    assert regularizers.get(fn) is fn
    assert regularizers.get(None) is None
    with pytest.raises(ValueError, match="l3"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="7"):
        regularizers.get(7)


def test_subclass_without_config_cannot_serialize():
    class Scaled(regularizers.Regularizer):
        def __init__(self, factor):
            self.factor = factor

    with pytest.raises(NotImplementedError, match="Scaled"):
        Scaled(2.0).get_config()
