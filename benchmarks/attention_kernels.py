"""Causal self-attention kernels at the shape of gpu_suite.py's small GPT (batch 32, 1024
tokens, 8 heads of 64, bfloat16), each timed alone: forward, and forward plus backward
(issue 12's profile: in the GPT's step cuDNN's attention takes 2.9-3.1 ms of ~14.5 ms of
kernels, about 240 TFLOP/s counting the causal half of the matrix).

Each timed program chains `--layers` attentions, the output of one being the query of the
next, so nothing but attention runs. Candidates (those the installed jax lacks are
reported and skipped):
- cudnn: `jax.nn.dot_product_attention(..., implementation="cudnn", is_causal=True)`,
  what jkeras uses today;
- xla: the same with implementation="xla", for reference;
- triton: Pallas's Triton flash attention (`jax.experimental.pallas.ops.gpu.attention`),
  forward and backward, at a few block sizes;
- mgpu: Pallas's Mosaic GPU attention for Hopper (`attention_mgpu`): its causal forward,
  and its backward where the installed jax has a causal one;
- mgpu+cudnn: the Mosaic forward with cuDNN's backward, given the Mosaic kernel's
  log-sum-exp (base 2, turned to base e) as cuDNN's softmax statistics;
- mgpu+triton: the Mosaic forward with the Triton backward (both keep base-2 statistics).

`--dtype float16` and `--full` (no mask) time the same kernels where the Mosaic one runs.
Each candidate's output and gradients are compared with a float32 reference on the first
batch rows.

On one H200 (jax 0.11.2, CUDA 13.0; 2026-12-02), ms a layer, forward / forward+backward:
- causal bfloat16: cuDNN 0.109 / 0.483 (316 / 249 TFLOP/s); cuDNN on (B, N, T, H) operands
  0.124 / 0.499; Triton 0.142-0.191 / 0.713-1.148 by block sizes; XLA 1.52 / 4.00;
- causal float16 (the Mosaic kernel takes float16 only: its shared-memory buffers are
  float16): cuDNN 0.109 / 0.485; Mosaic forward 0.154-0.172; Mosaic forward with cuDNN's
  backward 0.537-0.552 (its log-sum-exp serves cuDNN's backward: same gradients); Mosaic
  forward with Triton's backward 0.724-0.737; the Mosaic kernel has no causal backward;
- unmasked float16: cuDNN 0.162 / 0.664; Mosaic 0.198-0.242 / 0.993-1.036.
cuDNN is the fastest at every pass, so jkeras keeps it; its backward pass (0.374 ms a
layer, 230 TFLOP/s) is most of attention's time in the GPT's step.

Usage: python benchmarks/attention_kernels.py [--tiny] [--repeats 5] [--only PREFIXES]
       [--dtype float16] [--full] [--layers 6]
"""
import argparse
import functools
import math
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from benchmarks import gelu_kernels  # noqa: E402

LN2 = math.log(2.0)


def forward_flops(b, t, n, h, causal):
    """Forward FLOPs of attention's two matmuls (the causal half of them if causal)."""
    return 2 * 2 * b * n * h * t * t / (2 if causal else 1)


def reference(q, k, v, scale, causal):
    """Attention in float32 by the textbook formula."""
    q32, k32, v32 = (a.astype(jnp.float32) for a in (q, k, v))
    s = jnp.einsum("btnh,bsnh->bnts", q32, k32) * scale
    t = q.shape[1]
    if causal:
        s = jnp.where(jnp.tril(jnp.ones((t, t), bool)), s, -jnp.inf)
    return jnp.einsum("bnts,bsnh->btnh", jax.nn.softmax(s, axis=-1), v32)


# --- candidates: each a function (q, k, v) -> out with its own gradient -----------------

def cudnn(scale, causal):
    return functools.partial(jax.nn.dot_product_attention, scale=scale, is_causal=causal,
                             implementation="cudnn")


def cudnn_bnth(scale, causal):
    """cuDNN on (B, N, T, H) operands; the timed program includes the transposes into and
    out of that layout."""
    from jax._src.cudnn import fused_attention_stablehlo as fa
    mask = fa.MaskType.CAUSAL if causal else fa.MaskType.NO_MASK

    def attend(q, k, v):
        t = lambda a: jnp.swapaxes(a, 1, 2)
        return t(fa.dot_product_attention(t(q), t(k), t(v), scale=scale, mask_type=mask,
                                          qkv_layout="BNTH"))
    return attend


def xla(scale, causal):
    return functools.partial(jax.nn.dot_product_attention, scale=scale, is_causal=causal,
                             implementation="xla")


def _triton_sizes(tri, blocks):
    """The Triton kernel's block sizes from (block_q, block_k, block_q_dkv, block_kv_dkv,
    block_q_dq, block_kv_dq)."""
    names = ("block_q", "block_k", "block_q_dkv", "block_kv_dkv", "block_q_dq", "block_kv_dq")
    return tri.BlockSizes(**dict(zip(names, blocks)))


def triton(scale, causal, blocks):
    from jax.experimental.pallas.ops.gpu import attention as tri
    return functools.partial(tri.mha, segment_ids=None, sm_scale=scale, causal=causal,
                             block_sizes=_triton_sizes(tri, blocks))


def _mgpu_config(block_q, block_kv, steps, causal, bwd=None):
    from jax.experimental.pallas.ops.gpu import attention_mgpu as mg
    extra = {}
    if bwd is not None:
        extra = dict(zip(("block_q_dkv", "block_kv_dkv", "block_q_dq", "block_kv_dq"), bwd))
    return mg, mg.TuningConfig(block_q=block_q, block_kv=block_kv,
                               max_concurrent_steps=steps, causal=causal, **extra)


def _scaled(q, scale):
    """The Mosaic kernel has no scale argument: the query is scaled first (exactly, for a
    power of two)."""
    return (q * jnp.asarray(scale, q.dtype)).astype(q.dtype)


def _mgpu_forward(q, k, v, scale, mg, config):
    """The scaled query, the output and the base-2 log-sum-exp, (B, N, T)."""
    qs = _scaled(q, scale)
    out, (lse2,) = mg._attention_forward(qs, k, v, config, save_residuals=True)
    return qs, out, lse2


def mgpu(scale, causal, block_q, block_kv, steps, bwd=None):
    mg, config = _mgpu_config(block_q, block_kv, steps, causal, bwd)
    return lambda q, k, v: mg.attention(_scaled(q, scale), k, v, config)


def mgpu_cudnn(scale, causal, block_q, block_kv, steps):
    """Mosaic forward, cuDNN backward through jax's cuDNN backward rule."""
    from jax._src.cudnn import fused_attention_stablehlo as fa
    mg, config = _mgpu_config(block_q, block_kv, steps, causal)
    version = fa.check_cudnn_version()

    @jax.custom_vjp
    def attend(q, k, v):
        return _mgpu_forward(q, k, v, scale, mg, config)[1]

    def fwd(q, k, v):
        _, out, lse2 = _mgpu_forward(q, k, v, scale, mg, config)
        return out, (q, k, v, out, lse2 * LN2)

    def bwd(res, do):
        q, k, v, out, lse = res
        unused = jnp.zeros(0, q.dtype)
        saved = (q, k, v) + (unused,) * 7 + (lse, out)
        grads = fa._dot_product_attention_bwd_rule(
            scale, 0, 0.0, (False, False), fa.MaskType.CAUSAL if causal else fa.MaskType.NO_MASK,
            fa.AttentionLayout.BTNH.value, None, version, False, saved, do)
        return tuple(grads[:3])

    attend.defvjp(fwd, bwd)
    return attend


def mgpu_triton(scale, causal, block_q, block_kv, steps, blocks):
    """Mosaic forward, Triton backward (both hold base-2 log-sum-exps of the scaled
    scores; the Triton backward is given the scaled query and a unit scale)."""
    from jax.experimental.pallas.ops.gpu import attention as tri
    mg, config = _mgpu_config(block_q, block_kv, steps, causal)
    sizes = _triton_sizes(tri, (block_q, block_kv) + tuple(blocks))

    @jax.custom_vjp
    def attend(q, k, v):
        return _mgpu_forward(q, k, v, scale, mg, config)[1]

    def fwd(q, k, v):
        qs, out, lse2 = _mgpu_forward(q, k, v, scale, mg, config)
        return out, (qs, k, v, out, lse2)

    def bwd(res, do):
        qs, k, v, out, lse2 = res
        dqs, dk, dv, _ = tri._mha_backward(1.0, causal, sizes, "triton", None, 2, None, False,
                                           False, False, (qs, k, v, None, out, lse2), do)
        return (dqs * jnp.asarray(scale, dqs.dtype)).astype(qs.dtype), dk, dv

    attend.defvjp(fwd, bwd)
    return attend


def candidates(scale, causal):
    out = {"cudnn": functools.partial(cudnn, scale, causal),
           "cudnn_bnth": functools.partial(cudnn_bnth, scale, causal),
           "xla": functools.partial(xla, scale, causal)}
    for blocks in ((128, 64, 64, 128, 128, 64), (128, 128, 64, 64, 64, 64),
                   (64, 64, 32, 32, 32, 32), (128, 64, 128, 128, 128, 128)):
        name = "triton_" + "_".join(map(str, blocks))
        out[name] = functools.partial(triton, scale, causal, blocks)
    for bq, bkv, steps in ((64, 64, 2), (64, 128, 2), (128, 64, 2), (128, 128, 2),
                           (64, 64, 4), (128, 64, 4)):
        suffix = f"{bq}_{bkv}_{steps}"
        out["mgpu_" + suffix] = functools.partial(mgpu, scale, causal, bq, bkv, steps,
                                                  (64, 64, 64, 64))
        out["mgpu+cudnn_" + suffix] = functools.partial(mgpu_cudnn, scale, causal, bq, bkv,
                                                        steps)
    for bq in (64, 128):
        out[f"mgpu+triton_{bq}_64_2"] = functools.partial(mgpu_triton, scale, causal, bq, 64,
                                                          2, (64, 128, 128, 64))
    return out


# --- timing -------------------------------------------------------------------------------

def chained(attend, layers):
    def forward(q, k, v):
        x = q
        for _ in range(layers):
            x = attend(x, k, v)
        return x

    def train(q, k, v, do):
        x, pull = jax.vjp(forward, q, k, v)
        return pull(do)
    return jax.jit(forward), jax.jit(train)


def timed(fn, args, repeats):
    """Best over `repeats` of the mean of 20 queued calls (gelu_kernels' timer)."""
    return gelu_kernels.timed(fn, [args], repeats, calls=20)


def errors(attend, q, k, v, do, scale, causal, rows=2):
    q, k, v, do = (a[:rows] for a in (q, k, v, do))
    out, pull = jax.vjp(attend, q, k, v)
    ref, ref_pull = jax.vjp(lambda *a: reference(*a, scale, causal), q, k, v)
    got = (out,) + tuple(pull(do))
    want = (ref,) + tuple(ref_pull(do.astype(jnp.float32)))
    return [float(jnp.max(jnp.abs(g.astype(jnp.float32) - w)) / (jnp.max(jnp.abs(w)) + 1e-9))
            for g, w in zip(got, want)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="small shapes (a smoke run)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--only", default="", help="comma-separated name prefixes")
    parser.add_argument("--dtype", default="bfloat16", choices=("bfloat16", "float16"))
    parser.add_argument("--full", action="store_true", help="no causal mask")
    args = parser.parse_args()
    b, t, n, h = (2, 256, 2, 64) if args.tiny else (32, 1024, 8, 64)
    scale = 1.0 / math.sqrt(h)
    keys = jax.random.split(jax.random.PRNGKey(0), 4)
    q, k, v, do = (jax.random.normal(key, (b, t, n, h), args.dtype) for key in keys)
    causal = not args.full
    flops = forward_flops(b, t, n, h, causal) * args.layers
    print(f"jax {jax.__version__} on {jax.devices()[0].device_kind}; B={b} T={t} N={n} H={h}"
          f" {args.dtype} {'causal' if causal else 'unmasked'}, {args.layers} chained")
    print(f"{'candidate':28s} {'fwd ms':>8s} {'TF/s':>6s} {'fwd+bwd ms':>11s} {'TF/s':>6s}"
          f"   max error / max |ref|: out dq dk dv")
    only = [p for p in args.only.split(",") if p]
    for name, make in candidates(scale, causal).items():
        if only and not any(name.startswith(p) for p in only):
            continue
        try:
            attend = make()
            forward, train = chained(attend, args.layers)
            fwd_s = timed(forward, (q, k, v), args.repeats)
            try:
                train_s = timed(train, (q, k, v, do), args.repeats)
                errs = errors(attend, q, k, v, do, scale, causal)
            except Exception as exc:  # a forward-only kernel
                train_s, errs = math.nan, [f"no backward: {type(exc).__name__}: "
                                           f"{str(exc).splitlines()[0][:80]}"]
            print(f"{name:28s} {fwd_s * 1e3 / args.layers:8.4f} {flops / fwd_s / 1e12:6.0f} "
                  f"{train_s * 1e3 / args.layers:11.4f} {3.5 * flops / train_s / 1e12:6.0f}   "
                  + " ".join(e if isinstance(e, str) else f"{e:.4f}" for e in errs),
                  flush=True)
        except Exception as exc:
            print(f"{name:28s} failed: {type(exc).__name__}: "
                  f"{str(exc).splitlines()[0][:150] if str(exc) else ''}", flush=True)
            if os.environ.get("ATTN_TRACE"):
                traceback.print_exc()


if __name__ == "__main__":
    main()
