"""When attention layers use `jax.nn.dot_product_attention`, and with which implementation.

The fused kernel computes `softmax(q k^T * scale + bias, masked) v` without the layer
materializing the attention matrix: cuDNN flash attention on NVIDIA GPUs that support it
(compute capability 8.0+, bfloat16/float16 inputs, head dim a multiple of 8 up to 128, or
256 from Hopper on), XLA's version elsewhere. A layer's `flash_attention` argument says
whether it may use it: None (automatic, following `jkeras.config`'s switch), True
(required: an error says why it cannot be used) or False (never).
"""
import inspect

import jax
import jax.numpy as jnp

from jkeras import _config

__all__ = ["resolve_flash_attention", "cudnn_unsupported_reason", "fused_implementation",
           "dot_product_attention"]


def _bias_shape(query, key):
    """The `(B, 1, T, S)` shape of a bias (or mask) for `(B, T, N, H)` query and key."""
    return (query.shape[0], 1, query.shape[1], key.shape[1])


def resolve_flash_attention(flash_attention):
    """The layer's setting combined with the global switch: None (auto), True or False."""
    if flash_attention is not None:
        return bool(flash_attention)
    return _config.is_flash_attention_enabled()


def cudnn_unsupported_reason(query, key, value, has_bias=False, training=False):
    """None when cuDNN flash attention can run on `(B, T, N, H)` query, key and value
    here, else a sentence saying why not."""
    if jax.default_backend() != "gpu":
        return f"the default JAX backend is {jax.default_backend()!r}, not a CUDA GPU"
    if query.dtype not in (jnp.bfloat16, jnp.float16):
        return f"the inputs are {jnp.dtype(query.dtype).name}, not bfloat16 or float16"
    if not query.dtype == key.dtype == value.dtype:
        return "query, key and value have different dtypes"
    try:
        from jax._src.cudnn import fused_attention_stablehlo as cudnn
        version = cudnn.check_cudnn_version()
        if not cudnn.check_compute_capability("8.0"):
            return "the GPU is older than Ampere (compute capability 8.0)"
        cudnn.check_is_flash_attention(
            query, key, value, cudnn.AttentionLayout.BTNH.value, version,
            has_bias=has_bias, is_training=training)
        bias = jax.ShapeDtypeStruct(_bias_shape(query, key), query.dtype) if has_bias \
            else None
        layout_args = inspect.signature(cudnn.check_layout).parameters
        cudnn.check_layout(query, key, value, bias, **{
            name: cudnn.AttentionLayout.BTNH if name == "layout" else None
            for name in layout_args if name not in ("query", "key", "value", "bias")})
    except Exception as e:  # noqa: BLE001 - any refusal from jax's checks is the reason
        return f"{type(e).__name__}: {e}"
    return None


def fused_implementation(owner, setting, query, key, value, has_bias, training):
    """'cudnn', 'xla' or None (use the exact path) for a layer whose resolved setting is
    `setting`; raises when `setting` is True and cuDNN flash attention cannot run."""
    if setting is False:
        return None
    reason = cudnn_unsupported_reason(query, key, value, has_bias, training)
    if reason is None:
        return "cudnn"
    if setting:
        raise ValueError(
            f"{owner}: flash_attention=True needs cuDNN flash attention, which cannot run "
            f"here: {reason}. It needs an NVIDIA GPU of compute capability 8.0 or more, "
            "bfloat16 or float16 inputs (a 'mixed_bfloat16' policy) and a head dim that is "
            "a multiple of 8 up to 128 (256 on Hopper). Pass flash_attention=None to use "
            "it only where it can run.")
    return "xla"


def dot_product_attention(query, key, value, *, implementation, scale, mask=None,
                          bias=None, is_causal=False):
    """`jax.nn.dot_product_attention` on `(B, T, N, H)` arrays; `mask` (True = attend)
    and `bias` broadcast to `(B, N, T, S)`. The result has the query's dtype."""
    if implementation == "cudnn":  # cuDNN wants the bias's full (T, S) extent
        shape = _bias_shape(query, key)
        if mask is not None:
            mask = jnp.broadcast_to(mask, (mask.shape[0], 1) + shape[2:])
        if bias is not None:
            bias = jnp.broadcast_to(bias, (bias.shape[0], 1) + shape[2:])
    return jax.nn.dot_product_attention(
        query, key, value, bias=bias, mask=mask, scale=scale, is_causal=is_causal,
        implementation=implementation).astype(query.dtype)
