"""What callbacks that watch a logged quantity share: the direction of improvement
(`monitor_mode`), reading the monitored value from the logs, and checks of the arguments
that say how often they act."""
import numbers
import warnings

import numpy as np

from jkeras.callbacks.logs import lookup

__all__ = ["monitor_mode", "MonitorMixin", "check_positive_int", "check_save_freq"]


_MAX_MODE_HINTS = ("acc", "auc", "precision", "recall")


def monitor_mode(monitor, mode="auto", owner="Callback"):
    """'min' or 'max': `mode` itself, or for 'auto' the Keras 2 rule (names with `acc`,
    starting with `fmeasure`; here also `auc`, `precision`, `recall`: max; others: min)."""
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{owner} mode {mode!r} is unknown, fallback to auto mode. Expected "
                      "'auto', 'min' or 'max'.", RuntimeWarning, stacklevel=3)
        mode = "auto"
    if mode != "auto":
        return mode
    base = monitor[len("val_"):] if monitor.startswith("val_") else monitor
    if any(hint in base for hint in _MAX_MODE_HINTS) or base.startswith("fmeasure"):
        return "max"
    return "min"


class MonitorMixin:
    """`get_monitor_value(logs)`: the monitored number (`acc`/`accuracy` spellings are one
    name), warning once per callback when it is missing."""

    _missing_warned = False

    def get_monitor_value(self, logs):
        value = lookup(logs, self.monitor)
        if value is None:
            if not self._missing_warned:
                self._missing_warned = True
                available = ", ".join(sorted(k for k in (logs or {})))
                warnings.warn(
                    f"{type(self).__name__} is conditioned on metric `{self.monitor}` which "
                    f"is not available. Available metrics are: {available}",
                    RuntimeWarning, stacklevel=3)
            return None
        return float(np.asarray(value))


def check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"Expected `{name}` to be a positive integer. Received: "
                         f"{name}={value!r}")
    return int(value)


def check_save_freq(save_freq):
    if save_freq == "epoch":
        return save_freq
    if isinstance(save_freq, bool) or not isinstance(save_freq, numbers.Integral) or \
            save_freq < 1:
        raise ValueError(f"Unrecognized save_freq: {save_freq!r}. Expected 'epoch' or a "
                         "positive integer (a number of batches).")
    return int(save_freq)
