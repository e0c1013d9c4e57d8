"""IMDB movie reviews: 25,000 training and 25,000 test reviews labelled by sentiment,
each a list of word indices ranked by frequency."""
import json
import warnings

import numpy as np

from jkeras.datasets import _fetch

__all__ = ["load_data", "get_word_index"]

DEFAULT_ORIGIN = _fetch.KERAS_DATASETS_ORIGIN
ORIGIN = DEFAULT_ORIGIN
FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113,
              start_char=1, oov_char=2, index_from=3, *, origin=None, cache_dir=None,
              **kwargs):
    """Returns `(x_train, y_train), (x_test, y_test)`: 1D object arrays of word-index
    lists and integer labels (1 positive, 0 negative).

    Arguments:
        num_words: keep the `num_words` most frequent words; others become `oov_char`.
        skip_top: also treat the `skip_top` most frequent words as out of vocabulary.
        maxlen: drop reviews of `maxlen` words or more.
        seed: seed of the shuffle of each split.
        start_char: index marking the start of a review (None: no marker).
        oov_char: index of out-of-vocabulary words (None: drop them).
        index_from: the most frequent word gets this index.
    """
    if "nb_words" in kwargs:
        warnings.warn("The `nb_words` argument of load_data is now `num_words`.")
        num_words = kwargs.pop("nb_words")
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
    fpath = _fetch.fetch(path, "imdb.npz", ORIGIN, DEFAULT_ORIGIN, FILE_HASH, origin=origin,
                         cache_dir=cache_dir)
    f = _fetch.load_npz(fpath)
    x_train, labels_train = f["x_train"], f["y_train"]
    x_test, labels_test = f["x_test"], f["y_test"]
    rng = np.random.RandomState(seed)
    order = np.arange(len(x_train))
    rng.shuffle(order)
    x_train, labels_train = x_train[order], labels_train[order]
    order = np.arange(len(x_test))
    rng.shuffle(order)
    x_test, labels_test = x_test[order], labels_test[order]

    x_train = _fetch.offset_words(x_train, start_char, index_from)
    x_test = _fetch.offset_words(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = _fetch.remove_long_sequences(maxlen, x_train, labels_train)
        x_test, labels_test = _fetch.remove_long_sequences(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(
                f"No sequence shorter than maxlen={maxlen} was found; increase maxlen.")
    xs = _fetch.limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([np.asarray(labels_train), np.asarray(labels_test)])
    cut = len(x_train)
    return ((_fetch.object_array(xs[:cut]), labels[:cut]),
            (_fetch.object_array(xs[cut:]), labels[cut:]))


def get_word_index(path="imdb_word_index.json", *, origin=None, cache_dir=None):
    """The word -> rank dict (rank 1 = most frequent; add `index_from` to match data)."""
    fpath = _fetch.fetch(path, "imdb_word_index.json", ORIGIN, DEFAULT_ORIGIN,
                         WORD_INDEX_HASH, origin=origin, cache_dir=cache_dir)
    with open(fpath) as f:
        return json.load(f)
