"""Keras 2's backend arithmetic: reductions, elementwise maths and comparisons, casts and
the products (`dot`, `batch_dot`), on jax.numpy.

`jkeras.backend` re-exports every name here as `K.*` (and wraps them for symbolic tensors);
they keep `jkeras.backend` as their `__module__`, where users import them from.
"""
import jax
import jax.numpy as jnp
import numpy as np

from jkeras._config import floatx
from jkeras.engine import symbolic_ops as _symbolic_ops

__all__ = ["sum", "prod", "max", "min", "mean", "var", "std", "any", "all", "argmax",
           "argmin", "cumsum", "cumprod", "logsumexp", "abs", "square", "sqrt", "exp",
           "log", "pow", "sin", "cos", "round", "sign", "clip", "cast", "cast_to_floatx",
           "equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
           "maximum", "minimum", "stop_gradient", "dot", "batch_dot"]


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _float_if_bool(x):
    x = jnp.asarray(x)
    return x.astype(floatx()) if x.dtype == jnp.bool_ else x


# ----------------------------------------------------------------------------- reductions


def sum(x, axis=None, keepdims=False):
    return jnp.sum(jnp.asarray(x), axis=_axis(axis), keepdims=keepdims)


def prod(x, axis=None, keepdims=False):
    return jnp.prod(jnp.asarray(x), axis=_axis(axis), keepdims=keepdims)


def max(x, axis=None, keepdims=False):
    return jnp.max(jnp.asarray(x), axis=_axis(axis), keepdims=keepdims)


def min(x, axis=None, keepdims=False):
    return jnp.min(jnp.asarray(x), axis=_axis(axis), keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    return jnp.mean(_float_if_bool(x), axis=_axis(axis), keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    """Population variance (no Bessel correction), as Keras."""
    return jnp.var(_float_if_bool(x), axis=_axis(axis), keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    """Population standard deviation, as Keras."""
    return jnp.std(_float_if_bool(x), axis=_axis(axis), keepdims=keepdims)


def any(x, axis=None, keepdims=False):
    return jnp.any(jnp.asarray(x).astype(bool), axis=_axis(axis), keepdims=keepdims)


def all(x, axis=None, keepdims=False):
    return jnp.all(jnp.asarray(x).astype(bool), axis=_axis(axis), keepdims=keepdims)


def argmax(x, axis=-1):
    return jnp.argmax(jnp.asarray(x), axis=axis)


def argmin(x, axis=-1):
    return jnp.argmin(jnp.asarray(x), axis=axis)


def cumsum(x, axis=0):
    return jnp.cumsum(jnp.asarray(x), axis=axis)


def cumprod(x, axis=0):
    return jnp.cumprod(jnp.asarray(x), axis=axis)


def logsumexp(x, axis=None, keepdims=False):
    return jax.scipy.special.logsumexp(jnp.asarray(x), axis=_axis(axis), keepdims=keepdims)


# ----------------------------------------------------------------------------- elementwise


def abs(x):
    return jnp.abs(jnp.asarray(x))


def square(x):
    return jnp.square(jnp.asarray(x))


def sqrt(x):
    """Square root with negative inputs clipped to 0 first (Keras 2)."""
    x = jnp.asarray(x)
    return jnp.sqrt(jnp.maximum(x, jnp.zeros((), x.dtype)))


def exp(x):
    return jnp.exp(jnp.asarray(x))


def log(x):
    return jnp.log(jnp.asarray(x))


def pow(x, a):
    return jnp.power(jnp.asarray(x), a)


def sin(x):
    return jnp.sin(jnp.asarray(x))


def cos(x):
    return jnp.cos(jnp.asarray(x))


def round(x):
    """Rounds half to even."""
    return jnp.round(jnp.asarray(x))


def sign(x):
    return jnp.sign(jnp.asarray(x))


def clip(x, min_value, max_value):
    """Clips to `[min_value, max_value]`; None means unbounded, max below min means min."""
    if (isinstance(min_value, (int, float)) and isinstance(max_value, (int, float))
            and max_value < min_value):
        max_value = min_value
    min_value = -np.inf if min_value is None else min_value
    max_value = np.inf if max_value is None else max_value
    x = jnp.asarray(x)
    return jnp.clip(x, min_value, max_value).astype(x.dtype)


def cast(x, dtype):
    return jnp.asarray(x).astype(dtype)


def cast_to_floatx(x):
    """A NumPy array (or scalar) of the default float type."""
    return np.asarray(x, dtype=floatx())


def equal(x, y):
    return jnp.equal(x, y)


def not_equal(x, y):
    return jnp.not_equal(x, y)


def greater(x, y):
    return jnp.greater(x, y)


def greater_equal(x, y):
    return jnp.greater_equal(x, y)


def less(x, y):
    return jnp.less(x, y)


def less_equal(x, y):
    return jnp.less_equal(x, y)


def maximum(x, y):
    return jnp.maximum(x, y)


def minimum(x, y):
    return jnp.minimum(x, y)


def stop_gradient(variables):
    """Blocks gradients through an array (or each array of a list)."""
    if isinstance(variables, (list, tuple)):
        return type(variables)(jax.lax.stop_gradient(v) for v in variables)
    return jax.lax.stop_gradient(variables)


# ----------------------------------------------------------------------------- products


def dot(x, y):
    """Theano-style dot: contracts the last axis of x with the second-to-last of y."""
    return jnp.dot(x, y)


def batch_dot(x, y, axes=None):
    """Per-sample dot product over `axes` (Keras 2 rules for the result's shape)."""
    x, y = jnp.asarray(x), jnp.asarray(y)
    if x.ndim < 2 or y.ndim < 2:
        raise ValueError(
            "batch_dot needs inputs of rank >= 2. Received: "
            f"x.shape={x.shape}, y.shape={y.shape}")
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            "batch_dot needs the same batch size for both inputs. Received: "
            f"x.shape={x.shape}, y.shape={y.shape}")
    if isinstance(axes, int):
        axes = (axes, axes)
    if axes is None:
        axes = (x.ndim - 1, y.ndim - 1 if y.ndim == 2 else y.ndim - 2)
    a0, a1 = (int(a) % n for a, n in zip(axes, (x.ndim, y.ndim)))
    if a0 == 0 or a1 == 0:
        raise ValueError(f"batch_dot cannot contract the batch axis. Received: axes={axes}")
    if x.shape[a0] != y.shape[a1]:
        raise ValueError(
            f"batch_dot axes must have equal sizes. Received: x.shape={x.shape}, "
            f"y.shape={y.shape}, axes={axes}")
    out = jax.vmap(lambda a, b: jnp.tensordot(a, b, axes=(a0 - 1, a1 - 1)))(x, y)
    if x.ndim == 2 and y.ndim == 2:
        out = out[:, None]
    return out


_symbolic_ops.set_public_module(globals(), "jkeras.backend")
