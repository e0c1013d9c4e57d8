"""Keras 2's Sequential.predict_classes / predict_proba (jkeras/engine/sequential_legacy.py),
checked against a NumPy forward pass of the same weights."""
import numpy as np
import pytest

import jkeras
from jkeras.engine.sequential_legacy import SequentialLegacyMixin


class LegacySequential(jkeras.Sequential, SequentialLegacyMixin):
    """What Sequential becomes once the mixin is among its bases."""


def _numpy_forward(model, x, activation):
    kernel, bias = model.get_weights()
    logits = x @ kernel + bias
    if activation == "softmax":
        e = np.exp(logits - logits.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)
    return 1 / (1 + np.exp(-logits))


def _model(cls, units, activation):
    return cls([jkeras.Input((4,)), jkeras.layers.Dense(units, activation=activation)])


@pytest.mark.parametrize("cls", [
    LegacySequential,
    pytest.param(jkeras.Sequential, marks=pytest.mark.skipif(
        not hasattr(jkeras.Sequential, "predict_classes"),
        reason="enabled once Sequential's bases include SequentialLegacyMixin"))])
def test_predict_classes_and_proba(cls, rng):
    x = rng.normal(size=(10, 4)).astype("float32")
    multi = _model(cls, 3, "softmax")
    expected = _numpy_forward(multi, x, "softmax")
    np.testing.assert_allclose(multi.predict_proba(x), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(multi.predict_classes(x), expected.argmax(-1))
    binary = _model(cls, 1, "sigmoid")
    classes = binary.predict_classes(x, batch_size=4)
    assert classes.shape == (10, 1) and classes.dtype == np.int32
    np.testing.assert_array_equal(classes, _numpy_forward(binary, x, "sigmoid") > 0.5)


def test_predict_proba_warns_on_values_outside_0_1(rng):
    model = _model(LegacySequential, 2, "linear")
    model.set_weights([np.full((4, 2), 5.0, "float32"), np.zeros(2, "float32")])
    with pytest.warns(UserWarning, match="invalid probability values"):
        model.predict_proba(np.ones((3, 4), "float32"))
