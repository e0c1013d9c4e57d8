"""Keras 2's connectionist temporal classification functions: `K.ctc_batch_cost`,
`K.ctc_label_dense_to_sparse` and `K.ctc_decode` (greedy and beam search). As in Keras 2,
`y_pred` holds softmax probabilities `(batch, time, classes)` and the blank is the last
class."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax
from jax.experimental import sparse as jsparse

from jkeras import _config

__all__ = ["ctc_label_dense_to_sparse", "ctc_batch_cost", "ctc_decode"]


def _lengths(value, name):
    value = jnp.asarray(value)
    if value.ndim == 2 and value.shape[1] == 1:
        value = value[:, 0]
    if value.ndim != 1:
        raise ValueError(f"ctc: `{name}` must have shape (batch,) or (batch, 1). "
                         f"Received: {name}.shape={tuple(value.shape)}")
    return value.astype(jnp.int32)


def _log_probs(y_pred):
    y_pred = jnp.asarray(y_pred)
    if y_pred.ndim != 3:
        raise ValueError("ctc: `y_pred` must have shape (batch, time, classes). "
                         f"Received: y_pred.shape={tuple(y_pred.shape)}")
    return jnp.log(y_pred + _config.epsilon())


def ctc_label_dense_to_sparse(labels, label_lengths):
    """The first `label_lengths[i]` labels of each row as a sparse array
    (`jax.experimental.sparse.BCOO`) of the dense labels' shape. Its number of entries
    depends on the data, so call it outside `jit`."""
    labels = np.asarray(labels)
    lengths = np.asarray(_lengths(label_lengths, "label_lengths"))
    keep = np.arange(labels.shape[1])[None, :] < lengths[:, None]
    indices = np.argwhere(keep)
    return jsparse.BCOO((jnp.asarray(labels[keep]), jnp.asarray(indices, jnp.int32)),
                        shape=labels.shape)


def ctc_batch_cost(y_true, y_pred, input_length, label_length):
    """Per-sample CTC loss `(batch, 1)`: the negative log-likelihood of the labels
    `y_true[i, :label_length[i]]` under the first `input_length[i]` steps of `y_pred`."""
    log_probs = _log_probs(y_pred)
    batch, steps, classes = log_probs.shape
    labels = jnp.asarray(y_true).astype(jnp.int32)
    input_length = _lengths(input_length, "input_length")
    label_length = _lengths(label_length, "label_length")
    logit_paddings = (jnp.arange(steps)[None, :] >= input_length[:, None])
    label_paddings = (jnp.arange(labels.shape[1])[None, :] >= label_length[:, None])
    loss = optax.ctc_loss(log_probs, logit_paddings.astype(log_probs.dtype), labels,
                          label_paddings.astype(log_probs.dtype), blank_id=classes - 1)
    return loss[:, None]


def _to_keras2_width(decoded):
    """Keras 2 returns decoded rows as wide as the longest one; outside `jit` the -1
    padding beyond it is cut off (under `jit` the width stays `time`)."""
    if isinstance(decoded, jax.core.Tracer):
        return decoded
    width = int(jnp.max(jnp.sum(decoded >= 0, axis=-1), initial=0))
    return decoded[..., :width]


def _greedy(log_probs, lengths):
    steps, blank = log_probs.shape[1], log_probs.shape[2] - 1
    best = jnp.argmax(log_probs, axis=-1)
    valid = jnp.arange(steps)[None, :] < lengths[:, None]
    previous = jnp.pad(best[:, :-1], ((0, 0), (1, 0)), constant_values=-1)
    emit = valid & (best != blank) & (best != previous)
    # Emitted labels moved to the front of each row (a stable sort on "not emitted").
    order = jnp.argsort(~emit, axis=1, stable=True)
    decoded = jnp.where(jnp.take_along_axis(emit, order, axis=1),
                        jnp.take_along_axis(best, order, axis=1), -1)
    score = -jnp.sum(jnp.where(valid, jnp.max(log_probs, axis=-1), 0.0), axis=1)
    return [decoded], score[:, None]


def _beam_search_one(log_probs, length, beam_width, top_paths):
    """Prefix beam search over one sequence `(time, classes)`: each beam is a label
    prefix with the log-probabilities of its paths ending in a blank and in a label."""
    steps, classes = log_probs.shape
    blank = classes - 1
    labels = jnp.arange(classes - 1)
    prefixes = jnp.full((beam_width, steps), -1, jnp.int32)
    sizes = jnp.zeros(beam_width, jnp.int32)
    p_blank = jnp.full(beam_width, -jnp.inf).at[0].set(0.0)
    p_label = jnp.full(beam_width, -jnp.inf)
    rows = jnp.arange(beam_width)

    def step(carry, xs):
        prefixes, sizes, p_blank, p_label = carry
        logp, active = xs
        last = jnp.where(sizes > 0, prefixes[rows, jnp.maximum(sizes - 1, 0)], -1)
        total = jnp.logaddexp(p_blank, p_label)
        # The same prefix: a blank, or the last label repeated without a blank between.
        stay_blank = total + logp[blank]
        stay_label = jnp.where(sizes > 0, p_label + jnp.take(logp, jnp.maximum(last, 0)),
                               -jnp.inf)
        # The prefix extended by a label c (a repeat of the last one needs a blank first).
        same = labels[None, :] == last[:, None]
        grow = jnp.where(same, p_blank[:, None], total[:, None]) + logp[None, :blank]
        # An extension equal to another beam's prefix adds its mass to that beam.
        longer = (sizes[None, :] == sizes[:, None] + 1) & jnp.isfinite(
            jnp.logaddexp(p_blank, p_label))[None, :]
        common = jnp.arange(steps)[None, None, :] < sizes[:, None, None]
        agrees = jnp.all(~common | (prefixes[:, None, :] == prefixes[None, :, :]), axis=-1)
        match = longer & agrees                                     # (parent, beam)
        last_of = jnp.where(sizes > 0, last, -1)                    # label a beam ends in
        into = match[:, :, None] & (last_of[None, :, None] == labels[None, None, :])
        moved = jnp.where(into, grow[:, None, :], -jnp.inf)         # (parent, beam, c)
        stay_label = jnp.logaddexp(stay_label, jax.nn.logsumexp(moved, axis=(0, 2)))
        grow = jnp.where(jnp.any(into, axis=1), -jnp.inf, grow)
        # Keep the best `beam_width` of the stays and the extensions.
        cand_blank = jnp.concatenate([stay_blank, jnp.full(grow.size, -jnp.inf)])
        cand_label = jnp.concatenate([stay_label, grow.reshape(-1)])
        score = jnp.logaddexp(cand_blank, cand_label)
        _, best = lax.top_k(score, beam_width)
        parent = jnp.where(best < beam_width, best, (best - beam_width) // (classes - 1))
        added = jnp.where(best < beam_width, -1, (best - beam_width) % (classes - 1))
        new_prefixes = prefixes[parent]
        new_sizes = sizes[parent]
        new_prefixes = jnp.where(
            (added[:, None] >= 0) & (jnp.arange(steps)[None, :] == new_sizes[:, None]),
            added[:, None], new_prefixes)
        new_sizes = new_sizes + (added >= 0)
        new = (new_prefixes, new_sizes, cand_blank[best], cand_label[best])
        keep = lambda n, o: jnp.where(active, n, o)
        return jax.tree_util.tree_map(keep, new, carry), None

    active = jnp.arange(steps) < length
    (prefixes, sizes, p_blank, p_label), _ = lax.scan(
        step, (prefixes, sizes, p_blank, p_label), (log_probs, active))
    score = jnp.logaddexp(p_blank, p_label)
    top_scores, top = lax.top_k(score, top_paths)
    return prefixes[top], top_scores


def ctc_decode(y_pred, input_length, greedy=True, beam_width=100, top_paths=1,
               merge_repeated=False):
    """Decodes `y_pred` (softmax probabilities, blank last) into label sequences.

    Returns `(decoded, log_prob)` as Keras 2: `decoded` a list of `top_paths` int arrays
    `(batch, length)` padded with -1. Greedy: the best class per step, repeats merged and
    blanks dropped, `log_prob` `(batch, 1)` the negated sum of each step's best log
    probability. Beam search: `log_prob` `(batch, top_paths)` the log-probability of each
    decoded sequence. `merge_repeated` is accepted; a beam never merges labels that a
    blank separates (TensorFlow's `merge_repeated=False`).
    """
    log_probs = _log_probs(y_pred)
    lengths = _lengths(input_length, "input_length")
    if greedy:
        decoded, score = _greedy(log_probs, lengths)
        return [_to_keras2_width(d) for d in decoded], score
    if not 1 <= top_paths <= beam_width:
        raise ValueError("ctc_decode: `top_paths` must be between 1 and `beam_width`. "
                         f"Received: top_paths={top_paths}, beam_width={beam_width}")
    normalized = jax.nn.log_softmax(log_probs, axis=-1)
    paths, scores = jax.vmap(
        lambda lp, n: _beam_search_one(lp, n, beam_width, top_paths))(normalized, lengths)
    decoded = [_to_keras2_width(paths[:, k]) for k in range(top_paths)]
    return decoded, scores
