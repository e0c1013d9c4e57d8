"""Counting the points where the host waits on the device during `fit`, shared by
`benchmarks/sync_count.py` and the callback tests.

- `count_device_reads()`: counts every host read of a device array (`jax.device_get`,
  `np.asarray` on a jax array, and `jax.Array._value`, which float(), .item() and printing
  go through); a read nested in another counts once.
- `metric_fetch_guard(model)`: a callback that runs fit's loop under
  `jax.transfer_guard_device_to_host("disallow_explicit")`, letting only the trainer's
  epoch-end metric fetch (`Trainer.metric_logs`) through and counting those fetches. On
  the CPU backend nothing is transferred, so the guard cannot fire there.
"""
import contextlib

import jax
import numpy as np

import jkeras

__all__ = ["count_device_reads", "metric_fetch_guard"]


@contextlib.contextmanager
def count_device_reads():
    """Yields a one-item list holding the number of host reads of device arrays so far."""
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


def metric_fetch_guard(model):
    """(callback, fetches, close) for a compiled `model`: pass `callback` to `model.fit`;
    `fetches` gets one entry per allowed metric fetch; call `close()` when fit ends or
    raises, to lift the guard."""
    fetches = []
    real_metric_logs = model._trainer.metric_logs

    def allowed_fetch(ms):  # the trainer's intended epoch-end fetch
        with jax.transfer_guard_device_to_host("allow"):
            fetches.append(1)
            return real_metric_logs(ms)

    model._trainer.metric_logs = allowed_fetch
    guard = contextlib.ExitStack()
    callback = jkeras.callbacks.LambdaCallback(
        on_train_begin=lambda logs: guard.enter_context(
            jax.transfer_guard_device_to_host("disallow_explicit")),
        on_train_end=lambda logs: guard.close())
    return callback, fetches, guard.close
