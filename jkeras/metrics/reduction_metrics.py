"""Metrics that reduce values over batches: `Sum`, `Mean`, and `MeanMetricWrapper`
(the mean of a function of `y_true`, `y_pred`), which most named metrics are."""
import jax.numpy as jnp

from jkeras import losses as _losses
from jkeras.losses import align_ranks, divide_no_nan, fit_weight_rank
from jkeras.metrics.metric import Metric, plain_value
from jkeras.metrics.metric_functions import FUNCTIONS
from jkeras.serialization.serialize import deserialize_keras_object, serialize_keras_object

__all__ = ["Sum", "Mean", "MeanMetricWrapper", "weighted_sums"]


def weighted_sums(values, sample_weight, dtype):
    """(sum(values * w), sum(w)) with w brought to the values' shape (1 when absent)."""
    values = jnp.asarray(values).astype(dtype)
    if sample_weight is None:
        return jnp.sum(values), jnp.asarray(values.size, dtype)
    weight = fit_weight_rank(jnp.asarray(sample_weight).astype(dtype), values.ndim)
    if weight.ndim > values.ndim:
        values = values.reshape(values.shape + (1,) * (weight.ndim - values.ndim))
    values, weight = jnp.broadcast_arrays(values, weight)
    return jnp.sum(values * weight), jnp.sum(weight)


class Sum(Metric):
    """The (weighted) sum of the values seen."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def init_state(self):
        return {"total": jnp.zeros((), self.dtype)}

    def update(self, state, values, sample_weight=None):
        total, _ = weighted_sums(values, sample_weight, self.dtype)
        return {"total": state["total"] + total}

    def compute(self, state):
        return state["total"]


class Mean(Metric):
    """The (weighted) mean of the values seen: sum(values * w) / sum(w)."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def init_state(self):
        zero = jnp.zeros((), self.dtype)
        return {"total": zero, "count": zero}

    def update(self, state, values, sample_weight=None):
        total, count = weighted_sums(values, sample_weight, self.dtype)
        return {"total": state["total"] + total, "count": state["count"] + count}

    def compute(self, state):
        return divide_no_nan(state["total"], state["count"])


class MeanMetricWrapper(Mean):
    """Weighted mean over samples of `fn(y_true, y_pred, **kwargs)`.

    Each batch adds sum(values * w) and sum(w), w broadcast to the values' shape, so an
    epoch's value is the mean over samples (a smaller last batch weighs by its size).
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        default_name = fn.name if isinstance(fn, _losses.Loss) else getattr(fn, "__name__",
                                                                            None)
        super().__init__(name=name or default_name, dtype=dtype)
        self._fn = fn  # a function, or a Loss object whose per-sample `call` is used
        self._fn_kwargs = kwargs

    def update(self, state, y_true, y_pred, sample_weight=None):
        y_true = jnp.asarray(y_true).astype(self.dtype)
        y_pred = jnp.asarray(y_pred).astype(self.dtype)
        y_true, y_pred = align_ranks(y_true, y_pred)
        fn = self._fn.call if isinstance(self._fn, _losses.Loss) else self._fn
        values = fn(y_true, y_pred, **self._fn_kwargs)
        mask = self._mask(y_true, y_pred)
        if mask is not None:
            mask = mask.astype(self.dtype)
            sample_weight = mask if sample_weight is None else mask * fit_weight_rank(
                jnp.asarray(sample_weight, self.dtype), mask.ndim)
        return super().update(state, values, sample_weight)

    def _mask(self, y_true, y_pred):
        """Which per-sample values count (None: all)."""
        return None

    def get_config(self):
        config = super().get_config()
        config.update({k: plain_value(v) for k, v in self._fn_kwargs.items()})
        if type(self) is MeanMetricWrapper:
            config["fn"] = serialize_keras_object(self._fn)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        fn = config.pop("fn", None)
        if cls is MeanMetricWrapper:
            return cls(_resolve_function(fn, custom_objects), **config)
        return cls(**config)


def _resolve_function(identifier, custom_objects=None):
    known = {**_losses.ALL_OBJECTS, **FUNCTIONS}
    fn = deserialize_keras_object(identifier, module_objects=known,
                                  custom_objects=custom_objects,
                                  printable_module_name="metric function")
    if isinstance(fn, type):
        fn = fn()
    return fn._fn if isinstance(fn, MeanMetricWrapper) else fn
