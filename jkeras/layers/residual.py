"""Layers that act on a residual branch, as the Keras applications use them: LayerScale
(ConvNeXt's learned per-channel scale), StochasticDepth (drops the whole branch of a
sample in training) and CustomScaleLayer (Inception-ResNet's `shortcut + scale * branch`).
"""
import jax
import jax.numpy as jnp

from jkeras.engine.base_layer import Layer
from jkeras.layers import arguments
from jkeras.layers.arguments import require_key

__all__ = ["LayerScale", "StochasticDepth", "CustomScaleLayer"]


class LayerScale(Layer):
    """`inputs * gamma`, with `gamma` a trainable vector of `projection_dim` values that
    starts at `init_values` (the weight is named `variable`, as Keras 3 names it)."""

    def __init__(self, init_values, projection_dim, **kwargs):
        owner = arguments.owner_of(self)
        init_values = arguments.number(init_values, "init_values", owner)
        projection_dim = arguments.positive_int(projection_dim, "projection_dim", owner)
        super().__init__(**kwargs)
        self.init_values, self.projection_dim = init_values, projection_dim

    def init(self, key, input_shape):
        if input_shape[-1] is not None and input_shape[-1] != self.projection_dim:
            raise ValueError(
                f"LayerScale {self.name}: the last axis of the inputs must have "
                f"projection_dim={self.projection_dim} values. Received: input_shape="
                f"{tuple(input_shape)}")
        gamma = jnp.full((self.projection_dim,), self.init_values, self.dtype)
        return {"params": {"variable": gamma}, "state": {}}

    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        return inputs * variables["params"]["variable"].astype(inputs.dtype), \
            variables["state"]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"init_values": self.init_values,
                       "projection_dim": self.projection_dim})
        return config


class StochasticDepth(Layer):
    """In training, zeroes each sample's branch with probability `drop_path_rate` and
    scales the kept ones by `1 / (1 - drop_path_rate)`; the identity otherwise."""

    def __init__(self, drop_path_rate, **kwargs):
        drop_path_rate = arguments.rate(drop_path_rate, "drop_path_rate",
                                        arguments.owner_of(self))
        super().__init__(**kwargs)
        self.drop_path_rate = drop_path_rate

    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        if not training or self.drop_path_rate == 0:
            return inputs, variables["state"]
        require_key(self, key)
        keep_prob = 1.0 - self.drop_path_rate
        shape = (inputs.shape[0],) + (1,) * (inputs.ndim - 1)
        keep = jax.random.bernoulli(key, keep_prob, shape)
        return jnp.where(keep, inputs / keep_prob, jnp.zeros_like(inputs)), \
            variables["state"]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["drop_path_rate"] = self.drop_path_rate
        return config


class CustomScaleLayer(Layer):
    """`inputs[0] + inputs[1] * scale`: a shortcut plus a scaled residual branch."""

    def __init__(self, scale, **kwargs):
        scale = arguments.number(scale, "scale", arguments.owner_of(self))
        super().__init__(**kwargs)
        self.scale = scale

    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(f"CustomScaleLayer {self.name} expects a list of two tensors "
                             "(shortcut, branch).")
        shortcut, branch = inputs
        return shortcut + branch * self.scale, variables["state"]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        config = super().get_config()
        config["scale"] = self.scale
        return config
