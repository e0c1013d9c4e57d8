"""Where the MLP's `fit` time goes beyond the hand-written loop, split into its parts.

For the MLP of fit_vs_jax.py (784-256-256-10, batch 128, Adam), in one run:

- kernels: the number of device kernels in the compiled step (top-level instructions of
  the optimized HLO that launch work), jkeras's train step against the hand step, with the
  kinds that differ; and the same for one step of a scan of 32 (the while loop's body). On a GPU a step this small is bound by kernel launches, so each extra
  kernel costs a few microseconds.
- device time per step: both steps inside one `lax.scan` of 32 (no host dispatch), and
  jkeras's inside a loop whose trip count is a device value.
- loop time per step: one dispatch per step in a tight loop (what `fit` does when no
  callback looks at batches), blocked on once at the end.
- dispatch time per step: the same loop's host time before the final block.
- fit: per step, and the fixed cost of one `fit` call and of one epoch, from fits of 1 and
  3 epochs.

Usage: python benchmarks/step_cost.py [--steps 240] [--dump DIR]
"""
import argparse
import collections
import os
import re
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jkeras  # noqa: E402
from benchmarks.fit_vs_jax import (HandLoop, _compiled, _data, hand_params,  # noqa: E402
                                   hand_step, mlp_forward)
from jkeras.trainer import step as step_module  # noqa: E402

_NOT_KERNELS = {"parameter", "tuple", "get-tuple-element", "bitcast", "constant",
                "copy-start", "copy-done", "after-all", "partition-id", "replica-id"}


def _computation(text, name):
    """The text of HLO computation `name` (its header line included)."""
    start = text.index("\n" + name + " ") if name != "ENTRY" else text.index("\nENTRY")
    return text[start:text.index("\n}", start)]


def _launches(computation):
    """Counts of a computation's launching instructions, by kind (a fusion is named by
    its kind, a custom call by its target)."""
    counts = collections.Counter()
    for line in computation.splitlines()[2:]:
        m = re.search(r"=\s*\S+\s+([a-z\-]+)\(", line)
        if not m or m.group(1) in _NOT_KERNELS:
            continue
        op = m.group(1)
        if op == "fusion":
            kind = re.search(r"kind=(\w+)", line)
            op = f"fusion:{kind.group(1) if kind else '?'}"
        elif op == "custom-call":
            target = re.search(r'custom_call_target="([^"]+)"', line)
            op = f"custom-call:{target.group(1) if target else '?'}"
        counts[op] += 1
    return counts


def kernels(compiled):
    """Counts of the launching instructions of the entry computation, by kind."""
    return _launches(_computation(compiled.as_text(), "ENTRY"))


def scan_body_kernels(compiled):
    """The same for the body of the program's first while loop (one step of a scan)."""
    text = compiled.as_text()
    body = re.search(r"while\(.*?body=(%[\w.\-]+)", text).group(1)
    return _launches(_computation(text, body))


def timed(fn, repeats=5):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=240)
    parser.add_argument("--dump", help="write both steps' optimized HLO to this folder")
    args = parser.parse_args()
    batch, steps = 128, args.steps
    x, y = _data("mlp", batch * steps)
    model = _compiled("mlp")
    hand = HandLoop(mlp_forward, *hand_params(model, "mlp"))
    batches = hand.batches(x, y, batch)

    # ---- the jkeras step as fit dispatches it: batch i of a gathered chunk
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    trainer = model._trainer
    trainer.begin()
    fn = trainer._fn("train_chunk")
    stack = jax.block_until_ready(jax.tree_util.tree_map(
        lambda *b: jnp.stack(b), *[([b[0]], [b[1]], [None]) for b in batches[:32]]))
    index = [trainer.index(i) for i in range(32)]
    ours_compiled = fn.lower(trainer.state, stack, index[0]).compile()
    hand_compiled = hand.step.lower(hand.carry, batches[0]).compile()
    ours_k, hand_k = kernels(ours_compiled), kernels(hand_compiled)
    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
        for name, compiled in (("jkeras", ours_compiled), ("hand", hand_compiled)):
            with open(os.path.join(args.dump, f"mlp_step_{name}.hlo.txt"), "w") as f:
                f.write(compiled.as_text())
    print(f"device: {jax.devices()[0].device_kind}, jax {jax.__version__}")
    print(f"kernels per step: jkeras {sum(ours_k.values())}, hand {sum(hand_k.values())}")
    for op in sorted(set(ours_k) | set(hand_k)):
        if ours_k[op] != hand_k[op]:
            print(f"  {op:<40}{ours_k[op]:>5}{hand_k[op]:>5}")
    # ---- the same in a scan of 32 (fit's steps_per_execution and quiet-fit chunks)
    scan_model = _compiled("mlp", 32)
    scan_model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    scan_trainer = scan_model._trainer
    scan_trainer.begin()
    hand32 = HandLoop(mlp_forward, *hand_params(scan_model, "mlp"), scan=32)
    stacked = hand32.batches(x, y, batch)[0]
    ours_k = scan_body_kernels(scan_trainer._fn("train_scan").lower(
        scan_trainer.state, ([stacked[0]], [stacked[1]], [None])).compile())
    hand_k = scan_body_kernels(hand32.step.lower(hand32.carry, stacked).compile())
    scan_trainer.end()
    print(f"kernels per step in a scan of 32: jkeras {sum(ours_k.values())}, "
          f"hand {sum(hand_k.values())}")
    for op in sorted(set(ours_k) | set(hand_k)):
        if ours_k[op] != hand_k[op]:
            print(f"  {op:<40}{ours_k[op]:>5}{hand_k[op]:>5}")

    # ---- device time: 32 steps in one scan
    ours_scan = jax.jit(lambda s, c: jax.lax.fori_loop(
        0, 32, lambda i, s: step_module.chunk_step(
            step_module.make_train_step(model, trainer.variables(), trainer.targets,
                                        trainer.tx))(s, c, i), s))
    state = jax.tree_util.tree_map(jnp.copy, trainer.state)
    jax.block_until_ready(ours_scan(state, stack))
    t_ours_scan = timed(lambda: jax.block_until_ready(ours_scan(state, stack))) / 32
    hstep = hand_step(mlp_forward, hand.tx)
    hand_stack = jax.tree_util.tree_map(lambda *b: jnp.stack(b), *batches[:32])
    hand_scan = jax.jit(lambda c, st: jax.lax.scan(lambda c, b: (hstep(c, b), None), c,
                                                   st)[0])
    carry = hand.carry
    jax.block_until_ready(hand_scan(carry, hand_stack))
    t_hand_scan = timed(lambda: jax.block_until_ready(hand_scan(carry, hand_stack))) / 32
    # the same 32 steps in a loop whose trip count is a device value (one executable for
    # any count)
    train = step_module.make_train_step(model, trainer.variables(), trainer.targets,
                                        trainer.tx)
    ours_dyn = jax.jit(lambda s, c, n: jax.lax.fori_loop(
        0, n, lambda i, s: step_module.chunk_step(train)(s, c, i), s))
    count = jnp.asarray(32, jnp.int32)
    jax.block_until_ready(ours_dyn(state, stack, count))
    t_ours_dyn = timed(lambda: jax.block_until_ready(ours_dyn(state, stack, count))) / 32

    # ---- one dispatch per step
    def ours_loop():
        s = trainer.state
        begin = time.perf_counter()
        for k in range(steps):
            s = fn(s, stack, index[k % 32])
        issued = time.perf_counter() - begin
        jax.block_until_ready(s)
        trainer.state = s
        return issued

    def hand_loop():
        c = hand.carry
        begin = time.perf_counter()
        for k in range(steps):
            c = hand.step(c, batches[k % len(batches)])
        issued = time.perf_counter() - begin
        jax.block_until_ready(c)
        hand.carry = c
        return issued

    ours_loop(), hand_loop()
    issue = {"ours": [], "hand": []}
    t_ours_loop = timed(lambda: issue["ours"].append(ours_loop())) / steps
    t_hand_loop = timed(lambda: issue["hand"].append(hand_loop())) / steps
    trainer.end()

    # ---- fit: per step and fixed costs
    def fit(epochs):
        model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0)
        jax.block_until_ready(model._get_vars())  # (see fit_vs_jax._sync)
    fit(1)
    t1, t3 = timed(lambda: fit(1)), timed(lambda: fit(3))
    per_epoch = (t3 - t1) / 2
    rows = [
        ("device time per step (scan of 32)", t_ours_scan, t_hand_scan),
        ("device time per step (dynamic loop)", t_ours_dyn, t_hand_scan),
        ("loop time per step", t_ours_loop, t_hand_loop),
        ("host dispatch per step", min(issue["ours"]) / steps, min(issue["hand"]) / steps),
        ("fit: time per epoch / steps", per_epoch / steps, t_hand_loop),
        ("fit: fixed cost of one call", t1 - per_epoch, 0.0),
        ("fit: epoch cost beyond its steps", per_epoch - steps * t_ours_loop, 0.0),
    ]
    print(f"{'':<38}{'jkeras us':>12}{'hand us':>12}")
    for name, ours, base in rows:
        print(f"{name:<38}{ours * 1e6:>12.1f}{base * 1e6:>12.1f}")


if __name__ == "__main__":
    sys.exit(main())
