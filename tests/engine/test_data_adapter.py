"""The input pipeline under fit: Sequences and generators run ahead by worker threads or
processes (jkeras/engine/data_adapter.py BatchQueue, driven by Model.fit)."""
import multiprocessing
import os
import threading
import time
import traceback

import jax
import numpy as np
import pytest

import jkeras
from jkeras.engine import data_adapter

# Forking a process that has JAX loaded warns; these tests fork on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")

FORK = multiprocessing.get_context("fork")
N, BATCH = 10, 4  # 10 samples in batches of 4: 3 batches (4, 4, 2)
TIMEOUT = 60


# ------------------------------------------------------------------ helpers
class SeenBatches:
    """The sample ids each train step received, read inside the jitted step itself."""

    def __init__(self):
        self.batches = []

    def record(self, ids):
        self.batches.append([int(i) for i in np.asarray(ids)])

    def layer(self):
        def spy(x):
            jax.debug.callback(self.record, x.reshape(x.shape[0], -1)[:, 0], ordered=True)
            return x
        return jkeras.layers.Lambda(spy)

    def epochs(self, steps):
        jax.effects_barrier()
        return [sum(self.batches[e:e + steps], []) for e in range(0, len(self.batches), steps)]


def _model(seen, input_shape=(2,)):
    inputs = jkeras.Input(input_shape)
    x = seen.layer()(inputs)
    if len(input_shape) > 1:
        x = jkeras.layers.Flatten()(x)
    model = jkeras.Model(inputs, jkeras.layers.Dense(1)(x))
    model.compile("sgd", "mse")
    return model


def _batch_of(ids):
    """x carries the sample ids in both columns; y is anything."""
    x = np.stack([ids, ids], axis=1).astype(np.float32)
    return x, np.zeros((len(ids), 1), np.float32)


class IdSequence(jkeras.utils.Sequence):
    """Batches of sample ids; records (under a lock) which indices it served."""

    def __init__(self, n=N, batch_size=BATCH):
        self.n, self.batch_size = n, batch_size
        self.lock = threading.Lock()
        self.served = []
        self.served_at_epoch_end = []

    def __len__(self):
        return -(-self.n // self.batch_size)

    def __getitem__(self, index):
        with self.lock:
            self.served.append(index)
        start = index * self.batch_size
        return _batch_of(np.arange(start, min(start + self.batch_size, self.n)))

    def on_epoch_end(self):
        with self.lock:
            self.served_at_epoch_end.append(len(self.served))


def _fit_in_thread(model, *args, **kwargs):
    """Runs `model.fit` in a thread; fails the test if it has not returned in TIMEOUT s."""
    box = {}

    def target():
        try:
            box["history"] = model.fit(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(TIMEOUT)
    assert not thread.is_alive(), f"fit did not return within {TIMEOUT} s: it hangs"
    return box


# ------------------------------------------------------------------ Sequences
@pytest.mark.slow
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("use_multiprocessing", [False, True])
@pytest.mark.parametrize("workers", [1, 2, 4])
def test_sequence_serves_every_sample_once_per_epoch(workers, use_multiprocessing, shuffle):
    jkeras.utils.set_random_seed(workers)
    seen = SeenBatches()
    model = _model(seen)
    seq = IdSequence()
    box = _fit_in_thread(model, seq, epochs=3, verbose=0, workers=workers,
                         use_multiprocessing=use_multiprocessing, shuffle=shuffle)
    assert "error" not in box, box.get("error")
    epochs = seen.epochs(len(seq))
    assert len(epochs) == 3
    for ids in epochs:
        assert sorted(ids) == list(range(N))
        if not shuffle:
            assert ids == list(range(N))  # order kept, whatever the number of workers
    if shuffle:
        batch_orders = [tuple(b[0] for b in seen.batches[e:e + 3]) for e in (0, 3, 6)]
        assert any(order != (0, 4, 8) for order in batch_orders)
    # on_epoch_end runs in the parent, once per epoch, after the epoch's batches
    assert len(seq.served_at_epoch_end) == 3
    if not use_multiprocessing:
        assert seq.served_at_epoch_end == [3, 6, 9]
        for e in range(3):
            assert sorted(seq.served[3 * e:3 * e + 3]) == [0, 1, 2]
    else:
        assert seq.served == []  # the parent itself never read a batch


class ShufflingSequence(IdSequence):
    """Reorders its samples in on_epoch_end, as Keras 2 Sequences commonly do."""

    def __init__(self):
        super().__init__()
        self.ids = np.arange(N)
        self.rng = np.random.default_rng(0)

    def __getitem__(self, index):
        return _batch_of(self.ids[index * self.batch_size:(index + 1) * self.batch_size])

    def on_epoch_end(self):
        self.ids = self.rng.permutation(N)


@pytest.mark.parametrize("use_multiprocessing", [False, True])
def test_workers_see_state_set_in_on_epoch_end(use_multiprocessing):
    seen = SeenBatches()
    model = _model(seen)
    seq = ShufflingSequence()
    expected = []
    rng = np.random.default_rng(0)
    ids = np.arange(N)
    for _ in range(3):
        expected.append(ids.tolist())
        ids = rng.permutation(N)
    box = _fit_in_thread(model, seq, epochs=3, verbose=0, workers=2, shuffle=False,
                         use_multiprocessing=use_multiprocessing)
    assert "error" not in box, box.get("error")
    assert seen.epochs(3) == expected


# ------------------------------------------------------------------ errors
class BatchLoadError(Exception):
    pass


class TwoArgumentError(Exception):
    """An exception whose constructor does not take a single message."""

    def __init__(self, path, line):
        super().__init__(f"bad record in {path} at line {line}")
        self.path, self.line = path, line


def _load_batch_that_fails(index, error):
    if error == "two-argument":
        raise TwoArgumentError("data.csv", index)
    raise BatchLoadError(f"cannot load batch {index}")


class FailingSequence(IdSequence):
    def __init__(self, fail_at=1, error="plain"):
        super().__init__()
        self.fail_at, self.error = fail_at, error

    def __getitem__(self, index):
        if index == self.fail_at:
            _load_batch_that_fails(index, self.error)
        return super().__getitem__(index)


def _formatted(exc):
    return "".join(traceback.format_exception(exc))


@pytest.mark.parametrize("workers, use_multiprocessing",
                         [(0, False), (1, False), (4, False), (1, True), (4, True)])
def test_worker_exception_surfaces_in_fit(workers, use_multiprocessing):
    model = _model(SeenBatches())
    box = _fit_in_thread(model, FailingSequence(), epochs=2, verbose=0, workers=workers,
                         use_multiprocessing=use_multiprocessing, shuffle=False)
    error = box.get("error")
    assert type(error) is BatchLoadError
    assert str(error) == "cannot load batch 1"
    text = _formatted(error)
    assert "_load_batch_that_fails" in text  # the worker's frames
    assert 'raise BatchLoadError(f"cannot load batch {index}")' in text


def test_thread_worker_keeps_exception_object():
    """The exception is re-raised as it was, not rebuilt from its message."""
    model = _model(SeenBatches())
    box = _fit_in_thread(model, FailingSequence(error="two-argument"), epochs=1,
                         verbose=0, workers=2)
    error = box.get("error")
    assert type(error) is TwoArgumentError
    assert (error.path, error.line) == ("data.csv", 1)
    assert "_load_batch_that_fails" in _formatted(error)


def test_unpicklable_process_exception_becomes_runtime_error():
    model = _model(SeenBatches())
    box = _fit_in_thread(model, FailingSequence(error="two-argument"), epochs=1,
                         verbose=0, workers=2, use_multiprocessing=True)
    error = box.get("error")
    assert type(error) is RuntimeError
    assert "TwoArgumentError: bad record in data.csv at line 1" in str(error)
    assert "_load_batch_that_fails" in _formatted(error)


class DyingSequence(IdSequence):
    def __getitem__(self, index):
        if index == 1:
            os._exit(3)
        return super().__getitem__(index)


def test_dead_worker_process_raises_instead_of_hanging():
    model = _model(SeenBatches())
    box = _fit_in_thread(model, DyingSequence(), epochs=1, verbose=0, workers=2,
                         use_multiprocessing=True, shuffle=False)
    error = box.get("error")
    assert isinstance(error, RuntimeError) and "exit code 3" in str(error)


def test_failing_generator_with_workers():
    def batches():
        yield _batch_of(np.arange(4))
        _load_batch_that_fails(1, "plain")

    model = _model(SeenBatches())
    box = _fit_in_thread(model, batches(), steps_per_epoch=3, epochs=1, verbose=0,
                         workers=2)
    error = box.get("error")
    assert type(error) is BatchLoadError and "_load_batch_that_fails" in _formatted(error)


# ------------------------------------------------------------------ generators
def test_generator_with_two_workers_yields_each_batch_once():
    made = []
    lock = threading.Lock()

    def batches():
        start = 0
        while True:
            with lock:
                made.append(start)
            yield _batch_of(np.arange(start, start + 3))
            start += 3

    seen = SeenBatches()
    model = _model(seen)
    box = _fit_in_thread(model, batches(), steps_per_epoch=4, epochs=3, verbose=0,
                         workers=2)
    assert "error" not in box, box.get("error")
    jax.effects_barrier()
    assert len(made) == 12  # nothing pulled beyond the 3 x 4 steps asked for
    assert seen.batches == [[s, s + 1, s + 2] for s in range(0, 36, 3)]


def test_finite_generator_ends_the_epoch_early():
    seen = SeenBatches()
    model = _model(seen)
    box = _fit_in_thread(model, iter([_batch_of(np.arange(2))] * 2), steps_per_epoch=5,
                         epochs=1, verbose=0, workers=2)
    assert "error" not in box, box.get("error")
    jax.effects_barrier()
    assert seen.batches == [[0, 1], [0, 1]]


# ------------------------------------------------------------------ max_queue_size
class BlockingSequence(jkeras.utils.Sequence):
    """Batch 0 blocks until released; counts (across processes) the items started."""

    def __init__(self, length=20):
        self.length = length
        self.started = FORK.Value("i", 0)
        self.release = FORK.Event()

    def __len__(self):
        return self.length

    def __getitem__(self, index):
        with self.started.get_lock():
            self.started.value += 1
        if index == 0:
            self.release.wait(TIMEOUT)
        return _batch_of(np.array([index]))


def _wait_until(counter, value, limit=TIMEOUT):
    deadline = time.monotonic() + limit
    while counter.value < value and time.monotonic() < deadline:
        time.sleep(0.01)
    return counter.value


@pytest.mark.parametrize("use_multiprocessing", [False, True])
def test_max_queue_size_bounds_run_ahead(use_multiprocessing):
    seq = BlockingSequence()
    model = _model(SeenBatches())
    box = {}
    thread = threading.Thread(target=lambda: box.update(
        history=model.fit(seq, epochs=1, verbose=0, workers=4, max_queue_size=3,
                          use_multiprocessing=use_multiprocessing, shuffle=False)),
        daemon=True)
    thread.start()
    try:
        _wait_until(seq.started, 3)
        time.sleep(0.5)  # room for a worker that would run further ahead than allowed
        started_before_first = seq.started.value
    finally:
        seq.release.set()
    thread.join(TIMEOUT)
    assert not thread.is_alive()
    assert "history" in box
    assert started_before_first == 3  # batch 0 (blocked) + 2 ahead, never more
    assert seq.started.value == 20


# ------------------------------------------------------------------ ImageDataGenerator
def _image_data(n=7):
    x = np.repeat(np.arange(n, dtype=np.float32), 4).reshape(n, 2, 2, 1)
    return x, np.zeros((n, 1), np.float32)


def test_image_data_generator_flow_batches_3_3_1():
    x, y = _image_data()
    flow = jkeras.preprocessing.image.ImageDataGenerator().flow(
        x, y, batch_size=3, shuffle=False)
    seen = SeenBatches()
    model = _model(seen, input_shape=(2, 2, 1))
    history = model.fit_generator(flow, steps_per_epoch=len(flow), epochs=2, verbose=0,
                                  shuffle=False, workers=2)
    assert len(history.history["loss"]) == 2
    jax.effects_barrier()
    assert seen.batches == [[0, 1, 2], [3, 4, 5], [6]] * 2


def test_image_data_generator_shuffled_flow_serves_all_samples():
    x, y = _image_data()
    flow = jkeras.preprocessing.image.ImageDataGenerator().flow(x, y, batch_size=3, seed=1)
    seen = SeenBatches()
    model = _model(seen, input_shape=(2, 2, 1))
    model.fit_generator(flow, steps_per_epoch=len(flow), epochs=3, verbose=0, workers=2)
    jax.effects_barrier()
    for e in range(3):
        epoch = seen.batches[3 * e:3 * e + 3]
        assert sorted(len(b) for b in epoch) == [1, 3, 3]
        assert sorted(sum(epoch, [])) == list(range(7))





def test_image_data_generator_flow_reshuffles_each_epoch():
    x, y = _image_data()
    flow = jkeras.preprocessing.image.ImageDataGenerator().flow(x, y, batch_size=3, seed=1)
    seen = SeenBatches()
    model = _model(seen, input_shape=(2, 2, 1))
    model.fit_generator(flow, steps_per_epoch=len(flow), epochs=3, verbose=0, shuffle=False)
    epochs = seen.epochs(3)
    assert len({tuple(e) for e in epochs}) > 1



def test_fit_on_a_flow_without_steps_per_epoch():
    x, y = _image_data()
    flow = jkeras.preprocessing.image.ImageDataGenerator().flow(x, y, batch_size=3)
    seen = SeenBatches()
    model = _model(seen, input_shape=(2, 2, 1))
    model.fit(flow, epochs=1, verbose=0)
    jax.effects_barrier()
    assert sorted(len(b) for b in seen.batches) == [1, 3, 3]


# ------------------------------------------------------------------ steps_per_epoch
def test_float_steps_per_epoch_from_a_generator():
    def batches():
        while True:
            for start in range(0, N, BATCH):
                yield _batch_of(np.arange(start, min(start + BATCH, N)))

    seen = SeenBatches()
    model = _model(seen)
    history = model.fit_generator(batches(), steps_per_epoch=N / BATCH, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert seen.epochs(3) == [list(range(N))] * 2  # 2.5 steps -> 3 batches per epoch


def test_float_steps_per_epoch_with_a_sequence():
    seen = SeenBatches()
    model = _model(seen)
    model.fit(IdSequence(), steps_per_epoch=N / BATCH, epochs=1, verbose=0, shuffle=False)
    jax.effects_barrier()
    assert len(seen.batches) == 3


def test_float_steps_per_epoch_with_arrays():
    x, y = _batch_of(np.arange(N))
    model = _model(SeenBatches())
    history = model.fit(x, y, batch_size=BATCH, steps_per_epoch=N / BATCH, epochs=1,
                        verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_float_steps_per_epoch_with_arrays_rounds_up():
    x, y = _batch_of(np.arange(N))
    seen = SeenBatches()
    model = _model(seen)
    model.fit(x, y, batch_size=BATCH, steps_per_epoch=N / BATCH, epochs=1, verbose=0,
              shuffle=False)
    jax.effects_barrier()
    assert seen.batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


# ------------------------------------------------------------------ BatchQueue itself
def test_batch_queue_closed_early_stops_its_workers():
    seq = IdSequence(n=400, batch_size=4)
    items = iter(data_adapter.BatchQueue(seq, 100, workers=4, max_queue_size=5))
    next(items)
    items.close()
    time.sleep(0.2)
    served = len(seq.served)
    time.sleep(0.2)
    assert served == len(seq.served) <= 1 + 5 + 4
    assert not [t for t in threading.enumerate() if t.name.startswith("jkeras-data")]


def test_is_sequence():
    x, y = _image_data()
    assert data_adapter.is_sequence(IdSequence())
    assert data_adapter.is_sequence(jkeras.preprocessing.image.ImageDataGenerator().flow(x, y))
    assert not data_adapter.is_sequence(iter([1, 2]))
