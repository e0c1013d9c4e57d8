"""Checks on what a layer is given: constructor arguments and call-time requirements.

Every check raises before the layer does any work, with the error type Keras uses
(ValueError for a bad value, TypeError for a value of the wrong kind where Keras raises
that), and a message naming the layer class, the argument, what was expected and what was
received: `Dense: expected `units` to be a positive integer. Received: units=0`.
"""
import numbers

from jkeras import _config, activations
from jkeras.utils import conv_utils

__all__ = ["positive_int", "non_negative_int", "rate", "clipped_rate", "choice", "int_tuple",
           "pairs", "padding", "data_format", "activation", "axis", "number", "shape_tuple",
           "require_key", "owner_of"]


def owner_of(layer_or_class):
    """The class name that messages start with."""
    cls = layer_or_class if isinstance(layer_or_class, type) else type(layer_or_class)
    return cls.__name__


def _is_integral(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Integral):
        return True
    return isinstance(value, numbers.Real) and float(value).is_integer()


def positive_int(value, name, owner):
    """An integer > 0 (an integral float such as 3.0 is accepted, as Keras 2's int() did)."""
    if not _is_integral(value) or value <= 0:
        raise ValueError(
            f"{owner}: expected `{name}` to be a positive integer. Received: {name}={value!r}")
    return int(value)


def non_negative_int(value, name, owner):
    if not _is_integral(value) or value < 0:
        raise ValueError(
            f"{owner}: expected `{name}` to be an integer >= 0. Received: {name}={value!r}")
    return int(value)


def number(value, name, owner, minimum=None, strict=False):
    """A real number (not a bool), optionally `> minimum` (strict) or `>= minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{owner}: expected `{name}` to be a number. Received: "
                         f"{name}={value!r}")
    if minimum is not None and (value <= minimum if strict else value < minimum):
        bound = f"> {minimum}" if strict else f">= {minimum}"
        raise ValueError(f"{owner}: expected `{name}` {bound}. Received: {name}={value!r}")
    return float(value)


def rate(value, name, owner, upper_inclusive=False):
    """A fraction: `0 <= value < 1` (`<= 1` with `upper_inclusive`); anything else, a
    string included, is a ValueError."""
    bound = "<= 1" if upper_inclusive else "< 1"
    number_given = not isinstance(value, bool) and isinstance(value, numbers.Real)
    if not number_given or not (0 <= value <= 1 if upper_inclusive else 0 <= value < 1):
        raise ValueError(
            f"{owner}: expected `{name}` to be a float with 0 <= {name} {bound}. Received: "
            f"{name}={value!r}")
    return float(value)


def clipped_rate(value, name, owner):
    """A recurrent dropout rate: any number, clipped into [0, 1] as Keras 2's RNN cells do."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{owner}: expected `{name}` to be a float between 0 and 1. "
                         f"Received: {name}={value!r}")
    return min(1.0, max(0.0, float(value)))


def choice(value, choices, name, owner):
    if value not in choices:
        raise ValueError(
            f"{owner}: expected `{name}` to be one of {tuple(choices)}. Received: "
            f"{name}={value!r}")
    return value


def _named(owner, fn, *args, **kwargs):
    """Runs a conv_utils/_config normalizer, putting the layer's name in its error."""
    try:
        return fn(*args, **kwargs)
    except ValueError as error:
        raise ValueError(f"{owner}: {error}") from None


def int_tuple(value, n, name, owner, allow_zero=False):
    """An int or `n` ints, as a tuple of `n` ints (> 0, or >= 0 with `allow_zero`)."""
    return _named(owner, conv_utils.normalize_tuple, value, n, name, allow_zero=allow_zero)


def pairs(value, rank, name, owner):
    """ZeroPadding/Cropping amounts: an int, `rank` ints or `rank` pairs, as `rank` pairs."""
    return _named(owner, conv_utils.normalize_pair_padding, value, rank, name)


def padding(value, owner, allow_causal=False):
    return _named(owner, conv_utils.normalize_padding, value, allow_causal=allow_causal)


def data_format(value, owner):
    return _named(owner, _config.normalize_data_format, value)


def activation(value, owner, name="activation"):
    """The activation function for a name, config or callable."""
    try:
        return activations.get(value)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{owner}: invalid `{name}`. {error}") from None


def axis(value, name, owner):
    """An int or a list/tuple of ints (TypeError otherwise, as Keras)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in value):
        return [int(a) for a in value]
    raise TypeError(
        f"{owner}: expected an int or a non-empty list/tuple of ints for `{name}`. "
        f"Received: {name}={value!r}")


def shape_tuple(value, name, owner, allow_none=False, allow_unknown=None):
    """A list/tuple of positive ints as a tuple; entries may also be None (`allow_none`)
    or the `allow_unknown` marker (Reshape's -1)."""
    def ok(d):
        if d is None:
            return allow_none
        if allow_unknown is not None and d == allow_unknown and _is_integral(d):
            return True
        return _is_integral(d) and d > 0
    if not isinstance(value, (list, tuple)) or not all(ok(d) for d in value):
        extra = " or None" if allow_none else (f" or {allow_unknown}"
                                                if allow_unknown is not None else "")
        raise ValueError(
            f"{owner}: expected `{name}` to be a list or tuple of positive integers{extra}. "
            f"Received: {name}={value!r}")
    return tuple(None if d is None else int(d) for d in value)


def require_key(layer, key, why="in training mode"):
    """`key`, or a ValueError naming `layer` when a random op runs without a PRNG key."""
    if key is None:
        raise ValueError(
            f'{type(layer).__name__} layer "{layer.name}" needs a PRNG key {why}. '
            "Received: key=None")
    return key
