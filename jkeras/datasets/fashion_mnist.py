"""Fashion-MNIST: 60,000 training and 10,000 test 28x28 grayscale images of clothes."""
import gzip
import os

import numpy as np

from jkeras.datasets import _fetch

__all__ = ["load_data"]

DEFAULT_ORIGIN = _fetch.KERAS_DATASETS_ORIGIN
ORIGIN = DEFAULT_ORIGIN
FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot")


def _read_idx(path, header_bytes):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=header_bytes)


def load_data(*, origin=None, cache_dir=None):
    """Returns `(x_train, y_train), (x_test, y_test)`: uint8 images (N, 28, 28) and
    uint8 labels (N,) in 0-9 (see `CLASS_NAMES`)."""
    subdir = os.path.join("datasets", "fashion-mnist")
    paths = [_fetch.fetch(name, name, ORIGIN, DEFAULT_ORIGIN, origin=origin,
                          cache_dir=cache_dir, cache_subdir=subdir) for name in FILES]
    y_train = _read_idx(paths[0], 8)
    x_train = _read_idx(paths[1], 16).reshape(len(y_train), 28, 28)
    y_test = _read_idx(paths[2], 8)
    x_test = _read_idx(paths[3], 16).reshape(len(y_test), 28, 28)
    return (x_train, y_train), (x_test, y_test)
