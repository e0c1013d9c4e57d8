"""Turning what users pass to fit/evaluate/predict into batches for the jitted step.

Arrays (one, a list, or a dict keyed by input/output names) are matched to the model's
inputs and outputs, checked, and split into index batches; generators and
`Sequence`s are run ahead of the step by worker threads (or processes) into a bounded
queue.
"""
import math
import multiprocessing
import pickle
import queue
import threading
import traceback

import numpy as np

from jkeras.utils.data_utils import Sequence

__all__ = ["is_generator_like", "match_structure", "check_array_shapes", "check_lengths",
           "batch_indices", "batch_runs", "unpack_batch", "is_sequence", "BatchQueue"]


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
    return [row for _, rows in batch_runs(num_samples, batch_size, shuffle, rng)
            for row in rows]


def batch_runs(num_samples, batch_size, shuffle, rng):
    """The batches `batch_indices` makes for `shuffle` True or False (the same draws), as
    runs `(size, rows)`: one permutation cut into the rows of an int array, the full
    batches' and then the last partial one's (no Python list of index arrays)."""
    index = rng.permutation(num_samples) if shuffle else np.arange(num_samples)
    full = num_samples // batch_size * batch_size
    runs = [(batch_size, index[:full].reshape(-1, batch_size))] if full else []
    if full < num_samples:
        runs.append((num_samples - full, index[full:][None]))
    return runs


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
def is_sequence(x):
    """True for a `Sequence`, or anything read by index with a length and no `__next__`.

    A Keras `Iterator` (`ImageDataGenerator().flow(...)`) is both a Sequence and an
    iterator; it counts as a Sequence, as in Keras 2, so it is read by index, shuffled by
    batch and gets `on_epoch_end()`.
    """
    return isinstance(x, Sequence) or (
        hasattr(x, "__getitem__") and hasattr(x, "__len__") and not hasattr(x, "__next__"))


_END = object()  # a generator ran out


class _Failure:
    """An exception raised in a data worker, carried to the consumer to be raised there."""

    def __init__(self, exc, where):
        self.exc = exc
        self.where = where
        self.traceback = "".join(traceback.format_exception(exc))

    def reraise(self):
        """Raises the worker's own exception object: same type, args and attributes.

        A thread's exception still carries the worker frames in its `__traceback__`; a
        process's lost them in pickling, so their text goes into a note.
        """
        if self.where == "process":
            note = f"Raised in a data worker process. Worker traceback:\n{self.traceback}"
        else:
            note = "Raised in a data worker thread (its frames are the last ones above)."
        self.exc.add_note(note)
        raise self.exc


def _produce(fetch, *args, end_on_stop=False):
    """`fetch(*args)`, or `_END` / a `_Failure` instead of raising."""
    try:
        return fetch(*args)
    except StopIteration:
        if end_on_stop:
            return _END
        return _Failure(RuntimeError("A Sequence's __getitem__ raised StopIteration."),
                        "thread")
    except BaseException as exc:  # noqa: BLE001 - whatever it is, the consumer re-raises it
        return _Failure(exc, "thread")


def _picklable_exception(exc):
    """`exc` if it survives a pickle round trip, else a RuntimeError naming it."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any pickling failure means "send a stand-in"
        return RuntimeError(f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}")


def _process_worker(sequence, tasks, results):
    """Body of a worker process: `(position, index)` tasks in, pickled batches out."""
    while True:
        task = tasks.get()
        if task is None:
            return
        position, index = task
        try:
            payload = pickle.dumps(sequence[index], protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # noqa: BLE001 - sent to the parent to re-raise
            failure = _Failure(exc, "process")
            failure.exc = _picklable_exception(exc)
            payload = pickle.dumps(failure, protocol=pickle.HIGHEST_PROTOCOL)
        results.put((position, payload))


def _process_context():
    """Fork where the platform has it (workers inherit the Sequence without pickling it,
    as in Keras 2); otherwise the default start method, which pickles it once per worker."""
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


class _Progress:
    """What the worker threads and the consumer share (guarded by one condition)."""

    def __init__(self):
        self.next = 0        # the next position to hand to a worker
        self.consumed = 0    # positions the consumer has taken
        self.stop = False
        self.slots = {}      # position -> finished item


class BatchQueue:
    """Yields `steps` items from a Sequence or generator, produced ahead by workers.

    Items come back in order whatever the number of workers: a Sequence's in index
    order (shuffled per queue when `shuffle`), a generator's in the order it made them
    (`next` is called under a lock). At most `max_queue_size` items are being made or
    waiting at any time, the one the consumer waits for included. `workers=0` makes each
    item in the consumer's thread. A worker's exception is raised in the consumer with
    its original type and the worker's traceback; a worker process that dies raises a
    RuntimeError. Neither leaves the loop hanging.

    With `use_multiprocessing=True` (Sequences only), batches are made in forked
    processes, which must not use JAX: fork copies no threads, and JAX's are needed.
    """

    def __init__(self, source, steps, workers=1, use_multiprocessing=False,
                 max_queue_size=10, shuffle=False, rng=None, start_index=0):
        self.source = source
        self.steps = int(steps)
        self.workers = max(int(workers or 0), 0)
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max(int(max_queue_size or 0), 1)
        self.is_sequence = is_sequence(source)
        self.order = None
        if self.is_sequence:
            length = len(source)
            if length == 0 and self.steps:
                raise ValueError(
                    f"The Sequence {type(source).__name__} is empty (len 0), but "
                    f"{self.steps} batches were asked of it.")
            order = rng.permutation(length) if (shuffle and rng is not None) else \
                np.arange(length)
            self.order = [int(order[(start_index + i) % length]) for i in range(self.steps)]

    def __iter__(self):
        if self.workers == 0:
            return self._inline()
        if self.is_sequence and self.use_multiprocessing:
            return self._processes()
        return self._threads()

    def _inline(self):
        for position in range(self.steps):
            if self.is_sequence:
                yield self.source[self.order[position]]
            else:
                try:
                    yield next(self.source)
                except StopIteration:
                    return

    # -------------------------------------------------------------- threads
    def _threads(self):
        progress = _Progress()
        cond = threading.Condition()
        source_lock = threading.Lock()

        def claim():
            with cond:
                while (not progress.stop and progress.next < self.steps and
                       progress.next >= progress.consumed + self.max_queue_size):
                    cond.wait()
                if progress.stop or progress.next >= self.steps:
                    return None
                progress.next += 1
                return progress.next - 1

        def deliver(position, item):
            with cond:
                progress.slots[position] = item
                if not self.is_sequence and (item is _END or isinstance(item, _Failure)):
                    progress.stop = True  # nothing comes after a generator's end or error
                cond.notify_all()

        def work():
            while True:
                if self.is_sequence:
                    position = claim()
                    if position is None:
                        return
                    item = _produce(self.source.__getitem__, self.order[position])
                else:
                    with source_lock:  # claim and next() together: order is kept
                        position = claim()
                        if position is None:
                            return
                        item = _produce(next, self.source, end_on_stop=True)
                deliver(position, item)

        threads = [threading.Thread(target=work, daemon=True, name=f"jkeras-data-{i}")
                   for i in range(self.workers)]
        for thread in threads:
            thread.start()
        try:
            for position in range(self.steps):
                with cond:
                    while position not in progress.slots:
                        if not any(t.is_alive() for t in threads):
                            raise RuntimeError(
                                f"The data worker threads stopped before producing batch "
                                f"{position} of {self.steps}.")
                        cond.wait(0.1)
                    item = progress.slots.pop(position)
                    progress.consumed = position + 1
                    cond.notify_all()
                if item is _END:
                    return
                if isinstance(item, _Failure):
                    item.reraise()
                yield item
        finally:
            with cond:
                progress.stop = True
                cond.notify_all()

    # -------------------------------------------------------------- processes
    def _processes(self):
        ctx = _process_context()
        tasks, results = ctx.Queue(), ctx.Queue()
        procs = [ctx.Process(target=_process_worker, args=(self.source, tasks, results),
                             daemon=True, name=f"jkeras-data-{i}")
                 for i in range(self.workers)]
        ready = {}
        submitted = 0
        try:
            for position in range(self.steps):
                limit = min(self.steps, position + self.max_queue_size)
                while submitted < limit:
                    tasks.put((submitted, self.order[submitted]))
                    submitted += 1
                if position == 0:  # tasks first: the first worker starts on them at once
                    for proc in procs:
                        proc.start()
                while position not in ready:
                    try:
                        got, payload = results.get(timeout=0.5)
                    except queue.Empty:
                        _check_alive(procs, position, self.steps)
                        continue
                    ready[got] = payload
                item = pickle.loads(ready.pop(position))
                if isinstance(item, _Failure):
                    item.reraise()
                yield item
        finally:
            for proc in procs:
                if proc.pid is not None:
                    proc.terminate()
            for proc in procs:
                if proc.pid is not None:
                    proc.join(5)
            for q in (tasks, results):
                q.cancel_join_thread()
                q.close()


def _check_alive(procs, position, steps):
    dead = [p.exitcode for p in procs if p.exitcode is not None]
    if dead:
        raise RuntimeError(
            f"A data worker process exited (exit code {dead[0]}) before producing batch "
            f"{position} of {steps}.")
