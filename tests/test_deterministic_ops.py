"""The scatter-free forms used in deterministic mode: same numbers as the plain ops (or a
NumPy / Keras 3 reference), and no scatter left in the traced computation.

Deterministic mode is switched on here by putting XLA's flag in XLA_FLAGS, which is what
the layers read when they are traced (XLA itself read its flags long ago: on CPU nothing
else changes).
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jkeras
from jkeras import backend as K
from jkeras import deterministic_ops, layers, losses, metrics


@pytest.fixture
def deterministic(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_gpu_deterministic_ops=true")


@pytest.fixture
def default_mode(monkeypatch):
    monkeypatch.delenv("XLA_FLAGS", raising=False)


def _jaxpr(fn, *args):
    return str(jax.make_jaxpr(fn)(*args))


def _layer(layer, input_shape):
    variables = layer.init(jax.random.PRNGKey(0), input_shape)
    return lambda x: layer.apply(variables, x)[0]


# ----------------------------------------------------------------------------- lookups
def _embedding_grad(indices, upstream, table):
    layer = layers.Embedding(table.shape[0], table.shape[1])
    variables = layer.init(jax.random.PRNGKey(0), indices.shape)

    def loss(t):
        params = dict(variables, params={"embeddings": t})
        return jnp.sum(layer.apply(params, indices)[0] * upstream)
    return loss


@pytest.mark.parametrize("block", [None, 7])  # 7: the one-hot matmul in several blocks
def test_embedding_gradient_is_a_matmul_not_a_scatter(deterministic, monkeypatch, rng,
                                                      block):
    if block:
        monkeypatch.setattr(deterministic_ops, "_ONE_HOT_BLOCK", block)
    table = rng.standard_normal((5, 3)).astype("float32")
    indices = rng.integers(0, 5, (4, 6))  # repeated indices
    upstream = rng.standard_normal((4, 6, 3)).astype("float32")
    loss = _embedding_grad(indices, upstream, table)
    expected = np.zeros_like(table)
    np.add.at(expected, indices.reshape(-1), upstream.reshape(-1, 3))
    np.testing.assert_allclose(jax.jit(jax.grad(loss))(table), expected, rtol=1e-6,
                               atol=1e-6)
    assert "scatter" not in _jaxpr(jax.grad(loss), table)
    np.testing.assert_array_equal(
        _layer(layers.Embedding(5, 3), indices.shape)(indices).shape, (4, 6, 3))


def test_plain_mode_keeps_the_scatter(default_mode, rng):
    """The check above can see a scatter: outside deterministic mode there is one."""
    table = rng.standard_normal((5, 3)).astype("float32")
    indices = rng.integers(0, 5, (4, 6))
    loss = _embedding_grad(indices, np.ones((4, 6, 3), "float32"), table)
    assert "scatter-add" in _jaxpr(jax.grad(loss), table)


def test_k_gather_gradient(deterministic, rng):
    reference = rng.standard_normal((6, 2)).astype("float32")
    indices = np.array([0, 5, 5, 2, 0, 0])
    grad = jax.grad(lambda r: jnp.sum(K.gather(r, indices) ** 2))(reference)
    expected = np.zeros_like(reference)
    np.add.at(expected, indices, 2 * reference[indices])
    np.testing.assert_allclose(grad, expected, rtol=1e-6)
    np.testing.assert_array_equal(K.gather(reference, indices), reference[indices])


# ----------------------------------------------------------------------------- max-pooling
POOL_CASES = [
    (layers.MaxPooling1D, dict(pool_size=3, strides=1), (2, 9, 3)),
    (layers.MaxPooling1D, dict(pool_size=2, padding="same"), (2, 7, 2)),
    (layers.MaxPooling2D, dict(pool_size=2), (2, 8, 8, 3)),
    (layers.MaxPooling2D, dict(pool_size=3, strides=2, padding="same"), (2, 9, 7, 2)),
    (layers.MaxPooling3D, dict(pool_size=2, strides=(1, 2, 2)), (1, 4, 5, 6, 2)),
]


@pytest.mark.slow
@pytest.mark.parametrize("cls, kwargs, shape", POOL_CASES,
                         ids=[f"{c.__name__}-{k}" for c, k, _ in POOL_CASES])
def test_max_pool_gradient_matches_select_and_scatter(monkeypatch, rng, cls, kwargs, shape):
    # Small integers: ties inside windows, and sums of overlapping windows stay exact.
    x = rng.integers(0, 4, shape).astype("float32")
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    plain = _layer(cls(**kwargs), shape)
    y_ref, vjp_ref = jax.vjp(plain, x)
    g = rng.integers(-3, 4, y_ref.shape).astype("float32")
    assert "select_and_scatter" in _jaxpr(vjp_ref, g)

    monkeypatch.setenv("XLA_FLAGS", "--xla_gpu_deterministic_ops=true")
    scatter_free = _layer(cls(**kwargs), shape)
    y, vjp = jax.vjp(scatter_free, x)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(vjp(g)[0], vjp_ref(g)[0])
    assert "scatter" not in _jaxpr(vjp, g)


# ----------------------------------------------------------------------------- losses
@pytest.mark.parametrize("loss_fn", [
    lambda y, p: losses.sparse_categorical_crossentropy(y, p, from_logits=True),
    lambda y, p: losses.sparse_categorical_crossentropy(y, p, from_logits=True,
                                                        ignore_class=1),
    lambda y, p: K.sparse_categorical_crossentropy(y, p, from_logits=True),
], ids=["losses", "ignore_class", "backend"])
@pytest.mark.slow
def test_sparse_crossentropy_same_values_and_gradient(monkeypatch, rng, loss_fn):
    """The label's logit is picked by a masked sum in both modes: no scatter in the
    gradient, the same numbers with or without deterministic ops."""
    labels = rng.integers(0, 5, (4, 6))
    logits = rng.standard_normal((4, 6, 5)).astype("float32")
    logits[0, 0, 2] = -1e30  # log-probability -inf where the label is not

    def total(p):
        return jnp.sum(loss_fn(labels, p) * jnp.arange(6.0))
    results = {}
    for mode in ("", "--xla_gpu_deterministic_ops=true"):
        monkeypatch.setenv("XLA_FLAGS", mode)
        results[mode] = (loss_fn(labels, logits), jax.grad(total)(logits),
                         _jaxpr(jax.grad(total), logits))
    (plain, plain_grad, plain_jaxpr), (det, det_grad, det_jaxpr) = results.values()
    np.testing.assert_array_equal(det, plain)
    np.testing.assert_array_equal(det_grad, plain_grad)
    assert "scatter" not in plain_jaxpr and "scatter" not in det_jaxpr


# ----------------------------------------------------------------------------- metrics
@pytest.mark.slow
def test_auc_and_mean_iou_match_keras(deterministic, keras_ref, rng):
    y_true = rng.integers(0, 2, (12, 3)).astype("float32")
    y_pred = rng.uniform(size=(12, 3)).astype("float32")
    weight = rng.uniform(0.2, 2.0, (12,)).astype("float32")
    for ours, theirs, true, pred in [
            (metrics.AUC(), keras_ref.metrics.AUC(), y_true, y_pred),
            (metrics.MeanIoU(4),
             keras_ref.metrics.MeanIoU(num_classes=4, dtype="float32"),
             rng.integers(0, 4, (12,)), rng.integers(0, 4, (12,)))]:
        update = jax.jit(ours.update)
        assert "scatter" not in str(jax.make_jaxpr(ours.update)(
            ours.init_state(), true, pred, weight))
        state = update(ours.init_state(), true, pred, weight)
        theirs.update_state(true, pred, sample_weight=weight)
        np.testing.assert_allclose(ours.compute(state), theirs.result(), rtol=1e-5,
                                   atol=1e-6)


def test_a_model_trains_in_deterministic_mode(deterministic):
    """Embedding, max-pooling and the sparse loss together, through compile/fit."""
    jkeras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 20, (64, 12))
    y = (x[:, :4].sum(axis=1) % 3)
    model = jkeras.Sequential([layers.Embedding(20, 8, input_length=12),
                               layers.MaxPooling1D(2), layers.Flatten(),
                               layers.Dense(3, activation="softmax")])
    model.compile(jkeras.optimizers.Adam(0.02), "sparse_categorical_crossentropy")
    before = model.get_weights()
    history = model.fit(x, y, batch_size=16, epochs=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
