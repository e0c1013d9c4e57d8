"""Reuters newswires: 11,228 newswires labelled over 46 topics, each a list of word
indices ranked by frequency."""
import json

import numpy as np

from jkeras.datasets import _fetch

__all__ = ["load_data", "get_word_index", "get_label_names"]

DEFAULT_ORIGIN = _fetch.KERAS_DATASETS_ORIGIN
ORIGIN = DEFAULT_ORIGIN
FILE_HASH = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"
LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing",
    "money-supply", "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass",
    "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum",
    "oilseed", "gold", "tin", "strategic-metal", "livestock", "retail", "ipi",
    "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem",
    "dlr", "gas", "silver", "wpi", "hog", "lead")


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2,
              seed=113, start_char=1, oov_char=2, index_from=3, *, origin=None,
              cache_dir=None):
    """Returns `(x_train, y_train), (x_test, y_test)`: 1D object arrays of word-index
    lists and integer topic labels (0-45). The arguments are those of
    `imdb.load_data`, plus `test_split`: the fraction (after the shuffle) kept for test.
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"Expected 0 <= test_split < 1. Received: test_split={test_split}")
    fpath = _fetch.fetch(path, "reuters.npz", ORIGIN, DEFAULT_ORIGIN, FILE_HASH,
                         origin=origin, cache_dir=cache_dir)
    f = _fetch.load_npz(fpath)
    xs, labels = f["x"], f["y"]
    order = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(order)
    xs, labels = xs[order], labels[order]
    xs = _fetch.offset_words(xs, start_char, index_from)
    if maxlen:
        xs, labels = _fetch.remove_long_sequences(maxlen, xs, labels)
    xs = _fetch.limit_vocabulary(xs, num_words, skip_top, oov_char)
    cut = int(len(xs) * (1 - test_split))
    return ((_fetch.object_array(xs[:cut]), np.array(labels[:cut])),
            (_fetch.object_array(xs[cut:]), np.array(labels[cut:])))


def get_word_index(path="reuters_word_index.json", *, origin=None, cache_dir=None):
    """The word -> rank dict (rank 1 = most frequent; add `index_from` to match data)."""
    fpath = _fetch.fetch(path, "reuters_word_index.json", ORIGIN, DEFAULT_ORIGIN,
                         WORD_INDEX_HASH, origin=origin, cache_dir=cache_dir)
    with open(fpath) as f:
        return json.load(f)


def get_label_names():
    """The 46 topic names, in label order."""
    return LABEL_NAMES
