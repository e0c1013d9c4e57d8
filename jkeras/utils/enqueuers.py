"""Enqueuers: worker threads that read batches ahead of the training loop, from a
`Sequence` in order (`OrderedEnqueuer`) or from a generator (`GeneratorEnqueuer`), as
Keras 2's `keras.utils.data_utils` had them.

    enqueuer = OrderedEnqueuer(sequence, shuffle=True)
    enqueuer.start(workers=4, max_queue_size=10)
    batches = enqueuer.get()          # a generator, endless over epochs
    ...
    enqueuer.stop()

Workers are threads even when `use_multiprocessing=True` is asked for (with a warning):
forking a process that runs JAX is unsafe. Generators need not be thread-safe: workers
take turns calling `next()` on them. The module-level helpers (`init_pool`, `get_index`,
`init_pool_generator`, `next_sample`) are the functions workers run, under Keras 2's names.
"""
import concurrent.futures
import itertools
import queue
import random
import threading
import time
import warnings

import numpy as np

__all__ = ["SequenceEnqueuer", "OrderedEnqueuer", "GeneratorEnqueuer", "init_pool",
           "get_index", "init_pool_generator", "next_sample"]

# uid -> the Sequence or generator an enqueuer's workers read, and a lock per generator.
_SHARED_SEQUENCES = {}
_GENERATOR_LOCKS = {}
_UIDS = itertools.count()
_POLL_S = 0.05


def init_pool(seqs):
    """Makes `seqs` ({uid: sequence}) the table workers read from."""
    _SHARED_SEQUENCES.update(seqs)


def get_index(uid, i):
    """Batch `i` of the sequence registered as `uid`."""
    return _SHARED_SEQUENCES[uid][i]


def init_pool_generator(gens, random_seed=None):
    """`init_pool` for generators; `random_seed` seeds NumPy's global generator."""
    init_pool(gens)
    if random_seed is not None:
        np.random.seed(random_seed)


def next_sample(uid):
    """The next value of the generator registered as `uid` (one worker at a time)."""
    with _GENERATOR_LOCKS.setdefault(uid, threading.Lock()):
        return next(_SHARED_SEQUENCES[uid])


def _check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"Expected `{name}` to be an integer >= {minimum}. "
                         f"Received: {name}={value!r}")


class SequenceEnqueuer:
    """Base class: `start` the workers, read batches from `get()`, `stop` them."""

    def __init__(self, sequence, use_multiprocessing=False):
        if use_multiprocessing:
            warnings.warn(f"{type(self).__name__} runs its workers as threads: forking a "
                          "process that runs JAX is unsafe. `use_multiprocessing` is "
                          "ignored.", RuntimeWarning, stacklevel=3)
        self.sequence = sequence
        self.use_multiprocessing = use_multiprocessing
        self.uid = next(_UIDS)
        self.workers = 0
        self.queue = None
        self.stop_signal = None
        self.run_thread = None

    def is_running(self):
        return self.stop_signal is not None and not self.stop_signal.is_set()

    def start(self, workers=1, max_queue_size=10):
        """Starts `workers` threads filling a queue of at most `max_queue_size` batches
        (0: no limit)."""
        _check_count("workers", workers, 1)
        _check_count("max_queue_size", max_queue_size, 0)
        if self.is_running():
            raise RuntimeError(f"{type(self).__name__} is already running; stop() it first.")
        self.workers = int(workers)
        self.queue = queue.Queue(int(max_queue_size))
        self.stop_signal = threading.Event()
        self._register()
        self.run_thread = threading.Thread(target=self._run, daemon=True)
        self.run_thread.start()

    def _register(self):
        init_pool({self.uid: self.sequence})

    def stop(self, timeout=None):
        """Stops the workers (waits at most `timeout` seconds) and drops queued batches."""
        if self.stop_signal is None:
            return
        self.stop_signal.set()
        self._drain()
        if self.run_thread is not None and self.run_thread is not threading.current_thread():
            self.run_thread.join(timeout)
        self._drain()
        _SHARED_SEQUENCES.pop(self.uid, None)
        _GENERATOR_LOCKS.pop(self.uid, None)

    def _drain(self):
        while True:
            try:
                self.queue.get_nowait()
            except queue.Empty:
                return
            self.queue.task_done()

    def _put(self, future):
        """Queues `future`; False if the enqueuer was stopped while waiting for room."""
        while not self.stop_signal.is_set():
            try:
                self.queue.put(future, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        future.cancel()
        return False

    def _next_future(self):
        """The next queued future, or None once stopped."""
        while self.is_running():
            try:
                return self.queue.get(timeout=_POLL_S)
            except queue.Empty:
                continue
        return None

    def _run(self):
        raise NotImplementedError

    def get(self):
        """Yields the batches (in order within an epoch for a Sequence) until `stop()`, or
        until a finite generator is exhausted."""
        while True:
            future = self._next_future()
            if future is None:
                return
            try:
                value = future.result()
            except StopIteration:
                self.queue.task_done()
                yield from self._finish()
                return
            except BaseException:
                self.queue.task_done()
                self.stop()
                raise
            self.queue.task_done()
            if value is not None:
                yield value

    def _finish(self):
        """The values that were read before the generator ran out, then stop."""
        pending = []
        while True:
            try:
                pending.append(self.queue.get_nowait())
            except queue.Empty:
                break
            self.queue.task_done()
        self.stop()
        for future in pending:
            if not future.cancelled() and future.exception() is None:
                value = future.result()
                if value is not None:
                    yield value


class OrderedEnqueuer(SequenceEnqueuer):
    """Reads a `Sequence`'s batches in order (shuffled per epoch with `shuffle=True`),
    epoch after epoch; `sequence.on_epoch_end()` runs once all of an epoch's batches have
    been taken from the queue."""

    def __init__(self, sequence, use_multiprocessing=False, shuffle=False):
        super().__init__(sequence, use_multiprocessing)
        self.shuffle = bool(shuffle)

    def _run(self):
        indices = list(range(len(self.sequence)))
        with concurrent.futures.ThreadPoolExecutor(self.workers) as executor:
            while not self.stop_signal.is_set():
                if self.shuffle:
                    random.shuffle(indices)
                for i in indices:
                    if not self._put(executor.submit(get_index, self.uid, i)):
                        return
                while self.queue.unfinished_tasks and not self.stop_signal.is_set():
                    time.sleep(_POLL_S / 5)
                if self.stop_signal.is_set():
                    return
                self.sequence.on_epoch_end()


class GeneratorEnqueuer(SequenceEnqueuer):
    """Reads a generator ahead; a finite generator ends `get()` once it is exhausted.

    `random_seed` seeds NumPy's global generator when the workers start. `wait_time` is
    accepted for compatibility and unused, as in Keras 2.3.
    """

    def __init__(self, sequence, use_multiprocessing=False, wait_time=None,
                 random_seed=None):
        super().__init__(sequence, use_multiprocessing)
        if wait_time is not None:
            warnings.warn("`wait_time` is not used anymore.", DeprecationWarning,
                          stacklevel=2)
        self.random_seed = random_seed

    def _register(self):
        init_pool_generator({self.uid: self.sequence}, self.random_seed)

    def _run(self):
        with concurrent.futures.ThreadPoolExecutor(self.workers) as executor:
            while not self.stop_signal.is_set():
                if not self._put(executor.submit(next_sample, self.uid)):
                    return
