"""Cross-entropies of a softmax output are taken from its logits inside fit/evaluate, as
Keras 2 on TensorFlow does (its backend checks for a 'Softmax' op); anything after the
softmax, or a call outside a step, keeps the clipped probabilities. References: NumPy."""
import numpy as np
import pytest

import jkeras
from jkeras import backend as K

EPS = 1e-7
LOGITS = np.array([40.0, 0.0, 0.0])  # the model's logits for the one sample below


def _log_softmax(z):
    z = z - z.max()
    return z - np.log(np.exp(z).sum())


def _clipped_ce(z, label):
    p = np.exp(_log_softmax(z))
    return -np.log(np.clip(p / p.sum(), EPS, 1 - EPS))[label]


LOSSES = {
    "categorical string": ("categorical_crossentropy", False),
    "CategoricalCrossentropy": (lambda: jkeras.losses.CategoricalCrossentropy(), False),
    "sparse string": ("sparse_categorical_crossentropy", True),
    "SparseCategoricalCrossentropy": (lambda: jkeras.losses.SparseCategoricalCrossentropy(),
                                      True),
    "K.categorical_crossentropy in a custom loss": (
        lambda: (lambda y_true, y_pred: K.categorical_crossentropy(y_true, y_pred)), False),
    "K.sparse_categorical_crossentropy in a custom loss": (
        lambda: (lambda y_true, y_pred: K.sparse_categorical_crossentropy(y_true, y_pred)),
        True),
}


def _model(head):
    jkeras.utils.set_random_seed(0)
    inputs = jkeras.Input((4,))
    outputs = head(jkeras.layers.Dense(3, name="logits")(inputs))
    model = jkeras.Model(inputs, outputs)
    kernel = np.zeros((4, 3), np.float32)
    kernel[0] = LOGITS
    model.get_layer("logits").set_weights([kernel, np.zeros(3, np.float32)])
    return model


def _compiled(head, name):
    loss, sparse = LOSSES[name]
    model = _model(head)
    model.compile(jkeras.optimizers.SGD(0.1), loss if isinstance(loss, str) else loss())
    x = np.array([[1.0, 0.0, 0.0, 0.0]], np.float32)
    y = np.array([1]) if sparse else np.array([[0.0, 1.0, 0.0]], np.float32)
    return model, x, y


HEADS = {
    "Activation('softmax')": lambda t: jkeras.layers.Activation("softmax")(t),
    "Softmax layer": lambda t: jkeras.layers.Softmax()(t),
}


@pytest.mark.parametrize("head", sorted(HEADS))
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_a_softmax_outputs_loss_comes_from_its_logits(head, name):
    model, x, y = _compiled(HEADS[head], name)
    expected = -_log_softmax(LOGITS)[1]  # 40: the clipped probabilities would give 16.1
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), expected, rtol=1e-6)
    before = model.get_layer("logits").get_weights()[0].copy()
    loss = model.train_on_batch(x, y)
    np.testing.assert_allclose(loss, expected, rtol=1e-6)
    # The confidently wrong sample keeps its gradient (the clip would have zeroed it):
    # d loss / d logits = softmax - onehot, times x = e_0, times the learning rate.
    grad = np.exp(_log_softmax(LOGITS)) - np.array([0.0, 1.0, 0.0])
    after = model.get_layer("logits").get_weights()[0]
    np.testing.assert_allclose(after[0], before[0] - 0.1 * grad, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("metric", ["categorical_crossentropy",
                                    "sparse_categorical_crossentropy"])
def test_a_crossentropy_metric_of_a_softmax_output_uses_its_logits_too(metric):
    """Keras 2.3's metric saw the same softmax op as the loss did: in fit's logs and in
    evaluate, the metric equals the loss."""
    sparse = metric.startswith("sparse")
    model = _model(lambda t: jkeras.layers.Activation("softmax")(t))
    model.compile(jkeras.optimizers.SGD(0.0), metric, metrics=[metric])
    x = np.array([[1.0, 0.0, 0.0, 0.0]], np.float32)
    y = np.array([1]) if sparse else np.array([[0.0, 1.0, 0.0]], np.float32)
    expected = -_log_softmax(LOGITS)[1]
    loss, value = model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose([loss, value], [expected, expected], rtol=1e-6)
    logs = model.fit(x, y, epochs=1, verbose=0).history
    np.testing.assert_allclose([logs["loss"][0], logs[metric][0]], [expected, expected],
                               rtol=1e-6)


def test_a_dense_layers_softmax_activation_counts_too():
    model, x, y = _compiled(lambda t: t, "categorical string")
    dense = jkeras.Sequential([jkeras.Input((4,)), jkeras.layers.Dense(3, activation="softmax")])
    dense.set_weights(model.get_weights())
    dense.compile("sgd", "categorical_crossentropy")
    np.testing.assert_allclose(dense.evaluate(x, y, verbose=0), -_log_softmax(LOGITS)[1],
                               rtol=1e-6)


@pytest.mark.parametrize("name", ["categorical string", "sparse string"])
def test_anything_after_the_softmax_keeps_the_clipped_probabilities(name):
    model, x, y = _compiled(
        lambda t: jkeras.layers.Lambda(lambda p: p * 1.0)(jkeras.layers.Activation("softmax")(t)),
        name)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), _clipped_ce(LOGITS, 1),
                               rtol=1e-5)


def test_a_softmax_over_another_axis_keeps_the_clipped_probabilities():
    jkeras.utils.set_random_seed(0)
    inputs = jkeras.Input((2, 3))
    model = jkeras.Model(inputs, jkeras.layers.Softmax(axis=1)(inputs))
    model.compile("sgd", "categorical_crossentropy")
    x = np.array([[[30.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], np.float32)
    y = np.array([[[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]], np.float32)
    p = np.exp(x - x.max(axis=1, keepdims=True))
    p = p / p.sum(axis=1, keepdims=True)
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    expected = np.mean(-np.sum(y * np.log(p), -1))
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), expected, rtol=1e-5)


def test_outside_a_step_the_probabilities_are_used_as_given():
    probs = np.exp(_log_softmax(LOGITS))[None].astype(np.float32)
    got = jkeras.losses.categorical_crossentropy(np.array([[0.0, 1.0, 0.0]]), probs)
    np.testing.assert_allclose(got, [_clipped_ce(LOGITS, 1)], rtol=1e-5)


def _rank3(head):
    jkeras.utils.set_random_seed(0)
    inputs = jkeras.Input((2, 4))
    logits = jkeras.layers.Dense(3, name="logits")(inputs)
    model = jkeras.Model(inputs, head(logits))
    kernel = np.zeros((4, 3), np.float32)
    kernel[0] = LOGITS
    model.get_layer("logits").set_weights([kernel, np.zeros(3, np.float32)])
    model.compile("sgd", "categorical_crossentropy")
    x = np.zeros((1, 2, 4), np.float32)
    x[0, :, 0] = 1.0
    y = np.zeros((1, 2, 3), np.float32)
    y[0, :, 1] = 1.0
    return model, x, y


def test_a_layers_softmax_of_rank_3_keeps_the_clip_as_in_keras_2():
    # Keras 2.3's activations.softmax made TensorFlow's softmax op for 2-D inputs only
    # (higher ranks were divided by hand), so its losses clipped these
    model, x, y = _rank3(lambda t: jkeras.layers.Activation("softmax")(t))
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), _clipped_ce(LOGITS, 1),
                               rtol=1e-5)


def test_k_softmax_of_any_rank_gives_its_logits():
    model, x, y = _rank3(lambda t: jkeras.layers.Lambda(lambda z: K.softmax(z))(t))
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), -_log_softmax(LOGITS)[1],
                               rtol=1e-6)


@pytest.mark.parametrize("logits", [[1000.0, 990.0], [30000.0, 29995.0], [100.0, 100.5]])
def test_sparse_crossentropy_of_large_logits_keeps_its_precision(logits):
    z = np.asarray([logits], np.float32)
    got = jkeras.losses.sparse_categorical_crossentropy(np.array([1]), z, from_logits=True)
    expected = -_log_softmax(np.asarray(logits, np.float64))[1]
    np.testing.assert_allclose(got, [expected], rtol=1e-4)
