"""How a layer follows its dtype policy inside `apply`, as Keras layers do in `__call__`.

Floating inputs (and floating keyword arguments: a value or key tensor) are cast to the
layer's compute dtype; integer and boolean arrays (ids, masks, PRNG keys) are left alone.
Floating params are cast to the compute dtype too, so that under 'mixed_bfloat16' a Dense
multiplies bfloat16 by bfloat16 while its kernel stays float32 (the gradient flows back
through the cast). State (moving statistics, an RNN's carry) keeps its own dtype.

Layer families wrap their `apply` with `@autocast` (or `@autocast(params=False)` when the
layer reads its params in float32 itself, as the normalization layers do).
"""
import functools

import jax
import jax.numpy as jnp

__all__ = ["autocast", "cast_floats", "compute_in_float32"]


def _is_float(x):
    dtype = getattr(x, "dtype", None)
    return dtype is not None and hasattr(x, "shape") and jnp.issubdtype(dtype, jnp.floating)


def cast_floats(tree, dtype, done=None):
    """`tree` with each floating array cast to `dtype` (other leaves unchanged). `done`:
    `{id: (array, cast)}` shared between calls, so an array met twice is cast once and
    stays one object (self-attention's query given again as its value)."""
    dtype = jnp.dtype(dtype)
    done = {} if done is None else done

    def cast(x):
        if _is_float(x) and x.dtype != dtype:
            seen = done.get(id(x))
            if seen is not None and seen[0] is x:
                return seen[1]
            done[id(x)] = (x, jnp.asarray(x).astype(dtype))
            return done[id(x)][1]
        return x
    return jax.tree.map(cast, tree)


def compute_in_float32(x):
    """`x` promoted to at least float32 (statistics and softmax of 16-bit inputs)."""
    return x.astype(jnp.promote_types(x.dtype, jnp.float32))


def _array_like(x):
    """Python and numpy values as arrays, so that they are cast like arrays."""
    if isinstance(x, (list, tuple, dict, jax.Array, jax.core.Tracer)) or x is None or \
            isinstance(x, (bool, str)):
        return x  # (an array or tracer as it is: one passed twice stays one object)
    return jnp.asarray(x) if hasattr(x, "__array__") or isinstance(x, (int, float)) else x


def autocast(apply=None, *, params=True):
    """Decorates a layer's `apply(self, variables, inputs, *args, **kwargs)` so that its
    floating inputs, floating keyword arguments and (with `params=True`) floating params
    arrive in the layer's compute dtype."""
    if apply is None:
        return functools.partial(autocast, params=params)

    @functools.wraps(apply)
    def wrapped(self, variables, inputs, *args, **kwargs):
        dtype = self.compute_dtype
        done = {}
        inputs = cast_floats(jax.tree.map(_array_like, inputs), dtype, done)
        args = cast_floats(args, dtype, done)
        kwargs = {k: cast_floats(v, dtype, done) if k != "key" else v
                  for k, v in kwargs.items()}
        if params and variables.get("params"):
            variables = dict(variables, params=cast_floats(variables["params"], dtype))
        return apply(self, variables, inputs, *args, **kwargs)
    return wrapped
