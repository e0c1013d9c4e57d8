"""Tests for jkeras.preprocessing.sequence against Keras's implementations."""
import random

import numpy as np
import pytest

from jkeras.preprocessing import sequence


@pytest.fixture
def keras_legacy_sequence():
    from keras.src.legacy.preprocessing import sequence as keras_sequence
    return keras_sequence


SEQS = [[1, 2, 3], [4, 5], [], [6, 7, 8, 9, 10]]


@pytest.mark.parametrize("kwargs", [
    {},
    {"maxlen": 3},
    {"maxlen": 4, "padding": "post"},
    {"maxlen": 2, "truncating": "post"},
    {"maxlen": 6, "padding": "post", "truncating": "post", "value": -1},
    {"dtype": "float32", "value": 0.5},
])
def test_pad_sequences_matches_keras(keras_ref, kwargs):
    expected = keras_ref.utils.pad_sequences(SEQS, **kwargs)
    got = sequence.pad_sequences(SEQS, **kwargs)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_pad_sequences_items_with_shape_and_strings(keras_ref, rng):
    seqs = [rng.normal(size=(2, 3)), rng.normal(size=(4, 3))]
    np.testing.assert_allclose(
        sequence.pad_sequences(seqs, maxlen=3, dtype="float32"),
        keras_ref.utils.pad_sequences(seqs, maxlen=3, dtype="float32"))
    words = [["a", "b"], ["c"]]
    got = sequence.pad_sequences(words, dtype=object, value="<pad>")
    np.testing.assert_array_equal(got, [["a", "b"], ["<pad>", "c"]])


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match="padding"):
        sequence.pad_sequences(SEQS, padding="middle")
    with pytest.raises(ValueError, match="iterables"):
        sequence.pad_sequences([1, 2])
    with pytest.raises(ValueError, match="dtype"):
        sequence.pad_sequences(SEQS, value="x")


@pytest.mark.parametrize("kwargs", [
    {"length": 3, "batch_size": 4},
    {"length": 4, "sampling_rate": 2, "stride": 3, "batch_size": 2},
    {"length": 2, "start_index": 3, "end_index": 15, "reverse": True, "batch_size": 5},
])
def test_timeseries_generator_matches_keras(keras_legacy_sequence, kwargs):
    data = np.arange(40, dtype="float32").reshape(20, 2)
    targets = np.arange(20) * 10
    expected = keras_legacy_sequence.TimeseriesGenerator(data, targets, **kwargs)
    got = sequence.TimeseriesGenerator(data, targets, **kwargs)
    assert len(got) == len(expected)
    for i in range(len(got)):
        np.testing.assert_array_equal(got[i][0], expected[i][0])
        np.testing.assert_array_equal(got[i][1], expected[i][1])


def test_timeseries_generator_shuffle_and_json():
    data = np.arange(30)
    gen = sequence.TimeseriesGenerator(data, data, length=5, shuffle=True, batch_size=8)
    x, y = gen[0]
    assert x.shape == (8, 5)
    np.testing.assert_array_equal(x[:, -1] + 1, y)  # every window ends just before its target
    again = sequence.timeseries_generator_from_json(gen.to_json())
    assert again.start_index == gen.start_index and len(again) == len(gen)
    with pytest.raises(ValueError, match="start_index"):
        sequence.TimeseriesGenerator(data[:3], data[:3], length=5)


def test_make_sampling_table_matches_keras(keras_legacy_sequence):
    np.testing.assert_allclose(sequence.make_sampling_table(50),
                               keras_legacy_sequence.make_sampling_table(50))


def test_skipgrams_positive_pairs_match_keras(keras_legacy_sequence):
    seq = [1, 2, 0, 3, 4, 5]
    expected = keras_legacy_sequence.skipgrams(seq, 6, window_size=2, negative_samples=0.0,
                                               seed=7)
    got = sequence.skipgrams(seq, 6, window_size=2, negative_samples=0.0, seed=7)
    assert got == expected


def test_skipgrams_negatives_and_categorical():
    random.seed(0)
    couples, labels = sequence.skipgrams([1, 2, 3], 10, window_size=1, negative_samples=2.0,
                                         shuffle=False, categorical=True)
    positives = [c for c, l in zip(couples, labels) if l == [0, 1]]
    assert positives == [[1, 2], [2, 1], [2, 3], [3, 2]]
    negatives = [c for c, l in zip(couples, labels) if l == [1, 0]]
    assert len(negatives) == 8
    assert all(1 <= c[1] < 10 and c[0] in (1, 2, 3) for c in negatives)
