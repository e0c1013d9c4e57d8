"""`keras.utils.generic_utils`: Progbar (Keras's text progress bar), the custom-object
registry and (de)serialization entry points, Python function (de)serialization for Lambda
layers, and the small list and shape helpers Keras 2 kept here."""
import base64
import inspect
import marshal
import sys
import time
import types

import numpy as np

from jkeras.serialization.object_registry import (CustomObjectScope, custom_object_scope,
                                                  get_custom_objects)
from jkeras.serialization.serialize import deserialize_keras_object, serialize_keras_object

__all__ = [
    "Progbar", "CustomObjectScope", "custom_object_scope", "get_custom_objects",
    "serialize_keras_object", "deserialize_keras_object", "func_dump", "func_load",
    "getargspec", "has_arg", "to_list", "unpack_singleton", "object_list_uid",
    "is_all_none", "slice_arrays", "transpose_shape", "check_for_unexpected_keys",
]


class Progbar:
    """`32/1000 [>.....] - ETA: 3s - loss: 0.6931`, redrawn at most every `interval` s.

    `target` is the number of samples or steps (None if unknown); `verbose=1` draws a bar
    that updates in place, `verbose=2` prints one line when the target is reached.
    """

    def __init__(self, target, width=30, verbose=1, interval=0.05, stateful_metrics=None,
                 unit_name="step"):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics or ())
        self._dynamic_display = (hasattr(sys.stdout, "isatty") and sys.stdout.isatty()) or \
            "ipykernel" in sys.modules
        self._values = {}
        self._order = []
        self._seen = 0
        self._start = time.time()
        self._last_update = 0.0
        self._total_width = 0

    def due(self, current):
        """Whether an update at `current` would be drawn (so values are worth fetching)."""
        if self.verbose != 1:
            return self.target is not None and current >= self.target
        return (time.time() - self._last_update >= self.interval or
                (self.target is not None and current >= self.target))

    def update(self, current, values=None, finalize=None):
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or []:
            if name not in self._order:
                self._order.append(name)
            if name in self.stateful_metrics:
                self._values[name] = value
            else:
                count = max(current - self._seen, 1)
                total, weight = self._values.get(name, (0.0, 0))
                self._values[name] = (total + value * count, weight + count)
        self._seen = current
        now = time.time()
        if self.verbose == 1:
            if not finalize and now - self._last_update < self.interval:
                return
            self._draw(current, now, finalize)
        elif self.verbose == 2 and finalize:
            # Keras 2.3's one line: the seconds and the values, no time per unit, and
            # exponent form for any mean not above 1e-3 (negative ones included)
            line = f" - {now - self._start:.0f}s" + self._metrics_text(signed=True)
            print(line, flush=True)
        self._last_update = now

    def add(self, n, values=None):
        self.update(self._seen + n, values)

    def _metrics_text(self, signed=False):
        parts = []
        for name in self._order:
            value = self._values[name]
            if isinstance(value, tuple):
                value = value[0] / max(value[1], 1)
            parts.append(f" - {name}: {_format_value(value, signed)}")
        return "".join(parts)

    def _per_unit(self, current, elapsed):
        if not current:
            return ""
        per = elapsed / current
        if per >= 1:
            return f" {per:.0f}s/{self.unit_name}"
        if per >= 1e-3:
            return f" {per * 1e3:.0f}ms/{self.unit_name}"
        return f" {per * 1e6:.0f}us/{self.unit_name}"

    def _draw(self, current, now, finalize):
        previous_width = self._total_width
        if self._dynamic_display:
            sys.stdout.write("\b" * previous_width + "\r")
        else:
            sys.stdout.write("\n")
        if self.target is not None:
            digits = len(str(self.target))
            bar = f"{current:{digits}d}/{self.target} ["
            progress = min(current / max(self.target, 1), 1.0)
            filled = int(self.width * progress)
            if filled > 0:
                bar += "=" * (filled - 1) + (">" if current < self.target else "=")
            bar += "." * (self.width - filled) + "]"
        else:
            bar = f"{current:7d}/Unknown"
        elapsed = now - self._start
        if finalize:
            info = f" - {elapsed:.0f}s{self._per_unit(current, elapsed)}"
        elif self.target is not None and current:
            eta = elapsed / current * (self.target - current)
            if eta > 3600:
                info = f" - ETA: {int(eta // 3600)}:{int(eta % 3600 // 60):02d}:{int(eta % 60):02d}"
            elif eta > 60:
                info = f" - ETA: {int(eta // 60)}:{int(eta % 60):02d}"
            else:
                info = f" - ETA: {int(eta)}s"
        else:
            info = ""
        line = bar + info + self._metrics_text()
        self._total_width = len(line)
        if previous_width > len(line) and self._dynamic_display:
            line += " " * (previous_width - len(line))
        if finalize:
            line += "\n"
        sys.stdout.write(line)
        sys.stdout.flush()


def _format_value(value, signed=False):
    value = float(np.mean(value))
    big = value > 1e-3 if signed else abs(value) > 1e-3
    return f"{value:.4f}" if big else f"{value:.4e}"


# ---------------------------------------------------------------------------- functions
def func_dump(func):
    """`(code, defaults, closure)` of a Python function: its bytecode base64-encoded (the
    layout Keras 2 stores Lambda layers' lambdas in), its defaults and closure values."""
    code = base64.b64encode(marshal.dumps(func.__code__)).decode("ascii")
    closure = tuple(c.cell_contents for c in func.__closure__) if func.__closure__ else None
    return code, func.__defaults__, closure


def func_load(code, defaults=None, closure=None, globs=None):
    """The function `func_dump` described (also given as one `(code, defaults, closure)`).

    This runs the bytecode it is given: call it only on data you trust. `globs` are the
    function's globals (default: this module's).
    """
    if isinstance(code, (tuple, list)):
        code, defaults, closure = code
    code = marshal.loads(base64.b64decode(code.encode("ascii")))
    cells = tuple(types.CellType(value) for value in closure) if closure else None
    return types.FunctionType(code, globals() if globs is None else globs, code.co_name,
                              tuple(defaults) if defaults else None, cells)


def getargspec(fn):
    """`inspect.getfullargspec(fn)` as Keras 2's `ArgSpec`-like tuple
    `(args, varargs, keywords, defaults)`."""
    spec = inspect.getfullargspec(fn)
    return _ArgSpec(spec.args, spec.varargs, spec.varkw, spec.defaults)


class _ArgSpec(tuple):
    def __new__(cls, args, varargs, keywords, defaults):
        return super().__new__(cls, (args, varargs, keywords, defaults))

    args = property(lambda self: self[0])
    varargs = property(lambda self: self[1])
    keywords = property(lambda self: self[2])
    defaults = property(lambda self: self[3])


def has_arg(fn, name, accept_all=False):
    """Whether `fn` can be called with keyword argument `name` (with `accept_all`, also
    when it takes `**kwargs`)."""
    parameters = inspect.signature(fn).parameters
    parameter = parameters.get(name)
    if parameter is None:
        return accept_all and any(p.kind == p.VAR_KEYWORD for p in parameters.values())
    return parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)


# ---------------------------------------------------------------------------- lists, shapes
def to_list(x, allow_tuple=False):
    """`x` if it is a list, `list(x)` for a tuple when `allow_tuple`, else `[x]`."""
    if isinstance(x, list):
        return x
    if allow_tuple and isinstance(x, tuple):
        return list(x)
    return [x]


def unpack_singleton(x):
    """The only element of a one-element list or tuple, else `x` itself."""
    return x[0] if len(x) == 1 else x


def object_list_uid(object_list):
    """A string naming the objects by identity: their ids joined by ', '."""
    return ", ".join(str(abs(id(x))) for x in to_list(object_list))


def is_all_none(iterable_or_element):
    """Whether every element (or the one element given) is None."""
    return all(x is None for x in to_list(iterable_or_element, allow_tuple=True))


def slice_arrays(arrays, start=None, stop=None):
    """`arrays[start:stop]`, or that slice of each array of a list (None stays None);
    `start` may also be a list or array of indices (then `stop` is ignored)."""
    def one(x):
        if x is None:
            return None
        if hasattr(start, "__len__"):
            return x[start.tolist() if hasattr(start, "shape") else start]
        return x[start:stop]
    if arrays is None:
        return [None]
    if isinstance(arrays, list):
        return [one(x) for x in arrays]
    return one(arrays)


def transpose_shape(shape, target_format, spatial_axes):
    """A channels_last `shape` (tuple or list) reordered for `target_format`: for
    'channels_first', the leading axes before `spatial_axes[0]`, the channels, then the
    spatial axes."""
    if target_format == "channels_last":
        return shape
    if target_format != "channels_first":
        raise ValueError("The `data_format` argument must be one of 'channels_first', "
                         f"'channels_last'. Received: {target_format!r}")
    values = tuple(shape[:spatial_axes[0]]) + (shape[-1],) + \
        tuple(shape[axis] for axis in spatial_axes)
    return list(values) if isinstance(shape, list) else values


def check_for_unexpected_keys(name, input_dict, expected_values):
    """Raises ValueError naming the keys of `input_dict` not in `expected_values`."""
    unknown = sorted(set(input_dict) - set(expected_values), key=str)
    if unknown:
        raise ValueError(f"Unknown entries in {name} dictionary: {unknown}. Only expected "
                         f"following keys: {list(expected_values)}")
