"""Metrics over confusion counts at thresholds: true/false positives/negatives,
`Precision`, `Recall`, the sensitivity/specificity family and `AUC`."""
import jax
import jax.numpy as jnp
import numpy as np

from jkeras import _config, deterministic_ops
from jkeras.losses import align_ranks, divide_no_nan, fit_weight_rank
from jkeras.metrics.metric import Metric, plain_value

__all__ = [
    "confusion_counts", "TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives",
    "Precision", "Recall", "SensitivityAtSpecificity", "SpecificityAtSensitivity",
    "PrecisionAtRecall", "RecallAtPrecision", "AUC", "NEG_INF",
]

NEG_INF = -1e10


def _parse_thresholds(thresholds, default):
    if thresholds is None:
        return [default]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) \
        else [thresholds]
    if any(t is None or not 0 <= t <= 1 for t in values):
        raise ValueError(f"Expected threshold values in [0, 1]. Received: thresholds="
                         f"{thresholds!r}")
    return [float(t) for t in values]


def _evenly_spaced(thresholds):
    """Whether thresholds are 0, 1/(n-1), ..., 1 (n >= 3), which allows bucketing."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype="float32") / (n - 1)
    return bool(np.allclose(thresholds, even, atol=_config.epsilon()))


def _filter_top_k(x, k):
    """Keeps the k largest entries of the last axis; the rest become NEG_INF."""
    _, indices = jax.lax.top_k(x, k)
    keep = jnp.sum(jax.nn.one_hot(indices, x.shape[-1], dtype=x.dtype), axis=-2)
    return x * keep + NEG_INF * (1.0 - keep)


def confusion_counts(y_true, y_pred, thresholds, *, sample_weight=None, top_k=None,
                     class_id=None, multi_label=False, label_weights=None, evenly=False,
                     dtype="float32"):
    """Weighted true/false positives/negatives at each threshold (positive: y_pred > t).

    Returns a dict with 'tp', 'fp', 'tn', 'fn', each of shape (T,), or (T, labels) when
    `multi_label`. `evenly` (thresholds 0..1 evenly spaced, possibly widened by epsilon at
    the ends) lets predictions be bucketed in one pass instead of compared to every
    threshold.
    """
    y_true, y_pred = align_ranks(jnp.asarray(y_true).astype(dtype),
                                 jnp.asarray(y_pred).astype(dtype))
    weight = jnp.ones(y_pred.shape, dtype)
    if sample_weight is not None:
        weight = jnp.broadcast_to(
            fit_weight_rank(jnp.asarray(sample_weight).astype(dtype), y_pred.ndim),
            y_pred.shape)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim < 2:
            raise ValueError("Expected y_pred of shape (num_samples, num_classes) with "
                             f"class_id. Received: y_pred.shape={tuple(y_pred.shape)}")
        y_true, y_pred, weight = (a[..., class_id] for a in (y_true, y_pred, weight))
    if label_weights is not None and not multi_label:
        weight = weight * jnp.broadcast_to(jnp.asarray(label_weights, dtype), y_pred.shape)
    if multi_label:
        if y_pred.ndim != 2:
            raise ValueError("Expected y_pred of rank 2 with multi_label=True. Received: "
                             f"y_pred.shape={tuple(y_pred.shape)}")
    else:
        y_true, y_pred, weight = (a.reshape(-1, 1) for a in (y_true, y_pred, weight))
    positive = (y_true != 0).astype(dtype)
    pos_w, neg_w = positive * weight, (1.0 - positive) * weight
    thresholds = np.asarray(thresholds, dtype=dtype)
    n = len(thresholds)
    if evenly:
        bucket = jnp.ceil(jnp.clip(y_pred, 0.0, 1.0) * (n - 1)) - 1
        if thresholds[0] < 0 or thresholds[-1] > 1:  # the end thresholds hold epsilon
            bucket = jnp.maximum(bucket, 0)
        bucket = bucket.astype(jnp.int32)
        bucket = jnp.where(bucket < 0, n, bucket)  # at or below the first threshold
        column = jnp.broadcast_to(jnp.arange(bucket.shape[1]), bucket.shape)
        zeros = jnp.zeros((n + 1, bucket.shape[1]), dtype)
        bucket, column = bucket.reshape(-1), column.reshape(-1)
        tp = jnp.cumsum(deterministic_ops.add_pairs(zeros, bucket, column, pos_w.reshape(-1))
                        [n - 1::-1], axis=0)[::-1]
        fp = jnp.cumsum(deterministic_ops.add_pairs(zeros, bucket, column, neg_w.reshape(-1))
                        [n - 1::-1], axis=0)[::-1]
    else:
        above = (y_pred[None] > thresholds.reshape(n, 1, 1)).astype(dtype)
        tp = jnp.sum(above * pos_w[None], axis=1)
        fp = jnp.sum(above * neg_w[None], axis=1)
    counts = {"tp": tp, "fp": fp, "fn": jnp.sum(pos_w, 0) - tp,
              "tn": jnp.sum(neg_w, 0) - fp}
    if not multi_label:
        counts = {k: v[:, 0] for k, v in counts.items()}
    return counts


class _ConfusionMatrixConditionCount(Metric):
    _count = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = _parse_thresholds(thresholds, 0.5)
        self._evenly = _evenly_spaced(self.thresholds)

    def init_state(self):
        return jnp.zeros((len(self.thresholds),), self.dtype)

    def update(self, state, y_true, y_pred, sample_weight=None):
        counts = confusion_counts(y_true, y_pred, self.thresholds, evenly=self._evenly,
                                  sample_weight=sample_weight, dtype=self.dtype)
        return state + counts[self._count]

    def compute(self, state):
        return state[0] if len(self.thresholds) == 1 else state

    def get_config(self):
        return {**super().get_config(), "thresholds": plain_value(self.init_thresholds)}


class TruePositives(_ConfusionMatrixConditionCount):
    _count = "tp"


class FalsePositives(_ConfusionMatrixConditionCount):
    _count = "fp"


class TrueNegatives(_ConfusionMatrixConditionCount):
    _count = "tn"


class FalseNegatives(_ConfusionMatrixConditionCount):
    _count = "fn"


class _PrecisionRecall(Metric):
    _counts = ()

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        self.thresholds = _parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        self._evenly = _evenly_spaced(self.thresholds)

    def init_state(self):
        return {key: jnp.zeros((len(self.thresholds),), self.dtype) for key in self._counts}

    def update(self, state, y_true, y_pred, sample_weight=None):
        counts = confusion_counts(y_true, y_pred, self.thresholds, evenly=self._evenly,
                                  sample_weight=sample_weight, top_k=self.top_k,
                                  class_id=self.class_id, dtype=self.dtype)
        return {key: state[key] + counts[key] for key in self._counts}

    def compute(self, state):
        value = divide_no_nan(state["tp"], state["tp"] + state[self._counts[1]])
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self):
        return {**super().get_config(), "thresholds": plain_value(self.init_thresholds),
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """tp / (tp + fp) at each threshold (optionally among the top_k, or for one class)."""
    _counts = ("tp", "fp")


class Recall(_PrecisionRecall):
    """tp / (tp + fn) at each threshold (optionally among the top_k, or for one class)."""
    _counts = ("tp", "fn")


class _SensitivitySpecificityBase(Metric):
    """Best value of one rate among thresholds where another rate reaches `value`."""
    _value_name = None

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        if num_thresholds <= 0:
            raise ValueError("Expected num_thresholds > 0. Received: "
                             f"num_thresholds={num_thresholds}")
        if not 0 <= value <= 1:
            raise ValueError(f"Expected {self._value_name} in [0, 1]. Received: "
                             f"{self._value_name}={value}")
        self.value = value
        setattr(self, self._value_name, value)
        self.num_thresholds = num_thresholds
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds, self._evenly = [0.5], False
        else:
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds, self._evenly = [0.0] + inner + [1.0], True

    def init_state(self):
        return {k: jnp.zeros((len(self.thresholds),), self.dtype)
                for k in ("tp", "fp", "tn", "fn")}

    def update(self, state, y_true, y_pred, sample_weight=None):
        counts = confusion_counts(y_true, y_pred, self.thresholds, evenly=self._evenly,
                                  sample_weight=sample_weight, class_id=self.class_id,
                                  dtype=self.dtype)
        return {k: state[k] + counts[k] for k in state}

    @staticmethod
    def _rates(state):
        return {
            "sensitivity": divide_no_nan(state["tp"], state["tp"] + state["fn"]),
            "specificity": divide_no_nan(state["tn"], state["tn"] + state["fp"]),
            "precision": divide_no_nan(state["tp"], state["tp"] + state["fp"]),
        }

    def _best(self, state, constrained, maximized):
        rates = self._rates(state)
        feasible = rates[constrained] >= self.value
        return jnp.max(jnp.where(feasible, rates[maximized], 0.0), initial=0.0)

    def get_config(self):
        return {**super().get_config(), self._value_name: self.value,
                "num_thresholds": self.num_thresholds, "class_id": self.class_id}


class SensitivityAtSpecificity(_SensitivitySpecificityBase):
    _value_name = "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)

    def compute(self, state):
        return self._best(state, "specificity", "sensitivity")


class SpecificityAtSensitivity(_SensitivitySpecificityBase):
    _value_name = "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)

    def compute(self, state):
        return self._best(state, "sensitivity", "specificity")


class PrecisionAtRecall(_SensitivitySpecificityBase):
    _value_name = "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)

    def compute(self, state):
        return self._best(state, "sensitivity", "precision")


class RecallAtPrecision(_SensitivitySpecificityBase):
    _value_name = "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)

    def compute(self, state):
        return self._best(state, "precision", "sensitivity")


# ----------------------------------------------------------------------------- AUC

_CURVES = {"roc": "ROC", "pr": "PR"}
_SUMMATIONS = ("interpolation", "minoring", "majoring")


class AUC(Metric):
    """Area under the ROC or PR curve, from confusion counts at bucketed thresholds.

    Arguments:
        num_thresholds: thresholds spread evenly over [0, 1] (ends widened by epsilon).
        curve: 'ROC' or 'PR'.
        summation_method: 'interpolation' (trapezoids for ROC, Davis & Goadrich
            interpolation for PR), 'minoring' or 'majoring'.
        thresholds: explicit thresholds instead of `num_thresholds`.
        multi_label: one curve per label column, then their (label_weights-weighted) mean.
        num_labels: the number of label columns when `multi_label` (else found from data).
        label_weights: weights of label columns.
        from_logits: apply a sigmoid to predictions first.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        super().__init__(name=name, dtype=dtype)
        curve_key = str(getattr(curve, "value", curve)).lower()
        if curve_key not in _CURVES:
            raise ValueError(f"Expected curve to be 'ROC' or 'PR'. Received: curve={curve!r}")
        summation = str(getattr(summation_method, "value", summation_method)).lower()
        if summation not in _SUMMATIONS:
            raise ValueError(f"Expected summation_method in {_SUMMATIONS}. Received: "
                             f"summation_method={summation_method!r}")
        self.curve = _CURVES[curve_key]
        self.summation_method = summation
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(_parse_thresholds(thresholds, 0.5))
            self.num_thresholds = len(inner) + 2
            self._evenly = _evenly_spaced([0.0] + inner + [1.0])
        else:
            if num_thresholds <= 1:
                raise ValueError("Expected num_thresholds > 1. Received: "
                                 f"num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        eps = _config.epsilon()
        self._thresholds = [0.0 - eps] + inner + [1.0 + eps]
        if num_labels and not multi_label:
            raise ValueError("num_labels is only used with multi_label=True. Received: "
                             f"num_labels={num_labels}")
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = (None if label_weights is None
                              else np.asarray(label_weights, dtype=self.dtype))
        self.from_logits = from_logits
        self._num_labels = num_labels

    @property
    def thresholds(self):
        return list(self._thresholds)

    def build(self, y_true_shape=None, y_pred_shape=None):
        if self.multi_label and self._num_labels is None and y_pred_shape is not None:
            if len(y_pred_shape) != 2:
                raise ValueError("Expected y_pred of rank 2 with multi_label=True. "
                                 f"Received: y_pred.shape={tuple(y_pred_shape)}")
            self._num_labels = int(y_pred_shape[1])

    def init_state(self):
        shape = (self.num_thresholds,)
        if self.multi_label:
            if self._num_labels is None:
                raise ValueError(
                    f"{self.name}: multi_label=True needs num_labels, or build(y_true_shape, "
                    "y_pred_shape) before init_state().")
            shape += (self._num_labels,)
        return {k: jnp.zeros(shape, self.dtype) for k in ("tp", "fp", "tn", "fn")}

    def update(self, state, y_true, y_pred, sample_weight=None):
        y_pred = jnp.asarray(y_pred).astype(self.dtype)
        if self.from_logits:
            y_pred = jax.nn.sigmoid(y_pred)
        counts = confusion_counts(
            y_true, y_pred, self._thresholds, evenly=self._evenly,
            sample_weight=sample_weight, multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights, dtype=self.dtype)
        return {k: state[k] + counts[k] for k in state}

    def compute(self, state):
        tp, fp, tn, fn = state["tp"], state["fp"], state["tn"], state["fn"]
        if self.curve == "PR" and self.summation_method == "interpolation":
            areas = _interpolated_pr_areas(tp, fp, fn)
        else:
            recall = divide_no_nan(tp, tp + fn)
            if self.curve == "ROC":
                x, y = divide_no_nan(fp, fp + tn), recall
            else:
                x, y = recall, divide_no_nan(tp, tp + fp)
            left, right = y[:-1], y[1:]
            if self.summation_method == "interpolation":
                heights = (left + right) / 2.0
            elif self.summation_method == "minoring":
                heights = jnp.minimum(left, right)
            else:
                heights = jnp.maximum(left, right)
            areas = (x[:-1] - x[1:]) * heights
        if not self.multi_label:
            return jnp.sum(areas)
        by_label = jnp.sum(areas, axis=0)
        if self.label_weights is None:
            return jnp.mean(by_label)
        return divide_no_nan(jnp.sum(by_label * self.label_weights),
                             jnp.sum(self.label_weights))

    def get_config(self):
        config = {
            **super().get_config(), "num_thresholds": self.num_thresholds,
            "curve": self.curve, "summation_method": self.summation_method,
            "multi_label": self.multi_label, "num_labels": self.num_labels,
            "label_weights": plain_value(self.label_weights), "from_logits": self.from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self._thresholds[1:-1]
        return config


def _interpolated_pr_areas(tp, fp, fn):
    """Per-interval PR areas with precision interpolated as tp/p for linear tp and p
    (Davis & Goadrich 2006): slope * (dtp + intercept * log(p_a / p_b)) / positives."""
    predicted = tp + fp
    d_tp = tp[:-1] - tp[1:]
    d_p = predicted[:-1] - predicted[1:]
    slope = divide_no_nan(d_tp, jnp.maximum(d_p, 0.0))
    intercept = tp[1:] - slope * predicted[1:]
    both_positive = (predicted[:-1] > 0) & (predicted[1:] > 0)
    ratio = jnp.where(both_positive,
                      divide_no_nan(predicted[:-1], jnp.maximum(predicted[1:], 0.0)), 1.0)
    return divide_no_nan(slope * (d_tp + intercept * jnp.log(ratio)),
                         jnp.maximum(tp[1:] + fn[1:], 0.0))
