"""The loops: fit, evaluate, predict and the batch methods, on a `Trainer`.

These are the only place callbacks are called. The host never waits on the device unless
something reads a value: a callback's batch logs, the progress bar when it redraws, or an
epoch's end.
"""
import itertools
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from jkeras import _config
from jkeras import callbacks as callbacks_module
from jkeras.engine import data_adapter
from jkeras.trainer import epoch_iterator, inputs, step as step_module

__all__ = ["fit", "evaluate", "predict", "train_on_batch", "test_on_batch",
           "predict_on_batch"]


# ---------------------------------------------------------------------------- fit
def _check_batch_size(batch_size):
    if batch_size is not None and (isinstance(batch_size, bool) or
                                   not isinstance(batch_size, (int, np.integer)) or
                                   batch_size < 1):
        raise ValueError(
            f"`batch_size` must be a positive integer or None. Received: "
            f"batch_size={batch_size!r}")


def _check_fit_arguments(batch_size, epochs, validation_split, initial_epoch, steps_per_epoch):
    _check_batch_size(batch_size)
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise TypeError(
            f"`epochs` must be a non-negative integer. Received: epochs={epochs!r} "
            f"({type(epochs).__name__})")
    if isinstance(validation_split, bool) or not isinstance(
            validation_split, (int, float, np.floating)) or not 0 <= validation_split < 1:
        raise ValueError(
            "`validation_split` must be a number in [0, 1). Received: "
            f"validation_split={validation_split!r}")
    if not isinstance(initial_epoch, (int, np.integer)) or initial_epoch < 0:
        raise ValueError(
            f"`initial_epoch` must be a non-negative integer. Received: "
            f"initial_epoch={initial_epoch!r}")
    if steps_per_epoch is not None and (not isinstance(steps_per_epoch, (int, float,
                                                                         np.integer)) or
                                        steps_per_epoch <= 0):
        raise ValueError(
            f"`steps_per_epoch` must be a positive integer or None. Received: "
            f"steps_per_epoch={steps_per_epoch!r}")


def fit(trainer, x=None, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None,
        validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
        sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
        validation_batch_size=None, validation_freq=1, max_queue_size=10, workers=1,
        use_multiprocessing=False):
    _check_fit_arguments(batch_size, epochs, validation_split, initial_epoch,
                         steps_per_epoch)
    model, targets = trainer.model, trainer.targets
    trainer.check_trainable_discrepancy()
    if data_adapter.is_generator_like(x):
        if y is not None:
            raise ValueError(
                "`y` argument is not supported when using a generator or Sequence as "
                "input; it yields (x, y) batches itself.")
        return _fit_source(trainer, x, steps_per_epoch, epochs, verbose, callbacks,
                           validation_data, validation_steps, validation_freq, class_weight,
                           max_queue_size, workers, use_multiprocessing, shuffle,
                           initial_epoch)
    batch_size = batch_size or 32
    (xs, ys, sws), count = inputs.prepare_data(model, targets, x, y, sample_weight,
                                               class_weight)
    val = None
    if validation_data is not None:
        val = _validation_tuple(trainer, validation_data)
    elif validation_split:
        split = int(count * (1.0 - validation_split))
        cut = lambda arrays, lo, hi: [None if a is None else a[lo:hi] for a in arrays]
        val = ("arrays", cut(xs, split, count), cut(ys, split, count),
               cut(sws, split, count))
        xs, ys, sws = cut(xs, 0, split), cut(ys, 0, split), cut(sws, 0, split)
        count = split
    if val is not None and val[0] == "arrays" and verbose and jax.process_index() == 0:
        # Keras 2.3's line before a validated fit on arrays
        print(f"Train on {count} samples, validate on {inputs.num_samples(*val[1:])} "
              "samples")
    steps = int(math.ceil(steps_per_epoch)) if steps_per_epoch is not None else \
        (math.ceil(count / batch_size) if count else 0)
    feed, _ = trainer.array_feed((xs, ys, sws), batch_size, shuffle,
                                 steps if steps_per_epoch is not None else None)
    return _run_fit(trainer, epochs, initial_epoch, verbose, callbacks, steps, count, val,
                    validation_freq, validation_steps, validation_batch_size or batch_size,
                    lambda epoch, group: feed.units(epoch, group), ahead=feed.resident,
                    # (streamed data may be too long to hold a spare permutation of)
                    draw_ahead=feed.batch_plan.draw_next_call if feed.resident else None)


def _validation_tuple(trainer, validation_data):
    if data_adapter.is_generator_like(validation_data):
        return ("source", validation_data)
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        length = len(validation_data) if hasattr(validation_data, "__len__") else "?"
        raise ValueError(
            "When passing validation_data, it must contain 2 (x_val, y_val) or 3 "
            "(x_val, y_val, val_sample_weights) items; received: "
            f"{type(validation_data).__name__} of length {length}")
    vsw = validation_data[2] if len(validation_data) == 3 else None
    batch, _ = inputs.prepare_data(trainer.model, trainer.targets, validation_data[0],
                                   validation_data[1], vsw)
    return ("arrays",) + batch


def _fit_source(trainer, source, steps_per_epoch, epochs, verbose, callbacks,
                validation_data, validation_steps, validation_freq, class_weight,
                max_queue_size, workers, use_multiprocessing, shuffle, initial_epoch):
    is_sequence = data_adapter.is_sequence(source)
    if steps_per_epoch is None:
        if not is_sequence:
            raise ValueError(
                "`steps_per_epoch` must be given when fitting from a generator; it cannot "
                "tell how many batches make an epoch.")
        steps_per_epoch = len(source)
    steps = int(math.ceil(steps_per_epoch))
    if not hasattr(source, "__next__") and not is_sequence and hasattr(source, "__iter__"):
        source = iter(source)
    val = _validation_tuple(trainer, validation_data) if validation_data is not None \
        else None
    feed = {"source": source, "workers": workers, "use_multiprocessing": use_multiprocessing,
            "max_queue_size": max_queue_size, "shuffle": shuffle,
            "rng": np.random.default_rng(_config.next_seed()), "is_sequence": is_sequence,
            "class_weight": class_weight}
    return _run_fit(trainer, epochs, initial_epoch, verbose, callbacks, steps, None, val,
                    validation_freq, validation_steps, None,
                    lambda epoch, group: trainer.source_units(feed, steps))


def _should_validate(epoch, validation_freq):
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return (epoch + 1) in validation_freq


def _for_this_process(trainer, callbacks, verbose):
    """In a multi-process job, processes other than 0 neither print nor write files. When
    the model's weights are split over processes, reading them is a collective that every
    process must join: checkpoints then run everywhere (`save` writes in process 0 only),
    and callbacks that would read weights in process 0 alone are refused."""
    callbacks = list(callbacks or [])
    spans = trainer.weights_span_processes()
    if spans:
        for c in callbacks:
            if isinstance(c, callbacks_module.TensorBoard) and (c.histogram_freq or
                                                                 c.embeddings_freq):
                raise ValueError(
                    "TensorBoard(histogram_freq=..., embeddings_freq=...) reads weights in "
                    "process 0 only, but this model's weights are split over several "
                    "processes' devices (ModelParallel), and reading them takes every "
                    "process. Use histogram_freq=0 and embeddings_freq=0 here. Received: "
                    f"histogram_freq={c.histogram_freq}, "
                    f"embeddings_freq={c.embeddings_freq}")
    if jax.process_index() == 0:
        return callbacks, verbose
    writers = (callbacks_module.CSVLogger, callbacks_module.TensorBoard,
               callbacks_module.ProgbarLogger, callbacks_module.RemoteMonitor)
    if not spans:
        writers += (callbacks_module.ModelCheckpoint,)
    return [c for c in callbacks if not isinstance(c, writers)], 0


def _run_fit(trainer, epochs, initial_epoch, verbose, callbacks, steps, num_samples, val,
             validation_freq, validation_steps, val_batch_size, epoch_units, ahead=False,
             draw_ahead=None):
    """The epochs. `ahead`: the next epoch's first batches are cut before this epoch's
    logs are read (which waits for the device), so the device does not sit idle while the
    host reads them and runs the epoch-end callbacks (data only: no weight is read).
    `draw_ahead(epoch)`: after the last epoch is queued, while the host waits for it on an
    accelerator, a next call's first plan is drawn (`epoch_iterator.epoch_plan`)."""
    model = trainer.model
    job_callbacks, job_verbose = list(callbacks or []), verbose
    callbacks, verbose = _for_this_process(trainer, job_callbacks, verbose)
    names = list(trainer.targets.metric_names)
    callback_list = callbacks_module.CallbackList(
        callbacks, add_history=True, add_progbar=verbose != 0, model=model,
        count_mode="samples" if num_samples is not None else "steps", verbose=verbose,
        epochs=epochs, steps=steps, samples=num_samples, do_validation=val is not None,
        metrics=names + (["val_" + n for n in names] if val is not None else []))
    progbar = next((c for c in callback_list if isinstance(c, callbacks_module.ProgbarLogger)),
                   None)
    batch_hooks = _batch_hooks(callback_list.callbacks)
    # How steps are grouped into dispatches follows the job's callbacks and verbosity, not
    # this process's share of them: in a multi-process job every process must run the
    # same programs in the same order (their collectives pair one for one).
    # (What the list adds, History and the bar, looks at no single batch.)
    job_hooks = bool(_batch_hooks(job_callbacks))
    # With only observers that record what they are given (no validation either), the
    # next epoch's first units of steps are queued before this epoch's logs are read: the
    # device works while the host waits for the logs and runs the epoch's end.
    overlap = ahead and val is None and not job_hooks and not job_verbose and all(
        type(c) in _OBSERVERS for c in job_callbacks)
    model.stop_training = False
    trainer.resume_epoch = None
    # Batch logs wanted after every step (verbose=2 prints one line an epoch: its bar only
    # counts, so it needs none).
    report = job_hooks or job_verbose == 1
    group = 1 if job_hooks else trainer.steps_per_execution
    pending = None
    if ahead and initial_epoch < epochs and _config.compile_ahead():
        # Arrays on the device: the first unit's shapes are known now, so its step
        # compiles on a worker thread while `begin` and the first gather compile here.
        pending = _compile_first_step(trainer, epoch_units(initial_epoch, group), report)
    trainer.begin()
    epoch_logs = {}
    started_next = False
    try:
        callback_list.on_train_begin()
        if trainer.resume_epoch is not None:  # set by a callback restoring a backup
            initial_epoch, trainer.resume_epoch, pending = trainer.resume_epoch, None, None
        for epoch in range(initial_epoch, epochs):
            if epoch > initial_epoch and not started_next:  # `begin` zeroed the first's
                trainer.state = dict(trainer.state, metrics=trainer.fresh_metrics())
            callback_list.on_epoch_begin(epoch)
            units, pending = pending or epoch_units(epoch, group), None
            _run_epoch(trainer, units, callback_list, progbar, batch_hooks, report)
            started_next = False
            if ahead and epoch + 1 < epochs and not model.stop_training:
                pending = epoch_iterator.started(epoch_units(epoch + 1, group))
            elif epoch + 1 == epochs and draw_ahead is not None and _host_waits_for_device():
                draw_ahead(initial_epoch)
            results = trainer.metric_results(trainer.state["metrics"])
            if overlap and pending is not None:
                trainer.state = dict(trainer.state, metrics=trainer.fresh_metrics())
                pending, started_next = _run_first_units(trainer, pending), True
            trainer.make_spare_metrics()  # the next epoch's or fit's, while the device works
            epoch_logs = trainer.logs_from(results)
            if val is not None and _should_validate(epoch, validation_freq):
                val_logs = _evaluate(trainer, val, val_batch_size, validation_steps,
                                     callback_list)
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            callback_list.on_epoch_end(epoch, epoch_logs)
            if model.stop_training:
                break
        _finalize_ema(trainer)
    finally:
        trainer.end()
    callback_list.on_train_end(epoch_logs)
    return callback_list.history


def _host_waits_for_device():
    """True on accelerators: at a call's end the host waits while the device finishes (on
    the CPU the two share the cores, and work drawn ahead would take the steps' time)."""
    return jax.default_backend() != "cpu"


_OBSERVERS = (callbacks_module.History, callbacks_module.ProgbarLogger,
              callbacks_module.BaseLogger)


def _batch_hooks(callbacks):
    """The callbacks that look at single batches (a progress bar only counts them)."""
    return [c for c in callbacks if not isinstance(c, callbacks_module.ProgbarLogger) and
            callbacks_module._overrides(c, "on_train_batch_end", "on_batch_end",
                                        "on_train_batch_begin", "on_batch_begin")]


def _compile_first_step(trainer, units, stepwise):
    """`units`, after starting the compile of the program that runs the first."""
    units = iter(units)
    first = next(units, None)
    if first is None:
        return units
    trainer.compile_first_step(first, stepwise)
    return itertools.chain([first], units)


# Units of the next epoch queued before an epoch's logs are read: when the logs come
# back the device still holds one to run while the host dispatches the next (on an H200
# host the first dispatch after that wait took 1-1.3 ms, as much as a 32-step chunk).
_QUEUED_AHEAD = 2


def _run_first_units(trainer, units, count=_QUEUED_AHEAD):
    """Runs the first `count` units of `units` (a dispatch each); returns the rest."""
    units = iter(units)
    for unit in itertools.islice(units, count):
        if unit.kind == "chunk":
            trainer.run_chunk(*unit.fetch(), unit.count)
        else:
            trainer.train_step(unit.kind, unit.fetch())
    return units


def _finalize_ema(trainer):
    """With `use_ema`, training ends on the weights' moving average (as Keras 3)."""
    if not getattr(trainer.optimizer, "use_ema", False):
        return
    state = trainer.state
    trainable = trainer.optimizer.finalize_params(state["trainable"], state["opt_state"])
    state = {k: v for k, v in state.items() if k != "casts"}  # (copies of other weights)
    trainer.state = dict(state, trainable=jax.tree_util.tree_map(lambda a: a + 0, trainable))


def _run_epoch(trainer, units, callback_list, progbar, batch_hooks, report):
    model = trainer.model
    counting_samples = progbar is not None and progbar.count_mode == "samples"
    step_index = 0

    def one(kind, size, count, *args):
        nonlocal step_index
        if batch_hooks:
            callback_list.on_train_batch_begin(step_index, {"batch": step_index,
                                                            "size": size})
        trainer.train_step(kind, *args)
        step_index += count
        if report:
            _batch_end(trainer, callback_list, progbar, batch_hooks, step_index - 1,
                       size * count, counting_samples)
        return model.stop_training

    try:
        if not report:
            # Nothing on the host runs between steps: a tight loop, the optimizer's host
            # values synced once per unit.
            for unit in units:
                if unit.kind == "chunk":
                    trainer.run_chunk(*unit.fetch(), unit.count)
                else:
                    trainer.train_step(unit.kind, unit.fetch())
                if progbar is not None:
                    progbar.seen += unit.size * unit.count if counting_samples else \
                        unit.count
                if model.stop_training:
                    break
            return
        for unit in units:
            if unit.kind == "chunk":
                chunk, _ = unit.fetch()
                if any(one("chunk", unit.size, 1, chunk, i) for i in range(unit.count)):
                    break
            elif one(unit.kind, unit.size, unit.count, unit.fetch()):
                break
    finally:
        close = getattr(units, "close", None)
        if close is not None:
            close()  # stops data workers now, even when a step raised


def _batch_end(trainer, callback_list, progbar, batch_hooks, step_index, seen,
               counting_samples):
    logs, running = _lazy_batch_logs(trainer, trainer.state["metrics"],
                                     {"batch": step_index, "size": seen})
    for callback in batch_hooks:
        callback.on_train_batch_end(step_index, logs)
    if progbar is not None:
        advance = seen if counting_samples else 1
        if progbar.wants_logs(progbar.seen + advance):
            progbar.on_train_batch_end(step_index, running)
        else:
            progbar.seen += advance


def _lazy_batch_logs(trainer, metrics, extra=None):
    """Batch logs for callbacks ("loss" is the batch's own, as in Keras 2) and the
    running values (what the progress bar shows, as Keras 2's bar averaged them), both
    fetched on first access by one device read."""
    fetched = []

    def values():
        if not fetched:
            fetched.append(jax.device_get(trainer.metric_results(metrics)))
        return fetched[0]
    return (callbacks_module.LazyLogs(lambda: trainer.logs_from(values(), batch=True), extra),
            callbacks_module.LazyLogs(lambda: trainer.logs_from(values()), extra))


# ---------------------------------------------------------------------------- evaluate
def evaluate(trainer, x=None, y=None, batch_size=None, verbose=1, sample_weight=None,
             steps=None, callbacks=None, max_queue_size=10, workers=1,
             use_multiprocessing=False, return_dict=False):
    model, targets = trainer.model, trainer.targets
    _check_batch_size(batch_size)
    if data_adapter.is_generator_like(x):
        if steps is None and not (hasattr(x, "__len__") and hasattr(x, "__getitem__")):
            raise ValueError("`steps` must be given when evaluating from a generator.")
        val = ("source", x, workers, use_multiprocessing, max_queue_size)
    else:
        batch, _ = inputs.prepare_data(model, targets, x, y, sample_weight)
        val = ("arrays",) + batch
    callback_list = callbacks if isinstance(callbacks, callbacks_module.CallbackList) else \
        (callbacks_module.CallbackList(callbacks, model=model) if callbacks else None)
    return _format(trainer, _evaluate(trainer, val, batch_size or 32, steps, callback_list,
                                      verbose), return_dict)


def _evaluate(trainer, val, batch_size, steps, callback_list=None, verbose=0):
    state = trainer.read_state()
    placement = trainer.placement()
    test = trainer._fn("test")
    metrics = trainer.shared_zero_metrics()  # the test programs donate nothing
    if callback_list:
        callback_list.on_test_begin()
    if val[0] == "arrays":
        _, xs, ys, sws = val
        feed, count = trainer.array_feed((xs, ys, sws), batch_size or 32, False, seed=0)
        units = feed.units(0, scanned=True)
        total = count
    else:
        source = val[1]
        workers, use_mp, queue_size = (val[2:] + (1, False, 10))[:3]
        is_sequence = data_adapter.is_sequence(source)
        if steps is None:
            if not is_sequence:
                raise ValueError(
                    "`validation_steps` (or `steps`) must be given to evaluate on a "
                    "generator.")
            steps = len(source)
        feed = {"source": source, "workers": workers, "use_multiprocessing": use_mp,
                "max_queue_size": queue_size, "shuffle": False, "rng": None,
                "is_sequence": is_sequence}
        units = trainer.source_units(feed, int(math.ceil(steps)))
        total = int(math.ceil(steps))
    progbar = _progbar(verbose, total, trainer.targets.metric_names)
    seen = 0
    hooks = bool(callback_list) and callback_list.has_hook("on_test_batch_end")
    limit = None if steps is None else int(math.ceil(steps))
    index = 0
    for unit in units:
        if limit is not None and index >= limit:
            break
        if unit.kind == "chunk" and not hooks and \
                (limit is None or index + unit.count <= limit):
            chunk, valid = unit.fetch()
            metrics = placement.dispatched(
                trainer._fn("test_chunk")(state, metrics, chunk, valid))
            batches = unit.count
        elif unit.kind == "chunk":
            chunk, _ = unit.fetch()
            batches = 0
            for i in range(unit.count):
                if limit is not None and index + i >= limit:
                    break
                metrics = placement.dispatched(
                    test(state, metrics, step_module.pick(chunk, trainer.index(i))))
                batches += 1
                if hooks:
                    callback_list.on_test_batch_end(
                        index + i, _lazy_batch_logs(trainer, metrics)[0])
        else:
            metrics = placement.dispatched(test(state, metrics, unit.fetch()))
            batches = 1
            if hooks:
                callback_list.on_test_batch_end(index, _lazy_batch_logs(trainer, metrics)[0])
        index += batches
        seen += unit.size * batches if val[0] == "arrays" else batches
        if progbar is not None and progbar.due(seen):
            progbar.update(min(seen, total), list(trainer.metric_logs(metrics).items()))
    close = getattr(units, "close", None)
    if close is not None:
        close()
    logs = trainer.metric_logs(metrics)
    if callback_list:
        callback_list.on_test_end(logs)
    return logs


def _progbar(verbose, target, running=()):
    """The bar of `verbose=1`; `running`: names whose values are already running means
    (the bar shows them as given instead of averaging them again)."""
    from jkeras.utils.generic_utils import Progbar
    return Progbar(target, verbose=1, stateful_metrics=running) if verbose == 1 else None


# ---------------------------------------------------------------------------- predict
def predict(trainer, x, batch_size=None, verbose=0, steps=None, max_queue_size=10, workers=1,
            use_multiprocessing=False):
    model = trainer.model
    _check_batch_size(batch_size)
    if data_adapter.is_generator_like(x):
        is_sequence = data_adapter.is_sequence(x)
        if steps is None:
            if not is_sequence:
                raise ValueError("`steps` must be given when predicting from a generator.")
            steps = len(x)
        queue = data_adapter.BatchQueue(x, int(math.ceil(steps)), workers=workers,
                                        use_multiprocessing=use_multiprocessing,
                                        max_queue_size=max_queue_size)

        def host_units():
            for item in queue:
                batch_x, _, _ = data_adapter.unpack_batch(item)
                xs = epoch_iterator.host_batch(inputs.prepare_x(model, batch_x), slice(None))
                yield xs, len(xs[0]), 1
        units = (epoch_iterator.Unit("batch", lambda d=d: d, size, c)
                 for d, size, c in epoch_iterator.prefetch(host_units(),
                                                           placement=trainer.placement()))
    else:
        xs = _first_input_length(model, inputs.prepare_x(model, x))
        feed, _ = trainer.array_feed((xs,), batch_size or 32, False, seed=0)
        units = feed.units(0, scanned=True)
    return _predict_units(trainer, units, steps)


def _first_input_length(model, xs):
    """`predict`'s inputs cut to the first one's length, as Keras 2.3 predicted the first
    input's samples and took the same rows of the others (cnn_seq2seq's decoding relies
    on it); with a warning, and an error where another input is shorter."""
    sizes = [a.shape[0] for a in xs]
    if len(set(sizes)) == 1:
        return xs
    names = [t._keras_history[0].name for t in model._input_tensors()] or \
        [f"input_{i}" for i in range(len(xs))]
    detail = ", ".join(f"{n}: {s}" for n, s in zip(names, sizes))
    if min(sizes) < sizes[0]:
        raise ValueError(
            "Data cardinality is ambiguous: the model's inputs have different numbers of "
            f"samples ({detail}), and one has fewer than the first. Make sure all arrays "
            "contain the same number of samples.")
    warnings.warn(
        f"predict: the model's inputs have different numbers of samples ({detail}); as "
        f"Keras 2 did, the first input's {sizes[0]} are predicted, with the same rows of "
        "the others.", stacklevel=4)
    return [a[:sizes[0]] for a in xs]


def _predict_units(trainer, units, steps=None):
    """Outputs for every real batch of `units`: one dispatch per chunk, one transfer of
    all outputs at the end (padding batches' outputs are cut off on the host)."""
    state = dict(trainer.read_state())
    placement = trainer.placement()
    key = _config.next_key_bits()
    # The key and each batch's number go into the program call as host values (moved
    # with the call, no separate transfer); on a mesh they are placed on every device.
    number = (lambda i: placement.put_replicated(np.int32(i))) if placement.distributed \
        else np.int32
    if placement.distributed:
        key = placement.put_replicated(key)
    limit = None if steps is None else int(math.ceil(steps))
    pieces, index = [], 0  # (device outputs, real batches, stacked?)
    for unit in units:
        if limit is not None and index >= limit:
            break
        take = unit.count if limit is None else min(unit.count, limit - index)
        if unit.kind == "chunk":
            chunk, valid = unit.fetch()
            chunk = chunk[0] if isinstance(chunk, tuple) else chunk
            if take < unit.count:
                valid = valid & (jnp.arange(valid.shape[0]) < take)
            out, state["non_trainable"] = placement.dispatched(trainer._fn("predict_chunk")(
                state, chunk, valid, key, number(index)))
            pieces.append((out, take, True))
        else:
            x = unit.fetch()
            x = x[0] if isinstance(x, tuple) else x
            out, state["non_trainable"] = placement.dispatched(trainer._fn("predict")(
                state, x, key, number(index)))
            pieces.append((out, 1, False))
        index += take
    if trainer.model._has_stateful_layers():
        _write_non_trainable(trainer, state["non_trainable"])
    return _concat(jax.device_get(pieces))


def _write_non_trainable(trainer, values):
    if trainer.running:
        trainer.state = dict(trainer.state, non_trainable=list(values))
    else:
        for cell, value in zip(trainer.variables().non_trainable, values):
            cell.assign(value)


def _concat(pieces):
    """One array (or list/dict of arrays) from `(outputs, batches, stacked)` pieces."""
    if not pieces:
        return np.zeros((0,))
    flat_pieces = []
    for out, batches, stacked in pieces:
        leaves, treedef = jax.tree_util.tree_flatten(out)
        if stacked:
            leaves = [np.asarray(l)[:batches].reshape((-1,) + np.shape(l)[2:]) for l in leaves]
        flat_pieces.append(leaves)
    joined = [np.concatenate(parts) for parts in zip(*flat_pieces)]
    return jax.tree_util.tree_unflatten(treedef, joined)


def predict_on_batch(trainer, x):
    xs = epoch_iterator.host_batch(inputs.prepare_x(trainer.model, x), slice(None))
    placement = trainer.placement()
    unit = epoch_iterator.Unit("batch", lambda: placement.batch_argument(xs), len(xs[0]))
    return _predict_units(trainer, [unit])


# ---------------------------------------------------------------------------- batches
def _host_triplet(trainer, x, y, sample_weight, class_weight=None):
    batch, _ = inputs.prepare_data(trainer.model, trainer.targets, x, y, sample_weight,
                                   class_weight)
    return epoch_iterator.host_batch(batch, slice(None))


def train_on_batch(trainer, x, y=None, sample_weight=None, class_weight=None,
                   reset_metrics=True, return_dict=False):
    trainer.check_trainable_discrepancy()
    values = trainer.train_batch(_host_triplet(trainer, x, y, sample_weight, class_weight),
                                 reset_metrics)
    return _format(trainer, trainer.logs_from(values, batch=True), return_dict)


def test_on_batch(trainer, x, y=None, sample_weight=None, reset_metrics=True,
                  return_dict=False):
    values = trainer.test_batch(_host_triplet(trainer, x, y, sample_weight), reset_metrics)
    return _format(trainer, trainer.logs_from(values, batch=True), return_dict)


def _format(trainer, logs, return_dict):
    if return_dict:
        return logs
    values = logs.in_order  # by position: two outputs may share a name
    return values[0] if len(values) == 1 else values
