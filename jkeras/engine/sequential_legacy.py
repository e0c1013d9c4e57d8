"""Keras 2's `Sequential.predict_proba` and `predict_classes` (removed in Keras 2.6), as a
mixin for `Sequential`: `class Sequential(SequentialLegacyMixin, Functional)`."""
import warnings

import numpy as np

__all__ = ["SequentialLegacyMixin"]


class SequentialLegacyMixin:
    """`predict_proba` and `predict_classes` on top of `self.predict`."""

    def predict_proba(self, x, batch_size=32, verbose=0):
        """`predict(x)`, warning when the outputs are not probabilities (outside [0, 1])."""
        preds = np.asarray(self.predict(x, batch_size=batch_size, verbose=verbose))
        if preds.size and (preds.min() < 0.0 or preds.max() > 1.0):
            warnings.warn("Network returning invalid probability values. The last layer "
                          "might not normalize predictions into probabilities (like "
                          "softmax or sigmoid would).", stacklevel=2)
        return preds

    def predict_classes(self, x, batch_size=32, verbose=0):
        """Class indices: the argmax over the last axis when it has several units, else
        `int32(probability > 0.5)` (shape kept, as Keras 2)."""
        proba = np.asarray(self.predict(x, batch_size=batch_size, verbose=verbose))
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype("int32")
