"""Losses and metrics that layers and models add (`add_loss`, `add_metric`).

Three kinds, as in Keras 2:
- a symbolic tensor, given while the graph is built (`vae.add_loss(K.mean(xent + kl))`):
  kept on the layer; a functional model evaluates it from the same batch it runs on;
- a zero-argument callable (a weight penalty): kept on the layer; the train step calls it
  while the model's weight cells read the traced weights, so it has gradients;
- an array, from inside a layer's `call` while a step is traced: handed to the innermost
  active `collecting()` scope (the trainer opens one around each forward pass). Outside
  any scope a concrete value is kept as the layer's last eager losses; a traced value
  there comes from shape inference and is dropped.

Each added loss enters the total loss as its mean (a scalar stays as it is).
"""
import contextlib
import threading

import jax
import jax.numpy as jnp

from jkeras.engine.keras_tensor import KerasTensor

__all__ = ["add_loss", "add_metric", "collecting", "active", "symbolic_losses",
           "symbolic_metrics", "callable_losses", "metric_names", "Collected",
           "AGGREGATIONS"]

AGGREGATIONS = ("mean",)


class Collected:
    """Losses and metric values added while one forward pass was traced."""

    def __init__(self):
        self.losses = []
        self.metrics = {}

    def total(self):
        total = 0.0
        for value in self.losses:
            total = total + jnp.mean(jnp.asarray(value, jnp.float32))
        return total


class _Stack(threading.local):
    scopes = None


_STACK = _Stack()


@contextlib.contextmanager
def collecting():
    """A scope that gathers the losses and metrics added while code runs inside it."""
    if _STACK.scopes is None:
        _STACK.scopes = []
    collected = Collected()
    _STACK.scopes.append(collected)
    try:
        yield collected
    finally:
        _STACK.scopes.pop()


def active():
    """The innermost `collecting()` scope, or None."""
    return _STACK.scopes[-1] if _STACK.scopes else None


def _store(layer, attribute):
    values = layer.__dict__.get(attribute)
    if values is None:
        values = []
        object.__setattr__(layer, attribute, values)
    return values


def add_loss(layer, losses):
    """`layer.add_loss(losses)`: a tensor, a callable, an array, or a list of them."""
    for value in losses if isinstance(losses, (list, tuple)) else [losses]:
        if value is None:
            continue
        if isinstance(value, KerasTensor):
            _store(layer, "_symbolic_losses").append(value)
        elif callable(value) and not hasattr(value, "shape"):
            _store(layer, "_callable_losses").append(value)
        elif active() is not None:
            active().losses.append(value)
        elif not isinstance(value, jax.core.Tracer):
            _store(layer, "_eager_losses").append(jnp.asarray(value))


def add_metric(layer, value, name=None, aggregation="mean"):
    """`layer.add_metric(value, name, aggregation='mean')`: reported under `name`."""
    if aggregation not in AGGREGATIONS:
        raise ValueError(
            f'Layer "{layer.name}": add_metric supports aggregation="mean" only. Received: '
            f"aggregation={aggregation!r}")
    if not isinstance(name, str) or not name:
        raise ValueError(
            f'Layer "{layer.name}": add_metric needs a `name` (a non-empty string) to '
            f"report the metric under. Received: name={name!r}")
    if isinstance(value, KerasTensor):
        metrics = _store(layer, "_symbolic_metrics")
        if any(n == name for n, _ in metrics):
            raise ValueError(f'Layer "{layer.name}" already has a metric named "{name}".')
        metrics.append((name, value))
    elif active() is not None:
        active().metrics[name] = value


def symbolic_losses(layer):
    return list(layer.__dict__.get("_symbolic_losses") or [])


def symbolic_metrics(layer):
    return list(layer.__dict__.get("_symbolic_metrics") or [])


def _layers_within(model):
    """`model` and every layer inside it (nested models too), each once."""
    seen, stack = set(), [model]
    while stack:
        layer = stack.pop(0)
        if id(layer) not in seen:
            seen.add(id(layer))
            yield layer
            stack.extend(getattr(layer, "layers", None) or [])


def callable_losses(model):
    """The zero-argument losses of `model` and of every layer inside it."""
    return [fn for layer in _layers_within(model)
            for fn in layer.__dict__.get("_callable_losses") or []]


def metric_names(model):
    """Names of the symbolic metrics added to `model` and the models inside it."""
    return [name for layer in _layers_within(model) for name, _ in symbolic_metrics(layer)]
