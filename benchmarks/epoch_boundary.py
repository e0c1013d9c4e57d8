"""What an epoch's end costs a quiet `fit` on gpu_suite.py's models: 32 steps as 8 epochs
of 4 batches against one epoch of 32 batches, the same model warm, unshuffled, verbose=0.
The difference over the 7 extra boundaries is what one costs (reading the epoch's logs,
the next epoch's plan and first units, History); best of 4 interleaved runs each.

Usage: python benchmarks/epoch_boundary.py [--tiny] [--cases mlp,gpt]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jkeras  # noqa: E402
from benchmarks import gpu_suite as G  # noqa: E402


def boundary_cost(case, size, repeats=4):
    shape = G.SHAPES[case][size]
    model = G.build_compiled(jkeras, case, shape, jkeras.mixed_precision.set_global_policy,
                             None)
    b = shape["batch"]
    short = G._fit_args(G.make_data(case, shape, 4 * b))
    long = G._fit_args(G.make_data(case, shape, 32 * b, seed=1))
    runs = {"8 epochs of 4": lambda: model.fit(*short, batch_size=b, epochs=8, verbose=0,
                                               shuffle=False),
            "1 epoch of 32": lambda: model.fit(*long, batch_size=b, epochs=1, verbose=0,
                                               shuffle=False)}
    for run in runs.values():
        run(), run()  # compiled and warm
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    for name, seconds in best.items():
        print(f"{case} {name}: {seconds * 1e3 / 32:.3f} ms a step", flush=True)
    cost = (best["8 epochs of 4"] - best["1 epoch of 32"]) / 7
    print(f"{case}: one epoch boundary costs {cost * 1e3:.2f} ms", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tiny", action="store_true", help="tiny shapes (CPU smoke test)")
    parser.add_argument("--cases", default="mlp,gpt")
    args = parser.parse_args()
    for case in args.cases.split(","):
        boundary_cost(case, "tiny" if args.tiny else "full")


if __name__ == "__main__":
    sys.exit(main())
