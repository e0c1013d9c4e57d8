"""Metrics as pure state machines (init_state / update / compute over a pytree of arrays).

A trainer keeps each metric's state on the device and folds `update` into its jitted step;
`compute` turns the state into the reported value. On top of that, every metric has Keras's
stateful methods (`update_state`, `result`, `reset_state`, `__call__`) for use on the host.
Custom Keras 2 style metrics (`add_weight` + `update_state` + `result`) get the pure triple
by binding the state to their weights for the duration of a call.
"""
import contextlib

import jax
import jax.numpy as jnp
import numpy as np

from jkeras import _config, deterministic_ops
from jkeras import losses as _losses
from jkeras.losses import (  # noqa: F401  (re-exported, as keras.metrics does)
    KLD, MAE, MAPE, MSE, MSLE, binary_crossentropy, binary_focal_crossentropy,
    categorical_crossentropy, categorical_hinge, hinge, kl_divergence, kld,
    kullback_leibler_divergence, log_cosh, logcosh, mae, mape, mean_absolute_error,
    mean_absolute_percentage_error, mean_squared_error, mean_squared_logarithmic_error, mse,
    msle, poisson, sparse_categorical_crossentropy, squared_hinge)
from jkeras.losses import align_ranks, divide_no_nan, fit_weight_rank, snake_case
from jkeras.serialization.serialize import deserialize_keras_object, serialize_keras_object

NEG_INF = -1e10

# ----------------------------------------------------------------------------- functions


def _floatx_pair(y_true, y_pred):
    y_pred = jnp.asarray(y_pred)
    if not jnp.issubdtype(y_pred.dtype, jnp.floating):
        y_pred = y_pred.astype(_config.floatx())
    return align_ranks(jnp.asarray(y_true).astype(y_pred.dtype), y_pred)


def _labels_for(y_true, y_pred):
    """Integer labels shaped like y_pred without its last axis."""
    return _losses.sparse_labels(y_true, jnp.shape(y_pred)[:-1])


def accuracy(y_true, y_pred):
    """1.0 where y_true == y_pred, elementwise."""
    y_true, y_pred = align_ranks(jnp.asarray(y_true), jnp.asarray(y_pred))
    return (y_true == y_pred.astype(y_true.dtype)).astype(_config.floatx())


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Share of predictions on the right side of `threshold`, over the last axis."""
    y_true, y_pred = _floatx_pair(y_true, y_pred)
    matches = (y_true == (y_pred > threshold).astype(y_pred.dtype)).astype(_config.floatx())
    return jnp.mean(matches, axis=-1) if matches.ndim > 1 else matches


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) == argmax(y_true) (one-hot labels)."""
    y_true, y_pred = jnp.asarray(y_true), jnp.asarray(y_pred)
    return (jnp.argmax(y_true, -1) == jnp.argmax(y_pred, -1)).astype(_config.floatx())


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals the integer label."""
    y_pred = jnp.asarray(y_pred)
    labels = _labels_for(y_true, y_pred)
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
    return _in_top_k(_labels_for(y_true, y_pred), y_pred, k)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Cosine similarity along `axis` (positive, unlike the loss of the same name)."""
    y_true, y_pred = _floatx_pair(y_true, y_pred)
    return jnp.sum(_losses.l2_normalize(y_true, axis) * _losses.l2_normalize(y_pred, axis),
                   axis=axis)


acc = ACC = accuracy
bce = BCE = binary_crossentropy

# ----------------------------------------------------------------------------- base class


def _standardize_dtype(dtype):
    if dtype is None:
        return _config.floatx()
    if isinstance(dtype, dict):  # a Keras 3 DTypePolicy config
        dtype = dtype.get("config", {}).get("name", _config.floatx())
    dtype = getattr(dtype, "name", dtype)
    if isinstance(dtype, str) and dtype.startswith("mixed_"):
        return "float32"
    return str(jnp.dtype(dtype))


def _plain(value):
    return value.tolist() if hasattr(value, "tolist") else value


class MetricVariable:
    """A weight of a custom metric: holds an array and supports `assign`/`assign_add`."""

    def __init__(self, name, value):
        self.name = name
        self.initial = value
        self.value = value

    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: self.value.dtype)

    def assign(self, value):
        self.value = jnp.broadcast_to(jnp.asarray(value, self.initial.dtype),
                                      self.initial.shape)
        return self

    def assign_add(self, delta):
        return self.assign(self.value + jnp.asarray(delta))

    def assign_sub(self, delta):
        return self.assign(self.value - jnp.asarray(delta))

    def numpy(self):
        return np.asarray(self.value)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.value, dtype=dtype)

    def __float__(self):
        return float(self.value)

    def __getitem__(self, index):
        return self.value[index]

    def __repr__(self):
        return f"<MetricVariable {self.name} {self.value!r}>"


def _forward(op):
    return lambda self, *others: op(self.value, *(_unwrap(o) for o in others))


def _unwrap(x):
    return x.value if isinstance(x, MetricVariable) else x


for _name, _op in {
        "add": lambda a, b: a + b, "radd": lambda a, b: b + a,
        "sub": lambda a, b: a - b, "rsub": lambda a, b: b - a,
        "mul": lambda a, b: a * b, "rmul": lambda a, b: b * a,
        "truediv": lambda a, b: a / b, "rtruediv": lambda a, b: b / a,
        "pow": lambda a, b: a ** b, "neg": lambda a: -a, "abs": abs,
        "lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
        "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b}.items():
    setattr(MetricVariable, f"__{_name}__", _forward(_op))


class Metric:
    """Base class. Built-in metrics implement the pure triple:

        init_state() -> state                       # a pytree of zeros
        update(state, y_true, y_pred, sample_weight=None) -> new state   # jittable
        compute(state) -> value

    and inherit the stateful Keras methods built on it (`update_state`, `result`,
    `reset_state`, `__call__`). A metric whose state shape depends on the data (AUC with
    `multi_label=True` and no `num_labels`) must see `build(y_true_shape, y_pred_shape)`
    before `init_state()`; `update_state` does that itself.

    Keras-style subclasses that override `update_state`/`result` instead (built on
    `add_weight`, or on a built-in metric through `super()`) get `update`/`compute` that run
    their methods with the given state bound in place of the live one.
    """

    _core_update = None   # the nearest pure `update`/`compute` a class inherits
    _core_compute = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "update" in cls.__dict__:
            cls._core_update = cls.__dict__["update"]
        if "compute" in cls.__dict__:
            cls._core_compute = cls.__dict__["compute"]
        if "update_state" in cls.__dict__ and "update" not in cls.__dict__:
            cls.update = Metric._update_through_update_state
        if "result" in cls.__dict__ and "compute" not in cls.__dict__:
            cls.compute = Metric._compute_through_result

    def __init__(self, name=None, dtype=None, **kwargs):
        self.name = name or snake_case(type(self).__name__)
        self.dtype = _standardize_dtype(dtype)
        self._state = None
        self._weights = []

    # -- the pure triple ------------------------------------------------------------------
    def build(self, y_true_shape=None, y_pred_shape=None):
        """Fixes data-dependent state shapes; most metrics need nothing."""

    def init_state(self):
        if self._core_update is None:
            return tuple(w.initial for w in self._weights)
        raise NotImplementedError(f"{type(self).__name__} must implement init_state().")

    def update(self, state, *args, **kwargs):
        raise NotImplementedError(
            f"{type(self).__name__} must implement update() or update_state().")

    def compute(self, state):
        raise NotImplementedError(
            f"{type(self).__name__} must implement compute() or result().")

    def _update_through_update_state(self, state, *args, **kwargs):
        with self._bound(state):
            self.update_state(*args, **kwargs)
            return self._live_state()

    def _compute_through_result(self, state):
        with self._bound(state):
            return jnp.asarray(_unwrap(self.result()))

    # -- Keras's stateful methods -----------------------------------------------------------
    def update_state(self, *args, **kwargs):
        """Accumulates a batch into the metric's own state."""
        if self._core_update is None:
            raise NotImplementedError(
                f"{type(self).__name__} must implement update() or update_state().")
        if self._state is None:
            self.build(*[np.shape(a) for a in args[:2]])
        self._state = self._core_update(self._live_state(), *args, **kwargs)

    def result(self):
        if self._core_compute is None:
            raise NotImplementedError(
                f"{type(self).__name__} must implement compute() or result().")
        return self._core_compute(self._live_state())

    def reset_state(self):
        self._state = None
        for weight in self._weights:
            weight.value = weight.initial

    reset_states = reset_state

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def _live_state(self):
        if self._core_update is None:
            return tuple(w.value for w in self._weights)
        if self._state is None:
            self._state = self.init_state()
        return self._state

    @contextlib.contextmanager
    def _bound(self, state):
        saved_state, saved_weights = self._state, [w.value for w in self._weights]
        if self._core_update is None:
            for weight, value in zip(self._weights, state):
                weight.value = value
        else:
            self._state = state
        try:
            yield
        finally:
            self._state = saved_state
            for weight, value in zip(self._weights, saved_weights):
                weight.value = value

    @property
    def variables(self):
        if self._weights:
            return list(self._weights)
        return jax.tree_util.tree_leaves(self._state)

    weights = variables

    # -- custom metrics ---------------------------------------------------------------------
    def add_weight(self, name=None, shape=(), dtype=None, initializer="zeros", **kwargs):
        """A weight for a Keras-style custom metric (state that `update_state` assigns to)."""
        if isinstance(name, (tuple, list)):  # Keras 3 order: add_weight(shape, ...)
            name, shape = None, name
        dtype = _standardize_dtype(dtype or self.dtype)
        shape = tuple(shape or ())
        if initializer in (None, "zeros", "Zeros"):
            value = jnp.zeros(shape, dtype)
        elif initializer in ("ones", "Ones"):
            value = jnp.ones(shape, dtype)
        elif callable(initializer) and not hasattr(initializer, "get_config"):
            value = jnp.asarray(initializer(shape, dtype), dtype)
        else:
            from jkeras import initializers  # only custom metrics with initializers need it
            init = initializers.get(initializer)
            value = jnp.asarray(initializers.call(init, shape, dtype, _config.next_key()),
                                dtype)
        weight = MetricVariable(name or f"weight_{len(self._weights)}", value)
        self._weights.append(weight)
        return weight

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum",
                     name=None):
        return self.add_weight(name=name, shape=shape, dtype=dtype, initializer=initializer)

    # -- config -----------------------------------------------------------------------------
    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


# ----------------------------------------------------------------------------- reductions


def _weighted_sums(values, sample_weight, dtype):
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
        total, _ = _weighted_sums(values, sample_weight, self.dtype)
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
        total, count = _weighted_sums(values, sample_weight, self.dtype)
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
        config.update({k: _plain(v) for k, v in self._fn_kwargs.items()})
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
    known = {**_losses.ALL_OBJECTS, **_FUNCTIONS}
    fn = deserialize_keras_object(identifier, module_objects=known,
                                  custom_objects=custom_objects,
                                  printable_module_name="metric function")
    if isinstance(fn, type):
        fn = fn()
    return fn._fn if isinstance(fn, MeanMetricWrapper) else fn


# ----------------------------------------------------------------------------- accuracy


class Accuracy(MeanMetricWrapper):
    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


# ----------------------------------------------------------------------------- regression


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, dtype=dtype)


class LogCoshError(MeanMetricWrapper):
    def __init__(self, name="logcosh", dtype=None):
        super().__init__(log_cosh, name=name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)


class RootMeanSquaredError(Mean):
    """sqrt of the weighted mean of squared errors."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update(self, state, y_true, y_pred, sample_weight=None):
        y_true, y_pred = align_ranks(jnp.asarray(y_true).astype(self.dtype),
                                     jnp.asarray(y_pred).astype(self.dtype))
        return super().update(state, jnp.square(y_pred - y_true), sample_weight)

    def compute(self, state):
        return jnp.sqrt(super().compute(state))


# ----------------------------------------------------------------------------- hinge, crossentropy


class Hinge(MeanMetricWrapper):
    def __init__(self, name="hinge", dtype=None):
        super().__init__(hinge, name=name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, name=name, dtype=dtype)


class BinaryCrossentropy(MeanMetricWrapper):
    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0.0):
        super().__init__(binary_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0.0, axis=-1):
        super().__init__(categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 ignore_class=None, axis=-1):
        super().__init__(sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)
        self.ignore_class = ignore_class

    def _mask(self, y_true, y_pred):
        if self.ignore_class is None:
            return None
        axis = self._fn_kwargs["axis"] % y_pred.ndim
        labels = _labels_for(y_true, jnp.moveaxis(y_pred, axis, -1))
        return labels != self.ignore_class


class KLDivergence(MeanMetricWrapper):
    def __init__(self, name="kullback_leibler_divergence", dtype=None):
        super().__init__(kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    def __init__(self, name="poisson", dtype=None):
        super().__init__(poisson, name=name, dtype=dtype)


# ----------------------------------------------------------------------------- confusion counts


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
        return {**super().get_config(), "thresholds": _plain(self.init_thresholds)}


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
        return {**super().get_config(), "thresholds": _plain(self.init_thresholds),
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
            "label_weights": _plain(self.label_weights), "from_logits": self.from_logits,
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


# ----------------------------------------------------------------------------- IoU


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


# ----------------------------------------------------------------------------- registry

_FUNCTIONS = {
    **_losses._FUNCTIONS,
    "cosine_similarity": cosine_similarity,
    "accuracy": accuracy, "acc": acc, "ACC": ACC, "bce": bce, "BCE": BCE,
    "binary_accuracy": binary_accuracy, "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
}

_CLASSES = {
    cls.__name__: cls for cls in (
        Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
        SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
        MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
        MeanSquaredLogarithmicError, RootMeanSquaredError, LogCoshError, CosineSimilarity,
        Hinge, SquaredHinge, CategoricalHinge, BinaryCrossentropy, CategoricalCrossentropy,
        SparseCategoricalCrossentropy, KLDivergence, Poisson, TruePositives, FalsePositives,
        TrueNegatives, FalseNegatives, Precision, Recall, SensitivityAtSpecificity,
        SpecificityAtSensitivity, PrecisionAtRecall, RecallAtPrecision, AUC, MeanIoU)
}

ALL_OBJECTS = {**_FUNCTIONS, **_CLASSES}


def serialize(metric):
    """A function's name, or `{'class_name', 'config'}` for a Metric object."""
    return serialize_keras_object(metric)


def deserialize(config, custom_objects=None):
    """A metric function or Metric object from a name or config dict (a class name gives an
    instance with default arguments)."""
    obj = deserialize_keras_object(config, module_objects=ALL_OBJECTS,
                                   custom_objects=custom_objects,
                                   printable_module_name="metric function")
    if isinstance(obj, type):
        obj = obj()
    return obj


def get(identifier):
    """A Metric object for a name, config dict, Metric, Loss, Metric class or function.

    Functions (named or given) are wrapped in a MeanMetricWrapper named after the string or
    the function (`'mse'` logs as 'mse', `def mean_pred` as 'mean_pred'). 'accuracy' and
    'acc' resolve to exact-match accuracy here; a trainer picks the Keras 2 variant first
    with `accuracy_for`.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, (str, dict)):
        obj = deserialize(identifier)
        if isinstance(obj, Metric):
            return obj
        if isinstance(obj, _losses.Loss):
            return MeanMetricWrapper(obj)
        name = identifier if isinstance(identifier, str) else getattr(obj, "__name__", None)
        return MeanMetricWrapper(obj, name=name)
    if isinstance(identifier, _losses.Loss):
        return MeanMetricWrapper(identifier)
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", None))
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def _crossentropy_kind(loss):
    """'binary', 'sparse', 'categorical' or None: the crossentropy a loss identifier names."""
    if isinstance(loss, (str, dict)):
        try:
            loss = _losses.get(loss)
        except ValueError:
            return None
    if isinstance(loss, _losses.LossFunctionWrapper):
        loss = loss.fn
    kinds = {_losses.binary_crossentropy: "binary",
             _losses.sparse_categorical_crossentropy: "sparse",
             _losses.categorical_crossentropy: "categorical"}
    try:
        return kinds.get(loss)
    except TypeError:  # unhashable user callables
        return None


def _choose(loss, output_shape, target_shape, binary, sparse, categorical):
    output_shape = tuple(output_shape) if output_shape is not None else ()
    last = output_shape[-1] if output_shape else None
    kind = _crossentropy_kind(loss)
    if last == 1 or kind == "binary":
        return binary
    if kind == "sparse":
        return sparse
    if kind is None and target_shape is not None and output_shape:
        target_shape = tuple(target_shape)
        if len(target_shape) < len(output_shape) or (
                target_shape and target_shape[-1] == 1 and last not in (None, 1)):
            return sparse
    return categorical


def accuracy_for(loss, output_shape, target_shape=None):
    """The accuracy function Keras 2 means by 'accuracy'/'acc' for an output.

    binary_accuracy when the output's last dimension is 1 or the loss is binary
    crossentropy; sparse_categorical_accuracy when the loss is sparse categorical
    crossentropy (or, for other losses, when the targets have one dimension fewer or a
    trailing 1); categorical_accuracy otherwise. Wrap it as
    `MeanMetricWrapper(fn, name='accuracy')` (or 'acc', the name the user wrote).
    """
    return _choose(loss, output_shape, target_shape, binary_accuracy,
                   sparse_categorical_accuracy, categorical_accuracy)


def crossentropy_for(loss, output_shape, target_shape=None):
    """The crossentropy Keras 2 means by 'crossentropy'/'ce', chosen like `accuracy_for`."""
    return _choose(loss, output_shape, target_shape, binary_crossentropy,
                   sparse_categorical_crossentropy, categorical_crossentropy)
