"""Model and layer losses and metrics (`add_loss`, `add_metric`): symbolic tensors given
at graph-build time, zero-argument callables, and arrays added inside `call`. The values
fit and evaluate report are checked against NumPy formulas and Keras 3."""
import numpy as np
import pytest

import jkeras as keras
from jkeras import backend as K


def _data(seed=0, n=32, d=6):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype("float32")


def _dense_np(x, kernel, bias, relu=False):
    out = x @ kernel + bias
    return np.maximum(out, 0) if relu else out


def _autoencoder():
    x = keras.Input((6,))
    h = keras.layers.Dense(3, activation="relu", name="enc")(x)
    out = keras.layers.Dense(6, name="dec")(h)
    return x, h, out


def test_symbolic_add_loss_and_metric_match_numpy_in_fit_and_evaluate():
    data = _data()
    x, h, out = _autoencoder()
    model = keras.Model(x, out)
    model.add_loss(K.mean(K.sum(K.square(out - x), axis=-1)) + 0.1 * K.mean(K.abs(h)))
    model.add_metric(K.mean(h), name="code_mean")
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    (k1, b1, k2, b2) = model.get_weights()
    code = _dense_np(data, k1, b1, relu=True)
    recon = _dense_np(code, k2, b2)
    want = np.mean(np.sum((recon - data) ** 2, -1)) + 0.1 * np.mean(np.abs(code))
    loss, metric = model.evaluate(data, batch_size=32, verbose=0)
    np.testing.assert_allclose(loss, want, rtol=1e-5)
    np.testing.assert_allclose(metric, code.mean(), rtol=1e-5)
    history = model.fit(data, None, batch_size=32, epochs=1, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], want, rtol=1e-5)
    np.testing.assert_allclose(history.history["code_mean"][0], code.mean(), rtol=1e-5)


def test_added_loss_trains_the_model():
    data = _data(1, n=64)
    x, _, out = _autoencoder()
    model = keras.Model(x, out)
    model.add_loss(K.mean(K.square(out - x)))
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    before = model.get_weights()
    history = model.fit(data, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not np.allclose(before[0], model.get_weights()[0])


def test_added_loss_with_a_compiled_loss_adds_up():
    data, target = _data(2), _data(3)[:, :6]
    x, _, out = _autoencoder()
    model = keras.Model(x, out)
    model.add_loss(0.5 * K.mean(K.square(out)))
    model.compile(optimizer="sgd", loss="mse")
    pred = model.predict(data, verbose=0)
    want = np.mean((pred - target) ** 2) + 0.5 * np.mean(pred ** 2)
    np.testing.assert_allclose(model.evaluate(data, target, batch_size=32, verbose=0), want,
                               rtol=1e-5)


def test_added_loss_through_nested_model_tensors():
    """The Keras 2 VAE pattern: the loss uses tensors inside the encoder model."""
    data = _data(4)
    x = keras.Input((6,))
    mean = keras.layers.Dense(2, name="mean")(x)
    encoder = keras.Model(x, mean, name="encoder")
    out = keras.layers.Dense(6, name="out")(encoder(x))
    model = keras.Model(x, out)
    model.add_loss(K.mean(K.square(mean)))
    model.compile(optimizer="sgd")
    k, b = encoder.get_weights()
    np.testing.assert_allclose(model.evaluate(data, verbose=0, batch_size=32),
                               np.mean((data @ k + b) ** 2), rtol=1e-5)
    assert [layer.name for layer in model.layers] == [model.layers[0].name, "encoder", "out"]


def test_callable_loss_is_a_weight_penalty_with_gradients():
    data = _data(5)
    x, _, out = _autoencoder()
    model = keras.Model(x, out)
    kernel = model.get_layer("dec").weights[0]
    model.add_loss(lambda: 0.01 * K.sum(K.square(kernel)))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    k1, b1, k2, b2 = model.get_weights()
    pred = _dense_np(_dense_np(data, k1, b1, True), k2, b2)
    want = np.mean((pred - data) ** 2) + 0.01 * np.sum(k2 ** 2)
    np.testing.assert_allclose(model.evaluate(data, data, batch_size=32, verbose=0), want,
                               rtol=1e-5)
    assert len(model.losses) == 1
    np.testing.assert_allclose(model.losses[0], 0.01 * np.sum(k2 ** 2), rtol=1e-5)
    # With no other loss, training on the penalty alone shrinks the kernel.
    x2 = keras.Input((6,))
    dense = keras.layers.Dense(4)
    lone = keras.Model(x2, dense(x2))
    lone_kernel = dense.weights[0]
    start = np.sum(lone_kernel.numpy() ** 2)
    lone.add_loss(lambda: K.sum(K.square(lone_kernel)))
    lone.compile(optimizer=keras.optimizers.SGD(0.1))
    lone.fit(data, epochs=2, batch_size=32, verbose=0)
    np.testing.assert_allclose(np.sum(lone_kernel.numpy() ** 2), start * 0.8 ** 4, rtol=1e-4)


class _ActivityLoss(keras.layers.Layer):
    def call(self, inputs):
        self.add_loss(0.5 * K.mean(K.square(inputs)))
        return inputs


def test_loss_added_inside_call_matches_keras3():
    import keras as k3
    data, target = _data(6), _data(7)[:, :2]

    class K3ActivityLoss(k3.layers.Layer):
        def call(self, inputs):
            self.add_loss(0.5 * k3.ops.mean(k3.ops.square(inputs)))
            return inputs

    def build(lib, custom):
        x = lib.Input((6,))
        h = custom()(lib.layers.Dense(4, name="h")(x))
        return lib.Model(x, lib.layers.Dense(2, name="o")(h))
    ours, ref = build(keras, _ActivityLoss), build(k3, K3ActivityLoss)
    ref.set_weights(ours.get_weights())
    ours.compile(optimizer="sgd", loss="mse")
    ref.compile(optimizer="sgd", loss="mse")
    np.testing.assert_allclose(ours.evaluate(data, target, batch_size=32, verbose=0),
                               ref.evaluate(data, target, batch_size=32, verbose=0),
                               rtol=1e-5)


def test_bad_added_loss_raises_and_changes_nothing():
    x, _, out = _autoencoder()
    model = keras.Model(x, out)
    stray = keras.Input((6,), name="stray")
    with pytest.raises(ValueError, match="stray.*not an input of the model"):
        model.add_loss(K.mean(stray + out))
    assert model.losses == []
    with pytest.raises(ValueError, match="aggregation"):
        model.add_metric(K.mean(out), name="m", aggregation="sum")
    with pytest.raises(ValueError, match="needs a `name`"):
        model.add_metric(K.mean(out))
