"""Keras 2's backend batch-normalization arithmetic, moving averages and `in_top_k`."""
import jax.numpy as jnp

__all__ = ["in_top_k", "normalize_batch_in_training", "batch_normalization",
           "moving_average_update"]


def in_top_k(predictions, targets, k):
    """Per row: is the score of class `targets[i]` among the `k` largest of
    `predictions[i]`? Ties at the boundary count as inside; a non-finite score never."""
    predictions = jnp.asarray(predictions)
    targets = jnp.asarray(targets)
    if predictions.ndim != 2 or targets.ndim != 1:
        raise ValueError("in_top_k needs predictions of shape (batch, classes) and targets "
                         f"of shape (batch,). Received: predictions.shape="
                         f"{tuple(predictions.shape)}, targets.shape={tuple(targets.shape)}")
    score = jnp.take_along_axis(predictions, targets.astype(jnp.int32)[:, None], axis=1)
    above = jnp.sum(predictions > score, axis=1)
    return (above < k) & jnp.isfinite(score[:, 0])


def _broadcastable(value, x_ndim, kept_axes):
    """`value` (shaped like the kept axes) reshaped to broadcast against x."""
    shape = [1] * x_ndim
    for axis, dim in zip(kept_axes, jnp.shape(value)):
        shape[axis] = dim
    return jnp.reshape(value, shape)


def normalize_batch_in_training(x, gamma, beta, reduction_axes, epsilon=1e-3):
    """`(normed, mean, var)`: the batch mean and (population) variance over
    `reduction_axes`, shaped like the other axes, and `x` normalized with them, scaled by
    `gamma` and shifted by `beta` (None: 1 and 0)."""
    x = jnp.asarray(x)
    axes = sorted(int(a) % x.ndim for a in reduction_axes)
    kept = [a for a in range(x.ndim) if a not in axes]
    mean = jnp.mean(x, axis=tuple(axes))
    var = jnp.var(x, axis=tuple(axes))
    normed = (x - _broadcastable(mean, x.ndim, kept)) / jnp.sqrt(
        _broadcastable(var, x.ndim, kept) + epsilon)
    if gamma is not None:
        normed = normed * _broadcastable(gamma, x.ndim, kept)
    if beta is not None:
        normed = normed + _broadcastable(beta, x.ndim, kept)
    return normed, mean, var


def batch_normalization(x, mean, var, beta, gamma, axis=-1, epsilon=1e-3):
    """`(x - mean) / sqrt(var + epsilon) * gamma + beta`. Statistics of rank 1 apply along
    `axis`; others broadcast against x as they are. `beta`/`gamma` may be None."""
    x = jnp.asarray(x)
    axis = int(axis) % x.ndim

    def place(value):
        value = jnp.asarray(value)
        return _broadcastable(value, x.ndim, [axis]) if value.ndim == 1 else value

    out = (x - place(mean)) / jnp.sqrt(place(var) + epsilon)
    if gamma is not None:
        out = out * place(gamma)
    if beta is not None:
        out = out + place(beta)
    return out


def moving_average_update(x, value, momentum):
    """`x * momentum + value * (1 - momentum)`. When `x` is a variable (it has `assign`),
    the new value is also written into it, as Keras 2's update op did; returns it."""
    current = jnp.asarray(getattr(x, "value", x))
    new = current - (current - jnp.asarray(value, current.dtype)) * (1.0 - momentum)
    if hasattr(x, "assign"):
        x.assign(new)
    return new
