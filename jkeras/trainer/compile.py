"""What `compile()` resolves: a loss per output, loss weights, and named metrics, all as
pure functions the jitted step calls, plus the Keras 2 names they report under."""
import copy
import warnings

import jax.numpy as jnp
import numpy as np

from jkeras import losses as losses_module
from jkeras import metrics as metrics_module

__all__ = ["CompiledTargets", "class_weight_vector", "class_weights_for"]

_ACCURACY_NAMES = ("accuracy", "acc")
_CROSSENTROPY_NAMES = ("crossentropy", "ce")


def _per_output(value, output_names, what):
    """A compile argument given once, as a list, or as a dict keyed by output names."""
    count = len(output_names)
    if isinstance(value, dict):
        unknown = [k for k in value if k not in output_names]
        if unknown:
            raise ValueError(
                f"Unknown entries in {what} dictionary: {unknown}. Only expected the "
                f"following keys: {output_names}")
        return [value.get(name) for name in output_names]
    if isinstance(value, (list, tuple)) and what != "metrics":
        if len(value) != count:
            raise ValueError(
                f"When passing a list as {what}, it should have one entry per model output. "
                f"The model has {count} output(s), but you passed {what}={value!r}")
        return list(value)
    return [value] * count


def _loss_weight(weight, loss_weights):
    """One output's loss weight as a float (None: 1)."""
    if weight is None:
        return 1.0
    if isinstance(weight, (bool, np.bool_)) or not isinstance(
            weight, (int, float, np.integer, np.floating)):
        raise ValueError(
            "`loss_weights` must be a number, or a list or dict of numbers per output. "
            f"Received: loss_weights={loss_weights!r}, with the entry {weight!r}")
    return float(weight)


def _check_sample_weight_modes(modes, sample_weight_mode):
    for mode in modes:
        if mode not in (None, "temporal", "samplewise"):
            raise ValueError(
                "`sample_weight_mode` must be None or 'temporal' (or a list or dict of "
                f"those per output). Received: sample_weight_mode={sample_weight_mode!r}")


class CompiledTargets:
    """Losses and metrics of a compiled model, per output, as pure functions."""

    def __init__(self, output_names, output_shapes, loss, loss_weights=None, metrics=None,
                 weighted_metrics=None, sample_weight_mode=None, added_metrics=()):
        self.output_names = list(output_names)
        n = len(self.output_names)
        self.raw_losses = _per_output(loss, self.output_names, "loss")
        # Loss objects, so each applies its own reduction and options (ignore_class, ...).
        self.loss_fns = [losses_module.as_loss(l) if l is not None else None
                         for l in self.raw_losses]
        if all(fn is None for fn in self.loss_fns) and loss is not None:
            raise ValueError("No loss to compute: every output's loss is None.")
        if loss_weights is None:
            self.loss_weights = [1.0] * n
        else:
            self.loss_weights = [_loss_weight(w, loss_weights) for w in
                                 _per_output(loss_weights, self.output_names, "loss_weights")]
        modes = _per_output(sample_weight_mode, self.output_names, "sample_weight_mode")
        _check_sample_weight_modes(modes, sample_weight_mode)
        self.temporal = [m == "temporal" for m in modes]
        self.multi = n > 1
        self.metrics = []  # (display name, metric object, output index, weighted)
        for weighted, spec in ((False, metrics), (True, weighted_metrics)):
            for index, entries in enumerate(self._metric_entries(spec)):
                for entry in entries:
                    name, metric = self._resolve_metric(entry, index, output_shapes[index])
                    metric.build(None, output_shapes[index])
                    if weighted and metrics is not None and \
                            any(n == name for n, _, _, _ in self.metrics):
                        name = "weighted_" + name
                    self.metrics.append((name, metric, index, weighted))
        self.loss_metric = metrics_module.Mean(name="loss")
        self.output_loss_metrics = [metrics_module.Mean(name=f"{o}_loss")
                                    for o in self.output_names] if self.multi else []
        # Metrics the model's layers add (`add_metric(tensor, name)`), averaged per sample.
        self.added_metrics = [metrics_module.Mean(name=name) for name in added_metrics]

    def _metric_entries(self, spec):
        n = len(self.output_names)
        if spec is None:
            return [[] for _ in range(n)]
        if isinstance(spec, dict):
            unknown = [k for k in spec if k not in self.output_names]
            if unknown:
                raise ValueError(
                    f"Unknown entries in metrics dictionary: {unknown}. Only expected the "
                    f"following keys: {self.output_names}")
            return [list(spec[o]) if isinstance(spec.get(o), (list, tuple)) else
                    ([spec[o]] if spec.get(o) is not None else []) for o in self.output_names]
        if isinstance(spec, (list, tuple)) and spec and \
                all(isinstance(s, (list, tuple)) for s in spec):
            if len(spec) != n:
                raise ValueError(
                    f"When passing a list of lists as metrics, it should have one entry per "
                    f"model output. The model has {n} output(s); received {len(spec)}.")
            return [list(s) for s in spec]
        if not isinstance(spec, (list, tuple)):
            raise TypeError(
                "`metrics` and `weighted_metrics` must be a list (or a dict keyed by output "
                f"name). Received: {spec!r} of type {type(spec).__name__}")
        return [list(spec) for _ in range(n)]

    def _resolve_metric(self, entry, index, output_shape):
        prefix = f"{self.output_names[index]}_" if self.multi else ""
        if isinstance(entry, str) and entry in _ACCURACY_NAMES + _CROSSENTROPY_NAMES:
            chooser = metrics_module.accuracy_for if entry in _ACCURACY_NAMES else \
                metrics_module.crossentropy_for
            fn = chooser(self.raw_losses[index], output_shape)
            return prefix + entry, metrics_module.MeanMetricWrapper(fn, name=entry)
        metric = metrics_module.get(entry)
        if isinstance(entry, str):
            name = entry
        else:
            name = getattr(metric, "name", None) or getattr(entry, "__name__", "metric")
        if not isinstance(metric, metrics_module.Metric):
            metric = metrics_module.MeanMetricWrapper(metric, name=name)
        elif any(m is metric for _, m, _, _ in getattr(self, "metrics", [])):
            # One metric object on several outputs: a shallow copy each (the running
            # state lives outside the object, so copies share nothing that matters).
            metric = copy.copy(metric)
        return prefix + name, metric

    # ------------------------------------------------------------------ names
    @property
    def metric_names(self):
        names = ["loss"]
        if self.multi:
            names += [m.name for m in self.output_loss_metrics]
        names += [name for name, _, _, _ in self.metrics]
        return names + [m.name for m in self.added_metrics]

    # ------------------------------------------------------------------ pure parts
    def init_metric_state(self):
        states = [self.loss_metric.init_state()]
        states += [m.init_state() for m in self.output_loss_metrics]
        states += [metric.init_state() for _, metric, _, _ in self.metrics]
        states += [m.init_state() for m in self.added_metrics]
        # Last: the latest batch's total loss. Keras 2 reports it as a batch's "loss"
        # (train_on_batch, on_batch_end); the other values are running ones.
        return states + [jnp.zeros((), jnp.float32)]

    def compute_loss(self, outputs, ys, sws):
        """Weighted sum over outputs of each Loss object's reduced value; Keras's default
        reduction is sum(loss * weight) / size, so zero-weight samples still count."""
        total = 0.0
        per_output = []
        for index, loss in enumerate(self.loss_fns):
            if loss is None:
                per_output.append(jnp.zeros(()))
                continue
            weight = sws[index] if sws is not None else None
            value = jnp.asarray(loss(ys[index], outputs[index], sample_weight=weight),
                                jnp.float32)
            per_output.append(value)
            total = total + self.loss_weights[index] * value
        return total, per_output

    def update_metrics(self, states, total_loss, per_output, outputs, ys, sws, batch_size,
                       added=None):
        """`states` after one batch of `batch_size` samples."""
        states = self.update_output_metrics(states, outputs, ys, sws, added)
        values = self.loss_values(total_loss, per_output, added)
        return self.add_loss_values(states, values[None], batch_size)

    def loss_values(self, total_loss, per_output, added=None):
        """The batch's values that the running loss means take, as one vector: the total
        loss, each output's loss (several outputs), the mean of each added metric."""
        values = [total_loss] + (list(per_output) if self.multi else [])
        values += [jnp.mean(jnp.asarray((added or {})[m.name], jnp.float32))
                   for m in self.added_metrics]
        return jnp.stack([jnp.asarray(v, jnp.float32) for v in values])

    def update_output_metrics(self, states, outputs, ys, sws, added=None):
        """`states` with the compiled metrics (those of outputs and targets) updated."""
        new = list(states)
        offset = 1 + len(self.output_loss_metrics)
        for i, (_, metric, index, weighted) in enumerate(self.metrics):
            weight = sws[index] if (weighted and sws is not None) else None
            new[offset + i] = metric.update(states[offset + i], ys[index], outputs[index],
                                            sample_weight=weight)
        unknown = sorted(set(added or {}) - {m.name for m in self.added_metrics})
        if unknown:  # runs while the step is traced: once per compiled step
            warnings.warn(
                f"Metrics added with add_metric() inside call() are not reported: {unknown}."
                " Add them to the functional model with add_metric(tensor, name) instead.",
                stacklevel=3)
        return new

    def add_loss_values(self, states, values, batch_size):
        """`states` after batches of `batch_size` samples each whose `loss_values` are the
        rows of `values`; the last row is the latest batch's. A scanned run of steps adds
        its rows after the scan, in one update instead of one per step."""
        size = jnp.full((values.shape[0],), batch_size, jnp.float32)
        new = list(states)
        for column, (metric, slot) in enumerate(self._loss_means()):
            new[slot] = metric.update(states[slot], values[:, column], sample_weight=size)
        new[-1] = values[-1, 0]
        return new

    def _loss_means(self):
        """`(metric, slot in the state list)` of each running loss mean, in the order of
        `loss_values`: the total loss's, each output's, each added metric's."""
        means = [(self.loss_metric, 0)]
        means += [(m, 1 + i) for i, m in enumerate(self.output_loss_metrics)]
        first_added = 1 + len(self.output_loss_metrics) + len(self.metrics)
        return means + [(m, first_added + i) for i, m in enumerate(self.added_metrics)]

    def results(self, states):
        values = [self.loss_metric.compute(states[0])]
        values += [m.compute(s) for m, s in zip(self.output_loss_metrics, states[1:])]
        offset = 1 + len(self.output_loss_metrics)
        values += [metric.compute(states[offset + i])
                   for i, (_, metric, _, _) in enumerate(self.metrics)]
        offset += len(self.metrics)
        values += [m.compute(states[offset + i]) for i, m in enumerate(self.added_metrics)]
        return values + [states[-1]]  # one more than `metric_names`: the batch's loss


def class_weight_vector(class_weight):
    """A dense lookup table for a `class_weight` dict (missing classes weigh 1)."""
    if not class_weight:
        return None
    if not isinstance(class_weight, dict):
        raise ValueError(
            f"`class_weight` must be a dict mapping class indices to weights. Received: "
            f"{class_weight!r}")
    size = max(int(k) for k in class_weight) + 1
    table = np.ones(size, np.float32)
    for k, v in class_weight.items():
        table[int(k)] = float(v)
    return table


def class_weights_for(table, y):
    """Per-sample weights from labels: argmax of one-hot rows, else the label itself."""
    y = jnp.asarray(y)
    if y.ndim >= 2 and y.shape[-1] > 1:
        labels = jnp.argmax(y, axis=-1)
    else:
        labels = jnp.reshape(y, y.shape[:1] + y.shape[2:] if y.ndim >= 2 else y.shape)
        labels = jnp.round(labels).astype(jnp.int32)
    return jnp.asarray(table)[jnp.clip(labels, 0, table.shape[0] - 1)]
