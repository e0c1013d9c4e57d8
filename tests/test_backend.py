"""jkeras.backend (the `K` functions) against NumPy and Keras 2 formulas."""
import jax
import numpy as np
import pytest

from jkeras import _config
from jkeras import backend as K


@pytest.fixture
def x(rng):
    return rng.normal(size=(3, 4, 5)).astype("float32")


def test_config_reexports():
    assert K.floatx() == _config.floatx() and K.epsilon() == _config.epsilon()
    assert K.image_data_format() == "channels_last"
    assert K.backend() == "jax"
    old = K.epsilon()
    try:
        K.set_epsilon(1e-5)
        assert _config.epsilon() == 1e-5
    finally:
        K.set_epsilon(old)


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "mean", "std", "var"])
@pytest.mark.parametrize("axis, keepdims", [(None, False), (1, False), (-1, True),
                                            ([0, 2], False)])
def test_reductions(x, name, axis, keepdims):
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    expected = getattr(np, name)(x, axis=np_axis, keepdims=keepdims)
    np.testing.assert_allclose(getattr(K, name)(x, axis=axis, keepdims=keepdims), expected,
                               rtol=1e-4, atol=1e-6)


def test_mean_of_bools_and_any_all(x):
    mask = x > 0
    np.testing.assert_allclose(K.mean(mask, axis=1), mask.mean(axis=1), rtol=1e-6)
    np.testing.assert_array_equal(K.any(x > 1.5, axis=-1), (x > 1.5).any(axis=-1))
    np.testing.assert_array_equal(K.all(x > -3, axis=0), (x > -3).all(axis=0))


def test_elementwise(x):
    np.testing.assert_allclose(K.abs(x), np.abs(x))
    np.testing.assert_allclose(K.square(x), x ** 2, rtol=1e-6)
    np.testing.assert_allclose(K.exp(x), np.exp(x), rtol=1e-6)
    np.testing.assert_allclose(K.log(np.abs(x)), np.log(np.abs(x)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(K.pow(np.abs(x), 1.5), np.abs(x) ** 1.5, rtol=1e-5)
    np.testing.assert_array_equal(K.sign(x), np.sign(x))
    np.testing.assert_array_equal(K.round(np.array([0.5, 1.5, 2.5, -0.5])), [0, 2, 2, -0])
    np.testing.assert_array_equal(K.argmax(x), x.argmax(-1))
    np.testing.assert_array_equal(K.argmin(x, axis=1), x.argmin(1))


def test_sqrt_clips_negatives_to_zero():
    np.testing.assert_allclose(K.sqrt(np.array([-4.0, 0.0, 4.0])), [0.0, 0.0, 2.0])


def test_clip(x):
    np.testing.assert_allclose(K.clip(x, -0.5, 0.5), np.clip(x, -0.5, 0.5))
    np.testing.assert_allclose(K.clip(x, None, 0.5), np.minimum(x, 0.5))
    np.testing.assert_allclose(K.clip(x, 0.3, 0.1), np.full_like(x, 0.3))  # max < min


def test_comparisons_and_cast(x):
    y = np.zeros_like(x)
    for name, fn in [("equal", np.equal), ("not_equal", np.not_equal),
                     ("greater", np.greater), ("greater_equal", np.greater_equal),
                     ("less", np.less), ("less_equal", np.less_equal),
                     ("maximum", np.maximum), ("minimum", np.minimum)]:
        np.testing.assert_array_equal(getattr(K, name)(x, y), fn(x, y))
    assert K.cast(x, "int32").dtype == np.int32
    assert K.dtype(K.cast(x, "float16")) == "float16"


def test_dot_is_numpy_dot(rng):
    a = rng.normal(size=(2, 3, 4)).astype("float32")
    b = rng.normal(size=(5, 4, 6)).astype("float32")
    np.testing.assert_allclose(K.dot(a, b), np.dot(a, b), rtol=1e-5)
    np.testing.assert_allclose(K.dot(a[0], b[0]), a[0] @ b[0], rtol=1e-5)


@pytest.mark.parametrize("x_shape, y_shape, axes, equation, out_shape", [
    ((32, 20, 1), (32, 30, 20), (1, 2), "bki,bjk->bij", (32, 1, 30)),
    ((4, 3, 5), (4, 5, 6), None, "bik,bkj->bij", (4, 3, 6)),
    ((4, 5), (4, 5), None, "bk,bk->b", (4, 1)),
    ((4, 5), (4, 5, 6), None, "bk,bkj->bj", (4, 6)),
    ((4, 3, 5), (4, 5), None, "bik,bk->bi", (4, 3)),
    ((4, 3, 5), (4, 3, 5), 2, "bik,bjk->bij", (4, 3, 3)),
    ((2, 3, 4, 5), (2, 5, 6), (3, 1), "bijk,bkl->bijl", (2, 3, 4, 6))])
def test_batch_dot(rng, x_shape, y_shape, axes, equation, out_shape):
    a = rng.normal(size=x_shape).astype("float32")
    b = rng.normal(size=y_shape).astype("float32")
    out = K.batch_dot(a, b, axes=axes)
    expected = np.einsum(equation, a, b).reshape(out_shape)
    assert out.shape == out_shape
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_batch_dot_rejects_batch_axis():
    with pytest.raises(ValueError, match="batch axis"):
        K.batch_dot(np.ones((2, 3)), np.ones((2, 3)), axes=0)


def test_shapes(x):
    assert K.shape(x) == (3, 4, 5) and K.int_shape(x) == (3, 4, 5)
    assert K.ndim(x) == 3 and K.count_params(x) == 60
    assert K.transpose(x).shape == (5, 4, 3)
    np.testing.assert_array_equal(K.permute_dimensions(x, (1, 0, 2)), x.transpose(1, 0, 2))
    np.testing.assert_array_equal(K.reshape(x, (12, 5)), x.reshape(12, 5))
    np.testing.assert_array_equal(K.flatten(x), x.ravel())
    np.testing.assert_array_equal(K.batch_flatten(x), x.reshape(3, 20))
    assert K.expand_dims(x).shape == (3, 4, 5, 1)
    assert K.squeeze(x[:, :1], 1).shape == (3, 5)
    np.testing.assert_array_equal(K.concatenate([x, x]), np.concatenate([x, x], -1))
    np.testing.assert_array_equal(K.stack([x, x], axis=1), np.stack([x, x], 1))
    np.testing.assert_array_equal(K.repeat_elements(x, 2, axis=1), np.repeat(x, 2, 1))
    np.testing.assert_array_equal(K.tile(x, (1, 2, 1)), np.tile(x, (1, 2, 1)))
    np.testing.assert_array_equal(K.gather(x, [2, 0]), x[[2, 0]])


def test_creation():
    np.testing.assert_array_equal(K.one_hot(np.array([0, 2]), 3), [[1, 0, 0], [0, 0, 1]])
    assert K.one_hot(np.array([1]), 2).dtype == np.dtype(K.floatx())
    assert K.zeros((2, 3)).dtype == np.dtype(K.floatx())
    assert K.ones((2,), dtype="int32").dtype == np.int32
    np.testing.assert_array_equal(K.eye(3), np.eye(3))
    np.testing.assert_array_equal(K.eye((2, 3)), np.eye(2, 3))
    np.testing.assert_array_equal(K.constant(2.0, shape=(2, 2)), np.full((2, 2), 2.0))
    np.testing.assert_array_equal(K.constant([1, 2, 3, 4], shape=(2, 2)), [[1, 2], [3, 4]])
    assert K.variable(np.ones((2,), "float64")).dtype == np.dtype(K.floatx())
    assert K.zeros_like(np.ones((2,), "int32")).dtype == np.int32
    np.testing.assert_array_equal(K.ones_like(np.zeros((2, 2))), np.ones((2, 2)))


def test_switch(x):
    cond = x[:, 0, 0] > 0  # rank 1 against rank 3: broadcast over the trailing axes
    expected = np.where(cond[:, None, None], x, -x)
    np.testing.assert_array_equal(K.switch(cond, x, -x), expected)
    np.testing.assert_array_equal(K.switch(True, lambda: x, lambda: -x), x)
    with pytest.raises(ValueError, match="rank"):
        K.switch(np.ones((2, 2, 2)) > 0, np.ones(2), np.zeros(2))


def test_learning_phase():
    assert K.is_keras_tensor(K.learning_phase()) and K.learning_phase().shape == ()
    assert K.in_train_phase(1.0, 2.0) == 2.0
    assert K.in_train_phase(lambda: 1.0, lambda: 2.0, training=True) == 1.0
    assert K.in_test_phase(1.0, 2.0, training=0) == 1.0


def test_activations(x):
    np.testing.assert_allclose(K.relu(x, alpha=0.1, max_value=1.0),
                               np.clip(np.where(x > 0, x, 0.1 * x), None, 1.0), rtol=1e-6)
    np.testing.assert_allclose(K.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-5)
    np.testing.assert_allclose(K.hard_sigmoid(x), np.clip(0.2 * x + 0.5, 0, 1), rtol=1e-6)
    e = np.exp(x - x.max(-1, keepdims=True))
    np.testing.assert_allclose(K.softmax(x), e / e.sum(-1, keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(K.elu(x, 0.5), np.where(x > 0, x, 0.5 * np.expm1(x)),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(K.softplus(x), np.log1p(np.exp(x)), rtol=1e-5)
    np.testing.assert_allclose(K.softsign(x), x / (1 + np.abs(x)), rtol=1e-6)
    np.testing.assert_allclose(K.tanh(x), np.tanh(x), rtol=1e-5, atol=1e-7)


def test_l2_normalize(x):
    expected = x / np.sqrt((x ** 2).sum(-1, keepdims=True))
    np.testing.assert_allclose(K.l2_normalize(x, axis=-1), expected, rtol=1e-5)


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def test_categorical_crossentropy(rng):
    logits = rng.normal(size=(6, 4)).astype("float32")
    target = np.eye(4, dtype="float32")[rng.integers(0, 4, 6)]
    probs = _softmax(logits) * 3.0  # unnormalized: Keras 2 renormalizes
    eps = K.epsilon()
    expected = -(target * np.log(np.clip(probs / probs.sum(-1, keepdims=True),
                                         eps, 1 - eps))).sum(-1)
    np.testing.assert_allclose(K.categorical_crossentropy(target, probs), expected, rtol=1e-5)
    np.testing.assert_allclose(K.categorical_crossentropy(target, logits, from_logits=True),
                               -(target * np.log(_softmax(logits))).sum(-1), rtol=1e-5)
    np.testing.assert_allclose(
        K.categorical_crossentropy(target.T, _softmax(logits).T, axis=0),
        -(target * np.log(np.clip(_softmax(logits), eps, 1 - eps))).sum(-1), rtol=1e-5)


def test_sparse_categorical_crossentropy(rng):
    logits = rng.normal(size=(2, 3, 4)).astype("float32")
    labels = rng.integers(0, 4, (2, 3))
    probs = _softmax(logits)
    eps = K.epsilon()
    clipped = np.clip(probs, eps, 1 - eps)
    picked = np.take_along_axis(clipped, labels[..., None], -1)[..., 0]
    expected = -np.log(picked / clipped.sum(-1))
    np.testing.assert_allclose(K.sparse_categorical_crossentropy(labels, probs), expected,
                               rtol=1e-5)
    np.testing.assert_allclose(
        K.sparse_categorical_crossentropy(labels[..., None].astype("float32"), logits,
                                          from_logits=True),
        -np.log(np.take_along_axis(probs, labels[..., None], -1)[..., 0]), rtol=1e-5)


def test_binary_crossentropy(rng):
    logits = rng.normal(size=(4, 3)).astype("float32") * 4
    target = rng.integers(0, 2, (4, 3)).astype("float32")
    probs = 1 / (1 + np.exp(-logits.astype("float64")))
    eps = K.epsilon()
    p = np.clip(probs, eps, 1 - eps)
    expected = -(target * np.log(p + eps) + (1 - target) * np.log(1 - p + eps))
    np.testing.assert_allclose(K.binary_crossentropy(target, probs.astype("float32")),
                               expected, rtol=1e-4)
    exact = -(target * np.log(probs) + (1 - target) * np.log(1 - probs))
    np.testing.assert_allclose(K.binary_crossentropy(target, logits, from_logits=True),
                               exact, rtol=1e-4)


@pytest.mark.slow
def test_random_functions():
    a = K.random_normal((300, 100), mean=1.0, stddev=2.0, seed=3)
    np.testing.assert_array_equal(a, K.random_normal((300, 100), mean=1.0, stddev=2.0, seed=3))
    assert abs(float(a.mean()) - 1.0) < 0.05 and abs(float(a.std()) - 2.0) < 0.05
    u = np.asarray(K.random_uniform((300, 100), -1.0, 3.0, seed=1))
    assert u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.05
    b = np.asarray(K.random_binomial((300, 100), p=0.3, seed=2))
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.3) < 0.02
    try:
        _config.set_seed(5)
        first = K.random_uniform((4,))
        _config.set_seed(5)
        np.testing.assert_array_equal(first, K.random_uniform((4,)))
    finally:
        _config.set_seed(None)


def test_values():
    class Holder:
        def __init__(self):
            self.value = None

        def assign(self, value):
            self.value = value

    holder = Holder()
    K.set_value(holder, 0.5)
    assert holder.value == 0.5
    K.batch_set_value([(holder, 0.25)])
    assert holder.value == 0.25
    with pytest.raises(TypeError, match="ArrayImpl|Array"):
        K.set_value(jax.numpy.ones(2), 1.0)
    np.testing.assert_array_equal(K.get_value(jax.numpy.ones(2)), [1.0, 1.0])
    assert isinstance(K.batch_get_value([jax.numpy.ones(2)])[0], np.ndarray)


def test_misc():
    with K.name_scope("block"):
        pass
    assert K.is_keras_tensor(np.ones(2)) is False
    K.clear_session()  # must not fail whether or not the naming module exists


def test_clear_session_resets_layer_names():
    from jkeras.engine import naming
    naming.unique_name("k_backend_test")
    K.clear_session()
    assert naming.unique_name("k_backend_test") == "k_backend_test"


def test_is_keras_tensor():
    from jkeras.engine import keras_tensor
    assert K.is_keras_tensor(keras_tensor.KerasTensor((None, 3)))


def test_works_under_jit(x):
    @jax.jit
    def loss(y_true, y_pred):
        return K.mean(K.square(y_pred - y_true), axis=-1) + K.sum(K.batch_flatten(y_pred))

    expected = ((x - 1) ** 2).mean(-1) + x.sum()
    np.testing.assert_allclose(loss(np.ones_like(x), x), expected, rtol=1e-4)
