"""K.rnn, K.foldl, K.foldr (jkeras/ops/loops.py) against Keras 3's jax rnn and NumPy."""
import numpy as np
import pytest

from jkeras.ops import loops


def _step(w, u):
    import jax.numpy as jnp

    def step(x, states):
        h = jnp.tanh(x @ w + states[0] @ u + states[1])   # states[1] is a constant
        return h * 2.0, [h]
    return step


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_rnn_matches_keras(rng, keras_ref, go_backwards, masked):
    import importlib
    keras_rnn = importlib.import_module("keras.src.backend.jax.rnn")
    x = rng.normal(size=(3, 5, 2)).astype("float32")
    w, u = rng.normal(size=(2, 4)).astype("float32"), rng.normal(size=(4, 4)).astype("float32")
    h0, c = np.zeros((3, 4), "float32"), rng.normal(size=(4,)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 1, 1, 0]], bool) if masked \
        else None
    got = loops.rnn(_step(w, u), x, [h0], go_backwards=go_backwards, mask=mask,
                    constants=[c])
    # Keras 3 passes `constants` to the step only when unrolled (Keras 2 always does).
    want = keras_rnn.rnn(_step(w, u), x, [h0], go_backwards=go_backwards, mask=mask,
                         unroll=True,
                         constants=[c])
    for g, r in zip(got[:2], want[:2]):
        np.testing.assert_allclose(np.asarray(g), np.asarray(r), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(got[2][0]), np.asarray(want[2][0]), rtol=1e-5,
                               atol=1e-6)


def test_rnn_rejects_rank_2_inputs():
    with pytest.raises(ValueError, match="rank >= 3"):
        loops.rnn(lambda x, s: (x, s), np.zeros((2, 3)), [np.zeros((2, 3))])


def test_folds_run_in_order():
    elems = np.array([1.0, 2.0, 3.0])
    assert float(loops.foldl(lambda acc, x: acc * 10 + x, elems)) == 123.0
    assert float(loops.foldr(lambda acc, x: acc * 10 + x, elems)) == 321.0
    assert float(loops.foldl(lambda acc, x: acc - x, elems, initializer=10.0)) == 4.0
