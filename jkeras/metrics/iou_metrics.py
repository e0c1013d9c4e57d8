"""`MeanIoU`: intersection over union per class, averaged."""
import jax.numpy as jnp

from jkeras import deterministic_ops
from jkeras.losses import divide_no_nan, fit_weight_rank
from jkeras.metrics.metric import Metric

__all__ = ["MeanIoU"]


class MeanIoU(Metric):
    """Mean over classes of tp / (tp + fp + fn), from a weighted confusion matrix.

    Labels and predictions are class ids (`sparse_y_true`/`sparse_y_pred=False` take the
    argmax over `axis` first). Ids outside [0, num_classes) and `ignore_class` are skipped.
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype)
        self.num_classes = int(num_classes)
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis

    def init_state(self):
        return jnp.zeros((self.num_classes, self.num_classes), self.dtype)

    def update(self, state, y_true, y_pred, sample_weight=None):
        y_true, y_pred = jnp.asarray(y_true), jnp.asarray(y_pred)
        if not self.sparse_y_true:
            y_true = jnp.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = jnp.argmax(y_pred, axis=self.axis)
        weight = jnp.ones(y_true.shape, self.dtype)
        if sample_weight is not None:
            weight = jnp.broadcast_to(
                fit_weight_rank(jnp.asarray(sample_weight, self.dtype), y_true.ndim),
                y_true.shape)
        labels = y_true.reshape(-1).astype(jnp.int32)
        predicted = y_pred.reshape(-1).astype(jnp.int32)
        weight = weight.reshape(-1)
        valid = ((labels >= 0) & (labels < self.num_classes)
                 & (predicted >= 0) & (predicted < self.num_classes))
        if self.ignore_class is not None:
            valid = valid & (labels != self.ignore_class)
        labels, predicted = jnp.where(valid, labels, 0), jnp.where(valid, predicted, 0)
        return deterministic_ops.add_pairs(state, labels, predicted,
                                           jnp.where(valid, weight, 0.0))

    def compute(self, state):
        tp = jnp.diagonal(state)
        denominator = jnp.sum(state, 0) + jnp.sum(state, 1) - tp
        present = jnp.sum((denominator != 0).astype(self.dtype))
        return divide_no_nan(jnp.sum(divide_no_nan(tp, denominator)), present)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}
