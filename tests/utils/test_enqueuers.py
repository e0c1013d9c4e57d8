"""Keras 2's enqueuers: batches read ahead by worker threads, in order for a Sequence,
epoch after epoch with on_epoch_end, and to the end of a finite generator."""
import itertools
import threading
import time

import numpy as np
import pytest

from jkeras.utils import data_utils
from jkeras.utils.enqueuers import GeneratorEnqueuer, OrderedEnqueuer


class Squares(data_utils.Sequence):
    def __init__(self, n=6):
        self.n, self.epochs_ended = n, 0
        self.offset = 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        time.sleep(0.002 * ((i * 7) % 3))   # workers finish out of order
        return np.full((2,), i * i + self.offset)

    def on_epoch_end(self):
        self.epochs_ended += 1
        self.offset += 100


def test_ordered_enqueuer_keeps_order_across_epochs():
    seq = Squares()
    enqueuer = OrderedEnqueuer(seq)
    enqueuer.start(workers=3, max_queue_size=4)
    try:
        got = [int(b[0]) for b in itertools.islice(enqueuer.get(), 12)]
    finally:
        enqueuer.stop()
    assert got == [i * i for i in range(6)] + [100 + i * i for i in range(6)]
    assert seq.epochs_ended >= 1
    assert not enqueuer.is_running()


def test_ordered_enqueuer_shuffles_each_epoch_without_repeats():
    enqueuer = OrderedEnqueuer(Squares(8), shuffle=True)
    enqueuer.start(workers=2)
    try:
        epoch = [int(b[0]) for b in itertools.islice(enqueuer.get(), 8)]
    finally:
        enqueuer.stop()
    assert sorted(epoch) == [i * i for i in range(8)]


def test_generator_enqueuer_reads_a_finite_generator_to_its_end():
    seen = []

    def gen():   # not thread-safe: the enqueuer serializes next()
        for i in range(20):
            seen.append(threading.get_ident())
            yield i

    enqueuer = GeneratorEnqueuer(gen(), random_seed=1)
    enqueuer.start(workers=4, max_queue_size=3)
    values = sorted(enqueuer.get())
    assert values == list(range(20))
    assert not enqueuer.is_running()


def test_worker_errors_reach_the_reader_and_stop_the_enqueuer():
    class Broken(Squares):
        def __getitem__(self, i):
            if i == 2:
                raise KeyError("batch 2 is broken")
            return super().__getitem__(i)

    enqueuer = OrderedEnqueuer(Broken())
    enqueuer.start(workers=2)
    with pytest.raises(KeyError, match="batch 2"):
        list(itertools.islice(enqueuer.get(), 6))
    assert not enqueuer.is_running()


def test_arguments_are_checked_and_multiprocessing_warns():
    with pytest.warns(RuntimeWarning, match="threads"):
        enqueuer = OrderedEnqueuer(Squares(), use_multiprocessing=True)
    with pytest.raises(ValueError, match="workers.*Received: workers=0"):
        enqueuer.start(workers=0)
    with pytest.raises(ValueError, match="max_queue_size"):
        enqueuer.start(workers=1, max_queue_size=-1)
    assert not enqueuer.is_running()
