"""Fused attention (jax.nn.dot_product_attention) in MultiHeadAttention and Attention: the
same numbers as the exact path and as Keras 3, and the `flash_attention` switches."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jkeras
from jkeras.layers import Attention, MultiHeadAttention, fused_attention

TOL = dict(atol=2e-5, rtol=2e-5)


@pytest.fixture
def fused_calls(monkeypatch):
    """The implementations the fused kernel was called with, in order."""
    calls = []
    original = fused_attention.dot_product_attention

    def spy(*args, **kwargs):
        calls.append(kwargs["implementation"])
        return original(*args, **kwargs)
    monkeypatch.setattr(fused_attention, "dot_product_attention", spy)
    return calls


def _masks(rng, batch, length):
    mask = np.ones((batch, length), bool)
    mask[0, length - 2:] = False  # right padding on the first sample
    mask[1, 0] = False            # and a hole on the second
    return mask


def _mha_pair(x, **kwargs):
    exact = MultiHeadAttention(num_heads=2, key_dim=4, flash_attention=False, **kwargs)
    fused = MultiHeadAttention(num_heads=2, key_dim=4, **kwargs)
    exact(x, x)
    fused(x, x)
    fused.set_weights(exact.get_weights())
    return exact, fused


@pytest.mark.parametrize("case", ["none", "causal", "padding", "padding+causal"])
def test_mha_fused_equals_exact(rng, fused_calls, case):
    x = rng.normal(size=(2, 6, 8)).astype("float32")
    exact, fused = _mha_pair(x)
    kwargs = {}
    if "causal" in case:
        kwargs["use_causal_mask"] = True
    if "padding" in case:
        mask = _masks(rng, 2, 6)
        kwargs.update(query_mask=mask, value_mask=mask)
    fused_calls.clear()
    want = exact(x, x, **kwargs)
    assert fused_calls == []
    got = fused(x, x, **kwargs)
    assert fused_calls == ["xla"]
    np.testing.assert_allclose(got, want, **TOL)


@pytest.mark.slow
def test_mha_fused_gradients_equal_exact(rng):
    x = jnp.asarray(rng.normal(size=(2, 6, 8)), jnp.float32)
    exact, fused = _mha_pair(x)
    mask = jnp.asarray(_masks(rng, 2, 6))

    def loss(layer, params, inputs):
        out, _ = layer.apply({"params": params, "state": {}}, inputs, value=inputs,
                             use_causal_mask=True, value_mask=mask)
        return jnp.sum(out ** 2)
    params = {w.name.split("/", 1)[1][:-2]: jnp.asarray(w.numpy()) for w in exact.weights}
    want = jax.grad(loss, argnums=(1, 2))(exact, params, x)
    got = jax.grad(loss, argnums=(1, 2))(fused, params, x)
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
        np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)


@pytest.mark.slow
def test_mha_fused_in_mixed_bfloat16_within_bf16_tolerance(rng, fused_calls):
    x = rng.normal(size=(2, 8, 16)).astype("float32")
    exact = MultiHeadAttention(4, 8, flash_attention=False, dtype="mixed_bfloat16")
    fused = MultiHeadAttention(4, 8, dtype="mixed_bfloat16")
    exact(x, x)
    fused(x, x)
    fused.set_weights(exact.get_weights())
    fused_calls.clear()
    got = fused(x, x, use_causal_mask=True)
    assert got.dtype == jnp.bfloat16 and fused_calls == ["xla"]
    np.testing.assert_allclose(np.asarray(got, np.float32),
                               np.asarray(exact(x, x, use_causal_mask=True), np.float32),
                               atol=3e-2, rtol=3e-2)


@pytest.mark.slow
def test_mha_fused_matches_keras(keras_ref, rng, fused_calls):
    q = rng.normal(size=(2, 5, 6)).astype("float32")
    v = rng.normal(size=(2, 7, 6)).astype("float32")
    theirs = keras_ref.layers.MultiHeadAttention(num_heads=3, key_dim=4)
    theirs.build(q.shape, v.shape)
    ours = MultiHeadAttention(num_heads=3, key_dim=4)
    ours(q, v)
    ours.set_weights(theirs.get_weights())
    fused_calls.clear()
    np.testing.assert_allclose(ours(q, v, use_causal_mask=True),
                               theirs(q, v, use_causal_mask=True), **TOL)
    value_mask = _masks(rng, 2, 7)
    want = theirs(q, v, value_mask=keras_ref.ops.convert_to_tensor(value_mask))
    np.testing.assert_allclose(ours(q, v, value_mask=value_mask), want, **TOL)
    assert fused_calls == ["xla", "xla"]


@pytest.mark.slow
def test_exact_path_for_scores_explicit_masks_and_dropout(rng, fused_calls):
    x = rng.normal(size=(2, 6, 8)).astype("float32")
    layer = MultiHeadAttention(2, 4, dropout=0.5)
    _, scores = layer(x, x, return_attention_scores=True)
    assert scores.shape == (2, 2, 6, 6)
    layer(x, x, attention_mask=np.tril(np.ones((2, 6, 6), bool)))
    layer(x, x, training=True)
    assert fused_calls == []
    layer(x, x)  # dropout only acts in training: inference is fused
    assert fused_calls == ["xla"]
    MultiHeadAttention(2, 4, value_dim=3)(x, x)  # value heads unlike key heads
    MultiHeadAttention(2, 4, attention_axes=(1, 2))(x[:, :, None], x[:, :, None])
    assert fused_calls == ["xla"]


def test_global_switch(rng, fused_calls):
    x = rng.normal(size=(2, 6, 8)).astype("float32")
    layer = MultiHeadAttention(2, 4)
    assert jkeras.config.is_flash_attention_enabled() is None
    try:
        jkeras.config.disable_flash_attention()
        assert jkeras.config.is_flash_attention_enabled() is False
        layer(x, x)
        Attention()([x, x])
        assert fused_calls == []
    finally:
        jkeras.config.enable_flash_attention()
    layer(x, x)
    assert fused_calls == ["xla"]


def test_flash_attention_true_is_required_or_a_clear_error(rng):
    x = rng.normal(size=(2, 6, 8)).astype("float32")
    # On this CPU cuDNN flash attention cannot run: the error says so and how to fall back.
    with pytest.raises(ValueError, match=r"flash_attention=True needs cuDNN.*'cpu'.*"
                                         r"flash_attention=None"):
        MultiHeadAttention(2, 4, flash_attention=True)(x, x)
    with pytest.raises(ValueError, match="return_attention_scores=True"):
        MultiHeadAttention(2, 4, flash_attention=True)(x, x, return_attention_scores=True)
    with pytest.raises(ValueError, match="does not support dropout.*dropout=0.1"):
        MultiHeadAttention(2, 4, dropout=0.1, flash_attention=True)
    assert MultiHeadAttention(2, 4, flash_attention=False).flash_attention is False
    reason = fused_attention.cudnn_unsupported_reason(*(jnp.zeros((1, 4, 2, 8)),) * 3)
    assert "not a CUDA GPU" in reason


@pytest.mark.slow
@pytest.mark.parametrize("kwargs", [{}, {"use_scale": True}, {"causal": True}])
def test_dot_attention_fused_equals_exact_and_keras(keras_ref, rng, fused_calls, kwargs):
    q = rng.normal(size=(2, 4, 6)).astype("float32")
    v = rng.normal(size=(2, 5, 6)).astype("float32")
    masks = [_masks(rng, 2, 4), _masks(rng, 2, 5)]
    ours = Attention(**kwargs)
    ours([q, v])
    if ours.weights:
        ours.set_weights([np.asarray(1.7, "float32")])
    got = ours([q, v], mask=masks)
    assert fused_calls == ["xla", "xla"]
    try:
        jkeras.config.disable_flash_attention()
        want = ours([q, v], mask=masks)
    finally:
        jkeras.config.enable_flash_attention()
    np.testing.assert_allclose(got, want, **TOL)
    causal = kwargs.pop("causal", False)
    theirs = keras_ref.layers.Attention(**kwargs)
    theirs([q, v])
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(got, theirs([q, v], mask=masks, use_causal_mask=causal),
                               **TOL)


def test_additive_and_concat_attention_keep_the_exact_path(rng, fused_calls):
    q = rng.normal(size=(2, 4, 6)).astype("float32")
    jkeras.layers.AdditiveAttention()([q, q])
    Attention(score_mode="concat")([q, q])
    assert fused_calls == []


def test_cudnn_gets_masks_of_full_query_and_key_length(monkeypatch):
    # cuDNN refuses a bias broadcast along (T, S); padding masks arrive as (B, 1, 1, S).
    seen = {}
    original = jax.nn.dot_product_attention

    def fake(query, key, value, bias=None, mask=None, **kwargs):
        seen["mask"] = mask.shape
        return original(query, key, value, bias=bias, mask=mask,
                        **dict(kwargs, implementation="xla"))
    monkeypatch.setattr(jax.nn, "dot_product_attention", fake)
    q = jnp.ones((2, 3, 2, 8))
    k = jnp.ones((2, 5, 2, 8))
    mask = jnp.ones((2, 1, 1, 5), bool)
    fused_attention.dot_product_attention(q, k, k, implementation="cudnn", scale=1.0,
                                          mask=mask)
    assert seen["mask"] == (2, 1, 3, 5)
