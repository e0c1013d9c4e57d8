"""The Embedding layer: integer indices to dense vectors looked up in a trainable table."""
import jax.numpy as jnp

from jkeras import deterministic_ops
from jkeras.engine.base_layer import Layer
from jkeras.layers import arguments
from jkeras.engine.weight_spec import declare_weight, options_config, weight_options

__all__ = ["Embedding"]


@weight_options(embeddings="embeddings")
class Embedding(Layer):
    """Maps each index in `[0, input_dim)` to row `index` of the `embeddings` table
    (shape `(input_dim, output_dim)`).

    With `mask_zero=True` index 0 is padding: the output mask is `inputs != 0`.
    Like Keras 2, a first layer without `input_shape` declares inputs of shape
    `(None, input_length)` (`(None, None)` when `input_length` is None too).
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, activity_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, input_length=None,
                 sparse=False, **kwargs):
        if "input_shape" not in kwargs and "batch_input_shape" not in kwargs \
                and "batch_shape" not in kwargs:
            if input_length is None:
                kwargs["input_shape"] = (None,)
            elif isinstance(input_length, (list, tuple)):
                kwargs["input_shape"] = tuple(input_length)
            else:
                kwargs["input_shape"] = (input_length,)
        if "batch_shape" in kwargs:  # Keras 3 spelling
            kwargs["batch_input_shape"] = kwargs.pop("batch_shape")
        owner = arguments.owner_of(self)
        input_dim = arguments.positive_int(input_dim, "input_dim", owner)
        output_dim = arguments.positive_int(output_dim, "output_dim", owner)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.input_dim, self.output_dim = input_dim, output_dim
        declare_weight(self, "embeddings", embeddings_initializer, embeddings_regularizer,
                       embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.input_length = (list(input_length) if isinstance(input_length, tuple)
                             else input_length)
        self.sparse = bool(sparse)

    def init(self, key, input_shape):
        table = self._weight_specs["embeddings"].create(key, (self.input_dim, self.output_dim),
                                                        self.dtype)
        return {"params": {"embeddings": table}, "state": {}}

    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        indices = jnp.asarray(inputs)
        if not jnp.issubdtype(indices.dtype, jnp.integer):
            indices = indices.astype(jnp.int32)
        outputs = deterministic_ops.take_rows(variables["params"]["embeddings"], indices)
        return outputs.astype(self.compute_dtype), variables["state"]

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return jnp.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.input_length is None:
            return input_shape + (self.output_dim,)
        lengths = (list(self.input_length) if isinstance(self.input_length, (list, tuple))
                   else [self.input_length])
        if len(lengths) != len(input_shape) - 1:
            raise ValueError(
                f"Embedding {self.name}: input_length={self.input_length} does not match "
                f"the input shape {input_shape}.")
        for given, actual in zip(lengths, input_shape[1:]):
            if given is not None and actual is not None and given != actual:
                raise ValueError(
                    f"Embedding {self.name}: input_length is {self.input_length}, but "
                    f"received an input with shape {input_shape}.")
        inner = tuple(a if a is not None else g for g, a in zip(lengths, input_shape[1:]))
        return (input_shape[0],) + inner + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            **options_config(self, "embeddings", activity_regularizer=True),
            "mask_zero": self.mask_zero,
            "input_length": self.input_length,
        })
        return config
