"""Device arrays to host NumPy arrays, including arrays split over several processes.

In a multi-process job an array laid out over devices of several processes (a
`ModelParallel` kernel split over hosts) has parts no single process holds. Reading it
gathers the parts from every process: a collective, so every process must read the same
arrays in the same order, as an SPMD script does. Arrays a process holds whole (anything
on one process, replicated state) are read locally, with no collective.
"""
import jax
import numpy as np

__all__ = ["to_host", "spans_processes", "model_spans_processes", "needs_gather"]


def needs_gather(value):
    """Whether reading `value` needs the parts other processes hold."""
    return isinstance(value, jax.Array) and not value.is_fully_addressable and \
        not value.is_fully_replicated


def spans_processes(tree):
    """Whether any array in `tree` needs a gather to be read."""
    return any(needs_gather(leaf) for leaf in jax.tree_util.tree_leaves(tree))


def model_spans_processes(model):
    """Whether reading `model`'s weights or optimizer state gathers parts from other
    processes (a `ModelParallel` layout over several hosts' devices)."""
    trainer = getattr(model, "_trainer", None)
    opt_state = trainer.current_opt_state() if trainer is not None else None
    return spans_processes((model._get_vars(), opt_state))


def _gathered(value):
    from jax.experimental import multihost_utils
    return np.asarray(multihost_utils.process_allgather(value, tiled=True))


def to_host(tree):
    """`tree` with every device array as a host NumPy array (`jax.device_get`, gathering
    arrays split over processes)."""
    if not spans_processes(tree):
        return jax.device_get(tree)
    return jax.device_get(jax.tree_util.tree_map(
        lambda leaf: _gathered(leaf) if needs_gather(leaf) else leaf, tree))
