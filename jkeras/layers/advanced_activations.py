"""Activation layers with arguments or weights: ReLU, LeakyReLU, PReLU, ELU,
ThresholdedReLU and Softmax (which honours a mask)."""
import jax
import jax.numpy as jnp
import numpy as np

from jkeras import activations, softmax_logits
from jkeras.engine.base_layer import Layer
from jkeras.engine.input_spec import InputSpec
from jkeras.layers import arguments
from jkeras.engine.weight_spec import declare_weight, options_config, weight_options
from jkeras.layers.autocast import autocast, compute_in_float32

__all__ = ["ReLU", "LeakyReLU", "PReLU", "ELU", "ThresholdedReLU", "large_negative",
           "masked_softmax", "Softmax"]


class _Elementwise(Layer):
    """An activation layer without weights: shape and mask pass through."""

    supports_masking = True

    def forward(self, x):
        raise NotImplementedError

    @autocast
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        return self.forward(jnp.asarray(inputs)), variables["state"]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class ReLU(_Elementwise):
    """`max_value` above it, `x` above `threshold`, `negative_slope * (x - threshold)` below."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        owner = arguments.owner_of(self)
        if max_value is not None:
            max_value = arguments.number(max_value, "max_value", owner, minimum=0)
        negative_slope = arguments.number(negative_slope, "negative_slope", owner, minimum=0)
        threshold = arguments.number(threshold, "threshold", owner, minimum=0)
        super().__init__(**kwargs)
        self.max_value, self.negative_slope = max_value, negative_slope
        self.threshold = threshold

    def forward(self, x):
        return activations.relu(x, alpha=self.negative_slope, max_value=self.max_value,
                                threshold=self.threshold)

    def get_config(self):
        config = super().get_config()
        config.update({"max_value": self.max_value, "negative_slope": self.negative_slope,
                       "threshold": self.threshold})
        return config


class LeakyReLU(_Elementwise):
    """`x` for x >= 0, `alpha * x` otherwise (Keras 2 default alpha=0.3; Keras 3 calls it
    `negative_slope`)."""

    def __init__(self, alpha=None, negative_slope=None, **kwargs):
        if alpha is None:
            alpha = 0.3 if negative_slope is None else negative_slope
        alpha = arguments.number(alpha, "alpha", arguments.owner_of(self), minimum=0)
        super().__init__(**kwargs)
        self.alpha = alpha

    @property
    def negative_slope(self):
        return self.alpha

    def forward(self, x):
        return jax.nn.leaky_relu(x, negative_slope=self.alpha)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


@weight_options(alpha="alpha")
class PReLU(Layer):
    """Leaky ReLU whose slope `alpha` is learned per unit (shared along `shared_axes`)."""

    supports_masking = True

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None,
                 alpha_constraint=None, shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        declare_weight(self, "alpha", alpha_initializer, alpha_regularizer, alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = [int(a) for a in shared_axes]
        else:
            self.shared_axes = [int(shared_axes)]

    def init(self, key, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if not 1 <= axis < len(input_shape):
                raise ValueError(
                    f"PReLU {self.name}: shared axis {axis} is out of range for input shape "
                    f"{tuple(input_shape)}. Received: shared_axes={self.shared_axes}")
            shape[axis - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(
                f"PReLU {self.name}: the unshared axes of the input must have a known size. "
                f"Received input shape: {tuple(input_shape)}")
        alpha = self._weight_specs["alpha"].create(key, shape, self.dtype)
        axes = {i: input_shape[i] for i in range(1, len(input_shape))
                if not self.shared_axes or i not in self.shared_axes}
        self.input_spec = InputSpec(ndim=len(input_shape), axes=axes)
        return {"params": {"alpha": alpha}, "state": {}}

    @autocast
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        x = jnp.asarray(inputs)
        alpha = variables["params"]["alpha"]
        return jax.nn.relu(x) - alpha * jax.nn.relu(-x), variables["state"]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            **options_config(self, "alpha"),
            "shared_axes": self.shared_axes,
        })
        return config


class ELU(_Elementwise):
    """`x` for x > 0, `alpha * (exp(x) - 1)` otherwise."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        if alpha is None:
            raise ValueError(f"ELU {self.name}: expected a number for `alpha`. Received: None")
        self.alpha = float(alpha)

    def forward(self, x):
        return jax.nn.elu(x, alpha=self.alpha)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class ThresholdedReLU(_Elementwise):
    """`x` where x > theta, 0 elsewhere."""

    def __init__(self, theta=1.0, **kwargs):
        theta = arguments.number(theta, "theta", arguments.owner_of(self), minimum=0)
        super().__init__(**kwargs)
        self.theta = theta

    def forward(self, x):
        return jnp.where(x > self.theta, x, jnp.zeros_like(x))

    def get_config(self):
        config = super().get_config()
        config["theta"] = self.theta
        return config


def large_negative(dtype):
    """A logit that softmax turns into 0, representable in `dtype`."""
    return -3e4 if jnp.dtype(dtype) == jnp.float16 else -1e9


def masked_softmax(x, mask=None, axis=-1):
    """Softmax over `axis` (an int or a tuple); positions where the broadcastable boolean
    `mask` is False get probability 0."""
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    dtype, logits = x.dtype, x
    x = compute_in_float32(x)
    if mask is None:
        out = jax.nn.softmax(x, axis=axis).astype(dtype)
        # (see activations.softmax: Keras 2.3's losses found 2-D softmaxes only)
        return softmax_logits.record(out, logits, axis) if x.ndim == 2 else out
    mask = jnp.asarray(mask)
    if mask.dtype != jnp.bool_:
        mask = mask > 0.5
    x = jnp.where(mask, x, large_negative(x.dtype))
    return jnp.where(mask, jax.nn.softmax(x, axis=axis), jnp.zeros_like(x)).astype(dtype)


class Softmax(Layer):
    """Softmax over `axis`; a `mask` argument (True = keep, broadcastable to the inputs)
    zeroes the masked positions. A mask of shape `inputs.shape[:-1]` (a timestep mask
    propagated from an earlier layer) masks whole timesteps."""

    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)

    @autocast
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        x = jnp.asarray(inputs)
        if mask is not None and np.ndim(mask) > x.ndim:
            raise ValueError(
                f"Softmax {self.name}: the mask must be broadcastable to the inputs. "
                f"Received: inputs.shape={x.shape}, mask.shape={np.shape(mask)}")
        if mask is not None and np.ndim(mask) == x.ndim - 1 and \
                tuple(np.shape(mask)) == x.shape[:-1]:
            mask = jnp.expand_dims(mask, -1)  # a per-timestep mask from upstream layers
        return masked_softmax(x, mask, self.axis), variables["state"]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config
