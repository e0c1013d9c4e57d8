"""Which input buffers of `fit`'s train step moved between steps, and between one call's
last step and the next call's first (issue 12's profile).

XLA runs a program's kernels as a recorded command buffer (a CUDA graph) and records it
again, kernel by kernel, for every kernel whose buffers moved since the last run.
kernel_trace.py (--spans command_buffer::update) showed the GPT's first step of each
`fit` call re-recording for 3.5 ms with the device idle, and every later step for
0.05 ms. This prints, for gpu_suite.py's model, every input leaf (by its path in the
step's arguments) whose device address differs from the step before; with --temps, also
where the step's scratch buffer was (see `_temp_address`).

On one H200 (2026-12-02, GPT, 3 calls of 8 steps): every step moves only the batch
number (a device scalar per number, kept: the 0.05 ms updates), each epoch's first step
the metric accumulators too, and a call's first step exactly what an epoch's first step
moves; the weights, optimizer state, copies and chunk keep their buffers from call to
call, and so does the 4.4 GB scratch buffer. No program compiles in a warm call
(JAX_LOG_COMPILES=1), so no new executable evicts the command buffers either. The
re-recording the profiler shows at a call's first step is left unexplained (it may be
the profiler's own: a call's fixed cost without it, from gpu_suite.py's slopes, is what
the host's set-up and the idle device's first launch take).

Usage: python benchmarks/call_buffers.py [--case gpt] [--calls 3] [--steps 8] [--temps]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from benchmarks import fit_timeline, gpu_suite  # noqa: E402


def _addresses(args):
    leaves, _ = jax.tree_util.tree_flatten_with_path(args)
    return {jax.tree_util.keystr(path): a.unsafe_buffer_pointer() for path, a in leaves
            if isinstance(a, jax.Array)}


def _temp_address(size):
    """Where an allocation of `size` bytes lands now: right after a program's dispatch,
    where that program's scratch (temp) buffer was, its block being free again."""
    probe = jnp.zeros((size,), jnp.uint8)
    address = probe.unsafe_buffer_pointer()
    probe.delete()
    return address


def _watch(steps, mark=False, temps=None):
    """Notes the input addresses of each train program the trainer dispatches; with
    `mark`, also writes a line to stderr before each (to place other log lines);
    with `temps` (a list), the address an allocation of the program's temp size gets
    right after it."""
    temp_size = {}

    def watched(kind, program, args, kwargs):
        if not kind.startswith("train"):
            return program(*args, **kwargs)
        steps.append((kind, _addresses(args)))
        if mark:
            print(f"== dispatch {kind} {len(steps) - 1}", file=sys.stderr, flush=True)
        if temps is not None and kind not in temp_size:
            temp_size[kind] = program.lower(*args).compile().memory_analysis() \
                .temp_size_in_bytes
        result = program(*args, **kwargs)
        if temps is not None:
            temps.append(_temp_address(temp_size[kind]) if temp_size[kind] else 0)
        return result
    fit_timeline.wrap_dispatches(watched)


def moved(before, after):
    return sorted(k for k in after if before.get(k) != after[k])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", default="gpt", choices=sorted(gpu_suite.SHAPES))
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--temps", action="store_true",
                        help="also where each step's temp buffer was (see _temp_address)")
    parser.add_argument("--mark", action="store_true",
                        help="a stderr line before each call and dispatch (read beside "
                             "other logs, as JAX_LOG_COMPILES=1 writes)")
    args = parser.parse_args()
    shape, data, model = gpu_suite.jkeras_case(args.case)
    fit, _ = gpu_suite.run_fit(model, data, shape, args.steps)
    fit()  # compiles
    steps, temps = [], [] if args.temps else None
    _watch(steps, args.mark, temps)
    calls, call_temps = [], []
    for c in range(args.calls):
        del steps[:]
        if temps is not None:
            del temps[:]
        if args.mark:
            print(f"== call {c}", file=sys.stderr, flush=True)
        fit()
        calls.append(list(steps))
        call_temps.append(list(temps or ()))
    print(f"device: {jax.devices()[0].device_kind}; case {args.case}")
    for c, call in enumerate(calls):
        for s, (kind, addresses) in enumerate(call):
            if s:
                before = call[s - 1][1]
            elif c:
                before = calls[c - 1][-1][1]
            else:
                continue
            changed = moved(before, addresses)
            temp = f", temp at {call_temps[c][s]:#x}" if call_temps[c] else ""
            print(f"call {c} step {s} ({kind}){temp}: {len(changed)} of {len(addresses)} "
                  "moved" + (": " + ", ".join(changed[:12]) if changed else ""))


if __name__ == "__main__":
    main()
