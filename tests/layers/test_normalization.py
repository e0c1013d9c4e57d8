"""BatchNormalization, LayerNormalization, GroupNormalization and UnitNormalization against
real Keras 3."""
import numpy as np
import pytest

from jkeras.layers import normalization as norm
from tests.conftest import TOL, assert_config_like_keras


def assert_weights_match(ours, theirs):
    assert [w.name.split("/")[-1].split(":")[0] for w in ours.weights] == \
        [w.path.split("/")[-1] for w in theirs.weights]
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert ours.count_params() == theirs.count_params()


def _pair(keras_layer, our_layer, x):
    keras_layer(x)
    our_layer.build_from_shape(x.shape)
    assert_weights_match(our_layer, keras_layer)
    our_layer.set_weights(keras_layer.get_weights())
    return keras_layer, our_layer


def _random_weights(layer, rng):
    layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32")
                       for w in layer.get_weights()])


@pytest.mark.parametrize("axis, shape", [(-1, (6, 3, 4)), (1, (5, 3, 4, 4)), (2, (4, 3, 5))])
def test_batch_norm_inference_and_training(keras_ref, rng, axis, shape):
    x = rng.normal(2.0, 3.0, shape).astype("float32")
    k, o = _pair(keras_ref.layers.BatchNormalization(axis=axis, momentum=0.9),
                 norm.BatchNormalization(axis=axis, momentum=0.9), x)
    _random_weights(k, rng)
    o.set_weights(k.get_weights())
    np.testing.assert_allclose(o(x), k(x, training=False), **TOL)
    np.testing.assert_allclose(o(x, training=True), k(x, training=True), **TOL)
    # one training call moved the moving statistics the same way
    for ours, theirs in zip(o.get_weights(), k.get_weights()):
        np.testing.assert_allclose(ours, theirs, **TOL)
    np.testing.assert_allclose(o(x), k(x, training=False), **TOL)


def test_batch_norm_moving_update_formula(rng):
    x = rng.normal(1.0, 2.0, (8, 3)).astype("float32")
    layer = norm.BatchNormalization(momentum=0.8)
    layer.build_from_shape((None, 3))
    layer(x, training=True)
    mean, var = layer.get_weights()[2:]
    np.testing.assert_allclose(mean, 0.2 * x.mean(0), **TOL)
    np.testing.assert_allclose(var, 0.8 + 0.2 * x.var(0), **TOL)   # biased variance


def test_frozen_batch_norm_runs_in_inference_mode(keras_ref, rng):
    x = rng.normal(1.0, 2.0, (6, 4)).astype("float32")
    k, o = _pair(keras_ref.layers.BatchNormalization(), norm.BatchNormalization(), x)
    _random_weights(k, rng)
    o.set_weights(k.get_weights())
    k.trainable = False
    o.trainable = False
    before = o.get_weights()
    np.testing.assert_allclose(o(x, training=True), k(x, training=True), **TOL)
    np.testing.assert_allclose(o(x, training=True), k(x, training=False), **TOL)
    for a, b in zip(o.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert o.trainable_weights == [] and len(o.non_trainable_weights) == 4


def test_batch_norm_masked_training_matches_keras(keras_ref, rng):
    x = rng.normal(size=(3, 5, 4)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], bool)
    k, o = _pair(keras_ref.layers.BatchNormalization(), norm.BatchNormalization(), x)
    np.testing.assert_allclose(o(x, training=True, mask=mask),
                               k(x, training=True, mask=mask), **TOL)
    for ours, theirs in zip(o.get_weights(), k.get_weights()):
        np.testing.assert_allclose(ours, theirs, **TOL)


def test_batch_norm_without_center_and_scale(keras_ref, rng):
    x = rng.normal(size=(4, 3)).astype("float32")
    k, o = _pair(keras_ref.layers.BatchNormalization(center=False, scale=False),
                 norm.BatchNormalization(center=False, scale=False), x)
    np.testing.assert_allclose(o(x, training=True), k(x, training=True), **TOL)


def test_batch_norm_trains_under_jit(rng):
    import jax
    x = rng.normal(size=(4, 3)).astype("float32")
    layer = norm.BatchNormalization()
    layer.build_from_shape((None, 3))
    variables = layer.variables_tree()
    step = jax.jit(lambda v, x: layer.apply(v, x, training=True))
    out, state = step(variables, x)
    assert set(state) == {"moving_mean", "moving_variance"}
    np.testing.assert_allclose(state["moving_mean"], 0.01 * x.mean(0), **TOL)


def test_batch_norm_config(keras_ref):
    kwargs = dict(axis=1, momentum=0.9, epsilon=1e-4, center=False,
                  gamma_initializer="random_uniform", beta_regularizer="l2")
    ours, theirs = norm.BatchNormalization(**kwargs), keras_ref.layers.BatchNormalization(**kwargs)
    assert assert_config_like_keras(ours.get_config(), theirs.get_config())
    again = norm.BatchNormalization.from_config(ours.get_config())
    assert again.get_config() == ours.get_config()


def test_batch_norm_rejects_bad_axis():
    layer = norm.BatchNormalization(axis=3)
    with pytest.raises(ValueError, match="axis"):
        layer.build_from_shape((None, 4))


@pytest.mark.parametrize("axis", [-1, [1, 2], 1])
def test_layer_norm(keras_ref, rng, axis):
    x = rng.normal(1.0, 2.0, (3, 4, 5)).astype("float32")
    k, o = _pair(keras_ref.layers.LayerNormalization(axis=axis),
                 norm.LayerNormalization(axis=axis), x)
    _random_weights(k, rng)
    o.set_weights(k.get_weights())
    np.testing.assert_allclose(o(x), k(x), **TOL)
    assert assert_config_like_keras(o.get_config(), k.get_config(), skip=("axis",))
    again = norm.LayerNormalization.from_config(o.get_config())
    assert again.get_config() == o.get_config()


@pytest.mark.slow
@pytest.mark.parametrize("groups, axis, shape", [(2, -1, (3, 5, 4)), (-1, -1, (2, 6, 3)),
                                                 (3, 1, (2, 6, 4, 4))])
def test_group_norm(keras_ref, rng, groups, axis, shape):
    x = rng.normal(1.0, 2.0, shape).astype("float32")
    k, o = _pair(keras_ref.layers.GroupNormalization(groups=groups, axis=axis),
                 norm.GroupNormalization(groups=groups, axis=axis), x)
    _random_weights(k, rng)
    o.set_weights(k.get_weights())
    np.testing.assert_allclose(o(x), k(x), **TOL)
    assert o.get_config()["groups"] == groups
    assert assert_config_like_keras(o.get_config(),
                          keras_ref.layers.GroupNormalization(groups=groups,
                                                              axis=axis).get_config())
    again = norm.GroupNormalization.from_config(o.get_config())
    assert again.get_config() == o.get_config()


@pytest.mark.slow
@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_one_pass_statistics_keep_their_precision(rng, offset):
    """16-bit layers take mean and variance in one pass (merged partial triples within
    rows, sums shifted by the first element across them): within 2e-3 of float64 (below
    a 16-bit output's rounding) even where the mean dwarfs the spread (1e4 against 1),
    where E[x^2] - E[x]^2 loses every digit in float32, and where a row's first element
    is an outlier; their gradients too, in both modes of differentiation. The two-pass
    form (float32 layers) within 2e-5. Int axes, negative axes and empty reductions as
    the two-pass form."""
    import jax
    import jax.numpy as jnp
    x = (rng.normal(size=(6, 5, 64)) + offset).astype("float32")
    x[:, :, 0] += 3000.0  # an outlier first along the last axis
    x64 = x.astype("float64")
    for axes in ((2,), (0, 1), -1, (-3, -2)):
        for one_pass in (False, True):
            mean, var = norm.masked_moments(jnp.asarray(x), axes, one_pass=one_pass)
            pos = np.atleast_1d(axes) % 3
            np.testing.assert_allclose(mean, x64.mean(tuple(pos), keepdims=True),
                                       rtol=1e-6, atol=1e-6)
            np.testing.assert_allclose(var, x64.var(tuple(pos), keepdims=True),
                                       rtol=2e-3 if one_pass else 2e-5)
    w = rng.normal(size=(6, 5, 1))
    grad = jax.grad(lambda v: jnp.sum(
        norm.masked_moments(v, (2,), one_pass=True)[1] * w))(jnp.asarray(x))
    expected = 2 * (x64 - x64.mean(2, keepdims=True)) / 64 * w
    np.testing.assert_allclose(grad, expected, rtol=1e-3, atol=1e-3)
    tangent = rng.normal(size=x.shape).astype("float32")
    _, (d_mean, d_var) = jax.jvp(lambda v: norm.masked_moments(v, (2,), one_pass=True),
                                 (jnp.asarray(x),), (jnp.asarray(tangent),))
    t64 = tangent.astype("float64")
    np.testing.assert_allclose(d_mean, t64.mean(2, keepdims=True), rtol=1e-5, atol=1e-5)
    centred = x64 - x64.mean(2, keepdims=True)
    np.testing.assert_allclose(d_var, 2 * (centred * t64).mean(2, keepdims=True),
                               rtol=1e-3, atol=1e-2)
    hessians = [jax.hessian(lambda v: jnp.sum(norm.masked_moments(
        v, (1,), one_pass=one_pass)[1] * w[:2, :1, 0]))(jnp.asarray(x[:2, 0, :8]))
        for one_pass in (False, True)]  # second order: a gradient penalty's
    np.testing.assert_allclose(hessians[1], hessians[0], rtol=1e-4, atol=1e-5)
    empty_mean, _ = norm.masked_moments(jnp.zeros((0, 3)), (0,), one_pass=True)
    assert empty_mean.shape == (1, 3)


@pytest.mark.slow
def test_one_pass_form_follows_the_reduction(monkeypatch):
    """Within rows (trailing axes: LayerNormalization) the streaming merge, whose one
    reduction XLA fuses with what made the input; across rows (BatchNormalization's
    batch axes) and along rows longer than 65,536 the shifted sums."""
    import jax.numpy as jnp
    calls = []
    for name in ("_streaming_moments", "_shifted_moments"):
        real = getattr(norm, name)
        monkeypatch.setattr(norm, name, lambda x, axes, real=real, name=name: (
            calls.append((name, axes)), real(x, axes))[1])
    x = jnp.ones((4, 3, 5))
    for axes in ((2,), (1, 2), -1, (0, 1), (0,), (1,)):
        norm.masked_moments(x, axes, one_pass=True)
    assert calls == [("_streaming_moments", (2,)), ("_streaming_moments", (1, 2)),
                     ("_streaming_moments", (2,)), ("_shifted_moments", (0, 1)),
                     ("_shifted_moments", (0,)), ("_shifted_moments", (1,))]
    calls.clear()  # rows over _STREAMING_MAX: XLA:CPU merges them one after another
    norm.masked_moments(jnp.ones((2, norm._STREAMING_MAX + 1)), (1,), one_pass=True)
    assert calls == [("_shifted_moments", (1,))]


@pytest.mark.slow
def test_only_16_bit_layers_take_statistics_in_one_pass(rng, monkeypatch):
    """float32 layers keep mean-then-variance, as Keras computes them; mixed-precision
    ones take the one-pass form (one kernel instead of two)."""
    seen = []
    real = norm.masked_moments
    monkeypatch.setattr(norm, "masked_moments",
                        lambda *a, **k: seen.append(k.get("one_pass")) or real(*a, **k))
    x = rng.normal(size=(4, 6)).astype("float32")
    for layer in (norm.LayerNormalization(), norm.GroupNormalization(2),
                  norm.BatchNormalization()):
        layer(x, training=True)
        half = type(layer).from_config(dict(layer.get_config(), dtype="mixed_bfloat16"))
        half(x, training=True)
    assert seen == [False, True] * 3


def test_group_norm_rejects_indivisible_channels():
    with pytest.raises(ValueError, match="groups"):
        norm.GroupNormalization(groups=3).build_from_shape((None, 4))


@pytest.mark.parametrize("axis", [-1, [1, 2]])
def test_unit_norm(keras_ref, rng, axis):
    x = rng.normal(size=(3, 4, 5)).astype("float32")
    x[0, 0] = 0.0
    k, o = _pair(keras_ref.layers.UnitNormalization(axis=axis),
                 norm.UnitNormalization(axis=axis), x)
    np.testing.assert_allclose(o(x), k(x), **TOL)
    assert assert_config_like_keras(o.get_config(), k.get_config())
    assert norm.UnitNormalization.from_config(o.get_config()).get_config() == o.get_config()


def test_symbolic_shapes():
    from jkeras.engine.input_layer import Input
    x = Input((7, 6))
    assert norm.BatchNormalization()(x).shape == (None, 7, 6)
    assert norm.LayerNormalization()(x).shape == (None, 7, 6)
    assert norm.GroupNormalization(groups=3)(x).shape == (None, 7, 6)
