"""jkeras.engine.variables: a weight has one current value. Read and written through the
public weights API (`layer.weights`, `get_weights`, `assign`) before, during and after fit,
it never shows a stale copy; checked against NumPy forward passes."""
import numpy as np
import pytest

import jkeras
from jkeras.engine.variables import Variable


class _Slots:
    """A stand-in trainer state: a dict of slots (the Binding protocol)."""

    def __init__(self):
        self.slots = {}

    def read(self, slot):
        return self.slots[slot]

    def write(self, slot, value):
        self.slots[slot] = value


def test_a_free_cell_holds_its_array_and_refuses_other_shapes():
    cell = Variable(np.zeros((2, 3), "float32"))
    cell.assign(np.ones((2, 3)))
    np.testing.assert_array_equal(cell.numpy(), np.ones((2, 3)))
    assert cell.numpy().dtype == np.float32  # assign keeps the cell's dtype
    with pytest.raises(ValueError, match=r"shape \(3, 2\) to a variable of shape \(2, 3\)"):
        cell.assign(np.ones((3, 2)))
    np.testing.assert_array_equal(cell.numpy(), np.ones((2, 3)))  # unchanged


def test_a_bound_cell_reads_and_writes_the_binding_until_released():
    cell, state = Variable(np.zeros(2, "float32")), _Slots()
    state.slots["w"] = np.full(2, 5.0, "float32")
    cell.bind(state, "w")
    assert cell.bound
    np.testing.assert_array_equal(cell.numpy(), [5.0, 5.0])
    cell.assign([1.0, 2.0])
    np.testing.assert_array_equal(state.slots["w"], [1.0, 2.0])
    with pytest.raises(RuntimeError, match="another running trainer"):
        cell.bind(_Slots(), "w")
    cell.release(state.slots["w"])
    assert not cell.bound
    state.slots["w"] = np.zeros(2, "float32")  # the state moves on; the cell keeps its value
    np.testing.assert_array_equal(cell.numpy(), [1.0, 2.0])


def test_assign_through_layer_weights_changes_what_the_layer_computes(rng):
    layer = jkeras.layers.Dense(2)
    layer.build_from_shape((None, 3))
    kernel, bias = layer.weights
    new_kernel = rng.normal(size=(3, 2)).astype("float32")
    kernel.assign(new_kernel)
    bias.assign(np.array([1.0, -1.0], "float32"))
    x = rng.normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(layer(x), x @ new_kernel + [1.0, -1.0], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(layer.get_weights()[0], new_kernel)
    with pytest.raises(ValueError, match="dense/kernel:0"):
        kernel.assign(np.ones((2, 3)))
    np.testing.assert_array_equal(kernel.numpy(), new_kernel)  # a failed assign changes nothing


def test_weights_read_the_trained_values_after_fit(rng):
    x = rng.normal(size=(32, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], "float32")
    model = jkeras.Sequential([jkeras.layers.Dense(1, input_shape=(3,))])
    model.compile(jkeras.optimizers.SGD(0.1), "mse")
    kernel = model.trainable_weights[0]  # a view taken before training
    before = kernel.numpy().copy()
    history = model.fit(x, y, batch_size=8, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    after = kernel.numpy()
    assert not np.allclose(after, before)
    np.testing.assert_array_equal(after, model.get_weights()[0])
    np.testing.assert_array_equal(after, model.variables_tree()["params"]["dense"]["kernel"])
    # The model predicts with the values the weights show (NumPy forward pass).
    w, b = model.get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0), x @ w + b, rtol=1e-5, atol=1e-5)


def test_set_weights_between_fits_is_what_the_next_fit_starts_from(rng):
    x = rng.normal(size=(16, 3)).astype("float32")
    y = np.zeros((16, 1), "float32")
    model = jkeras.Sequential([jkeras.layers.Dense(1, input_shape=(3,), use_bias=False)])
    model.compile(jkeras.optimizers.SGD(0.0), "mse")  # a zero step: weights stay put
    model.fit(x, y, epochs=1, verbose=0)
    model.set_weights([np.full((3, 1), 2.0, "float32")])
    model.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(model.get_weights()[0], np.full((3, 1), 2.0))
    expected_loss = np.mean((x @ np.full((3, 1), 2.0)) ** 2)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), expected_loss, rtol=1e-5)
