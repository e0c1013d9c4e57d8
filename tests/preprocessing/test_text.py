"""Tests for jkeras.preprocessing.text against Keras's legacy text preprocessing."""
import numpy as np
import pytest

from jkeras.preprocessing import text


@pytest.fixture
def keras_text():
    from keras.src.legacy.preprocessing import text as keras_text
    return keras_text


TEXTS = ["The cat sat on the mat.", "The dog ate my homework!", "A cat, a dog; a mouse?"]


def test_text_to_word_sequence_matches_keras(keras_text):
    for s in TEXTS + ["Hello\tWORLD\n  spaced--out"]:
        assert text.text_to_word_sequence(s) == keras_text.text_to_word_sequence(s)
    assert text.text_to_word_sequence("a-b c", split="-", lower=False) == \
        keras_text.text_to_word_sequence("a-b c", split="-", lower=False)


def test_hashing_trick_md5_matches_keras(keras_text):
    got = text.hashing_trick(TEXTS[0], 20, hash_function="md5")
    assert got == keras_text.hashing_trick(TEXTS[0], 20, hash_function="md5")
    assert all(1 <= i < 20 for i in text.one_hot(TEXTS[1], 7))


@pytest.mark.parametrize("kwargs", [{}, {"num_words": 4}, {"oov_token": "<unk>"},
                                    {"num_words": 5, "oov_token": "<unk>"},
                                    {"char_level": True}])
def test_tokenizer_matches_keras(keras_text, kwargs):
    ours = text.Tokenizer(**kwargs)
    ref = keras_text.Tokenizer(**kwargs)
    ours.fit_on_texts(TEXTS)
    ref.fit_on_texts(TEXTS)
    assert ours.word_index == ref.word_index
    assert ours.index_word == ref.index_word
    assert dict(ours.word_counts) == dict(ref.word_counts)
    assert ours.document_count == ref.document_count
    new = ["the mouse ate the cat", "unseen words here"]
    assert ours.texts_to_sequences(new) == ref.texts_to_sequences(new)
    seqs = ours.texts_to_sequences(TEXTS)
    assert ours.sequences_to_texts(seqs) == ref.sequences_to_texts(seqs)
    for mode in ("binary", "count", "freq", "tfidf"):
        np.testing.assert_allclose(ours.texts_to_matrix(new, mode=mode),
                                   ref.texts_to_matrix(new, mode=mode))


def test_tokenizer_json_round_trip_and_errors(keras_text):
    tok = text.Tokenizer(num_words=6, oov_token="?")
    tok.fit_on_texts(TEXTS)
    again = text.tokenizer_from_json(tok.to_json())
    assert again.word_index == tok.word_index
    assert again.texts_to_sequences(TEXTS) == tok.texts_to_sequences(TEXTS)
    ref = keras_text.tokenizer_from_json(tok.to_json())  # Keras reads our JSON
    assert ref.texts_to_sequences(TEXTS) == tok.texts_to_sequences(TEXTS)
    with pytest.raises(ValueError, match="num_words"):
        text.Tokenizer().sequences_to_matrix([[1]])
    with pytest.raises(ValueError, match="mode"):
        tok.sequences_to_matrix([[1]], mode="bogus")
    with pytest.raises(TypeError):
        text.Tokenizer(bogus=1)


def test_tokenizer_fit_on_sequences_feeds_tfidf(keras_text):
    ours, ref = text.Tokenizer(num_words=5), keras_text.Tokenizer(num_words=5)
    seqs = [[1, 2, 2], [3], [1, 4]]
    ours.fit_on_sequences(seqs)
    ref.fit_on_sequences(seqs)
    np.testing.assert_allclose(ours.sequences_to_matrix(seqs, mode="tfidf"),
                               ref.sequences_to_matrix(seqs, mode="tfidf"))
