"""Every kind of model learns: `fit` moves every trainable weight and lowers the loss on a
learnable task; frozen weights stay; `train_on_batch` losses fall.

The task: y = 1 when the sum of the first three features is positive (logistic, learnable
by any of the models below in a few epochs).
"""
import numpy as np
import pytest

import jkeras as keras
from jkeras import backend as K
from jkeras import layers

N, D = 256, 8


@pytest.fixture(autouse=True)
def _seeded():
    """Each test starts from the same initial weights, run after run."""
    keras.utils.set_random_seed(0)


@pytest.fixture(scope="module")
def task():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, D)).astype("float32")
    y = (x[:, :3].sum(axis=1) > 0).astype("float32")[:, None]
    return x, y


def _learns(model, x, y, epochs=8, frozen=(), **fit_kwargs):
    """Fits `model`; checks the loss fell and every trainable weight (and no frozen one)
    moved. `frozen` lists weights (by name) that must not move."""
    model.compile(keras.optimizers.Adam(0.02), "binary_crossentropy")
    model.predict(x[:32], verbose=0)  # builds deferred models
    before = {w.name: w.numpy().copy() for w in model.weights}
    trainable = {w.name for w in model.trainable_weights}
    history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, **fit_kwargs)
    losses = history.history["loss"]
    assert losses[-1] < 0.8 * losses[0], losses
    after = {w.name: w.numpy() for w in model.weights}
    for name in trainable:
        assert np.abs(after[name] - before[name]).max() > 0, f"{name} did not move"
    for name in frozen:
        np.testing.assert_array_equal(after[name], before[name], err_msg=name)
    return history


def test_sequential(task):
    model = keras.Sequential([layers.Dense(16, activation="relu", input_shape=(D,)),
                              layers.Dense(1, activation="sigmoid")])
    _learns(model, *task)


def test_sequential_without_input_shape(task):
    model = keras.Sequential([layers.Dense(16, activation="relu"),
                              layers.Dense(1, activation="sigmoid")])
    _learns(model, *task)


def test_functional_with_shared_layer(task):
    inp = keras.Input((D,))
    shared = layers.Dense(D, activation="tanh", name="shared")
    h = shared(shared(inp))
    out = layers.Dense(1, activation="sigmoid")(h)
    _learns(keras.Model(inp, out), *task)


def test_nested_models(task):
    inner = keras.Sequential([layers.Dense(16, activation="relu", input_shape=(D,)),
                              layers.BatchNormalization()], name="inner")
    inp = keras.Input((D,))
    out = layers.Dense(1, activation="sigmoid")(inner(inp))
    _learns(keras.Model(inp, out), *task)


class _MLP(keras.Model):
    def __init__(self, use_bn=False, use_dp=False, pass_training=False):
        super().__init__(name="mlp")
        self.dense1 = layers.Dense(16, activation="relu")
        self.dense2 = layers.Dense(1, activation="sigmoid")
        self.use_bn, self.use_dp, self.pass_training = use_bn, use_dp, pass_training
        if use_bn:
            self.bn = layers.BatchNormalization()
        if use_dp:
            self.dp = layers.Dropout(0.2)

    def call(self, x, training=None):
        kwargs = {"training": training} if self.pass_training else {}
        x = self.dense1(x)
        if self.use_bn:
            x = self.bn(x, **kwargs)
        if self.use_dp:
            x = self.dp(x, **kwargs)
        return self.dense2(x)


@pytest.mark.slow
@pytest.mark.parametrize("use_bn,use_dp,pass_training", [
    (False, False, False), (True, True, False), (True, True, True)])
def test_subclassed(task, use_bn, use_dp, pass_training):
    model = _MLP(use_bn, use_dp, pass_training)
    _learns(model, *task)
    if use_bn:  # the moving statistics moved too (they are not trainable weights)
        assert np.abs(model.bn.get_weights()[2]).max() > 0


def test_subclassed_train_on_batch_losses_fall(task):
    x, y = task
    model = _MLP(use_bn=True, use_dp=True, pass_training=True)
    model.compile(keras.optimizers.Adam(0.02), "binary_crossentropy")
    losses = [model.train_on_batch(x, y) for _ in range(30)]
    assert losses[-1] < 0.8 * losses[0]
    assert len(set(losses)) == len(losses)


class _Scale(layers.Layer):
    """A Keras-style custom layer: build + add_weight + call, with K.dropout in training."""

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], 16),
                                      initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(16,), initializer="zeros")

    def call(self, inputs, training=None):
        out = K.relu(K.dot(inputs, self.kernel) + self.bias)
        return K.in_train_phase(lambda: K.dropout(out, 0.1), out, training=training)


def test_custom_layer_with_add_weight(task):
    inp = keras.Input((D,))
    out = layers.Dense(1, activation="sigmoid")(_Scale(name="scale")(inp))
    _learns(keras.Model(inp, out), *task)


class _Noise(layers.Layer):
    def call(self, inputs, training=None):
        return inputs + K.random_normal(K.shape(inputs)) if training else inputs


def test_custom_layer_random_ops_get_a_fresh_key_every_step(task):
    x, y = task
    inp = keras.Input((D,))
    out = layers.Dense(1, activation="sigmoid")(_Noise()(inp))
    model = keras.Model(inp, out)
    model.compile(keras.optimizers.SGD(0.0), "binary_crossentropy")
    losses = {model.train_on_batch(x, y) for _ in range(4)}
    assert len(losses) == 4  # same data, same weights: only the noise differs


def test_time_distributed_model_shares_weights(task):
    x, y = task
    inner = keras.Sequential([layers.Dense(4, activation="tanh", input_shape=(2,))])
    inp = keras.Input((4, 2))
    h = layers.Flatten()(layers.TimeDistributed(inner)(inp))
    model = keras.Model(inp, layers.Dense(1, activation="sigmoid")(h))
    _learns(model, x.reshape(N, 4, 2), y)
    # The wrapped model's own weights are the ones that trained.
    np.testing.assert_array_equal(inner.get_weights()[0], model.layers[1].get_weights()[0])


@pytest.mark.slow
def test_stateful_rnn(task):
    x, y = task
    model = keras.Sequential([
        layers.LSTM(8, stateful=True, batch_input_shape=(32, 4, 2)),
        layers.Dense(1, activation="sigmoid")])
    _learns(model, x.reshape(N, 4, 2), y, shuffle=False)


def test_frozen_layer_does_not_move(task):
    inp = keras.Input((D,))
    frozen = layers.Dense(16, activation="relu", name="frozen", trainable=False)
    out = layers.Dense(1, activation="sigmoid")(frozen(inp))
    model = keras.Model(inp, out)
    _learns(model, *task, epochs=12, frozen=("frozen/kernel:0", "frozen/bias:0"))


def test_reset_metrics_honoured(task):
    x, y = task
    model = keras.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(D,))])
    model.compile(keras.optimizers.SGD(0.0), "binary_crossentropy", metrics=["accuracy"])
    first = model.train_on_batch(x[:64], y[:64], reset_metrics=False)
    both = model.train_on_batch(x[64:128], y[64:128], reset_metrics=False)
    alone = model.train_on_batch(x[64:128], y[64:128], reset_metrics=True)
    # Keras 2.3: the metrics run on across calls, the loss is always the batch's own.
    np.testing.assert_allclose(both[1], (first[1] + alone[1]) / 2, rtol=1e-6)
    np.testing.assert_allclose(both[0], alone[0], rtol=1e-6)
    assert first[0] != pytest.approx(alone[0])
    assert model.train_on_batch(x[64:128], y[64:128])[0] == pytest.approx(alone[0])
