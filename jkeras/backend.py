"""The `K` module: Keras 2 backend functions on jax.numpy, for custom losses and metrics.

This module holds the session, shape, creation, control-flow, random and value functions;
the arithmetic (`jkeras/ops/math.py`), the activations and cross-entropies
(`jkeras/ops/activations.py`) and the rest of Keras 2's numeric functions (`jkeras/ops/`)
are re-exported here. At the end every public function is wrapped to also work on
symbolic tensors.
"""
import contextlib
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from jkeras import _config
from jkeras.engine import call_context
from jkeras.engine import graph_mode as _graph_mode
from jkeras.engine import symbolic_ops as _symbolic_ops
from jkeras.engine.keras_tensor import KerasTensor as _KerasTensor
from jkeras.engine.graph_mode import (  # noqa: F401 - Keras 2's graph-mode functions
    function, gradients, learning_phase, placeholder, set_learning_phase, variable)
from jkeras import deterministic_ops as _deterministic_ops
from jkeras._config import (  # noqa: F401 - re-exported as K.floatx() etc.
    epsilon, floatx, image_data_format, set_epsilon, set_floatx, set_image_data_format)
from jkeras.ops.activations import (
    binary_crossentropy, categorical_crossentropy, elu, hard_sigmoid, l2_normalize, relu,
    sigmoid, softmax, softplus, softsign, sparse_categorical_crossentropy, tanh)
from jkeras.ops.math import (
    _axis, abs, all, any, argmax, argmin, batch_dot, cast, cast_to_floatx, clip, cos, cumprod,
    cumsum, dot, equal, exp, greater, greater_equal, less, less_equal, log, logsumexp, max,
    maximum, mean, min, minimum, not_equal, pow, prod, round, sign, sin, sqrt, square, std,
    stop_gradient, sum, var)

__all__ = ["abs", "all", "any", "arange", "argmax", "argmin", "backend", "batch_dot",
           "batch_flatten", "batch_get_value", "batch_normalization", "batch_set_value",
           "bias_add", "binary_crossentropy", "cast", "cast_to_floatx",
           "categorical_crossentropy", "clear_session", "clip", "concatenate", "constant",
           "control_dependencies", "conv1d", "conv2d", "conv2d_transpose", "conv3d",
           "conv3d_transpose", "cos", "count_params", "ctc_batch_cost", "ctc_decode",
           "ctc_label_dense_to_sparse", "cumprod", "cumsum", "depthwise_conv2d", "dot",
           "dropout", "dtype", "eager", "elu", "epsilon", "equal", "eval", "exp",
           "expand_dims", "eye", "flatten", "floatx", "foldl", "foldr", "function",
           "gather", "get_uid", "get_value", "gradients", "greater", "greater_equal",
           "hard_sigmoid", "identity", "image_data_format", "in_test_phase", "in_top_k",
           "in_train_phase", "int_shape", "is_keras_tensor", "is_placeholder", "is_sparse",
           "is_tensor", "is_variable", "l2_normalize", "learning_phase", "less",
           "less_equal", "local_conv1d", "local_conv2d", "log", "logsumexp",
           "manual_variable_initialization", "map_fn", "max", "maximum", "mean", "min",
           "minimum", "moving_average_update", "name_scope", "ndim",
           "normalize_batch_in_training", "normalize_data_format", "not_equal", "one_hot",
           "ones", "ones_like", "permute_dimensions", "placeholder", "pool2d", "pool3d",
           "pow", "print_tensor", "prod", "random_binomial", "random_normal",
           "random_normal_variable", "random_uniform", "random_uniform_variable", "relu",
           "repeat", "repeat_elements", "reset_uids", "reshape", "resize_images",
           "resize_volumes", "reverse", "rnn", "round", "separable_conv1d",
           "separable_conv2d", "set_epsilon", "set_floatx", "set_image_data_format",
           "set_learning_phase", "set_session", "set_value", "shape", "sigmoid", "sign",
           "sin", "size", "slice", "softmax", "softplus", "softsign",
           "sparse_categorical_crossentropy", "spatial_2d_padding", "spatial_3d_padding",
           "sqrt", "square", "squeeze", "stack", "std", "stop_gradient", "sum", "switch",
           "symbolic", "tanh", "temporal_padding", "tile", "to_dense", "transpose",
           "truncated_normal", "var", "variable", "zeros", "zeros_like"]

# Functions that take symbolic tensors as they are (shapes, graph-mode helpers) or no
# tensors at all: not wrapped into graph nodes.
_NOT_SYMBOLIC = frozenset((
    "backend", "clear_session", "learning_phase", "set_learning_phase", "set_session",
    "name_scope", "is_keras_tensor", "shape", "int_shape", "ndim", "dtype", "count_params",
    "get_value", "batch_get_value", "set_value", "batch_set_value", "placeholder",
    "variable", "function", "gradients", "epsilon", "floatx", "image_data_format",
    "set_epsilon", "set_floatx", "set_image_data_format", "is_placeholder", "is_variable",
    "is_tensor", "is_sparse", "get_uid", "reset_uids", "manual_variable_initialization",
    "eval", "normalize_data_format", "control_dependencies", "symbolic", "eager"))

# ----------------------------------------------------------------------------- session


def backend():
    """The name of the array library underneath: always 'jax'."""
    return "jax"


def clear_session():
    """Forgets the automatic layer-name counters, so names restart at `dense`, `dense_1`."""
    try:
        from jkeras.engine import naming
    except ImportError:
        return
    reset = getattr(naming, "reset_uids", None)
    if reset is not None:
        reset()


def set_session(session):
    """Accepted for Keras 2 scripts written for TensorFlow 1; has no effect (JAX has no
    session). Seed a run with `jkeras.utils.set_random_seed` instead."""
    warnings.warn("set_session has no effect in jkeras: JAX has no session. Use "
                  "jkeras.utils.set_random_seed(seed) for reproducible runs.", stacklevel=2)


@contextlib.contextmanager
def name_scope(name, *args, **kwargs):
    """A no-op context manager, for code written against Keras 2's name scopes."""
    yield


def is_keras_tensor(x):
    """True for the symbolic tensors that `Input` and layers on them return."""
    return isinstance(x, _KerasTensor)


def is_placeholder(x):
    """True for symbolic inputs (`Input`, `K.placeholder`)."""
    return isinstance(x, _KerasTensor) and x.node.is_input


def is_variable(x):
    return isinstance(x, _graph_mode.BackendVariable)


# ----------------------------------------------------------------------------- helpers


def _key(seed):
    """A key for a random op: the seed's, else the traced call's stream (fresh at every
    step), else the global stream (eager code)."""
    if seed is not None:
        return jax.random.PRNGKey(int(seed))
    key = call_context.next_key()
    return _config.next_key() if key is None else key


# ----------------------------------------------------------------------------- shapes


def shape(x):
    """The static shape as a tuple (static under jit, unlike Keras 2's tensor). Of a
    symbolic tensor: a symbolic int32 vector, whose entries are known when it runs."""
    if isinstance(x, _KerasTensor):
        return _shape_vector(x)
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def _shape_vector(x):
    return jnp.asarray(jnp.shape(x), jnp.int32)


_shape_vector = _symbolic_ops.symbolic(_shape_vector, "backend")


def int_shape(x):
    """The shape as a tuple of ints (None for unknown dimensions of symbolic tensors)."""
    try:
        return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)
    except (TypeError, ValueError):
        return None


def ndim(x):
    return len(int_shape(x))


def dtype(x):
    """The dtype's name, e.g. 'float32'."""
    value = getattr(x, "dtype", None)
    if value is None:
        value = jnp.asarray(x).dtype
    return value if isinstance(value, str) else np.dtype(value).name


def count_params(x):
    return int(np.prod(int_shape(x)))


def transpose(x):
    """Reverses the order of all axes."""
    return jnp.transpose(jnp.asarray(x))


def permute_dimensions(x, pattern):
    return jnp.transpose(jnp.asarray(x), tuple(pattern))


def reshape(x, shape):
    return jnp.reshape(jnp.asarray(x), tuple(shape))


def flatten(x):
    return jnp.reshape(jnp.asarray(x), (-1,))


def batch_flatten(x):
    """Keeps the first axis and flattens the rest: shape `(batch, -1)`."""
    x = jnp.asarray(x)
    return jnp.reshape(x, (-1, int(np.prod(x.shape[1:]))))


def expand_dims(x, axis=-1):
    return jnp.expand_dims(jnp.asarray(x), axis)


def squeeze(x, axis):
    return jnp.squeeze(jnp.asarray(x), axis)


def concatenate(tensors, axis=-1):
    return jnp.concatenate([jnp.asarray(t) for t in tensors], axis=axis)


def stack(x, axis=0):
    return jnp.stack([jnp.asarray(t) for t in x], axis=axis)


def repeat_elements(x, rep, axis):
    """Repeats each entry `rep` times along `axis` (like np.repeat)."""
    return jnp.repeat(jnp.asarray(x), rep, axis=axis)


def tile(x, n):
    return jnp.tile(jnp.asarray(x), n)


def reverse(x, axes):
    return jnp.flip(jnp.asarray(x), axis=_axis(axes))


def gather(reference, indices):
    """Rows of `reference` (its first axis) at `indices`."""
    return _deterministic_ops.take_rows(jnp.asarray(reference), jnp.asarray(indices))


def one_hot(indices, num_classes):
    """A new last axis of size `num_classes`, in the default float type."""
    return jax.nn.one_hot(jnp.asarray(indices), num_classes, dtype=floatx())


# ----------------------------------------------------------------------------- creation


def zeros(shape, dtype=None, name=None):
    return jnp.zeros(tuple(shape), dtype=dtype or floatx())


def ones(shape, dtype=None, name=None):
    return jnp.ones(tuple(shape), dtype=dtype or floatx())


def zeros_like(x, dtype=None, name=None):
    return jnp.zeros_like(jnp.asarray(x), dtype=dtype)


def ones_like(x, dtype=None, name=None):
    return jnp.ones_like(jnp.asarray(x), dtype=dtype)


def eye(size, dtype=None, name=None):
    """An identity matrix; `size` is n or (rows, cols)."""
    rows, cols = (size, size) if np.ndim(size) == 0 else tuple(size)
    return jnp.eye(rows, cols, dtype=dtype or floatx())


def constant(value, dtype=None, shape=None, name=None):
    """An array of `value`; a scalar fills `shape`, anything else is reshaped to it."""
    value = jnp.asarray(value, dtype=dtype or floatx())
    if shape is None:
        return value
    shape = tuple(shape)
    return jnp.full(shape, value) if value.size == 1 else value.reshape(shape)


def arange(start, stop=None, step=1, dtype="int32"):
    return jnp.arange(start, stop, step, dtype=dtype)


# ----------------------------------------------------------------------------- control


def switch(condition, then_expression, else_expression):
    """`then_expression` where `condition` holds, else `else_expression` (callables run)."""
    then_value = then_expression() if callable(then_expression) else then_expression
    else_value = else_expression() if callable(else_expression) else else_expression
    condition = jnp.asarray(condition)
    then_value = jnp.asarray(then_value)
    if condition.ndim > then_value.ndim:
        raise ValueError(
            "switch needs a condition of rank <= the rank of then_expression. Received: "
            f"condition.shape={condition.shape}, then_expression.shape={then_value.shape}")
    if 0 < condition.ndim < then_value.ndim:
        condition = condition.reshape(
            condition.shape + (1,) * (then_value.ndim - condition.ndim))
    return jnp.where(condition.astype(bool), then_value, else_value)


def in_train_phase(x, alt, training=None):
    """`x` when training (1/True), `alt` otherwise; None means the phase
    `set_learning_phase` chose (0 unless set)."""
    if training is None:
        training = _graph_mode.learning_phase_value()
    if training is True or (isinstance(training, int) and training == 1):
        return x() if callable(x) else x
    if training is False or (isinstance(training, int) and training == 0):
        return alt() if callable(alt) else alt
    return switch(training, x, alt)


def in_test_phase(x, alt, training=None):
    """`x` when not training, `alt` when training."""
    return in_train_phase(alt, x, training=training)


def map_fn(fn, elems, name=None, dtype=None):
    """`fn` applied to each slice of `elems` along its first axis."""
    return jax.lax.map(fn, elems)


def print_tensor(x, message="", summarize=3):
    """Prints `message` and `x` when the computation runs; returns `x`."""
    jax.debug.print(message + "{x}", x=x)
    return x

# ----------------------------------------------------------------------------- random


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    dtype = dtype or floatx()
    return mean + stddev * jax.random.normal(_key(seed), tuple(shape), dtype)


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    dtype = dtype or floatx()
    return jax.random.uniform(_key(seed), tuple(shape), dtype, minval=minval, maxval=maxval)


def random_binomial(shape, p=0.0, dtype=None, seed=None):
    """1 with probability `p`, else 0."""
    dtype = dtype or floatx()
    return (jax.random.uniform(_key(seed), tuple(shape)) <= p).astype(dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal draws redrawn beyond two standard deviations."""
    dtype = dtype or floatx()
    return mean + stddev * jax.random.truncated_normal(_key(seed), -2.0, 2.0, tuple(shape),
                                                       dtype)


# ----------------------------------------------------------------------------- values


def get_value(x):
    """A NumPy copy of `x` (through its `numpy()` method where it has one)."""
    if hasattr(x, "numpy"):
        return x.numpy()
    return np.asarray(x)


def batch_get_value(tensors):
    return [get_value(x) for x in tensors]


def set_value(x, value):
    """Writes `value` into a variable-like `x` through its `assign` method."""
    assign = getattr(x, "assign", None)
    if assign is None:
        raise TypeError(
            "set_value needs a variable with an assign() method (jax arrays are "
            f"immutable). Received: x of type {type(x).__name__}")
    assign(value)


def batch_set_value(tuples):
    for x, value in tuples:
        set_value(x, value)


def dropout(x, level, noise_shape=None, seed=None):
    """Keras 2's `K.dropout`: zeroes entries with probability `level`, scales the rest by
    `1 / (1 - level)`. Inside a traced step the key is fresh at every step."""
    x = jnp.asarray(x)
    if not 0.0 <= float(level) < 1.0:
        raise ValueError(f"`level` must be in [0, 1). Received: level={level}")
    shape = x.shape if noise_shape is None else tuple(
        x.shape[i] if d is None else d for i, d in enumerate(noise_shape))
    keep = jax.random.bernoulli(_key(seed), 1.0 - float(level), shape)
    return jnp.where(keep, x / (1.0 - float(level)), jnp.zeros((), x.dtype))


# ----------------------------------------------------------------------------- jkeras/ops
# Keras 2's remaining numeric backend functions live in jkeras/ops/ (docs/BACKEND.md).
from jkeras.ops.conv import (  # noqa: E402,F401
    bias_add, conv1d, conv2d, conv2d_transpose, conv3d, conv3d_transpose, depthwise_conv2d,
    local_conv1d, local_conv2d, pool2d, pool3d, separable_conv1d, separable_conv2d)
from jkeras.ops.ctc import (  # noqa: E402,F401
    ctc_batch_cost, ctc_decode, ctc_label_dense_to_sparse)
from jkeras.ops.loops import foldl, foldr, rnn  # noqa: E402,F401
from jkeras.ops.nn import (  # noqa: E402,F401
    batch_normalization, in_top_k, moving_average_update, normalize_batch_in_training)
from jkeras.ops.spatial import (  # noqa: E402,F401
    resize_images, resize_volumes, spatial_2d_padding, spatial_3d_padding, temporal_padding)
from jkeras.ops.tensors import (  # noqa: E402,F401
    control_dependencies, eager, get_uid, identity, is_sparse, is_tensor,
    manual_variable_initialization, normalize_data_format, repeat, reset_uids, size, slice,
    symbolic, to_dense)


def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    """A variable of uniform draws in `[low, high)`."""
    return variable(random_uniform(shape, low, high, dtype, seed), dtype, name)


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    """A variable of normal draws."""
    return variable(random_normal(shape, mean, scale, dtype, seed), dtype, name)


def eval(x):
    """The value of `x` as a NumPy array (Keras 2's `K.eval`)."""
    return get_value(x)


# ----------------------------------------------------------------------------- symbolic
# Every public function above (and any re-exported above this point) also records a graph
# node when called on symbolic tensors. Keep this the last statement of the module.
_symbolic_ops.wrap_namespace(globals(), "backend", skip=_NOT_SYMBOLIC)
