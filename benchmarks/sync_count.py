"""How often fit() makes the host wait on the device, per epoch and per step.

Issue 4 (callbacks): a verbose=0 fit with no batch-level callbacks must not sync with the
device each step. Two measurements, for verbose=0, verbose=1 and a callback that reads
its batch logs:

- reads: every read of a device array from the host is counted (`jax.device_get`,
  `np.asarray` on a jax array, and `jax.Array._value`, which float(), .item() and printing
  go through). Reads per epoch are (reads in a 3-epoch fit - reads in a 1-epoch fit) / 2,
  so one-off reads (the shuffle seed) drop out.
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
import traceback

import jax
import numpy as np

import jkeras as keras
from jkeras import layers


@contextlib.contextmanager
def count_device_reads():
    """Counts host reads of device arrays; a read nested in another counts once."""
    from jax._src.array import ArrayImpl
    count = [0]
    depth = [0]
    value_property = ArrayImpl.__dict__["_value"]
    real_device_get, real_asarray = jax.device_get, np.asarray

    def counted(fn, is_read):
        def wrapper(*args, **kwargs):
            read = bool(is_read(*args))
            if read and depth[0] == 0:
                count[0] += 1
            depth[0] += read
            try:
                return fn(*args, **kwargs)
            finally:
                depth[0] -= read
        return wrapper

    def has_device_leaf(tree, *rest):
        return any(isinstance(leaf, jax.Array) for leaf in jax.tree_util.tree_leaves(tree))

    ArrayImpl._value = property(counted(value_property.fget, lambda self: True))
    jax.device_get = counted(real_device_get, has_device_leaf)
    np.asarray = counted(real_asarray, lambda a, *rest: isinstance(a, jax.Array))
    try:
        yield count
    finally:
        ArrayImpl._value = value_property
        jax.device_get, np.asarray = real_device_get, real_asarray


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
    fetches = [0]
    real_metric_logs = model._trainer.metric_logs

    def allowed_fetch(ms):
        with jax.transfer_guard_device_to_host("allow"):
            fetches[0] += 1
            return real_metric_logs(ms)

    model._trainer.metric_logs = allowed_fetch
    guard = contextlib.ExitStack()
    guarded = keras.callbacks.LambdaCallback(
        on_train_begin=lambda logs: guard.enter_context(
            jax.transfer_guard_device_to_host("disallow_explicit")),
        on_train_end=lambda logs: guard.close())
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                      callbacks=[c() for c in extra] + [guarded])
    except Exception:  # noqa: BLE001 - the guard's error says where the transfer was
        frames = traceback.format_exc().strip().splitlines()
        return None, "\n      ".join(frames[-8:])
    finally:
        guard.close()
    return fetches[0] / epochs, None


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
