"""K.ctc_* (jkeras/ops/ctc.py) against Keras 3's ctc_loss / ctc_decode (blank last)."""
import numpy as np
import pytest

from jkeras.ops import ctc


def _probs(rng, batch=3, steps=8, classes=5):
    logits = rng.normal(size=(batch, steps, classes)) * 2
    p = np.exp(logits)
    return (p / p.sum(-1, keepdims=True)).astype("float32")


@pytest.mark.slow
def test_ctc_batch_cost_matches_keras(rng, keras_ref):
    y_pred = _probs(rng)
    y_true = np.array([[1, 2, 2, 0], [3, 1, 0, 0], [0, 0, 0, 0]], "int32")
    label_length = np.array([[3], [2], [1]])
    input_length = np.array([[8], [6], [5]])
    got = np.asarray(ctc.ctc_batch_cost(y_true, y_pred, input_length, label_length))
    want = keras_ref.ops.ctc_loss(y_true, np.log(y_pred + 1e-7), label_length[:, 0],
                                  input_length[:, 0], mask_index=4)
    assert got.shape == (3, 1)
    np.testing.assert_allclose(got[:, 0], np.asarray(want), rtol=1e-4, atol=1e-4)


def test_ctc_label_dense_to_sparse_keeps_the_first_lengths():
    labels = np.array([[1, 2, 3], [4, 5, 6]])
    sparse = ctc.ctc_label_dense_to_sparse(labels, np.array([2, 1]))
    np.testing.assert_array_equal(np.asarray(sparse.indices), [[0, 0], [0, 1], [1, 0]])
    np.testing.assert_array_equal(np.asarray(sparse.data), [1, 2, 4])
    np.testing.assert_array_equal(np.asarray(sparse.todense()), [[1, 2, 0], [4, 0, 0]])


@pytest.mark.slow
def test_greedy_decode_matches_keras(rng, keras_ref):
    y_pred = _probs(rng, batch=4, steps=10, classes=4)
    y_pred[0, 2:5] = [0.7, 0.1, 0.1, 0.1]          # a repeated label, merged
    lengths = np.array([10, 7, 3, 10])
    decoded, log_prob = ctc.ctc_decode(y_pred, lengths, greedy=True)
    ref_paths, ref_scores = keras_ref.ops.ctc_decode(
        np.log(y_pred + 1e-7), lengths, strategy="greedy", mask_index=3)
    ref = np.asarray(ref_paths[0])
    width = max(int((ref >= 0).sum(1).max()), 0)
    np.testing.assert_array_equal(np.asarray(decoded[0]), ref[:, :width])
    assert np.asarray(log_prob).shape == (4, 1)
    np.testing.assert_allclose(np.asarray(log_prob), np.asarray(ref_scores), rtol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("beam_width,top_paths", [(4, 1), (6, 3)])
def test_beam_search_decode_matches_keras(rng, keras_ref, beam_width, top_paths):
    y_pred = _probs(rng, batch=3, steps=7, classes=4)
    lengths = np.array([7, 5, 2])
    decoded, log_prob = ctc.ctc_decode(y_pred, lengths, greedy=False,
                                       beam_width=beam_width, top_paths=top_paths)
    ref_paths, ref_scores = keras_ref.ops.ctc_decode(
        np.log(y_pred + 1e-7), lengths, strategy="beam_search", beam_width=beam_width,
        top_paths=top_paths, mask_index=3)
    assert len(decoded) == top_paths
    np.testing.assert_allclose(np.asarray(log_prob), np.asarray(ref_scores), rtol=1e-4)
    for k in range(top_paths):
        ref = np.asarray(ref_paths[k])
        got = np.asarray(decoded[k])
        np.testing.assert_array_equal(got, ref[:, :got.shape[1]])
        assert np.all(ref[:, got.shape[1]:] == -1)


def test_decode_checks_arguments():
    with pytest.raises(ValueError, match="y_pred"):
        ctc.ctc_decode(np.zeros((2, 3)), np.array([3, 3]))
    with pytest.raises(ValueError, match="top_paths"):
        ctc.ctc_decode(np.ones((1, 3, 3)) / 3, np.array([3]), greedy=False, beam_width=2,
                       top_paths=3)
