"""NumPy helpers for labels and vectors: one-hot encoding and norm scaling."""
import numpy as np

__all__ = ["to_categorical", "normalize"]


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encodes integer class labels.

    Arguments:
        y: array-like of integer labels. A trailing axis of size 1 is dropped,
            so labels of shape `(N, 1)` give an output of shape `(N, num_classes)`.
        num_classes: number of classes; `max(y) + 1` when None.
        dtype: dtype of the returned array.

    Returns:
        An array of shape `y.shape (without a trailing 1) + (num_classes,)`.
    """
    y = np.asarray(y)
    if y.size and not np.issubdtype(y.dtype, np.integer):
        if not np.all(np.equal(np.mod(y, 1), 0)):
            raise ValueError(
                "Expected integer class labels in to_categorical. "
                f"Received: y with non-integer values (dtype={y.dtype})")
    y = y.astype("int64")
    out_shape = y.shape
    if len(out_shape) > 1 and out_shape[-1] == 1:
        out_shape = out_shape[:-1]
    flat = y.reshape(-1)
    if not num_classes:
        if flat.size == 0:
            raise ValueError(
                "Expected num_classes when y is empty. Received: num_classes="
                f"{num_classes!r}, y of shape {y.shape}")
        num_classes = int(flat.max()) + 1
    num_classes = int(num_classes)
    if flat.size and (flat.max() >= num_classes or flat.min() < -num_classes):
        raise ValueError(
            f"Expected labels in [0, {num_classes}) for num_classes={num_classes}. "
            f"Received: labels from {flat.min()} to {flat.max()}")
    one_hot = np.zeros((flat.size, num_classes), dtype=dtype)
    one_hot[np.arange(flat.size), flat] = 1
    return one_hot.reshape(tuple(out_shape) + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Scales `x` to unit `order`-norm along `axis` (zero vectors are left as they are)."""
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)
