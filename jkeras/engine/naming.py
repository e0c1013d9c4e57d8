"""Automatic unique names: `dense`, `dense_1`, ... and `input_1`, `input_2`, ... as Keras 2 gives."""
import re
from collections import defaultdict

__all__ = ["to_snake_case", "unique_name", "reset_uids"]

_UIDS = defaultdict(int)


def to_snake_case(name):
    """`Conv2D` -> `conv2d`, `BatchNormalization` -> `batch_normalization`, `LSTM` -> `lstm`."""
    step = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    snake = re.sub(r"([a-z])([A-Z])", r"\1_\2", step).lower()
    return snake if not snake.startswith("_") else "private" + snake


def unique_name(base, zero_based=True):
    """The next free name for `base` in this session (cleared by `clear_session`)."""
    count = _UIDS[base]
    _UIDS[base] = count + 1
    if zero_based:
        return base if count == 0 else f"{base}_{count}"
    return f"{base}_{count + 1}"


def reset_uids():
    _UIDS.clear()
