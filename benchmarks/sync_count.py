"""How often fit() makes the host wait on the device, per epoch and per step.

Issue 4 (callbacks): a verbose=0 fit with no batch-level callbacks must not sync with the
device each step. Two measurements, for verbose=0, verbose=1 and a callback that reads
its batch logs:

- reads: every read of a device array from the host is counted
  (`benchmarks/device_reads.py`). Reads per epoch are (reads in a 3-epoch fit - reads in
  a 1-epoch fit) / 2, so one-off reads (the shuffle seed) drop out.
- guard: on a GPU/TPU backend the fit's loop runs under
  `jax.transfer_guard_device_to_host("disallow_explicit")`, with only the trainer's
  metric fetch (`Trainer.metric_logs`) let through and counted; any other device-to-host
  transfer raises, and the place it came from is printed. (On the CPU backend nothing is
  transferred, so the guard cannot fire and is skipped.)

Usage: python benchmarks/sync_count.py [--samples 2048] [--batch-size 32]
"""
import argparse
import contextlib
import io
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402
import numpy as np  # noqa: E402

import jkeras as keras  # noqa: E402
from benchmarks.device_reads import count_device_reads, metric_fetch_guard  # noqa: E402
from jkeras import layers  # noqa: E402


class BatchLogReader(keras.callbacks.Callback):
    """Reads the loss after every batch (as a batch-logging callback does)."""

    def on_train_batch_end(self, batch, logs=None):
        float(logs["loss"])


def make_model():
    model = keras.Sequential([keras.Input(shape=(32,)), layers.Dense(64, activation="relu"),
                              layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def fit(model, x, y, batch_size, epochs, verbose, extra):
    with contextlib.redirect_stdout(io.StringIO()):
        model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                  callbacks=[c() for c in extra])


def reads_per_epoch(x, y, batch_size, verbose, extra):
    model = make_model()
    fit(model, x, y, batch_size, 1, 0, ())  # compile the step outside the count
    counts = []
    for epochs in (1, 3):
        with count_device_reads() as count:
            fit(model, x, y, batch_size, epochs, verbose, extra)
        counts.append(count[0])
    return (counts[1] - counts[0]) / 2


def guarded_fit(x, y, batch_size, verbose, extra, epochs=2):
    """(metric fetches per epoch, None) or (None, where a disallowed transfer happened)."""
    model = make_model()
    fit(model, x, y, batch_size, 1, 0, ())
    guarded, fetches, close = metric_fetch_guard(model)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                      callbacks=[c() for c in extra] + [guarded])
    except Exception:  # noqa: BLE001 - the guard's error says where the transfer was
        frames = traceback.format_exc().strip().splitlines()
        return None, "\n      ".join(frames[-8:])
    finally:
        close()
    return len(fetches) / epochs, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2048)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.samples, 32)).astype("float32")
    y = rng.integers(0, 10, args.samples)
    steps = -(-args.samples // args.batch_size)
    backend = jax.default_backend()
    if backend != "cpu":
        with jax.transfer_guard_device_to_host("disallow_explicit"):
            try:
                float(jax.numpy.ones(2).sum())
                raise SystemExit("the transfer guard did not fire: results would be void")
            except RuntimeError:
                pass  # the guard is live
    print(f"backend: {backend} ({jax.devices()[0].device_kind}), jax {jax.__version__}, "
          f"{steps} steps/epoch")
    cases = [("verbose=0", 0, ()), ("verbose=1", 1, ()), ("verbose=2", 2, ()),
             ("verbose=0 + batch-logging callback", 0, (BatchLogReader,))]
    print(f"{'fit':40s}{'reads/epoch':>12s}{'reads/step':>12s}   guard (metric fetches/epoch)")
    for name, verbose, extra in cases:
        per_epoch = reads_per_epoch(x, y, args.batch_size, verbose, extra)
        if backend == "cpu":
            guard = "skipped on CPU"
        else:
            fetches, failure = guarded_fit(x, y, args.batch_size, verbose, extra)
            guard = f"passed ({fetches:g})" if failure is None else \
                f"FAILED, a transfer outside the metric fetch:\n      {failure}"
        print(f"{name:40s}{per_epoch:12.1f}{per_epoch / steps:12.3f}   {guard}")


if __name__ == "__main__":
    main()
