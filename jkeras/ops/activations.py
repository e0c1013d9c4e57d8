"""Keras 2's backend activations (`K.relu`, `K.softmax`, ...), `l2_normalize` and the
cross-entropies on probabilities or logits (`K.categorical_crossentropy`, ...).

`jkeras.backend` re-exports every name here as `K.*` (and wraps them for symbolic tensors);
they keep `jkeras.backend` as their `__module__`, where users import them from.
"""
import jax
import jax.numpy as jnp

from jkeras import activations as _activations
from jkeras import loss_functions as _loss_functions
from jkeras import softmax_logits as _softmax_logits
from jkeras._config import epsilon
from jkeras.engine import symbolic_ops as _symbolic_ops
from jkeras.ops.math import _axis

__all__ = ["relu", "elu", "softmax", "softplus", "softsign", "sigmoid", "hard_sigmoid",
           "tanh", "l2_normalize", "categorical_crossentropy",
           "sparse_categorical_crossentropy", "binary_crossentropy"]


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    return _activations.relu(x, alpha=alpha, max_value=max_value, threshold=threshold)


def elu(x, alpha=1.0):
    return _activations.elu(x, alpha=alpha)


def softmax(x, axis=-1):
    """TensorFlow's softmax op under Keras 2.3, of any rank: inside a train or test step a
    cross-entropy of its output is taken from `x` (see `jkeras.softmax_logits`)."""
    x = jnp.asarray(x)
    return _softmax_logits.record(_activations.softmax(x, axis=axis), x, axis)


def softplus(x):
    return _activations.softplus(x)


def softsign(x):
    return _activations.softsign(x)


def sigmoid(x):
    return _activations.sigmoid(x)


def hard_sigmoid(x):
    return _activations.hard_sigmoid(x)


def tanh(x):
    return _activations.tanh(x)


def l2_normalize(x, axis=None):
    """`x / sqrt(max(sum(x**2), 1e-12))` along `axis`."""
    x = jnp.asarray(x)
    squared = jnp.sum(jnp.square(x), axis=_axis(axis), keepdims=True)
    return x * jax.lax.rsqrt(jnp.maximum(squared, 1e-12))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy with one-hot `target`; probabilities are renormalized and clipped
    (inside a train or test step, a softmax's are taken from its logits: see
    `jkeras.softmax_logits`)."""
    output, from_logits = _softmax_logits.as_logits(output, from_logits, axis)
    target, output = jnp.asarray(target), jnp.asarray(output)
    if from_logits:
        return -jnp.sum(target * jax.nn.log_softmax(output, axis=axis), axis=axis)
    output = output / jnp.sum(output, axis=axis, keepdims=True)
    output = jnp.clip(output, epsilon(), 1.0 - epsilon())
    return -jnp.sum(target * jnp.log(output), axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy with integer `target` (a trailing axis of size 1 is allowed); a
    softmax's probabilities are taken from its logits inside a train or test step."""
    output, from_logits = _softmax_logits.as_logits(output, from_logits, axis)
    output = jnp.asarray(output)
    if not from_logits:
        output = jnp.log(jnp.clip(output, epsilon(), 1.0 - epsilon()))
    output = jnp.moveaxis(output, axis, -1)
    labels = jnp.asarray(target).astype(jnp.int32).reshape(output.shape[:-1])
    return _loss_functions.minus_log_softmax_at(output, labels)


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise cross-entropy; probabilities are clipped to [eps, 1 - eps] (Keras 2)."""
    target, output = jnp.asarray(target), jnp.asarray(output)
    if from_logits:
        return (jnp.maximum(output, 0) - output * target
                + jnp.log1p(jnp.exp(-jnp.abs(output))))
    eps = epsilon()
    output = jnp.clip(output, eps, 1.0 - eps)
    return -(target * jnp.log(output + eps) + (1 - target) * jnp.log(1 - output + eps))


_symbolic_ops.set_public_module(globals(), "jkeras.backend")
