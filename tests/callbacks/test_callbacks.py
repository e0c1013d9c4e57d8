"""Callbacks: each argument's effect, checked against real Keras where its callback can be
driven the same way, and otherwise against sequences worked out by hand from Keras 2's
rules (noted beside each expectation)."""
import contextlib
import http.server
import json
import os
import subprocess
import sys
import textwrap
import threading
import urllib.parse
import warnings

import numpy as np
import pytest

import jkeras
from benchmarks.device_reads import count_device_reads
from jkeras import callbacks, layers
from jkeras.models import Sequential

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---------------------------------------------------------------------------------- helpers
@pytest.fixture
def data(rng):
    x = rng.standard_normal((20, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [1.5]], "float32")).astype("float32")
    return x, y


def _model(lr=0.05, metrics=None, loss="mse", units=1, activation=None):
    model = Sequential([jkeras.Input(shape=(4,)),
                        layers.Dense(3, activation="tanh", name="hidden"),
                        layers.Dense(units, activation=activation, name="out")])
    model.compile(jkeras.optimizers.SGD(lr), loss, metrics=metrics)
    return model


def _inject(key, values):
    """A callback that overwrites `logs[key]` with values[epoch]: a monitored sequence
    known in advance, seen by the callbacks listed after it."""
    return callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: logs.__setitem__(key, values[epoch]))


def _weights_per_epoch(model, store):
    return callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: store.append(model.get_weights()))


def _assert_weights_equal(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


class _FileModel:
    """Stands in for a model in ModelCheckpoint unit tests: save()/save_weights() write a
    small file saying what was saved and at which epoch (`tag`)."""

    def __init__(self):
        self.stop_training = False
        self.tag = None
        self.saved = []

    def save(self, path, overwrite=True, **kwargs):
        self._write(path, "model", kwargs)

    def save_weights(self, path, overwrite=True, **kwargs):
        self._write(path, "weights", kwargs)

    def _write(self, path, kind, kwargs):
        with open(path, "w") as f:
            f.write(f"{kind}:{self.tag}")
        self.saved.append((os.path.basename(path), kind, kwargs))


def _drive(callback, model, epoch_logs, params=None):
    """Runs the epoch hooks of `callback` over the given per-epoch logs, as fit would."""
    callback.set_model(model)
    callback.set_params(params or {"epochs": len(epoch_logs), "verbose": 0})
    callback.on_train_begin({})
    for epoch, logs in enumerate(epoch_logs):
        model.tag = epoch
        callback.on_epoch_begin(epoch, {})
        callback.on_epoch_end(epoch, dict(logs))
        if model.stop_training:
            break
    callback.on_train_end({})


# ---------------------------------------------------------------------------------- monitors
@pytest.mark.parametrize("monitor, mode", [
    ("loss", "min"), ("val_loss", "min"), ("mae", "min"), ("val_mean_squared_error", "min"),
    ("acc", "max"), ("val_acc", "max"), ("accuracy", "max"), ("val_accuracy", "max"),
    ("val_categorical_accuracy", "max"), ("fmeasure", "max"), ("val_fmeasure", "max"),
    ("auc", "max"), ("val_auc", "max"), ("precision", "max"), ("val_recall", "max"),
])
def test_auto_mode_follows_keras_2_names(monitor, mode):
    assert callbacks.monitor_mode(monitor, "auto") == mode
    assert callbacks.EarlyStopping(monitor=monitor).mode == mode
    assert callbacks.ReduceLROnPlateau(monitor=monitor).mode == mode
    assert callbacks.ModelCheckpoint("m.h5", monitor=monitor).mode == mode


def test_unknown_mode_warns_and_falls_back_to_auto():
    with pytest.warns(RuntimeWarning, match="mode 'sideways' is unknown"):
        stopper = callbacks.EarlyStopping(monitor="val_acc", mode="sideways")
    assert stopper.mode == "max"


def test_missing_monitor_warns_once_listing_available_keys():
    stopper = callbacks.EarlyStopping(monitor="val_loss", patience=0)
    model = _FileModel()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _drive(stopper, model, [{"loss": 1.0, "mae": 2.0}] * 3)
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1
    assert "`val_loss`" in messages[0] and "loss, mae" in messages[0]
    assert not model.stop_training


def test_lookup_treats_acc_and_accuracy_as_one_name():
    assert callbacks.lookup({"val_accuracy": 0.5}, "val_acc") == 0.5
    assert callbacks.lookup({"acc": 0.25}, "accuracy") == 0.25
    assert callbacks.lookup({"loss": 1.0}, "val_acc") is None


# ---------------------------------------------------------------------------------- EarlyStopping
class _StubModel:
    stop_training = False

    def __init__(self):
        self.stop_training = False


@pytest.mark.parametrize("kwargs, values", [
    ({"patience": 0}, [1.0, 0.9, 0.95, 0.8]),
    ({"patience": 2}, [1.0, 0.9, 0.95, 0.91, 0.92, 0.5]),
    ({"patience": 1, "min_delta": 0.05}, [1.0, 0.97, 0.96, 0.5]),
    ({"patience": 2, "baseline": 0.85}, [1.0, 0.8, 0.9, 0.82, 0.81, 0.83]),
    ({"patience": 1, "start_from_epoch": 2}, [1.0, 2.0, 3.0, 4.0, 5.0]),
    ({"patience": 1, "mode": "max"}, [0.1, 0.2, 0.15, 0.1]),
])
def test_early_stopping_stops_where_keras_does(keras_ref, kwargs, values):
    # Keras 3 (like tf.keras >= 2.13) never stops in an epoch that improved on the best,
    # even without beating `baseline`; Keras 2.2-2.12 stop when the baseline is not
    # beaten within `patience` epochs, as jkeras does (test_early_stopping_baseline_...).
    # The sequences here are ones where both rules agree.
    kwargs = dict({"mode": "min"}, **kwargs)
    results = []
    for lib in (callbacks, keras_ref.callbacks):
        stopper = lib.EarlyStopping(monitor="score", **kwargs)
        model = _StubModel()
        stopper.set_model(model)
        stopper.on_train_begin({})
        for epoch, value in enumerate(values):
            stopper.on_epoch_end(epoch, {"score": value})
            if model.stop_training:
                break
        results.append((stopper.stopped_epoch, stopper.wait, float(stopper.best)))
    assert results[0] == results[1]


def test_early_stopping_restores_best_weights_only_when_stopped(data, capsys):
    x, y = data
    jkeras.utils.set_random_seed(0)
    model = _model()
    seen = []
    stopper = callbacks.EarlyStopping(monitor="score", patience=2, verbose=1,
                                      restore_best_weights=True)
    history = model.fit(x, y, batch_size=5, epochs=10, verbose=0, callbacks=[
        _inject("score", [3.0, 1.0, 2.0, 2.5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]),
        _weights_per_epoch(model, seen), stopper])
    # Best at epoch 1; epochs 2 and 3 do not improve, so patience 2 stops at epoch 3.
    assert len(history.history["loss"]) == 4
    assert stopper.stopped_epoch == 3 and stopper.best == 1.0 and stopper.best_epoch == 1
    _assert_weights_equal(model.get_weights(), seen[1])
    out = capsys.readouterr().out
    assert "Epoch 00004: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 2." in out

    # Not stopped early: Keras 2 keeps the last epoch's weights.
    seen = []
    model.fit(x, y, batch_size=5, epochs=3, verbose=0, callbacks=[
        _inject("score", [3.0, 1.0, 2.0]), _weights_per_epoch(model, seen),
        callbacks.EarlyStopping(monitor="score", patience=5, restore_best_weights=True)])
    _assert_weights_equal(model.get_weights(), seen[-1])


def test_early_stopping_baseline_stops_when_never_beaten(data):
    x, y = data
    model = _model()
    stopper = callbacks.EarlyStopping(monitor="score", patience=3, baseline=0.5)
    history = model.fit(x, y, epochs=10, verbose=0, callbacks=[
        _inject("score", [0.9, 0.8, 0.7, 0.6, 0.55, 0.54, 0.53, 0.52, 0.51, 0.5]), stopper])
    # Improving but never below 0.5: the count is never reset, so epoch 2 (wait 3) stops.
    assert len(history.history["loss"]) == 3 and stopper.stopped_epoch == 2
    model = _model()
    stopper = callbacks.EarlyStopping(monitor="score", patience=3, baseline=0.5)
    history = model.fit(x, y, epochs=6, verbose=0, callbacks=[
        _inject("score", [0.9, 0.4, 0.45, 0.46, 0.47, 0.3]), stopper])
    # Beaten at epoch 1, then 3 epochs without improvement: stops at epoch 4.
    assert len(history.history["loss"]) == 5 and stopper.stopped_epoch == 4


def test_early_stopping_on_val_acc_reads_val_accuracy(data):
    x, y = data
    labels = (y > 0).astype("float32")
    model = _model(metrics=["accuracy"], loss="binary_crossentropy", activation="sigmoid")
    stopper = callbacks.EarlyStopping(monitor="val_acc", patience=1)
    history = model.fit(x, labels, epochs=8, verbose=0, validation_data=(x, labels),
                        callbacks=[_inject("val_accuracy", [0.5, 0.6, 0.6, 0.7, 0.7, 0.7,
                                                            0.7, 0.7]), stopper])
    # Maximised (auto mode for an accuracy): 0.6 at epoch 2 does not improve on 0.6.
    assert stopper.mode == "max" and stopper.best == 0.6
    assert len(history.history["val_accuracy"]) == 3


# ---------------------------------------------------------------------------------- ModelCheckpoint
def test_checkpoint_best_only_min_mode_writes_improvements(tmp_path):
    model = _FileModel()
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "w-{epoch:02d}-{val_loss:.2f}.h5"),
                                           save_best_only=True)
    _drive(checkpoint, model, [{"val_loss": v} for v in (0.5, 0.7, 0.4, 0.4, 0.1)])
    assert sorted(os.listdir(tmp_path)) == ["w-01-0.50.h5", "w-03-0.40.h5", "w-05-0.10.h5"]
    assert (tmp_path / "w-05-0.10.h5").read_text() == "model:4"
    assert checkpoint.best == 0.1


def test_checkpoint_best_only_max_mode_with_acc_names(tmp_path):
    model = _FileModel()
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "best-{epoch}-{val_acc:.2f}.keras"),
                                           monitor="val_acc", save_best_only=True,
                                           save_weights_only=True)
    _drive(checkpoint, model, [{"val_accuracy": v, "loss": 1.0}
                               for v in (0.2, 0.6, 0.5, 0.9)])
    assert sorted(os.listdir(tmp_path)) == ["best-1-0.20.keras", "best-2-0.60.keras",
                                            "best-4-0.90.keras"]
    assert {kind for _, kind, _ in model.saved} == {"weights"}
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "same.h5"), monitor="acc",
                                           mode="min", save_best_only=True)
    _drive(checkpoint, model, [{"accuracy": v} for v in (0.5, 0.6, 0.4)])
    assert (tmp_path / "same.h5").read_text() == "model:2" and checkpoint.best == 0.4


def test_checkpoint_templates_find_either_accuracy_spelling(tmp_path):
    model = _FileModel()
    checkpoint = callbacks.ModelCheckpoint(
        str(tmp_path / "{epoch:03d}-{acc:.3f}-{val_accuracy:.1f}.msgpack"), monitor="loss")
    _drive(checkpoint, model, [{"accuracy": 0.25, "val_acc": 0.5, "loss": 1.0}])
    assert os.listdir(tmp_path) == ["001-0.250-0.5.msgpack"]
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        _drive(callbacks.ModelCheckpoint(str(tmp_path / "{nope}.h5")), model, [{"loss": 1}])


def test_checkpoint_period_saves_every_n_epochs(tmp_path):
    model = _FileModel()
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "{epoch}.hdf5"), period=2)
    _drive(checkpoint, model, [{"val_loss": 1.0}] * 7)
    assert sorted(os.listdir(tmp_path), key=lambda n: int(n.split(".")[0])) == \
        ["2.hdf5", "4.hdf5", "6.hdf5"]


def test_checkpoint_verbose_messages_as_keras_2(tmp_path, capsys):
    model = _FileModel()
    path = str(tmp_path / "m.h5")
    _drive(callbacks.ModelCheckpoint(path, verbose=1, save_best_only=True), model,
           [{"val_loss": 0.5}, {"val_loss": 0.7}])
    out = capsys.readouterr().out
    assert f"Epoch 00001: val_loss improved from inf to 0.50000, saving model to {path}" in out
    assert "Epoch 00002: val_loss did not improve from 0.50000" in out
    _drive(callbacks.ModelCheckpoint(path, verbose=1), model, [{"val_loss": 0.5}])
    assert f"Epoch 00001: saving model to {path}" in capsys.readouterr().out


def test_checkpoint_argument_checks():
    with pytest.raises(ValueError, match="Unrecognized save_freq"):
        callbacks.ModelCheckpoint("m.h5", save_freq="batch")
    with pytest.raises(ValueError, match="period"):
        callbacks.ModelCheckpoint("m.h5", period=0)
    with pytest.raises(TypeError, match="Unrecognized arguments"):
        callbacks.ModelCheckpoint("m.h5", frequency=3)


def test_checkpoint_save_freq_counts_batches(data, tmp_path, monkeypatch):
    x, y = data
    model = _model()
    saved = []
    monkeypatch.setattr(type(model), "save", lambda self, path, **kw: saved.append(
        os.path.basename(path)), raising=True)
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "e{epoch}-b{batch}.h5"),
                                           save_freq=3)
    assert callbacks.CallbackList([checkpoint]).has_train_batch_hooks
    assert not callbacks.CallbackList([callbacks.ModelCheckpoint("m.h5")]).has_train_batch_hooks
    model.fit(x, y, batch_size=5, epochs=3, verbose=0, callbacks=[checkpoint])
    # 4 batches an epoch, 12 in all: saved after the 3rd, 6th, 9th and 12th.
    assert saved == ["e1-b3.h5", "e2-b2.h5", "e3-b1.h5", "e3-b4.h5"]


@pytest.mark.parametrize("extension", [".h5", ".keras", ".msgpack"])
def test_checkpoint_files_hold_the_best_epoch_weights(data, tmp_path, extension):
    x, y = data
    jkeras.utils.set_random_seed(1)
    model = _model()
    seen = []
    weights_only = extension != ".keras"
    pattern = str(tmp_path / ("w{epoch:02d}" + extension))
    model.fit(x, y, batch_size=5, epochs=5, verbose=0, callbacks=[
        _inject("val_loss", [0.9, 0.5, 0.7, 0.3, 0.6]), _weights_per_epoch(model, seen),
        callbacks.ModelCheckpoint(pattern, save_best_only=True,
                                  save_weights_only=weights_only)])
    assert sorted(os.listdir(tmp_path)) == [f"w0{e}{extension}" for e in (1, 2, 4)]
    for epoch in (1, 2, 4):
        fresh = _model()
        path = pattern.format(epoch=epoch)
        if weights_only:
            fresh.load_weights(path)
        else:
            fresh = jkeras.models.load_model(path)
        _assert_weights_equal(fresh.get_weights(), seen[epoch - 1])


# ---------------------------------------------------------------------------------- CSVLogger
def _read_csv(path, sep=","):
    with open(path) as f:
        return [line.rstrip("\r\n").split(sep) for line in f]


def test_csv_logger_rows_and_append(data, tmp_path):
    x, y = data
    path = str(tmp_path / "log.csv")
    model = _model(metrics=["mae"])
    history = model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y),
                        callbacks=[callbacks.CSVLogger(path)])
    rows = _read_csv(path)
    assert rows[0] == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert [r[0] for r in rows[1:]] == ["0", "1"]
    for i, key in enumerate(rows[0][1:], start=1):
        np.testing.assert_allclose([float(r[i]) for r in rows[1:]], history.history[key])
    model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y),
              callbacks=[callbacks.CSVLogger(path, append=True)])
    rows = _read_csv(path)
    assert len(rows) == 5 and rows.count(rows[0]) == 1 and rows[3][0] == "0"
    model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y),
              callbacks=[callbacks.CSVLogger(path, separator=";")])
    rows = _read_csv(path, ";")
    assert rows[0] == ["epoch", "loss", "mae", "val_loss", "val_mae"] and len(rows) == 2


def test_csv_logger_keeps_val_columns_when_validation_is_not_every_epoch(data, tmp_path):
    x, y = data
    path = str(tmp_path / "log.csv")
    _model().fit(x, y, epochs=2, verbose=0, validation_data=(x, y), validation_freq=2,
                 callbacks=[callbacks.CSVLogger(path)])
    rows = _read_csv(path)
    assert rows[0] == ["epoch", "loss", "val_loss"] and rows[1][2] == "NA"
    assert rows[2][2] != "NA"


# ---------------------------------------------------------------------------------- learning rate
def _lr_trace(lib, model, callback, scores, lr_key):
    """Feeds `scores` to `callback` as epoch logs; returns the lr logged each epoch."""
    callback.set_model(model)
    callback.on_train_begin({})
    trace = []
    for epoch, score in enumerate(scores):
        logs = {"score": score}
        callback.on_epoch_end(epoch, logs)
        trace.append(np.float32(logs[lr_key]))
    return trace


@pytest.mark.parametrize("kwargs", [
    {"patience": 2, "cooldown": 0},
    {"patience": 2, "cooldown": 2},
    {"patience": 1, "cooldown": 1, "min_lr": 0.02},
    {"patience": 1, "min_delta": 0.2},
])
def test_reduce_lr_on_plateau_matches_keras(keras_ref, kwargs):
    scores = [1.0, 1.0, 0.9, 1.0, 1.0, 1.0, 0.5, 0.45, 0.45, 0.45, 0.45, 0.45]
    theirs = keras_ref.Sequential([keras_ref.Input(shape=(2,)), keras_ref.layers.Dense(1)])
    theirs.compile(keras_ref.optimizers.SGD(0.1), "mse")
    theirs.optimizer.build(theirs.trainable_variables)
    expected = _lr_trace(keras_ref, theirs, keras_ref.callbacks.ReduceLROnPlateau(
        monitor="score", factor=0.5, mode="min", **kwargs), scores, "learning_rate")
    ours = _model(lr=0.1)
    got = _lr_trace(jkeras, ours, callbacks.ReduceLROnPlateau(
        monitor="score", factor=0.5, mode="min", **kwargs), scores, "lr")
    assert got == expected


def test_reduce_lr_on_plateau_in_fit_logs_each_epoch_lr(data, capsys):
    x, y = data
    model = _model(lr=0.1)
    reducer = callbacks.ReduceLROnPlateau(monitor="score", factor=0.5, patience=2,
                                          cooldown=2, min_lr=0.02, verbose=1)
    history = model.fit(x, y, epochs=11, verbose=0, callbacks=[
        _inject("score", [1.0] * 11), reducer])
    # Never improves after epoch 0. Reductions at epochs 2 (wait 2), 5 (two cooldown
    # epochs, the second of which already counts: Keras decrements before testing),
    # 8 (0.025 -> 0.0125, floored at min_lr 0.02); at 0.02 no more reductions.
    f = np.float32
    expected = [f(0.1)] * 3 + [f(0.05)] * 3 + [f(0.025)] * 3 + [f(0.02)] * 2
    assert history.history["lr"] == expected
    assert float(jkeras.backend.get_value(model.optimizer.lr)) == pytest.approx(0.02)
    out = capsys.readouterr().out
    assert "Epoch 00003: ReduceLROnPlateau reducing learning rate to 0.05" in out


def test_reduce_lr_on_plateau_arguments():
    with pytest.raises(ValueError, match="factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=1.5)
    with pytest.warns(DeprecationWarning, match="epsilon"):
        reducer = callbacks.ReduceLROnPlateau(epsilon=0.5)
    assert reducer.min_delta == 0.5


def test_learning_rate_scheduler_one_and_two_argument_schedules(data, capsys):
    x, y = data
    model = _model(lr=0.1)
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[
        callbacks.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1), verbose=1)])
    np.testing.assert_array_equal(history.history["lr"],
                                  np.float32([0.01, 0.02, 0.03]))
    assert "Epoch 00002: LearningRateScheduler setting learning rate to 0.02." in \
        capsys.readouterr().out
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[
        callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)])
    # Starts from the rate the previous fit left: 0.03.
    np.testing.assert_allclose(history.history["lr"], [0.015, 0.0075, 0.00375], rtol=1e-6)


def test_learning_rate_scheduler_rate_is_used_by_the_step(data):
    x, y = data
    model = _model(lr=0.1)
    before = model.get_weights()
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[callbacks.LearningRateScheduler(lambda epoch: 0.0)])
    _assert_weights_equal(model.get_weights(), before)


def test_learning_rate_scheduler_rejects_non_numbers(data):
    x, y = data
    with pytest.raises(ValueError, match='output of the "schedule" function'):
        _model().fit(x, y, epochs=1, verbose=0,
                     callbacks=[callbacks.LearningRateScheduler(lambda epoch: "fast")])


# ---------------------------------------------------------------------------------- others
def test_terminate_on_nan_stops_at_the_bad_batch(data, capsys):
    x, y = data
    x = x.copy()
    x[12, 0] = np.nan  # in batch 2 of 4 (batch_size 5, no shuffling)
    seen = []
    history = _model().fit(x, y, batch_size=5, epochs=3, shuffle=False, verbose=0,
                           callbacks=[callbacks.TerminateOnNaN(), callbacks.LambdaCallback(
                               on_batch_end=lambda batch, logs: seen.append(batch))])
    assert seen == [0, 1, 2]
    assert len(history.history["loss"]) == 1 and np.isnan(history.history["loss"][0])
    assert "Batch 2: Invalid loss, terminating training" in capsys.readouterr().out


def test_lambda_callback_calls_each_function(data):
    x, y = data
    calls = []
    lam = callbacks.LambdaCallback(
        on_train_begin=lambda logs: calls.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: calls.append(f"epoch_begin {epoch}"),
        on_batch_begin=lambda batch, logs: calls.append(f"batch_begin {batch}"),
        on_batch_end=lambda batch, logs: calls.append(f"batch_end {batch} {'loss' in logs}"),
        on_epoch_end=lambda epoch, logs: calls.append(f"epoch_end {epoch} {sorted(logs)}"),
        on_train_end=lambda logs: calls.append("train_end"),
        on_test_end=lambda logs: calls.append("test_end"))
    _model().fit(x, y, batch_size=10, epochs=2, verbose=0, callbacks=[lam])
    epoch = ["batch_begin 0", "batch_end 0 True", "batch_begin 1", "batch_end 1 True"]
    assert calls == (["train_begin", "epoch_begin 0"] + epoch + ["epoch_end 0 ['loss']",
                     "epoch_begin 1"] + epoch + ["epoch_end 1 ['loss']", "train_end"])
    _model().evaluate(x, y, verbose=0, callbacks=[lam])
    assert calls[-1] == "test_end"
    epoch_only = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: None)
    assert not callbacks.CallbackList([epoch_only]).has_train_batch_hooks
    assert callbacks.CallbackList([lam]).has_train_batch_hooks


@contextlib.contextmanager
def _http_server():
    """A server on 127.0.0.1 that records each POST as (path, headers, body)."""
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, dict(self.headers), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", received
    finally:
        server.shutdown()
        server.server_close()


def test_remote_monitor_posts_each_epoch(data):
    x, y = data
    model = _model()
    with _http_server() as (root, received):
        history = model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.RemoteMonitor(
            root=root, headers={"X-Run": "7"})])
        model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.RemoteMonitor(
            root=root, path="/json", send_as_json=True)])
    assert [r[0] for r in received] == ["/publish/epoch/end/"] * 2 + ["/json"]
    form = urllib.parse.parse_qs(received[1][2].decode())
    assert json.loads(form["data"][0]) == {"epoch": 1, "loss": history.history["loss"][1]}
    assert received[0][1]["X-Run"] == "7"
    assert received[2][1]["Content-Type"] == "application/json"
    assert json.loads(received[2][2])["epoch"] == 0


def test_remote_monitor_warns_when_unreachable(data):
    x, y = data
    with _http_server() as (root, _):
        pass  # the port is closed again
    with pytest.warns(RuntimeWarning, match="could not reach RemoteMonitor root server"):
        _model().fit(x, y, epochs=1, verbose=0,
                     callbacks=[callbacks.RemoteMonitor(root=root, timeout=2)])


# ---------------------------------------------------------------------------------- backup
BACKUP_SCRIPT = textwrap.dedent("""
    import os, sys
    import numpy as np
    import jkeras as keras
    backup_dir, out, kill_epoch, kill_batch, save_freq = sys.argv[1:6]
    kill_epoch, kill_batch = int(kill_epoch), int(kill_batch)
    save_freq = save_freq if save_freq == "epoch" else int(save_freq)
    keras.utils.set_random_seed(42)
    x = np.random.random((24, 4)).astype("float32")
    y = np.random.random((24, 2)).astype("float32")
    model = keras.Sequential([keras.Input(shape=(4,)),
                              keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dropout(0.25), keras.layers.Dense(2)])
    model.compile(keras.optimizers.Adam(0.01), "mse")

    class Kill(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == kill_epoch and kill_batch < 0:
                os._exit(3)

        def on_batch_end(self, batch, logs=None):
            if self._epoch == kill_epoch and batch == kill_batch:
                os._exit(3)

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch = epoch

    backup = keras.callbacks.BackupAndRestore(backup_dir, save_freq=save_freq)
    history = model.fit(x, y, batch_size=6, epochs=5, verbose=0,
                        callbacks=[backup, Kill()])
    np.savez(out, *model.get_weights(), epochs=len(history.history["loss"]))
""")


@pytest.fixture(scope="module")
def uninterrupted_run(tmp_path_factory):
    """The backup script's result when nothing interrupts it."""
    tmp_path = tmp_path_factory.mktemp("whole")
    whole = _run_backup_script(tmp_path, tmp_path / "backup", tmp_path / "whole.npz")
    assert whole.returncode == 0, whole.stderr
    return _load(tmp_path / "whole.npz")


def _run_backup_script(tmp_path, backup_dir, out, kill_epoch=-1, kill_batch=-1,
                       save_freq="epoch"):
    script = tmp_path / "train.py"
    script.write_text(BACKUP_SCRIPT)
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""),
               JAX_PLATFORMS="cpu")
    return subprocess.run([sys.executable, str(script), str(backup_dir), str(out),
                           str(kill_epoch), str(kill_batch), str(save_freq)],
                          env=env, capture_output=True, text=True, timeout=300)


def _load(path):
    with np.load(path) as f:
        arrays = [f[f"arr_{i}"] for i in range(len(f.files) - 1)]
        return arrays, int(f["epochs"])


@pytest.mark.parametrize("save_freq, kill_epoch, kill_batch, resumed_epochs", [
    ("epoch", 2, -1, 2),  # killed after epoch 2's backup: epochs 3 and 4 remain
    (2, 3, 2, 2),         # killed inside epoch 3, after the backup at its batch 1
])
@pytest.mark.slow
def test_backup_and_restore_resumes_bit_for_bit(tmp_path, uninterrupted_run, save_freq,
                                                kill_epoch, kill_batch, resumed_epochs):
    killed = _run_backup_script(tmp_path, tmp_path / "b1", tmp_path / "never.npz",
                                kill_epoch, kill_batch, save_freq)
    assert killed.returncode == 3, killed.stderr
    assert os.listdir(tmp_path / "b1") == ["training_state.msgpack"]
    resumed = _run_backup_script(tmp_path, tmp_path / "b1", tmp_path / "resumed.npz",
                                 save_freq=save_freq)
    assert resumed.returncode == 0, resumed.stderr
    expected, epochs = uninterrupted_run
    got, resumed_count = _load(tmp_path / "resumed.npz")
    assert epochs == 5 and resumed_count == resumed_epochs
    _assert_weights_equal(got, expected)
    assert os.listdir(tmp_path / "b1") == []  # deleted at the end (delete_checkpoint)


def test_backup_file_roundtrip_and_mismatch(data, tmp_path):
    x, y = data
    model = _model()
    backup = callbacks.BackupAndRestore(str(tmp_path), delete_checkpoint=False)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[backup])
    with open(backup.backup_path, "rb") as f:
        blob = f.read()
    snapshot, record = callbacks.unpack_training_state(blob, model.get_training_state())
    assert record["epoch"] == 1 and record["step"] is None
    for a, b in zip(snapshot["variables"]["params"]["hidden"].values(),
                    model.get_training_state()["variables"]["params"]["hidden"].values()):
        np.testing.assert_array_equal(a, b)
    other = Sequential([jkeras.Input(shape=(4,)), layers.Dense(5), layers.Dense(1)])
    other.compile(jkeras.optimizers.SGD(0.05), "mse")
    with pytest.raises(ValueError, match="does not match this model"):
        other.fit(x, y, epochs=1, verbose=0,
                  callbacks=[callbacks.BackupAndRestore(str(tmp_path))])
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.BackupAndRestore(str(tmp_path), save_freq=0)


def test_backup_keeps_a_learning_rate_changed_after_it(data, tmp_path):
    x, y = data
    model = _model(lr=0.1)
    backup = callbacks.BackupAndRestore(str(tmp_path), delete_checkpoint=False)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[backup, callbacks.ReduceLROnPlateau(
        monitor="loss", patience=1, min_delta=100.0, factor=0.5)])
    # Epoch 1 (wait 1 >= patience 1) halves the rate after the backup was written.
    with open(backup.backup_path, "rb") as f:
        _, record = callbacks.unpack_training_state(f.read(), model.get_training_state())
    assert record["epoch"] == 1
    assert record["hyperparameters"] == {"learning_rate": pytest.approx(0.05)}
    fresh = _model(lr=0.1)
    fresh.fit(x, y, epochs=3, verbose=0, callbacks=[callbacks.BackupAndRestore(str(tmp_path))])
    assert float(jkeras.backend.get_value(fresh.optimizer.lr)) == pytest.approx(0.05)


def test_backup_is_written_atomically(tmp_path, monkeypatch):
    target = tmp_path / "state.msgpack"
    callbacks.write_atomically(str(target), b"old")

    def broken_replace(src, dst):
        raise OSError("disk went away")
    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        callbacks.write_atomically(str(target), b"new")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["state.msgpack"]


# ---------------------------------------------------------------------------------- host syncs
class _BatchLogReader(callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        logs["loss"]


def _reads_per_fit(x, y, batch_size, extra=(), verbose=0):
    model = _model()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)  # compile the steps
    with contextlib.redirect_stdout(open(os.devnull, "w")), count_device_reads() as count:
        model.fit(x, y, batch_size=batch_size, epochs=2, verbose=verbose,
                  callbacks=list(extra))
    return count[0]


# The same fit under jax's device-to-host transfer guard needs a GPU (on the CPU backend no
# transfer happens, so the guard cannot fire): benchmarks/sync_count.py runs it there.
def test_quiet_fit_does_not_read_the_device_per_step(data):
    x, y = data
    # 2 steps an epoch against 10: reads that happen per step would differ by 16.
    few, many = _reads_per_fit(x, y, 10), _reads_per_fit(x, y, 2)
    assert few == many
    assert many <= 6  # a handful per fit: the shuffle seed, and one fetch an epoch
    # Reading batch logs costs one read a step, which is how the counter is known to work.
    assert _reads_per_fit(x, y, 2, [_BatchLogReader()]) - many == 2 * 10
    # Epoch-level built-in callbacks keep the step loop free of reads.
    quiet = [callbacks.EarlyStopping(monitor="loss"), callbacks.ModelCheckpoint(
        "unused.h5", save_freq="epoch", monitor="nothing", save_best_only=True),
        callbacks.TensorBoard(log_dir=os.devnull, write_graph=False)]
    assert not callbacks.CallbackList(quiet).has_train_batch_hooks


def test_backup_written_in_the_retired_layout_still_restores(data):
    # Before backups became checkpoints they were msgpack records of the state's leaves
    # in jax.tree_util order; such a file left by an interrupted run must still resume.
    import jax
    import msgpack
    x, y = data
    model = _model()
    model.fit(x, y, epochs=1, verbose=0)
    state = model.get_training_state()
    leaves, treedef = jax.tree_util.tree_flatten(state)
    record = {"format": "jkeras.BackupAndRestore", "version": 1, "epoch": 3, "step": None,
              "treedef": str(treedef), "hyperparameters": {"learning_rate": 0.5},
              "leaves": [{"dtype": np.asarray(v).dtype.name, "shape": list(np.shape(v)),
                          "bytes": np.asarray(v).tobytes()} for v in leaves]}
    blob = msgpack.packb(record, use_bin_type=True)
    snapshot, meta = callbacks.unpack_training_state(blob, state)
    assert meta == {"epoch": 3, "step": None, "hyperparameters": {"learning_rate": 0.5}}
    for got, want in zip(jax.tree_util.tree_leaves(snapshot), leaves):
        np.testing.assert_array_equal(got, want)


@pytest.mark.slow
def test_validated_fit_on_arrays_announces_its_sizes(capsys):
    """Keras 2.3 printed `Train on N samples, validate on M samples` before a validated
    fit on arrays with verbose set, and nothing of the kind otherwise."""
    model = Sequential([jkeras.Input((3,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.zeros((100, 3), "float32"), np.zeros((100, 1), "float32")
    model.fit(x, y, validation_split=0.2, epochs=1, verbose=2)
    assert capsys.readouterr().out.startswith("Train on 80 samples, validate on 20 samples\n")
    model.fit(x, y, validation_data=(x[:7], y[:7]), epochs=1, verbose=0)
    model.fit(x, y, epochs=1, verbose=2)
    assert "Train on" not in capsys.readouterr().out


def test_epoch_bar_line_comes_before_user_callbacks_output(capsys):
    """Keras 2.3 ran its ProgbarLogger before the user's callbacks: the epoch's line is
    printed, then what a user's on_epoch_end prints."""
    model = Sequential([jkeras.Input((3,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    shout = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: print("USER LINE"))
    model.fit(np.zeros((8, 3), "float32"), np.zeros((8, 1), "float32"), epochs=1,
              verbose=2, callbacks=[shout])
    out = capsys.readouterr().out
    assert out.index("loss:") < out.index("USER LINE"), out
