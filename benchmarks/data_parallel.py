"""Data-parallel scaling: samples/s on 1, 2, 4, ... GPUs for jkeras and Keras 3 (issue 11).

For each device count N (up to the GPUs present) and each case, the global batch is N
times the per-device batch, and both frameworks train the same model (mixed bfloat16, the
models of gpu_suite.py) under their own `DataParallel` over the first N devices:
- cnn: conv 64-128-256 with BatchNormalization, 512 images per device, Adam;
- gpt: 6 layers, d_model 512, 8 heads, sequence 1024, 32 sequences per device, AdamW.
Prints ms/step, samples/s, scaling efficiency (N-device samples/s / (N x 1-device)), and
for the GPT the MFU per GPU against 989 TFLOP/s. Usage:
python benchmarks/data_parallel.py [--cases cnn,gpt] [--steps 30] [--repeats 3] [--tiny]
"""
import argparse
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402

import jkeras  # noqa: E402
from benchmarks import gpu_suite  # noqa: E402


def _keras3():
    try:
        import keras
    except Exception:  # noqa: BLE001 - Keras 3 is optional here
        return None
    return keras if keras.backend.backend() == "jax" else None


def _fit_runner(model, data, batch, steps):
    inputs, targets = data
    x = inputs if len(inputs) > 1 else inputs[0]
    per_epoch = len(targets) // batch
    epochs = max(1, steps // per_epoch)

    def run():
        model.fit(x, targets, batch_size=batch, epochs=epochs, verbose=0, shuffle=False)
        jax.block_until_ready(model._get_vars())  # (see fit_vs_jax._sync)
    return run, epochs * per_epoch


def bench(case, size, count, steps, repeats, keras3, n_batches=16):
    shape = dict(gpu_suite.SHAPES[case][size])
    per_device = shape["batch"]
    shape["batch"] = per_device * count
    data = gpu_suite.make_data(case, shape, n_batches * shape["batch"])
    devices = jax.devices()[:count]
    rows = {}
    jkeras.distribution.set_distribution(
        jkeras.distribution.DataParallel(devices=devices) if count > 1 else None)
    try:
        model = gpu_suite.build_compiled(jkeras, case, shape,
                                         jkeras.mixed_precision.set_global_policy, None)
        run, n = _fit_runner(model, data, shape["batch"], steps)
        run()
        rows["jkeras"] = (gpu_suite.time_best(run, repeats)[0] / n)
    finally:
        jkeras.distribution.set_distribution(None)
    if keras3 is not None:
        kind = "gpu" if jax.default_backend() == "gpu" else "cpu"
        names = keras3.distribution.list_devices(kind)[:count]
        keras3.distribution.set_distribution(
            keras3.distribution.DataParallel(devices=names) if count > 1 else None)
        try:
            model = gpu_suite.build_compiled(keras3, case, shape,
                                             keras3.config.set_dtype_policy, "float32")
            inputs, targets = data
            x = inputs if len(inputs) > 1 else inputs[0]
            per_epoch = len(targets) // shape["batch"]
            epochs = max(1, steps // per_epoch)

            def run3():
                model.fit(x, targets, batch_size=shape["batch"], epochs=epochs, verbose=0,
                          shuffle=False)
            run3()
            rows["keras3"] = gpu_suite.time_best(run3, repeats)[0] / (epochs * per_epoch)
        finally:
            keras3.distribution.set_distribution(None)
    flops = gpu_suite.FLOPS[case](**shape)
    return {name: {"ms": t * 1e3, "samples_s": shape["batch"] / t,
                   "mfu": flops / t / (count * gpu_suite.PEAK_BF16)}
            for name, t in rows.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", default="cnn,gpt")
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tiny", action="store_true")
    args = parser.parse_args()
    keras3 = _keras3()
    size = "tiny" if args.tiny else "full"
    counts = [c for c in (1, 2, 4, 8) if c <= len(jax.devices())]
    print(f"devices: {len(jax.devices())} x {jax.devices()[0].device_kind}; Keras 3: "
          f"{keras3.__version__ if keras3 else 'not available'}", flush=True)
    print(f"{'case':<5}{'N':>3} {'framework':<8}{'ms/step':>10}{'samples/s':>12}"
          f"{'scaling':>9}{'MFU/GPU':>9}")
    for case in args.cases.split(","):
        base = {}
        for count in counts:
            result = bench(case, size, count, args.steps, args.repeats, keras3)
            for name, r in result.items():
                base.setdefault(name, r["samples_s"])
                scaling = r["samples_s"] / (count * base[name])
                print(f"{case:<5}{count:>3} {name:<8}{r['ms']:>10.3f}{r['samples_s']:>12.1f}"
                      f"{scaling:>9.3f}{r['mfu']:>9.1%}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
