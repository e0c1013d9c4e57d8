"""The call context: how Keras-style `call` code runs inside a pure, traced apply.

A subclassed model's `call` (and a custom layer's `call`) calls other layers like
functions. While the model's `apply` traces it, a context is active: each layer called
there takes its arrays from the context instead of its live weights, writes its new state
back into the context, adds its activity losses to it, and draws keys from it. Random
functions of the backend (`K.random_*`, `K.dropout`) draw from the same key stream, so a
traced step gets fresh randomness every time it runs.
"""
import threading

import jax

from jkeras.engine.structure import flatten
from jkeras.serialization import builtin_tables

__all__ = ["CallContext", "active", "activity_loss", "call_in_context", "next_key"]


class _Active(threading.local):
    stack = None


_ACTIVE = _Active()


class CallContext:
    """Arrays for the layers of one model call, and what the call produced."""

    def __init__(self, variables, layers, training, key):
        self.variables = variables               # {"params": {name: ...}, "state": {...}}
        self.new_state = dict(variables["state"])
        self.layers = {id(layer): layer for layer in layers}
        self.training = training
        self.key = key
        self.count = 0
        self.losses = 0.0

    def owns(self, layer):
        return id(layer) in self.layers

    def next_key(self):
        if self.key is None:
            return None
        self.count += 1
        return jax.random.fold_in(self.key, self.count)

    def __enter__(self):
        if _ACTIVE.stack is None:
            _ACTIVE.stack = []
        _ACTIVE.stack.append(self)
        return self

    def __exit__(self, *exc):
        _ACTIVE.stack.pop()
        return False


class KeyScope:
    """A key stream for code that is not a model call (a custom layer's `call`)."""

    def __init__(self, key):
        self.key = key
        self.count = 0
        self.layers = {}

    def owns(self, layer):
        return False

    next_key = CallContext.next_key
    __enter__ = CallContext.__enter__
    __exit__ = CallContext.__exit__


def active():
    """The innermost active context, or None."""
    stack = _ACTIVE.stack
    return stack[-1] if stack else None


def next_key():
    """A fresh key from the innermost context that has one, or None outside a traced call."""
    for scope in reversed(_ACTIVE.stack or []):
        if scope.key is not None:
            return scope.next_key()
    return None


def call_in_context(layer, context, inputs, args, kwargs):
    """Calls `layer` inside a subclassed model's `apply`, with the arrays of the context."""
    training = kwargs.pop("training", None)
    training = context.training if training is None else bool(training)
    mask = kwargs.pop("mask", None)
    variables = {"params": context.variables["params"][layer.name],
                 "state": context.new_state[layer.name]}
    key = context.next_key()
    if isinstance(layer, builtin_tables.table("layers")["Model"]):  # Model is above this module
        outputs, new_state, losses = layer.apply_with_losses(
            variables, inputs, *args, training=training, key=key, mask=mask, **kwargs)
        context.losses = context.losses + losses
    else:
        outputs, new_state = layer.apply(variables, inputs, *args, training=training,
                                         key=key, mask=mask, **kwargs)
        if layer.activity_regularizer is not None:
            context.losses = context.losses + activity_loss(layer, outputs)
    context.new_state[layer.name] = new_state
    return outputs


def activity_loss(layer, outputs):
    """A layer's activity penalty, divided by the batch size as Keras 2 does."""
    total = 0.0
    for out in flatten(outputs):
        total = total + layer.activity_regularizer(out) / out.shape[0]
    return total
