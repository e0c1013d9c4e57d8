"""The `Metric` base class: a metric as a pure state machine (init_state / update /
compute over a pytree of arrays) with Keras's stateful methods on top.

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

from jkeras import _config
from jkeras.losses import snake_case

__all__ = ["Metric", "MetricVariable", "plain_value"]


def _standardize_dtype(dtype):
    if dtype is None:
        return _config.floatx()
    if isinstance(dtype, dict):  # a Keras 3 DTypePolicy config
        dtype = dtype.get("config", {}).get("name", _config.floatx())
    dtype = getattr(dtype, "name", dtype)
    if isinstance(dtype, str) and dtype.startswith("mixed_"):
        return "float32"
    return str(jnp.dtype(dtype))


def plain_value(value):
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
