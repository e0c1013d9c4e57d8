"""The arithmetic losses and metrics share: float casting, rank alignment, safe division,
and Keras's sample weighting and reduction of per-sample losses (`compute_weighted_loss`).

Split from `jkeras.losses`, which re-exports every name here; the public functions are
wrapped the same way (they record a graph node when called on symbolic tensors).
"""
import jax.numpy as jnp

from jkeras import _config
from jkeras.engine import symbolic_ops as _symbolic_ops

__all__ = ["align_ranks", "divide_no_nan", "Reduction", "fit_weight_rank",
           "compute_weighted_loss"]


def _float_array(x, dtype=None):
    """`x` as a jnp array; integers and bools become floatx unless `dtype` says otherwise,
    and 16-bit floats (mixed precision outputs) float32, so that losses sum in float32."""
    x = jnp.asarray(x)
    if dtype is not None:
        return x.astype(dtype)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(_config.floatx())
    return x.astype(jnp.promote_types(x.dtype, jnp.float32))


def align_ranks(y_true, y_pred):
    """Makes ranks agree when they differ by one and the longer array ends in a 1.

    A rank-1 array facing an `(N, 1)` one is expanded to `(N, 1)`; otherwise the trailing 1
    of the longer array is squeezed. Anything else is returned unchanged.
    """
    y_true, y_pred = jnp.asarray(y_true), jnp.asarray(y_pred)
    if y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        if y_true.ndim == 1:
            y_true = y_true[:, None]
        else:
            y_pred = jnp.squeeze(y_pred, -1)
    elif y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
        else:
            y_true = jnp.squeeze(y_true, -1)
    return y_true, y_pred


def divide_no_nan(num, den):
    """num / den, with 0 wherever den == 0."""
    safe = jnp.where(den == 0, 1, den)
    return jnp.where(den == 0, jnp.zeros_like(num / safe), num / safe)



class Reduction:
    """The reduction names Loss objects accept (Keras 2 `keras.losses.Reduction`)."""
    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"
    # Keras 3 spellings.
    MEAN = "mean"
    MEAN_WITH_SAMPLE_WEIGHT = "mean_with_sample_weight"

    @classmethod
    def all(cls):
        return (cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE, cls.MEAN,
                cls.MEAN_WITH_SAMPLE_WEIGHT)

    @classmethod
    def validate(cls, reduction):
        if reduction is None:
            return cls.NONE
        if reduction not in cls.all():
            raise ValueError(
                f"Invalid reduction. Expected one of {cls.all()}. "
                f"Received: reduction={reduction!r}")
        return reduction


def fit_weight_rank(weight, ndim):
    """Sample weights brought to rank `ndim`: a trailing 1 squeezed or axes added on the right.

    This is how a per-sample weight `(N,)` meets a per-timestep loss `(N, T)`.
    """
    weight = jnp.asarray(weight)
    if weight.ndim == ndim + 1 and weight.shape[-1] == 1:
        weight = jnp.squeeze(weight, -1)
    while weight.ndim < ndim:
        weight = weight[..., None]
    return weight


def compute_weighted_loss(losses, sample_weight=None, reduction="sum_over_batch_size",
                          mask=None):
    """Weights per-sample `losses` and reduces them as Keras does.

    'auto'/'sum_over_batch_size'/'mean': sum(loss * weight) / number of loss elements (a
    zero weight still counts in the denominator); 'sum': the sum; 'none': the weighted
    losses; 'mean_with_sample_weight': sum(loss * weight) / sum(weight). A boolean `mask`
    (False = ignored) scales the remaining weights so that a mean runs over valid entries.
    """
    reduction = Reduction.validate(reduction)
    losses = _float_array(losses)
    weight = None if sample_weight is None else fit_weight_rank(
        jnp.asarray(sample_weight, losses.dtype), losses.ndim)
    if mask is not None:
        mask = jnp.asarray(mask).astype(losses.dtype)
        if reduction in ("auto", "sum_over_batch_size", "mean"):
            mask = mask * divide_no_nan(jnp.asarray(mask.size, losses.dtype), jnp.sum(mask))
        weight = mask if weight is None else weight * fit_weight_rank(mask, weight.ndim)
    if weight is not None:
        losses = losses * weight
    if reduction == "none":
        return losses
    total = jnp.sum(losses)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and weight is not None:
        return divide_no_nan(total, jnp.sum(jnp.broadcast_to(weight, losses.shape)))
    return divide_no_nan(total, jnp.asarray(losses.size, losses.dtype))


_symbolic_ops.wrap_namespace(globals(), "losses")
