"""The exact GELU's kernels on one layer of gpu_suite.py's small GPT, variant by variant:
forward (bias added, GELU, rounded to bfloat16) and backward (the input's gradient and the
bias's), each timed alone on the device, with its error over every finite bfloat16 input
(issue 12's profile).

In the GPT's step, the forward kernel took 0.134 ms a layer and the backward one 0.148 ms
(`kernel_trace.py`, one H200, 2026-12-02), about twice the time their bytes take at the
copy bandwidth: their arithmetic, not their memory traffic, sets their time. The
variants change only how Phi(x) and phi(x) are computed from u = |x|, in float32:
- shipped: jkeras.activations, which for 16-bit inputs takes t = rsqrt(1 + p u) ** 2 (the
  GPU's approximate reciprocal square root, no division; its 2 ** -22 error is far below
  8 or 11 bits): on one H200, 0.1148 ms forward against 0.1237 for divide;
- divide: t = 1 / (1 + p u) by a division, phi by exp (what jkeras shipped before);
- rsqrt_exp2: shipped with phi(u) = exp2(-u * u * log2(e) / 2) / sqrt(2 pi);
- tanh: the tanh formula, for reference (not the exact GELU);
- relu: the same kernels with a ReLU, the memory traffic's own time.
"nobias" rows time the backward pass without the bias's gradient (its column sums).

Usage: python benchmarks/gelu_kernels.py [--tiny] [--repeats 5] [--variants a,b]
"""
import argparse
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from jkeras import activations  # noqa: E402

LOG2E = 1.4426950408889634


def _tail(x32, dtype, exp2=False, divide=False):
    """activations._normal_cdf_pdf with t from a division (`divide`, its earlier form) or
    a reciprocal square root, and phi from exp or exp2."""
    p, coeffs = activations._NORMAL_TAIL[7 if jnp.finfo(dtype).nmant <= 7 else 23]
    u = jnp.abs(x32)
    if divide:
        t = 1.0 / (1.0 + p * u)
    else:
        r = jax.lax.rsqrt(1.0 + p * u)
        t = r * r
    q = coeffs[-1]
    for c in coeffs[-2::-1]:
        q = c + t * q
    if exp2:
        pdf = jnp.exp2((-0.5 * LOG2E) * (u * u)) * activations._INV_SQRT_2PI
    else:
        pdf = jnp.exp(-0.5 * u * u) * activations._INV_SQRT_2PI
    tail = pdf * (t * q)
    return jnp.where(x32 < 0, tail, 1.0 - tail), pdf


def make_gelu(cdf_pdf):
    """An exact GELU as jkeras ships it (custom JVP, derivative recomputed), with Phi and
    phi from `cdf_pdf(x32, dtype)`."""
    def tangent(x, dx):
        x32 = x.astype(jnp.float32)
        cdf, pdf = cdf_pdf(x32, x.dtype)
        return ((cdf + x32 * pdf) * dx.astype(jnp.float32)).astype(dx.dtype)

    @jax.custom_jvp
    def gelu(x):
        x32 = x.astype(jnp.float32)
        return (x32 * cdf_pdf(x32, x.dtype)[0]).astype(x.dtype)

    @gelu.defjvp
    def _jvp(primals, tangents):
        (x,), (dx,) = primals, tangents
        return gelu(x), jax.checkpoint(tangent)(x, dx)
    return gelu


VARIANTS = {
    "shipped": activations.gelu,
    "divide": make_gelu(lambda x32, dtype: _tail(x32, dtype, divide=True)),
    "rsqrt_exp2": make_gelu(lambda x32, dtype: _tail(x32, dtype, exp2=True)),
    "tanh": lambda x: jax.nn.gelu(x, approximate=True),
    "relu": jax.nn.relu,
}


def timed(fn, args_list, repeats, calls=40):
    """Best over `repeats` of the mean time of `calls` calls, rotating over `args_list`."""
    jax.block_until_ready(fn(*args_list[0]))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        out = None
        for i in range(calls):
            out = fn(*args_list[i % len(args_list)])
        jax.block_until_ready(out)
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def speed(act, rows, width, repeats):
    """(forward s, backward s, backward without the bias's gradient s)."""
    keys = jax.random.split(jax.random.PRNGKey(0), 8)
    xs = [jax.random.normal(k, (rows, width), jnp.bfloat16) for k in keys[:4]]
    dys = [jax.random.normal(k, (rows, width), jnp.bfloat16) for k in keys[4:]]
    bias = jax.random.normal(keys[0], (width,), jnp.float32) * 0.1

    def layer(x, b):
        return act(x + b.astype(jnp.bfloat16))
    forward = jax.jit(layer)
    backward = jax.jit(lambda x, b, dy: jax.vjp(layer, x, b)[1](dy))
    backward_x = jax.jit(lambda x, b, dy: jax.vjp(lambda v: layer(v, b), x)[1](dy))
    fargs = [(x, bias) for x in xs]
    bargs = [(x, bias, dy) for x, dy in zip(xs, dys)]
    return (timed(forward, fargs, repeats), timed(backward, bargs, repeats),
            timed(backward_x, bargs, repeats))


def errors(act):
    """Over every finite bfloat16 x (but those near 2 ** -126): (outputs not the float64
    GELU correctly rounded, the most bfloat16 steps any is off, max error of the float32
    derivative, relative where it is above 0.01)."""
    bits = np.arange(1 << 16, dtype=np.uint16)
    with np.errstate(invalid="ignore"):
        xs = np.asarray(jnp.asarray(bits).view(jnp.bfloat16)).astype(np.float64)
    cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2)) if np.isfinite(v) else 0.0
                    for v in xs])
    with np.errstate(invalid="ignore"):
        exact = xs * cdf
    # Inputs and outputs near float32's subnormals are left out: the GPU flushes them to
    # zero, and float32 intermediates of a far tail underflow.
    tiny = 2.0 ** -100
    keep = np.isfinite(xs) & ((np.abs(xs) >= tiny) | (xs == 0)) & \
        ((np.abs(exact) >= tiny) | (exact == 0))
    bits, xs, cdf, exact = bits[keep], xs[keep], cdf[keep], exact[keep]
    x16 = jnp.asarray(bits).view(jnp.bfloat16)
    got = np.asarray(jax.jit(act)(x16)).astype(np.float64)
    rounded = np.asarray(jnp.asarray(exact, jnp.float32).astype(jnp.bfloat16)).astype(
        np.float64)

    def ordinal(v):
        b = np.asarray(jnp.asarray(v, jnp.bfloat16).view(jnp.uint16)).astype(np.int64)
        return np.where(b >= 1 << 15, (1 << 15) - b, b)
    off = np.abs(ordinal(got) - ordinal(rounded))
    slope = np.asarray(jax.jit(jax.vmap(jax.grad(lambda v: act(v).astype(jnp.float32))))(
        x16.astype(jnp.float32)))
    expected = cdf + xs * np.exp(-0.5 * xs * xs) / math.sqrt(2 * math.pi)
    keep = np.abs(xs) < 30
    # relative, but absolute near the derivative's zero (x = -0.75)
    rel = np.abs(slope[keep] - expected[keep]) / np.maximum(np.abs(expected[keep]), 1e-2)
    return int(np.sum(off > 0)), int(off.max()), float(rel.max())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    rows, width = (256, 128) if args.tiny else (32768, 2048)
    gbytes = rows * width * 2 / 1e9
    print(f"device: {jax.devices()[0].device_kind}; {rows} x {width} bfloat16; "
          f"forward moves {2 * gbytes:.3f} GB, backward {3 * gbytes:.3f} GB")
    print(f"{'variant':<12}{'fwd ms':>9}{'GB/s':>7}{'bwd ms':>9}{'GB/s':>7}{'nobias':>9}"
          f"{'not rounded':>13}{'max off':>9}{'slope err':>11}")
    for name in args.variants.split(","):
        act = VARIANTS[name]
        fwd, bwd, bwd_x = speed(act, rows, width, args.repeats)
        wrong, most, slope = errors(act) if name not in ("tanh", "relu") else (0, 0, 0.0)
        print(f"{name:<12}{fwd * 1e3:9.4f}{2 * gbytes / fwd:7.0f}{bwd * 1e3:9.4f}"
              f"{3 * gbytes / bwd:7.0f}{bwd_x * 1e3:9.4f}{wrong:13d}{most:9d}{slope:11.2e}")


if __name__ == "__main__":
    main()
