"""Activation functions on jax arrays (Keras 2 definitions) and their name registry."""
import jax
import jax.numpy as jnp

from jkeras import softmax_logits
from jkeras.serialization import builtin_tables
from jkeras.serialization.serialize import deserialize_keras_object, serialize_keras_object

__all__ = ["relu", "leaky_relu", "relu6", "softmax", "log_softmax", "elu", "selu", "celu",
           "softplus", "softsign", "tanh", "sigmoid", "hard_sigmoid", "hard_silu",
           "hard_tanh", "exponential", "linear", "gelu", "swish", "silu", "mish",
           "log_sigmoid", "tanh_shrink", "soft_shrink", "hard_shrink", "squareplus",
           "sparse_plus", "sparse_sigmoid", "glu", "serialize", "deserialize", "get"]


_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805


def relu(x, alpha=0.0, max_value=None, threshold=0.0, negative_slope=None):
    """Rectified linear unit with Keras 2's slope, ceiling and threshold options.

    `max_value` for x >= max_value, x for threshold < x < max_value, and
    `alpha * (x - threshold)` below the threshold. `negative_slope` is Keras 3's
    spelling of `alpha`.
    """
    if negative_slope is not None:
        alpha = negative_slope
    x = jnp.asarray(x)
    if alpha != 0.0:
        below = jax.nn.relu(threshold - x) if threshold != 0 else jax.nn.relu(-x)
    if threshold != 0:
        out = jnp.where(x > threshold, x, jnp.zeros_like(x))
    else:
        out = jax.nn.relu(x)
    if max_value is not None:
        out = jnp.clip(out, 0, max_value)
    if alpha != 0.0:
        out = out - alpha * below
    return out


def leaky_relu(x, alpha=0.2, negative_slope=None):
    """`x` for x >= 0, `alpha * x` otherwise (`negative_slope`: Keras 3 spelling)."""
    if negative_slope is not None:
        alpha = negative_slope
    return jax.nn.leaky_relu(jnp.asarray(x), negative_slope=alpha)


def relu6(x):
    """`min(max(x, 0), 6)`."""
    return jax.nn.relu6(jnp.asarray(x))


def softmax(x, axis=-1):
    """`exp(x) / sum(exp(x))` along `axis` (an int or a tuple of ints); 16-bit inputs are
    computed in float32 and the result is returned in their dtype."""
    axis = tuple(axis) if isinstance(axis, list) else axis
    x = jnp.asarray(x)
    wide = jnp.promote_types(x.dtype, jnp.float32)
    out = jax.nn.softmax(x.astype(wide), axis=axis).astype(x.dtype)
    # Inside a train or test step, a cross-entropy of this output uses `x` (see
    # softmax_logits). Keras 2.3 made TensorFlow's softmax op, the one its losses looked
    # for, only of 2-D inputs (it divided higher ranks by hand); `K.softmax` always.
    return softmax_logits.record(out, x, axis) if x.ndim == 2 else out


def log_softmax(x, axis=-1):
    """`x - logsumexp(x)` along `axis`."""
    axis = tuple(axis) if isinstance(axis, list) else axis
    return jax.nn.log_softmax(jnp.asarray(x), axis=axis)


def elu(x, alpha=1.0):
    """`x` for x > 0, `alpha * (exp(x) - 1)` otherwise."""
    return jax.nn.elu(jnp.asarray(x), alpha=alpha)


def selu(x):
    """Scaled ELU with the self-normalizing constants."""
    x = jnp.asarray(x)
    return _SELU_SCALE * jax.nn.elu(x, alpha=_SELU_ALPHA)


def celu(x, alpha=1.0):
    """`max(x, 0) + min(0, alpha * (exp(x / alpha) - 1))`."""
    return jax.nn.celu(jnp.asarray(x), alpha=alpha)


def softplus(x):
    """`log(exp(x) + 1)`, computed stably."""
    return jax.nn.softplus(jnp.asarray(x))


def softsign(x):
    """`x / (abs(x) + 1)`."""
    x = jnp.asarray(x)
    return x / (jnp.abs(x) + 1)


def tanh(x):
    return jnp.tanh(jnp.asarray(x))


def sigmoid(x):
    """`1 / (1 + exp(-x))`."""
    return jax.nn.sigmoid(jnp.asarray(x))


def hard_sigmoid(x):
    """Keras 2's piecewise-linear sigmoid: `clip(0.2 * x + 0.5, 0, 1)`."""
    x = jnp.asarray(x)
    return jnp.clip(0.2 * x + 0.5, 0.0, 1.0)


def hard_silu(x):
    """`x * relu6(x + 3) / 6` (Keras 3's hard sigmoid times x)."""
    return jax.nn.hard_silu(jnp.asarray(x))


def hard_tanh(x):
    """`clip(x, -1, 1)`."""
    return jax.nn.hard_tanh(jnp.asarray(x))


def exponential(x):
    return jnp.exp(jnp.asarray(x))


def linear(x):
    """The identity: returns `x` unchanged."""
    return x


def gelu(x, approximate=False):
    """Gaussian error linear unit; `approximate=True` uses the tanh formula.

    The exact form, `x * Phi(x)`, is computed in float32 for 16- and 32-bit inputs from
    one exp, one division and a polynomial: the normal's tail is `phi(u) * t * Q(t)` with
    `t = 1 / (1 + p u)` (`tools/fit_normal_tail.py` fits Q), relative error under 4e-8;
    bfloat16 inputs take a degree-5 Q (under 1.8e-5, a two-hundredth of their rounding
    step), and 16-bit inputs take `t` as `rsqrt(1 + p u) ** 2`, no division. The
    derivative `Phi(x) + x * phi(x)` is given exactly, recomputed in the backward pass
    from `x`. XLA fuses all of it into the neighbouring kernels, where its own erf stays a
    kernel of its own. On the H200, one bfloat16 GPT layer's GELU (32768 x
    2048, bias added) took 0.122 ms forward and 0.144 ms back, against 0.139 and 0.179 ms
    for an erfc form with two exps, and 0.208 and 0.276 ms for `lax.erf`; recomputing the
    derivative rather than keeping `Phi(x)` saved the small GPT of `gpu_suite.py` another
    0.10-0.13 ms a step. 64-bit inputs keep `lax.erf`."""
    x = jnp.asarray(x)
    if approximate or not jnp.issubdtype(x.dtype, jnp.floating) or \
            jnp.finfo(x.dtype).bits > 32:
        return jax.nn.gelu(x, approximate=approximate)
    return _gelu_exact(x)


# Phi(-u) = phi(u) * t * Q(t), t = 1 / (1 + p u): (p, Q's coefficients, lowest first),
# by the significand bits of the inputs they serve.
_NORMAL_TAIL = {
    23: (0.25, (0.249999992, 0.25000216, 0.234285409, 0.204548666, 0.147828734,
                0.159670159, -0.0795043793, 0.239626734, -0.20272957, 0.0495861919)),
    7: (0.325, (0.325005755, 0.324372995, 0.301396483, 0.156629637, 0.304252379,
                -0.158351046)),
}
_INV_SQRT_2PI = 0.3989422804014327


def _normal_cdf_pdf(x32, dtype):
    """(Phi(x), phi(x)) in float32, to the accuracy that inputs of `dtype` need."""
    p, coeffs = _NORMAL_TAIL[7 if jnp.finfo(dtype).nmant <= 7 else 23]
    u = jnp.abs(x32)
    if jnp.finfo(dtype).bits <= 16:
        # A reciprocal square root squared: on GPUs one approximate instruction (relative
        # error under 2 ** -22, far below 16-bit rounding) where a division is a dozen.
        r = jax.lax.rsqrt(1.0 + p * u)
        t = r * r
    else:
        t = 1.0 / (1.0 + p * u)
    q = coeffs[-1]
    for c in coeffs[-2::-1]:
        q = c + t * q
    pdf = jnp.exp(-0.5 * u * u) * _INV_SQRT_2PI
    tail = pdf * (t * q)
    return jnp.where(x32 < 0, tail, 1.0 - tail), pdf


@jax.custom_jvp
def _gelu_exact(x):
    x32 = x.astype(jnp.float32)
    cdf, _ = _normal_cdf_pdf(x32, x.dtype)
    return (x32 * cdf).astype(x.dtype)


def _gelu_exact_tangent(x, dx):
    x32 = x.astype(jnp.float32)
    cdf, pdf = _normal_cdf_pdf(x32, x.dtype)
    return ((cdf + x32 * pdf) * dx.astype(jnp.float32)).astype(dx.dtype)


@_gelu_exact.defjvp
def _gelu_exact_jvp(primals, tangents):
    # The derivative is recomputed from `x` where it is used (`checkpoint`), so the
    # backward pass keeps `x` (bfloat16 under a mixed policy) where it kept the float32
    # `Phi(x)`, which XLA wrote out of the forward kernel and read back: 4 bytes an element
    # against 2, in kernels whose time is their memory traffic.
    (x,), (dx,) = primals, tangents
    return _gelu_exact(x), jax.checkpoint(_gelu_exact_tangent)(x, dx)


def swish(x):
    """`x * sigmoid(x)`."""
    return jax.nn.silu(jnp.asarray(x))


silu = swish


def mish(x):
    """`x * tanh(softplus(x))`."""
    x = jnp.asarray(x)
    return x * jnp.tanh(jax.nn.softplus(x))


def log_sigmoid(x):
    """`log(sigmoid(x))`, computed stably."""
    return jax.nn.log_sigmoid(jnp.asarray(x))


def tanh_shrink(x):
    """`x - tanh(x)`."""
    x = jnp.asarray(x)
    return x - jnp.tanh(x)


def soft_shrink(x, threshold=0.5):
    """Moves `x` towards zero by `threshold`, zero inside `[-threshold, threshold]`."""
    x = jnp.asarray(x)
    return jnp.where(x > threshold, x - threshold,
                     jnp.where(x < -threshold, x + threshold, jnp.zeros_like(x)))


def hard_shrink(x, threshold=0.5):
    """`x` where `abs(x) > threshold`, else zero."""
    x = jnp.asarray(x)
    return jnp.where(jnp.abs(x) > threshold, x, jnp.zeros_like(x))


def squareplus(x, b=4):
    """`(x + sqrt(x**2 + b)) / 2`."""
    return jax.nn.squareplus(jnp.asarray(x), b=b)


def sparse_plus(x):
    """0 below -1, `(x + 1)**2 / 4` on [-1, 1], `x` above 1."""
    return jax.nn.sparse_plus(jnp.asarray(x))


def sparse_sigmoid(x):
    """0 below -1, `(x + 1) / 2` on [-1, 1], 1 above 1."""
    return jax.nn.sparse_sigmoid(jnp.asarray(x))


def glu(x, axis=-1):
    """Gated linear unit: splits `axis` in two halves `a, b` and returns `a * sigmoid(b)`."""
    return jax.nn.glu(jnp.asarray(x), axis=axis)


_BUILTINS = {fn.__name__: fn for fn in (
    relu, leaky_relu, relu6, softmax, log_softmax, elu, selu, celu, softplus, softsign,
    tanh, sigmoid, hard_sigmoid, hard_silu, hard_tanh, exponential, linear, gelu, swish,
    mish, log_sigmoid, tanh_shrink, soft_shrink, hard_shrink, squareplus, sparse_plus,
    sparse_sigmoid, glu)}
_BUILTINS.update({"silu": swish, "hard_swish": hard_silu})

# Keras 2 let configs name these layer classes as activations; they resolve lazily
# from the table jkeras.layers provides (when it has) so this module imports no layers.
_LAYER_ACTIVATIONS = ("LeakyReLU", "PReLU", "ELU", "ThresholdedReLU", "Softmax", "ReLU")


def _module_objects(identifier):
    """The built-ins, plus the layer class when `identifier` names an allowed one."""
    name = identifier.get("class_name") if isinstance(identifier, dict) else identifier
    if name not in _LAYER_ACTIVATIONS:
        return _BUILTINS
    try:
        layer_table = builtin_tables.table("layers")
    except RuntimeError:
        return _BUILTINS
    cls = layer_table.get(name)
    return _BUILTINS if cls is None else {**_BUILTINS, name: cls}


def serialize(activation):
    """The name a config stores for `activation` (a dict for objects with get_config)."""
    return serialize_keras_object(activation)


def deserialize(name, custom_objects=None):
    """The activation a config names: a built-in name, a custom object, or a layer config."""
    obj = deserialize_keras_object(name, module_objects=_module_objects(name),
                                   custom_objects=custom_objects,
                                   printable_module_name="activation function")
    if isinstance(obj, type):  # a layer class named by a string: Keras 2 instantiates it
        obj = obj()
    return obj


def get(identifier):
    """Resolves `identifier` (None, a name, a config dict or a callable) to a callable."""
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(
        "Could not interpret activation function identifier: expected None, a string, a "
        f"config dict or a callable. Received: {identifier!r}")
