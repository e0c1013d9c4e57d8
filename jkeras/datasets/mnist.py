"""MNIST handwritten digits: 60,000 training and 10,000 test 28x28 grayscale images."""
import numpy as np

from jkeras.datasets import _fetch

__all__ = ["load_data"]

DEFAULT_ORIGIN = _fetch.KERAS_DATASETS_ORIGIN
ORIGIN = DEFAULT_ORIGIN
FILE_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path="mnist.npz", *, origin=None, cache_dir=None):
    """Returns `(x_train, y_train), (x_test, y_test)`: uint8 images of shape
    (N, 28, 28) with values 0-255 and uint8 digit labels of shape (N,).

    `path`: the cache file name (under `~/.keras/datasets`). `origin`: another base
    URL to download from; `cache_dir`: another cache folder.
    """
    fpath = _fetch.fetch(path, "mnist.npz", ORIGIN, DEFAULT_ORIGIN, FILE_HASH, origin=origin,
                         cache_dir=cache_dir)
    with np.load(fpath, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
