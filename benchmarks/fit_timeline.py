"""The host's timeline of one warm `fit` call: when each of the trainer's stages starts and
ends (ms from the call), beside the hand-written loop's total for the same steps.

The case is fit_vs_jax.py's `steps_per_execution=32` MLP (784-256-256-10, batch 128,
24,576 rows, 2 epochs). Read it with the device's own step time in mind (about 1.3 ms a
32-step scan on an H200): a stage that ends later than the device could have finished
the work queued before it is where the device waited for the host. On 2026-12-01 it
showed, on one H200: 0.9 ms of set-up before the first dispatch (2.5 ms when shuffled: the
permutation), the epoch's logs read only after the chunk queued ahead of them had run, and
0.3 ms to hand the state back at the end.

`--case gpt|mlp|cnn` times gpu_suite.py's model instead (mixed bfloat16, 8 steps as 2
epochs of 4, each step its own dispatch), beside gpu_suite's hand-written loop. Every
program the trainer dispatches is marked `call:<kind>` (how long the host took to hand it
to the runtime).

Usage: python benchmarks/fit_timeline.py [--shuffle] [--runs 9] [--case spe|gpt|mlp|cnn]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import fit_vs_jax, gpu_suite  # noqa: E402
from jkeras.trainer import epoch_iterator, loop  # noqa: E402
from jkeras.trainer import trainer as trainer_module  # noqa: E402

_TRAINER_STAGES = ("array_feed", "begin", "run_chunk", "train_step", "metric_results",
                   "_sync_optimizer",
                   "fresh_metrics", "make_spare_metrics", "logs_from", "end")


def _mark(owner, name, marks):
    fn = getattr(owner, name)

    def marked(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            marks.append((name, start, time.perf_counter()))
    setattr(owner, name, marked)


def wrap_dispatches(hook):
    """Runs each call of a program the trainer hands out (`Trainer._fn`) through
    `hook(kind, program, args, kwargs)`, which makes the call and returns its result."""
    fn = trainer_module.Trainer._fn

    def wrapped_fn(self, kind):
        program = fn(self, kind)

        class Wrapped:  # the program, its own attributes (`lower`) still there
            def __getattr__(self, name):
                return getattr(program, name)

            def __call__(self, *args, **kwargs):
                return hook(kind, program, args, kwargs)
        return Wrapped()
    trainer_module.Trainer._fn = wrapped_fn


def _mark_dispatches(marks):
    """Marks each call of a program the trainer hands out."""
    def marked(kind, program, args, kwargs):
        start = time.perf_counter()
        try:
            return program(*args, **kwargs)
        finally:
            marks.append(("call:" + kind, start, time.perf_counter()))
    wrap_dispatches(marked)


def _suite_contenders(case):
    """gpu_suite's model for `case`: {"jkeras": fit(epochs), "hand": loop(epochs)}, each
    waiting for its last loss."""
    shape, data, model = gpu_suite.jkeras_case(case)
    hand = gpu_suite.run_hand(case, shape, model, data, gpu_suite.N_BATCHES)
    fit, _ = gpu_suite.run_fit(model, data, shape, gpu_suite.N_BATCHES)
    return {"jkeras": lambda epochs: fit(epochs * gpu_suite.N_BATCHES),
            "hand": lambda epochs: hand(epochs * gpu_suite.N_BATCHES)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shuffle", action="store_true")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--case", default="spe", choices=("spe", "gpt", "mlp", "cnn"))
    args = parser.parse_args()
    marks = []
    for name in _TRAINER_STAGES:
        _mark(trainer_module.Trainer, name, marks)
    _mark(loop, "_run_first_units", marks)
    _mark(epoch_iterator, "started", marks)
    _mark_dispatches(marks)

    if args.case == "spe":
        # fit_vs_jax's spe case, both sides warm (fit's run waits for the weights, as
        # there)
        contenders = fit_vs_jax._contenders("mlp", 128 * 32 * 6, 128, spe=32,
                                            shuffle=args.shuffle)
    else:
        contenders = _suite_contenders(args.case)
    for _ in range(2):
        contenders["jkeras"](2), contenders["hand"](2)
    runs = []
    for _ in range(args.runs):
        del marks[:]
        start = time.perf_counter()
        contenders["jkeras"](2)
        total = time.perf_counter() - start
        stages = [(name, a - start, b - start) for name, a, b in marks]
        start = time.perf_counter()
        contenders["hand"](2)
        runs.append((total, time.perf_counter() - start, stages))
    total, hand_total, stages = min(runs, key=lambda r: r[0])
    print(f"fit (shuffle={args.shuffle}): {total * 1e3:.3f} ms; the hand loop's 2 epochs: "
          f"{hand_total * 1e3:.3f} ms (the fastest fit of {args.runs}, its own loop run)")
    for name, a, b in sorted(stages, key=lambda s: s[1]):
        print(f"  {name:<20}{a * 1e3:9.3f} -> {b * 1e3:9.3f} ms  ({(b - a) * 1e3:.3f})")


if __name__ == "__main__":
    sys.exit(main())
