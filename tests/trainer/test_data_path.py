"""The data path: no recompilation when only the sample count changes, no upload per step,
arrays kept on the device across calls, arrays over the device budget streamed, the
`steps_per_execution` scan really taken, and the first step compiled ahead, once."""
import logging
import re

import jax
import numpy as np
import pytest

import jkeras as keras
from jkeras import _config, layers
from jkeras.trainer import epoch_iterator, loop
from jkeras.trainer import trainer as trainer_module


def _data(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    y = (x[:, :2].sum(axis=1) > 0).astype("float32")[:, None]
    return x, y


def _model(steps_per_execution=1):
    model = keras.Sequential([layers.Dense(8, activation="relu", input_shape=(6,)),
                              layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"],
                  steps_per_execution=steps_per_execution)
    return model


def _compiles(model, kind):
    return model._trainer._fn(kind)._cache_size()


@pytest.mark.slow
def test_new_sample_counts_do_not_recompile_the_step():
    model = _model()
    for n in (256, 384, 512, 768, 640):  # all multiples of the batch size
        model.fit(*_data(n, seed=n), batch_size=64, epochs=1, verbose=0)
        model.evaluate(*_data(n, seed=n), batch_size=64, verbose=0)
        model.predict(_data(n)[0], batch_size=64, verbose=0)
    assert _compiles(model, "train_chunk") == 1
    assert _compiles(model, "test_chunk") == 1
    assert _compiles(model, "predict_chunk") == 1


@pytest.mark.slow
def test_a_partial_last_batch_compiles_once_more():
    model = _model()
    for n in (100, 164, 228):  # 64 * k + 36: the same partial batch each time
        model.fit(*_data(n, seed=n), batch_size=64, epochs=1, verbose=0)
    assert _compiles(model, "train_chunk") == 2


@pytest.mark.slow
def test_whole_chunks_run_in_one_scan_and_match_step_by_step():
    # 2 chunks of 32 batches and 5 batches more: two scans, then five single steps; the
    # same weights as a fit whose callback looks at every batch (one step at a time)
    x, y = _data(64 * 69, seed=5)
    quiet, watched = _model(), _model()
    watched.set_weights(quiet.get_weights())
    quiet.fit(x, y, batch_size=64, epochs=1, shuffle=False, verbose=0)
    assert _compiles(quiet, "train_scan") == 1
    assert _compiles(quiet, "train_chunk") == 1
    seen = []
    watched.fit(x, y, batch_size=64, epochs=1, shuffle=False, verbose=0,
                callbacks=[keras.callbacks.LambdaCallback(
                    on_batch_end=lambda batch, logs: seen.append(batch))])
    assert len(seen) == 69 and _compiles(watched, "train_scan") == 0
    for a, b in zip(quiet.get_weights(), watched.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_one_line_an_epoch_takes_the_quiet_path(capsys):
    # verbose=2 prints only at the epoch's end: whole chunks still run as one scan
    x, y = _data(64 * 40, seed=6)
    model = _model()
    model.fit(x, y, batch_size=64, epochs=1, shuffle=False, verbose=2)
    assert _compiles(model, "train_scan") == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "Epoch 1/1" and "loss:" in lines[-1] and len(lines) == 2


class _PutCounter:
    def __init__(self, monkeypatch):
        self.count = 0
        real = jax.device_put

        def counting(*args, **kwargs):
            self.count += 1
            return real(*args, **kwargs)
        monkeypatch.setattr(jax, "device_put", counting)


@pytest.mark.slow
def test_no_upload_per_step(monkeypatch):
    x, y = _data(1024)
    model = _model()
    model.fit(x, y, batch_size=256, epochs=1, verbose=0)  # compiles, puts x, y on device
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    counter = _PutCounter(monkeypatch)
    model.fit(x, y, batch_size=32, epochs=2, verbose=0)  # 64 steps
    # one index table per epoch and, on the CPU, the metrics' zeros made at each
    # epoch's end for the next epoch or fit (an accelerator makes them on the device),
    # whatever the step count
    assert counter.count == 4
    counter.count = 0
    model.fit(x, y, batch_size=256, epochs=2, verbose=0)  # 8 steps
    assert counter.count == 4


def test_same_arrays_are_not_uploaded_again(monkeypatch):
    x, y = _data(512)
    model = _model()
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    counter = _PutCounter(monkeypatch)
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    # the epoch's index table, and (on the CPU) the zeroed metrics made at the epoch's
    # end for the next fit
    assert counter.count == 2
    x2 = x.copy()
    counter.count = 0
    model.fit(x2, y, batch_size=64, epochs=1, verbose=0)
    assert counter.count == 3  # the new x besides (y is still on the device)


def test_unshuffled_plans_keep_their_index_tables(monkeypatch):
    """evaluate, predict and fit(shuffle=False) cut batches in the same order every time:
    their index tables go to the device once (a transfer's latency costs a GPU host about
    a millisecond, at the start of every call)."""
    x, y = _data(512)
    model = _model()
    model.fit(x, y, batch_size=64, epochs=1, verbose=0, shuffle=False)
    model.evaluate(x, y, batch_size=64, verbose=0)
    model.predict(x, batch_size=64, verbose=0)
    counter = _PutCounter(monkeypatch)
    model.fit(x, y, batch_size=64, epochs=2, verbose=0, shuffle=False)
    # the metrics' zeros (on the CPU) made at each epoch's end for the next epoch or fit
    assert counter.count == 2
    counter.count = 0
    model.evaluate(x, y, batch_size=64, verbose=0)
    model.predict(x, batch_size=64, verbose=0)
    assert counter.count == 0
    counter.count = 0
    model.fit(x, y, batch_size=64, epochs=2, verbose=0)  # shuffled: a table an epoch
    assert counter.count == 4  # and the zeros, as above


class _GatherCounter:
    """Counts calls of the programs that cut chunks out of device data."""

    def __init__(self, monkeypatch):
        self.count = 0
        real = epoch_iterator._gather_fn

        def counted(*args, **kwargs):
            gather = real(*args, **kwargs)

            def run(*a):
                traced = any(isinstance(leaf, jax.core.Tracer)
                             for leaf in jax.tree_util.tree_leaves(a))
                self.count += not traced  # (compiling ahead traces it once)
                return gather(*a)
            return run
        monkeypatch.setattr(epoch_iterator, "_gather_fn", counted)


@pytest.mark.slow
@pytest.mark.parametrize("budget", [None, "tight"])
def test_unshuffled_plans_keep_their_chunks_within_half_the_budget(monkeypatch, budget):
    """fit(shuffle=False), evaluate and predict cut the same batches every time: their
    chunks are cut once and kept (the later epochs and calls get them ready, as a
    hand-written loop's batches are), unless the data is over half the device data budget
    (they are a second copy). The numbers do not change."""
    x, y = _data(64 * 70)  # 70 batches of 64: 3 chunks, the last partial
    nbytes = x.nbytes + y.nbytes
    if budget == "tight":
        monkeypatch.setattr(_config, "_DEVICE_DATA_BUDGET", {"bytes": 2 * nbytes - 1})
    keras.utils.set_random_seed(0)
    model = _model()
    counter = _GatherCounter(monkeypatch)
    history = model.fit(x, y, batch_size=64, epochs=3, verbose=0, shuffle=False)
    first = counter.count
    assert first == (3 if budget is None else 9)
    counter.count = 0  # evaluate cuts the same batches as fit(shuffle=False)
    model.evaluate(x, y, batch_size=64, verbose=0)
    model.evaluate(x, y, batch_size=64, verbose=0)
    assert counter.count == (0 if budget is None else 6)
    # the same fit with every chunk cut anew gives the same losses and weights
    monkeypatch.setattr(_config, "_DEVICE_DATA_BUDGET", {"bytes": 2 * nbytes - 1})
    keras.utils.set_random_seed(0)
    fresh = _model()
    fresh_history = fresh.fit(x, y, batch_size=64, epochs=3, verbose=0, shuffle=False)
    assert history.history["loss"] == fresh_history.history["loss"]
    for a, b in zip(model.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)


def _two_outputs():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, [layers.Dense(1, name="a")(inputs),
                                 layers.Dense(1, name="b")(inputs)])
    model.compile("sgd", ["mse", "mse"])
    return model


@pytest.mark.slow
def test_kept_chunks_follow_the_datas_structure_not_only_its_arrays(monkeypatch):
    """The same sample-weight array moved from one output to the other is other data:
    the second fit must not get the first one's chunks."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype("float32")
    y = [rng.normal(size=(256, 1)).astype("float32") for _ in range(2)]
    sw = (np.arange(256) % 2).astype("float32")
    histories = []
    for budget in (None, 1):  # kept chunks, then data over the budget: none kept
        monkeypatch.setattr(_config, "_DEVICE_DATA_BUDGET", {"bytes": budget})
        keras.utils.set_random_seed(0)
        model = _two_outputs()
        model.fit(x, y, sample_weight=[sw, None], batch_size=32, epochs=1, shuffle=False,
                  verbose=0)
        histories.append(model.fit(x, y, sample_weight=[None, sw], batch_size=32, epochs=1,
                                   shuffle=False, verbose=0).history)
    for name in ("a_loss", "b_loss"):
        np.testing.assert_allclose(histories[0][name], histories[1][name], rtol=1e-6)


@pytest.mark.slow
def test_kept_chunks_hold_one_plan_a_data_set_and_little_padding(monkeypatch):
    """Another batch size on the same data replaces the kept chunks (they do not pile up
    for every batch size seen), and a run mostly padding (5 batches in a chunk of 32) is
    cut anew each time rather than kept at six times its size."""
    x, y = _data(64 * 40)
    model = _model()
    model.fit(x, y, batch_size=64, epochs=1, verbose=0, shuffle=False)
    counter = _GatherCounter(monkeypatch)
    model.evaluate(x, y, batch_size=64, verbose=0)
    assert counter.count == 0  # fit's chunks: 40 batches, a chunk of 32 and one of 8
    model.evaluate(x, y, batch_size=512, verbose=0)  # 5 batches: mostly padding
    model.evaluate(x, y, batch_size=512, verbose=0)
    assert counter.count == 2
    counter.count = 0
    model.evaluate(x, y, batch_size=64, verbose=0)  # batch size 512's plan replaced it
    assert counter.count == 2
    memos = model._trainer.cache._memos
    assert len(memos) == 1 and len(memos[0][3]) == 1


@pytest.mark.slow
def test_a_batch_over_a_chunks_bytes_reaches_the_step_as_a_batch(monkeypatch):
    """A batch too big to share a chunk is cut alone and given to the one-batch step
    without a chunk's leading axis (as a hand-written loop gives it); the numbers are the
    chunked path's."""
    x, y = _data(64 * 5)
    keras.utils.set_random_seed(0)
    chunked = _model()
    chunked_history = chunked.fit(x, y, batch_size=64, epochs=2, verbose=0, shuffle=False)
    monkeypatch.setattr(epoch_iterator, "CHUNK_BYTES", 1)
    keras.utils.set_random_seed(0)
    single = _model()
    shapes = []
    real = trainer_module.Trainer.train_step

    def spy(self, kind, *args):
        shapes.append((kind, [a.shape for a in jax.tree_util.tree_leaves(args)]))
        return real(self, kind, *args)
    monkeypatch.setattr(trainer_module.Trainer, "train_step", spy)
    history = single.fit(x, y, batch_size=64, epochs=2, verbose=0, shuffle=False)
    assert len(shapes) == 10
    assert all(kind == "batch" and leaves == [(64, 6), (64, 1)] for kind, leaves in shapes)
    np.testing.assert_allclose(history.history["loss"], chunked_history.history["loss"],
                               rtol=1e-6)
    for a, b in zip(single.get_weights(), chunked.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_arrays_over_the_budget_stream_from_the_host(tmp_path, monkeypatch):
    x, y = _data(2048)
    path = tmp_path / "x.dat"
    mapped = np.memmap(path, dtype="float32", mode="w+", shape=x.shape)
    mapped[:] = x
    mapped.flush()
    mapped = np.memmap(path, dtype="float32", mode="r", shape=x.shape)
    monkeypatch.setattr(_config, "_DEVICE_DATA_BUDGET", {"bytes": x.nbytes // 4})
    model = _model()
    resident = []
    real_units = epoch_iterator.ArrayFeed.units

    def spy(feed, *args, **kwargs):
        resident.append(feed.resident)
        return real_units(feed, *args, **kwargs)
    monkeypatch.setattr(epoch_iterator.ArrayFeed, "units", spy)
    history = model.fit(mapped, y, batch_size=64, epochs=4, verbose=0)
    assert resident and not any(resident)
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.slow
def test_streamed_and_resident_epochs_give_the_same_weights(monkeypatch):
    x, y = _data(300)
    results = []
    for budget in (None, 1):
        monkeypatch.setattr(_config, "_DEVICE_DATA_BUDGET", {"bytes": budget})
        keras.utils.set_random_seed(3)
        model = _model(steps_per_execution=2)
        model.fit(x, y, batch_size=32, epochs=2, verbose=0)
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_steps_per_execution_runs_the_scan(monkeypatch):
    x, y = _data(512)
    model = _model(steps_per_execution=4)
    kinds = []
    real = type(model._trainer).train_step

    def spy(trainer, kind, *args):
        kinds.append((kind, jax.tree_util.tree_leaves(args)[0].shape[0]))
        return real(trainer, kind, *args)
    monkeypatch.setattr(type(model._trainer), "train_step", spy)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # 16 batches
    assert kinds == [("stack", 4)] * 4
    assert _compiles(model, "train_scan") == 1


@pytest.mark.slow
def test_steps_per_execution_matches_single_steps():
    x, y = _data(256)
    weights = []
    for spe in (1, 4):
        keras.utils.set_random_seed(1)
        model = _model(steps_per_execution=spe)
        model.fit(x, y, batch_size=32, epochs=2, verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_device_data_budget_rejects_bad_values():
    with pytest.raises(ValueError, match="nbytes"):
        _config.set_device_data_budget(-1)


class _CompileLog(logging.Handler):
    """The XLA compiles JAX logs, as (program, thread name) pairs."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.seen = []

    def emit(self, record):
        m = re.match(r"Finished XLA compilation of jit\((\w+)\)", record.getMessage())
        if m:
            self.seen.append((m.group(1), record.threadName))


def _fit_compiles(model, x, y, **kwargs):
    log, logger = _CompileLog(), logging.getLogger("jax")
    logger.addHandler(log)
    was = jax.config.jax_log_compiles
    jax.config.update("jax_log_compiles", True)  # for every thread (the context is not)
    try:
        model.fit(x, y, verbose=0, **kwargs)
    finally:
        jax.config.update("jax_log_compiles", was)
        logger.removeHandler(log)
    return log.seen


@pytest.mark.parametrize("case", ["stepwise", "scan", "validation", "host_lr"])
def test_the_first_step_compiles_once_on_a_worker_thread(case):
    """The first step's program compiles beside the host's other work, and its first call
    finds it compiled (a lowering that differed would compile it a second time; a
    learning rate set on the host before the first fit once made one)."""
    model = _model(steps_per_execution=4 if case == "scan" else 1)
    if case == "host_lr":
        model.optimizer.lr = 0.05
    x, y = _data(512)
    kwargs = {"batch_size": 64, "epochs": 2}
    if case == "stepwise":
        kwargs["callbacks"] = [keras.callbacks.LambdaCallback(on_batch_end=lambda b, l: 0)]
    if case == "validation":
        kwargs["validation_data"] = _data(128, seed=1)
    seen = _fit_compiles(model, x, y, **kwargs)
    step = {"stepwise": "train_chunk", "scan": "train_scan", "validation": "train_chunk",
            "host_lr": "train_chunk"}
    wanted = [step[case], "results"]
    ahead = [(name, thread) for name, thread in seen if name in wanted]
    assert sorted(name for name, _ in ahead) == sorted(wanted), seen
    assert all(thread.startswith("jkeras-compile") for _, thread in ahead), seen
    assert len(seen) == len(set(name for name, _ in seen)), seen  # nothing twice
    losses = model.fit(x, y, verbose=0, **kwargs).history["loss"]
    assert losses[-1] < losses[0]


def test_compile_ahead_can_be_turned_off(monkeypatch):
    monkeypatch.setenv(_config.COMPILE_AHEAD_VARIABLE, "0")
    seen = _fit_compiles(_model(), *_data(256), batch_size=64, epochs=1)
    assert ("train_chunk", "MainThread") in seen, seen
    assert not any(thread.startswith("jkeras-compile") for _, thread in seen), seen


def test_a_scanned_run_reports_the_running_means_numpy_gives():
    """With `steps_per_execution`, the running loss means (total, per output, added
    metrics) take the scan's values after it, in one update: the epoch's values are still
    the means over every sample (weights frozen by a zero learning rate, so NumPy can say
    what each batch's values are)."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(256, 6)).astype("float32")
    ya = rng.normal(size=(256, 1)).astype("float32")
    yb = rng.normal(size=(256, 2)).astype("float32")
    inputs = keras.Input((6,))
    h = layers.Dense(4, activation="relu", name="h")(inputs)
    model = keras.Model(inputs, [layers.Dense(1, name="a")(h), layers.Dense(2, name="b")(h)])
    model.add_metric(keras.backend.mean(h), name="h_mean")
    model.compile(keras.optimizers.SGD(0.0), loss={"a": "mse", "b": "mae"},
                  loss_weights={"a": 1.0, "b": 0.5}, steps_per_execution=4)
    kinds = []
    real = model._trainer.train_step
    model._trainer.train_step = lambda kind, *args: (kinds.append(kind), real(kind, *args))
    logs = model.fit(x, [ya, yb], batch_size=32, epochs=1, shuffle=False,
                     verbose=0).history
    assert kinds == ["stack", "stack"]
    kh, bh, ka, ba, kb, bb = model.get_weights()
    hidden = np.maximum(x @ kh + bh, 0)
    a_loss = np.mean((hidden @ ka + ba - ya) ** 2)
    b_loss = np.mean(np.abs(hidden @ kb + bb - yb))
    want = {"loss": a_loss + 0.5 * b_loss, "a_loss": a_loss, "b_loss": b_loss,
            "h_mean": hidden.mean()}
    for name, value in want.items():
        np.testing.assert_allclose(logs[name][0], value, rtol=1e-5, err_msg=name)


def test_on_an_accelerator_zeroed_metrics_are_made_on_the_device(monkeypatch):
    """Where a copy from the host is slow (a GPU host), each epoch's zeroed accumulators
    come from a program with no inputs, compiled ahead with the first step: only the
    index tables are uploaded."""
    monkeypatch.setattr(trainer_module, "zeros_on_device", lambda: True)
    x, y = _data(512)
    model = _model()
    seen = _fit_compiles(model, x, y, batch_size=64, epochs=2)
    assert any(name == "zero_metrics" and thread.startswith("jkeras-compile")
               for name, thread in seen), seen
    counter = _PutCounter(monkeypatch)
    history = model.fit(x, y, batch_size=64, epochs=3, verbose=0)
    assert counter.count == 3  # the index tables
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_predict_takes_the_first_inputs_samples_as_keras2_did():
    """Keras 2.3 predicted the first input's samples, with the same rows of the others
    (cnn_seq2seq decodes 100 sentences against a 10,000-row decoder array); a shorter
    later input is an error."""
    a, b = layers.Input((3,)), layers.Input((2,))
    model = keras.Model([a, b], layers.Dense(1)(layers.concatenate([a, b])))
    rng = np.random.default_rng(0)
    first, second = rng.random((4, 3), "float32"), rng.random((10, 2), "float32")
    with pytest.warns(UserWarning, match=r": 4, \S+: 10\)"):
        out = model.predict([first, second], verbose=0)
    np.testing.assert_allclose(out, model.predict([first, second[:4]], verbose=0))
    with pytest.raises(ValueError, match="fewer than the first"):
        model.predict([rng.random((10, 3), "float32"), second[:4]], verbose=0)


def test_a_plan_drawn_ahead_is_the_one_the_next_call_would_draw():
    keras.utils.set_random_seed(3)
    plan = epoch_iterator.epoch_plan(1000, 64, True, _config.next_seed())
    plan.draw_next_call(0)
    seed = _config.next_seed()
    ahead = epoch_iterator.epoch_plan(1000, 64, True, seed)(0)
    assert not epoch_iterator._DRAWN_AHEAD  # taken
    fresh = epoch_iterator.epoch_plan(1000, 64, True, seed)(0)
    assert [s for s, _ in ahead] == [s for s, _ in fresh] == [64, 40]
    for (_, a), (_, b) in zip(ahead, fresh):
        np.testing.assert_array_equal(a, b)
    # a call of another size, or another epoch, draws its own
    plan.draw_next_call(0)
    other = epoch_iterator.epoch_plan(999, 64, True, _config.next_seed())(0)
    assert sum(len(t) * s for s, t in other) == 999
    assert epoch_iterator._DRAWN_AHEAD  # left for a call that matches, or replaced


@pytest.mark.slow
def test_drawing_the_next_calls_plan_ahead_changes_no_result(monkeypatch):
    """On accelerators a fit's last epoch draws the next call's first permutation while
    the host waits; forced on here, two fits in a row must train exactly as without."""
    x, y = _data(64 * 12 + 17, seed=9)

    def run(ahead):
        monkeypatch.setattr(loop, "_host_waits_for_device", lambda: ahead)
        epoch_iterator._DRAWN_AHEAD.clear()
        keras.utils.set_random_seed(11)
        model = _model()
        losses = []
        for _ in range(2):
            losses += model.fit(x, y, batch_size=64, epochs=2, verbose=0).history["loss"]
            if ahead:  # drawn for the seed the next call will take
                (key,) = epoch_iterator._DRAWN_AHEAD
                assert key[4] == _config.peek_seed()
        return losses, model.get_weights()

    (l0, w0), (l1, w1) = run(False), run(True)
    assert l0 == l1
    for a, b in zip(w0, w1):
        np.testing.assert_array_equal(a, b)
