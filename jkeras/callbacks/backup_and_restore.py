"""`BackupAndRestore`: backs up the whole training state as `fit` goes, and resumes from
the backup when `fit` starts again after an interruption.

The backup is a training checkpoint (`jkeras.saving.checkpoint`'s format, written by its
atomic writer) whose metadata adds the hyperparameters a callback set on the host.
Backups written by earlier jkeras versions in their own msgpack layout
("jkeras.BackupAndRestore") are still read.
"""
import os
import warnings

import numpy as np

from jkeras.callbacks.callback import Callback
from jkeras.callbacks.monitor import check_save_freq

__all__ = ["BackupAndRestore", "pack_training_state", "unpack_training_state",
           "write_atomically"]

_BACKUP_FILE = "training_state.msgpack"
_LEGACY_FORMAT = "jkeras.BackupAndRestore"
_MISMATCH = ("The backed-up training state does not match this model and optimizer (was "
             "the model or compile() changed?).")


def write_atomically(path, data):
    """Writes `data` (bytes) to `path` so that a crash leaves the old file or the new one
    (`jkeras.saving.atomic.write_bytes`)."""
    from jkeras.saving import atomic
    atomic.write_bytes(path, data)


def pack_training_state(snapshot, epoch, step=None, hyperparameters=None):
    """Checkpoint bytes of a `get_training_state()` snapshot plus where training stood."""
    from jkeras.saving import checkpoint
    metadata = {"epoch": int(epoch), "step": None if step is None else int(step),
                "hyperparameters": dict(hyperparameters or {})}
    return checkpoint.encode_checkpoint(snapshot, metadata)


def unpack_training_state(data, template, source="the backup"):
    """(snapshot shaped like `template`, metadata with `epoch`, `step` and
    `hyperparameters`) from backup bytes."""
    from jkeras.saving import checkpoint
    legacy = _legacy_record(data)
    if legacy is not None:
        return _unpack_legacy(legacy, template)
    metadata, saved = checkpoint.decode_checkpoint(data, source)
    try:
        snapshot = checkpoint.restore_state(template, saved, source)
    except ValueError as error:
        raise ValueError(f"{_MISMATCH} {error}") from None
    metadata.setdefault("hyperparameters", {})
    return snapshot, metadata


def _legacy_record(data):
    """The record of a backup in the layout jkeras wrote before it used the checkpoint
    format, or None for any other data."""
    import msgpack
    try:
        record = msgpack.unpackb(data, raw=False)
    except Exception:  # noqa: BLE001 - not legacy; the checkpoint reader reports it
        return None
    if isinstance(record, dict) and record.get("format") == _LEGACY_FORMAT:
        return record
    return None


def _unpack_legacy(record, template):
    """A legacy record: the snapshot's leaves in `jax.tree_util` order, with the treedef's
    text to check the structure against."""
    import jax
    import jax.numpy as jnp
    leaves, treedef = jax.tree_util.tree_flatten(template)
    if record["treedef"] != str(treedef) or len(record["leaves"]) != len(leaves):
        raise ValueError(f"{_MISMATCH} Expected structure {treedef} with {len(leaves)} "
                         f"arrays. Received: {record['treedef']} with "
                         f"{len(record['leaves'])} arrays.")
    arrays = [np.frombuffer(item["bytes"], dtype=np.dtype(jnp.dtype(item["dtype"])))
              .reshape(item["shape"]).copy() for item in record["leaves"]]
    for got, want in zip(arrays, leaves):
        if got.shape != np.shape(want):
            raise ValueError(f"{_MISMATCH} Expected an array of shape {np.shape(want)}. "
                             f"Received: shape {got.shape}.")
    metadata = {"epoch": record["epoch"], "step": record["step"],
                "hyperparameters": dict(record.get("hyperparameters") or {})}
    return jax.tree_util.tree_unflatten(treedef, arrays), metadata


def _host_changed_hyperparameters(optimizer):
    """Hyperparameters set on the host (by a callback) that the device state does not
    hold yet: the next step would write them in."""
    out = {}
    for name, hyper in getattr(optimizer, "_hypers", {}).items():
        if getattr(hyper, "changed", False) and getattr(hyper, "_getter", None) is None:
            out[name] = hyper.python_value()
    return out


class BackupAndRestore(Callback):
    """Backs up the whole training state to `backup_dir` at each epoch end (or every
    `save_freq` batches) and, when `fit` starts and a backup exists, restores it and
    resumes from where it was taken, so an interrupted run ends bit for bit as an
    uninterrupted one.

    The backup is one checkpoint file (variables, optimizer state, PRNG key, epoch, step,
    learning rate set by a callback), replaced atomically; it is deleted when training
    ends normally if `delete_checkpoint`. Callbacks' own state (EarlyStopping's or
    ReduceLROnPlateau's counters) is not part of it.

    With an integer `save_freq` a run can be resumed inside an epoch: the training loop
    starts that epoch over, and after each of its batches up to the backed-up one the
    backed-up state is put back. Weights then match exactly; that epoch's logged metrics
    also count the re-run batches.
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True,
                 save_before_preemption=False):
        super().__init__()
        if not backup_dir:
            raise ValueError(f"Empty `backup_dir` argument passed. Received: "
                             f"backup_dir={backup_dir!r}")
        if save_freq is False:
            raise ValueError("Expected `save_freq` to be 'epoch' or a positive integer. "
                             "Received: save_freq=False (preemption checkpoints are not "
                             "supported).")
        if save_before_preemption:
            warnings.warn("`save_before_preemption` has no effect in jkeras.",
                          RuntimeWarning, stacklevel=2)
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = check_save_freq(save_freq)
        self.delete_checkpoint = delete_checkpoint
        self._batches_count = 0
        self._current_epoch = 0
        self._replay = None
        self._backed_up_hypers = {}

    @property
    def backup_path(self):
        return os.path.join(self.backup_dir, _BACKUP_FILE)

    def _implements_train_batch_hooks(self):
        return self.save_freq != "epoch"

    def on_train_begin(self, logs=None):
        from jkeras.engine.host_values import model_spans_processes
        self._batches_count = 0
        self._replay = None
        # The restore's template reads the state: when it is split over processes that is
        # a collective, so every process reads it, whether or not it sees the file.
        template = self.model.get_training_state() \
            if model_spans_processes(self.model) else None
        if not os.path.exists(self.backup_path):
            return
        with open(self.backup_path, "rb") as f:
            data = f.read()
        if template is None:
            template = self.model.get_training_state()
        snapshot, record = unpack_training_state(data, template, self.backup_path)
        self.model.set_training_state(snapshot)
        for name, value in record.get("hyperparameters", {}).items():
            setattr(self.model.optimizer, name, value)
        epoch, step = record["epoch"], record["step"]
        steps = self.params.get("steps")
        if step is None or (steps is not None and step + 1 >= steps):
            self.model._trainer.resume_at(epoch + 1)
        else:
            # Resume inside `epoch`: the loop starts the epoch over, so the batches up
            # to `step` are run and then undone by putting the backed-up state back.
            self.model._trainer.resume_at(epoch)
            self._replay = {"epoch": epoch, "step": step, "snapshot": snapshot,
                            "hyperparameters": record.get("hyperparameters", {})}

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def _after_epoch_end(self, epoch, logs=None):
        """Called by CallbackList once every callback's on_epoch_end has run."""
        if self.save_freq == "epoch" and \
                _host_changed_hyperparameters(self.model.optimizer) != self._backed_up_hypers:
            # A callback listed after this one changed a hyperparameter at this epoch's
            # end (ReduceLROnPlateau): back up again so that the change is kept.
            self._backup(epoch, None)

    def on_train_batch_end(self, batch, logs=None):
        replay = self._replay
        if replay is not None:
            if self._current_epoch == replay["epoch"] and batch <= replay["step"]:
                self.model.set_training_state(replay["snapshot"])
                for name, value in replay["hyperparameters"].items():
                    setattr(self.model.optimizer, name, value)
                if batch == replay["step"]:
                    self._replay = None
                return
            self._replay = None
        if self.save_freq == "epoch":
            return
        self._batches_count += 1
        if self._batches_count >= self.save_freq:
            self._batches_count = 0
            self._backup(self._current_epoch, batch)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._backup(epoch, None)

    def on_train_end(self, logs=None):
        from jkeras.distribution.distribution_lib import is_chief
        if self.delete_checkpoint and is_chief() and os.path.exists(self.backup_path):
            os.remove(self.backup_path)  # process 0 wrote it; only it deletes it

    def _backup(self, epoch, step):
        from jkeras.engine.host_values import written_by_chief
        # Every process keeps the same record of what was backed up, so that
        # `_after_epoch_end` decides alike in all of them.
        hypers = _host_changed_hyperparameters(self.model.optimizer)
        self._backed_up_hypers = hypers
        with written_by_chief(self.model, self.backup_path) as path:
            if path is not None:  # process 0 (the others join a gather, if one is needed)
                state = self.model.get_training_state()
                write_atomically(path, pack_training_state(state, epoch, step, hypers))
