"""jkeras.engine.call_context: layers called inside a subclassed model's `call` take their
arrays from the traced apply, write their new state back, add their activity losses and
draw distinct random keys; checked with NumPy and against Keras 3 running the same code."""
import numpy as np
import pytest

import jkeras
from jkeras import layers


def two_branch_model(lib, activity=0.0):
    """The same subclassed model for both libraries (`lib` is jkeras or keras)."""

    class TwoBranch(lib.Model):
        def __init__(self):
            super().__init__()
            self.hidden = lib.layers.Dense(
                4, activation="tanh", name="hidden",
                activity_regularizer=lib.regularizers.l2(activity) if activity else None)
            self.norm = lib.layers.BatchNormalization(name="norm")
            self.out = lib.layers.Dense(1, name="out")

        def call(self, inputs, training=None):
            return self.out(self.norm(self.hidden(inputs), training=training))

    return TwoBranch()


@pytest.mark.slow
def test_inference_matches_keras_with_the_same_weights(keras_ref, rng):
    x = rng.normal(size=(6, 3)).astype("float32")
    ours, theirs = two_branch_model(jkeras), two_branch_model(keras_ref)
    ours(x)
    theirs(x)
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)


def test_state_written_in_call_reaches_the_layer(rng):
    # BatchNormalization's moving mean after one training step, by Keras's update rule
    # (momentum 0.99): 0.99 * 0 + 0.01 * the batch mean of its input.
    x = rng.normal(size=(8, 3)).astype("float32")
    model = two_branch_model(jkeras)
    model.compile(jkeras.optimizers.SGD(0.0), "mse")
    model.train_on_batch(x, np.zeros((8, 1), "float32"))
    kernel, bias = model.hidden.get_weights()
    expected = 0.01 * np.tanh(x @ kernel + bias).mean(axis=0)
    moving_mean = model.norm.get_weights()[2]
    np.testing.assert_allclose(moving_mean, expected, rtol=1e-4, atol=1e-6)


def test_activity_losses_from_call_join_the_training_loss(rng):
    # Keras 2: an activity penalty is divided by the batch size; with a zero step the loss
    # train_on_batch reports is the MSE plus 0.5 * sum(h ** 2) / batch.
    x = rng.normal(size=(8, 3)).astype("float32")
    y = rng.normal(size=(8, 1)).astype("float32")
    model = two_branch_model(jkeras, activity=0.5)
    model.compile(jkeras.optimizers.SGD(0.0), "mse")
    model(x)
    kernel, bias = model.hidden.get_weights()
    h = np.tanh(x @ kernel + bias)
    gamma, beta, mean, var = model.norm.get_weights()
    normed = gamma * (h - h.mean(0)) / np.sqrt(h.var(0) + 1e-3) + beta  # training: batch stats
    w, b = model.out.get_weights()
    expected = np.mean((normed @ w + b - y) ** 2) + 0.5 * np.sum(h ** 2) / len(x)
    np.testing.assert_allclose(model.train_on_batch(x, y), expected, rtol=1e-4)


def test_each_random_layer_in_a_call_draws_its_own_key(rng):
    class TwoDropouts(jkeras.Model):
        def __init__(self):
            super().__init__()
            self.first, self.second = layers.Dropout(0.5), layers.Dropout(0.5)

        def call(self, inputs, training=None):
            return jkeras.layers.concatenate([self.first(inputs, training=training),
                                              self.second(inputs, training=training)])

    x = np.ones((4, 64), "float32")
    out = np.asarray(TwoDropouts()(x, training=True))
    first, second = out[:, :64] == 0, out[:, 64:] == 0
    assert 0.3 < first.mean() < 0.7 and 0.3 < second.mean() < 0.7
    assert (first != second).any()  # two keys, two masks
    np.testing.assert_array_equal(np.asarray(TwoDropouts()(x, training=False)),
                                  np.ones((4, 128)))
