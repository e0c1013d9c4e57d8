"""Keras 2's backend loops: `K.rnn` (a step function iterated over time, with masks) and
`K.foldl` / `K.foldr`, as `lax.scan`s."""
import jax
import jax.numpy as jnp
from jax import lax

__all__ = ["rnn", "foldl", "foldr"]


def _expand_mask(mask_t, value):
    """A `(batch,)` mask reshaped to broadcast against `value`."""
    return jnp.reshape(mask_t, mask_t.shape + (1,) * (value.ndim - mask_t.ndim))


def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None,
        constants=None, unroll=False, input_length=None):
    """Iterates `step_function(input_t, states + constants) -> (output_t, new_states)`
    over axis 1 of `inputs` `(batch, time, ...)`.

    Returns `(last_output, outputs, new_states)`: the last step's output, every step's
    output stacked on axis 1 (in processing order, so reversed when `go_backwards`) and
    the final states. Where `mask` `(batch, time)` is false a step keeps the previous
    output (zeros before the first) and the previous states. `unroll` and
    `input_length` are accepted; the loop is always a `lax.scan`.
    """
    inputs = jnp.asarray(inputs)
    if inputs.ndim < 3:
        raise ValueError("rnn needs inputs of rank >= 3 (batch, time, ...). "
                         f"Received: inputs.shape={tuple(inputs.shape)}")
    constants = list(constants or [])
    states = list(initial_states)
    steps = jnp.swapaxes(inputs, 0, 1)
    masks = None
    if mask is not None:
        mask = jnp.asarray(mask)
        if mask.ndim == 3:
            mask = mask[..., 0]
        masks = jnp.swapaxes(mask.astype(bool), 0, 1)
    if go_backwards:
        steps = jnp.flip(steps, axis=0)
        masks = None if masks is None else jnp.flip(masks, axis=0)

    first_output, _ = jax.eval_shape(lambda x, s: step_function(x, list(s) + constants),
                                     steps[0], states)
    previous = jnp.zeros(first_output.shape, first_output.dtype)

    def body(carry, xs):
        prev_output, prev_states = carry
        x_t, mask_t = xs
        output, new_states = step_function(x_t, list(prev_states) + constants)
        new_states = list(new_states)
        if mask_t is not None:
            output = jnp.where(_expand_mask(mask_t, output), output, prev_output)
            new_states = [jnp.where(_expand_mask(mask_t, n), n, p)
                          for n, p in zip(new_states, prev_states)]
        return (output, new_states), output

    (last_output, final_states), outputs = lax.scan(body, (previous, states),
                                                    (steps, masks))
    return last_output, jnp.swapaxes(outputs, 0, 1), final_states


def _fold(fn, elems, initializer, reverse):
    elems = jnp.asarray(elems)
    if reverse:
        elems = jnp.flip(elems, axis=0)
    if initializer is None:
        initializer, elems = elems[0], elems[1:]
    result, _ = lax.scan(lambda acc, x: (fn(acc, x), None), initializer, elems)
    return result


def foldl(fn, elems, initializer=None, name=None):
    """`fn(fn(fn(init, e0), e1), ...)` over the first axis of `elems`, left to right; with
    no `initializer` the first element starts the fold."""
    return _fold(fn, elems, initializer, reverse=False)


def foldr(fn, elems, initializer=None, name=None):
    """As `foldl`, right to left (the last element first)."""
    return _fold(fn, elems, initializer, reverse=True)
