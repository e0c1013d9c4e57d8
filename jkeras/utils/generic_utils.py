"""Progbar (Keras's text progress bar) and small helpers shared across the package."""
import sys
import time

import numpy as np


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
            elapsed = now - self._start
            line = f"{int(elapsed)}s{self._per_unit(current, elapsed)}{self._metrics_text()}"
            print(line, flush=True)
        self._last_update = now

    def add(self, n, values=None):
        self.update(self._seen + n, values)

    def _metrics_text(self):
        parts = []
        for name in self._order:
            value = self._values[name]
            if isinstance(value, tuple):
                value = value[0] / max(value[1], 1)
            parts.append(f" - {name}: {_format_value(value)}")
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
            info = f" - {int(elapsed)}s{self._per_unit(current, elapsed)}"
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


def _format_value(value):
    value = float(np.mean(value))
    return f"{value:.4f}" if abs(value) > 1e-3 or value == 0 else f"{value:.4e}"


def to_list(x):
    if isinstance(x, list):
        return x
    if isinstance(x, tuple):
        return list(x)
    return [x]
