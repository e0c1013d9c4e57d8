"""What a GPT step costs when the device waits for it: one hand-written step (gpt_levers.py's
"jkeras" variant) dispatched to an idle device, timed from the call to its result, after
each of several changes to what the step was last run with (issue 12's profile).

`fit`'s kernel trace showed the device idle for 5-6 ms before a call's first step, 1.9 ms
with XLA's command buffers (CUDA graphs) turned off: a command buffer is recorded again
when a buffer it uses moved since its last run. This separates the causes: each row runs
one step on an idle device, right after
- same: the step it follows (same carry buffers, same batch);
- batch: a batch in a buffer of its own (a new gather, as `fit` cuts each epoch's);
- other: another program ran in between (allocating and freeing 256 MB);
- carry: the carry copied into new buffers (as a call's state from another program);
and prints the time over a queued step's (`steady`): the host's share before the device
starts. Run it twice, with XLA_FLAGS=--xla_gpu_enable_command_buffer= the second time.

On one H200 (2026-12-02, jax 0.11.2), over a queued step of 14.8 ms: same +1.4 ms, batch
+3.7, other +1.6, carry +4.3; with command buffers off, +1.1 to +2.1 ms for all four. So a
moved input buffer costs the first step about 2.3-2.9 ms of recording, and another
program in between costs nothing. In `fit` the first step of a call gets a new chunk, new
metric accumulators and another batch index than the call before's last step; but giving
it the very buffers of the step before (tried the same day: the short run's chunk kept,
the batch number a donated cursor, the accumulators zeroed in place, checked on the CPU
by buffer address) left the device idle 7.6 ms before that step and each step's dispatch
at 1.1-1.9 ms of host time: there the wait has another cause, not found yet, and the
change was not kept.

Usage: python benchmarks/first_dispatch.py [--tiny] [--repeats 5]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import jkeras  # noqa: E402
from benchmarks import gpt_levers  # noqa: E402
from benchmarks import gpu_suite as G  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    shape = G.SHAPES["gpt"]["tiny" if args.tiny else "full"]
    model = G.build_compiled(jkeras, "gpt", shape, jkeras.mixed_precision.set_global_policy,
                             None)
    params, _ = G.hand_params("gpt", model, shape)
    data = G.make_data("gpt", shape, 2 * shape["batch"])
    batches = gpt_levers.device_batches(shape, data, 2)
    step, tx = gpt_levers.make_step(
        gpt_levers.make_loss(shape["heads"], **gpt_levers.VARIANTS["jkeras"]))
    other = jax.jit(lambda n: jnp.zeros((64 << 20,), jnp.float32) + n)
    carry = [(jax.tree_util.tree_map(jnp.copy, params), tx.init(params))]
    x, y = batches[0]

    def run(n, batch=(x, y)):
        loss = None
        for _ in range(n):
            carry[0], loss = step(carry[0], *batch)
        return float(loss)
    run(5)
    start = time.perf_counter()
    run(10)
    steady = (time.perf_counter() - start) / 10

    def fresh_batch():
        return tuple(jax.tree_util.tree_map(jnp.copy, b) for b in (x, y))

    def perturb(kind):
        if kind == "other":
            float(other(1.0)[0])
        elif kind == "carry":
            carry[0] = jax.tree_util.tree_map(jnp.copy, carry[0])
            jax.block_until_ready(carry[0])
        return fresh_batch() if kind == "batch" else (x, y)

    print(f"device: {jax.devices()[0].device_kind}; XLA_FLAGS="
          f"{os.environ.get('XLA_FLAGS', '')!r}; a queued step: {steady * 1e3:.3f} ms")
    for kind in ("same", "batch", "other", "carry"):
        times = []
        for _ in range(args.repeats):
            batch = perturb(kind)
            jax.block_until_ready(batch)
            start = time.perf_counter()
            run(1, batch)
            times.append(time.perf_counter() - start)
        times.sort()
        print(f"  after {kind:<6} one step {times[len(times) // 2] * 1e3:8.3f} ms (median of "
              f"{args.repeats}), {(times[len(times) // 2] - steady) * 1e3:+7.3f} ms over "
              f"a queued one")


if __name__ == "__main__":
    sys.exit(main())
