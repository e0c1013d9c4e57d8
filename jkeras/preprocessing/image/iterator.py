"""`Iterator`, the base of the batch iterators (a `Sequence` that shuffles and cuts
batches of indices), and `NumpyArrayIterator` over arrays in memory."""
import os
import threading
import warnings

import numpy as np

from jkeras import _config
from jkeras.utils.data_utils import Sequence
from jkeras.preprocessing.image.files import array_to_img, resolve_format

__all__ = ["Iterator", "NumpyArrayIterator"]


def as_rng(seed):
    """A NumPy random source: a RandomState/Generator as given, a fresh RandomState for
    an int seed, or NumPy's global generator for None (Keras's behaviour)."""
    if seed is None or seed is np.random:
        return np.random
    if isinstance(seed, (np.random.RandomState, np.random.Generator)):
        return seed
    return np.random.RandomState(int(seed) % (2 ** 32))


class _BatchIndexError(IndexError, ValueError):
    """An out-of-range batch index (an IndexError, and a ValueError as in Keras)."""


class Iterator(Sequence):
    """Base of the batch iterators: index bookkeeping, shuffling and thread safety.

    Usable two ways: as an endless iterator (`next(it)`; batches wrap at the end of an
    epoch, so 7 samples in batches of 3 give 3, 3, 1, 3, 3, 1, ...) or as a `Sequence`
    (`it[i]`, `len(it)`, `on_epoch_end()`). Index generation is under a lock; the
    images of a batch are produced outside it, each batch with its own random state
    when `seed` is set (state `seed + batches seen so far`, as Keras seeds it).
    Subclasses implement `_get_batches_of_transformed_samples(index_array)`.
    """

    white_list_formats = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")

    def __init__(self, n, batch_size, shuffle, seed):
        self.n = n
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_array = None
        self._last_rng = None
        self._local = threading.local()
        self.index_generator = self._flow_index()

    def _next_rng(self):
        """The random state of the next batch (caller holds the lock)."""
        if self.seed is None:
            return as_rng(None)
        return np.random.RandomState((self.seed + self.total_batches_seen) % (2 ** 32))

    def _set_index_array(self, rng=None):
        rng = self._next_rng() if rng is None else rng
        self.index_array = rng.permutation(self.n) if self.shuffle else np.arange(self.n)

    @property
    def _rng(self):
        """The random state of the batch being made on this thread."""
        return getattr(self._local, "rng", None) or as_rng(None)

    def _make_batch(self, index_array, rng):
        self._local.rng = rng
        try:
            return self._get_batches_of_transformed_samples(index_array)
        finally:
            self._local.rng = None

    def __getitem__(self, idx):
        if idx < 0:
            idx += len(self)
        if not 0 <= idx < len(self):
            raise _BatchIndexError(
                f"Expected a batch index in [0, {len(self)}). Received: index={idx}")
        with self.lock:
            rng = self._next_rng()
            self.total_batches_seen += 1
            if self.index_array is None:
                self._set_index_array(rng)
            index_array = self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)]
            self._last_rng = rng
        return self._make_batch(index_array, rng)

    def __len__(self):
        return (self.n + self.batch_size - 1) // self.batch_size

    def on_epoch_end(self):
        with self.lock:
            rng = self._last_rng if self._last_rng is not None else self._next_rng()
            self._set_index_array(rng)

    def reset(self):
        self.batch_index = 0

    def _flow_index(self):
        self.reset()
        while True:
            rng = self._next_rng()
            if self.batch_index == 0:
                self._set_index_array(rng)
            current = 0 if self.n == 0 else (self.batch_index * self.batch_size) % self.n
            if self.n > current + self.batch_size:
                self.batch_index += 1
            else:
                self.batch_index = 0
            self.total_batches_seen += 1
            self._last_rng = rng
            yield self.index_array[current:current + self.batch_size], rng

    def __iter__(self):
        return self

    def __next__(self):
        with self.lock:
            index_array, rng = next(self.index_generator)
        return self._make_batch(index_array, rng)

    def next(self):
        """The next batch (Keras 1/2 spelling of `next(iterator)`)."""
        return self.__next__()

    def _get_batches_of_transformed_samples(self, index_array):
        raise NotImplementedError(
            f"{type(self).__name__} must implement _get_batches_of_transformed_samples")

    def _save_batch(self, batch_x, index_array, rng, hash_high):
        for i, j in enumerate(index_array):
            img = array_to_img(batch_x[i], self.data_format, scale=True)
            name = f"{self.save_prefix}_{j}_{rng.randint(hash_high)}.{self.save_format}"
            img.save(os.path.join(self.save_to_dir, name))


class NumpyArrayIterator(Iterator):
    """Batches of augmented images from a rank-4 array (plus labels and weights).

    `x` may be a list `[images, extra, ...]`: the extra arrays ride along unaugmented
    and batches are then `([images, extra, ...], y)`.
    """

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=False,
                 sample_weight=None, seed=None, data_format=None, save_to_dir=None,
                 save_prefix="", save_format="png", subset=None, ignore_class_split=False,
                 dtype=None):
        data_format = resolve_format(data_format)
        self.dtype = dtype or _config.floatx()
        if isinstance(x, (tuple, list)):
            extras = x[1] if isinstance(x[1], list) else [x[1]]
            x_misc = [np.asarray(a) for a in extras]
            x = x[0]
            for extra in x_misc:
                if len(x) != len(extra):
                    raise ValueError(
                        "Expected every array in x to have the same length. Received: "
                        f"len(x[0])={len(x)}, an extra array of length {len(extra)}")
        else:
            x_misc = []
        if y is not None and len(x) != len(y):
            raise ValueError(
                "Expected x (images) and y (labels) of the same length. Received: "
                f"x.shape={np.shape(x)}, y.shape={np.shape(y)}")
        if sample_weight is not None and len(x) != len(sample_weight):
            raise ValueError(
                "Expected x (images) and sample_weight of the same length. Received: "
                f"x.shape={np.shape(x)}, sample_weight.shape={np.shape(sample_weight)}")
        if subset is not None:
            if subset not in ("training", "validation"):
                raise ValueError(
                    "Expected subset to be 'training' or 'validation'. "
                    f"Received: subset={subset!r}")
            split_idx = int(len(x) * image_data_generator._validation_split)
            if y is not None and not ignore_class_split and not np.array_equal(
                    np.unique(y[:split_idx]), np.unique(y[split_idx:])):
                raise ValueError(
                    "Training and validation subsets have different classes after the "
                    "split; shuffle arrays sorted by label (or pass ignore_class_split=True).")
            part = slice(None, split_idx) if subset == "validation" else slice(split_idx, None)
            x = x[part]
            x_misc = [np.asarray(a[part]) for a in x_misc]
            if y is not None:
                y = y[part]
            if sample_weight is not None:
                sample_weight = sample_weight[part]
        self.x = np.asarray(x, dtype=self.dtype)
        self.x_misc = x_misc
        if self.x.ndim != 4:
            raise ValueError(
                f"Expected image data of rank 4 in NumpyArrayIterator. Received: shape "
                f"{self.x.shape}")
        channels_axis = 3 if data_format == "channels_last" else 1
        if self.x.shape[channels_axis] not in (1, 3, 4):
            warnings.warn(
                f"NumpyArrayIterator expects 1, 3 or 4 channels on axis {channels_axis} "
                f"({data_format}). Received: shape {self.x.shape}")
        self.y = None if y is None else np.asarray(y)
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        self.image_data_generator = image_data_generator
        self.data_format = data_format
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        super().__init__(self.x.shape[0], batch_size, shuffle, seed)

    def _get_batches_of_transformed_samples(self, index_array):
        rng = self._rng
        gen = self.image_data_generator
        batch_x = np.zeros((len(index_array),) + self.x.shape[1:], dtype=self.dtype)
        for i, j in enumerate(index_array):
            x = np.array(self.x[j], dtype=self.dtype)
            params = gen.get_random_transform(x.shape, rng)
            x = gen.apply_transform(x, params)
            batch_x[i] = gen.standardize(np.array(x, dtype=self.dtype))
        if self.save_to_dir:
            self._save_batch(batch_x, index_array, rng, 10_000)
        extras = [a[index_array] for a in self.x_misc]
        inputs = [batch_x] + extras if extras else batch_x
        if self.y is None:
            return inputs
        out = (inputs, self.y[index_array])
        if self.sample_weight is not None:
            out += (self.sample_weight[index_array],)
        return out
