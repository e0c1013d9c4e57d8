"""MultiHeadAttention, Attention and AdditiveAttention against real Keras 3."""
import jax
import numpy as np
import pytest

from jkeras.layers.attention import AdditiveAttention, Attention, MultiHeadAttention
from tests.conftest import TOL, assert_config_like_keras


def _local_names(layer, names):
    return [n.split(layer.name + "/", 1)[-1].split(":")[0] for n in names]


def _mha_pair(keras_ref, q, v, k=None, **kwargs):
    theirs = keras_ref.layers.MultiHeadAttention(**kwargs)
    ours = MultiHeadAttention(**kwargs)
    args = (q, v) if k is None else (q, v, k)
    theirs.build(*[a.shape for a in args])  # calling Keras 3.15 fails for value_dim != key_dim
    ours(*args)
    assert _local_names(ours, [w.name for w in ours.weights]) == \
        _local_names(theirs, [w.path for w in theirs.weights])
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert ours.count_params() == theirs.count_params()
    ours.set_weights(theirs.get_weights())
    return ours, theirs


@pytest.mark.slow
def test_mha_self_attention(keras_ref, rng):
    x = rng.normal(size=(2, 5, 6)).astype("float32")
    ours, theirs = _mha_pair(keras_ref, x, x, num_heads=3, key_dim=4)
    np.testing.assert_allclose(ours(x, x), theirs(x, x), **TOL)


@pytest.mark.slow
def test_mha_self_attention_projects_once(keras_ref, rng, monkeypatch):
    """One array for query, key and value: the three projections are one matmul; the
    outputs match Keras's and the gradients those of three separate projections."""
    import jax
    import jax.numpy as jnp
    x = rng.normal(size=(2, 5, 6)).astype("float32")
    ours, theirs = _mha_pair(keras_ref, x, x, num_heads=3, key_dim=4)
    one = jnp.asarray(x)
    separate = []
    real = MultiHeadAttention._project
    monkeypatch.setattr(MultiHeadAttention, "_project",
                        lambda self, *a: separate.append(1) or real(self, *a))
    np.testing.assert_allclose(ours(one, one), theirs(x, x), **TOL)
    assert separate == []
    variables = ours._get_vars()

    def loss(params, inputs, copy):
        out, _ = ours.apply(dict(variables, params=params), inputs, inputs + 0 if copy
                            else inputs, use_causal_mask=True)
        return jnp.sum(jnp.sin(out))
    fused = jax.grad(loss, argnums=(0, 1))(variables["params"], one, False)
    assert separate == []
    apart = jax.grad(loss, argnums=(0, 1))(variables["params"], one, True)
    assert len(separate) == 3
    for a, b in zip(jax.tree_util.tree_leaves(fused), jax.tree_util.tree_leaves(apart)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_mixed_precision_self_attention_projects_once(rng, monkeypatch):
    """float32 inputs to a mixed_bfloat16 layer: the input given twice is cast once and
    stays one tensor, so the one-matmul projection is still taken."""
    import jax.numpy as jnp
    layer = MultiHeadAttention(2, 4, dtype="mixed_bfloat16")
    x = jnp.asarray(rng.normal(size=(2, 5, 8)).astype("float32"))
    separate = []
    real = MultiHeadAttention._project
    monkeypatch.setattr(MultiHeadAttention, "_project",
                        lambda self, *a: separate.append(1) or real(self, *a))
    assert layer(x, x).dtype == jnp.bfloat16
    assert separate == []


@pytest.mark.slow
def test_mha_cross_attention_with_key(keras_ref, rng):
    q = rng.normal(size=(2, 4, 6)).astype("float32")
    v = rng.normal(size=(2, 7, 3)).astype("float32")
    k = rng.normal(size=(2, 7, 5)).astype("float32")
    ours, theirs = _mha_pair(keras_ref, q, v, k, num_heads=2, key_dim=3)
    np.testing.assert_allclose(ours(q, v, key=k), theirs(q, v, key=k), **TOL)


@pytest.mark.slow
def test_mha_masks(keras_ref, rng):
    q = rng.normal(size=(2, 4, 6)).astype("float32")
    v = rng.normal(size=(2, 6, 6)).astype("float32")
    ours, theirs = _mha_pair(keras_ref, q, v, num_heads=2, key_dim=3)
    mask = rng.uniform(size=(2, 4, 6)) > 0.4
    mask[..., 0] = True
    np.testing.assert_allclose(ours(q, v, attention_mask=mask),
                               theirs(q, v, attention_mask=mask), **TOL)
    np.testing.assert_allclose(ours(q, v, use_causal_mask=True),
                               theirs(q, v, use_causal_mask=True), **TOL)
    np.testing.assert_allclose(ours(q, v, attention_mask=mask, use_causal_mask=True),
                               theirs(q, v, attention_mask=mask, use_causal_mask=True), **TOL)
    # query and value padding masks are the same as the attention mask they imply
    q_mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
    v_mask = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], bool)
    implied = q_mask[:, :, None] & v_mask[:, None, :]
    np.testing.assert_allclose(ours(q, v, mask=q_mask, value_mask=v_mask),
                               theirs(q, v, attention_mask=implied), **TOL)


@pytest.mark.slow
def test_mha_scores_and_value_dim(keras_ref, rng):
    q = rng.normal(size=(2, 3, 4)).astype("float32")
    v = rng.normal(size=(2, 5, 4)).astype("float32")
    ours, theirs = _mha_pair(keras_ref, q, v, num_heads=2, key_dim=3, value_dim=5,
                             output_shape=7)
    mask = rng.uniform(size=(2, 3, 5)) > 0.4
    mask[..., 0] = True
    out, scores = ours(q, v, attention_mask=mask, return_attention_scores=True)
    ref_out, ref_scores = theirs(q, v, attention_mask=mask, return_attention_scores=True)
    assert out.shape == (2, 3, 7) and scores.shape == (2, 2, 3, 5)
    np.testing.assert_allclose(out, ref_out, **TOL)
    np.testing.assert_allclose(scores, ref_scores, **TOL)


@pytest.mark.slow
def test_mha_attention_axes(keras_ref, rng):
    x = rng.normal(size=(2, 3, 4, 5)).astype("float32")
    ours, theirs = _mha_pair(keras_ref, x, x, num_heads=2, key_dim=3, attention_axes=(1, 2))
    np.testing.assert_allclose(ours(x, x), theirs(x, x), **TOL)
    ours, theirs = _mha_pair(keras_ref, x, x, num_heads=2, key_dim=3, attention_axes=2)
    np.testing.assert_allclose(ours(x, x), theirs(x, x), **TOL)


@pytest.mark.slow
def test_mha_dropout_only_in_training(keras_ref, rng):
    x = rng.normal(size=(2, 5, 4)).astype("float32")
    ours, theirs = _mha_pair(keras_ref, x, x, num_heads=2, key_dim=2, dropout=0.5)
    np.testing.assert_allclose(ours(x, x), theirs(x, x), **TOL)
    variables = ours.variables_tree()
    first, _ = ours.apply(variables, x, x, training=True, key=jax.random.PRNGKey(0))
    second, _ = ours.apply(variables, x, x, training=True, key=jax.random.PRNGKey(1))
    assert not np.allclose(first, second)
    step = jax.jit(lambda v, x, k: ours.apply(v, x, value=x, training=True, key=k)[0])
    np.testing.assert_allclose(step(variables, x, jax.random.PRNGKey(0)), first, **TOL)
    with pytest.raises(ValueError, match="key"):
        ours.apply(variables, x, x, training=True, key=None)


def test_mha_regularizers_found_by_weight():
    layer = MultiHeadAttention(2, 3, kernel_regularizer="l2", bias_constraint="non_neg")
    x = np.ones((1, 2, 4), "float32")
    layer(x, x)
    assert layer.has_regularizers() and layer.has_constraints()
    penalty = layer.regularization_loss(layer.variables_tree()["params"])
    kernels = [w.numpy() for w in layer.weights if w.name.endswith("kernel:0")]
    np.testing.assert_allclose(penalty, 0.01 * sum((k ** 2).sum() for k in kernels),
                               rtol=1e-5)


def test_mha_config_round_trip(keras_ref, rng):
    kwargs = dict(num_heads=2, key_dim=3, value_dim=4, dropout=0.1, output_shape=(5,),
                  use_bias=False, bias_initializer="ones")
    ours = MultiHeadAttention(**kwargs)
    config = ours.get_config()
    reference = keras_ref.layers.MultiHeadAttention(**kwargs).get_config()
    assert_config_like_keras(config, reference)
    q = rng.normal(size=(1, 3, 6)).astype("float32")
    v = rng.normal(size=(1, 2, 4)).astype("float32")
    ours(q, v)
    config = ours.get_config()
    assert config["query_shape"] == [1, 3, 6] and config["value_shape"] == [1, 2, 4]
    again = MultiHeadAttention.from_config(config)
    assert again.built   # Keras 2 builds from the shapes in its config
    assert [w.shape for w in again.weights] == [w.shape for w in ours.weights]
    assert again.get_config() == config


def test_mha_symbolic_and_in_a_model(rng):
    from jkeras.engine.input_layer import Input
    from jkeras.engine.model import Model
    q_in, v_in = Input((4, 6)), Input((7, 3))
    layer = MultiHeadAttention(num_heads=2, key_dim=3)
    out = layer(q_in, v_in)
    assert out.shape == (None, 4, 6)
    model = Model([q_in, v_in], out)
    q = rng.normal(size=(2, 4, 6)).astype("float32")
    v = rng.normal(size=(2, 7, 3)).astype("float32")
    np.testing.assert_allclose(model.predict([q, v], verbose=0), layer(q, v), **TOL)
    both = MultiHeadAttention(num_heads=2, key_dim=3)(q_in, v_in, return_attention_scores=True)
    assert [t.shape for t in both] == [(None, 4, 6), (None, 2, 4, 7)]
    k_in = Input((7, 5))
    with_key = MultiHeadAttention(num_heads=2, key_dim=3)
    model = Model([q_in, v_in, k_in], with_key(q_in, v_in, key=k_in))
    k = rng.normal(size=(2, 7, 5)).astype("float32")
    np.testing.assert_allclose(model.predict([q, v, k], verbose=0), with_key(q, v, key=k),
                               **TOL)


@pytest.mark.slow
def test_mha_query_mask_from_embedding_in_a_model():
    from jkeras.engine.input_layer import Input
    from jkeras.engine.model import Model
    from jkeras.layers.embeddings import Embedding
    ids_in = Input((5,))
    embedding = Embedding(10, 4, mask_zero=True)
    mha = MultiHeadAttention(num_heads=2, key_dim=2)
    out = mha(embedding(ids_in), embedding(ids_in))
    assert out._mask_spec is not None          # the query's mask passes through
    ids = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 7, 0]])
    vectors = embedding(ids)
    # As in Keras, the value's own mask (from the same Embedding) masks the keys too.
    expected = mha(vectors, vectors, mask=ids != 0, value_mask=ids != 0)
    np.testing.assert_allclose(Model(ids_in, out).predict(ids, verbose=0), expected, **TOL)


@pytest.mark.slow
@pytest.mark.parametrize("kwargs", [{}, dict(use_scale=True), dict(score_mode="concat"),
                                    dict(score_mode="concat", use_scale=True)])
def test_dot_attention(keras_ref, rng, kwargs):
    q = rng.normal(size=(2, 3, 4)).astype("float32")
    v = rng.normal(size=(2, 5, 4)).astype("float32")
    k = rng.normal(size=(2, 5, 4)).astype("float32")
    theirs, ours = keras_ref.layers.Attention(**kwargs), Attention(**kwargs)
    theirs([q, v])
    ours([q, v])
    assert _local_names(ours, [w.name for w in ours.weights]) == \
        _local_names(theirs, [w.path for w in theirs.weights])
    weights = [np.asarray(rng.uniform(0.5, 1.5), "float32") for _ in theirs.weights]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    np.testing.assert_allclose(ours([q, v]), theirs([q, v]), **TOL)
    np.testing.assert_allclose(ours([q, v, k]), theirs([q, v, k]), **TOL)
    q_mask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    v_mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)
    out, scores = ours([q, v], mask=[q_mask, v_mask], return_attention_scores=True)
    ref_out, ref_scores = theirs([q, v], mask=[q_mask, v_mask], return_attention_scores=True)
    np.testing.assert_allclose(out, ref_out, **TOL)
    np.testing.assert_allclose(scores, ref_scores, **TOL)
    np.testing.assert_allclose(ours([q, v], use_causal_mask=True),
                               theirs([q, v], use_causal_mask=True), **TOL)
    np.testing.assert_array_equal(ours.compute_mask([q, v], [q_mask, v_mask]), q_mask)
    assert_config_like_keras(ours, theirs)


def test_additive_attention(keras_ref, rng):
    q = rng.normal(size=(2, 3, 4)).astype("float32")
    v = rng.normal(size=(2, 5, 4)).astype("float32")
    theirs, ours = keras_ref.layers.AdditiveAttention(), AdditiveAttention()
    theirs([q, v])
    ours([q, v])
    assert [w.shape for w in ours.weights] == [(4,)]
    assert _local_names(ours, [w.name for w in ours.weights]) == ["scale"]
    ours.set_weights(theirs.get_weights())
    v_mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)
    np.testing.assert_allclose(ours([q, v]), theirs([q, v]), **TOL)
    np.testing.assert_allclose(ours([q, v], mask=[None, v_mask]),
                               theirs([q, v], mask=[None, v_mask]), **TOL)
    config = ours.get_config()
    assert "score_mode" not in config and config["use_scale"] is True
    assert_config_like_keras(ours, theirs)
    unscaled = AdditiveAttention(use_scale=False)
    unscaled([q, v])
    assert unscaled.weights == []


@pytest.mark.slow
def test_attention_dropout_and_validation(rng):
    q = rng.normal(size=(2, 3, 4)).astype("float32")
    layer = Attention(dropout=0.5)
    layer([q, q])
    first, _ = layer.apply(layer.variables_tree(), [q, q], training=True, key=jax.random.PRNGKey(0))
    np.testing.assert_allclose(layer([q, q]), Attention()([q, q]), **TOL)
    assert not np.allclose(first, layer([q, q]))
    with pytest.raises(ValueError, match="list"):
        Attention()(q)
    with pytest.raises(ValueError, match="score_mode"):
        Attention(score_mode="bad")


def test_attention_mask_flows_from_embedding():
    from jkeras.engine.input_layer import Input
    from jkeras.layers.embeddings import Embedding
    ids = Input((5,))
    emb = Embedding(10, 4, mask_zero=True)(ids)
    out = Attention()([emb, emb])
    assert out.shape == (None, 5, 4)
    assert out._mask_spec is not None
