"""Boston housing prices: 506 samples of 13 features and the median home value."""
import numpy as np

from jkeras.datasets import _fetch

__all__ = ["load_data"]

DEFAULT_ORIGIN = _fetch.KERAS_DATASETS_ORIGIN
ORIGIN = DEFAULT_ORIGIN
FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path="boston_housing.npz", test_split=0.2, seed=113, *, origin=None,
              cache_dir=None):
    """Returns `(x_train, y_train), (x_test, y_test)` after a seeded shuffle; the last
    `test_split` fraction is the test set."""
    if not 0 <= test_split < 1:
        raise ValueError(f"Expected 0 <= test_split < 1. Received: test_split={test_split}")
    fpath = _fetch.fetch(path, "boston_housing.npz", ORIGIN, DEFAULT_ORIGIN, FILE_HASH,
                         origin=origin, cache_dir=cache_dir)
    with np.load(fpath, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    order = np.arange(len(x))
    np.random.RandomState(seed).shuffle(order)
    x, y = x[order], y[order]
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))
