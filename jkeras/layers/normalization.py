"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization and
UnitNormalization."""
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from jkeras import _config
from jkeras.engine.base_layer import Layer
from jkeras.engine.input_spec import InputSpec
from jkeras.layers import arguments
from jkeras.engine.weight_spec import declare_weight, options_config, weight_options
from jkeras.layers.autocast import autocast

__all__ = ["variable_dtype", "compute_dtype", "resolve_axes",
           "masked_moments", "one_pass_for", "BatchNormalization", "LayerNormalization",
           "GroupNormalization", "UnitNormalization"]


def _declare_offset_and_scale(layer, beta_initializer, gamma_initializer, beta_regularizer,
                              gamma_regularizer, beta_constraint, gamma_constraint):
    """The `beta` (offset) and `gamma` (scale) weights every normalization here declares."""
    declare_weight(layer, "beta", beta_initializer, beta_regularizer, beta_constraint)
    declare_weight(layer, "gamma", gamma_initializer, gamma_regularizer, gamma_constraint)


def variable_dtype(dtype):
    """Normalization weights stay in float32 when the layer computes in half precision."""
    return "float32" if dtype in ("float16", "bfloat16") else dtype


def compute_dtype(x):
    """Statistics are computed in at least float32."""
    return jnp.promote_types(x.dtype, jnp.float32)


def resolve_axes(axis, ndim, owner):
    """`axis` as a sorted list of non-negative axes of a rank-`ndim` input."""
    axes = [axis] if isinstance(axis, int) else list(axis)
    resolved = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(
                f"{owner}: axis {a} is out of bounds for an input of rank {ndim}. "
                f"Received: axis={axis}")
        resolved.append(a % ndim)
    if len(set(resolved)) != len(resolved):
        raise ValueError(f"{owner}: duplicate axes in axis={axis}.")
    return sorted(resolved)


def _known_dims(input_shape, axes, owner):
    dims = [input_shape[a] for a in axes]
    if any(d is None for d in dims):
        raise ValueError(
            f"{owner}: the normalized axes {axes} of the input must have a known size. "
            f"Received input shape: {tuple(input_shape)}")
    return dims


def _broadcast(value, axes, ndim):
    """Reshapes per-axis `value` (shape = the sizes of `axes`) to broadcast on a rank-ndim
    input; full-rank values pass through."""
    if value is None or value.ndim == ndim:
        return value
    shape = [1] * ndim
    for a, d in zip(axes, value.shape):
        shape[a] = d
    return jnp.reshape(value, shape)


def masked_moments(x, reduction_axes, mask=None, one_pass=False):
    """Mean and (biased) variance over `reduction_axes`, kept as size-1 axes; a mask of
    shape `x.shape[:-1]` excludes the positions it marks False. `one_pass`: both from
    one pass over `x`, for 16-bit layers: `_streaming_moments` along trailing axes (each
    row's own statistics, as LayerNormalization's) of up to `_STREAMING_MAX` elements,
    `_shifted_moments` across rows or along longer ones."""
    if isinstance(reduction_axes, (int, np.integer)):
        reduction_axes = (int(reduction_axes),)
    reduction_axes = tuple(a % x.ndim for a in reduction_axes)
    if mask is None:
        if one_pass and x.size:
            trailing = tuple(range(x.ndim - len(reduction_axes), x.ndim))
            count = math.prod(x.shape[a] for a in reduction_axes)
            if tuple(sorted(reduction_axes)) == trailing and count <= _STREAMING_MAX:
                return _streaming_moments(x, reduction_axes)
            return _shifted_moments(x, reduction_axes)
        mean = jnp.mean(x, axis=reduction_axes, keepdims=True)
        variance = jnp.mean(jnp.square(x - mean), axis=reduction_axes, keepdims=True)
        return mean, variance
    weights = jnp.broadcast_to(jnp.expand_dims(jnp.asarray(mask, bool), -1), x.shape)
    weights = weights.astype(x.dtype)
    count = jnp.sum(weights, axis=reduction_axes, keepdims=True) + _config.epsilon()
    mean = jnp.sum(x * weights, axis=reduction_axes, keepdims=True) / count
    variance = jnp.sum(jnp.square(x - mean) * weights, axis=reduction_axes,
                       keepdims=True) / count
    return mean, variance


def one_pass_for(dtype):
    """Whether a layer whose inputs and outputs are `dtype` takes its statistics in one
    pass: for 16-bit ones (mixed precision), whose outputs round away far more than the
    one-pass form's error; float32 and float64 layers keep mean-then-variance, exact to
    their precision whatever the data."""
    return jnp.issubdtype(dtype, jnp.floating) and jnp.finfo(dtype).bits <= 16


def _shifted_moments(x, axes):
    """Mean and variance in one pass over `x`, for reductions across rows (a
    BatchNormalization's over its batch and spatial axes): both sums are taken of `x -
    shift`, where the shift is the first element along `axes` (held constant for
    gradients). Any constant shift leaves both statistics exact in exact arithmetic; one
    taken from the data keeps `E[d^2] - E[d]^2` from cancelling when the mean is large
    against the spread. What is left is a relative error of about float32's epsilon times
    `1 + (mean - shift)^2 / variance`: up to 3e-4 when the first element is an outlier
    thousands of deviations out, below a 16-bit output's rounding. Across rows XLA's
    reduction of plain sums is fast where `_streaming_moments`'s merges are not: on the
    H200 the mixed-precision CNN's step (three BatchNormalizations) took 1.34 ms with
    this form and 1.73 ms with that one."""
    first = tuple(slice(0, 1) if i in axes else slice(None) for i in range(x.ndim))
    shift = jax.lax.stop_gradient(x[first])
    d = x - shift
    shift_mean = jnp.mean(d, axis=axes, keepdims=True)
    variance = jnp.mean(jnp.square(d), axis=axes, keepdims=True) - jnp.square(shift_mean)
    return shift + shift_mean, jnp.maximum(variance, 0.0)


# The longest row `_streaming_moments` takes. XLA:CPU merges a row's triples one after
# another, and that error grows with the row: against float64, 6e-6 of the variance at
# 65,536 elements, 5e-4 at a million (a float16 output's rounding).
_STREAMING_MAX = 1 << 16


def _chan_combine(a, b):
    """Two partial `(mean, sum of squared deviations, count)` triples as one (Chan, Golub
    and LeVeque's pairwise update); an empty partial (count 0) leaves the other as is."""
    (mean_a, m2_a, n_a), (mean_b, m2_b, n_b) = a, b
    n = n_a + n_b
    share = jnp.where(n > 0, n_b / jnp.where(n > 0, n, 1.0), 0.0)
    delta = mean_b - mean_a
    return mean_a + delta * share, m2_a + m2_b + delta * delta * n_a * share, n


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _streaming_moments(x, axes):
    """Mean and variance in one pass over `x`: one reduction whose partial results are
    (mean, sum of squared deviations, count) triples, merged pairwise. Each merge works
    on deviations from the partial means, so nothing cancels however large the mean is
    against the spread: within 1e-5 of float64 where mean-then-variance is within 1e-6
    (rows of up to `_STREAMING_MAX` elements). That form reads `x` twice in two kernels;
    this one reads it once, in one kernel into which XLA also fuses whatever made `x` (a
    residual connection's add). On the H200 the small GPT's step (13
    LayerNormalizations, mixed bfloat16) took 0.6-0.9 ms less with a one-pass form than
    with mean-then-variance, and this one 0.15 ms less again than `_shifted_moments`,
    whose slice of each row's first element kept that add a kernel of its own. For
    reductions along trailing axes only (within rows): across rows the merges make XLA's
    reduction slow (see `_shifted_moments`). Its derivative is given in closed form."""
    zero = jnp.zeros((), x.dtype)
    mean, m2, count = jax.lax.reduce((x, jnp.zeros_like(x), jnp.ones_like(x)),
                                     (zero, zero, zero), _chan_combine, axes)
    return jnp.expand_dims(mean, axes), jnp.expand_dims(m2 / count, axes)


@_streaming_moments.defjvp
def _streaming_moments_jvp(axes, primals, tangents):
    (x,), (dx,) = primals, tangents
    mean, variance = _streaming_moments(x, axes)  # itself: so it differentiates again
    d_mean = jnp.mean(dx, axis=axes, keepdims=True)
    d_variance = 2.0 * jnp.mean((x - mean) * dx, axis=axes, keepdims=True)
    return (mean, variance), (d_mean, d_variance)


def _split(x, replicas):
    """`x` as `(replicas, batch / replicas, ...)`, the new leading axis on the mesh's batch
    axis, so that reductions over the second axis stay on each device."""
    mesh, axis, count = replicas
    split = jnp.reshape(x, (count, x.shape[0] // count) + x.shape[1:])
    return jax.lax.with_sharding_constraint(
        split, jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec(axis)))


def _replica_moments(x, reduction, replicas):
    """Batch statistics per data-parallel replica, as Keras's BatchNormalization takes them
    under a distribution strategy unless `synchronized=True`: `(mean, variance)` averaged
    over replicas (for the moving statistics, shaped like `masked_moments`'s) and the
    per-replica `(mean, variance)`, shaped `(replicas, 1, ...)`, for normalizing."""
    split = _split(x, replicas)
    per_mean, per_var = masked_moments(split, tuple(a + 1 for a in reduction))
    return (jnp.mean(per_mean, axis=0), jnp.mean(per_var, axis=0), (per_mean, per_var))


@weight_options(beta="beta", gamma="gamma", moving_mean="moving_mean", moving_variance="moving_variance")
class BatchNormalization(Layer):
    """Normalizes with the batch's statistics in training (updating moving averages of
    them) and with the moving averages at inference.

    A layer with `trainable=False` always runs in inference mode and leaves its moving
    statistics alone (Keras >= 2.1.3 behaviour).
    """

    supports_masking = True

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, renorm=False,
                 renorm_clipping=None, renorm_momentum=0.99, fused=None,
                 virtual_batch_size=None, adjustment=None, **kwargs):
        owner = arguments.owner_of(self)
        if renorm:
            raise NotImplementedError(f"{owner}: renorm=True is not supported.")
        if virtual_batch_size is not None:
            raise NotImplementedError(
                f"{owner}: virtual_batch_size is not supported. "
                f"Received: virtual_batch_size={virtual_batch_size}")
        if adjustment is not None:
            raise NotImplementedError(f"{owner}: `adjustment` is not supported.")
        axis = arguments.axis(axis, "axis", owner)
        momentum = arguments.number(momentum, "momentum", owner, minimum=0)
        epsilon = arguments.number(epsilon, "epsilon", owner, minimum=0, strict=True)
        _declare_offset_and_scale(self, beta_initializer, gamma_initializer, beta_regularizer,
                                  gamma_regularizer, beta_constraint, gamma_constraint)
        for name, initializer in (("moving_mean", moving_mean_initializer),
                                  ("moving_variance", moving_variance_initializer)):
            declare_weight(self, name, initializer, trainable=False, options=("initializer",))
        super().__init__(**kwargs)
        self.axis, self.momentum, self.epsilon = axis, momentum, epsilon
        self.center = bool(center)
        self.scale = bool(scale)
        # Under jit over a sharded batch the statistics are global already.
        self.synchronized = bool(synchronized)
        self.fused = fused

    def _param_shape(self, input_shape, axes):
        dims = _known_dims(input_shape, axes, f"BatchNormalization {self.name}")
        if len(axes) == 1:
            return (dims[0],)
        # Keras 2 keeps several normalized axes as a full-rank, broadcastable shape.
        return tuple(input_shape[i] if i in axes else 1 for i in range(len(input_shape)))

    def init(self, key, input_shape):
        ndim = len(input_shape)
        axes = resolve_axes(self.axis, ndim, f"BatchNormalization {self.name}")
        shape = self._param_shape(input_shape, axes)
        dtype = variable_dtype(self.dtype)
        keys = jax.random.split(key, 4)
        specs = self._weight_specs
        params, state = {}, {}
        if self.scale:
            params["gamma"] = specs["gamma"].create(keys[0], shape, dtype)
        if self.center:
            params["beta"] = specs["beta"].create(keys[1], shape, dtype)
        state["moving_mean"] = specs["moving_mean"].create(keys[2], shape, dtype)
        state["moving_variance"] = specs["moving_variance"].create(keys[3], shape, dtype)
        self.input_spec = InputSpec(ndim=ndim, axes={a: input_shape[a] for a in axes})
        return {"params": params, "state": state}

    @autocast(params=False)
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        params, state = variables["params"], variables["state"]
        x = jnp.asarray(inputs)
        out_dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else \
            jnp.dtype(self.compute_dtype)
        x = x.astype(compute_dtype(x))
        ndim = x.ndim
        axes = resolve_axes(self.axis, ndim, f"BatchNormalization {self.name}")
        reduction = tuple(i for i in range(ndim) if i not in axes)
        moving_mean = _broadcast(state["moving_mean"].astype(x.dtype), axes, ndim)
        moving_var = _broadcast(state["moving_variance"].astype(x.dtype), axes, ndim)
        new_state = state
        if training and self.trainable:
            if mask is not None and jnp.ndim(mask) != ndim - 1:
                raise ValueError(
                    f"BatchNormalization {self.name}: the mask must have one dimension "
                    f"less than the inputs. Received: mask.shape={jnp.shape(mask)}, "
                    f"inputs.shape={x.shape}")
            replicas = self._replicas(x, reduction, mask)
            if replicas is None:
                mean, variance = masked_moments(x, reduction, mask,
                                                one_pass=one_pass_for(out_dtype))
            else:
                mean, variance, per_replica = _replica_moments(x, reduction, replicas)
            m = self.momentum
            new_mean = moving_mean * m + mean * (1.0 - m)
            new_var = moving_var * m + variance * (1.0 - m)
            new_state = dict(state)
            new_state["moving_mean"] = jnp.reshape(
                new_mean, state["moving_mean"].shape).astype(state["moving_mean"].dtype)
            new_state["moving_variance"] = jnp.reshape(
                new_var, state["moving_variance"].shape).astype(
                    state["moving_variance"].dtype)
        else:
            mean, variance = moving_mean, moving_var
        if training and self.trainable and replicas is not None:
            mean, variance = per_replica  # each replica normalizes with its own statistics
            x = _split(x, replicas)
            axes = tuple(a + 1 for a in axes)
            ndim += 1
        inv = jax.lax.rsqrt(variance + self.epsilon)
        if self.scale:
            inv = inv * _broadcast(params["gamma"].astype(x.dtype), axes, ndim)
        # One multiply and one add an element, the offset made per channel first (as
        # Keras 3 orders it).
        offset = -mean * inv
        if self.center:
            offset = offset + _broadcast(params["beta"].astype(x.dtype), axes, ndim)
        outputs = jnp.reshape(x * inv + offset, jnp.shape(inputs))
        return outputs.astype(out_dtype), new_state

    def _replicas(self, x, reduction, mask):
        """The data-parallel replica split to take statistics over, or None (one device,
        `synchronized=True`, a mask, a batch axis not reduced or not split evenly)."""
        split = _config.batch_replicas()
        if split is None or self.synchronized or mask is not None or 0 not in reduction:
            return None
        count = split[2]
        if count <= 1 or x.shape[0] % count:
            return None
        return split

    def compute_output_shape(self, input_shape):
        resolve_axes(self.axis, len(input_shape), f"BatchNormalization {self.name}")
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            **options_config(self, "beta", "gamma", "moving_mean", "moving_variance"),
        })
        if self.synchronized:  # Keras 2 before 2.12 knows no such argument
            config["synchronized"] = True
        return config


@weight_options(beta="beta", gamma="gamma")
class LayerNormalization(Layer):
    """Normalizes each sample over `axis` to zero mean and unit variance, then scales by
    `gamma` and shifts by `beta`."""

    supports_masking = True

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 rms_scaling=False, **kwargs):
        owner = arguments.owner_of(self)
        axis = arguments.axis(axis, "axis", owner)
        epsilon = arguments.number(epsilon, "epsilon", owner, minimum=0, strict=True)
        _declare_offset_and_scale(self, beta_initializer, gamma_initializer, beta_regularizer,
                                  gamma_regularizer, beta_constraint, gamma_constraint)
        super().__init__(**kwargs)
        self.axis, self.epsilon = axis, epsilon
        self.center = bool(center)
        self.scale = bool(scale)
        self.rms_scaling = bool(rms_scaling)

    def init(self, key, input_shape):
        owner = f"LayerNormalization {self.name}"
        axes = resolve_axes(self.axis, len(input_shape), owner)
        shape = tuple(_known_dims(input_shape, axes, owner))
        dtype = variable_dtype(self.dtype)
        k1, k2 = jax.random.split(key)
        params = {}
        if self.scale or self.rms_scaling:
            params["gamma"] = self._weight_specs["gamma"].create(k1, shape, dtype)
        if self.center and not self.rms_scaling:
            params["beta"] = self._weight_specs["beta"].create(k2, shape, dtype)
        return {"params": params, "state": {}}

    @autocast(params=False)
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        params = variables["params"]
        x = jnp.asarray(inputs)
        out_dtype = x.dtype
        x = x.astype(compute_dtype(x))
        axes = resolve_axes(self.axis, x.ndim, f"LayerNormalization {self.name}")
        gamma = _broadcast(params.get("gamma"), axes, x.ndim)
        beta = _broadcast(params.get("beta"), axes, x.ndim)
        mean, variance = masked_moments(x, tuple(axes), one_pass=one_pass_for(out_dtype))
        inv = jax.lax.rsqrt(variance + self.epsilon)
        if self.rms_scaling:
            outputs = x * inv
            if gamma is not None:
                outputs = outputs * gamma.astype(x.dtype)
            return outputs.astype(out_dtype), variables["state"]
        if gamma is not None:
            inv = inv * gamma.astype(x.dtype)
        outputs = x * inv - mean * inv
        if beta is not None:
            outputs = outputs + beta.astype(x.dtype)
        return outputs.astype(out_dtype), variables["state"]

    def compute_output_shape(self, input_shape):
        resolve_axes(self.axis, len(input_shape), f"LayerNormalization {self.name}")
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            **options_config(self, "beta", "gamma"),
        })
        if self.rms_scaling:
            config["rms_scaling"] = True
        return config


@weight_options(beta="beta", gamma="gamma")
class GroupNormalization(Layer):
    """Splits the channels on `axis` into `groups` and normalizes each group of each sample
    (`groups=-1`: one channel per group, i.e. instance normalization)."""

    supports_masking = True

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        owner = arguments.owner_of(self)
        if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or \
                (groups <= 0 and groups != -1):
            raise ValueError(
                f"{owner}: expected `groups` to be a positive integer or -1 (instance "
                f"normalization). Received: groups={groups!r}")
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(
                f"{owner}: expected an int for `axis`. Received: axis={axis!r}")
        epsilon = arguments.number(epsilon, "epsilon", owner, minimum=0, strict=True)
        _declare_offset_and_scale(self, beta_initializer, gamma_initializer, beta_regularizer,
                                  gamma_regularizer, beta_constraint, gamma_constraint)
        super().__init__(**kwargs)
        self.groups, self.axis, self.epsilon = int(groups), int(axis), epsilon
        self.center = bool(center)
        self.scale = bool(scale)

    def _groups_for(self, dim):
        owner = f"GroupNormalization {self.name}"
        groups = dim if self.groups == -1 else self.groups
        if dim < groups:
            raise ValueError(
                f"{owner}: the number of groups ({groups}) cannot be more than the number "
                f"of channels ({dim}).")
        if dim % groups:
            raise ValueError(
                f"{owner}: the number of channels ({dim}) must be a multiple of the number "
                f"of groups ({groups}).")
        return groups

    def init(self, key, input_shape):
        owner = f"GroupNormalization {self.name}"
        ndim = len(input_shape)
        (axis,) = resolve_axes(self.axis, ndim, owner)
        (dim,) = _known_dims(input_shape, [axis], owner)
        self._groups_for(dim)
        dtype = variable_dtype(self.dtype)
        k1, k2 = jax.random.split(key)
        params = {}
        if self.scale:
            params["gamma"] = self._weight_specs["gamma"].create(k1, (dim,), dtype)
        if self.center:
            params["beta"] = self._weight_specs["beta"].create(k2, (dim,), dtype)
        self.input_spec = InputSpec(ndim=ndim, axes={axis: dim})
        return {"params": params, "state": {}}

    @autocast(params=False)
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        params = variables["params"]
        x = jnp.asarray(inputs)
        out_dtype = x.dtype
        x = x.astype(compute_dtype(x))
        ndim = x.ndim
        (axis,) = resolve_axes(self.axis, ndim, f"GroupNormalization {self.name}")
        dim = x.shape[axis]
        groups = self._groups_for(dim)
        grouped_shape = x.shape[:axis] + (groups, dim // groups) + x.shape[axis + 1:]
        grouped = jnp.reshape(x, grouped_shape)
        reduction = tuple(i for i in range(1, ndim + 1) if i != axis)
        mean, variance = masked_moments(grouped, reduction, one_pass=one_pass_for(out_dtype))
        inv = jax.lax.rsqrt(variance + self.epsilon)
        param_shape = [1] * (ndim + 1)
        param_shape[axis], param_shape[axis + 1] = groups, dim // groups
        if self.scale:
            inv = inv * jnp.reshape(params["gamma"].astype(x.dtype), param_shape)
        outputs = grouped * inv - mean * inv
        if self.center:
            outputs = outputs + jnp.reshape(params["beta"].astype(x.dtype), param_shape)
        return jnp.reshape(outputs, x.shape).astype(out_dtype), variables["state"]

    def compute_output_shape(self, input_shape):
        resolve_axes(self.axis, len(input_shape), f"GroupNormalization {self.name}")
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            **options_config(self, "beta", "gamma"),
        })
        return config


class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm over `axis`."""

    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        axis = arguments.axis(axis, "axis", arguments.owner_of(self))
        super().__init__(**kwargs)
        self.axis = axis

    @autocast(params=False)
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        x = jnp.asarray(inputs)
        axes = tuple(resolve_axes(self.axis, x.ndim, f"UnitNormalization {self.name}"))
        square_sum = jnp.sum(jnp.square(x), axis=axes, keepdims=True)
        return x * jax.lax.rsqrt(jnp.maximum(square_sum, 1e-12)), variables["state"]

    def compute_output_shape(self, input_shape):
        resolve_axes(self.axis, len(input_shape), f"UnitNormalization {self.name}")
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config
