"""Where a `fit`'s time goes on the GPU, against the hand-written loop: kernel time by kind,
and the device's idle gaps with the Python frames that ran during each (issue 12's
profile).

Traces one timed run of each contender of `gpu_suite.py` (same model, data and loop) with
`jax.profiler` into a Perfetto trace, then reads the trace: kernels on the compute stream
are summed by kind (matmul, cuDNN attention, reductions, other fusions, copies), and every
gap of `--gap-us` or more between consecutive kernels is attributed to the innermost Python
frames running at its middle (the profiler's Python tracer records them).

Case "spe" is fit_vs_jax.py's MLP (784-256-256-10, batch 128) with steps_per_execution=32
against its hand-written scan of 32 steps (--steps: epochs of 192 steps, default 2).

`--diff N` lists, side by side for every contender, the N kernel names (their numbers
stripped, so that "fusion.12" and "fusion.31" count as one) with the most time a step, and
how many of each launch a step: what one program runs that another does not. For the GPT it
adds the hand-written loop with jkeras's kernel choices (gpt_levers.py's "jkeras" variant),
for "spe" the hand-written scan that also sums its losses.

`--spans NAME,...` counts the runtime's own spans of those names (command_buffer::update:
a command buffer recorded again) and lists each; `--pairs LOW,HIGH` names the kernels
either side of the idle gaps of LOW-HIGH us.

Usage: python benchmarks/kernel_trace.py [--case gpt|mlp|cnn|spe] [--steps 8] [--out DIR]
       [--top N] [--diff N] [--unshuffled] [--spans NAMES] [--pairs LOW,HIGH]
On a CPU the trace has no GPU stream and the tables stay empty.
"""
import argparse
import collections
import glob
import gzip
import json
import os
import re
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402

from benchmarks import gpu_suite  # noqa: E402

_KINDS = (("attention (cuDNN)", ("flash", "sdpa", "fmha", "cudnn")),
          ("matmul", ("gemm", "nvjet", "cutlass", "xmma", "cublas", "dot")),
          ("reductions", ("reduce", "softmax")),
          ("copies", ("memcpy", "memset", "copy")))


def kind_of(name):
    lowered = name.lower()
    for kind, marks in _KINDS:
        if any(mark in lowered for mark in marks):
            return kind
    return "other fusions"


def traced(run, directory):
    run()  # warm
    with jax.profiler.trace(directory, create_perfetto_trace=True):
        run()
    return glob.glob(os.path.join(directory, "**", "perfetto_trace.json.gz"),
                     recursive=True)[0]


def read(path):
    events = json.load(gzip.open(path))
    events = events["traceEvents"] if isinstance(events, dict) else events
    meta = {(e["pid"], e.get("tid")): e["args"]["name"] for e in events
            if e.get("ph") == "M" and e.get("name") in ("process_name", "thread_name")}
    gpus = {pid for (pid, tid), name in meta.items() if tid is None and "GPU" in name}
    device = [dict(e, stream=meta.get((e["pid"], e["tid"]), "")) for e in events
              if e.get("ph") == "X" and e["pid"] in gpus]
    kernels = sorted((e for e in device if "Compute" in e["stream"]), key=lambda e: e["ts"])
    others = [e for e in device if "Compute" not in e["stream"]]
    host = [e for e in events if e.get("ph") == "X" and e["pid"] not in gpus]
    frames = [e for e in host if e["name"].startswith("$")]
    # The runtime's own spans (XLA's thunks, command buffers, CUDA API calls), listed
    # among the Python frames marked "[runtime]"
    runtime = [dict(e, name="$[runtime] " + e["name"]) for e in host
               if not e["name"].startswith("$")]
    return kernels, frames + runtime + [
        dict(e, name="$[device " + e["stream"] + "] " + e["name"]) for e in others]


# Upper bounds of the idle-gap histogram, in microseconds: launch gaps, short waits, the
# host's own stalls.
GAP_BUCKETS_US = (2, 5, 20, 100, 1000, float("inf"))


def idle_between(kernels):
    """`(kernel, next kernel, end of all work before it, idle us until it)` for each
    consecutive pair (a kernel may end after later ones start: the latest end counts)."""
    end = kernels[0]["ts"]
    for before, after in zip(kernels, kernels[1:]):
        end = max(end, before["ts"] + before["dur"])
        yield before, after, end, after["ts"] - end


def report(name, kernels, frames, gap_us, steps, top=0, depth=5, pairs=None):
    if not kernels:
        print(f"{name}: no GPU kernels in the trace")
        return
    busy = collections.Counter()
    for k in kernels:
        busy[kind_of(k["name"])] += k["dur"]
    span = kernels[-1]["ts"] + kernels[-1]["dur"] - kernels[0]["ts"]
    total = sum(busy.values())
    print(f"{name}: {len(kernels)} kernels, {total / 1e3:.2f} ms busy over {span / 1e3:.2f} ms "
          f"({total / 1e3 / steps:.3f} ms of kernels a step)")
    for kind, us in busy.most_common():
        print(f"   {kind:<20}{us / 1e3:9.2f} ms {us / total:6.1%}")
    if top:
        by_name = collections.Counter()
        calls = collections.Counter()
        for k in kernels:
            by_name[k["name"]] += k["dur"]
            calls[k["name"]] += 1
        print(f"   the {top} kernels with the most time (ms a step, launches a step):")
        for kernel, us in by_name.most_common(top):
            print(f"     {us / 1e3 / steps:7.3f} {calls[kernel] / steps:5.1f}  {kernel[:90]}")
    gaps, spread = [], collections.Counter()
    for _, after, end, idle in idle_between(kernels):
        spread[next(b for b in GAP_BUCKETS_US if idle < b)] += max(idle, 0.0)
        spread[-next(b for b in GAP_BUCKETS_US if idle < b)] += 1
        if idle >= gap_us:
            gaps.append((idle, end, after["ts"]))
    print("   all idle time between kernels, by gap length (ms a step, gaps a step):")
    low = 0
    for bound in GAP_BUCKETS_US:
        if spread[-bound]:
            print(f"     {low:>6g}-{bound:<6g}us {spread[bound] / 1e3 / steps:8.3f} "
                  f"{spread[-bound] / steps:7.1f}")
        low = bound
    print(f"   idle gaps >= {gap_us} us: {len(gaps)}, {sum(g for g, _, _ in gaps) / 1e3:.2f} ms")
    for gap, start, stop in sorted(gaps, reverse=True)[:6]:
        middle = (start + stop) / 2
        inner = sorted((f for f in frames if not f["name"].startswith(_NOT_PYTHON) and
                        f["ts"] <= middle <= f["ts"] + f["dur"]),
                       key=lambda f: f["dur"])[:depth]
        print(f"     {gap / 1e3:7.2f} ms in: " + " < ".join(f["name"][1:] for f in inner))
    if gaps:
        around_gap(max(gaps), kernels, frames)
    if pairs:
        gap_pairs(kernels, steps, pairs)


_NOT_PYTHON = ("$[device", "$[runtime")


def around_gap(gap, kernels, frames, shown=40, min_us=100.0):
    """The kernels either side of the longest gap, and what overlaps it (ms from the gap's
    start): Python calls and the runtime's spans (XLA's thunks, CUDA API calls) of
    `min_us` or more, and device work on other streams (copies)."""
    _, start, stop = gap
    before = [k for k in kernels if k["ts"] < start][-3:]
    after = [k for k in kernels if k["ts"] >= stop][:3]
    print(f"   around the longest gap ({(stop - start) / 1e3:.2f} ms):")
    for k in before + after:
        print(f"     kernel {(k['ts'] - start) / 1e3:8.3f} ms  {k['name'][:70]}")
    calls = sorted((f for f in frames if (f["dur"] >= min_us or "[device" in f["name"]) and
                    f["ts"] < stop and f["ts"] + f["dur"] > start), key=lambda f: f["ts"])
    for f in calls[:shown]:
        tag = "device" if f["name"].startswith("$[device") else \
            "runtime" if f["name"].startswith("$[runtime") else "python"
        print(f"     {tag:<7} {(f['ts'] - start) / 1e3:8.3f} ms for {f['dur'] / 1e3:7.3f} ms  "
              f"{f['name'][1:][-70:]}")


def gap_pairs(kernels, steps, bounds, shown=16):
    """The kernel pairs (numbers stripped from their names) most often found either side of
    an idle gap between `bounds` microseconds: which launches the device waits between."""
    low, high = bounds
    counts, idle = collections.Counter(), collections.Counter()
    for before, after, _, gap in idle_between(kernels):
        if low <= gap < high:
            pair = (_stripped(before["name"])[:40], _stripped(after["name"])[:40])
            counts[pair] += 1
            idle[pair] += gap
    print(f"   kernel pairs around gaps of {low:g}-{high:g} us (a step: gaps, us in all):")
    for pair, count in counts.most_common(shown):
        print(f"     {count / steps:5.1f} {idle[pair] / steps:7.1f}  {pair[0]}  ->  {pair[1]}")


def span_summary(kernels, frames, names, shown=24):
    """For each runtime span named in `names`: how many ran, their total, and each one's
    start (ms from the first kernel), length and arguments (a command buffer's update
    gives its number of commands)."""
    origin = kernels[0]["ts"] if kernels else 0.0
    for name in names:
        spans = sorted((f for f in frames if f["name"] == "$[runtime] " + name),
                       key=lambda f: f["ts"])
        total = sum(f["dur"] for f in spans)
        print(f"   span {name}: {len(spans)}, {total / 1e3:.3f} ms in all")
        for f in spans[:shown]:
            extra = {k: v for k, v in f.get("args", {}).items()
                     if k != "long_name" and not k.startswith("_")}
            print(f"     at {(f['ts'] - origin) / 1e3:9.3f} ms for {f['dur'] / 1e3:7.3f} ms"
                  f"  {extra}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", default="gpt", choices=sorted(gpu_suite.SHAPES) + ["spe"])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--gap-us", type=float, default=200.0)
    parser.add_argument("--out", help="keep the traces here (default: a temporary folder)")
    parser.add_argument("--frames", type=int, default=5,
                        help="Python frames shown for each idle gap, innermost first")
    parser.add_argument("--top", type=int, default=0,
                        help="also list the kernels with the most time, by name")
    parser.add_argument("--unshuffled", action="store_true",
                        help="spe: fit with shuffle=False (the scan's own batch order)")
    parser.add_argument("--diff", type=int, default=0,
                        help="also list kernel names side by side across the contenders")
    parser.add_argument("--pairs", default="",
                        help="LOW,HIGH: the kernels either side of gaps of LOW-HIGH us")
    parser.add_argument("--spans", default="",
                        help="comma-separated runtime span names (as command_buffer::update):"
                             " each one's count, total and every occurrence")
    args = parser.parse_args()
    out = args.out or tempfile.mkdtemp(prefix="kernel_trace_")
    if args.case == "spe":
        contenders = _spe_contenders(args.steps, args.diff, not args.unshuffled)
    else:
        contenders = _suite_contenders(args.case, args.steps, args.diff)
    print(f"device: {jax.devices()[0].device_kind}; case {args.case}")
    tables = {}
    for i, (name, run, count) in enumerate(contenders):
        path = traced(run, os.path.join(out, str(i)))
        kernels, frames = read(path)
        report(name, kernels, frames, args.gap_us, count, args.top, args.frames,
               [float(b) for b in args.pairs.split(",")] if args.pairs else None)
        if args.spans:
            span_summary(kernels, frames, args.spans.split(","))
        tables[name] = by_stripped_name(kernels, count)
    if args.diff:
        side_by_side(tables, args.diff)


def _stripped(name):
    """A kernel's name without its numbers ("fusion.12" and "fusion.31" alike)."""
    return re.sub(r"[._]?\d+", "", name)


def by_stripped_name(kernels, steps):
    """{kernel name without its numbers: [ms a step, launches a step]}."""
    table = collections.defaultdict(lambda: [0.0, 0.0])
    for k in kernels:
        entry = table[_stripped(k["name"])[:70]]
        entry[0] += k["dur"] / 1e3 / steps
        entry[1] += 1 / steps
    return table


def side_by_side(tables, count):
    names = list(tables)
    keys = sorted(set().union(*tables.values()),
                  key=lambda k: -max(t.get(k, (0, 0))[0] for t in tables.values()))
    print("\nkernels by name, ms a step and launches a step, for: " +
          "; ".join(f"[{i}] {n}" for i, n in enumerate(names)))
    print("".join(f"{f'[{i}] ms':>9}{'n':>6}" for i in range(len(names))) + "  kernel")
    for key in keys[:count]:
        print("".join(f"{tables[n].get(key, (0, 0))[0]:9.3f}{tables[n].get(key, (0, 0))[1]:6.1f}"
                      for n in names) + f"  {key}")
    print("".join(f"{sum(v[0] for v in tables[n].values()):9.3f}"
                  f"{sum(v[1] for v in tables[n].values()):6.1f}" for n in names) + "  all")


def _spe_contenders(epochs, diff=0, shuffle=True):
    from benchmarks import fit_vs_jax
    n, batch = 128 * 32 * 6, 128
    x, y = fit_vs_jax._data("mlp", n)
    model = fit_vs_jax._compiled("mlp", 32)
    hand = fit_vs_jax.HandLoop(fit_vs_jax.mlp_forward,
                               *fit_vs_jax.hand_params(model, "mlp"), scan=32)
    batches = hand.batches(x, y, batch)
    summing = fit_vs_jax.HandLoop(fit_vs_jax.mlp_forward,
                                  *fit_vs_jax.hand_params(model, "mlp"), scan=32,
                                  with_loss=True)

    def fit():
        model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, shuffle=shuffle)
        fit_vs_jax._sync(model)
    steps = epochs * (n // batch)
    extra = (("hand-written scan summing its losses", lambda: summing.run(batches, epochs),
              steps),) if diff else ()
    return (("hand-written scan", lambda: hand.run(batches, epochs), steps),) + extra + \
        (("jkeras fit", fit, steps),)


def _suite_contenders(case, steps, diff=0):
    shape, data, model = gpu_suite.jkeras_case(case)
    hand = gpu_suite.run_hand(case, shape, model, data, steps)
    fit, fit_steps = gpu_suite.run_fit(model, data, shape, steps)
    extra = ()
    if diff and case == "gpt":
        from benchmarks import gpt_levers
        extra = (("hand-written jax with jkeras's kernels",
                  gpt_levers.runner(shape, model, data, steps), steps),)
    return (("hand-written jax", hand, steps),) + extra + (("jkeras fit", fit, fit_steps),)


if __name__ == "__main__":
    sys.exit(main())
