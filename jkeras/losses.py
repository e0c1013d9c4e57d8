"""Loss functions and Loss objects with Keras 2 names, semantics and configs, in jax.numpy.

A loss *function* maps `(y_true, y_pred)` to one value per sample (the last axis reduced).
A `Loss` *object* adds the reduction to a scalar with sample weights; its `__call__` is pure,
so a trainer may call it inside a jitted step.

This module holds the `Loss` classes, the registry (`get`, `serialize`, `deserialize`) and
re-exports the loss functions (`jkeras.loss_functions`) and the weighting and reduction
helpers (`jkeras.loss_reduction`), so every Keras 2 import path keeps working.
"""
import re

import jax.numpy as jnp

from jkeras import _config
from jkeras.engine import symbolic_ops as _symbolic_ops
from jkeras.loss_functions import (
    KLD, MAE, MAPE, MSE, MSLE, binary_crossentropy, binary_focal_crossentropy,
    categorical_crossentropy, categorical_hinge, cosine, cosine_proximity, cosine_similarity,
    hinge, huber, huber_loss, kl_divergence, kld, kullback_leibler_divergence, l2_normalize,
    log_cosh, logcosh, mae, mape, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_error, mean_squared_logarithmic_error, mse, msle, poisson, sparse_labels,
    sparse_categorical_crossentropy, squared_hinge)
from jkeras.loss_reduction import (Reduction, _float_array, align_ranks, compute_weighted_loss,
                                   divide_no_nan, fit_weight_rank)
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

# ----------------------------------------------------------------------------- classes


def snake_case(name):
    """Keras 2's class-name to snake-case rule ('MeanIoU' -> 'mean_io_u', 'AUC' -> 'auc')."""
    step = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    step = re.sub(r"([a-z])([A-Z])", r"\1_\2", step).lower()
    return step if not step.startswith("_") else "private" + step


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
