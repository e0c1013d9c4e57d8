"""A Dense layer's matmul, bias and exact GELU in one Hopper kernel (Pallas Mosaic GPU),
against what XLA runs for the same layer: cuBLAS's matmul with its bias, then the GELU's
own kernel (issue 12: in the small GPT's step the GELU's forward kernel takes 0.116 ms a
layer, set by its float32 arithmetic; in a matmul's epilogue it would read nothing back).

Three kernel forms, all adding the bias to the float32 accumulators, rounding the
pre-activation `z` to the output dtype, taking jkeras.activations's exact GELU of it and
writing both `z` (the backward pass's residual) and the GELU:
- persistent: one CTA an SM walking the output tiles; one warpgroup streams tiles of `x`
  and `w` into shared memory by TMA, two compute warpgroups each multiply their half of
  a (tile_m, 2 tile_n) tile (wgmma), then run the epilogue. jax's Hopper matmul
  (pallas/ops/gpu/hopper_matmul_mgpu.py) has the same structure; this one adds the
  epilogue and has no clusters;
- ping-pong (`Tiles(pingpong=True)`): as persistent, but the two compute warpgroups take
  whole (tile_m, tile_n) tiles in turn, so that one's epilogue runs while the other's
  wgmmas use the tensor cores (CUTLASS's "ping-pong" schedule; written here with its own
  barriers, as emit_pipeline_warp_specialized has every warpgroup consume every stage);
- grid (`Tiles(grid=True)`): one CTA a tile, one warpgroup issuing both its loads and its
  wgmmas, small enough that CTAs share an SM.

On one H200 (2026-12-02, jax 0.11.2; 32768 x 512 @ 512 x 2048, bfloat16):
  xla (cuBLAS matmul with bias, then the GELU kernel)     0.212-0.215 ms
  xla_matmul (the matmul with bias alone)                 0.106-0.108 ms (640 TFLOP/s)
  persistent, z only                                      0.120-0.122 ms
  persistent, with the GELU (best tiling, m128 n128 k64, 3 stages; others to 0.237)
                                                          0.229-0.232 ms
  ping-pong, with the GELU (m128 n128 k64, 4-5 stages)    0.205-0.208 ms (3 stages 0.215)
  grid, with the GELU                                     0.265 ms (m64 n128) to 2.08 ms
The persistent form loses: its matmul is 13% slower than cuBLAS's, and the tensor cores
wait while both compute warpgroups run the epilogue, which costs what the GELU's own
kernel does (0.108 ms). Ping-pong hides part of the epilogue and beats XLA by 3%, 0.006 ms
a layer; the grid form's single instruction stream leaves the tensor cores idle longer.
In the GPT's step (`gpt_levers.py`, alternated with "jkeras"): persistent +0.40 to +0.53
ms a step, ping-pong +0.37 to +0.42 ms, and XLA's own forward pass behind the same custom
VJP (`jkeras_xla_vjp`) +0.41-0.42 ms: the custom VJP's backward pass, not the kernel,
costs the step; the kernel's own gain would be 0.04 ms a step.

Rows: ms per call and TFLOP/s of the matmul, with the largest errors of z and the GELU
against a float32 reference:
- xla: what jkeras's Dense(activation="gelu") compiles to (z and GELU both returned);
- xla_matmul: the matmul with its bias alone (cuBLAS);
- mgpu_*: a fused kernel at one tiling; `plain`: writing z only.

`--interpret` runs the three forms, and the GELU layer's gradients, through Pallas's
Mosaic GPU interpreter on the CPU (about 5 minutes) against XLA's layer.

Usage: python benchmarks/fused_dense.py [--tiny] [--repeats 5] [--shapes 32768x512x2048]
       [--interpret]
"""
import argparse
import dataclasses
import functools
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from jax import lax  # noqa: E402

from benchmarks.gelu_kernels import timed  # noqa: E402
from jkeras import activations  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Tiles:
    tile_m: int = 128
    tile_n: int = 128      # per compute warpgroup; a CTA's tile is (tile_m, 2 tile_n)
    tile_k: int = 64
    stages: int = 3        # tiles of x and w in flight
    epi_m: int = 64        # the epilogue writes (epi_m, epi_n) pieces
    epi_n: int = 64
    snake: int = 8         # output tiles walked in bands this many tiles wide (L2 reuse)
    grid: bool = False     # one CTA a tile, one warpgroup, no warp specialization
    pingpong: bool = False  # each compute warpgroup its own (tile_m, tile_n) tiles, in turn
    sms: int = 0           # CTAs of the persistent forms (0: one an SM)

    def __str__(self):
        tile = f"m{self.tile_m}n{self.tile_n}k{self.tile_k}s{self.stages}"
        if self.grid:
            return "grid_" + tile
        return ("pingpong_" if self.pingpong else "") + \
            f"{tile}e{self.epi_m}x{self.epi_n}w{self.snake}"


def _gelu32(z32, dtype):
    cdf, _ = activations._normal_cdf_pdf(z32, dtype)
    return z32 * cdf


def _swizzled(columns, dtype):
    """The shared-memory transforms for tiles `columns` wide that TMA and wgmma read."""
    from jax.experimental.pallas import mosaic_gpu as plgpu

    itemsize = jnp.dtype(dtype).itemsize
    swizzle = plgpu.find_swizzle(columns * itemsize * 8)
    return (plgpu.TilingTransform((8, swizzle // itemsize)), plgpu.SwizzleTransform(swizzle))


def _bias_row(ref, interpret):
    """A bias slice from shared memory, laid out to broadcast down a wgmma tile's rows."""
    from jax.experimental.pallas import mosaic_gpu as plgpu

    if interpret:  # the CPU interpreter takes no layouts
        return ref[...].astype(jnp.float32)
    return plgpu.load(ref, (), layout=plgpu.Layout.WGMMA.reduce(0)).astype(jnp.float32)


def _biased(acc, bias_ref, bias_ready, t, interpret):
    """A (tile_m, tile_n) tile's float32 accumulators plus its bias slice, once it is in
    shared memory."""
    from jax.experimental.pallas import mosaic_gpu as plgpu

    plgpu.barrier_wait(bias_ready)
    return acc + lax.broadcast_in_dim(_bias_row(bias_ref, interpret), (t.tile_m, t.tile_n),
                                      [1])


def _epilogue(acc, bias_ref, bias_ready, staging, windows, t, gelu, interpret):
    """Adds the bias to a warpgroup's (tile_m, tile_n) float32 accumulators and writes z
    (and its GELU) into `windows` (the tile of each output in global memory) in (epi_m,
    epi_n) pieces through `staging` (shared memory, [output, slot, epi_m, epi_n]): one
    piece's TMA stores in flight while the next is computed."""
    from jax.experimental.pallas import mosaic_gpu as plgpu

    dtype = staging.dtype
    z = _biased(acc, bias_ref, bias_ready, t, interpret)
    plgpu.wait_smem_to_gmem(0, wait_read_only=True)
    pieces = [(i, j) for i in range(t.tile_m // t.epi_m) for j in range(t.tile_n // t.epi_n)]
    for p, (i, j) in enumerate(pieces):
        sl = (slice(i * t.epi_m, (i + 1) * t.epi_m), slice(j * t.epi_n, (j + 1) * t.epi_n))
        slot = p % staging.shape[1]
        zq = z[sl].astype(dtype)
        plgpu.wait_smem_to_gmem(len(windows), wait_read_only=True)
        staging[0, slot] = zq
        if gelu:
            staging[1, slot] = _gelu32(zq.astype(jnp.float32), dtype).astype(dtype)
        plgpu.commit_smem()
        for o, window in enumerate(windows):
            plgpu.copy_smem_to_gmem(staging.at[o, slot], window.at[sl])


def _staging(t, outputs, dtype):
    """Both compute warpgroups' epilogue slots: [warpgroup, output, slot, epi_m, epi_n]."""
    from jax.experimental.pallas import mosaic_gpu as plgpu

    slots = min(2, (t.tile_m // t.epi_m) * (t.tile_n // t.epi_n))
    return plgpu.SMEM((2, outputs, slots, t.epi_m, t.epi_n), dtype,
                      transforms=_swizzled(t.epi_n, dtype))


def _kernel(x_gmem, w_gmem, b_gmem, *outs, tiles, gelu, interpret):
    """The persistent form: each SM's CTA walks output tiles in a snake; per tile, each
    compute warpgroup's epilogue adds its bias slice (fetched while the tensor cores
    work), and writes z (and the GELU) in (epi_m, epi_n) pieces through two shared-memory
    slots, one piece's TMA store in flight while the next is computed."""
    from jax.experimental import pallas as pl
    from jax.experimental.pallas import mosaic_gpu as plgpu

    dtype = x_gmem.dtype
    m, k = x_gmem.shape
    n = w_gmem.shape[1]
    t = tiles
    cta_n = 2 * t.tile_n
    m_iters, n_iters, k_iters = m // t.tile_m, n // cta_n, k // t.tile_k
    in_transforms = _swizzled(t.tile_k, dtype)

    def pipeline(body, context):
        return plgpu.emit_pipeline_warp_specialized(
            body, grid=(k_iters,), memory_registers=40,
            in_specs=[
                plgpu.BlockSpec((t.tile_m, t.tile_k), lambda kk: (0, kk),
                                transforms=in_transforms, memory_space=plgpu.SMEM),
                plgpu.BlockSpec((t.tile_k, cta_n), lambda kk: (kk, 0),
                                transforms=in_transforms, memory_space=plgpu.SMEM),
            ],
            wg_axis="wg", num_compute_wgs=2, max_concurrent_steps=t.stages,
            compute_context=context)

    nothing = lambda *_, **__: None  # noqa: E731

    @functools.partial(
        pl.run_scoped,
        allocs=pipeline(nothing, nothing).get_allocations(x_gmem, w_gmem),
        out_smem=_staging(t, len(outs), dtype),
        bias_smem=plgpu.SMEM((2, t.tile_n), b_gmem.dtype),
        bias_ready=plgpu.Barrier(num_barriers=2),
        collective_axes="wg")
    def _scope(allocs, out_smem, bias_smem, bias_ready):
        wg = lax.axis_index("wg")

        @plgpu.nd_loop((m_iters * n_iters,), collective_axes="sm")
        def _tile(info):
            (index,) = info.index
            mi, ni = plgpu.planar_snake(index, (m_iters, n_iters), 1, t.snake)
            rows = pl.ds(mi * t.tile_m, t.tile_m)
            cols = pl.ds(ni * cta_n, cta_n)
            own = pl.ds(wg * t.tile_n, t.tile_n)

            def context(run_pipeline):
                # The bias's slice arrives while the tensor cores work.
                plgpu.copy_gmem_to_smem(
                    b_gmem.at[pl.ds(ni * cta_n + wg * t.tile_n, t.tile_n)],
                    bias_smem.at[wg], bias_ready.at[wg])

                @functools.partial(pl.run_scoped,
                                   acc_ref=plgpu.ACC((t.tile_m, t.tile_n), jnp.float32))
                def _acc(acc_ref):
                    run_pipeline(acc_ref)
                    _epilogue(acc_ref[...], bias_smem.at[wg], bias_ready.at[wg],
                              out_smem.at[wg], [ref.at[rows, cols].at[:, own] for ref in outs],
                              t, gelu, interpret)

            def multiply(_, x_smem, w_smem, acc_ref):
                plgpu.wgmma(acc_ref, x_smem, w_smem.at[:, own])
                plgpu.wgmma_wait(0)
                return acc_ref

            pipeline(multiply, context)(x_gmem.at[rows, :], w_gmem.at[:, cols],
                                        allocations=allocs)
    plgpu.wait_smem_to_gmem(0, wait_read_only=True)


def _pingpong_kernel(x_gmem, w_gmem, b_gmem, *outs, tiles, gelu, interpret):
    """The ping-pong form: a CTA an SM; its memory warpgroup streams the k-slices of the
    CTA's output tiles in order into `stages` shared-memory slots, and the two compute
    warpgroups take the tiles in turn (even tiles the first, odd the second), so that one
    runs its epilogue while the other's wgmmas keep the tensor cores busy. Each slot's
    "loaded" barrier is kept per compute warpgroup (a warpgroup tracks the phases of the
    barriers it waits on), its "consumed" barrier is shared (only the memory warpgroup
    waits on it)."""
    from jax.experimental import pallas as pl
    from jax.experimental.pallas import mosaic_gpu as plgpu

    dtype = x_gmem.dtype
    m, k = x_gmem.shape
    n = w_gmem.shape[1]
    t = tiles
    m_iters, n_iters, k_iters = m // t.tile_m, n // t.tile_n, k // t.tile_k
    sms = t.sms or _sm_count()
    cta = lax.axis_index("sm")
    count = (m_iters * n_iters - cta + sms - 1) // sms  # this CTA's tiles
    steps = count * k_iters
    in_transforms = _swizzled(t.tile_k, dtype)

    def coords(local):
        return plgpu.planar_snake(cta + local * sms, (m_iters, n_iters), 1, t.snake)

    @functools.partial(
        pl.run_scoped,
        x_smem=plgpu.SMEM((t.stages, t.tile_m, t.tile_k), dtype, transforms=in_transforms),
        w_smem=plgpu.SMEM((t.stages, t.tile_k, t.tile_n), dtype, transforms=in_transforms),
        loaded=plgpu.Barrier(num_arrivals=2, num_barriers=2 * t.stages),
        consumed=plgpu.Barrier(num_arrivals=1, num_barriers=t.stages),
        out_smem=_staging(t, len(outs), dtype),
        bias_smem=plgpu.SMEM((2, t.tile_n), b_gmem.dtype),
        bias_ready=plgpu.Barrier(num_barriers=2),
        collective_axes="wg")
    def _scope(x_smem, w_smem, loaded, consumed, out_smem, bias_smem, bias_ready):
        wg = lax.axis_index("wg")

        @pl.when(wg == 2)
        def _memory():
            plgpu.set_max_registers(40, action="decrease")

            @pl.loop(0, steps)
            def _load(g):
                local, kk = g // k_iters, g % k_iters
                slot = g % t.stages

                @pl.when(g >= t.stages)
                def _():
                    plgpu.barrier_wait(consumed.at[slot])
                mi, ni = coords(local)
                ready = loaded.at[(local % 2) * t.stages + slot]
                plgpu.copy_gmem_to_smem(
                    x_gmem.at[pl.ds(mi * t.tile_m, t.tile_m), pl.ds(kk * t.tile_k, t.tile_k)],
                    x_smem.at[slot], ready)
                plgpu.copy_gmem_to_smem(
                    w_gmem.at[pl.ds(kk * t.tile_k, t.tile_k), pl.ds(ni * t.tile_n, t.tile_n)],
                    w_smem.at[slot], ready)

            @pl.loop(jnp.maximum(steps - t.stages, 0), steps)
            def _quiesce(g):
                plgpu.barrier_wait(consumed.at[g % t.stages])

        @pl.when(wg < 2)
        def _compute():
            plgpu.set_max_registers(232, action="increase")

            @pl.loop(wg, count, step=2)
            def _tile(local):
                mi, ni = coords(local)
                rows, cols = pl.ds(mi * t.tile_m, t.tile_m), pl.ds(ni * t.tile_n, t.tile_n)
                plgpu.copy_gmem_to_smem(b_gmem.at[cols], bias_smem.at[wg], bias_ready.at[wg])

                def multiply(acc):
                    @pl.loop(0, k_iters)
                    def _step(kk):
                        g = local * k_iters + kk
                        slot = g % t.stages
                        plgpu.barrier_wait(loaded.at[wg * t.stages + slot])
                        plgpu.wgmma(acc, x_smem.at[slot], w_smem.at[slot])
                        plgpu.wgmma_wait(1)  # the step before's wgmma is done

                        @pl.when(kk > 0)
                        def _():
                            plgpu.barrier_arrive(consumed.at[(g - 1) % t.stages])
                    plgpu.wgmma_wait(0)
                    plgpu.barrier_arrive(consumed.at[(local * k_iters + k_iters - 1)
                                                     % t.stages])
                    return acc[...]

                total = pl.run_scoped(multiply, plgpu.ACC((t.tile_m, t.tile_n), jnp.float32))
                _epilogue(total, bias_smem.at[wg], bias_ready.at[wg], out_smem.at[wg],
                          [ref.at[rows, cols] for ref in outs], t, gelu, interpret)
            plgpu.wait_smem_to_gmem(0, wait_read_only=True)


def _grid_kernel(x_gmem, w_gmem, b_gmem, *refs, tiles, gelu, interpret):
    """One (tile_m, tile_n) output tile a CTA, by one warpgroup: its TMA loads and wgmmas
    from one instruction stream (one wgmma left in flight), then the epilogue. Small
    enough in shared memory that two or more CTAs share an SM, so that one's epilogue
    runs while another's tensor-core work does."""
    from jax.experimental import pallas as pl
    from jax.experimental.pallas import mosaic_gpu as plgpu

    outs, (out_smem, bias_smem, bias_ready) = refs[:-3], refs[-3:]
    dtype = x_gmem.dtype
    t = tiles
    transforms = _swizzled(t.tile_k, dtype)
    mi, ni = lax.axis_index("m"), lax.axis_index("n")
    rows, cols = pl.ds(mi * t.tile_m, t.tile_m), pl.ds(ni * t.tile_n, t.tile_n)
    plgpu.copy_gmem_to_smem(b_gmem.at[cols], bias_smem, bias_ready)

    def multiply(acc):
        def step(_, x_smem, w_smem):
            plgpu.wgmma(acc, x_smem, w_smem)
            plgpu.wgmma_wait(1)

        plgpu.emit_pipeline(
            step, grid=(x_gmem.shape[1] // t.tile_k,),
            in_specs=[plgpu.BlockSpec((t.tile_m, t.tile_k), lambda kk: (mi, kk),
                                      transforms=transforms, delay_release=1),
                      plgpu.BlockSpec((t.tile_k, t.tile_n), lambda kk: (kk, ni),
                                      transforms=transforms, delay_release=1)],
            max_concurrent_steps=t.stages)(x_gmem, w_gmem)
        return acc[...]

    total = pl.run_scoped(multiply, plgpu.ACC((t.tile_m, t.tile_n), jnp.float32))
    z = _biased(total, bias_smem, bias_ready, t, interpret).astype(dtype)
    out_smem[0] = z
    if gelu:
        out_smem[1] = _gelu32(z.astype(jnp.float32), dtype).astype(dtype)
    plgpu.commit_smem()
    for o, ref in enumerate(outs):
        plgpu.copy_smem_to_gmem(out_smem.at[o], ref.at[rows, cols])
    plgpu.wait_smem_to_gmem(0)


def _grid_call(x, w, b, t, gelu, interpret):
    from jax.experimental.pallas import mosaic_gpu as plgpu

    m, n = x.shape[0], w.shape[1]
    out = jax.ShapeDtypeStruct((m, n), x.dtype)
    count = 2 if gelu else 1
    call = plgpu.kernel(
        functools.partial(_grid_kernel, tiles=t, gelu=gelu, interpret=bool(interpret)),
        out_type=(out, out) if gelu else (out,),
        scratch_types=(
            plgpu.SMEM((count, t.tile_m, t.tile_n), x.dtype,
                       transforms=_swizzled(t.tile_n, x.dtype)),
            plgpu.SMEM((t.tile_n,), x.dtype),
            plgpu.Barrier(num_arrivals=1)),
        grid=(m // t.tile_m, n // t.tile_n), grid_names=("m", "n"),
        interpret=interpret or None)
    return call(x, w, b.astype(x.dtype))


def _sm_count():
    device = jax.devices()[0]
    return getattr(device, "core_count", None) or 132


def fused_dense(x, w, b, tiles=Tiles(), gelu=True, interpret=False):
    """(z, gelu(z)) for z = x @ w + b rounded to x's dtype (only z when `gelu` is False),
    from one Mosaic GPU kernel. x: (m, k), w: (k, n), b: (n,), all 16-bit; m, n and k
    multiples of the tiles."""
    from jax.experimental.pallas import mosaic_gpu as plgpu

    m, k = x.shape
    n = w.shape[1]
    t = tiles
    wide = 1 if t.grid or t.pingpong else 2  # the persistent form's CTA: two tiles wide
    if m % t.tile_m or n % (wide * t.tile_n) or k % t.tile_k:
        raise ValueError(f"fused_dense: shape {(m, k, n)} is not a multiple of the tiles "
                         f"({t.tile_m}, {t.tile_k}, {wide * t.tile_n})")
    if t.grid:
        return _grid_call(x, w, b, t, gelu, interpret)
    out = jax.ShapeDtypeStruct((m, n), x.dtype)
    call = plgpu.kernel(
        functools.partial(_pingpong_kernel if t.pingpong else _kernel, tiles=t, gelu=gelu,
                          interpret=bool(interpret)),
        out_type=(out, out) if gelu else (out,),
        grid=(t.sms or _sm_count(),), grid_names=("sm",),
        num_threads=3, thread_name="wg", interpret=interpret or None,
        compiler_params=plgpu.CompilerParams(
            lowering_semantics=plgpu.LoweringSemantics.Warpgroup))
    return call(x, w, b.astype(x.dtype))


@functools.partial(jax.custom_vjp, nondiff_argnums=(3, 4))
def dense_gelu(x, w, b, tiles=Tiles(), interpret=False):
    """gelu(x @ w + b) over x's last axis, forward by `fused_dense`; the backward pass is
    XLA's, from the kept pre-activation (jkeras's exact derivative of the GELU)."""
    return _dense_gelu_fwd(x, w, b, tiles, interpret)[0]


def _dense_gelu_fwd(x, w, b, tiles, interpret):
    flat = x.reshape(-1, x.shape[-1])
    # tiles=None: XLA's forward pass, this backward pass (the custom VJP's own cost).
    z, h = xla_dense(flat, w, b) if tiles is None else fused_dense(flat, w, b, tiles,
                                                                  interpret=interpret)
    shape = x.shape[:-1] + (w.shape[1],)
    return h.reshape(shape), (x, w, z.reshape(shape), b)


def _dense_gelu_bwd(tiles, interpret, residuals, g):
    x, w, z, b = residuals
    dz = activations._gelu_exact_tangent(z, g)
    lead = tuple(range(x.ndim - 1))
    dw = jax.lax.dot_general(x, dz, ((lead, lead), ((), ())))
    db = jnp.sum(dz.astype(jnp.float32), axis=lead).astype(b.dtype)
    return dz @ w.T, dw.astype(w.dtype), db


dense_gelu.defvjp(_dense_gelu_fwd, _dense_gelu_bwd)


def xla_matmul(x, w, b):
    return x @ w + b.astype(x.dtype)


def xla_dense(x, w, b):
    z = xla_matmul(x, w, b)
    return z, activations.gelu(z)


def _gap(a, c):
    """The largest absolute difference of two arrays, in float32."""
    return float(jnp.max(jnp.abs(a.astype(jnp.float32) - c.astype(jnp.float32))))


TILINGS = [Tiles(pingpong=True, stages=4), Tiles(pingpong=True, stages=5),
           Tiles(pingpong=True, stages=4, snake=4), Tiles(pingpong=True, stages=3),
           Tiles(), Tiles(snake=4), Tiles(snake=16), Tiles(tile_n=64, stages=4),
           Tiles(tile_m=64, stages=4), Tiles(tile_m=64, tile_n=128, stages=3, grid=True),
           Tiles(tile_m=64, tile_n=64, stages=4, grid=True),
           Tiles(tile_m=128, tile_n=128, stages=3, grid=True)]


def interpreted_errors():
    """{form: (max |z - XLA's|, max |GELU - XLA's|, max |gradient - XLA's| over x, w, b)},
    each kernel form run by the Mosaic GPU interpreter on a small layer."""
    from jax._src.pallas.mosaic_gpu.interpret.params import InterpretGPUParams

    keys = jax.random.split(jax.random.PRNGKey(1), 4)
    x = jax.random.normal(keys[0], (2, 64, 128), jnp.bfloat16)
    w = (jax.random.normal(keys[1], (128, 256)) / math.sqrt(128)).astype(jnp.bfloat16)
    b = (jax.random.normal(keys[2], (256,)) * 0.5).astype(jnp.bfloat16)
    g = jax.random.normal(keys[3], (2, 64, 256), jnp.bfloat16)
    z0, h0 = xla_dense(x.reshape(-1, 128), w, b)
    pulled0 = jax.vjp(lambda *a: xla_dense(*a)[1], x, w, b)[1](g)
    result = {}
    for form, tiles in (("persistent", Tiles(tile_m=64, tile_n=64, stages=2, snake=2)),
                        # Three CTAs of eleven tiles each, the slots wrapping across tiles.
                        ("ping-pong", Tiles(tile_m=64, tile_n=64, stages=3, snake=2,
                                            pingpong=True, sms=3)),
                        ("grid", Tiles(tile_m=64, tile_n=128, stages=2, grid=True))):
        params = InterpretGPUParams()
        z, h = fused_dense(x.reshape(-1, 128), w, b, tiles, interpret=params)
        pulled = jax.vjp(lambda *a: dense_gelu(*a, tiles, params), x, w, b)[1](g)
        result[form] = (_gap(z, z0), _gap(h, h0),
                        [_gap(a, c) for a, c in zip(pulled, pulled0)])
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interpret", action="store_true",
                        help="check the three kernel forms on the CPU, by the interpreter")
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--shapes", default="32768x512x2048")
    parser.add_argument("--tilings", type=int, default=len(TILINGS))
    args = parser.parse_args()
    if args.interpret:
        for form, (dz, dh, grads) in interpreted_errors().items():
            print(f"{form}: max |dz| {dz:.4f}  max |dh| {dh:.4f}  gradients (x, w, b) "
                  f"{', '.join(f'{v:.4f}' for v in grads)} against XLA's bfloat16 layer")
        return
    shapes = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
    if args.tiny:
        shapes = [(1024, 256, 512)]
    print(f"jax {jax.__version__}, {jax.devices()[0].device_kind}")
    for m, k, n in shapes:
        keys = jax.random.split(jax.random.PRNGKey(0), 8)
        xs = [jax.random.normal(key, (m, k), jnp.bfloat16) for key in keys[:3]]
        w = (jax.random.normal(keys[4], (k, n), jnp.float32) / math.sqrt(k)).astype(
            jnp.bfloat16)
        b = jax.random.normal(keys[5], (n,), jnp.float32).astype(jnp.bfloat16) * 0.5
        z32 = xs[0].astype(jnp.float32) @ w.astype(jnp.float32) + b.astype(jnp.float32)
        h32 = z32 * 0.5 * (1.0 + jax.scipy.special.erf(z32 / math.sqrt(2.0)))
        flop = 2.0 * m * k * n
        print(f"shape {m}x{k} @ {k}x{n}: {flop / 1e9:.1f} GFLOP")
        rows = [("xla", jax.jit(xla_dense), True), ("xla_matmul", jax.jit(xla_matmul), False)]
        for tiles in TILINGS[:args.tilings]:
            rows.append((f"mgpu_{tiles}", jax.jit(functools.partial(fused_dense,
                                                                    tiles=tiles)), True))
            if tiles == Tiles():
                rows.append((f"mgpu_plain_{tiles}", jax.jit(functools.partial(
                    fused_dense, tiles=tiles, gelu=False)), False))
        for name, fn, has_gelu in rows:
            try:
                seconds = timed(fn, [(x, w, b) for x in xs], args.repeats)
                out = fn(xs[0], w, b)
            except Exception as error:  # a tiling the kernel or the chip refuses
                print(f"  {name:<34} failed: {type(error).__name__}: "
                      f"{str(error).splitlines()[0][:200]}")
                continue
            z = out[0] if isinstance(out, (tuple, list)) else out
            err_z = _gap(z, z32)
            err_h = _gap(out[1], h32) if has_gelu else float("nan")
            print(f"  {name:<34} {seconds * 1e3:8.4f} ms  {flop / seconds / 1e12:6.1f} "
                  f"TFLOP/s  max|dz| {err_z:.4f}  max|dh| {err_h:.4f}")


if __name__ == "__main__":
    main()
