"""Turning what users pass to fit/evaluate/predict into batches for the jitted step.

Arrays (one, a list, or a dict keyed by input/output names) are matched to the model's
inputs and outputs, checked, and split into index batches; generators and
`Sequence`s are run ahead of the step by worker threads (or processes) into a bounded
queue.
"""
import math
import multiprocessing
import queue
import threading
import traceback

import numpy as np

from jkeras.utils.data_utils import Sequence


def is_generator_like(x):
    return isinstance(x, Sequence) or (hasattr(x, "__next__") and not hasattr(x, "shape")) \
        or (hasattr(x, "__iter__") and hasattr(x, "__len__") and hasattr(x, "__getitem__")
            and not isinstance(x, (list, tuple, dict, np.ndarray)) and not hasattr(x, "shape"))


def _as_array(value, what):
    if value is None:
        return None
    if hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, np.ndarray):
        value = np.asarray(value)
    if isinstance(value, (list, tuple)):
        value = np.asarray(value)
    if not isinstance(value, np.ndarray):
        raise ValueError(f"{what}: expected a NumPy array. Received: {type(value).__name__}")
    if value.dtype == np.float64:
        value = value.astype(np.float32)
    return value


def match_structure(data, names, what, allow_none=False):
    """`data` (array, list or dict) as a list aligned with `names` (model inputs/outputs)."""
    count = len(names)
    if data is None:
        if allow_none:
            return [None] * count
        raise ValueError(f"No {what} data provided.")
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        if missing:
            if allow_none:
                return [data.get(n) for n in names]
            raise ValueError(
                f"No data provided for {missing}. Need data for each key in: {names}; the "
                f"{what} dict has keys {sorted(data)}.")
        return [data[n] for n in names]
    if isinstance(data, (list, tuple)) and not (count == 1 and _is_plain_nested_list(data)):
        data = list(data)
        if len(data) != count:
            raise ValueError(
                f"The model expects {count} {what} array(s), but received a list of "
                f"{len(data)} arrays for {what}: {[getattr(d, 'shape', None) for d in data]}")
        return data
    if count != 1:
        raise ValueError(
            f"The model has {count} {what}s ({names}), but received a single array. Pass a "
            f"list or a dict of {count} arrays.")
    return [data]


def _is_plain_nested_list(data):
    """A Python list of numbers (one array written as a list), not a list of arrays."""
    return not any(hasattr(d, "shape") for d in data)


def check_array_shapes(arrays, tensors, names, what):
    for array, tensor, name in zip(arrays, tensors, names):
        if array is None:
            continue
        expected = tensor.shape
        got = array.shape
        if len(got) == len(expected) - 1 and expected[-1] == 1 and what == "target":
            continue
        if len(got) != len(expected) or any(
                e is not None and g != e for g, e in zip(got[1:], expected[1:])):
            if what == "target" and len(got) >= 1:
                continue  # targets may legitimately differ (sparse labels)
            raise ValueError(
                f'Error when checking {what}: expected {name} to have shape '
                f"{expected}, but got array with shape {got}.")


def check_lengths(arrays_lists):
    sizes = {a.shape[0] for arrays in arrays_lists for a in arrays if a is not None}
    if len(sizes) > 1:
        raise ValueError(
            "Data cardinality is ambiguous: all input, target and sample-weight arrays "
            f"should have the same number of samples. Got sizes: {sorted(sizes)}")
    return sizes.pop() if sizes else 0


def batch_indices(num_samples, batch_size, shuffle, rng):
    """Per-epoch index batches; `shuffle='batch'` shuffles batch order then inside each."""
    if shuffle == "batch":
        n_batches = math.ceil(num_samples / batch_size)
        order = rng.permutation(n_batches)
        index = np.arange(num_samples)
        batches = [index[b * batch_size:(b + 1) * batch_size] for b in order]
        return [rng.permutation(b) for b in batches]
    index = rng.permutation(num_samples) if shuffle else np.arange(num_samples)
    return [index[i:i + batch_size] for i in range(0, num_samples, batch_size)]


def unpack_batch(batch):
    """`(x, y, sample_weight)` from what a generator yields: x, (x,), (x, y) or (x, y, sw)."""
    if isinstance(batch, tuple):
        if len(batch) == 1:
            return batch[0], None, None
        if len(batch) == 2:
            return batch[0], batch[1], None
        if len(batch) == 3:
            return batch
        raise ValueError(
            "Output of generator should be a tuple `(x, y, sample_weight)` or `(x, y)`. "
            f"Found a tuple of {len(batch)} elements.")
    if isinstance(batch, list) and len(batch) in (2, 3):
        return tuple(batch) + ((None,) if len(batch) == 2 else ())
    return batch, None, None


# ---------------------------------------------------------------------- run-ahead queue
class _Failure:
    def __init__(self, exc):
        self.exc = exc
        self.tb = traceback.format_exc()


def _fetch_item(sequence, index):
    return sequence[index]


class BatchQueue:
    """Yields `steps` items from a Sequence or generator, produced ahead by workers.

    Sequence items come back in index order whatever the number of workers; generator
    items are pulled under a lock. An exception in a worker is raised here with the
    worker's traceback attached, never left to hang the loop.
    """

    def __init__(self, source, steps, workers=1, use_multiprocessing=False,
                 max_queue_size=10, shuffle=False, rng=None, start_index=0):
        self.source = source
        self.steps = steps
        self.workers = max(int(workers or 0), 0)
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max(int(max_queue_size), 1)
        self.is_sequence = isinstance(source, Sequence) or (
            hasattr(source, "__getitem__") and hasattr(source, "__len__") and
            not hasattr(source, "__next__"))
        self.order = None
        if self.is_sequence:
            length = len(source)
            order = rng.permutation(length) if (shuffle and rng is not None) else \
                np.arange(length)
            self.order = [int(order[(start_index + i) % length]) for i in range(steps)]

    def __iter__(self):
        if self.workers == 0:
            return self._inline()
        if self.is_sequence and self.use_multiprocessing:
            return self._processes()
        return self._threads()

    def _next_from_generator(self):
        try:
            return next(self.source)
        except StopIteration:
            raise
        except Exception as e:  # surface the generator's own error
            raise e

    def _inline(self):
        for i in range(self.steps):
            if self.is_sequence:
                yield self.source[self.order[i]]
            else:
                try:
                    yield next(self.source)
                except StopIteration:
                    return

    def _threads(self):
        results = queue.Queue(self.max_queue_size)
        stop = threading.Event()
        lock = threading.Lock()
        counter = iter(range(self.steps))
        slots = {}
        cond = threading.Condition()

        def work():
            while not stop.is_set():
                with lock:
                    i = next(counter, None)
                    if i is None:
                        return
                    if not self.is_sequence:
                        try:
                            item = next(self.source)
                        except StopIteration:
                            item = StopIteration
                        except Exception as e:
                            item = _Failure(e)
                        self._put(results, item, stop)
                        continue
                try:
                    item = self.source[self.order[i]]
                except Exception as e:
                    item = _Failure(e)
                with cond:
                    slots[i] = item
                    cond.notify_all()
                    while len(slots) > self.max_queue_size and min(slots) != i and \
                            not stop.is_set():
                        cond.wait(0.1)

        threads = [threading.Thread(target=work, daemon=True) for _ in range(self.workers)]
        for t in threads:
            t.start()
        try:
            for i in range(self.steps):
                if self.is_sequence:
                    with cond:
                        while i not in slots:
                            if not any(t.is_alive() for t in threads) and i not in slots:
                                raise RuntimeError("Data workers stopped unexpectedly.")
                            cond.wait(0.1)
                        item = slots.pop(i)
                        cond.notify_all()
                else:
                    item = results.get()
                if item is StopIteration:
                    return
                if isinstance(item, _Failure):
                    raise type(item.exc)(
                        f"{item.exc}\n\nRaised in a data worker:\n{item.tb}") from item.exc
                yield item
        finally:
            stop.set()
            with cond:
                cond.notify_all()

    @staticmethod
    def _put(results, item, stop):
        while not stop.is_set():
            try:
                results.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _processes(self):
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(self.workers) as pool:
            pending = []
            it = iter(range(self.steps))
            for i in it:
                pending.append(pool.apply_async(_fetch_item, (self.source, self.order[i])))
                if len(pending) >= self.max_queue_size:
                    break
            for i in range(self.steps):
                result = pending.pop(0)
                nxt = next(it, None)
                if nxt is not None:
                    pending.append(pool.apply_async(_fetch_item,
                                                    (self.source, self.order[nxt])))
                yield result.get()
