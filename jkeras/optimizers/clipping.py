"""Gradient clipping, pure: per tensor (`clipnorm`) and over all tensors together
(`global_clipnorm`); `clipvalue` is a plain `jnp.clip` in the optimizer's step."""
import jax
import jax.numpy as jnp

__all__ = ["clip_by_norm", "clip_by_global_norm"]


def clip_by_norm(grad, clipnorm):
    """Scales one tensor so that its L2 norm is at most `clipnorm` (NaN-safe at zero)."""
    l2sum = jnp.sum(jnp.square(grad), keepdims=True)
    nonzero = l2sum > 0
    l2norm = jnp.where(nonzero, jnp.sqrt(jnp.where(nonzero, l2sum, 1)), l2sum)
    return grad * clipnorm / jnp.maximum(l2norm, clipnorm)


def clip_by_global_norm(grads, clipnorm):
    """Scales all tensors together so that their joint L2 norm is at most `clipnorm`."""
    leaves = jax.tree.leaves(grads)
    if not leaves:
        return grads
    norm = jnp.sqrt(sum(jnp.sum(jnp.square(g)) for g in leaves))
    # A non-finite norm makes the scale NaN instead of silently zeroing the update.
    scale = clipnorm * jnp.minimum(1.0 / norm, 1.0 / clipnorm) + (norm - norm)
    return jax.tree.map(lambda g: g * scale.astype(g.dtype), grads)
