"""Keras 2's loss functions: `(y_true, y_pred)` -> one loss per sample, in jax.numpy.

Split from `jkeras.losses`, which re-exports every name here with Keras 2's aliases. The
functions keep `jkeras.losses` as their `__module__`: that is their public home, the name
Lambda configs and pickles record, and how the trainer tells a built-in loss from a user's.
"""
import math

import jax
import jax.numpy as jnp

from jkeras import _config, softmax_logits
from jkeras.engine import symbolic_ops as _symbolic_ops
from jkeras.loss_reduction import _float_array, align_ranks

__all__ = ["l2_normalize", "mean_squared_error", "mean_absolute_error",
           "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "hinge",
           "squared_hinge", "categorical_hinge", "log_cosh", "huber",
           "categorical_crossentropy", "sparse_labels", "sparse_categorical_crossentropy",
           "binary_crossentropy", "binary_focal_crossentropy", "kl_divergence", "poisson",
           "cosine_similarity", "mse", "MSE", "mae", "MAE", "mape", "MAPE", "msle", "MSLE",
           "logcosh", "kld", "KLD", "kullback_leibler_divergence", "huber_loss", "cosine",
           "cosine_proximity"]


def _pair(y_true, y_pred):
    """Both arrays in y_pred's float dtype, ranks aligned (see `align_ranks`)."""
    y_pred = _float_array(y_pred)
    y_true = jnp.asarray(y_true).astype(y_pred.dtype)
    return align_ranks(y_true, y_pred)


def l2_normalize(x, axis=-1):
    """x / ||x||, with the squared norm floored at 1e-12 as Keras does."""
    return x * jax.lax.rsqrt(jnp.maximum(jnp.sum(jnp.square(x), axis=axis, keepdims=True),
                                         1e-12))


def _labels_to_pm1(y_true):
    """Labels that are all 0/1 become -1/1 (as Keras's hinge losses expect); others stay."""
    is_binary = jnp.all((y_true == 0) | (y_true == 1))
    return jnp.where(is_binary, 2.0 * y_true - 1.0, y_true)


def mean_squared_error(y_true, y_pred):
    """mean((y_pred - y_true)**2) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    return jnp.mean(jnp.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_pred - y_true|) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    return jnp.mean(jnp.abs(y_pred - y_true), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 * mean(|y_true - y_pred| / max(|y_true|, epsilon)) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    ratio = jnp.abs((y_true - y_pred) / jnp.maximum(jnp.abs(y_true), _config.epsilon()))
    return 100.0 * jnp.mean(ratio, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(1 + y_pred) - log(1 + y_true))**2), both floored at epsilon first."""
    y_true, y_pred = _pair(y_true, y_pred)
    eps = _config.epsilon()
    log_pred = jnp.log(jnp.maximum(y_pred, eps) + 1.0)
    log_true = jnp.log(jnp.maximum(y_true, eps) + 1.0)
    return jnp.mean(jnp.square(log_pred - log_true), axis=-1)


def hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0)); 0/1 labels are read as -1/1."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _labels_to_pm1(y_true)
    return jnp.mean(jnp.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0)**2); 0/1 labels are read as -1/1."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _labels_to_pm1(y_true)
    return jnp.mean(jnp.square(jnp.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """max(0, 1 + max((1 - y_true) * y_pred) - sum(y_true * y_pred)) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    positive = jnp.sum(y_true * y_pred, axis=-1)
    negative = jnp.max((1.0 - y_true) * y_pred, axis=-1)
    return jnp.maximum(negative - positive + 1.0, 0.0)


def log_cosh(y_true, y_pred):
    """mean(log(cosh(y_pred - y_true))), computed without overflow."""
    y_true, y_pred = _pair(y_true, y_pred)
    x = y_pred - y_true
    return jnp.mean(x + jax.nn.softplus(-2.0 * x) - jnp.log(2.0).astype(x.dtype), axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """Quadratic for |error| <= delta, linear beyond; mean over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    delta = jnp.asarray(delta, y_pred.dtype)
    error = y_pred - y_true
    abs_error = jnp.abs(error)
    loss = jnp.where(abs_error <= delta, 0.5 * jnp.square(error),
                     delta * abs_error - 0.5 * jnp.square(delta))
    return jnp.mean(loss, axis=-1)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum(y_true * log(p)) over `axis`, p renormalized and clipped to [eps, 1 - eps];
    inside a train or test step, p that a softmax gave is taken from its logits (see
    `jkeras.softmax_logits`)."""
    y_pred, from_logits = softmax_logits.as_logits(y_pred, from_logits, axis)
    y_true, y_pred = _pair(y_true, y_pred)
    if label_smoothing:
        num_classes = y_pred.shape[axis]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    if from_logits:
        log_p = jax.nn.log_softmax(y_pred, axis=axis)
    else:
        eps = _config.epsilon()
        p = y_pred / jnp.sum(y_pred, axis=axis, keepdims=True)
        log_p = jnp.log(jnp.clip(p, eps, 1.0 - eps))
    return -jnp.sum(y_true * log_p, axis=axis)


def sparse_labels(y_true, batch_shape):
    """Integer class labels of shape `batch_shape` from (N,), (N, 1), (N, T, 1)... labels."""
    y_true = jnp.asarray(y_true)
    if y_true.size != math.prod(batch_shape):
        raise ValueError(
            "Expected sparse labels with one class index per prediction, of shape "
            f"{tuple(batch_shape)} (or with a trailing 1). Received: y_true.shape="
            f"{tuple(y_true.shape)}")
    return jnp.reshape(y_true, batch_shape).astype(jnp.int32)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1,
                                    ignore_class=None):
    """Crossentropy against integer class labels; labels equal to `ignore_class` give 0.
    Inside a train or test step, probabilities that a softmax gave are taken from its
    logits (see `jkeras.softmax_logits`)."""
    y_pred, from_logits = softmax_logits.as_logits(y_pred, from_logits, axis)
    y_pred = _float_array(y_pred)
    axis = axis % y_pred.ndim
    if axis != y_pred.ndim - 1:
        y_pred = jnp.moveaxis(y_pred, axis, -1)
    labels = sparse_labels(y_true, y_pred.shape[:-1])
    if from_logits:
        z = y_pred
    else:
        eps = _config.epsilon()
        z = jnp.log(jnp.clip(y_pred, eps, 1.0 - eps))
    if ignore_class is not None:
        valid = labels != ignore_class
        labels = jnp.where(valid, labels, 0)
    loss = minus_log_softmax_at(z, labels)
    if ignore_class is not None:
        loss = jnp.where(valid, loss, 0.0)
    return loss


def minus_log_softmax_at(z, labels):
    """`-log_softmax(z)[label]` along the last axis, as `log(sum(exp(z - m))) - (z[label]
    - m)` with `m` the row's maximum: no log-softmax of the whole `z` is made, and both
    terms are taken relative to `m`, so large logits lose no precision to cancellation.

    The label's logit is picked by a masked sum over the row, not a gather: the gather's
    gradient is a scatter into a zeroed float32 array the size of `z`, which XLA keeps
    apart from the softmax's gradient, so the backward pass wrote and read that array
    twice; the masked sum's gradient is a select that fuses with it, and its forward sum
    runs beside the row's sum of exponentials. On the H200 the small GPT's step (8,192
    classes, mixed bfloat16) took 0.4 ms (2.5%) less. The select is also the same in
    deterministic mode, where XLA would turn a scatter into a loop. A label outside
    `[0, classes)` gives NaN, as the gather's out-of-range fill did, so that bad labels
    show in the loss (and stop `TerminateOnNaN`) instead of training as no class.

    A gather of the label's logit with the derivative given as a custom JVP (`(softmax -
    one_hot) . dz`) saves the masked sum's read of `z` but was no faster on the H200
    (`benchmarks/gpt_levers.py`, variant jkeras_gather), so the plain form stays."""
    m = jax.lax.stop_gradient(jnp.max(z, axis=-1))
    shifted_sum = jnp.sum(jnp.exp(z - m[..., None]), axis=-1)
    hit = labels[..., None] == jnp.arange(z.shape[-1], dtype=labels.dtype)
    picked = jnp.sum(jnp.where(hit, z, jnp.zeros((), z.dtype)), axis=-1)
    loss = jnp.log(shifted_sum) - (picked - m)
    return jnp.where((labels >= 0) & (labels < z.shape[-1]), loss, jnp.nan)


def _binary_crossentropy_elementwise(y_true, y_pred, from_logits):
    if from_logits:
        return (jnp.maximum(y_pred, 0.0) - y_pred * y_true
                + jnp.log1p(jnp.exp(-jnp.abs(y_pred))))
    eps = _config.epsilon()
    p = jnp.clip(y_pred, eps, 1.0 - eps)
    return -(y_true * jnp.log(p + eps) + (1.0 - y_true) * jnp.log(1.0 - p + eps))


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Mean over `axis` of the elementwise binary crossentropy (p clipped to [eps, 1-eps])."""
    y_true, y_pred = _pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return jnp.mean(_binary_crossentropy_elementwise(y_true, y_pred, from_logits), axis=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary crossentropy scaled by (1 - p_t)**gamma (and alpha balancing if asked)."""
    y_true, y_pred = _pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    p = jax.nn.sigmoid(y_pred) if from_logits else y_pred
    p_t = y_true * p + (1.0 - y_true) * (1.0 - p)
    loss = jnp.power(1.0 - p_t, gamma) * _binary_crossentropy_elementwise(
        y_true, y_pred, from_logits)
    if apply_class_balancing:
        loss = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * loss
    return jnp.mean(loss, axis=axis)


def kl_divergence(y_true, y_pred):
    """sum(y_true * log(y_true / y_pred)), both clipped to [epsilon, 1]."""
    y_true, y_pred = _pair(y_true, y_pred)
    eps = _config.epsilon()
    y_true = jnp.clip(y_true, eps, 1.0)
    y_pred = jnp.clip(y_pred, eps, 1.0)
    return jnp.sum(y_true * jnp.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    """mean(y_pred - y_true * log(y_pred + epsilon)) over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    return jnp.mean(y_pred - y_true * jnp.log(y_pred + _config.epsilon()), axis=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity along `axis` (-1 for aligned vectors), as Keras 2 losses."""
    y_true, y_pred = _pair(y_true, y_pred)
    return -jnp.sum(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis), axis=axis)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
logcosh = log_cosh
kld = KLD = kullback_leibler_divergence = kl_divergence
huber_loss = huber
cosine = cosine_proximity = cosine_similarity

_symbolic_ops.set_public_module(globals(), "jkeras.losses")

# Every public function above also records a graph node when called on symbolic tensors
# (`binary_crossentropy(inputs, outputs)` in a Keras 2 VAE). Keep this last.
_symbolic_ops.wrap_namespace(globals(), "losses")
