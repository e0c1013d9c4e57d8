"""The RNN cell protocol: what the `RNN` layer asks of the cell it runs over time.

A cell is a Layer with `state_size` (an int, a shape, or a list of them, one per state) and
`output_size`, and these pure pieces:

- `state_shapes(step_shape)`: the flat list of state shapes (batch included) for one
  step's input shape; `num_states` is its length;
- `project(params, x, masks)`: the input transformation, run once over the whole sequence
  (`x` may carry a leading time axis); the identity by default;
- `step(params, xp, states, masks, training)`: one step on projected input, returning
  `(output, new_states)` (a flat list);
- `uses_dropout` and `dropout_masks(key, step_shape, dtype)`: masks sampled once per
  sequence and handed to `project` and `step`;
- `group_states(flat)`: the flat states in the structure `return_state` gives back.

`RNNCell` is the base class of the built-in cells; `as_cell` gives any other cell (a
Keras-style `build` + `call(inputs, states)` + `state_size` layer) the same protocol,
calling it through its own `apply` at every step.
"""
from typing import Any, List, Optional, Sequence, Tuple, Union

import jax
import jax.numpy as jnp

from jkeras.engine.base_layer import Layer, flatten
from jkeras.layers.arguments import require_key
from jkeras.layers.autocast import autocast

__all__ = ["RNNCell", "as_cell", "dropout_masks", "gated_matmul", "masks_of"]

StepShape = Tuple[Optional[int], ...]


def _as_shape(size):
    return tuple(size) if isinstance(size, (list, tuple)) else (int(size),)


def _sizes(state_size):
    return list(state_size) if isinstance(state_size, (list, tuple)) else [state_size]


def _shapes_from_state_size(state_size, step_shape):
    return [(step_shape[0],) + _as_shape(s) for s in _sizes(state_size)]


class RNNCell(Layer):
    """Base class of the cells `RNN` runs (see the module docstring for the protocol)."""

    state_size: Union[int, Sequence[Any]]
    output_size: Any
    uses_dropout: bool = False

    @property
    def num_states(self) -> int:
        return len(_sizes(self.state_size))

    def state_shapes(self, step_shape: StepShape) -> List[StepShape]:
        return _shapes_from_state_size(self.state_size, step_shape)

    def dropout_masks(self, key, step_shape: StepShape, dtype):
        return None

    def project(self, params, x, masks):
        return x

    def step(self, params, xp, states, masks, training=False):
        raise NotImplementedError

    def group_states(self, flat: Sequence[jax.Array]) -> list:
        return list(flat)

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """Zero states, grouped as `step` returns them."""
        if batch_size is None:
            batch_size = inputs.shape[0]
        shapes = self.state_shapes((batch_size, None))
        return self.group_states([jnp.zeros(s, dtype or self.dtype) for s in shapes])

    @autocast
    def apply(self, variables, inputs, states=None, *, training=False, key=None, mask=None,
              **kwargs):
        """One step: `((output, new_states), state)` for `inputs` (batch, features...)."""
        params = variables["params"]
        x = jnp.asarray(inputs)
        if states is None:
            flat = [jnp.zeros(s, x.dtype) for s in self.state_shapes(x.shape)]
        else:
            flat = flatten(list(states) if isinstance(states, (list, tuple)) else [states])
        masks = None
        if training and self.uses_dropout:
            masks = self.dropout_masks(require_key(self, key, "for dropout in training mode"),
                                       x.shape, x.dtype)
        output, new_states = self.step(params, self.project(params, x, masks), flat, masks,
                                       training=training)
        return (output, self.group_states(new_states)), variables["state"]


class _KerasStyleCell:
    """The protocol over a cell that is not an `RNNCell`: a Keras-style layer with
    `state_size` and `call(inputs, states)`, run through its `apply` at every step."""

    uses_dropout = False

    def __init__(self, cell: Layer):
        self.cell = cell

    @property
    def num_states(self):
        return len(_sizes(self.cell.state_size))

    @property
    def output_size(self):
        size = getattr(self.cell, "output_size", None)
        return size if size is not None else _sizes(self.cell.state_size)[0]

    def state_shapes(self, step_shape):
        return _shapes_from_state_size(self.cell.state_size, step_shape)

    def dropout_masks(self, key, step_shape, dtype):
        return None

    def project(self, params, x, masks):
        return x

    def step(self, params, xp, states, masks, training=False):
        (output, new_states), _ = self.cell.apply({"params": params, "state": {}}, xp,
                                                  states=states, training=training)
        if not isinstance(new_states, (list, tuple)):
            new_states = [new_states]
        return output, list(new_states)

    def group_states(self, flat):
        return list(flat)


def as_cell(cell):
    """`cell` itself when it is an `RNNCell`, else a view of it with the same protocol."""
    return cell if isinstance(cell, RNNCell) else _KerasStyleCell(cell)


# ---------------------------------------------------------------------- dropout masks
def _mask_list(key, rate, shape, count, dtype):
    """`count` inverted-dropout masks of `shape` (None when `rate` is not in (0, 1))."""
    if not 0.0 < rate < 1.0:
        return None
    keep = 1.0 - rate
    return [jax.random.bernoulli(k, keep, shape).astype(dtype) / jnp.asarray(keep, dtype)
            for k in jax.random.split(key, count)]


def dropout_masks(key, rate, recurrent_rate, input_shape, state_shape, count, dtype):
    """One mask per gate for the inputs and for the recurrent state (Keras's per-sequence
    dropout): `{"input": [...] or None, "recurrent": [...] or None}`."""
    k_in, k_rec = jax.random.split(key)
    return {"input": _mask_list(k_in, rate, input_shape, count, dtype),
            "recurrent": _mask_list(k_rec, recurrent_rate, state_shape, count, dtype)}


def masks_of(masks, kind):
    return None if masks is None else masks[kind]


def gated_matmul(x, weight, masks):
    """`x @ weight`, or with one dropout mask per gate block of `weight`'s columns."""
    if masks is None:
        return x @ weight
    blocks = jnp.split(weight, len(masks), axis=-1)
    return jnp.concatenate([(x * m) @ w for m, w in zip(masks, blocks)], axis=-1)
