"""Attention layers: MultiHeadAttention, dot-product Attention and AdditiveAttention."""
import math
import string

import jax
import jax.numpy as jnp
import numpy as np

from jkeras.engine.base_layer import Layer, standardize_nested_shape
from jkeras.layers import arguments
from jkeras.layers.arguments import require_key
from jkeras.engine.weight_spec import declare_weight, options_config, weight_options
from jkeras.layers.advanced_activations import large_negative
from jkeras.layers import fused_attention
from jkeras.layers.autocast import autocast, compute_in_float32

__all__ = ["causal_mask", "attention_equations", "MultiHeadAttention", "Attention",
           "AdditiveAttention"]


def _is_shape_list(shape):
    return isinstance(shape, (list, tuple)) and len(shape) > 0 and \
        isinstance(shape[0], (list, tuple))


def _shape_of(x):
    shape = getattr(x, "shape", None)
    return tuple(shape) if shape is not None else tuple(np.shape(x))


def causal_mask(query_length, value_length):
    """`(1, T, S)` boolean mask: query position i sees value positions j <= i."""
    rows = jnp.arange(query_length)[:, None]
    cols = jnp.arange(value_length)[None, :]
    return (rows >= cols)[None]


def _masked_offset(dtype):
    """What Attention subtracts from the scores of masked keys."""
    return 65504.0 if jnp.dtype(dtype) == jnp.float16 else 1.0e9


def _dropout(x, rate, key, layer):
    key = require_key(layer, key, "in training mode when dropout > 0")
    keep = jax.random.bernoulli(key, 1.0 - rate, x.shape)
    return jnp.where(keep, x / (1.0 - rate), jnp.zeros_like(x))


def attention_equations(rank, attention_axes):
    """Einsum equations for multi-head attention over projected tensors of `rank` axes,
    laid out `(batch, <other axes>, <attention axes>, heads, channels)`.

    Returns `(scores_equation, combine_equation, scores_rank)`: `scores_equation` takes
    (key, query) to scores `(<batch axes>, <query attention axes>, <key attention axes>)`
    where the batch axes include the heads; `combine_equation` takes (scores, value) back
    to the query layout.
    """
    letters = string.ascii_lowercase
    target = letters[:rank]
    batch_axes = [i for i in range(rank - 1) if i not in attention_axes]
    source = list(target)
    extra = iter(letters[rank:])
    for i in attention_axes:
        source[i] = next(extra)
    source = "".join(source)
    product = "".join([target[i] for i in batch_axes] + [target[i] for i in attention_axes]
                      + [source[i] for i in attention_axes])
    return (f"{source},{target}->{product}", f"{product},{source}->{target}", len(product))


@weight_options(kernel="kernel", bias="bias")
class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al., 2017) with Keras's weight layout.

    Called as `mha(query, value, key=None, attention_mask=None,
    return_attention_scores=False, training=None, use_causal_mask=False)`. The layer is
    built from the query, value and key shapes on its first call; `build_from_shape`
    takes the list `[query_shape, value_shape(, key_shape)]` (a single shape means
    self-attention). Weights are named `query/kernel`, `query/bias`, `key/...`,
    `value/...`, `attention_output/...` in Keras's order.

    In `apply` the query is `inputs`, the value comes as `value=` (or the next positional
    argument) and the key tensor as `key_tensor=` (`key=` is the PRNG key there); a
    node records them under those names (`call_kwarg_names` maps them to Keras's).
    The query's mask arrives as `mask`; `value_mask=` and `key_mask=` (or
    `key_tensor_mask=`) may be given too.
    A query row whose every position is masked attends uniformly (as Keras 2 does).
    """

    supports_masking = True
    # Names of `apply` keyword arguments as Keras's `call` spells them.
    call_kwarg_names = {"key_tensor": "key"}

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 seed=None, use_gate=False, sliding_window=None, flash_attention=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = f"MultiHeadAttention {self.name}"
        for name, value in (("num_heads", num_heads), ("key_dim", key_dim)):
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(
                    f"{owner}: expected a positive integer for `{name}`. "
                    f"Received: {name}={value!r}")
        if value_dim is not None and (not isinstance(value_dim, (int, np.integer))
                                      or value_dim <= 0):
            raise ValueError(
                f"{owner}: expected a positive integer or None for `value_dim`. "
                f"Received: value_dim={value_dim!r}")
        arguments.rate(dropout, "dropout", owner)
        if use_gate or sliding_window is not None:
            raise NotImplementedError(
                f"{owner}: `use_gate` and `sliding_window` are not supported. Received: "
                f"use_gate={use_gate}, sliding_window={sliding_window}")
        self._num_heads = int(num_heads)
        self._key_dim = int(key_dim)
        self._value_dim = int(value_dim) if value_dim else self._key_dim
        self._dropout = float(dropout)
        self._use_bias = bool(use_bias)
        if output_shape is not None and not isinstance(output_shape, (list, tuple)):
            output_shape = (output_shape,)
        self._output_shape = tuple(int(d) for d in output_shape) if output_shape else None
        if isinstance(attention_axes, (int, np.integer)):
            attention_axes = (int(attention_axes),)
        elif attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(
                f"{owner}: expected an int, list or tuple for `attention_axes`. "
                f"Received: attention_axes={attention_axes!r}")
        self._attention_axes = tuple(attention_axes) if attention_axes is not None else None
        # One spec for the four projections' kernels, one for their biases.
        declare_weight(self, "kernel", kernel_initializer, kernel_regularizer,
                       kernel_constraint)
        declare_weight(self, "bias", bias_initializer, bias_regularizer, bias_constraint)
        self.seed = seed
        if flash_attention and self._dropout > 0:
            raise ValueError(
                f"{owner}: flash attention does not support dropout. Set dropout=0.0 or "
                f"flash_attention=None. Received: flash_attention={flash_attention}, "
                f"dropout={dropout}")
        self._flash_attention = None if flash_attention is None else bool(flash_attention)

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)

    # ------------------------------------------------------------------ building
    def __call__(self, query, value=None, key=None, **kwargs):
        if value is None:
            raise ValueError(
                f"MultiHeadAttention {self.name} must be called with a `value` tensor: "
                "mha(query, value). Received: value=None")
        if not self.built:
            shapes = [_shape_of(query), _shape_of(value)]
            if key is not None:
                shapes.append(_shape_of(key))
            self._maybe_build_named(standardize_nested_shape(shapes))
        if key is not None:
            kwargs["key_tensor"] = key  # `key` is the PRNG key's name in apply
        return super().__call__(query, value=value, **kwargs)

    def _split_shapes(self, input_shape):
        shapes = list(input_shape) if _is_shape_list(input_shape) else [input_shape]
        query_shape = tuple(shapes[0])
        value_shape = tuple(shapes[1]) if len(shapes) > 1 else query_shape
        key_shape = tuple(shapes[2]) if len(shapes) > 2 else value_shape
        return query_shape, value_shape, key_shape

    def init(self, key, input_shape):
        owner = f"MultiHeadAttention {self.name}"
        query_shape, value_shape, key_shape = self._split_shapes(input_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(
                f"{owner}: all dimensions of `value` and `key`, except the last one, must "
                f"be equal. Received: value_shape={value_shape}, key_shape={key_shape}")
        for name, shape in (("query", query_shape), ("value", value_shape),
                            ("key", key_shape)):
            if shape[-1] is None:
                raise ValueError(
                    f"{owner}: the last axis of `{name}` must have a known size. "
                    f"Received: {name}_shape={shape}")
        heads, kdim, vdim = self._num_heads, self._key_dim, self._value_dim
        out = self._output_shape or (query_shape[-1],)
        shapes = [("query", (query_shape[-1], heads, kdim), (heads, kdim)),
                  ("key", (key_shape[-1], heads, kdim), (heads, kdim)),
                  ("value", (value_shape[-1], heads, vdim), (heads, vdim)),
                  ("attention_output", (heads, vdim) + tuple(out), tuple(out))]
        keys = jax.random.split(key, 2 * len(shapes))
        params = {}
        for i, (name, kernel_shape, bias_shape) in enumerate(shapes):
            params[f"{name}/kernel"] = self._weight_specs["kernel"].create(
                keys[2 * i], kernel_shape, self.dtype)
            if self._use_bias:
                params[f"{name}/bias"] = self._weight_specs["bias"].create(
                    keys[2 * i + 1], bias_shape, self.dtype)
        return {"params": params, "state": {}}

    def weight_spec(self, name):
        """`query/kernel`, `key/kernel`, ... all follow the `kernel` spec (biases: `bias`)."""
        return self._weight_specs.get(name.rsplit("/", 1)[-1])

    def _resolved_attention_axes(self, rank):
        if self._attention_axes is None:
            return tuple(range(1, rank - 2))
        return tuple(a if a >= 0 else (rank - 1) + a for a in self._attention_axes)

    # ------------------------------------------------------------------ forward
    def _project(self, params, name, x):
        y = jnp.tensordot(x, params[f"{name}/kernel"], axes=[[-1], [0]])
        if self._use_bias:
            y = y + params[f"{name}/bias"]
        return y

    def _projections(self, params, query, key_input, value, one_input):
        """The query, key and value projections. Self-attention (one tensor for all
        three) with kernels of one shape makes them in one matmul against the three
        kernels side by side: one larger matmul each way instead of three, and no sum
        of three input gradients (0.3 ms, 2%, of a small GPT's step on the H200)."""
        names = ("query", "key", "value")
        kernels = [params[f"{n}/kernel"] for n in names]
        if not (one_input and len({(k.shape, k.dtype) for k in kernels}) == 1):
            return tuple(self._project(params, n, x)
                         for n, x in zip(names, (query, key_input, value)))
        # kernels are (features, heads, size): side by side along the heads' axis
        y = jnp.tensordot(query, jnp.concatenate(kernels, axis=-2), axes=[[-1], [0]])
        if self._use_bias:
            y = y + jnp.concatenate([params[f"{n}/bias"] for n in names], axis=-2)
        return tuple(jnp.split(y, 3, axis=-2))

    def _attention_mask(self, query, value, query_mask, value_mask, key_mask,
                        attention_mask, use_causal_mask):
        auto = None

        def merge(a, b):
            return b if a is None else a & b
        if query_mask is not None:
            auto = merge(auto, jnp.expand_dims(jnp.asarray(query_mask, bool), -1))
        if value_mask is not None:
            auto = merge(auto, jnp.expand_dims(jnp.asarray(value_mask, bool), -2))
        if key_mask is not None:
            auto = merge(auto, jnp.expand_dims(jnp.asarray(key_mask, bool), -2))
        if use_causal_mask:
            auto = merge(auto, causal_mask(query.shape[1], value.shape[1]))
        if attention_mask is not None:
            attention_mask = jnp.asarray(attention_mask).astype(bool)
            return attention_mask if auto is None else attention_mask & auto
        return auto

    @autocast
    def apply(self, variables, inputs, value=None, key_tensor=None, *, training=False,
              key=None, mask=None, attention_mask=None, return_attention_scores=False,
              use_causal_mask=False, query_mask=None, value_mask=None, key_mask=None,
              key_tensor_mask=None):
        params = variables["params"]
        # self-attention: one tensor given for all three (told before any conversion)
        one_input = (value is None or value is inputs) and \
            (key_tensor is None or key_tensor is inputs)
        query = jnp.asarray(inputs)
        value = query if value is None or value is inputs else jnp.asarray(value)
        key_input = value if key_tensor is None else \
            query if key_tensor is inputs else jnp.asarray(key_tensor)
        if query_mask is None:
            query_mask = mask[0] if isinstance(mask, (list, tuple)) else mask
        key_mask = key_tensor_mask if key_mask is None else key_mask
        mask = self._attention_mask(query, value, query_mask, value_mask, key_mask,
                                    attention_mask, use_causal_mask)

        q, k, v = self._projections(params, query, key_input, value, one_input)
        axes = self._resolved_attention_axes(q.ndim)
        implementation = self._fused_implementation(
            q, k, v, axes, training, attention_mask is not None, return_attention_scores,
            has_padding=any(m is not None for m in (query_mask, value_mask, key_mask)))
        if implementation is not None:
            padding = self._attention_mask(query, value, query_mask, value_mask, key_mask,
                                           None, False)
            attended = fused_attention.dot_product_attention(
                q, k, v, implementation=implementation,
                scale=1.0 / math.sqrt(float(self._key_dim)),
                mask=None if padding is None else padding[:, None],
                is_causal=bool(use_causal_mask))
            return self._output_projection(params, attended), variables["state"]
        scores_eq, combine_eq, scores_rank = attention_equations(q.ndim, axes)
        q = q * jnp.asarray(1.0 / math.sqrt(float(self._key_dim)), q.dtype)
        scores = jnp.einsum(scores_eq, k, q)
        norm_axes = tuple(range(scores_rank - len(axes), scores_rank))
        if mask is not None:
            for _ in range(scores.ndim - mask.ndim):
                mask = jnp.expand_dims(mask, axis=-2 * len(axes) - 1)
            scores = jnp.where(mask, scores, large_negative(scores.dtype))
        probs = jax.nn.softmax(scores.astype(jnp.promote_types(scores.dtype, jnp.float32)),
                               axis=norm_axes).astype(scores.dtype)
        used = probs
        if training and self._dropout > 0:
            used = _dropout(probs, self._dropout, key, self)
        attended = jnp.einsum(combine_eq, used, v)
        outputs = self._output_projection(params, attended)
        if return_attention_scores:
            return (outputs, probs), variables["state"]
        return outputs, variables["state"]

    def _output_projection(self, params, attended):
        outputs = jnp.tensordot(attended, params["attention_output/kernel"],
                                axes=[[-2, -1], [0, 1]])
        if self._use_bias:
            outputs = outputs + params["attention_output/bias"]
        return outputs

    def _fused_implementation(self, q, k, v, axes, training, has_attention_mask,
                              return_attention_scores, has_padding):
        """'cudnn' or 'xla' when this call may use the fused kernel, else None."""
        setting = fused_attention.resolve_flash_attention(self._flash_attention)
        if setting is False:
            return None
        blockers = []
        if return_attention_scores:
            blockers.append("return_attention_scores=True needs the attention matrix")
        if has_attention_mask:
            blockers.append("an explicit attention_mask (only causal and padding masks "
                            "are fused)")
        if q.ndim != 4 or tuple(axes) != (1,):
            blockers.append("attention over more than one axis (attention_axes="
                            f"{self._attention_axes})")
        if self._key_dim != self._value_dim:
            blockers.append(f"key_dim={self._key_dim} differs from "
                            f"value_dim={self._value_dim}")
        if training and self._dropout > 0:
            blockers.append(f"dropout={self._dropout} in training")
        owner = f'MultiHeadAttention "{self.name}"'
        if blockers:
            if setting:
                raise ValueError(f"{owner}: flash_attention=True cannot be used with "
                                 + "; ".join(blockers) + ".")
            return None
        return fused_attention.fused_implementation(owner, setting, q, k, v, has_padding,
                                                    training)

    @property
    def flash_attention(self):
        """The `flash_attention` argument: None (automatic), True or False."""
        return self._flash_attention

    # ------------------------------------------------------------------ config
    def get_config(self):
        config = super().get_config()
        query_shape = value_shape = key_shape = None
        if self._build_input_shape is not None:
            query_shape, value_shape, key_shape = (
                list(s) for s in self._split_shapes(self._build_input_shape))
        config.update({
            "num_heads": self._num_heads,
            "key_dim": self._key_dim,
            "value_dim": self._value_dim,
            "dropout": self._dropout,
            "use_bias": self._use_bias,
            "output_shape": list(self._output_shape) if self._output_shape else None,
            "attention_axes": list(self._attention_axes) if self._attention_axes else None,
            **options_config(self, "kernel", "bias", activity_regularizer=True),
            "query_shape": query_shape,
            "key_shape": key_shape,
            "value_shape": value_shape,
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        shapes = [config.pop(name, None) for name in ("query_shape", "value_shape",
                                                      "key_shape")]
        layer = super().from_config(config)
        if shapes[0] is not None and shapes[1] is not None:
            layer.build_from_shape([s for s in shapes if s is not None])
        return layer


def _check_list(layer, inputs, mask):
    name = type(layer).__name__
    if not isinstance(inputs, (list, tuple)) or not 2 <= len(inputs) <= 3:
        raise ValueError(
            f"{name} layer {layer.name} must be called on a list of inputs, namely "
            f"[query, value] or [query, value, key]. Received: inputs={inputs!r:.200}")
    if mask is not None and (not isinstance(mask, (list, tuple)) or
                             not 2 <= len(mask) <= 3):
        raise ValueError(
            f"{name} layer {layer.name} expects its mask as a list [query_mask, "
            f"value_mask(, key_mask)]. Received: mask={mask!r:.200}")


class Attention(Layer):
    """Dot-product (Luong-style) attention over `[query, value]` or `[query, value, key]`:
    `softmax(query @ key^T) @ value`, with `score_mode='concat'` for
    `sum(tanh(query + key))` scores. Masks come as `[query_mask, value_mask]`."""

    _dot_product_scores = True  # scores are query . key (AdditiveAttention's are not)

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None,
                 causal=False, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(
                f"{type(self).__name__} {self.name}: expected score_mode to be one of "
                f"'dot', 'concat'. Received: score_mode={score_mode!r}")
        arguments.rate(dropout, "dropout", f"{type(self).__name__} {self.name}")
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = float(dropout)
        self.seed = seed
        self.causal = bool(causal)
        self.supports_masking = True
        declare_weight(self, "scale", "ones", options=())
        declare_weight(self, "concat_score_weight", "ones", options=())

    def _check_shapes(self, input_shape):
        if not _is_shape_list(input_shape) or not 2 <= len(input_shape) <= 3:
            raise ValueError(
                f"{type(self).__name__} layer {self.name} must be called on a list of "
                f"inputs, namely [query, value] or [query, value, key]. Received input "
                f"shape: {input_shape}")

    def init(self, key, input_shape):
        self._check_shapes(input_shape)
        params = {}
        if self.use_scale:
            params["scale"] = self._weight_specs["scale"].create(None, (), self.dtype)
        if self.score_mode == "concat":
            params["concat_score_weight"] = self._weight_specs["concat_score_weight"].create(
                None, (), self.dtype)
        return {"params": params, "state": {}}

    def _scores(self, params, query, key):
        if self.score_mode == "dot":
            scores = jnp.matmul(query, jnp.swapaxes(key, -1, -2))
            if self.use_scale:
                scores = scores * params["scale"]
            return scores
        summed = jnp.expand_dims(query, -2) + jnp.expand_dims(key, -3)
        if self.use_scale:
            summed = params["scale"] * summed
        return params["concat_score_weight"] * jnp.sum(jnp.tanh(summed), axis=-1)

    @autocast
    def apply(self, variables, inputs, *, training=False, key=None, mask=None,
              return_attention_scores=False, use_causal_mask=False):
        _check_list(self, inputs, mask)
        query, value = jnp.asarray(inputs[0]), jnp.asarray(inputs[1])
        key_input = jnp.asarray(inputs[2]) if len(inputs) > 2 else value
        query_mask = mask[0] if mask is not None else None
        value_mask = mask[1] if mask is not None else None
        causal = bool(use_causal_mask or self.causal)
        outputs = self._fused(variables["params"], query, value, key_input, value_mask,
                              causal, training, return_attention_scores)
        if outputs is None:
            scores = self._scores(variables["params"], query, key_input)
            keep = None
            if value_mask is not None:
                keep = jnp.expand_dims(jnp.asarray(value_mask, bool), -2)
            if causal:
                causal_keep = causal_mask(scores.shape[-2], scores.shape[-1])
                keep = causal_keep if keep is None else keep & causal_keep
            if keep is not None:
                scores = jnp.where(keep, scores, scores - _masked_offset(scores.dtype))
            weights = jax.nn.softmax(compute_in_float32(scores), axis=-1).astype(scores.dtype)
            used = weights
            if training and self.dropout > 0:
                used = _dropout(weights, self.dropout, key, self)
            outputs = jnp.matmul(used, value)
        if query_mask is not None:
            outputs = jnp.where(jnp.expand_dims(jnp.asarray(query_mask, bool), -1), outputs,
                                jnp.zeros_like(outputs))
        if return_attention_scores:
            return (outputs, weights), variables["state"]
        return outputs, variables["state"]

    def _fused(self, params, query, value, key_input, value_mask, causal, training,
               return_attention_scores):
        """The outputs from `jax.nn.dot_product_attention`, or None where it does not
        apply (concat scores, returned scores, dropout in training, `flash_attention`
        disabled, value features unlike the key's)."""
        if (not self._dot_product_scores or self.score_mode != "dot"
                or return_attention_scores
                or (training and self.dropout > 0) or query.ndim != 3
                or not query.shape[-1] == key_input.shape[-1] == value.shape[-1]
                or fused_attention.resolve_flash_attention(None) is False):
            return None
        if self.use_scale:
            query = query * params["scale"]
        q, k, v = (x[:, :, None, :] for x in (query, key_input, value))
        bias = None
        if value_mask is not None:  # the exact path's `scores - offset`, as a bias
            keep = jnp.asarray(value_mask, bool)[:, None, None, :]
            offset = _masked_offset(query.dtype)
            bias = jnp.where(keep, 0.0, -offset).astype(query.dtype)
        implementation = fused_attention.fused_implementation(
            f'{type(self).__name__} "{self.name}"', None, q, k, v, bias is not None,
            training)
        return fused_attention.dot_product_attention(
            q, k, v, implementation=implementation, scale=1.0, bias=bias,
            is_causal=causal)[:, :, 0, :]

    def compute_mask(self, inputs, mask=None):
        if mask is None or mask[0] is None:
            return None
        return jnp.asarray(mask[0])

    def get_config(self):
        config = super().get_config()
        config.update({"use_scale": self.use_scale, "score_mode": self.score_mode,
                       "dropout": self.dropout})
        if self.seed is not None:
            config["seed"] = self.seed
        return config


class AdditiveAttention(Attention):
    """Additive (Bahdanau-style) attention: scores `sum(scale * tanh(query + key))`, with
    a learned per-feature `scale` when `use_scale=True`. Additive scores have no fused
    kernel: this layer always computes the attention matrix."""

    _dot_product_scores = False

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        kwargs.pop("score_mode", None)
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)
        declare_weight(self, "scale", "glorot_uniform", options=())

    def init(self, key, input_shape):
        self._check_shapes(input_shape)
        params = {}
        if self.use_scale:
            dim = input_shape[0][-1]
            params["scale"] = self._weight_specs["scale"].create(key, (dim,), self.dtype)
        return {"params": params, "state": {}}

    def _scores(self, params, query, key):
        summed = jnp.tanh(jnp.expand_dims(query, -2) + jnp.expand_dims(key, -3))
        if self.use_scale:
            summed = params["scale"] * summed
        return jnp.sum(summed, axis=-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
