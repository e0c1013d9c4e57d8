"""What each of jkeras's kernel-level choices buys the small GPT of gpu_suite.py: the
hand-written loop's step with one change at a time, in one run (issue 12's profile).

Variants of the hand-written step (bfloat16 compute, AdamW, optax's cross-entropy):
- base: gpu_suite's hand loop (jax.nn.gelu, mean-then-variance LayerNorm, three
  projections);
- gelu: jkeras.activations.gelu (exact GELU from a fused-friendly erfc, float32 inside);
- layernorm: statistics from jkeras's masked_moments (one pass, shifted);
- qkv: the query, key and value projections in one matmul (MultiHeadAttention's
  self-attention path);
- jkeras: all three, what a jkeras GPT's step does;
- gelu_tanh: the tanh approximation, for reference (not Keras's default).

Usage: python benchmarks/gpt_levers.py [--tiny] [--steps 30] [--variants base,jkeras]
"""
import argparse
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402

import jkeras  # noqa: E402
from benchmarks import gpu_suite as G  # noqa: E402
from jkeras import activations  # noqa: E402
from jkeras.layers.normalization import masked_moments  # noqa: E402

VARIANTS = {"base": {}, "gelu": {"gelu": "jkeras"}, "layernorm": {"norm": "jkeras"},
            "qkv": {"qkv": True}, "jkeras": {"gelu": "jkeras", "norm": "jkeras", "qkv": True},
            "gelu_tanh": {"gelu": "tanh"}}


def _layer_norm(p, x, eps):
    x32 = x.astype(jnp.float32)
    mean, var = masked_moments(x32, (x.ndim - 1,))
    inv = jax.lax.rsqrt(var + eps) * p["gamma"]
    return (x32 * inv - mean * inv + p["beta"]).astype(G.BF16)


def make_forward(heads, gelu="jax", norm="two-pass", qkv=False):
    ln = _layer_norm if norm == "jkeras" else G._layer_norm
    act = {"jax": lambda f: jax.nn.gelu(f, approximate=False), "jkeras": activations.gelu,
           "tanh": lambda f: jax.nn.gelu(f, approximate=True)}[gelu]

    def forward(p, x):
        tokens, positions = x
        h = (jnp.take(p["tok"], tokens, axis=0) +
             jnp.take(p["pos"], positions, axis=0)).astype(G.BF16)
        for blk in p["blocks"]:
            a = ln(blk["ln1"], h, 1e-5)
            b, t, d = a.shape
            if qkv:
                w = jnp.concatenate([blk[n]["kernel"] for n in "qkv"], 1).astype(G.BF16)
                bias = jnp.concatenate([blk[n]["bias"] for n in "qkv"]).astype(G.BF16)
                q, k, v = jnp.split((a @ w + bias).reshape(b, t, 3 * heads, d // heads), 3,
                                    axis=2)
            else:
                q, k, v = (G._dense(blk[n], a).reshape(b, t, heads, d // heads)
                           for n in "qkv")
            o = jax.nn.dot_product_attention(q, k, v, is_causal=True,
                                             implementation=G._attention_impl(q))
            h = h + G._dense(blk["o"], o.reshape(b, t, d))
            h = h + G._dense(blk["proj"], act(G._dense(blk["fc"], ln(blk["ln2"], h, 1e-5))))
        h = ln(p["ln_f"], h, 1e-5)
        return G._dense(p["head"], h).astype(jnp.float32)
    return forward


def time_variant(forward, params, batches, steps):
    tx = optax.adamw(3e-4, eps=1e-7, weight_decay=0.004)

    def step(carry, x, y):
        p, o = carry
        loss, grads = jax.value_and_grad(lambda p: jnp.mean(
            optax.softmax_cross_entropy_with_integer_labels(forward(p, x), y)))(p)
        updates, o = tx.update(grads, o, p)
        return (optax.apply_updates(p, updates), o), loss
    step = jax.jit(step, donate_argnums=(0,))
    carry = (jax.tree_util.tree_map(jnp.copy, params), tx.init(params))
    for i in range(3):
        carry, loss = step(carry, *batches[i % len(batches)])
    float(loss)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for i in range(steps):
            carry, loss = step(carry, *batches[i % len(batches)])
        float(loss)
        best = min(best, (time.perf_counter() - start) / steps)
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tiny", action="store_true", help="tiny shapes (CPU smoke test)")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    shape = G.SHAPES["gpt"]["tiny" if args.tiny else "full"]
    model = G.build_compiled(jkeras, "gpt", shape, jkeras.mixed_precision.set_global_policy,
                             None)
    params, _ = G.hand_params("gpt", model, shape)
    inputs, targets = G.make_data("gpt", shape, 2 * shape["batch"])
    b = shape["batch"]
    batches = [([jax.device_put(a[i * b:(i + 1) * b]) for a in inputs],
                jax.device_put(targets[i * b:(i + 1) * b])) for i in range(2)]
    flops = G.FLOPS["gpt"](**shape)
    print(f"device: {jax.devices()[0].device_kind}; {args.steps} steps a run, best of 3")
    base = None
    for name in args.variants.split(","):
        seconds = time_variant(make_forward(shape["heads"], **VARIANTS[name]), params,
                               batches, args.steps)
        base = seconds if base is None else base
        print(f"{name:<10} {seconds * 1e3:8.3f} ms  {flops / seconds / G.PEAK_BF16:6.1%} MFU  "
              f"{(seconds - base) * 1e3:+7.3f} ms against the first", flush=True)


if __name__ == "__main__":
    sys.exit(main())
