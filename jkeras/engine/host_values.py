"""Device arrays to host NumPy arrays, including arrays split over several processes.

In a multi-process job an array laid out over devices of several processes (a
`ModelParallel` kernel split over hosts) has parts no single process holds. Reading it
gathers the parts from every process: a collective, so every process must read the same
arrays in the same order, as an SPMD script does. Arrays a process holds whole (anything
on one process, replicated state) are read locally, with no collective. Saves go through
`written_by_chief`: every process joins the gathers, process 0 writes.
"""
import contextlib

import jax
import numpy as np

__all__ = ["to_host", "spans_processes", "model_spans_processes", "model_state", "gathered",
           "needs_gather", "written_by_chief"]

_SNAPSHOTS = []  # values gathered on entering `gathered`, innermost last


def needs_gather(value):
    """Whether reading `value` needs the parts other processes hold."""
    return isinstance(value, jax.Array) and not value.is_fully_addressable and \
        not value.is_fully_replicated


def spans_processes(tree):
    """Whether any array in `tree` needs a gather to be read."""
    return any(needs_gather(leaf) for leaf in jax.tree_util.tree_leaves(tree))


def model_state(model):
    """What saving a model reads: its variables and its optimizer's state."""
    trainer = getattr(model, "_trainer", None)
    opt_state = trainer.current_opt_state() if trainer is not None else None
    return model._get_vars(), opt_state


def model_spans_processes(model):
    """Whether reading `model`'s weights or optimizer state gathers parts from other
    processes (a `ModelParallel` layout over several hosts' devices)."""
    return spans_processes(model_state(model))


def _gathered(value):
    from jax.experimental import multihost_utils
    return np.asarray(multihost_utils.process_allgather(value, tiled=True))


@contextlib.contextmanager
def gathered(tree):
    """Within: reads of `tree`'s arrays that are split over processes use values gathered
    once, on entry. Every process enters with the same tree, so the gathers pair one for
    one; what runs inside may then read them in any order, or not at all (a process that
    writes nothing, or one that fails before its first read)."""
    values = {id(leaf): (leaf, _gathered(leaf))
              for leaf in jax.tree_util.tree_leaves(tree) if needs_gather(leaf)}
    _SNAPSHOTS.append(values)
    try:
        yield
    finally:
        _SNAPSHOTS.remove(values)


def _read(leaf):
    for values in reversed(_SNAPSHOTS):
        hit = values.get(id(leaf))
        if hit is not None and hit[0] is leaf:
            return hit[1]
    return _gathered(leaf)


def to_host(tree):
    """`tree` with every device array as a host NumPy array (`jax.device_get`, gathering
    arrays split over processes)."""
    if not spans_processes(tree):
        return jax.device_get(tree)
    return jax.device_get(jax.tree_util.tree_map(
        lambda leaf: _read(leaf) if needs_gather(leaf) else leaf, tree))


@contextlib.contextmanager
def written_by_chief(model, filepath):
    """Where this process writes `filepath`: the path itself in process 0 (or a job of
    one), None elsewhere (nothing to write). When the model's arrays are split over
    processes, every process first gathers them (a collective every process enters alike,
    before any check that could fail in one process only); process 0 then writes from
    those copies."""
    from jkeras.distribution.distribution_lib import is_chief
    target = filepath if is_chief() else None
    if not model_spans_processes(model):
        yield target
        return
    with gathered(model_state(model)):
        yield target
