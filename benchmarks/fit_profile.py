"""The host's side of a warm `fit` (the CNN of fit_vs_jax.py, batch 512, 8 steps an epoch,
2 epochs), under cProfile: which Python functions the time goes to, waiting for the
device included (`_value`, `block_until_ready`). Run it on the machine whose timings you
want to explain; the table is sorted by own time.

Usage: python benchmarks/fit_profile.py [--kind cnn|mlp] [--rows 25]
"""
import argparse
import cProfile
import os
import pstats
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402

from benchmarks.fit_vs_jax import _compiled, _data  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", default="cnn", choices=("cnn", "mlp"))
    parser.add_argument("--rows", type=int, default=25)
    args = parser.parse_args()
    batch, steps = (512, 8) if args.kind == "cnn" else (128, 120)
    x, y = _data(args.kind, batch * steps)
    model = _compiled(args.kind)

    def fit():
        model.fit(x, y, batch_size=batch, epochs=2, verbose=0)
        jax.block_until_ready(model._get_vars())  # (see fit_vs_jax._sync)
    fit(), fit()
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    for _ in range(5):
        fit()
    profile.disable()
    per_fit = (time.perf_counter() - start) / 5
    print(f"device: {jax.devices()[0].device_kind}; {args.kind}: {per_fit * 1e3:.2f} ms a "
          f"fit of {2 * steps} steps (profiled)")
    pstats.Stats(profile).sort_stats("tottime").print_stats(args.rows)


if __name__ == "__main__":
    sys.exit(main())
