"""CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes."""
import os

import numpy as np

from jkeras import _config
from jkeras.datasets import _fetch
from jkeras.datasets.cifar import load_batch

__all__ = ["load_data"]

DEFAULT_ORIGIN = "https://www.cs.toronto.edu/~kriz/"
ORIGIN = DEFAULT_ORIGIN
FILE_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
               "ship", "truck")


def load_data(*, origin=None, cache_dir=None):
    """Returns `(x_train, y_train), (x_test, y_test)`: uint8 images, (N, 32, 32, 3) for
    'channels_last' (else (N, 3, 32, 32)), and uint8 labels of shape (N, 1)."""
    folder = _fetch.fetch("cifar-10-batches-py", "cifar-10-python.tar.gz", ORIGIN,
                          DEFAULT_ORIGIN, FILE_HASH, origin=origin, cache_dir=cache_dir,
                          untar=True)
    parts = [load_batch(os.path.join(folder, f"data_batch_{i}")) for i in range(1, 6)]
    x_train = np.concatenate([data for data, _ in parts]).astype("uint8")
    y_train = np.concatenate([np.asarray(labels) for _, labels in parts]).astype("uint8")
    x_test, y_test = load_batch(os.path.join(folder, "test_batch"))
    x_test = x_test.astype("uint8")
    y_train = y_train.reshape(-1, 1)
    y_test = np.asarray(y_test).astype("uint8").reshape(-1, 1)
    if _config.image_data_format() == "channels_last":
        x_train = x_train.transpose(0, 2, 3, 1)
        x_test = x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test, y_test)
