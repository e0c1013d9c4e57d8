"""The trainer: what `compile`, `fit`, `evaluate` and `predict` run.

- `compile.py`: losses, loss weights and metrics resolved into pure functions.
- `state.py`: the one train-state pytree, and the binding that lets the model's weight
  cells read and write it while training runs.
- `step.py`: the pure train, test and predict steps (jitted by the trainer);
  `unrolling.py`: a small step's scan unrolled where the host drives the loop (GPUs).
- `epoch_iterator.py`: batches for every kind of input (device-resident arrays, streamed
  arrays, generators, Sequences).
- `trainer.py`: the `Trainer` (one per compiled model): the state between calls and the
  jitted programs. `Model`'s training methods delegate to it.

- `loop.py`: fit, evaluate, predict and the batch methods, the only callback scheduler;
  `placement.py`: where arrays go (one device, or a mesh); `inputs.py`: user data matched
  to the model and checked.

`docs/TRAINER.md` says why it is shaped this way.
"""

__all__ = []  # the package is used through its modules
