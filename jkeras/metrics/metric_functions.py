"""The metric functions Keras names (accuracy family, cosine similarity, and the losses
re-exported as metrics), and `FUNCTIONS`, the table of every function a metric config
may name."""
import jax.numpy as jnp

from jkeras import _config
from jkeras import losses as _losses
from jkeras.losses import align_ranks, binary_crossentropy

__all__ = [
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "cosine_similarity",
    "acc", "ACC", "bce", "BCE", "FUNCTIONS", "floatx_pair", "labels_for",
]


def floatx_pair(y_true, y_pred):
    y_pred = jnp.asarray(y_pred)
    if not jnp.issubdtype(y_pred.dtype, jnp.floating):
        y_pred = y_pred.astype(_config.floatx())
    return align_ranks(jnp.asarray(y_true).astype(y_pred.dtype), y_pred)


def labels_for(y_true, y_pred):
    """Integer labels shaped like y_pred without its last axis."""
    return _losses.sparse_labels(y_true, jnp.shape(y_pred)[:-1])


def accuracy(y_true, y_pred):
    """1.0 where y_true == y_pred, elementwise."""
    y_true, y_pred = align_ranks(jnp.asarray(y_true), jnp.asarray(y_pred))
    return (y_true == y_pred.astype(y_true.dtype)).astype(_config.floatx())


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Share of predictions on the right side of `threshold`, over the last axis."""
    y_true, y_pred = floatx_pair(y_true, y_pred)
    matches = (y_true == (y_pred > threshold).astype(y_pred.dtype)).astype(_config.floatx())
    return jnp.mean(matches, axis=-1) if matches.ndim > 1 else matches


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) == argmax(y_true) (one-hot labels)."""
    y_true, y_pred = jnp.asarray(y_true), jnp.asarray(y_pred)
    return (jnp.argmax(y_true, -1) == jnp.argmax(y_pred, -1)).astype(_config.floatx())


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals the integer label."""
    y_pred = jnp.asarray(y_pred)
    labels = labels_for(y_true, y_pred)
    predicted = jnp.argmax(y_pred, -1).astype(labels.dtype)
    return (labels == predicted).astype(_config.floatx())


def _in_top_k(labels, y_pred, k):
    """Whether each label's score is among the k largest (ties at the boundary count in)."""
    score = jnp.take_along_axis(y_pred, labels.astype(jnp.int32)[..., None], axis=-1)
    score = jnp.where(jnp.isnan(score), -jnp.inf, score)
    rank = jnp.sum(y_pred > score, axis=-1)
    return (rank < k).astype(_config.floatx())


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot label is among the k highest predictions."""
    y_pred = jnp.asarray(y_pred)
    return _in_top_k(jnp.argmax(jnp.asarray(y_true), -1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the integer label is among the k highest predictions."""
    y_pred = jnp.asarray(y_pred)
    return _in_top_k(labels_for(y_true, y_pred), y_pred, k)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Cosine similarity along `axis` (positive, unlike the loss of the same name)."""
    y_true, y_pred = floatx_pair(y_true, y_pred)
    return jnp.sum(_losses.l2_normalize(y_true, axis) * _losses.l2_normalize(y_pred, axis),
                   axis=axis)


acc = ACC = accuracy
bce = BCE = binary_crossentropy


FUNCTIONS = {
    **_losses._FUNCTIONS,
    "cosine_similarity": cosine_similarity,
    "accuracy": accuracy, "acc": acc, "ACC": ACC, "bce": bce, "BCE": BCE,
    "binary_accuracy": binary_accuracy, "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
}
