"""Batches for every kind of input, as the loops consume them.

An epoch is a sequence of `Unit`s: a batch, a stack of batches (a scanned
`steps_per_execution` run) or a chunk of batches gathered on the device, with the number
of samples in one batch. Where arrays go (one device, or a mesh) is a `Placement`'s say.

- `ArrayFeed` with `resident=True`: the arrays go to the device once (cached across calls
  for the same arrays); each epoch sends one index table and a jitted gather cuts the
  batches from it, counting on the device, so nothing is uploaded per step.
- `ArrayFeed` with `resident=False` (arrays over the device budget, a `numpy.memmap`
  say): batches are cut on the host and copied to the device two units ahead.
- `prefetch()`: the same two-ahead copy for batches from generators and `Sequence`s.
"""
import collections
import itertools
import weakref

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from jkeras import _config
from jkeras.engine import data_adapter
from jkeras.trainer.placement import Placement

__all__ = ["ArrayFeed", "DeviceCache", "Unit", "prefetch", "host_batch", "started"]

_AHEAD = 2
_DEFAULT = Placement()  # the default device


def _host_dtype(array):
    return np.float32 if array.dtype == np.float64 else array.dtype


def host_batch(arrays, idx):
    """Rows `idx` of each array (None stays None), float64 as float32."""
    return jax.tree_util.tree_map(lambda a: np.asarray(a[idx], _host_dtype(a)), arrays)


def _nbytes(arrays):
    return sum(int(np.prod(a.shape)) * np.dtype(_host_dtype(a)).itemsize
               for a in jax.tree_util.tree_leaves(arrays))


def _root(array):
    """The array owning the memory of `array` (itself, or the base of a view)."""
    while isinstance(getattr(array, "base", None), np.ndarray):
        array = array.base
    return array


def _fingerprint(array):
    """Identity of a host array's contents, cheap: the memory's owner, where the array
    starts in it, its layout and a sample of its values (a validation split's slice of
    the same array hits the same entry on every `fit`)."""
    flat = array.reshape(-1) if array.flags.c_contiguous else np.ravel(array)
    step = max(1, flat.size // 4096)
    sample = np.ascontiguousarray(flat[::step][:4096])
    pointer = array.__array_interface__["data"][0]
    return (id(_root(array)), pointer, array.shape, array.strides, array.dtype.str,
            hash(sample.tobytes()))


def bucket(n):
    """The smallest size >= n of the form m * 2**e with 8 <= m < 16: device copies are
    padded to it, so the jitted gather compiles once per bucket, not once per sample
    count, for at most 1/8 more memory."""
    if n <= 16:
        return max(n, 1)
    e = max(0, int(n).bit_length() - 4)
    return -(-n // (1 << e)) << e


def upload(array, placement=_DEFAULT):
    """`array` on the device (on every device of a mesh), its leading axis padded with
    zeros to `bucket(len)`."""
    array = np.asarray(array) if not isinstance(array, np.ndarray) else array
    n = array.shape[0]
    size = bucket(n)
    if size != n:
        padded = np.zeros((size,) + array.shape[1:], _host_dtype(array))
        padded[:n] = array
        array = padded
    return placement.put_replicated(np.asarray(array, _host_dtype(array)))


class DeviceCache:
    """Device copies of host arrays, one entry per array, kept while the host array lives
    and its contents look the same (a few entries, least recently used dropped first)."""

    def __init__(self, size=8, placement=_DEFAULT):
        self._entries = collections.OrderedDict()
        self._size = size
        self.placement = placement
        self._memos = []  # [(device leaves, {run key: chunks})], the latest last

    def get(self, arrays):
        return jax.tree_util.tree_map(self._one, arrays)

    def _one(self, array):
        key = _fingerprint(array)
        entry = self._entries.get(key)
        if entry is not None and entry[0]() is _root(array):
            self._entries.move_to_end(key)
            return entry[1]
        device = upload(array, self.placement)
        root = _root(array)
        try:
            ref = weakref.ref(root)
        except TypeError:
            ref = lambda: root  # noqa: E731 - arrays that take no weak reference
        self._entries[key] = (ref, device)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return device

    def chunk_memo(self, data, plan):
        """A dict for the chunks cut from the device arrays `data` by `plan` (what fixes
        the batches: sample count, batch size, steps, chunk length), kept for the last
        `_MEMOS` data sets asked for (a fit's training and validation data), one plan each
        (another plan on the same data starts the dict afresh). The data is matched by
        its structure (None leaves included) and each array's identity."""
        leaves, structure = jax.tree_util.tree_flatten(data)
        for i, (kept, kept_structure, kept_plan, memo) in enumerate(self._memos):
            if kept_structure == structure and len(kept) == len(leaves) and \
                    all(a is b for a, b in zip(kept, leaves)):
                self._memos.pop(i)
                if kept_plan != plan:
                    memo = {}
                self._memos.append((kept, structure, plan, memo))
                return memo
        self._memos = self._memos[-(_MEMOS - 1):] + [(leaves, structure, plan, {})]
        return self._memos[-1][3]

    def clear(self):
        self._entries.clear()
        self._memos = []


_MEMOS = 2


# Batches are cut from device-resident arrays a *chunk* at a time: one dispatch gathers K
# batches (K fixed by the batch's size, never by the sample count), and the step indexes
# the chunk with a cursor it carries. A dispatch costs the host tens to hundreds of
# microseconds on a GPU machine, as much as a small model's whole step, so the array path
# makes one dispatch per step, like a hand-written loop over ready batches.
CHUNK_BYTES = 64 << 20
MAX_CHUNK = 32


def chunk_length(batch_bytes):
    """How many batches one gather cuts: up to 32, within CHUNK_BYTES (of a batch's bytes
    on one device)."""
    return int(max(1, min(MAX_CHUNK, CHUNK_BYTES // max(1, int(batch_bytes)))))


def _take(data, idx):
    safe = jnp.maximum(idx, 0)
    return jax.tree_util.tree_map(lambda a: jnp.take(a, safe, axis=0), data)


def _gather_chunk(length, sharding, single=False):
    """`gather(data, table, start) -> (chunk, valid, next start)`; `single` (length 1):
    the batch itself, without the chunk's leading axis."""
    def gather(data, table, start):
        idx = jax.lax.dynamic_slice_in_dim(table, start, length)
        if single:
            return _take(data, idx[0]), idx[:, 0] >= 0, start + length
        return _take(data, idx), idx[:, 0] >= 0, start + length
    if sharding is None:
        return jax.jit(gather)
    replicated = NamedSharding(sharding.mesh, PartitionSpec())
    if single:
        sharding = NamedSharding(sharding.mesh, PartitionSpec(*sharding.spec[1:]))
    return jax.jit(gather, out_shardings=(sharding, replicated, replicated))


_GATHERS = {}


def _gather_fn(length, sharding=None, single=False):
    key = (length, sharding, single)
    if key not in _GATHERS:
        _GATHERS[key] = _gather_chunk(length, sharding, single)
    return _GATHERS[key]


def _index_table(run, length, placement, key=None):
    """The run's index batches as an int32 table, padded with -1 rows (never valid) to a
    whole number of chunks and then to a size bucket (so its shape rarely changes). With a
    `key` (a plan that never changes) the device table is made once and kept."""
    def make():
        rows = -(-len(run) // length) * length
        rows = bucket(rows)
        rows += (-rows) % length
        table = np.full((rows, run.shape[1]), -1, np.int32)
        table[:len(run)] = run
        return placement.put_replicated(table)
    return make() if key is None else placement.kept(("index table", key, length), make)


class Unit:
    """Work for the loops. kind "batch": `fetch()` gives one batch; "stack": `count`
    batches stacked on a leading axis, all real; "chunk": `(chunk, valid)` with
    `chunk_length` batches stacked, the first `count` real (`valid` marks them).
    `spec()`: what `fetch()` will give, as arrays or their shapes (without cutting
    anything), so that the step can be compiled before the data is ready."""

    __slots__ = ("kind", "fetch", "size", "count", "spec")

    def __init__(self, kind, fetch, size, count=1, spec=None):
        self.kind, self.fetch, self.size, self.count = kind, fetch, size, count
        self.spec = fetch if spec is None else spec


def started(units):
    """`units` with the first one already fetched (its batches cut on the device now, its
    dispatch queued behind the work before it)."""
    units = iter(units)
    first = next(units, None)
    if first is None:
        return units
    value = first.fetch()
    return itertools.chain([Unit(first.kind, lambda: value, first.size, first.count)],
                           units)


def _runs(batches):
    """Consecutive batches of one size, as `(size, table)`: the run's index batches as the
    rows of an int array."""
    runs = []
    for batch in batches:
        if runs and runs[-1][0] == len(batch):
            runs[-1][1].append(batch)
        else:
            runs.append((len(batch), [batch]))
    return [(size, np.stack(rows)) for size, rows in runs]


class ArrayFeed:
    """Index batches over host arrays, served from the device or streamed from the host.

    arrays: a pytree of equal-length host arrays (None leaves allowed).
    batch_plan: `epoch -> [(size, table), ...]`: the epoch's index batches in order, as runs
        of batches of one size (each batch a row of the run's int table).
    """

    def __init__(self, arrays, batch_plan, cache=None, resident=None, placement=_DEFAULT,
                 order_key=None):
        self.arrays = arrays
        self.batch_plan = batch_plan
        self.order_key = order_key  # set when the plan is the same every epoch
        self.placement = placement
        self._bytes = _nbytes(arrays)
        if resident is None:
            resident = self._bytes <= _config.device_data_budget()
            if placement.distributed and not placement.distribution.auto_shard_dataset:
                resident = False  # each process holds its own part: stream it
        self.resident = resident
        self._device = None
        self._cache = cache

    def device_arrays(self):
        if self._device is None:
            self._device = self._cache.get(self.arrays) if self._cache is not None else \
                jax.tree_util.tree_map(lambda a: upload(a, self.placement), self.arrays)
        return self._device

    def units(self, epoch, group=1, scanned=False):
        """The epoch's units: chunks (or, with `group` > 1, stacks of `group` batches for a
        scanned `steps_per_execution` run). `scanned`: the consumer runs a whole chunk in one
        scan (evaluate, predict; padding batches are skipped by a conditional there)."""
        runs = self.batch_plan(epoch)
        if self.resident:
            return self._resident_units(runs, group, scanned)
        return self._streamed_units(runs, group)

    def _row_bytes(self):
        return sum(int(np.prod(a.shape[1:])) * np.dtype(_host_dtype(a)).itemsize
                   for a in jax.tree_util.tree_leaves(self.arrays))

    def _chunk_memo(self, data, plan):
        """Where an unshuffled plan's chunks are kept from one epoch or call to the next
        (later ones then find their batches cut, as a hand-written loop's are), or None:
        a shuffled plan, no cache, or data over half the device data budget (the kept
        chunks are a second copy of it)."""
        if self._cache is None or self.order_key is None or \
                2 * self._bytes > _config.device_data_budget():
            return None
        return self._cache.chunk_memo(data, plan)

    def _resident_units(self, runs, group, scanned=False):
        data = self.device_arrays()
        lengths = [group if group > 1 else chunk_length(
            # a chunk's bytes on each device: a split batch is spread over the mesh
            size * self._row_bytes() // self.placement.batch_split(size))
            for size, _ in runs]
        # A training batch too big to share a chunk is cut alone, without the chunk's
        # axis: the step then gets it as a hand-written loop's step gets its batch (an
        # index into a chunk of one made XLA cast a big input to 16 bits twice, once for
        # each of the two shapes it had).
        singles = [length == 1 and group == 1 and not scanned for length in lengths]
        memo = self._chunk_memo(data, (self.order_key, tuple(lengths), tuple(singles)))
        for number, ((size, run), length, single) in enumerate(zip(runs, lengths, singles)):
            key = None if self.order_key is None else self.order_key + (number,)
            starts = range(0, len(run), length)
            # Kept chunks hold their padding batches too: a run mostly padding (8 batches
            # in a chunk of 32) is cut anew each time rather than kept at 4 times its size.
            keep = memo if len(starts) * length <= 2 * len(run) else None
            kept = None if keep is None else keep.get((key, length, single))
            if kept is None:
                fetch, spec = self._gathering(data, run, length, size, (key, length, single),
                                              keep, len(starts))
            for i, done in enumerate(starts):
                if kept is not None:
                    fetch = spec = (lambda item=kept[i]: item)
                count = min(length, len(run) - done)
                kind = "batch" if single else \
                    "stack" if group > 1 and count == length else "chunk"
                if kind == "chunk":
                    yield Unit(kind, fetch, size, count, spec)
                else:  # the batches alone, without the chunk's validity marks
                    yield Unit(kind, lambda fetch=fetch: fetch()[0], size, count,
                               lambda spec=spec: spec()[0])

    def _gathering(self, data, run, length, size, memo_key, memo, chunks):
        """`(fetch, spec)` cutting a run's chunks in turn; with a `memo`, the run's chunks
        are kept there (under `memo_key`) once all are cut."""
        key, _, single = memo_key
        table = _index_table(run, length, self.placement, key)
        gather = _gather_fn(length, self.placement.chunk_sharding(size), single)
        cursor = {"start": self.placement.zero()}
        cut = []

        def fetch():
            chunk, valid, cursor["start"] = gather(data, table, cursor["start"])
            if memo is not None:
                cut.append((chunk, valid))
                if len(cut) == chunks:
                    memo[memo_key] = cut
            return chunk, valid

        def spec():
            return jax.eval_shape(gather, data, table, cursor["start"])[:2]
        return fetch, spec

    def _streamed_units(self, runs, group):
        def host_units():
            for size, run in runs:
                full = len(run) - len(run) % group if group > 1 else 0
                done = 0
                while done < len(run):
                    count = group if done < full else 1
                    if count == 1:
                        host = host_batch(self.arrays, run[done])
                    else:
                        parts = [host_batch(self.arrays, b) for b in run[done:done + count]]
                        host = jax.tree_util.tree_map(lambda *xs: np.stack(xs), *parts)
                    yield host, size, count
                    done += count
        for device, size, count in prefetch(host_units(), placement=self.placement):
            yield Unit("stack" if count > 1 else "batch", lambda device=device: device, size,
                       count)


def prefetch(units, ahead=_AHEAD, placement=_DEFAULT):
    """Yields `(device batch, size, count)` for `(host batch, size, count)` items, starting
    the copy of the next `ahead` items before the current one is used (copies are
    asynchronous). `count > 1` marks a stack of batches."""
    pending = collections.deque()
    try:
        for host, size, count in units:
            pending.append((placement.put_batch(host, stacked=count > 1), size, count))
            if len(pending) > ahead:
                yield pending.popleft()
        while pending:
            yield pending.popleft()
    finally:
        close = getattr(units, "close", None)
        if close is not None:
            close()


# A shuffled plan's first epoch drawn ahead for the next `fit` call (see `epoch_plan`):
# `{(num, batch_size, shuffle, steps, seed, epoch): runs}`, one entry at most.
_DRAWN_AHEAD = {}


def epoch_plan(num, batch_size, shuffle, base_seed, steps=None):
    """`epoch -> [(size, table), ...]` (see `ArrayFeed`): each epoch's order depends only
    on the seed and the epoch, so a run resumed at epoch e shuffles exactly as an
    uninterrupted one did.

    `plan.draw_next_call(epoch)` draws, ahead, the plan that a next call with the same
    sizes would use for `epoch` (its seed is the global stream's next one): a loop calls
    it while the host waits for the device at a call's end, so a next `fit` finds its
    first permutation made (it took about 1 ms on an H200 host, in front of the first
    step). A call that does not match draws its own, as before."""
    def draw(seed, epoch):
        # (an unshuffled plan draws nothing: no generator made at each epoch's start)
        rng = np.random.default_rng([seed, epoch]) if shuffle else None
        if steps is None and shuffle != "batch":
            # (no Python list of 192 index arrays: 0.3-1 ms at the start of each epoch on
            # a GPU host, before the device gets its first step)
            return data_adapter.batch_runs(num, batch_size, shuffle, rng)
        batches = data_adapter.batch_indices(num, batch_size, shuffle, rng)
        if steps is not None:
            while len(batches) < steps:
                batches += data_adapter.batch_indices(num, batch_size, shuffle, rng)
            batches = batches[:steps]
        return _runs(batches)

    def key(seed, epoch):
        return (num, batch_size, shuffle, steps, seed, epoch)

    def plan(epoch):
        runs = _DRAWN_AHEAD.pop(key(base_seed, epoch), None)
        return draw(base_seed, epoch) if runs is None else runs

    def draw_next_call(epoch=0):
        if shuffle:
            seed = _config.peek_seed()
            _DRAWN_AHEAD.clear()
            _DRAWN_AHEAD[key(seed, epoch)] = draw(seed, epoch)
    plan.draw_next_call = draw_next_call
    return plan
