"""compile/fit/evaluate/predict: each argument's effect, checked against real Keras or
against a run whose result is known by construction."""
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import jkeras
from jkeras import layers
from jkeras.models import Model, Sequential


def _mlp(lib, in_dim=4, out_dim=3, activation="softmax"):
    model = lib.Sequential([lib.Input(shape=(in_dim,)),
                            lib.layers.Dense(8, activation="tanh"),
                            lib.layers.Dense(out_dim, activation=activation)])
    return model


@pytest.fixture
def data(rng):
    x = rng.standard_normal((20, 4)).astype("float32")
    labels = rng.integers(0, 3, 20)
    y = np.eye(3, dtype="float32")[labels]
    return x, y, labels


def _twin(keras_ref, **compile_kwargs):
    theirs = _mlp(keras_ref)
    ours = _mlp(jkeras)
    ours.set_weights(theirs.get_weights())
    theirs.compile(**compile_kwargs)
    ours.compile(**compile_kwargs)
    return ours, theirs


@pytest.mark.slow
def test_evaluate_matches_keras_with_metrics_and_sample_weights(keras_ref, data, rng):
    x, y, _ = data
    ours, theirs = _twin(keras_ref, optimizer="sgd", loss="categorical_crossentropy",
                         metrics=["accuracy", "mae"])
    weights = rng.random(20).astype("float32")
    weights[3] = 0.0
    for kwargs in ({}, {"sample_weight": weights}):
        expected = theirs.evaluate(x, y, batch_size=6, verbose=0, **kwargs)
        got = ours.evaluate(x, y, batch_size=6, verbose=0, **kwargs)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert ours.metrics_names == ["loss", "accuracy", "mae"]


def test_train_on_batch_matches_keras_sgd_step(keras_ref, data):
    x, y, _ = data
    theirs = _mlp(keras_ref)
    ours = _mlp(jkeras)
    ours.set_weights(theirs.get_weights())
    theirs.compile(optimizer=keras_ref.optimizers.SGD(0.1), loss="mse")
    ours.compile(optimizer=jkeras.optimizers.SGD(0.1), loss="mse")
    for _ in range(3):
        expected = theirs.train_on_batch(x, y)
        got = ours.train_on_batch(x, y)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_fit_without_shuffle_matches_keras_adam(keras_ref, data):
    x, y, _ = data
    theirs = _mlp(keras_ref)
    ours = _mlp(jkeras)
    ours.set_weights(theirs.get_weights())
    theirs.compile(keras_ref.optimizers.Adam(0.01), "categorical_crossentropy")
    ours.compile(jkeras.optimizers.Adam(0.01), "categorical_crossentropy")
    h_theirs = theirs.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    h_ours = ours.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(h_ours.history["loss"], h_theirs.history["loss"], rtol=1e-4)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_not_compiled_and_bad_inputs_raise():
    model = _mlp(jkeras)
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(np.zeros((2, 4)), np.zeros((2, 3)), verbose=0)
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"input.*shape \(None, 4\).*\(2, 5\)"):
        model.fit(np.zeros((2, 5)), np.zeros((2, 3)), verbose=0)
    with pytest.raises(ValueError, match="same number of samples"):
        model.fit(np.zeros((3, 4)), np.zeros((2, 3)), verbose=0)


def test_zero_sample_weight_removes_a_sample(data):
    x, y, _ = data
    weights = np.ones(20, "float32")
    weights[5] = 0.0
    results = []
    for target in (y, np.roll(y, 1, axis=1)):
        y_changed = y.copy()
        y_changed[5] = target[5]
        jkeras.utils.set_random_seed(3)
        model = _mlp(jkeras)
        model.compile("sgd", "categorical_crossentropy")
        model.fit(x, y_changed, sample_weight=weights, batch_size=5, epochs=2, verbose=0)
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_class_weight_equals_per_sample_weights(data):
    x, y, labels = data
    class_weight = {0: 1.0, 1: 3.0, 2: 0.5}
    results = []
    for kwargs in ({"class_weight": class_weight},
                   {"sample_weight": np.array([class_weight[l] for l in labels], "float32")}):
        jkeras.utils.set_random_seed(4)
        model = _mlp(jkeras)
        model.compile("sgd", "categorical_crossentropy")
        model.fit(x, y, batch_size=7, epochs=2, verbose=0, **kwargs)
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.slow
def test_validation_split_takes_last_samples_before_shuffling(data):
    x, y, _ = data
    model = _mlp(jkeras)
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, validation_split=0.25, epochs=1, verbose=0)
    val_loss, val_acc = model.evaluate(x[15:], y[15:], verbose=0)
    np.testing.assert_allclose(history.history["val_loss"][0], val_loss, rtol=1e-5)
    np.testing.assert_allclose(history.history["val_accuracy"][0], val_acc)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]


def test_initial_epoch_and_validation_freq(data):
    x, y, _ = data
    model = _mlp(jkeras)
    model.compile("sgd", "mse")
    history = model.fit(x, y, epochs=4, initial_epoch=1, verbose=0,
                        validation_data=(x, y), validation_freq=2)
    assert history.epoch == [1, 2, 3]
    assert len(history.history["loss"]) == 3 and len(history.history["val_loss"]) == 2


def test_evaluate_averages_over_samples_with_short_last_batch(data):
    x, y, _ = data
    model = _mlp(jkeras)
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    whole = model.evaluate(x, y, batch_size=20, verbose=0)
    batched = model.evaluate(x, y, batch_size=6, verbose=0)  # 6, 6, 6, 2
    np.testing.assert_allclose(batched, whole, rtol=1e-5)


@pytest.mark.slow
def test_steps_per_execution_gives_the_same_training(data):
    x, y, _ = data
    results = []
    for steps in (1, 2):
        jkeras.utils.set_random_seed(5)
        model = _mlp(jkeras)
        model.compile("adam", "categorical_crossentropy", steps_per_execution=steps)
        model.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_shuffle_batch_keeps_batches_together(data):
    x, y, _ = data
    model = _mlp(jkeras)
    model.compile("sgd", "mse")
    history = model.fit(x, y, batch_size=5, epochs=2, shuffle="batch", verbose=0)
    assert len(history.history["loss"]) == 2
    from jkeras.engine.data_adapter import batch_indices
    batches = batch_indices(20, 5, "batch", np.random.default_rng(0))
    assert sorted(tuple(sorted(b // 5)) for b in batches) == [(i,) * 5 for i in range(4)]


def test_multi_output_loss_weights_and_names(rng):
    inp = jkeras.Input(shape=(3,), name="inp")
    hidden = layers.Dense(4)(inp)
    main = layers.Dense(1, name="main_output")(hidden)
    aux = layers.Dense(2, name="aux_output")(hidden)
    model = Model(inp, [main, aux])
    model.compile("sgd", loss={"main_output": "mse", "aux_output": "mae"},
                  loss_weights={"main_output": 1.0, "aux_output": 0.2}, metrics=["mse"])
    x = rng.random((10, 3)).astype("float32")
    ys = {"main_output": rng.random((10, 1)), "aux_output": rng.random((10, 2))}
    logs = model.evaluate(x, ys, verbose=0, return_dict=True)
    assert model.metrics_names == ["loss", "main_output_loss", "aux_output_loss",
                                   "main_output_mse", "aux_output_mse"]
    np.testing.assert_allclose(
        logs["loss"], logs["main_output_loss"] + 0.2 * logs["aux_output_loss"], rtol=1e-5)
    main_pred, aux_pred = model.predict(x)
    np.testing.assert_allclose(logs["main_output_loss"],
                               np.mean((main_pred - ys["main_output"]) ** 2), rtol=1e-5)
    np.testing.assert_allclose(logs["aux_output_loss"],
                               np.mean(np.abs(aux_pred - ys["aux_output"])), rtol=1e-5)


def test_dict_inputs_by_name(rng):
    a = jkeras.Input(shape=(2,), name="left")
    b = jkeras.Input(shape=(3,), name="right")
    out = layers.Dense(1, name="out")(layers.concatenate([a, b]))
    model = Model([a, b], out)
    model.compile("sgd", "mse")
    x = {"right": rng.random((8, 3)), "left": rng.random((8, 2))}
    history = model.fit(x, {"out": rng.random((8, 1))}, epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1
    with pytest.raises(ValueError, match="left"):
        model.fit({"right": x["right"]}, rng.random((8, 1)), verbose=0)


def test_regularization_losses_are_added(rng):
    model = Sequential([layers.Dense(2, input_shape=(3,), kernel_regularizer="l2",
                                     use_bias=False)])
    model.compile("sgd", "mse")
    x, y = rng.random((5, 3)).astype("float32"), rng.random((5, 2)).astype("float32")
    (kernel,) = model.get_weights()
    expected = np.mean((x @ kernel - y) ** 2) + 0.01 * np.sum(kernel ** 2)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), expected, rtol=1e-5)


def test_temporal_sample_weights(rng):
    model = Sequential([layers.Dense(2, input_shape=(4, 3))])
    model.compile("sgd", "mse", sample_weight_mode="temporal")
    x, y = rng.random((3, 4, 3)).astype("float32"), rng.random((3, 4, 2)).astype("float32")
    weights = rng.random((3, 4)).astype("float32")
    pred = model.predict(x)
    per_step = np.mean((pred - y) ** 2, axis=-1)
    expected = np.sum(per_step * weights) / per_step.size
    np.testing.assert_allclose(model.evaluate(x, y, sample_weight=weights, verbose=0),
                               expected, rtol=1e-5)


class _Batches(jkeras.utils.Sequence):
    def __init__(self, x, y, batch_size):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, i):
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[s], self.y[s]

    def on_epoch_end(self):
        self.epochs_ended += 1


@pytest.mark.slow
def test_sequence_and_generator_inputs(data):
    x, y, _ = data
    model = _mlp(jkeras)
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    seq = _Batches(x, y, 6)
    history = model.fit(seq, epochs=2, verbose=0, workers=2)
    assert len(history.history["loss"]) == 2 and seq.epochs_ended == 2

    def generator():
        while True:
            for i in range(0, 20, 5):
                yield x[i:i + 5], y[i:i + 5]
    history = model.fit_generator(generator(), steps_per_epoch=4, epochs=1, verbose=0,
                                  validation_data=(x, y))
    assert "val_loss" in history.history
    np.testing.assert_allclose(model.evaluate_generator(generator(), steps=4),
                               model.evaluate(x, y, verbose=0), rtol=1e-5)
    assert model.predict_generator(generator(), steps=4).shape == (20, 3)
    assert model.predict(seq).shape == (20, 3)


def test_failing_generator_raises_in_fit(data):
    x, y, _ = data

    def broken():
        yield x[:5], y[:5]
        raise KeyError("broken batch")
    model = _mlp(jkeras)
    model.compile("sgd", "mse")
    with pytest.raises(KeyError, match="broken batch"):
        model.fit(broken(), steps_per_epoch=3, epochs=1, verbose=0)


def test_verbose_output(data, capsys):
    x, y, _ = data
    model = _mlp(jkeras)
    model.compile("sgd", "mse", metrics=["accuracy"])
    model.fit(x, y, batch_size=5, epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "- loss:" in out
    # Keras 2.3's line for verbose=2 (keras/utils/generic_utils.py, Progbar.update): the
    # rounded seconds and the means, nothing per unit
    assert re.search(r"^ - \d+s - loss: \d\.\d{4}(e[-+]\d\d)? - accuracy: \d\.\d{4}",
                     out, re.M), out
    model.fit(x, y, batch_size=5, epochs=1, verbose=1)
    out = capsys.readouterr().out
    assert "20/20 [==============================]" in out and "accuracy:" in out
    # its bar's end says "/step" though it counts samples
    assert re.search(r"20/20 \[=+\] - \d+s \d+[mu]?s/step - loss:", out), out
    model.fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


def test_learning_rate_set_from_a_callback_takes_effect(data):
    x, y, _ = data
    model = _mlp(jkeras)
    model.compile(jkeras.optimizers.SGD(lr=0.1), "mse")
    before = model.get_weights()

    class Freeze(jkeras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            jkeras.backend.set_value(self.model.optimizer.lr, 0.0)

    model.fit(x, y, epochs=1, verbose=0, callbacks=[Freeze()])
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert float(jkeras.backend.get_value(model.optimizer.lr)) == 0.0


def test_weights_changed_in_a_callback_take_effect_next_step(data):
    x, y, _ = data
    model = _mlp(jkeras)
    model.compile(jkeras.optimizers.SGD(lr=0.0), "mse")
    seen = []

    class Zero(jkeras.callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 0:
                self.model.set_weights([np.zeros_like(w) for w in self.model.get_weights()])
            seen.append(self.model.get_weights()[0].sum())
    model.fit(x, y, batch_size=5, epochs=1, verbose=0, callbacks=[Zero()])
    assert all(s == 0 for s in seen)
    assert all((w == 0).all() for w in model.get_weights())


SCRIPT = textwrap.dedent("""
    import numpy as np, sys
    import jkeras as keras
    keras.utils.set_random_seed(1234)
    x = np.random.random((64, 10)).astype('float32')
    y = keras.utils.to_categorical(np.random.randint(3, size=64), 3)
    model = keras.Sequential([keras.layers.Dense(16, activation='relu', input_dim=10),
                              keras.layers.Dropout(0.3),
                              keras.layers.Dense(3, activation='softmax')])
    model.compile('adam', 'categorical_crossentropy')
    model.fit(x, y, batch_size=8, epochs=2, validation_split=0.2, verbose=0)
    np.savez(sys.argv[1], *model.get_weights())
""")


@pytest.mark.slow
def test_seeded_script_is_bit_reproducible(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    outputs = []
    for run in range(2):
        path = tmp_path / f"w{run}.npz"
        subprocess.run([sys.executable, str(script), str(path)], check=True,
                       env={**__import__("os").environ, "JAX_PLATFORMS": "cpu"})
        outputs.append(np.load(path))
    for key in outputs[0].files:
        np.testing.assert_array_equal(outputs[0][key], outputs[1][key])


def test_use_ema_ends_on_the_moving_average_like_keras(keras_ref, data):
    x, y, _ = data
    theirs = _mlp(keras_ref)
    ours = _mlp(jkeras)
    ours.set_weights(theirs.get_weights())
    theirs.compile(keras_ref.optimizers.Adam(0.05, use_ema=True), "mse")
    ours.compile(jkeras.optimizers.Adam(0.05, use_ema=True), "mse")
    theirs.fit(x, y, batch_size=5, epochs=2, shuffle=False, verbose=0)
    ours.fit(x, y, batch_size=5, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
