"""Keras 3 formats: `.keras` archives and `.weights.h5` files. Their layout is checked
against the files Keras 3 writes for the same models; files go both ways."""
import json
import zipfile

import h5py
import numpy as np
import pytest

import jkeras
from tests.fixtures import make_fixtures as fx


def _predict(model, inputs):
    out = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    return [np.asarray(o) for o in (out if isinstance(out, list) else [out])]


def _unlist(arrays):
    return arrays if len(arrays) > 1 else arrays[0]


def _datasets(path_or_file):
    out = {}

    def visit(name, item):
        if isinstance(item, h5py.Dataset):
            out[name] = item.shape
    if isinstance(path_or_file, h5py.File):
        path_or_file.visititems(visit)
    else:
        with h5py.File(path_or_file, "r") as f:
            f.visititems(visit)
    return out


def _archive_weights(path, tmp_path):
    with zipfile.ZipFile(path) as archive:
        (tmp_path / "inner.h5").write_bytes(archive.read("model.weights.h5"))
    return _datasets(tmp_path / "inner.h5")


# ---------------------------------------------------------------------------- layout
@pytest.mark.slow
@pytest.mark.parametrize("family", ["core", "wrappers", "stacked_cells", "attention",
                                    "nested_shared", "sequential", "conv_lstm"])
def test_weights_layout_matches_keras3(keras_ref, family, tmp_path):
    ours, theirs = fx.build_family(family, jkeras), fx.build_family(family, keras_ref)
    ours.save_weights(tmp_path / "ours.weights.h5")
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    assert _datasets(tmp_path / "ours.weights.h5") == \
        _datasets(tmp_path / "theirs.weights.h5")


def test_archive_members_and_config_schema(keras_ref, tmp_path):
    model = fx.build_family("nested_shared", jkeras)
    model.compile("adam", "mse")
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert sorted(archive.namelist()) == ["config.json", "metadata.json",
                                              "model.weights.h5"]
        config = json.loads(archive.read("config.json"))
        metadata = json.loads(archive.read("metadata.json"))
    assert metadata["keras_version"].startswith("3.")
    assert config["class_name"] == "Functional" and config["module"]
    dense = next(l for l in config["config"]["layers"] if l["class_name"] == "Dense")
    assert dense["module"] == "keras.layers" and dense["build_config"] == {
        "input_shape": [None, 4]}
    assert dense["config"]["kernel_initializer"]["module"] == "keras.initializers"
    assert dense["inbound_nodes"][0]["args"][0]["class_name"] == "__keras_tensor__"
    assert config["compile_config"]["loss"] == "mse"
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"


# ---------------------------------------------------------------------------- round trips
@pytest.mark.slow
@pytest.mark.parametrize("family", ["core", "conv2d_last", "embedding_lstm",
                                    "gru_simple_rnn", "wrappers", "nested_shared",
                                    "sequential", "attention", "stacked_cells"])
def test_round_trip(family, tmp_path):
    model = fx.build_family(family, jkeras)
    inputs = fx.family_inputs(family)
    expected = _predict(model, inputs)
    model.save(tmp_path / "m.keras")
    loaded = jkeras.models.load_model(tmp_path / "m.keras")
    assert loaded.get_config() == model.get_config()
    for got, want in zip(_predict(loaded, inputs), expected):
        np.testing.assert_array_equal(got, want)
    model.save_weights(tmp_path / "m.weights.h5")
    fresh = fx.build_family(family, jkeras)
    fresh.load_weights(tmp_path / "m.weights.h5")
    for got, want in zip(fresh.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)
    fresh = fx.build_family(family, jkeras)
    fresh.load_weights(tmp_path / "m.keras")  # the weights of an archive
    for got, want in zip(fresh.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)


@pytest.mark.slow
def test_training_resumes_from_archive(tmp_path):
    jkeras.utils.set_random_seed(4)
    model = fx.build_flat_graph(jkeras)
    model.compile(jkeras.optimizers.Adam(0.01), ["categorical_crossentropy", "mse"])
    x, y = fx.inputs_for("flat_graph", 8, seed=5), fx.targets_for("flat_graph", 8, seed=6)
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    model.save(tmp_path / "mid.keras")
    model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    resumed = jkeras.models.load_model(tmp_path / "mid.keras")
    assert int(resumed.optimizer.iterations) == 2
    resumed.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    for got, want in zip(resumed.get_weights(), model.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------- Keras 3 files
def test_loads_keras3_archive(tmp_path):
    model = jkeras.models.load_model(fx.fixture_file("k3_rnn.keras", tmp_path))
    inputs, outputs, _ = fx.fixture_data("k3_rnn")
    np.testing.assert_allclose(_predict(model, inputs)[0], outputs[0], rtol=1e-5, atol=1e-6)


def test_resumes_from_keras3_archive_optimizer(tmp_path):
    model = jkeras.models.load_model(fx.fixture_file("k3_flat_graph_adam.keras", tmp_path))
    inputs, outputs, extra = fx.fixture_data("k3_flat_graph_adam")
    for got, want in zip(_predict(model, inputs), outputs):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert int(model.optimizer.iterations) == 3
    model.train_on_batch(extra["train_x"], extra["train_y"])
    for got, want in zip(model.get_weights(), extra["after"]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_loads_keras3_weights_file(tmp_path):
    model = fx.build_graph(jkeras)
    model.load_weights(fx.fixture_file("k3_graph.weights.h5", tmp_path))
    inputs, outputs, _ = fx.fixture_data("k3_graph")
    for got, want in zip(_predict(model, inputs), outputs):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_keras3_loads_our_optimizer_state(keras_ref, tmp_path):
    model = fx.build_flat_graph(jkeras)
    model.compile(jkeras.optimizers.Adam(0.01), ["categorical_crossentropy", "mse"])
    x, y = fx.inputs_for("flat_graph", 8, seed=5), fx.targets_for("flat_graph", 8, seed=6)
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    model.save(tmp_path / "m.keras")
    theirs = keras_ref.models.load_model(tmp_path / "m.keras")
    assert int(theirs.optimizer.iterations) == 2
    theirs.train_on_batch(x, y)
    model.train_on_batch(x, y)
    for got, want in zip(model.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-5, atol=1e-6)


def test_keras3_loads_our_bidirectional_when_an_address_is_reused(keras_ref, monkeypatch,
                                                                   tmp_path):
    """Keras 3's loader remembers the objects it serializes by `id()` without keeping them
    alive; deriving a missing backward layer, Bidirectional serializes its wrapped layer
    twice, so once a freed wrapped layer's address went to the next one, the next
    Bidirectional got the earlier's backward layer ("... different `go_backwards` value").
    Our archives write the backward layer out. The reuse is forced here (every RNN, one id)."""
    from keras.src.saving import serialization_lib

    model = fx.build_family("wrappers", jkeras)
    inputs = fx.family_inputs("wrappers")
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        layers = json.loads(archive.read("config.json"))["config"]["layers"]
    backward = [l["config"]["backward_layer"] for l in layers
                if l["class_name"] == "Bidirectional"]
    assert [(b["class_name"], b["config"]["name"], b["config"]["go_backwards"])
            for b in backward] == [("LSTM", "backward_lstm", True),
                                   ("GRU", "backward_gru", True)]
    assert "backward_layer" not in model.to_json()  # Keras 2 configs keep none

    monkeypatch.setattr(serialization_lib, "id", lambda obj: 1 if isinstance(
        obj, keras_ref.layers.RNN) else id(obj), raising=False)
    theirs = keras_ref.models.load_model(tmp_path / "m.keras")
    for got, want in zip(_predict(theirs, inputs), _predict(model, inputs)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------- load_weights
def test_by_name_and_skip_mismatch_in_keras3_layout(tmp_path):
    def build(units, middle_name):
        inp = jkeras.Input((4,))
        x = jkeras.layers.Dense(3, name="first")(inp)
        x = jkeras.layers.Dense(units, name=middle_name)(x)
        return jkeras.Model(inp, jkeras.layers.Dense(2, name="last")(x))
    source = build(5, "middle")
    source.save_weights(tmp_path / "w.weights.h5")
    target = build(5, "other")
    kept = target.get_layer("other").get_weights()
    target.load_weights(tmp_path / "w.weights.h5", by_name=True)
    np.testing.assert_array_equal(target.get_layer("last").get_weights()[0],
                                  source.get_layer("last").get_weights()[0])
    np.testing.assert_array_equal(target.get_layer("other").get_weights()[0], kept[0])

    mismatched = build(7, "middle")
    before = mismatched.get_weights()
    with pytest.raises(ValueError, match=r"Shape mismatch for layer middle"):
        mismatched.load_weights(tmp_path / "w.weights.h5")
    for got, want in zip(mismatched.get_weights(), before):
        np.testing.assert_array_equal(got, want)
    with pytest.warns(UserWarning, match="Skipping loading weights of layer middle"):
        mismatched.load_weights(tmp_path / "w.weights.h5", skip_mismatch=True)
    np.testing.assert_array_equal(mismatched.get_layer("first").get_weights()[0],
                                  source.get_layer("first").get_weights()[0])


def _subclassed(lib):
    class Net(lib.Model):
        def __init__(self):
            super().__init__()
            self.head = lib.layers.Dense(2)
            self.blocks = [lib.layers.Dense(4), lib.layers.Dense(4, activation="relu")]
            self.bn = lib.layers.BatchNormalization()
            self.aaa = lib.layers.Dense(3)

        def call(self, x):
            for block in self.blocks:
                x = block(x)
            return self.head(self.bn(self.aaa(x)))
    net = Net()
    net(np.ones((2, 3), "float32"))
    return net


def test_subclassed_model_weights_both_ways(keras_ref, tmp_path):
    """Keras 3 names a subclassed model's groups after its attributes."""
    ours, theirs = _subclassed(jkeras), _subclassed(keras_ref)
    ours.save_weights(tmp_path / "ours.weights.h5")
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    assert _datasets(tmp_path / "ours.weights.h5") == \
        _datasets(tmp_path / "theirs.weights.h5")
    assert "blocks/dense_1/vars/0" in _datasets(tmp_path / "ours.weights.h5")
    ours.load_weights(tmp_path / "theirs.weights.h5")
    x = np.random.default_rng(0).normal(size=(2, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(theirs(x)), atol=1e-6)
