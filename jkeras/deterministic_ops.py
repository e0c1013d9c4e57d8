"""Scatter-free forms of the ops whose GPU code adds with scatters, for deterministic mode.

Under `--xla_gpu_deterministic_ops` XLA:GPU makes every scatter-add deterministic, but in
jax 0.10 it does so by turning it into a while loop with one iteration per index (its
faster sorting rewrite, `--xla_gpu_enable_scatter_determinism_expander`, is off by
default). Our training steps emit such scatters in two places: the gradient of a row
lookup (Embedding, `K.gather`) and the gradient of max-pooling (select-and-scatter, one
index per window); two metrics accumulate with one (AUC's histogram, the confusion
matrix). With one loop iteration per token or window those would take seconds per step.
(Sparse categorical crossentropy picks each label's logit by a masked sum in every mode:
see `loss_functions.minus_log_softmax_at`.)

Each public function here is the plain jax op outside deterministic mode and, inside it
(`_config.is_op_determinism_enabled()`, checked when the op is traced), the same values
computed without a scatter: matmuls against one-hot matrices (at full float32 precision),
strided pads and masked sums, whose order XLA fixes under the flag.
"""
import functools
import itertools

import jax
import jax.numpy as jnp
from jax import lax

from jkeras import _config

__all__ = ["take_rows", "max_pool", "add_pairs"]

# One-hot blocks are kept under this many elements (256 MB in float32).
_ONE_HOT_BLOCK = 1 << 26


def _one_hot_t_matmul(indices, values, num_rows):
    """sum_i one_hot(indices[i]) outer values[i]: shape (num_rows,) + values.shape[1:].

    Out-of-range indices add nothing. Tokens are taken in blocks, added in order."""
    flat = values.reshape(values.shape[0], -1)
    block = max(1, _ONE_HOT_BLOCK // max(num_rows, 1))

    def one_block(idx, vals):
        hot = jax.nn.one_hot(idx, num_rows, dtype=vals.dtype)
        return jnp.matmul(hot.T, vals, precision=lax.Precision.HIGHEST)

    n = flat.shape[0]
    if n <= block:
        total = one_block(indices, flat)
    else:
        steps = -(-n // block)
        pad = steps * block - n
        idx = jnp.pad(indices, (0, pad), constant_values=num_rows).reshape(steps, block)
        vals = jnp.pad(flat, ((0, pad), (0, 0))).reshape(steps, block, -1)

        def body(acc, chunk):
            return acc + one_block(*chunk), None

        total, _ = lax.scan(body, jnp.zeros((num_rows, flat.shape[1]), flat.dtype),
                            (idx, vals))
    return total.reshape((num_rows,) + values.shape[1:])


# ----------------------------------------------------------------------------- row lookup
def take_rows(table, indices):
    """`jnp.take(table, indices, axis=0)`; in deterministic mode its gradient is a one-hot
    matmul."""
    if _config.is_op_determinism_enabled():
        return _take_rows(table, indices)
    return jnp.take(table, indices, axis=0)


@jax.custom_vjp
def _take_rows(table, indices):
    return jnp.take(table, indices, axis=0)


def _take_rows_fwd(table, indices):
    return _take_rows(table, indices), (indices, table.shape[0])


def _take_rows_bwd(residuals, g):
    indices, rows = residuals
    flat = indices.reshape(-1)
    flat = jnp.where(flat < 0, flat + rows, flat)  # jnp.take counts negatives from the end
    grad = _one_hot_t_matmul(flat, g.reshape((flat.shape[0],) + g.shape[indices.ndim:]),
                             rows)
    return grad, None


_take_rows.defvjp(_take_rows_fwd, _take_rows_bwd)


# ----------------------------------------------------------------------------- max-pooling
def max_pool(x, window, strides, padding):
    """`lax.reduce_window(x, -inf, lax.max, window, strides, padding)` for floating `x`
    (full-rank window and strides, padding 'VALID' or 'SAME'). In deterministic mode its
    gradient goes, as jax's does, to the first maximum of each window, built from strided
    pads instead of a select-and-scatter."""
    if _config.is_op_determinism_enabled():
        return _max_pool(tuple(window), tuple(strides), padding, x)
    return lax.reduce_window(x, -jnp.inf, lax.max, window, strides, padding)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1, 2))
def _max_pool(window, strides, padding, x):
    return lax.reduce_window(x, -jnp.inf, lax.max, window, strides, padding)


def _max_pool_fwd(window, strides, padding, x):
    y = _max_pool(window, strides, padding, x)
    return y, (x, y)


def _max_pool_bwd(window, strides, padding, residuals, g):
    x, y = residuals
    pads = lax.padtype_to_pads(x.shape, window, strides, padding)
    padded = lax.pad(x, jnp.array(-jnp.inf, x.dtype), [(lo, hi, 0) for lo, hi in pads])
    taken = jnp.zeros(y.shape, bool)
    grad = jnp.zeros(padded.shape, g.dtype)
    zero = jnp.zeros((), g.dtype)
    for offset in itertools.product(*(range(w) for w in window)):
        # The window cells at this offset, one per window, and whether each is the first
        # cell of its window holding the maximum.
        ends = [o + s * (n - 1) + 1 for o, s, n in zip(offset, strides, y.shape)]
        cell = lax.slice(padded, offset, ends, strides)
        first = (cell == y) & ~taken
        taken = taken | first
        grad = grad + lax.pad(jnp.where(first, g, zero), zero,
                              [(o, p - e, s - 1) for o, e, s, p in
                               zip(offset, ends, strides, padded.shape)])
    starts = [lo for lo, _ in pads]
    return (lax.slice(grad, starts, [lo + n for lo, n in zip(starts, x.shape)]),)


_max_pool.defvjp(_max_pool_fwd, _max_pool_bwd)


# ----------------------------------------------------------------------------- pairs
def add_pairs(state, rows, cols, weights):
    """`state.at[rows, cols].add(weights)` for a 2-D `state`; in deterministic mode a
    one-hot matmul."""
    if not _config.is_op_determinism_enabled():
        return state.at[rows, cols].add(weights)
    hot_cols = jax.nn.one_hot(cols, state.shape[1], dtype=state.dtype)
    return state + _one_hot_t_matmul(rows, hot_cols * weights[:, None].astype(state.dtype),
                                     state.shape[0])
