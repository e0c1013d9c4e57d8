"""What each of jkeras's kernel-level choices buys the small GPT of gpu_suite.py: the
hand-written loop's step with one change at a time, in one run (issue 12's profile).

Variants of the hand-written step (bfloat16 compute, AdamW):
- base: gpu_suite's hand loop (jax.nn.gelu, mean-then-variance LayerNorm, three
  projections, optax's cross-entropy);
- gelu: jkeras.activations.gelu (exact GELU from the normal tail as exp times a
  polynomial, float32 inside, one exp shared with its derivative);
- layernorm: statistics from jkeras's masked_moments as 16-bit layers take them (one pass);
- qkv: the query, key and value projections in one matmul (MultiHeadAttention's
  self-attention path);
- loss: jkeras's sparse cross-entropy from logits (the label's logit picked by a masked
  sum, not a gather);
- jkeras: all four, what a jkeras GPT's step does;
- jkeras_cdf: the same with the GELU's earlier backward pass, which kept the float32
  `Phi(x)` from the forward pass (the shipped one keeps the input and recomputes);
- jkeras_div: the same with the GELU's earlier `1 / (1 + p u)` by a division (the shipped
  one takes a reciprocal square root, squared, for 16-bit inputs);
- jkeras_bias: the same with each Dense's bias gradient summed in a kernel of its own
  (an optimization barrier), not in the kernel making the output's gradient: in the
  step those kernels ran at 60% of the bandwidth (the logits' gradient 0.472 ms for
  1.07 GB, the GELU's backward 0.148 ms a layer) with the column sums in them (on one
  H200, 2026-12-02, alternated with "jkeras": +0.03 and +0.00 ms a step, no gain);
- jkeras_online: the same with the cross-entropy's row maximum, sum of exponentials and
  label's logit taken in one pass over the logits (a variadic reduction merging running
  maxima, one exponential per merge; its own backward pass), not a maximum first (on one
  H200, 2026-12-02, alternated with "jkeras": +0.009 and +0.002 ms a step, no gain: the
  merges' exponentials cost what the second read saved);
- jkeras_gather: the same with the label's logit gathered (one element a row, where the
  masked sum reads the row: in the step's profile that sum was a kernel of its own, 0.117
  ms for the 512 MB of logits) and the loss's derivative given as a custom JVP, so that
  the gather's gradient is no scatter (on one H200, 2026-12-02, alternated with "jkeras":
  -0.01 and +0.02 ms a step, no gain; with the JVP's tangent under `checkpoint`, +0.36
  ms);
- jkeras_fused: the same with each feed-forward block's first Dense (matmul, bias, GELU)
  forward by fused_dense.py's persistent Mosaic GPU kernel, backward by XLA from the kept
  pre-activation (on one H200, 2026-12-02, alternated with "jkeras": +0.47 to +0.53 ms
  a step, then +0.40 ms; fused_dense.py says why);
- jkeras_pingpong: the same with fused_dense.py's ping-pong kernel (+0.37 to +0.42 ms;
  with XLA's command buffers off, +0.41 and +0.48 ms);
- jkeras_xla_vjp: the same custom VJP with XLA's own forward pass (+0.41 and +0.42 ms):
  the VJP's backward pass, not the kernels, costs those steps;
- jkeras_qkv_grads: the same with the query, key and value gradients never
  concatenated: the input's gradient as three matmuls summed, the kernel's as three
  (on one H200, 2026-12-02, alternated with "jkeras": -0.01 and +0.05 ms a step, no
  gain);
- gelu_tanh: the tanh approximation, for reference (not Keras's default);
- jkeras_cublaslt, jkeras_cudnn_fusion, jkeras_triton_any: "jkeras" compiled with one XLA
  option (cuBLASLt's gemms with their bias epilogues; cuDNN's gemm fusions at level 2;
  Triton for every gemm, where the autotuner picks it). On one H200 (2026-12-02, jax
  0.11.2, alternated with "jkeras" at 15.03 and 14.98 ms): cuBLASLt 15.00 and 14.93 ms,
  cuDNN fusions 14.95 and 14.98 ms, within the runs' noise; XLA there already runs the
  step's matmuls through cuBLASLt. Through XLA_FLAGS, `fit`'s GPT step was no faster with
  any of these three (14.80-14.90 ms against 14.87-14.92 without).

Usage: python benchmarks/gpt_levers.py [--tiny] [--steps 30] [--variants base,jkeras]
"""
import argparse
import functools
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402

import jkeras  # noqa: E402
from benchmarks import fused_dense  # noqa: E402
from benchmarks import gelu_kernels  # noqa: E402
from benchmarks import gpu_suite as G  # noqa: E402
from jkeras import activations  # noqa: E402
from jkeras.layers.normalization import masked_moments  # noqa: E402
from jkeras.loss_functions import minus_log_softmax_at  # noqa: E402

_JKERAS = {"gelu": "jkeras", "norm": "jkeras", "qkv": True, "loss": "jkeras"}
VARIANTS = {"base": {}, "gelu": {"gelu": "jkeras"}, "layernorm": {"norm": "jkeras"},
            "qkv": {"qkv": True}, "loss": {"loss": "jkeras"}, "jkeras": _JKERAS,
            "jkeras_cdf": {**_JKERAS, "gelu": "cdf"}, "jkeras_div": {**_JKERAS, "gelu": "div"},
            "jkeras_bias": {**_JKERAS, "bias": "apart"},
            "jkeras_online": {**_JKERAS, "loss": "online"},
            "jkeras_gather": {**_JKERAS, "loss": "gather"},
            "jkeras_fused": {**_JKERAS, "ffn": "fused"},
            "jkeras_pingpong": {**_JKERAS, "ffn": "pingpong"},
            "jkeras_xla_vjp": {**_JKERAS, "ffn": "xla_vjp"},
            "jkeras_qkv_grads": {**_JKERAS, "qkv": "apart_grads"},
            "gelu_tanh": {"gelu": "tanh"}}
# Variants compiling the "jkeras" step with XLA options of their own (jax.jit's
# compiler_options), for in-process comparisons of what XLA_FLAGS would change.
OPTIONS = {"jkeras_cublaslt": {"xla_gpu_enable_cublaslt": True},
           "jkeras_cudnn_fusion": {"xla_gpu_cudnn_gemm_fusion_level": 2},
           "jkeras_triton_any": {"xla_gpu_triton_gemm_any": True}}
VARIANTS.update({name: _JKERAS for name in OPTIONS})


def _label_hit(z, labels):
    """True where a row's class is its label (a mask XLA computes where it is used)."""
    return labels[..., None] == jnp.arange(z.shape[-1], dtype=labels.dtype)


def _in_range(z, labels):
    return (labels >= 0) & (labels < z.shape[-1])


def _gather_minus_log_softmax_at(z, labels):
    """jkeras's loss with the label's logit gathered (one element a row) instead of a
    masked sum over the row, and its derivative given as a custom JVP."""
    valid = _in_range(z, labels)
    return jnp.where(valid, _gathered(z, jnp.where(valid, labels, 0)), jnp.nan)


def _gathered_value(z, labels):
    """(the loss, the row maxima, the sums of exp(z - maxima)) for labels in range."""
    m = jax.lax.stop_gradient(jnp.max(z, axis=-1))
    shifted_sum = jnp.sum(jnp.exp(z - m[..., None]), axis=-1)
    picked = jnp.take_along_axis(z, labels[..., None], axis=-1, mode="clip")[..., 0]
    return jnp.log(shifted_sum) - (picked - m), m, shifted_sum


@jax.custom_jvp
def _gathered(z, labels):
    return _gathered_value(z, labels)[0]


@_gathered.defjvp
def _gathered_jvp(primals, tangents):
    # (softmax - one_hot) . dz: its transpose is one elementwise pass, no scatter. Under
    # `checkpoint` (recomputed in the backward pass) the step took 0.36 ms longer: the
    # barrier kept a float32 copy of the logits (1 GB) for the backward pass.
    z, labels = primals
    out, m, shifted_sum = _gathered_value(z, labels)
    softmax = jnp.exp(z - m[..., None]) / shifted_sum[..., None]
    return out, jnp.sum(jnp.where(_label_hit(z, labels), softmax - 1.0, softmax) *
                        tangents[0], axis=-1)


def _online_combine(a, b):
    """Merges two (running maximum, sum of exp(z - maximum), label's logit) triples: one
    exponential per merge (of minus the maxima's distance)."""
    (ma, sa, pa), (mb, sb, pb) = a, b
    e = jnp.exp(jnp.where(ma == mb, 0.0, -jnp.abs(ma - mb)))
    return jnp.maximum(ma, mb), jnp.where(ma >= mb, sa + sb * e, sa * e + sb), pa + pb


def _online_parts(z, labels):
    """(max, sum of exp(z - max), z at the label) of each row in one pass over `z`."""
    z = z.astype(jnp.float32)
    return jax.lax.reduce((z, jnp.ones_like(z), jnp.where(_label_hit(z, labels), z, 0.0)),
                          (-jnp.inf, 0.0, 0.0), _online_combine, (z.ndim - 1,))


@jax.custom_vjp
def _online_minus_log_softmax_at(z, labels):
    return _online_fwd(z, labels)[0]


def _online_fwd(z, labels):
    m, s, picked = _online_parts(z, labels)
    loss = jnp.log(s) - (picked - m)
    return jnp.where(_in_range(z, labels), loss, jnp.nan), (z, labels, m, s)


def _online_bwd(res, g):
    z, labels, m, s = res
    soft = jnp.exp(z.astype(jnp.float32) - m[..., None]) / s[..., None]
    dz = (g[..., None] * (soft - _label_hit(z, labels))).astype(z.dtype)
    return dz, None


_online_minus_log_softmax_at.defvjp(_online_fwd, _online_bwd)


@jax.custom_jvp
def _gelu_keeping_cdf(x):
    return activations._gelu_exact(x)


@_gelu_keeping_cdf.defjvp
def _gelu_keeping_cdf_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    x32 = x.astype(jnp.float32)
    cdf, pdf = activations._normal_cdf_pdf(x32, x.dtype)
    return (x32 * cdf).astype(x.dtype), \
        ((cdf + x32 * pdf) * dx.astype(jnp.float32)).astype(dx.dtype)


def _layer_norm(p, x, eps):
    x32 = x.astype(jnp.float32)
    mean, var = masked_moments(x32, (x.ndim - 1,), one_pass=True)
    inv = jax.lax.rsqrt(var + eps) * p["gamma"]
    return (x32 * inv - mean * inv + p["beta"]).astype(G.BF16)


@jax.custom_vjp
def _bias_apart(y, bias):
    """`y + bias`, whose bias gradient is summed in a kernel of its own."""
    return y + bias


def _bias_apart_fwd(y, bias):
    return y + bias, None


def _bias_apart_bwd(_, g):
    # The barrier keeps XLA from fusing the column sums into the kernel that makes `g`
    # (there they cost that kernel its bandwidth): they read `g` again instead.
    summed = jax.lax.optimization_barrier(g)
    return g, jnp.sum(summed.astype(jnp.float32), axis=tuple(range(g.ndim - 1))).astype(
        g.dtype)


_bias_apart.defvjp(_bias_apart_fwd, _bias_apart_bwd)


@functools.partial(jax.custom_vjp, nondiff_argnums=(3,))
def _qkv_apart_grads(a, w, bias, heads):
    """(q, k, v) from one matmul, as "qkv"; the backward pass takes the input's gradient
    as three matmuls summed and the kernel's as three, one a projection, so that the
    query, key and value gradients are never concatenated."""
    return _qkv_apart_fwd(a, w, bias, heads)[0]


def _qkv_split(a, w, bias, heads):
    """(q, k, v), each (batch, time, heads, head size), from one matmul of `a`."""
    b, t, d = a.shape
    return tuple(jnp.split((a @ w + bias).reshape(b, t, 3 * heads, d // heads), 3, axis=2))


def _qkv_apart_fwd(a, w, bias, heads):
    return _qkv_split(a, w, bias, heads), (a, w)


def _qkv_apart_bwd(heads, residuals, grads):
    a, w = residuals
    b, t, d = a.shape
    flat = [g.reshape(b * t, d) for g in grads]
    x2 = a.reshape(b * t, d)
    dx = sum(g @ w[:, i * d:(i + 1) * d].T for i, g in enumerate(flat))
    dw = jnp.concatenate([x2.T @ g for g in flat], axis=1)
    db = jnp.concatenate([jnp.sum(g.astype(jnp.float32), axis=0) for g in flat])
    return dx.reshape(b, t, d), dw, db.astype(w.dtype)


_qkv_apart_grads.defvjp(_qkv_apart_fwd, _qkv_apart_bwd)


_FFN_TILES = {"fused": fused_dense.Tiles(),
              "pingpong": fused_dense.Tiles(pingpong=True, stages=4), "xla_vjp": None}


def make_loss(heads, gelu="jax", norm="two-pass", qkv=False, loss="optax", bias="fused",
              ffn="xla"):
    """`loss(params, x, y)`: the batch's mean cross-entropy, with the given choices."""
    ln = _layer_norm if norm == "jkeras" else G._layer_norm

    def dense(p, x):
        if bias == "fused":
            return G._dense(p, x)
        return _bias_apart(x @ p["kernel"].astype(G.BF16), p["bias"].astype(G.BF16))
    act = {"jax": lambda f: jax.nn.gelu(f, approximate=False), "jkeras": activations.gelu,
           "tanh": lambda f: jax.nn.gelu(f, approximate=True), "cdf": _gelu_keeping_cdf,
           "div": gelu_kernels.VARIANTS["divide"]}[gelu]

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
                split = _qkv_apart_grads if qkv == "apart_grads" else _qkv_split
                q, k, v = split(a, w, bias, heads)
            else:
                q, k, v = (G._dense(blk[n], a).reshape(b, t, heads, d // heads)
                           for n in "qkv")
            o = jax.nn.dot_product_attention(q, k, v, is_causal=True,
                                             implementation=G._attention_impl(q))
            h = h + dense(blk["o"], o.reshape(b, t, d))
            a = ln(blk["ln2"], h, 1e-5)
            if ffn != "xla":
                hidden = fused_dense.dense_gelu(a, blk["fc"]["kernel"].astype(G.BF16),
                                                blk["fc"]["bias"].astype(G.BF16),
                                                _FFN_TILES[ffn])
            else:
                hidden = act(dense(blk["fc"], a))
            h = h + dense(blk["proj"], hidden)
        h = ln(p["ln_f"], h, 1e-5)
        return dense(p["head"], h).astype(jnp.float32)

    per_token = {"optax": optax.softmax_cross_entropy_with_integer_labels,
                 "jkeras": minus_log_softmax_at, "online": _online_minus_log_softmax_at,
                 "gather": _gather_minus_log_softmax_at}[loss]
    return lambda p, x, y: jnp.mean(per_token(forward(p, x), y))


def make_step(loss_fn, options=None):
    """`(step, tx)`: the jitted hand-written AdamW step on `loss_fn`, `step((params,
    opt_state), x, y) -> ((params, opt_state), loss)`, its carry donated, compiled with
    XLA `options`; and the optax transformation (`tx.init` makes the optimizer's part of
    the carry)."""
    tx = optax.adamw(3e-4, eps=1e-7, weight_decay=0.004)

    def step(carry, x, y):
        p, o = carry
        loss, grads = jax.value_and_grad(loss_fn)(p, x, y)
        updates, o = tx.update(grads, o, p)
        return (optax.apply_updates(p, updates), o), loss
    return jax.jit(step, donate_argnums=(0,), compiler_options=options), tx


def make_runner(loss_fn, params, batches, steps, options=None):
    """`run(count=steps)`: that many hand-written AdamW steps on `loss_fn` over `batches`
    in turn, ending on a read of the last loss."""
    step, tx = make_step(loss_fn, options)
    carry = [(jax.tree_util.tree_map(jnp.copy, params), tx.init(params))]

    def run(count=steps):
        for i in range(count):
            carry[0], loss = step(carry[0], *batches[i % len(batches)])
        return float(loss)
    return run


def device_batches(shape, data, count):
    inputs, targets = data
    b = shape["batch"]
    return [([jax.device_put(a[i * b:(i + 1) * b]) for a in inputs],
             jax.device_put(targets[i * b:(i + 1) * b])) for i in range(count)]


def runner(shape, model, data, steps, variant="jkeras"):
    """gpu_suite's hand-written GPT loop with `variant`'s kernel choices, from `model`'s
    initial weights, over `data`'s batches (kernel_trace.py's contender)."""
    params, _ = G.hand_params("gpt", model, shape)
    return make_runner(make_loss(shape["heads"], **VARIANTS[variant]), params,
                       device_batches(shape, data, G.N_BATCHES), steps)


def time_variant(loss_fn, params, batches, steps, options=None):
    run = make_runner(loss_fn, params, batches, steps, options)
    run(3)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        run()
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
    batches = device_batches(shape, G.make_data("gpt", shape, 2 * shape["batch"]), 2)
    flops = G.FLOPS["gpt"](**shape)
    print(f"device: {jax.devices()[0].device_kind}; {args.steps} steps a run, best of 3")
    base = None
    for name in args.variants.split(","):
        seconds = time_variant(make_loss(shape["heads"], **VARIANTS[name]), params,
                               batches, args.steps, OPTIONS.get(name))
        base = seconds if base is None else base
        print(f"{name:<10} {seconds * 1e3:8.3f} ms  {flops / seconds / G.PEAK_BF16:6.1%} MFU  "
              f"{(seconds - base) * 1e3:+7.3f} ms against the first", flush=True)


if __name__ == "__main__":
    sys.exit(main())
