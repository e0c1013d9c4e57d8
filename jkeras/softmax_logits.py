"""Cross-entropies of softmax outputs taken from their logits, as Keras 2 on TensorFlow does.

Keras 2.3's TensorFlow backend checks, in `categorical_crossentropy` and
`sparse_categorical_crossentropy` on probabilities, whether the output tensor is the result
of a softmax op; if so it computes the loss from that op's input, the logits, with a log-
softmax (no renormalization, no clipping to [epsilon, 1 - epsilon]). That is how a model
ending in `Dense(n, activation='softmax')` trains under `fit` there: a confidently wrong
sample keeps its gradient instead of losing it to the clip.

Here the train and test steps trace their losses inside `recording()`: every softmax
computed by `jkeras.activations.softmax` (Dense and Activation layers, `K.softmax`) or the
`Softmax` layer on a traced value records which logits it came from, and the
cross-entropies ask `as_logits(output, from_logits, axis)`. The output must be the
softmax's own result (anything applied after it, a reshape or a cast, ends the match, as a
different op does in TensorFlow). Outside a step, or on concrete arrays (TensorFlow's eager
tensors), nothing is recorded and the probabilities are used as given.
"""
import contextlib
import threading

import jax

__all__ = ["recording", "record", "logits_of", "as_logits"]


class _Scopes(threading.local):
    def __init__(self):
        self.stack = []


_SCOPES = _Scopes()


@contextlib.contextmanager
def recording():
    """Records softmax outputs traced inside (and forgets them on exit)."""
    _SCOPES.stack.append({})
    try:
        yield
    finally:
        _SCOPES.stack.pop()


def _axis(axis, ndim):
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            return None
        axis = axis[0]
    return int(axis) % ndim if ndim else None


def record(output, logits, axis):
    """Notes that traced `output` is softmax(`logits`) along `axis`; returns `output`."""
    if _SCOPES.stack and isinstance(output, jax.core.Tracer):
        _SCOPES.stack[-1][id(output)] = (output, logits, _axis(axis, output.ndim))
    return output


def logits_of(output, axis=-1):
    """The logits whose softmax along `axis` is `output` itself, or None."""
    if not _SCOPES.stack:
        return None
    entry = _SCOPES.stack[-1].get(id(output))
    if entry is None or entry[0] is not output:
        return None
    _, logits, recorded_axis = entry
    ndim = output.ndim
    if recorded_axis is None or recorded_axis != _axis(axis, ndim) or \
            output.shape[recorded_axis] == 1:
        return None
    return logits


def as_logits(output, from_logits, axis=-1):
    """`(values, from_logits)` for a cross-entropy: a recorded softmax's logits and True
    where `output` is probabilities that softmax gave, else `output` and `from_logits`
    as given."""
    logits = None if from_logits else logits_of(output, axis)
    return (output, from_logits) if logits is None else (logits, True)
