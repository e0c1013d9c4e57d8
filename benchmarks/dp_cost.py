"""What data parallelism costs the CNN of data_parallel.py, part by part (issue 11).

For 1, 2, 4, ... devices (per-device batch fixed at 512, mixed bfloat16), the CNN with and
without BatchNormalization (whose batch statistics are reduced over the whole global batch,
so each BN layer adds collectives forward and backward):
- device ms/step: steps run inside one dispatch of the trainer's step loop (a chunk), so
  no host work or epoch boundary is counted;
- fit ms/step: a whole `fit` of 2 epochs of 32 steps, per step.
The gap between N-device and 1-device device time is the collectives' cost; the gap
between fit and device time is the host's (dispatch, epoch ends).

Usage: python benchmarks/dp_cost.py
"""
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402
import numpy as np  # noqa: E402

import jkeras  # noqa: E402
from benchmarks import gpu_suite  # noqa: E402


def build(bn):
    L = jkeras.layers
    jkeras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        inputs = jkeras.Input((32, 32, 3))
        h = inputs
        for i, f in enumerate((64, 128, 256)):
            h = L.Conv2D(f, 3, padding="same", use_bias=False)(h)
            if bn:
                h = L.BatchNormalization()(h)
            h = L.Activation("relu")(h)
            if i < 2:
                h = L.MaxPooling2D(2)(h)
        h = L.GlobalAveragePooling2D()(h)
        logits = L.Activation("linear", dtype="float32")(L.Dense(10)(h))
        model = jkeras.Model(inputs, logits)
    finally:
        jkeras.mixed_precision.set_global_policy(None)
    model.compile(jkeras.optimizers.Adam(1e-3),
                  jkeras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def measure(count, bn, per_device=512, steps=32):
    batch = per_device * count
    rng = np.random.default_rng(0)
    x = rng.random((batch * steps, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, batch * steps).astype(np.int32)
    jkeras.distribution.set_distribution(
        jkeras.distribution.DataParallel(devices=jax.devices()[:count]) if count > 1
        else None)
    try:
        model = build(bn)

        def fit():
            model.fit(x, y, batch_size=batch, epochs=2, verbose=0, shuffle=False)
            jax.block_until_ready(model._get_vars())  # (see fit_vs_jax._sync)
        fit()
        fit_time = gpu_suite.time_best(fit, 3)[0] / (2 * steps)
        trainer = model._trainer
        feed, _ = trainer.array_feed(
            __import__("jkeras.trainer.inputs", fromlist=["x"]).prepare_data(
                model, trainer.targets, x, y, None, None)[0], batch, False)
        unit = next(iter(feed.units(0)))
        chunk, _ = unit.fetch()
        trainer.begin()
        try:
            def loop():
                trainer.run_chunk(chunk, None, unit.count)
                jax.block_until_ready(trainer.state)
            loop()
            device_time = gpu_suite.time_best(loop, 5)[0] / unit.count
        finally:
            trainer.end()
    finally:
        jkeras.distribution.set_distribution(None)
    return device_time, fit_time


def main():
    counts = [c for c in (1, 2, 4, 8) if c <= len(jax.devices())]
    print(f"devices: {len(jax.devices())} x {jax.devices()[0].device_kind}")
    print(f"{'model':<10}{'N':>3}{'device ms/step':>16}{'fit ms/step':>13}{'scaling':>9}")
    for bn in (True, False):
        base = None
        for count in counts:
            device_time, fit_time = measure(count, bn)
            base = base or fit_time
            print(f"{'cnn+BN' if bn else 'cnn':<10}{count:>3}{device_time * 1e3:>16.3f}"
                  f"{fit_time * 1e3:>13.3f}{base / fit_time:>9.3f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
