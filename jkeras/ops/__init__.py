"""Numeric functions of Keras 2's backend module (arithmetic, activations and
cross-entropies, convolutions, CTC, the RNN loop, padding and resizing, batch-norm
arithmetic), as pure jax.numpy / lax functions grouped by concept. `jkeras.backend`
re-exports them as `K.*`."""
__all__ = []
