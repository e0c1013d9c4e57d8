"""jkeras.activations against keras.activations (or NumPy where Keras 3 differs from 2)."""
import numpy as np
import pytest

from jkeras import activations
from jkeras.serialization.object_registry import custom_object_scope


@pytest.fixture
def x(rng):
    values = rng.normal(scale=3.0, size=(4, 8)).astype("float32")
    values[0, :5] = [-1.0, 0.0, 1.0, 6.0, 2.5]  # the kinks
    return values


SAME_AS_KERAS = ["relu", "leaky_relu", "relu6", "softmax", "log_softmax", "elu", "selu",
                 "celu", "softplus", "softsign", "tanh", "sigmoid", "exponential", "linear",
                 "gelu", "silu", "mish", "log_sigmoid", "tanh_shrink", "soft_shrink",
                 "hard_shrink", "squareplus", "sparse_plus", "sparse_sigmoid", "hard_silu",
                 "hard_tanh", "glu"]


@pytest.mark.parametrize("name", SAME_AS_KERAS)
def test_matches_keras(keras_ref, x, name):
    expected = np.asarray(getattr(keras_ref.activations, name)(x))
    np.testing.assert_allclose(np.asarray(getattr(activations, name)(x)), expected,
                               rtol=1e-5, atol=1e-6)


def test_swish_is_silu(keras_ref, x):
    np.testing.assert_allclose(activations.swish(x), keras_ref.activations.silu(x),
                               rtol=1e-5, atol=1e-6)


def test_gelu_approximate(keras_ref, x):
    np.testing.assert_allclose(activations.gelu(x, approximate=True),
                               keras_ref.activations.gelu(x, approximate=True),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_exact_gelu_and_its_gradient_match_float64(keras_ref):
    """The exact GELU's erf is a polynomial with an exp (fused by XLA): its values and
    its derivative Phi(x) + x phi(x) against float64, over a wide range, and the values
    against Keras's."""
    import math

    import jax
    xs = np.linspace(-12, 12, 24001)
    cdf = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in xs])
    x32 = xs.astype("float32")
    values = np.asarray(activations.gelu(x32), np.float64)
    np.testing.assert_allclose(values, xs * cdf, rtol=1e-6, atol=2e-7)
    np.testing.assert_allclose(values, np.asarray(keras_ref.activations.gelu(x32)),
                               rtol=1e-6, atol=2e-7)
    slope = np.asarray(jax.vmap(jax.grad(activations.gelu))(x32), np.float64)
    expected = cdf + xs * np.exp(-0.5 * xs ** 2) / math.sqrt(2 * math.pi)
    np.testing.assert_allclose(slope, expected, rtol=1e-6, atol=2e-7)
    half = np.asarray(activations.gelu(x32.astype("bfloat16")), np.float64)
    np.testing.assert_allclose(half, xs * cdf, rtol=1e-2, atol=1e-2)  # bfloat16 stays


@pytest.mark.slow
@pytest.mark.parametrize("dtype, most_off", [("bfloat16", 0.01), ("float16", 0.001)])
def test_16_bit_gelu_rounds_as_the_exact_function(dtype, most_off):
    """16-bit inputs: every output is the float64 GELU correctly rounded to the input's
    dtype or its neighbour, and all but a few are the correctly rounded value (bfloat16
    takes the shorter polynomial; its error is a two-hundredth of a rounding step)."""
    import math

    import jax
    import jax.numpy as jnp
    xs = np.unique(np.asarray(jnp.asarray(np.linspace(-9, 9, 60001), jnp.float32)
                              .astype(dtype)).astype(np.float64))
    exact = np.array([0.5 * v * math.erfc(-v / math.sqrt(2)) for v in xs])
    rounded = np.asarray(jnp.asarray(exact, jnp.float32).astype(dtype)).astype(np.float64)
    got = np.asarray(activations.gelu(jnp.asarray(xs, dtype))).astype(np.float64)
    def bits(v):  # neighbouring 16-bit values of one sign differ by one here
        return np.asarray(jnp.asarray(np.abs(v), dtype).view("uint16")).astype(np.int64)
    assert np.all(np.sign(got) * np.sign(rounded) >= 0)
    assert np.max(np.abs(bits(got) - bits(rounded))) <= 1
    assert np.mean(got != rounded) <= most_off
    slope = np.asarray(jax.vmap(jax.grad(activations.gelu))(jnp.asarray(xs, dtype)),
                       np.float64)
    expected = np.array([0.5 * math.erfc(-v / math.sqrt(2)) +
                         v * math.exp(-0.5 * v * v) / math.sqrt(2 * math.pi) for v in xs])
    np.testing.assert_allclose(slope, expected, rtol=2 ** -7, atol=2 ** -14)


def test_elu_alpha(keras_ref, x):
    np.testing.assert_allclose(activations.elu(x, alpha=0.5),
                               keras_ref.activations.elu(x, alpha=0.5), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("alpha, max_value, threshold", [
    (0.0, None, 0.0), (0.1, None, 0.0), (0.0, 6.0, 0.0), (0.0, 2.0, 0.0), (0.3, 4.0, 0.0),
    (0.0, None, 1.0), (0.2, 3.0, 1.0), (0.2, None, -1.0)])
def test_relu_options(keras_ref, x, alpha, max_value, threshold):
    expected = keras_ref.activations.relu(x, negative_slope=alpha, max_value=max_value,
                                          threshold=threshold)
    got = activations.relu(x, alpha=alpha, max_value=max_value, threshold=threshold)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def test_relu_keras3_spelling(keras_ref, x):
    np.testing.assert_allclose(activations.relu(x, negative_slope=0.1),
                               keras_ref.activations.relu(x, negative_slope=0.1), rtol=1e-6)
    np.testing.assert_allclose(activations.leaky_relu(x, negative_slope=0.3),
                               keras_ref.activations.leaky_relu(x, negative_slope=0.3),
                               rtol=1e-6)


def test_leaky_relu_alpha(x):
    np.testing.assert_allclose(activations.leaky_relu(x, alpha=0.3),
                               np.where(x >= 0, x, 0.3 * x), rtol=1e-6)


def test_hard_sigmoid_is_keras2_formula(x):
    np.testing.assert_allclose(activations.hard_sigmoid(x),
                               np.clip(0.2 * x + 0.5, 0.0, 1.0), rtol=1e-6)


def test_softmax_axis(keras_ref, rng):
    x = rng.normal(size=(2, 3, 4)).astype("float32")
    for axis in (1, (1, 2)):
        np.testing.assert_allclose(activations.softmax(x, axis=axis),
                                   keras_ref.activations.softmax(x, axis=axis), rtol=1e-5)


def test_dtype_is_kept(x):
    assert activations.relu(x.astype("float16")).dtype == np.float16
    assert activations.hard_sigmoid(x.astype("float16")).dtype == np.float16


def test_get_and_serialize():
    assert activations.get(None) is activations.linear
    assert activations.get("relu") is activations.relu
    assert activations.get("swish") is activations.swish
    assert activations.get(activations.tanh) is activations.tanh
    assert activations.serialize(activations.relu) == "relu"
    assert activations.serialize(activations.silu) == "swish"
    assert activations.deserialize("softmax") is activations.softmax


def test_get_reads_keras3_function_config(keras_ref):
    config = keras_ref.activations.serialize(keras_ref.activations.gelu)
    assert activations.get(config) is activations.gelu
    config = {"module": "keras.activations", "class_name": "function", "config": "selu",
              "registered_name": "selu"}
    assert activations.get(config) is activations.selu


def test_custom_activation():
    def scaled(v):
        return 2 * v

    assert activations.deserialize("scaled", custom_objects={"scaled": scaled}) is scaled
    with custom_object_scope({"scaled": scaled}):
        assert activations.get("scaled") is scaled
    assert activations.serialize(scaled) == "scaled"


def test_unknown_name_raises():
    with pytest.raises(ValueError, match="no_such_fn"):
        activations.get("no_such_fn")


def test_bad_identifier_type_raises():
    with pytest.raises(TypeError, match="42"):
        activations.get(42)


def test_layer_activations_resolve_from_jkeras_layers(monkeypatch):
    # jkeras.layers provides its classes by name in serialization.builtin_tables.
    from jkeras.serialization import builtin_tables

    class LeakyReLU:
        def __init__(self, alpha=0.3):
            self.alpha = alpha

        def __call__(self, v):
            return v

    fake = {"LeakyReLU": LeakyReLU}
    real_table = builtin_tables.table
    monkeypatch.setattr(builtin_tables, "table",
                        lambda family: {**real_table(family), **fake})
    obj = activations.get({"class_name": "LeakyReLU", "config": {"alpha": 0.1}})
    assert isinstance(obj, LeakyReLU) and obj.alpha == 0.1
    assert activations.get("LeakyReLU").alpha == 0.3
    fake["Dense"] = LeakyReLU
    with pytest.raises(ValueError, match="Dense"):  # only activation layers are allowed
        activations.get("Dense")


@pytest.mark.parametrize("mantissa, bound", [(23, 4e-8), (7, 1.8e-5)])
def test_normal_tail_polynomials_meet_their_stated_error(mantissa, bound):
    """The GELU's tail polynomials, evaluated in float64, against the normal's tail:
    the relative errors its docstring states."""
    import math
    p, coeffs = activations._NORMAL_TAIL[mantissa]
    u = np.concatenate([np.linspace(0, 10, 20001), np.geomspace(10, 37, 2000)])
    t = 1 / (1 + p * u)
    tail = np.exp(-0.5 * u * u) / math.sqrt(2 * math.pi) * t * np.polyval(coeffs[::-1], t)
    exact = np.array([0.5 * math.erfc(v / math.sqrt(2)) for v in u])
    keep = exact > 1e-300  # normal float64 numbers
    assert np.max(np.abs(tail[keep] / exact[keep] - 1)) < bound


@pytest.mark.slow
def test_exact_gelus_backward_pass_keeps_its_input_not_a_float32_derivative():
    """A bfloat16 GELU's reverse pass keeps what it needs at the input's width (the
    derivative is recomputed from x), and still has a forward-mode derivative and a
    second derivative: (2 - x^2) phi(x)."""
    import math

    import jax
    import jax.numpy as jnp
    x = jnp.linspace(-3, 3, 64, dtype=jnp.bfloat16)
    _, backward = jax.vjp(activations.gelu, x)
    kept = jax.tree_util.tree_leaves(backward)
    assert kept and all(a.dtype == jnp.bfloat16 and a.size <= x.size for a in kept)
    (grad,) = backward(jnp.ones_like(x))
    _, tangent = jax.jvp(activations.gelu, (x,), (jnp.ones_like(x),))
    np.testing.assert_array_equal(np.asarray(grad), np.asarray(tangent))
    xs = np.array([-1.5, 0.0, 0.7, 2.0], "float32")
    second = jax.vmap(jax.grad(jax.grad(activations.gelu)))(jnp.asarray(xs))
    pdf = np.exp(-0.5 * xs ** 2) / math.sqrt(2 * math.pi)
    np.testing.assert_allclose(np.asarray(second), (2 - xs ** 2) * pdf, rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float32"])
def test_16_bit_exact_gelu_divides_nothing(dtype):
    """For 16-bit inputs the exact GELU's t = 1 / (1 + p u) is a reciprocal square root
    squared: on a GPU one approximate instruction (error under 2 ** -22, far below 16-bit
    rounding) where a float32 division is a dozen, in kernels whose arithmetic sets their
    time. float32 inputs keep the division's last bit."""
    import jax
    import jax.numpy as jnp
    x = jnp.linspace(-3, 3, 8).astype(dtype)
    for fn in (activations.gelu, jax.grad(lambda v: activations.gelu(v).sum())):
        divides = " div " in str(jax.make_jaxpr(fn)(x))
        assert divides == (dtype == "float32")
