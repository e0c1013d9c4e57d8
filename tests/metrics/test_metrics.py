"""jkeras.metrics against real Keras (on JAX): two update batches, sample weights, jit."""
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jkeras import losses, metrics

TOL = dict(rtol=1e-5, atol=1e-5)
AUC_TOL = dict(rtol=1e-4, atol=1e-4)


def _probs(rng, shape):
    x = rng.uniform(0.05, 1.0, size=shape).astype("float32")
    return x / x.sum(-1, keepdims=True)


def _batch(kind, rng, n):
    """(y_true, y_pred) for a batch of n samples."""
    if kind == "regression":
        return (rng.normal(size=(n, 3)).astype("float32"),
                rng.normal(size=(n, 3)).astype("float32"))
    if kind == "positive":
        return (rng.uniform(0.1, 3, size=(n, 3)).astype("float32"),
                rng.uniform(0.1, 3, size=(n, 3)).astype("float32"))
    if kind == "binary":
        return (rng.integers(0, 2, size=(n, 1)).astype("float32"),
                rng.uniform(0.0, 1.0, size=(n, 1)).astype("float32"))
    if kind == "multilabel":
        return (rng.integers(0, 2, size=(n, 4)).astype("float32"),
                rng.uniform(0.0, 1.0, size=(n, 4)).astype("float32"))
    if kind == "logits":
        return (rng.integers(0, 2, size=(n, 2)).astype("float32"),
                rng.normal(scale=2, size=(n, 2)).astype("float32"))
    if kind == "categorical":
        return (np.eye(6, dtype="float32")[rng.integers(0, 6, size=n)],
                _probs(rng, (n, 6)))
    if kind == "sparse":
        return rng.integers(0, 6, size=(n,)), _probs(rng, (n, 6))
    if kind == "sparse_column":
        return rng.integers(0, 6, size=(n, 1)), _probs(rng, (n, 6))
    if kind == "distributions":
        return _probs(rng, (n, 4)), _probs(rng, (n, 4))
    if kind == "exact":
        y = rng.integers(0, 3, size=(n, 2)).astype("float32")
        return y, np.where(rng.uniform(size=(n, 2)) < 0.5, y, 1.0).astype("float32")
    raise ValueError(kind)


def _two_batches(kind, rng):
    """An 8-sample batch with a zero weight, then a smaller 5-sample batch."""
    first, second = _batch(kind, rng, 8), _batch(kind, rng, 5)
    w1 = rng.uniform(0.2, 2.0, size=(8,)).astype("float32")
    w1[3] = 0.0
    w2 = rng.uniform(0.2, 2.0, size=(5,)).astype("float32")
    return [(*first, w1), (*second, w2)]


def _keras_result(keras_metric, batches, weighted):
    for y_true, y_pred, weight in batches:
        keras_metric.update_state(y_true, y_pred, sample_weight=weight if weighted else None)
    return np.asarray(keras_metric.result())


def _jitted_result(metric, batches, weighted):
    update = jax.jit(metric.update)
    state = metric.init_state()
    for y_true, y_pred, weight in batches:
        state = update(state, y_true, y_pred, weight if weighted else None)
    return np.asarray(jax.jit(metric.compute)(state))


def _stateful_result(metric, batches, weighted):
    metric.reset_state()
    for y_true, y_pred, weight in batches:
        metric.update_state(y_true, y_pred, sample_weight=weight if weighted else None)
    return np.asarray(metric.result())


# (jkeras factory, keras factory name, kwargs, data kind)
WRAPPER_CASES = [
    ("Accuracy", {}, "exact"),
    ("BinaryAccuracy", {}, "binary"),
    ("BinaryAccuracy", {"threshold": 0.7}, "multilabel"),
    ("CategoricalAccuracy", {}, "categorical"),
    ("SparseCategoricalAccuracy", {}, "sparse"),
    ("SparseCategoricalAccuracy", {}, "sparse_column"),
    ("TopKCategoricalAccuracy", {"k": 2}, "categorical"),
    ("TopKCategoricalAccuracy", {}, "categorical"),
    ("SparseTopKCategoricalAccuracy", {"k": 3}, "sparse"),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse_column"),
    ("MeanSquaredError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "positive"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("RootMeanSquaredError", {}, "regression"),
    ("LogCoshError", {}, "regression"),
    ("CosineSimilarity", {}, "regression"),
    ("Hinge", {}, "logits"),
    ("SquaredHinge", {}, "logits"),
    ("CategoricalHinge", {}, "categorical"),
    ("BinaryCrossentropy", {}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "logits"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.2}, "categorical"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("SparseCategoricalCrossentropy", {}, "sparse_column"),
    ("KLDivergence", {}, "distributions"),
    ("Poisson", {}, "positive"),
]


@pytest.mark.slow
@pytest.mark.parametrize("name,kwargs,kind", WRAPPER_CASES,
                         ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(WRAPPER_CASES)])
def test_mean_metrics_match_keras(keras_ref, rng, name, kwargs, kind):
    batches = _two_batches(kind, rng)
    expected = _keras_result(getattr(keras_ref.metrics, name)(**kwargs), batches, True)
    metric = getattr(metrics, name)(**kwargs)
    np.testing.assert_allclose(_jitted_result(metric, batches, True), expected, **TOL)
    np.testing.assert_allclose(_stateful_result(metric, batches, True), expected, **TOL)


@pytest.mark.parametrize("name,kind", [("SparseCategoricalAccuracy", "sparse_column"),
                                       ("MeanSquaredError", "regression"),
                                       ("RootMeanSquaredError", "regression"),
                                       ("BinaryAccuracy", "multilabel")])
def test_mean_metrics_unweighted(keras_ref, rng, name, kind):
    batches = _two_batches(kind, rng)
    expected = _keras_result(getattr(keras_ref.metrics, name)(), batches, False)
    metric = getattr(metrics, name)()
    np.testing.assert_allclose(_jitted_result(metric, batches, False), expected, **TOL)


def test_mean_and_sum(keras_ref, rng):
    values = [rng.normal(size=(6, 3)).astype("float32"), rng.normal(size=(4, 3)).astype("float32")]
    weights = [rng.uniform(size=(6,)).astype("float32"), rng.uniform(size=(4,)).astype("float32")]
    for name in ["Mean", "Sum"]:
        ours, ref = getattr(metrics, name)(), getattr(keras_ref.metrics, name)()
        state = ours.init_state()
        for v, w in zip(values, weights):
            state = jax.jit(ours.update)(state, v, w)
            ref.update_state(v, sample_weight=w)
        np.testing.assert_allclose(ours.compute(state), ref.result(), **TOL)
    mean = metrics.Mean()
    mean.update_state([1.0, 3.0, 5.0, 7.0], sample_weight=[1, 1, 0, 0])
    np.testing.assert_allclose(mean.result(), 2.0)


def test_mean_weights_samples_not_batches():
    metric = metrics.MeanMetricWrapper(losses.mean_absolute_error, name="mae")
    metric.update_state(np.zeros((4, 1)), np.ones((4, 1)))   # 4 samples of error 1
    metric.update_state(np.zeros((1, 1)), np.full((1, 1), 6.0))  # 1 sample of error 6
    np.testing.assert_allclose(metric.result(), 2.0)


def test_temporal_sample_weights(keras_ref, rng):
    y_true = rng.integers(0, 4, size=(5, 3))
    y_pred = _probs(rng, (5, 3, 4))
    weight = rng.uniform(size=(5, 3)).astype("float32")
    weight[0, 1] = 0.0
    ref = keras_ref.metrics.SparseCategoricalAccuracy()
    ref.update_state(y_true, y_pred, sample_weight=weight)
    ours = metrics.SparseCategoricalAccuracy()
    ours.update_state(y_true, y_pred, sample_weight=weight)
    np.testing.assert_allclose(ours.result(), ref.result(), **TOL)
    per_sample = np.array([1.0, 0.0, 2.0, 1.0, 0.5], "float32")
    ours.reset_state()
    ours.update_state(y_true, y_pred, sample_weight=per_sample)
    matches = (y_pred.argmax(-1) == y_true).astype("float32")
    np.testing.assert_allclose(ours.result(),
                               (matches * per_sample[:, None]).sum() / (3 * per_sample.sum()),
                               **TOL)


@pytest.mark.slow
def test_sparse_crossentropy_metric_ignore_class(keras_ref, rng):
    y_true = np.array([0, 2, 5, 1, 5, 3])
    y_pred = _probs(rng, (6, 6))
    weight = np.array([1.0, 0.5, 2.0, 0.0, 1.0, 3.0], "float32")
    # Keras 3 drops ignored entries only when given weights; Keras 2 always does.
    ref = keras_ref.metrics.SparseCategoricalCrossentropy(ignore_class=5)
    ours = metrics.SparseCategoricalCrossentropy(ignore_class=5)
    ref.update_state(y_true, y_pred, sample_weight=weight)
    ours.update_state(y_true, y_pred, sample_weight=weight)
    np.testing.assert_allclose(ours.result(), ref.result(), **TOL)
    ours.reset_state()
    ours.update_state(y_true, y_pred)
    valid = y_true != 5
    expected = -np.log(y_pred[np.arange(6), np.where(valid, y_true, 0)])[valid].mean()
    np.testing.assert_allclose(ours.result(), expected, **TOL)


@pytest.mark.parametrize("fn,keras_name,kind,kwargs", [
    (metrics.binary_accuracy, "binary_accuracy", "multilabel", {}),
    (metrics.categorical_accuracy, "categorical_accuracy", "categorical", {}),
    (metrics.sparse_categorical_accuracy, "sparse_categorical_accuracy", "sparse", {}),
    (metrics.top_k_categorical_accuracy, "top_k_categorical_accuracy", "categorical",
     {"k": 3}),
    (metrics.sparse_top_k_categorical_accuracy, "sparse_top_k_categorical_accuracy", "sparse",
     {"k": 2}),
])
def test_metric_functions(keras_ref, rng, fn, keras_name, kind, kwargs):
    y_true, y_pred = _batch(kind, rng, 7)
    expected = np.asarray(getattr(keras_ref.metrics, keras_name)(y_true, y_pred, **kwargs))
    got = np.asarray(fn(y_true, y_pred, **kwargs))
    if keras_name == "binary_accuracy":  # Keras 2 averages the last axis; Keras 3 does not
        expected = expected.mean(-1)
    np.testing.assert_allclose(got, expected, **TOL)


def test_cosine_similarity_is_positive(keras_ref, rng):
    y_true, y_pred = _batch("regression", rng, 7)
    np.testing.assert_allclose(metrics.cosine_similarity(y_true, y_pred),
                               -np.asarray(keras_ref.losses.cosine_similarity(y_true, y_pred)),
                               **TOL)


def test_top_k_ties_count_in(rng):
    y_pred = np.array([[0.3, 0.3, 0.3, 0.1]], "float32")
    assert metrics.sparse_top_k_categorical_accuracy([2], y_pred, k=1)[0] == 1.0
    assert metrics.sparse_top_k_categorical_accuracy([3], y_pred, k=3)[0] == 0.0


def test_function_aliases_are_the_losses():
    assert metrics.mse is losses.mean_squared_error
    assert metrics.mae is losses.mean_absolute_error
    assert metrics.mape is losses.mean_absolute_percentage_error
    assert metrics.msle is losses.mean_squared_logarithmic_error
    assert metrics.kld is losses.kl_divergence
    assert metrics.binary_crossentropy is losses.binary_crossentropy
    assert float(metrics.cosine_similarity([[1.0, 0.0]], [[2.0, 0.0]])[0]) == 1.0


# ----------------------------------------------------------------------------- confusion


@pytest.mark.slow
@pytest.mark.parametrize("thresholds", [None, 0.3, [0.2, 0.5, 0.9], [0.0, 0.5, 1.0]],
                         ids=["default", "one", "list", "even"])
def test_confusion_counts(keras_ref, rng, thresholds):
    batches = _two_batches("multilabel", rng)
    for name in ["TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives"]:
        expected = _keras_result(getattr(keras_ref.metrics, name)(thresholds=thresholds),
                                 batches, True)
        metric = getattr(metrics, name)(thresholds=thresholds)
        np.testing.assert_allclose(_jitted_result(metric, batches, True), expected, **TOL)
    expected = _keras_result(keras_ref.metrics.TruePositives(thresholds=thresholds),
                             batches, False)
    np.testing.assert_allclose(
        _stateful_result(metrics.TruePositives(thresholds=thresholds), batches, False),
        expected, **TOL)


PR_CASES = [
    {},
    {"thresholds": 0.7},
    {"thresholds": [0.1, 0.4, 0.8]},
    {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]},
    {"top_k": 2},
    {"top_k": 1, "thresholds": [0.2, 0.4]},
    {"class_id": 2},
    {"class_id": 1, "thresholds": [0.3, 0.6]},
    {"class_id": 3, "top_k": 2},
]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["Precision", "Recall"])
@pytest.mark.parametrize("kwargs", PR_CASES, ids=[str(c) for c in PR_CASES])
def test_precision_recall(keras_ref, rng, name, kwargs):
    batches = _two_batches("multilabel", rng)
    expected = _keras_result(getattr(keras_ref.metrics, name)(**kwargs), batches, True)
    metric = getattr(metrics, name)(**kwargs)
    np.testing.assert_allclose(_jitted_result(metric, batches, True), expected, **TOL)
    if not kwargs:
        expected = _keras_result(getattr(keras_ref.metrics, name)(), batches, False)
        np.testing.assert_allclose(_stateful_result(metric, batches, False), expected, **TOL)


AUC_CASES = [
    {},
    {"curve": "PR"},
    {"num_thresholds": 50, "summation_method": "minoring"},
    {"curve": "PR", "summation_method": "majoring"},
    {"curve": "pr", "summation_method": "minoring"},
    {"thresholds": [0.1, 0.3, 0.5, 0.7, 0.9]},
    {"thresholds": [0.25, 0.5, 0.75]},
    {"curve": "PR", "thresholds": [0.2, 0.35, 0.6]},
    {"multi_label": True},
    {"multi_label": True, "num_labels": 4, "curve": "PR"},
    {"multi_label": True, "label_weights": [0.5, 1.0, 2.0, 0.0]},
    {"label_weights": [0.5, 1.0, 2.0, 0.3]},
]


@pytest.mark.slow
@pytest.mark.parametrize("kwargs", AUC_CASES, ids=[str(c) for c in AUC_CASES])
def test_auc(keras_ref, rng, kwargs):
    batches = _two_batches("multilabel", rng)
    expected = _keras_result(keras_ref.metrics.AUC(**kwargs), batches, True)
    metric = metrics.AUC(**kwargs)
    metric.build((8, 4), (8, 4))
    np.testing.assert_allclose(_jitted_result(metric, batches, True), expected, **AUC_TOL)


@pytest.mark.slow
@pytest.mark.parametrize("kwargs", [{}, {"curve": "PR"}, {"multi_label": True}],
                         ids=["ROC", "PR", "multi_label"])
def test_auc_unweighted_stateful(keras_ref, rng, kwargs):
    batches = _two_batches("multilabel", rng)
    expected = _keras_result(keras_ref.metrics.AUC(**kwargs), batches, False)
    np.testing.assert_allclose(_stateful_result(metrics.AUC(**kwargs), batches, False),
                               expected, **AUC_TOL)


@pytest.mark.slow
@pytest.mark.parametrize("curve", ["ROC", "PR"])
def test_auc_from_logits_and_binary_column(keras_ref, rng, curve):
    y_true = rng.integers(0, 2, size=(30, 1)).astype("float32")
    logits = (y_true * 1.5 + rng.normal(size=(30, 1))).astype("float32")
    ref = keras_ref.metrics.AUC(curve=curve, from_logits=True)
    ref.update_state(y_true, logits)
    ours = metrics.AUC(curve=curve, from_logits=True)
    ours.update_state(y_true, logits)
    np.testing.assert_allclose(ours.result(), ref.result(), **AUC_TOL)
    # A flat label vector against (N, 1) predictions.
    ours.reset_state()
    ours.update_state(y_true[:, 0], logits)
    np.testing.assert_allclose(ours.result(), ref.result(), **AUC_TOL)


@pytest.mark.slow
def test_auc_extreme_predictions(keras_ref):
    y_true = np.array([0, 0, 1, 1, 1, 0], "float32")
    y_pred = np.array([0.0, 0.5, 1.0, 1.0, 0.5, 0.0], "float32")
    for curve in ["ROC", "PR"]:
        ref = keras_ref.metrics.AUC(curve=curve)
        ref.update_state(y_true, y_pred)
        np.testing.assert_allclose(metrics.AUC(curve=curve)(y_true, y_pred), ref.result(),
                                   **AUC_TOL)


def test_auc_multi_label_needs_shape():
    metric = metrics.AUC(multi_label=True)
    with pytest.raises(ValueError, match="num_labels"):
        metric.init_state()
    metric.build(None, (4, 3))
    assert metric.init_state()["tp"].shape == (200, 3)


@pytest.mark.parametrize("name,value", [
    ("SensitivityAtSpecificity", 0.6), ("SpecificityAtSensitivity", 0.7),
    ("PrecisionAtRecall", 0.5), ("RecallAtPrecision", 0.6)])
@pytest.mark.parametrize("extra", [{}, {"num_thresholds": 1, "class_id": 1}],
                         ids=["default", "one_threshold_class_id"])
def test_rate_at_rate_metrics(keras_ref, rng, name, value, extra):
    batches = _two_batches("multilabel", rng)
    expected = _keras_result(getattr(keras_ref.metrics, name)(value, **extra), batches, True)
    metric = getattr(metrics, name)(value, **extra)
    np.testing.assert_allclose(_jitted_result(metric, batches, True), expected, **AUC_TOL)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Explicitly requested dtype")
@pytest.mark.parametrize("kwargs", [{}, {"ignore_class": 2},
                                    {"sparse_y_pred": False}])
def test_mean_iou(keras_ref, rng, kwargs):
    def batch(n):
        y_true = rng.integers(0, 4, size=(n, 3))
        y_pred = (_probs(rng, (n, 3, 4)) if kwargs.get("sparse_y_pred") is False
                  else rng.integers(0, 4, size=(n, 3)))
        return y_true, y_pred, rng.uniform(size=(n, 3)).astype("float32")

    batches = [batch(6), batch(3)]
    ref = keras_ref.metrics.MeanIoU(num_classes=4, dtype="float32", **kwargs)
    expected = _keras_result(ref, batches, True)
    metric = metrics.MeanIoU(4, **kwargs)
    np.testing.assert_allclose(_jitted_result(metric, batches, True), expected, **TOL)
    assert metric.name == "mean_io_u"


def test_mean_iou_per_sample_weights(rng):
    y_true = np.array([[0, 1], [1, 1], [2, 0]])
    y_pred = np.array([[0, 1], [0, 1], [2, 2]])
    metric = metrics.MeanIoU(3)
    metric.update_state(y_true, y_pred, sample_weight=[1.0, 0.0, 1.0])
    # Counted pairs (true, pred): (0,0), (1,1), (2,2), (0,2): IoUs 1/2, 1, 1/2.
    np.testing.assert_allclose(metric.result(), 2.0 / 3.0, **TOL)


def test_invalid_arguments_are_named():
    with pytest.raises(ValueError, match="thresholds=1.5"):
        metrics.Precision(thresholds=1.5)
    with pytest.raises(ValueError, match="curve='XY'"):
        metrics.AUC(curve="XY")
    with pytest.raises(ValueError, match="num_thresholds=1"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="specificity=1.5"):
        metrics.SensitivityAtSpecificity(1.5)


# ----------------------------------------------------------------------------- custom metrics


class BinaryTruePositives(metrics.Metric):
    """A Keras 2 style custom metric."""

    def __init__(self, name="binary_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_weight(name="tp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        hits = jnp.logical_and(jnp.asarray(y_true) == 1, jnp.asarray(y_pred) > 0.5)
        hits = hits.astype("float32")
        if sample_weight is not None:
            hits = hits * jnp.asarray(sample_weight)
        self.true_positives.assign_add(jnp.sum(hits))

    def result(self):
        return self.true_positives


class Percent(metrics.BinaryAccuracy):
    """A built-in metric extended through super()."""

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(y_true, jnp.asarray(y_pred) * 0.9, sample_weight)

    def result(self):
        return 100.0 * super().result()


def test_custom_metric_is_stateful_and_pure():
    y_true = np.array([1, 1, 0, 1], "float32")
    y_pred = np.array([0.9, 0.2, 0.8, 0.7], "float32")
    metric = BinaryTruePositives()
    metric.update_state(y_true, y_pred)
    metric.update_state(y_true, y_pred, sample_weight=[1.0, 1.0, 1.0, 0.5])
    assert float(metric.result()) == 3.5
    state = jax.jit(metric.update)(metric.init_state(), y_true, y_pred)
    state = jax.jit(metric.update)(state, y_true, y_pred)
    assert float(metric.compute(state)) == 4.0
    assert float(metric.result()) == 3.5  # the pure path leaves the live state alone
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_subclass_of_builtin_through_super():
    y_true = np.array([[1.0], [0.0], [1.0], [1.0]])
    y_pred = np.array([[0.6], [0.2], [0.5], [0.9]])  # scaled by 0.9: 0.54, 0.18, 0.45, 0.81
    metric = Percent()
    np.testing.assert_allclose(metric(y_true, y_pred), 75.0, **TOL)
    state = jax.jit(metric.update)(metric.init_state(), y_true, y_pred)
    np.testing.assert_allclose(metric.compute(state), 75.0, **TOL)


# ----------------------------------------------------------------------------- registry


def test_get():
    assert isinstance(metrics.get("binary_accuracy"), metrics.MeanMetricWrapper)
    assert metrics.get("binary_accuracy")._fn is metrics.binary_accuracy
    mse = metrics.get("mse")
    assert mse.name == "mse" and mse._fn is losses.mean_squared_error
    top_k = metrics.get("top_k_categorical_accuracy")
    assert top_k.name == "top_k_categorical_accuracy"
    auc = metrics.get("AUC")
    assert isinstance(auc, metrics.AUC) and auc.name == "auc"
    assert isinstance(metrics.get("Precision"), metrics.Precision)
    obj = metrics.Recall()
    assert metrics.get(obj) is obj
    assert metrics.get(None) is None

    def mean_pred(y_true, y_pred):
        return jnp.mean(y_pred, axis=-1)

    wrapped = metrics.get(mean_pred)
    assert isinstance(wrapped, metrics.MeanMetricWrapper) and wrapped.name == "mean_pred"
    wrapped.update_state(np.zeros((2, 2)), np.array([[1.0, 3.0], [5.0, 7.0]]))
    np.testing.assert_allclose(wrapped.result(), 4.0)
    from_loss = metrics.get(losses.Huber(delta=0.5))
    assert from_loss.name == "huber_loss"
    from_loss.update_state(np.zeros((2, 1)), np.array([[0.2], [2.0]]))
    np.testing.assert_allclose(from_loss.result(), (0.5 * 0.04 + (0.5 * 2.0 - 0.125)) / 2,
                               **TOL)
    rebuilt = metrics.deserialize(json.loads(json.dumps(metrics.serialize(from_loss))))
    assert isinstance(rebuilt._fn, losses.Huber) and rebuilt._fn.get_config()["delta"] == 0.5
    with pytest.raises(ValueError, match="nope"):
        metrics.get("nope")
    with pytest.raises(ValueError, match="metric identifier"):
        metrics.get(3)


@pytest.mark.parametrize("metric", [
    metrics.BinaryAccuracy(threshold=0.3), metrics.TopKCategoricalAccuracy(k=3),
    metrics.SparseCategoricalCrossentropy(ignore_class=1, from_logits=True),
    metrics.CosineSimilarity(axis=0), metrics.RootMeanSquaredError(name="rmse"),
    metrics.Precision(thresholds=[0.2, 0.6], class_id=1), metrics.Recall(top_k=3),
    metrics.TruePositives(thresholds=[0.1, 0.5]),
    metrics.AUC(curve="PR", num_thresholds=20, multi_label=True, num_labels=3,
                label_weights=[1.0, 2.0, 3.0]),
    metrics.AUC(thresholds=[0.2, 0.4]), metrics.MeanIoU(3, ignore_class=0),
    metrics.SensitivityAtSpecificity(0.4, num_thresholds=10), metrics.Mean(name="m"),
])
def test_serialize_round_trip(metric):
    config = json.loads(json.dumps(metrics.serialize(metric)))
    assert config["class_name"] == type(metric).__name__
    rebuilt = metrics.deserialize(config)
    assert type(rebuilt) is type(metric)
    assert rebuilt.get_config() == metric.get_config()


def test_serialize_wrapped_function():
    def mean_pred(y_true, y_pred):
        return jnp.mean(y_pred, axis=-1)

    config = metrics.serialize(metrics.MeanMetricWrapper(mean_pred, name="mp"))
    assert config["config"]["fn"] == "mean_pred"
    rebuilt = metrics.deserialize(config, custom_objects={"mean_pred": mean_pred})
    assert rebuilt._fn is mean_pred and rebuilt.name == "mp"
    rebuilt = metrics.deserialize(metrics.serialize(metrics.get("mae")))
    assert rebuilt._fn is losses.mean_absolute_error


@pytest.mark.parametrize("build", [
    lambda k: k.metrics.AUC(curve="PR", num_thresholds=33),
    lambda k: k.metrics.BinaryAccuracy(threshold=0.2),
    lambda k: k.metrics.Precision(thresholds=[0.3, 0.7], class_id=2),
    lambda k: k.metrics.MeanMetricWrapper(k.metrics.mean_squared_error, name="x"),
])
def test_reads_keras_3_configs(keras_ref, build):
    ref = build(keras_ref)
    ours = metrics.deserialize(keras_ref.saving.serialize_keras_object(ref))
    assert type(ours).__name__ == type(ref).__name__ and ours.name == ref.name
    for key, value in ref.get_config().items():
        if key in ours.get_config() and key not in ("dtype", "fn"):
            assert ours.get_config()[key] == value


def test_accuracy_for():
    assert metrics.accuracy_for("binary_crossentropy", (None, 1)) is metrics.binary_accuracy
    assert metrics.accuracy_for("mse", (None, 1)) is metrics.binary_accuracy
    assert metrics.accuracy_for("binary_crossentropy", (None, 5)) is metrics.binary_accuracy
    assert metrics.accuracy_for(losses.BinaryCrossentropy(), (None, 5)) \
        is metrics.binary_accuracy
    assert metrics.accuracy_for(losses.binary_crossentropy, (None, 5)) \
        is metrics.binary_accuracy
    assert metrics.accuracy_for("sparse_categorical_crossentropy", (None, 10)) \
        is metrics.sparse_categorical_accuracy
    assert metrics.accuracy_for(losses.SparseCategoricalCrossentropy(from_logits=True),
                                (None, 10)) is metrics.sparse_categorical_accuracy
    assert metrics.accuracy_for("categorical_crossentropy", (None, 10)) \
        is metrics.categorical_accuracy
    assert metrics.accuracy_for("CategoricalCrossentropy", (None, 10), (None, 10)) \
        is metrics.categorical_accuracy

    def my_loss(y_true, y_pred):
        return jnp.mean(y_pred - y_true, axis=-1)

    assert metrics.accuracy_for(my_loss, (None, 10)) is metrics.categorical_accuracy
    assert metrics.accuracy_for(my_loss, (None, 10), (None, 1)) \
        is metrics.sparse_categorical_accuracy
    assert metrics.accuracy_for(my_loss, (None, 10), (None,)) \
        is metrics.sparse_categorical_accuracy
    assert metrics.crossentropy_for("mse", (None, 1)) is losses.binary_crossentropy
    assert metrics.crossentropy_for("sparse_categorical_crossentropy", (None, 4)) \
        is losses.sparse_categorical_crossentropy


def test_names_follow_keras_2():
    assert metrics.KLDivergence().name == "kullback_leibler_divergence"
    assert metrics.LogCoshError().name == "logcosh"
    assert metrics.TruePositives().name == "true_positives"
    assert metrics.Precision().name == "precision"
    assert metrics.Mean().get_config() == {"name": "mean", "dtype": "float32"}
