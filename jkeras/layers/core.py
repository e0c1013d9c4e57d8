"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Permute, RepeatVector,
Masking, ActivityRegularization, and the ops that arithmetic on symbolic tensors creates.
`Lambda` lives in layers/lambda_layer.py and is importable from here, as in Keras 2."""
import jax
import jax.numpy as jnp
import numpy as np

from jkeras import activations, regularizers
from jkeras.engine.base_layer import Layer
from jkeras.engine.input_spec import InputSpec
from jkeras.engine.weight_spec import declare_weight, options_config, weight_options
from jkeras.layers import arguments
from jkeras.layers.arguments import require_key
from jkeras.layers.autocast import autocast
from jkeras.layers.lambda_layer import Lambda, LambdaUnsafeError

__all__ = ["Dense", "Activation", "Dropout", "Flatten", "Reshape", "Permute", "RepeatVector",
           "Masking", "ActivityRegularization", "Lambda", "LambdaUnsafeError", "TensorOp",
           "SliceOp"]


@weight_options(kernel="kernel", bias="bias")
class Dense(Layer):
    """`activation(inputs @ kernel + bias)` on the last axis."""

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        owner = arguments.owner_of(self)
        units = arguments.positive_int(units, "units", owner)
        activation = arguments.activation(activation, owner)
        declare_weight(self, "kernel", kernel_initializer, kernel_regularizer,
                       kernel_constraint)
        declare_weight(self, "bias", bias_initializer, bias_regularizer, bias_constraint)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = units
        self.activation = activation
        self.use_bias = bool(use_bias)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def init(self, key, input_shape):
        last = input_shape[-1]
        if last is None:
            raise ValueError(
                f'The last dimension of the inputs to Dense layer "{self.name}" should be '
                f"defined. Found None. Full input shape received: {tuple(input_shape)}")
        k_kernel, k_bias = jax.random.split(key)
        specs = self._weight_specs
        params = {"kernel": specs["kernel"].create(k_kernel, (last, self.units), self.dtype)}
        if self.use_bias:
            params["bias"] = specs["bias"].create(k_bias, (self.units,), self.dtype)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: last})
        return {"params": params, "state": {}}

    @autocast
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        params = variables["params"]
        outputs = jnp.matmul(inputs, params["kernel"])
        if self.use_bias:
            outputs = outputs + params["bias"]
        return self.activation(outputs), variables["state"]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **options_config(self, "kernel", "bias", activity_regularizer=True),
        })
        return config


class _Stateless(Layer):
    """A layer without weights whose output shape follows from `apply`."""

    @autocast
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        return self.forward(inputs), variables["state"]

    def forward(self, inputs):
        raise NotImplementedError


class Activation(_Stateless):
    def __init__(self, activation, **kwargs):
        activation = arguments.activation(activation, arguments.owner_of(self))
        super().__init__(**kwargs)
        self.activation = activation
        self.supports_masking = True

    def forward(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class Dropout(Layer):
    """Zeroes a `rate` fraction of inputs (scaling the rest by 1/(1-rate)), only in training."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        owner = arguments.owner_of(self)
        rate = arguments.rate(rate, "rate", owner, upper_inclusive=True)
        if noise_shape is not None:
            noise_shape = arguments.shape_tuple(noise_shape, "noise_shape", owner,
                                               allow_none=True)
        super().__init__(**kwargs)
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed
        self.supports_masking = True

    def _noise_shape(self, inputs):
        if self.noise_shape is None:
            return inputs.shape
        return tuple(inputs.shape[i] if d is None else d
                     for i, d in enumerate(self.noise_shape))

    @autocast
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        if not training or self.rate == 0:
            return inputs, variables["state"]
        if self.rate == 1:
            return jnp.zeros_like(inputs), variables["state"]
        keep = jax.random.bernoulli(require_key(self, key), 1.0 - self.rate, self._noise_shape(inputs))
        outputs = jnp.where(keep, inputs / (1.0 - self.rate), jnp.zeros_like(inputs))
        return outputs, variables["state"]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "noise_shape": list(self.noise_shape)
                       if self.noise_shape else None, "seed": self.seed})
        return config


class Flatten(_Stateless):
    """Flattens all but the batch axis; `channels_first` inputs are flattened as if
    they were channels_last, as Keras does, so weights port between formats."""

    def __init__(self, data_format=None, **kwargs):
        data_format = arguments.data_format(data_format, arguments.owner_of(self))
        super().__init__(**kwargs)
        self.data_format = data_format
        self.input_spec = InputSpec(min_ndim=1)

    def forward(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = jnp.moveaxis(inputs, 1, -1)
        return jnp.reshape(inputs, (inputs.shape[0], -1))

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else int(np.prod(rest)) if rest else 1
        return (input_shape[0], size)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(_Stateless):
    def __init__(self, target_shape, **kwargs):
        owner = arguments.owner_of(self)
        target_shape = arguments.shape_tuple(target_shape, "target_shape", owner,
                                             allow_unknown=-1)
        if sum(d == -1 for d in target_shape) > 1:
            raise ValueError(
                f"{owner}: there must be at most one unknown dimension (-1) in "
                f"`target_shape`. Received: target_shape={target_shape}")
        super().__init__(**kwargs)
        self.target_shape = target_shape

    def forward(self, inputs):
        return jnp.reshape(inputs, (inputs.shape[0],) + self.target_shape)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if -1 not in self.target_shape:
            if None not in rest and int(np.prod(rest)) != int(np.prod(self.target_shape)):
                raise ValueError(
                    f'Layer "{self.name}": total size of new array must be unchanged, '
                    f"input_shape = {tuple(rest)}, output_shape = {self.target_shape}")
            return (input_shape[0],) + self.target_shape
        if None in rest:
            return (input_shape[0],) + tuple(None if d == -1 else d for d in self.target_shape)
        known = int(np.prod([d for d in self.target_shape if d != -1]))
        total = int(np.prod(rest))
        if known == 0 or total % known:
            raise ValueError(
                f'Layer "{self.name}": total size of new array must be unchanged, '
                f"input_shape = {tuple(rest)}, output_shape = {self.target_shape}")
        return (input_shape[0],) + tuple(total // known if d == -1 else d
                                         for d in self.target_shape)

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


class Permute(_Stateless):
    """Permutes the non-batch axes; `dims` is 1-indexed as in Keras."""

    def __init__(self, dims, **kwargs):
        owner = arguments.owner_of(self)
        dims = arguments.shape_tuple(dims, "dims", owner)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                f"{owner}: invalid permutation `dims`. The set of indices in `dims` must be "
                f"consecutive and start from 1. Received: dims={dims}")
        super().__init__(**kwargs)
        self.dims = dims
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def forward(self, inputs):
        return jnp.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        config = super().get_config()
        config["dims"] = list(self.dims)
        return config


class RepeatVector(_Stateless):
    def __init__(self, n, **kwargs):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"{arguments.owner_of(self)}: expected an integer value for `n`. "
                            f"Received: n={n!r}")
        n = arguments.positive_int(n, "n", arguments.owner_of(self))
        super().__init__(**kwargs)
        self.n = n
        self.input_spec = InputSpec(ndim=2)

    def forward(self, inputs):
        return jnp.repeat(inputs[:, None, :], self.n, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


class Masking(Layer):
    """Masks timesteps whose features all equal `mask_value`, and zeroes them."""

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return jnp.any(inputs != self.mask_value, axis=-1)

    @autocast
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        keep = jnp.any(inputs != self.mask_value, axis=-1, keepdims=True)
        return inputs * keep.astype(inputs.dtype), variables["state"]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config


class ActivityRegularization(_Stateless):
    """Identity that adds an L1/L2 penalty on its outputs to the model's loss."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        owner = arguments.owner_of(self)
        l1 = arguments.number(l1, "l1", owner, minimum=0)
        l2 = arguments.number(l2, "l2", owner, minimum=0)
        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = float(l1), float(l2)
        self.supports_masking = True

    def forward(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        config.update({"l1": self.l1, "l2": self.l2})
        return config


# The ops that arithmetic on symbolic tensors records (layers/tensor_ops.py), importable
# from here as in earlier versions.
from jkeras.layers.tensor_ops import FunctionOp, SliceOp, TensorOp  # noqa: E402,F401
