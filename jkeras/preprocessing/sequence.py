"""Sequence preprocessing: padding, sliding time-series windows and skip-gram pairs."""
import json
import random

import numpy as np

from jkeras.utils.data_utils import Sequence

__all__ = ["pad_sequences", "make_sampling_table", "skipgrams", "TimeseriesGenerator",
           "timeseries_generator_from_json"]


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Pads (or truncates) a list of sequences to one length; returns a 2D+ array.

    Arguments:
        sequences: list of sequences (lists or arrays; items may themselves be arrays).
        maxlen: output length; the longest sequence's length when None.
        dtype: dtype of the output (use `object` for variable-length strings).
        padding: 'pre' or 'post', which side gets the `value` fill.
        truncating: 'pre' or 'post', which side of a long sequence is cut off.
        value: the fill value.

    Returns:
        An array of shape `(len(sequences), maxlen) + item_shape`.
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(
            f"Expected `sequences` to be a list of sequences. Received: {type(sequences)}")
    if padding not in ("pre", "post"):
        raise ValueError(f"Expected padding to be 'pre' or 'post'. Received: padding={padding!r}")
    if truncating not in ("pre", "post"):
        raise ValueError(
            f"Expected truncating to be 'pre' or 'post'. Received: truncating={truncating!r}")
    lengths = []
    item_shape = None
    for seq in sequences:
        try:
            lengths.append(len(seq))
        except TypeError as error:
            raise ValueError(
                "Expected `sequences` to be a list of iterables. "
                f"Received an item that is not one: {seq!r}") from error
        if item_shape is None and len(seq):
            item_shape = np.asarray(seq).shape[1:]
    item_shape = item_shape or ()
    if maxlen is None:
        maxlen = max(lengths) if lengths else 0
    maxlen = int(maxlen)
    is_text = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_text:
        raise ValueError(
            f"Expected a string dtype (or dtype=object) for the string value={value!r}. "
            f"Received: dtype={dtype}")
    out = np.full((len(sequences), maxlen) + tuple(item_shape), value, dtype=dtype)
    if maxlen == 0:
        return out
    for i, seq in enumerate(sequences):
        if not len(seq):
            continue
        kept = seq[-maxlen:] if truncating == "pre" else seq[:maxlen]
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != tuple(item_shape):
            raise ValueError(
                f"Expected every item to have shape {tuple(item_shape)}. Received: "
                f"shape {kept.shape[1:]} in the sequence at position {i}")
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, maxlen - len(kept):] = kept
    return out


def make_sampling_table(size, sampling_factor=1e-5):
    """Word-rank sampling probabilities for `skipgrams` (Zipf law, word2vec's formula).

    Entry `i` is the probability of keeping the `i`-th most common word.
    """
    gamma = 0.577
    rank = np.arange(size)
    rank[0] = 1
    inv_fq = rank * (np.log(rank) + gamma) + 0.5 - 1.0 / (12.0 * rank)
    f = sampling_factor * inv_fq
    return np.minimum(1.0, f / np.sqrt(f))


def skipgrams(sequence, vocabulary_size, window_size=4, negative_samples=1.0,
              shuffle=True, categorical=False, sampling_table=None, seed=None):
    """Skip-gram (word, context) couples with labels 1, plus random negatives labelled 0.

    Index 0 is treated as padding and skipped. Returns `(couples, labels)`, lists;
    labels are `[0, 1]`/`[1, 0]` pairs when `categorical`.
    """
    couples, labels = [], []
    positive, negative = ([0, 1], [1, 0]) if categorical else (1, 0)
    for i, wi in enumerate(sequence):
        if not wi:
            continue
        if sampling_table is not None and sampling_table[wi] < random.random():
            continue
        for j in range(max(0, i - window_size), min(len(sequence), i + window_size + 1)):
            if j != i and sequence[j]:
                couples.append([wi, sequence[j]])
                labels.append(positive)
    if negative_samples > 0 and couples:
        count = int(len(labels) * negative_samples)
        words = [c[0] for c in couples]
        random.shuffle(words)
        couples += [[words[k % len(words)], random.randint(1, vocabulary_size - 1)]
                    for k in range(count)]
        labels += [negative] * count
    if shuffle:
        if seed is None:
            seed = random.randint(0, 10_000_000)
        random.Random(seed).shuffle(couples)
        random.Random(seed).shuffle(labels)
    return couples, labels


class TimeseriesGenerator(Sequence):
    """Batches of sliding windows over a time series: `(windows, targets)` per batch.

    The window ending before step `t` (`length` steps, every `sampling_rate`-th) is
    paired with `targets[t]`; consecutive windows start `stride` steps apart, over
    `start_index + length <= t <= end_index`.
    """

    def __init__(self, data, targets, length, sampling_rate=1, stride=1, start_index=0,
                 end_index=None, shuffle=False, reverse=False, batch_size=128, **kwargs):
        super().__init__(**kwargs)
        if len(data) != len(targets):
            raise ValueError(
                "Expected data and targets of the same length. Received: "
                f"len(data)={len(data)}, len(targets)={len(targets)}")
        self.data = data
        self.targets = targets
        self.length = length
        self.sampling_rate = sampling_rate
        self.stride = stride
        self.start_index = start_index + length
        self.end_index = len(data) - 1 if end_index is None else end_index
        self.shuffle = shuffle
        self.reverse = reverse
        self.batch_size = batch_size
        if self.start_index > self.end_index:
            raise ValueError(
                f"Expected start_index + length <= end_index. Received: start_index + "
                f"length={self.start_index}, end_index={self.end_index}")

    def __len__(self):
        step = self.batch_size * self.stride
        return (self.end_index - self.start_index + step) // step

    def _rows(self, index):
        if self.shuffle:
            return np.random.randint(self.start_index, self.end_index + 1,
                                     size=self.batch_size)
        first = self.start_index + self.batch_size * self.stride * index
        stop = min(first + self.batch_size * self.stride, self.end_index + 1)
        return np.arange(first, stop, self.stride)

    def __getitem__(self, index):
        rows = self._rows(index)
        samples = np.array([self.data[row - self.length:row:self.sampling_rate]
                            for row in rows])
        targets = np.array([self.targets[row] for row in rows])
        if self.reverse:
            samples = samples[:, ::-1, ...]
        return samples, targets

    def get_config(self):
        """A JSON-able description (data and targets included, as lists)."""
        def as_json(values, name):
            values = values.tolist() if isinstance(values, np.ndarray) else values
            try:
                return json.dumps(values)
            except TypeError as error:
                raise TypeError(f"Expected JSON-serializable {name}.") from error

        return {
            "data": as_json(self.data, "data"),
            "targets": as_json(self.targets, "targets"),
            "length": self.length,
            "sampling_rate": self.sampling_rate,
            "stride": self.stride,
            "start_index": self.start_index,
            "end_index": self.end_index,
            "shuffle": self.shuffle,
            "reverse": self.reverse,
            "batch_size": self.batch_size,
        }

    def to_json(self, **kwargs):
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()},
                          **kwargs)


def timeseries_generator_from_json(json_string):
    """Rebuilds a `TimeseriesGenerator` from `TimeseriesGenerator.to_json()`."""
    config = dict(json.loads(json_string)["config"])
    config["data"] = json.loads(config["data"])
    config["targets"] = json.loads(config["targets"])
    config["start_index"] -= config["length"]
    return TimeseriesGenerator(**config)
