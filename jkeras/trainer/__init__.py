"""The trainer: what `compile`, `fit`, `evaluate` and `predict` run.

- `compile.py`: losses, loss weights and metrics resolved into pure functions.
- `state.py`: the one train-state pytree, and the binding that lets the model's weight
  cells read and write it while training runs.
- `step.py`: the pure train, test and predict steps (jitted by the trainer).
- `epoch_iterator.py`: batches for every kind of input (device-resident arrays, streamed
  arrays, generators, Sequences).
- `trainer.py`: the `Trainer` (one per compiled model) and its loops, the only callback
  scheduler. `Model`'s training methods delegate to it.

`docs/TRAINER.md` says why it is shaped this way.
"""
