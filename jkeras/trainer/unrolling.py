"""Scans whose loop unrolls where a turn of the loop costs more than a small step.

On a GPU, XLA runs a `lax.scan` as a loop driven by the host: each turn evaluates the
loop's condition, copies it to the host and launches the body's kernels again, about 10 us
on an H200 machine. A small model's train step (an MNIST MLP: 40 us) loses a fifth of its
time to that. `scan` traces the body once, counts its matmul and convolution FLOPs, and
unrolls the loop by `UNROLL` when they are below `SMALL_STEP_FLOPS` (about 10 us of matmul
on current GPUs), so the loop turns a quarter as often: measured on one H200, the MNIST
MLP's scanned step went from 42 to 35 us.

Unrolling makes the program compile longer (the MLP's scan: about 0.5 s more on a 2-core
CPU), which a short run never earns back. So the trainer asks for it only where the user
set `steps_per_execution` above 1, the Keras setting for "my steps are small, run many per
dispatch". Bigger steps keep one body per turn, and so do CPUs and TPUs, whose loops run on
the device.
"""
import math

import jax
from jax.extend import core as jax_core

__all__ = ["scan", "step_flops", "host_drives_loops", "UNROLL", "SMALL_STEP_FLOPS"]

UNROLL = 4
SMALL_STEP_FLOPS = 2e9
# Backends whose loops turn on the host (`jax.default_backend()` names).
HOST_DRIVEN_LOOPS = frozenset({"gpu", "cuda", "rocm"})


def scan(body, init, xs, unroll_small=True):
    """`jax.lax.scan(body, init, xs)`, unrolled by `UNROLL` (`unroll_small`) for a small
    body on a backend whose loops the host drives. The body is traced once either way
    (there, into a jaxpr that the scan then replays)."""
    if not unroll_small or not host_drives_loops():
        return jax.lax.scan(body, init, xs)
    item = jax.tree_util.tree_map(lambda a: _spec(a, a.shape[1:]), xs)
    carry = jax.tree_util.tree_map(lambda a: _spec(a, a.shape), init)
    closed, out_shape = jax.make_jaxpr(body, return_shape=True)(carry, item)
    out_tree = jax.tree_util.tree_structure(out_shape)
    unroll = UNROLL if step_flops(closed.jaxpr) < SMALL_STEP_FLOPS else 1

    def replay(c, x):
        out = jax_core.jaxpr_as_fun(closed)(*jax.tree_util.tree_leaves((c, x)))
        return jax.tree_util.tree_unflatten(out_tree, out)
    return jax.lax.scan(replay, init, xs, unroll=unroll)


def host_drives_loops():
    """Whether the default backend's loops turn on the host (where unrolling pays)."""
    return jax.default_backend() in HOST_DRIVEN_LOOPS


def _spec(array, shape):
    aval = jax.typeof(array)
    return jax.ShapeDtypeStruct(shape, aval.dtype, weak_type=aval.weak_type)


def step_flops(jaxpr):
    """Multiply-adds (as 2 FLOPs) of the matmuls and convolutions in `jaxpr`, those of
    nested programs included (a scan's body counted once per turn)."""
    total = 0
    for eqn in jaxpr.eqns:
        name = eqn.primitive.name
        if name == "dot_general":
            (contracting, _), _ = eqn.params["dimension_numbers"]
            lhs = eqn.invars[0].aval.shape
            total += 2 * _size(eqn.outvars[0].aval.shape) * _size(lhs[d] for d in contracting)
        elif name == "conv_general_dilated":
            rhs = eqn.invars[1].aval.shape
            spec = eqn.params["dimension_numbers"].rhs_spec  # (out, in, *window)
            total += 2 * _size(eqn.outvars[0].aval.shape) * _size(rhs[d] for d in spec[1:])
        times = eqn.params.get("length", 1) if name == "scan" else 1
        for sub in jax_core.jaxprs_in_params(eqn.params):
            total += times * step_flops(sub)
    return total


def _size(dims):
    return math.prod(int(d) for d in dims)
