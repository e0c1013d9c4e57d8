"""What a batch reports, as Keras 2.3 does: a batch's "loss" (in `on_batch_end` logs, from
`train_on_batch` and `test_on_batch`) is that batch's own loss, metrics run on over the
epoch, and the epoch's loss is the batch losses' mean weighted by batch size. A
`train_on_batch` called from a callback inside `fit` leaves the epoch's figures alone.

The references are NumPy: a linear model under SGD with learning rate 0 keeps its weights,
so every batch's mean squared error is known in advance.
"""
import numpy as np
import pytest

import jkeras as keras
from jkeras import layers

N, D, BATCH = 200, 5, 64  # batches of 64, 64, 64 and 8


@pytest.fixture()
def frozen_linear():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(N, D)).astype("float32")
    y = (x @ rng.normal(size=(D, 1)) + 0.3).astype("float32")
    model = keras.Sequential([layers.Dense(1, input_shape=(D,))])
    model.compile(keras.optimizers.SGD(0.0), "mse", metrics=["mae"])
    kernel, bias = model.get_weights()

    def losses(xb, yb):
        error = xb @ kernel + bias - yb
        return float(np.mean(error ** 2)), float(np.sum(np.abs(error))), len(xb)
    return model, x, y, losses


def _batches(x, y):
    return [(x[i:i + BATCH], y[i:i + BATCH]) for i in range(0, len(x), BATCH)]


class _Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.train, self.test = [], []

    def on_batch_end(self, batch, logs=None):
        self.train.append((logs["loss"], logs["mae"]))

    def on_test_batch_end(self, batch, logs=None):
        self.test.append((logs["loss"], logs["mae"]))


def _expected(batches, losses):
    """Per batch: (its own loss, the running mean absolute error); the epoch's loss."""
    per_batch, abs_sum, count, loss_sum = [], 0.0, 0, 0.0
    for xb, yb in batches:
        loss, abs_err, size = losses(xb, yb)
        abs_sum, count, loss_sum = abs_sum + abs_err, count + size, loss_sum + loss * size
        per_batch.append((loss, abs_sum / count))
    return per_batch, loss_sum / count


def test_batch_logs_carry_the_batch_loss_and_running_metrics(frozen_linear):
    model, x, y, losses = frozen_linear
    per_batch, epoch_loss = _expected(_batches(x, y), losses)
    recorder = _Recorder()
    history = model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0,
                        callbacks=[recorder])
    np.testing.assert_allclose(recorder.train, per_batch, rtol=1e-5)
    assert history.history["loss"][0] == pytest.approx(epoch_loss, rel=1e-5)
    assert history.history["mae"][0] == pytest.approx(per_batch[-1][1], rel=1e-5)


def test_evaluate_batch_logs_carry_the_batch_loss(frozen_linear):
    model, x, y, losses = frozen_linear
    per_batch, epoch_loss = _expected(_batches(x, y), losses)
    recorder = _Recorder()
    result = model.evaluate(x, y, batch_size=BATCH, verbose=0, callbacks=[recorder])
    np.testing.assert_allclose(recorder.test, per_batch, rtol=1e-5)
    assert result[0] == pytest.approx(epoch_loss, rel=1e-5)


def test_on_batch_methods_return_the_batch_loss_with_running_metrics(frozen_linear):
    model, x, y, losses = frozen_linear
    (x1, y1), (x2, y2) = _batches(x, y)[:2]
    expected, _ = _expected([(x1, y1), (x2, y2)], losses)
    for method in (model.train_on_batch, model.test_on_batch):
        method(x1, y1, reset_metrics=False)
        got = method(x2, y2, reset_metrics=False)
        np.testing.assert_allclose(got, expected[1], rtol=1e-5)
        alone = method(x2, y2)  # reset_metrics=True: this batch alone
        np.testing.assert_allclose(alone, [losses(x2, y2)[0], losses(x2, y2)[1] / BATCH],
                                   rtol=1e-5)


def test_train_on_batch_inside_fit_leaves_the_epoch_alone(frozen_linear):
    """A callback training on other data (a GAN's pattern) gets that batch's figures, and
    the fit's batch logs and epoch loss stay those of the fit's own batches."""
    model, x, y, losses = frozen_linear
    per_batch, epoch_loss = _expected(_batches(x, y), losses)
    other_x, other_y = x[:16], y[:16] * 10.0
    inside = []

    class Interleave(_Recorder):
        def on_batch_end(self, batch, logs=None):
            super().on_batch_end(batch, logs)
            inside.append(self.model.train_on_batch(other_x, other_y))

    recorder = Interleave()
    history = model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0,
                        callbacks=[recorder])
    np.testing.assert_allclose(recorder.train, per_batch, rtol=1e-5)
    assert history.history["loss"][0] == pytest.approx(epoch_loss, rel=1e-5)
    other = losses(other_x, other_y)
    np.testing.assert_allclose(inside, [[other[0], other[1] / 16]] * len(per_batch),
                               rtol=1e-5)


def test_train_on_batch_outside_fit_copies_nothing():
    """Outside `fit`, train_on_batch steps the weights' own arrays with a program that
    donates nothing: no `begin` program (the copy of every weight) is ever made, the one
    step program compiles once, and the weights move."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, D)).astype("float32")
    y = (x.sum(axis=1, keepdims=True) > 0).astype("float32")
    model = keras.Sequential([layers.Dense(8, activation="relu", input_shape=(D,)),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy")
    kernel = model.layers[0].weights[0].value()
    before = np.asarray(kernel).copy()
    first = [model.train_on_batch(x, y) for _ in range(20)]
    np.testing.assert_array_equal(np.asarray(kernel), before)  # the old array still lives
    assert not np.allclose(model.layers[0].get_weights()[0], before)
    assert first[-1] < 0.7 * first[0]
    jitted = model._trainer._jitted
    assert "begin" not in jitted
    assert jitted["train_detached"]._cache_size() == 1


@pytest.mark.slow
def test_outputs_sharing_a_name_report_each_loss_by_position():
    """Two outputs made by one nested model are both named after it (Keras 2.3 keeps the
    duplicate names); the batch methods and `evaluate` give each output's loss in its
    place, as Keras 2.3 did, not the last one's twice."""
    keras.utils.set_random_seed(0)
    x_in = layers.Input((4,))
    inner = keras.Model(x_in, [layers.Dense(1, activation="sigmoid")(x_in),
                               layers.Dense(3, activation="softmax")(x_in)])
    z = layers.Input((4,))
    outer = keras.Model(z, inner(z))
    outer.compile("sgd", loss=["binary_crossentropy", "sparse_categorical_crossentropy"])
    assert outer.metrics_names == ["loss", "model_loss", "model_loss"]
    x = np.random.default_rng(0).random((8, 4)).astype("float32")
    y1, y2 = np.ones((8, 1), "float32"), np.zeros((8,), "float32")
    p1, p2 = outer.predict(x, verbose=0)
    bce, sce = -np.mean(np.log(p1[:, 0])), -np.mean(np.log(p2[:, 0]))
    expected = [bce + sce, bce, sce]
    np.testing.assert_allclose(outer.test_on_batch(x, [y1, y2]), expected, rtol=1e-5)
    np.testing.assert_allclose(outer.evaluate(x, [y1, y2], verbose=0), expected, rtol=1e-5)
    np.testing.assert_allclose(outer.train_on_batch(x, [y1, y2]), expected, rtol=1e-5)


def test_evaluate_bar_shows_the_values_evaluate_returns(capsys):
    """The bar is given running means; it shows them as they are (averaging them again,
    weighted by batch, printed 0.8567 for a returned 0.8798)."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((79, 5)).astype("float32")
    y = (rng.random((79, 1)) > 0.5).astype("float32")
    model = keras.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(5,))])
    model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    loss, accuracy = model.evaluate(x, y, batch_size=64, verbose=1)
    last = capsys.readouterr().out.replace("\b", "\r").split("\r")[-1]
    assert f"loss: {loss:.4f}" in last and f"accuracy: {accuracy:.4f}" in last, last
