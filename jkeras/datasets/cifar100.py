"""CIFAR-100: 50,000 training and 10,000 test 32x32 colour images, 100 fine classes
grouped into 20 coarse ones."""
import os

import numpy as np

from jkeras import _config
from jkeras.datasets import _fetch
from jkeras.datasets.cifar import load_batch

__all__ = ["load_data"]

DEFAULT_ORIGIN = "https://www.cs.toronto.edu/~kriz/"
ORIGIN = DEFAULT_ORIGIN
FILE_HASH = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"


def load_data(label_mode="fine", *, origin=None, cache_dir=None):
    """Returns `(x_train, y_train), (x_test, y_test)`: uint8 images, (N, 32, 32, 3) for
    'channels_last' (else (N, 3, 32, 32)), and int64 labels of shape (N, 1): the fine
    (0-99) or coarse (0-19) classes, by `label_mode`."""
    if label_mode not in ("fine", "coarse"):
        raise ValueError(
            f"Expected label_mode to be 'fine' or 'coarse'. Received: label_mode={label_mode!r}")
    folder = _fetch.fetch("cifar-100-python", "cifar-100-python.tar.gz", ORIGIN,
                          DEFAULT_ORIGIN, FILE_HASH, origin=origin, cache_dir=cache_dir,
                          untar=True)
    key = f"{label_mode}_labels"
    x_train, y_train = load_batch(os.path.join(folder, "train"), label_key=key)
    x_test, y_test = load_batch(os.path.join(folder, "test"), label_key=key)
    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(y_test, (len(y_test), 1))
    if _config.image_data_format() == "channels_last":
        x_train = x_train.transpose(0, 2, 3, 1)
        x_test = x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test, y_test)
