"""Loss functions and Loss objects with Keras 2 names, semantics and configs, in jax.numpy.

A loss *function* maps `(y_true, y_pred)` to one value per sample (the last axis reduced).
A `Loss` *object* adds the reduction to a scalar with sample weights; its `__call__` is pure,
so a trainer may call it inside a jitted step.
"""
import math
import re

import jax
import jax.numpy as jnp

from jkeras import _config, deterministic_ops
from jkeras.engine import symbolic_ops as _symbolic_ops
from jkeras.serialization.serialize import (deserialize_instance, deserialize_keras_object,
                                            get_object, serialize_keras_object)

__all__ = ["align_ranks", "divide_no_nan", "l2_normalize", "snake_case",
           "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
           "mean_squared_logarithmic_error", "hinge", "squared_hinge", "categorical_hinge",
           "log_cosh", "huber", "categorical_crossentropy", "sparse_labels",
           "sparse_categorical_crossentropy", "binary_crossentropy",
           "binary_focal_crossentropy", "kl_divergence", "poisson", "cosine_similarity",
           "Reduction", "fit_weight_rank", "compute_weighted_loss", "Loss",
           "LossFunctionWrapper", "MeanSquaredError", "MeanAbsoluteError",
           "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "Hinge",
           "SquaredHinge", "CategoricalHinge", "LogCosh", "Huber", "KLDivergence",
           "Poisson", "CosineSimilarity", "CategoricalCrossentropy",
           "SparseCategoricalCrossentropy", "BinaryCrossentropy",
           "BinaryFocalCrossentropy", "serialize", "deserialize", "get", "as_loss",
           "per_sample_fn", "mse", "MSE", "mae", "MAE", "mape", "MAPE", "msle", "MSLE",
           "logcosh", "kld", "KLD", "kullback_leibler_divergence", "huber_loss", "cosine",
           "cosine_proximity"]

# ----------------------------------------------------------------------------- helpers


def _float_array(x, dtype=None):
    """`x` as a jnp array; integers and bools become floatx unless `dtype` says otherwise,
    and 16-bit floats (mixed precision outputs) float32, so that losses sum in float32."""
    x = jnp.asarray(x)
    if dtype is not None:
        return x.astype(dtype)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(_config.floatx())
    return x.astype(jnp.promote_types(x.dtype, jnp.float32))


def _pair(y_true, y_pred):
    """Both arrays in y_pred's float dtype, ranks aligned (see `align_ranks`)."""
    y_pred = _float_array(y_pred)
    y_true = jnp.asarray(y_true).astype(y_pred.dtype)
    return align_ranks(y_true, y_pred)


def align_ranks(y_true, y_pred):
    """Makes ranks agree when they differ by one and the longer array ends in a 1.

    A rank-1 array facing an `(N, 1)` one is expanded to `(N, 1)`; otherwise the trailing 1
    of the longer array is squeezed. Anything else is returned unchanged.
    """
    y_true, y_pred = jnp.asarray(y_true), jnp.asarray(y_pred)
    if y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        if y_true.ndim == 1:
            y_true = y_true[:, None]
        else:
            y_pred = jnp.squeeze(y_pred, -1)
    elif y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
        else:
            y_true = jnp.squeeze(y_true, -1)
    return y_true, y_pred


def divide_no_nan(num, den):
    """num / den, with 0 wherever den == 0."""
    safe = jnp.where(den == 0, 1, den)
    return jnp.where(den == 0, jnp.zeros_like(num / safe), num / safe)


def l2_normalize(x, axis=-1):
    """x / ||x||, with the squared norm floored at 1e-12 as Keras does."""
    return x * jax.lax.rsqrt(jnp.maximum(jnp.sum(jnp.square(x), axis=axis, keepdims=True),
                                         1e-12))


def _labels_to_pm1(y_true):
    """Labels that are all 0/1 become -1/1 (as Keras's hinge losses expect); others stay."""
    is_binary = jnp.all((y_true == 0) | (y_true == 1))
    return jnp.where(is_binary, 2.0 * y_true - 1.0, y_true)


def snake_case(name):
    """Keras 2's class-name to snake-case rule ('MeanIoU' -> 'mean_io_u', 'AUC' -> 'auc')."""
    step = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    step = re.sub(r"([a-z])([A-Z])", r"\1_\2", step).lower()
    return step if not step.startswith("_") else "private" + step


# ----------------------------------------------------------------------------- functions


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
    """-sum(y_true * log(p)) over `axis`, p renormalized and clipped to [eps, 1 - eps]."""
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
    """Crossentropy against integer class labels; labels equal to `ignore_class` give 0."""
    y_pred = _float_array(y_pred)
    axis = axis % y_pred.ndim
    if axis != y_pred.ndim - 1:
        y_pred = jnp.moveaxis(y_pred, axis, -1)
    labels = sparse_labels(y_true, y_pred.shape[:-1])
    if from_logits:
        log_p = jax.nn.log_softmax(y_pred, axis=-1)
    else:
        eps = _config.epsilon()
        log_p = jax.nn.log_softmax(jnp.log(jnp.clip(y_pred, eps, 1.0 - eps)), axis=-1)
    if ignore_class is not None:
        valid = labels != ignore_class
        labels = jnp.where(valid, labels, 0)
    loss = -deterministic_ops.pick_labels(log_p, labels)
    if ignore_class is not None:
        loss = jnp.where(valid, loss, 0.0)
    return loss


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

# ----------------------------------------------------------------------------- reduction


class Reduction:
    """The reduction names Loss objects accept (Keras 2 `keras.losses.Reduction`)."""
    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"
    # Keras 3 spellings.
    MEAN = "mean"
    MEAN_WITH_SAMPLE_WEIGHT = "mean_with_sample_weight"

    @classmethod
    def all(cls):
        return (cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE, cls.MEAN,
                cls.MEAN_WITH_SAMPLE_WEIGHT)

    @classmethod
    def validate(cls, reduction):
        if reduction is None:
            return cls.NONE
        if reduction not in cls.all():
            raise ValueError(
                f"Invalid reduction. Expected one of {cls.all()}. "
                f"Received: reduction={reduction!r}")
        return reduction


def fit_weight_rank(weight, ndim):
    """Sample weights brought to rank `ndim`: a trailing 1 squeezed or axes added on the right.

    This is how a per-sample weight `(N,)` meets a per-timestep loss `(N, T)`.
    """
    weight = jnp.asarray(weight)
    if weight.ndim == ndim + 1 and weight.shape[-1] == 1:
        weight = jnp.squeeze(weight, -1)
    while weight.ndim < ndim:
        weight = weight[..., None]
    return weight


def compute_weighted_loss(losses, sample_weight=None, reduction="sum_over_batch_size",
                          mask=None):
    """Weights per-sample `losses` and reduces them as Keras does.

    'auto'/'sum_over_batch_size'/'mean': sum(loss * weight) / number of loss elements (a
    zero weight still counts in the denominator); 'sum': the sum; 'none': the weighted
    losses; 'mean_with_sample_weight': sum(loss * weight) / sum(weight). A boolean `mask`
    (False = ignored) scales the remaining weights so that a mean runs over valid entries.
    """
    reduction = Reduction.validate(reduction)
    losses = _float_array(losses)
    weight = None if sample_weight is None else fit_weight_rank(
        jnp.asarray(sample_weight, losses.dtype), losses.ndim)
    if mask is not None:
        mask = jnp.asarray(mask).astype(losses.dtype)
        if reduction in ("auto", "sum_over_batch_size", "mean"):
            mask = mask * divide_no_nan(jnp.asarray(mask.size, losses.dtype), jnp.sum(mask))
        weight = mask if weight is None else weight * fit_weight_rank(mask, weight.ndim)
    if weight is not None:
        losses = losses * weight
    if reduction == "none":
        return losses
    total = jnp.sum(losses)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and weight is not None:
        return divide_no_nan(total, jnp.sum(jnp.broadcast_to(weight, losses.shape)))
    return divide_no_nan(total, jnp.asarray(losses.size, losses.dtype))


# ----------------------------------------------------------------------------- classes


class Loss:
    """Base class: `call(y_true, y_pred)` gives per-sample losses, `__call__` reduces them.

    Arguments:
        reduction: 'sum_over_batch_size' (the default), 'sum' or 'none'; also 'auto'
            (tf.keras's name for sum_over_batch_size), and Keras 3's 'mean' and
            'mean_with_sample_weight'.
        name: the loss's name (defaults to the snake-cased class name).
    """

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None):
        self.reduction = Reduction.validate(reduction)
        self.name = name or snake_case(type(self).__name__)
        self._dtype = dtype if isinstance(dtype, str) else None

    def __call__(self, y_true, y_pred, sample_weight=None):
        if _symbolic_ops.has_symbolic((y_true, y_pred, sample_weight), {})[0]:
            # On symbolic tensors (a Keras 2 graph): a node that rebuilds this loss from
            # its config when the graph is loaded.
            return _loss_object(serialize(self), y_true, y_pred, sample_weight)
        dtype = self._dtype or _config.floatx()
        y_pred = _float_array(y_pred, dtype)
        y_true = _float_array(y_true, dtype)
        losses = self.call(y_true, y_pred)
        return compute_weighted_loss(losses, sample_weight, self.reduction,
                                     self.loss_mask(y_true, y_pred))

    def call(self, y_true, y_pred):
        raise NotImplementedError(
            f"{type(self).__name__} must implement call(y_true, y_pred).")

    def loss_mask(self, y_true, y_pred):
        """Boolean mask over the per-sample losses (False = ignored), or None."""
        return None

    def get_config(self):
        return {"reduction": self.reduction, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


class LossFunctionWrapper(Loss):
    """A Loss from a plain function `fn(y_true, y_pred, **kwargs)` -> per-sample losses."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, **kwargs):
        kwargs.pop("dtype", None)
        super().__init__(reduction=reduction, name=name or getattr(fn, "__name__", None))
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = align_ranks(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config.update({k: _plain(v) for k, v in self._fn_kwargs.items()})
        if type(self) is LossFunctionWrapper:
            config["fn"] = serialize_keras_object(self.fn)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config.pop("dtype", None)
        fn = config.pop("fn", None)
        if cls is LossFunctionWrapper:
            return cls(_resolve_function(fn, custom_objects), **config)
        return cls(**config)


def _plain(value):
    """Config values as plain Python (arrays become lists or numbers)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def _resolve_function(identifier, custom_objects=None):
    fn = deserialize_keras_object(identifier, module_objects=_FUNCTIONS,
                                  custom_objects=custom_objects,
                                  printable_module_name="loss function")
    if isinstance(fn, Loss):
        return fn.call
    return fn


class MeanSquaredError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error"):
        super().__init__(mean_squared_error, reduction=reduction, name=name)


class MeanAbsoluteError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error"):
        super().__init__(mean_absolute_error, reduction=reduction, name=name)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error"):
        super().__init__(mean_absolute_percentage_error, reduction=reduction, name=name)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error"):
        super().__init__(mean_squared_logarithmic_error, reduction=reduction, name=name)


class Hinge(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="hinge"):
        super().__init__(hinge, reduction=reduction, name=name)


class SquaredHinge(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge"):
        super().__init__(squared_hinge, reduction=reduction, name=name)


class CategoricalHinge(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge"):
        super().__init__(categorical_hinge, reduction=reduction, name=name)


class LogCosh(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="logcosh"):
        super().__init__(log_cosh, reduction=reduction, name=name)


class Huber(LossFunctionWrapper):
    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss"):
        super().__init__(huber, reduction=reduction, name=name, delta=delta)


class KLDivergence(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="kullback_leibler_divergence"):
        super().__init__(kl_divergence, reduction=reduction, name=name)


class Poisson(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="poisson"):
        super().__init__(poisson, reduction=reduction, name=name)


class CosineSimilarity(LossFunctionWrapper):
    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity"):
        super().__init__(cosine_similarity, reduction=reduction, name=name, axis=axis)


class CategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy"):
        super().__init__(categorical_crossentropy, reduction=reduction, name=name,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", axis=-1):
        kwargs = {"from_logits": from_logits, "ignore_class": ignore_class}
        if axis != -1:
            kwargs["axis"] = axis
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name,
                         **kwargs)
        self.from_logits = from_logits
        self.ignore_class = ignore_class

    def loss_mask(self, y_true, y_pred):
        if self.ignore_class is None:
            return None
        y_true, y_pred = align_ranks(y_true, y_pred)
        axis = self._fn_kwargs.get("axis", -1) % y_pred.ndim
        batch_shape = tuple(d for i, d in enumerate(y_pred.shape) if i != axis)
        return sparse_labels(y_true, batch_shape) != self.ignore_class


class BinaryCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy"):
        super().__init__(binary_crossentropy, reduction=reduction, name=name,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


class BinaryFocalCrossentropy(LossFunctionWrapper):
    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy"):
        super().__init__(binary_focal_crossentropy, reduction=reduction, name=name,
                         apply_class_balancing=apply_class_balancing, alpha=alpha,
                         gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


# ----------------------------------------------------------------------------- registry

_FUNCTIONS = {
    fn.__name__: fn for fn in (
        mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
        mean_squared_logarithmic_error, hinge, squared_hinge, categorical_hinge, log_cosh,
        huber, categorical_crossentropy, sparse_categorical_crossentropy,
        binary_crossentropy, binary_focal_crossentropy, kl_divergence, poisson,
        cosine_similarity)
}
_FUNCTIONS.update({
    "mse": mse, "MSE": MSE, "mae": mae, "MAE": MAE, "mape": mape, "MAPE": MAPE,
    "msle": msle, "MSLE": MSLE, "logcosh": logcosh, "kld": kld, "KLD": KLD,
    "kullback_leibler_divergence": kullback_leibler_divergence, "huber_loss": huber_loss,
    "cosine": cosine, "cosine_proximity": cosine_proximity,
})

_CLASSES = {
    cls.__name__: cls for cls in (
        Loss, LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError,
        MeanAbsolutePercentageError, MeanSquaredLogarithmicError, Hinge, SquaredHinge,
        CategoricalHinge, LogCosh, Huber, KLDivergence, Poisson, CosineSimilarity,
        CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryCrossentropy,
        BinaryFocalCrossentropy)
}

ALL_OBJECTS = {**_FUNCTIONS, **_CLASSES}


def serialize(loss):
    """A function's name, or `{'class_name', 'config'}` for a Loss object."""
    return serialize_keras_object(loss)


def deserialize(config, custom_objects=None):
    """A loss function or Loss object from a name or a config dict (a class name gives an
    instance built with default arguments, as Keras 2 does)."""
    return deserialize_instance(config, ALL_OBJECTS, custom_objects, "loss function")


def get(identifier):
    """Resolves a loss: None, a name, a config dict, a Loss object or a callable."""
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    return get_object(identifier, deserialize, "loss function")


def as_loss(identifier):
    """A Loss object for any loss identifier; plain functions get a LossFunctionWrapper
    named after the string given or the function's name."""
    loss = get(identifier)
    if loss is None or isinstance(loss, Loss):
        return loss
    name = identifier if isinstance(identifier, str) else getattr(loss, "__name__", None)
    return LossFunctionWrapper(loss, name=name)


def per_sample_fn(loss):
    """A pure `(y_true, y_pred) -> per-sample losses` for any loss identifier.

    A user function returning a scalar gives that scalar back; ranks that differ by a
    trailing 1 are aligned first, as Keras's Loss wrapper does.
    """
    resolved = get(loss)
    if resolved is None:
        raise ValueError(f"Expected a loss identifier. Received: loss={loss!r}")
    if isinstance(resolved, Loss):
        return resolved.call

    def fn(y_true, y_pred):
        y_true, y_pred = align_ranks(jnp.asarray(y_true), jnp.asarray(y_pred))
        return resolved(y_true, y_pred)

    fn.__name__ = getattr(resolved, "__name__", "loss")
    return fn


def _call_loss_object(config, y_true, y_pred, sample_weight=None):
    """The loss object `config` serializes, called (what a Loss called on symbolic tensors
    records: its config is JSON, so the node saves and loads like the others)."""
    return deserialize(config)(y_true, y_pred, sample_weight)


_loss_object = _symbolic_ops.symbolic(_call_loss_object, "losses")

# Every public function above also records a graph node when called on symbolic tensors
# (`binary_crossentropy(inputs, outputs)` in a Keras 2 VAE). Keep this last.
_symbolic_ops.wrap_namespace(globals(), "losses")
