"""Keras 2's graph-mode backend functions: K.function, K.gradients, K.placeholder,
K.learning_phase, K.variable read and written while a graph runs and while a model trains."""
import numpy as np
import pytest

import jkeras as keras
from jkeras import backend as K


def _dense_graph(seed=0):
    x = K.placeholder(shape=(None, 4))
    dense = keras.layers.Dense(3)
    h = dense(x)
    data = np.random.default_rng(seed).normal(size=(5, 4)).astype("float32")
    kernel, bias = dense.get_weights()
    return x, dense, h, data, data @ kernel + bias


def test_function_and_gradients_match_numpy():
    x, dense, h, data, h_np = _dense_graph()
    loss = K.mean(K.square(h))
    grads = K.gradients(loss, [x, h])
    assert [g.shape for g in grads] == [(None, 4), (None, 3)]
    value, grad_x, grad_h = K.function([x], [loss] + grads)([data])
    kernel = dense.get_weights()[0]
    np.testing.assert_allclose(value, np.mean(h_np ** 2), rtol=1e-5)
    np.testing.assert_allclose(grad_h, 2 * h_np / h_np.size, rtol=1e-5)
    np.testing.assert_allclose(grad_x, (2 * h_np / h_np.size) @ kernel.T, rtol=1e-5)


def test_function_reads_the_current_weights():
    x, dense, h, data, _ = _dense_graph(1)
    f = K.function([x], [h])
    dense.set_weights([np.ones((4, 3), "float32"), np.zeros(3, "float32")])
    np.testing.assert_allclose(f([data])[0], data @ np.ones((4, 3)), rtol=1e-6)


def test_learning_phase_switches_dropout():
    x = K.placeholder(ndim=2)
    out = keras.layers.Dropout(0.5)(x)
    f = K.function([x, K.learning_phase()], [out])
    ones = np.ones((8, 16), "float32")
    np.testing.assert_array_equal(f([ones, 0])[0], ones)
    trained = f([ones, 1])[0]
    assert set(np.unique(trained)) <= {0.0, 2.0} and (trained == 0).any()
    assert K.in_train_phase(1.0, 2.0) == 2.0


def test_variable_in_graph_and_updates():
    x, _, h, data, h_np = _dense_graph(2)
    scale = K.variable(2.0, name="scale")
    f = K.function([x], [h * scale])
    np.testing.assert_allclose(f([data])[0], 2 * h_np, rtol=1e-5)
    K.set_value(scale, 3.0)
    np.testing.assert_allclose(f([data])[0], 3 * h_np, rtol=1e-5)
    counter = K.variable(0.0)
    step = K.function([x], [K.sum(h)], updates=[(counter, K.sum(h) * 0 + 5.0)])
    step([data])
    assert K.get_value(counter) == 5.0
    assert K.get_value(K.variable([1, 2])).dtype == np.float32
    np.testing.assert_allclose(K.get_value(K.mean(scale * 2)), 6.0)


def test_variable_set_from_a_callback_changes_the_next_steps_loss():
    """A KL-style weight annealed by a callback: the loss fit reports follows it."""
    data = np.random.default_rng(3).normal(size=(16, 4)).astype("float32")
    x = keras.Input((4,))
    out = keras.layers.Dense(2)(x)
    weight = K.variable(1.0)
    model = keras.Model(x, out)
    model.add_loss(weight * K.mean(K.square(out)))
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    base = np.mean(model.predict(data, verbose=0) ** 2)

    class Anneal(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            K.set_value(weight, float(epoch + 1))
    history = model.fit(data, epochs=3, batch_size=16, verbose=0, callbacks=[Anneal()])
    np.testing.assert_allclose(history.history["loss"], [base, 2 * base, 3 * base],
                               rtol=1e-5)
    assert K.get_value(weight) == 3.0  # the cell has its value back after fit
    assert model.get_weights()[0].shape == (4, 2) and len(model.weights) == 2


def test_bad_calls_are_clear():
    x, _, h, data, _ = _dense_graph(4)
    other = K.placeholder(shape=(None, 4))
    with pytest.raises(ValueError, match="not among the function's inputs"):
        K.function([other], [h])
    with pytest.raises(ValueError, match="takes 1 input"):
        K.function([x], [h])([data, data])
    with pytest.raises(TypeError, match="symbolic"):
        K.gradients(K.mean(h), [np.ones(3)])
    with pytest.raises(ValueError, match="shape.*ndim"):
        K.placeholder()


def test_stop_gradient_blocks_the_gradient():
    x, dense, h, data, h_np = _dense_graph(5)
    grad = K.gradients(K.sum(K.stop_gradient(h) * h), x)[0]
    np.testing.assert_allclose(K.function([x], [grad])([data])[0],
                               h_np @ dense.get_weights()[0].T, rtol=1e-5)


def test_graph_reading_a_variable_runs_in_a_model_but_has_no_config():
    x, _, h, data, h_np = _dense_graph(6)
    scale = K.variable(0.5)
    model = keras.Model(x, h * scale)
    np.testing.assert_allclose(model.predict(data, verbose=0), 0.5 * h_np, rtol=1e-5)
    K.set_value(scale, 4.0)
    np.testing.assert_allclose(model.predict(data, verbose=0), 4.0 * h_np, rtol=1e-5)
    with pytest.raises(ValueError, match="reads a K.variable"):
        model.to_json()
