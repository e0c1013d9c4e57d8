"""Where the trainer puts arrays: one device, or a device mesh under a distribution.

Without a distribution everything goes to the default device. With one, the train state
goes where the distribution's variable layouts say (replicated for `DataParallel`),
resident training arrays are replicated on every device, and batches are split along the
mesh's batch axis (a batch that does not divide by the device count is replicated). Arrays
are built with `jax.make_array_from_callback`, which takes from the host array only the
part each local device holds, so the same code serves one process and many.
"""
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

__all__ = ["Placement"]


def _host(value):
    return np.asarray(value)


class Placement:
    """Placement of arrays for `distribution` (None: the default device)."""

    def __init__(self, distribution=None):
        self.distribution = distribution
        self._zero = None
        self._indices = []
        self._kept = {}
        self._in_flight = 0
        # XLA:CPU runs at most 32 programs per device at once. With more queued, the
        # launches of the next ones block the client's threads (as many as the cores or
        # the devices), and a program whose all-reduce runs on one device's thread can
        # wait forever for the other device's half, queued behind them: the process
        # aborts after 40 s ("Expected 2 threads to join the rendezvous, but only 1 of
        # them arrived"). Seen with forced host devices on a 2-core machine, and in a
        # plain jax loop too. So on CPU meshes the loops keep few steps in flight.
        self._throttled = distribution is not None and jax.default_backend() == "cpu" \
            and len(distribution.jax_mesh.devices.flat) > 1

    @property
    def distributed(self):
        return self.distribution is not None

    def replicated(self):
        return self.distribution.replicated() if self.distribution is not None else None

    def _put(self, array, sharding):
        array = _host(array)
        if sharding is None:
            return jax.device_put(array)
        return jax.make_array_from_callback(array.shape, sharding, lambda idx: array[idx])

    def put_replicated(self, array):
        """A host array (the same in every process) on every device."""
        return self._put(array, self.replicated())

    def put_replicated_tree(self, tree):
        """Every host array of `tree` on every device (one transfer call on one device)."""
        if self.distribution is None:
            return jax.device_put(tree)
        return jax.tree_util.tree_map(self.put_replicated, tree)

    def place_tree(self, tree, shardings):
        """`tree` (device or host arrays) placed as `shardings` says (a matching tree)."""
        if self.distribution is None:
            return tree
        return jax.tree_util.tree_map(lambda a, s: self._put(jax.device_get(a), s)
                                      if not _placed(a, s) else a, tree, shardings)

    # ---- batches
    def batch_sharding(self, shape, stacked=False):
        """Split along the batch axis (the second axis of stacked batches)."""
        dist = self.distribution
        if dist is None:
            return None
        inner = tuple(shape[1:]) if stacked else tuple(shape)
        axes = dist.get_data_layout(inner).axes
        return NamedSharding(dist.jax_mesh, PartitionSpec(*(((None,) if stacked else ())
                                                            + tuple(axes))))

    def chunk_sharding(self, batch_size):
        """For gathered chunks `(K, batch, ...)`: batch split when it divides evenly."""
        dist = self.distribution
        if dist is None:
            return None
        axis = dist.batch_dim_name if self.batch_split(batch_size) > 1 else None
        return NamedSharding(dist.jax_mesh, PartitionSpec(None, axis))

    def batch_split(self, batch_size):
        """Over how many devices a batch of `batch_size` is split (1: not split)."""
        dist = self.distribution
        if dist is None or batch_size % dist.batch_size_on_axis():
            return 1
        return dist.batch_size_on_axis()

    def put_batch(self, tree, stacked=False):
        """A host batch (or stack of batches) on the devices, split along the batch axis.
        With `auto_shard_dataset=False` each process gives only its own part."""
        dist = self.distribution
        if dist is None:
            return jax.device_put(tree)

        def put(array):
            array = _host(array)
            sharding = self.batch_sharding(array.shape, stacked)
            if not dist.auto_shard_dataset and jax.process_count() > 1:
                return jax.make_array_from_process_local_data(sharding, array)
            return self._put(array, sharding)
        return jax.tree_util.tree_map(put, tree)

    def batch_argument(self, tree):
        """A host batch as a program's argument: off a mesh the host arrays themselves
        (the call moves them, with no separate transfer), on a mesh `put_batch`'s."""
        return self.put_batch(tree) if self.distributed else tree

    def dispatched(self, value):
        """Called with the output of each step-like program the loops dispatch, before
        anything else uses it (a later step may take it donated). On a CPU mesh, every
        `_IN_FLIGHT`-th waits for it, so that no more are ever queued (see `__init__`);
        elsewhere it does nothing (a GPU queues as much as the host sends)."""
        if self._throttled:
            self._in_flight += 1
            if self._in_flight >= _IN_FLIGHT:
                jax.block_until_ready(value)
                self._in_flight = 0
        return value

    # ---- small constants, made once
    def kept(self, key, make):
        """`make()`'s device value, made once per `key` (the last few kept)."""
        value = self._kept.pop(key, None)
        if value is None:
            value = make()
        self._kept[key] = value
        while len(self._kept) > _KEPT_VALUES:
            self._kept.pop(next(iter(self._kept)))
        return value

    def zero(self):
        if self._zero is None:
            self._zero = self._put(np.int32(0), self.replicated())
        return self._zero

    def index(self, i):
        """`i` (a batch's place in a chunk) as an int32 device scalar, made once."""
        while len(self._indices) <= i:
            self._indices.append(self._put(np.int32(len(self._indices)), self.replicated()))
        return self._indices[i]


_KEPT_VALUES = 16
_IN_FLIGHT = 8  # dispatches (each with a gather or two besides), well under 32 programs


def _placed(array, sharding):
    return isinstance(array, jax.Array) and array.sharding == sharding
