"""jkeras.engine.keras_tensor: symbolic tensors carry the shape and dtype Keras gives the
same graph, hold no data, and turn arithmetic and slicing into graph layers whose results
are NumPy's."""
import numpy as np
import pytest

import jkeras
from jkeras.engine.keras_tensor import KerasTensor, is_keras_tensor


def _symbolic_ops(lib, x):
    return [x + 1.0, 2.0 * x, x - x, 1.0 / (x + 3.0), -x, x[:, 1:], x[:, 0]]


def test_shapes_and_dtypes_match_keras(keras_ref):
    ours = _symbolic_ops(jkeras, jkeras.Input((4,)))
    theirs = _symbolic_ops(keras_ref, keras_ref.Input((4,)))
    assert [t.shape for t in ours] == [tuple(t.shape) for t in theirs]
    assert [t.dtype for t in ours] == [t.dtype for t in theirs]
    assert all(is_keras_tensor(t) for t in ours)


def test_symbolic_arithmetic_runs_as_numpy(rng):
    inputs = jkeras.Input((4,))
    model = jkeras.Model(inputs, _symbolic_ops(jkeras, inputs))
    x = rng.normal(size=(3, 4)).astype("float32")
    expected = [x + 1, 2 * x, x - x, 1 / (x + 3), -x, x[:, 1:], x[:, 0]]
    for got, want in zip(model.predict(x, verbose=0), expected):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_a_symbolic_tensor_holds_no_data():
    t = KerasTensor((None, 3))
    assert t.ndim == 2 and t.dtype == "float32" and is_keras_tensor(t)
    assert not is_keras_tensor(np.zeros((1, 3)))
    with pytest.raises(TypeError, match="holds no data"):
        np.asarray(t)
    with pytest.raises(TypeError, match="no length"):
        len(t)
