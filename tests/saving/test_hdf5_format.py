"""Keras's HDF5 layout: the attributes, groups and names real Keras 2 writes, training
resumed from a file, files written by Keras 2 and Keras 3, and weight loading
(topological, by name, skip_mismatch) that changes nothing when it fails."""
import json
import warnings

import h5py
import numpy as np
import pytest

import jkeras
from tests.fixtures import make_fixtures as fx
from jkeras.saving import hdf5_format


def _names(group, attr):
    return [n.decode() if isinstance(n, bytes) else str(n) for n in group.attrs[attr]]


def _predict(model, inputs):
    out = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    return [np.asarray(o) for o in (out if isinstance(out, list) else [out])]


def _unlist(arrays):
    return arrays if len(arrays) > 1 else arrays[0]


def _trained_sequential():
    model = fx.build_sequential(jkeras)
    model.compile(jkeras.optimizers.Adam(0.01), "mse")
    x, y = fx.inputs_for("seq", 8, seed=5)[0], fx.targets_for("seq", 8, seed=6)[0]
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    return model


# ---------------------------------------------------------------------------- layout
def test_model_file_has_the_keras2_layout(tmp_path):
    """Same attribute, group and weight names as tf-keras wrote for the same model with
    a legacy Adam (fixture k2_seq_legacy_adam.h5)."""
    ours = tmp_path / "ours.h5"
    _trained_sequential().save(ours)
    theirs = fx.fixture_file("k2_seq_legacy_adam.h5", tmp_path)
    with h5py.File(ours, "r") as f, h5py.File(theirs, "r") as g:
        assert set(f.attrs) == set(g.attrs) == {"backend", "keras_version", "model_config",
                                                "training_config"}
        assert f.attrs["keras_version"].startswith("2.")
        for group in ("model_weights", "optimizer_weights"):
            assert set(f[group].attrs) == set(g[group].attrs)
        assert _names(f["model_weights"], "layer_names") == \
            _names(g["model_weights"], "layer_names") == ["s1", "s_bn", "s2"]
        for layer in ("s1", "s_bn", "s2"):
            assert _names(f["model_weights"][layer], "weight_names") == \
                _names(g["model_weights"][layer], "weight_names")
            for name in _names(f["model_weights"][layer], "weight_names"):
                assert f["model_weights"][layer][name].shape == \
                    g["model_weights"][layer][name].shape
        assert _names(f["optimizer_weights"], "weight_names") == \
            _names(g["optimizer_weights"], "weight_names")
        assert _names(f["optimizer_weights"], "weight_names")[:3] == \
            ["Adam/iter:0", "Adam/s1/kernel/m:0", "Adam/s1/bias/m:0"]
        training = json.loads(f.attrs["training_config"])
        assert set(json.loads(g.attrs["training_config"])) <= set(training)
        assert training["loss"] == "mse"
        assert training["optimizer_config"]["class_name"] == "Adam"


def test_weights_file_has_model_weights_layout_at_root(tmp_path):
    model = fx.build_graph(jkeras)
    model.save_weights(tmp_path / "w.h5")
    with h5py.File(tmp_path / "w.h5", "r") as f:
        assert "model_config" not in f.attrs
        assert _names(f, "layer_names") == [l.name for l in model.layers]
        # The nested model is one entry whose weights are its inner layers'.
        assert _names(f["sub"], "weight_names") == ["sub_dense/kernel:0",
                                                    "sub_dense/bias:0"]
        assert f["shared/shared/kernel:0"].shape == (4, 3)


def test_long_attribute_lists_are_chunked(tmp_path):
    from jkeras.saving import hdf5_format
    names = [f"layer_{i:05d}_" + "x" * 50 for i in range(2000)]
    with h5py.File(tmp_path / "a.h5", "w") as f:
        hdf5_format.save_attributes(f, "layer_names", names)
        assert "layer_names" not in f.attrs and "layer_names0" in f.attrs
        assert hdf5_format.load_attributes(f, "layer_names") == names


# ---------------------------------------------------------------------------- round trips
@pytest.mark.slow
@pytest.mark.parametrize("family", ["core", "conv2d_first", "normalization",
                                    "embedding_lstm", "wrappers", "nested_shared",
                                    "sequential", "attention"])
def test_model_round_trip(family, tmp_path):
    model = fx.build_family(family, jkeras)
    inputs = fx.family_inputs(family)
    model.save(tmp_path / "m.h5")
    loaded = jkeras.models.load_model(tmp_path / "m.h5")
    assert loaded.get_config() == model.get_config()
    for got, want in zip(_predict(loaded, inputs), _predict(model, inputs)):
        np.testing.assert_array_equal(got, want)
    fresh = fx.build_family(family, jkeras)
    model.save_weights(tmp_path / "w.h5")
    fresh.load_weights(tmp_path / "w.h5")
    for got, want in zip(fresh.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)


@pytest.mark.slow
def test_training_resumes_where_it_stopped(tmp_path):
    """Save mid-training with Adam, load, continue: equal to an uninterrupted run."""
    jkeras.utils.set_random_seed(3)
    model = fx.build_dense(jkeras)
    model.compile(jkeras.optimizers.Adam(0.01), "categorical_crossentropy",
                  metrics=["accuracy"])
    x, y = fx.inputs_for("dense", 16, seed=5)[0], fx.targets_for("dense", 16, seed=6)[0]
    model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    model.save(tmp_path / "mid.h5")
    model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)

    resumed = jkeras.models.load_model(tmp_path / "mid.h5")
    assert resumed.optimizer.get_config() == model.optimizer.get_config()
    assert int(resumed.optimizer.iterations) == 8
    resumed.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    for got, want in zip(resumed.get_weights(), model.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    assert resumed.metrics_names == model.metrics_names


def test_include_optimizer_false_and_compile_false(tmp_path, caplog):
    model = _trained_sequential()
    model.save(tmp_path / "no_opt.h5", include_optimizer=False)
    with h5py.File(tmp_path / "no_opt.h5", "r") as f:
        assert "optimizer_weights" not in f and "training_config" not in f.attrs
    assert not jkeras.models.load_model(tmp_path / "no_opt.h5").compiled
    assert "not* compiled" in caplog.text
    model.save(tmp_path / "full.h5")
    assert not jkeras.models.load_model(tmp_path / "full.h5", compile=False).compiled


# ---------------------------------------------------------------------------- Keras files
@pytest.mark.parametrize("name", ["k2_dense_adam", "k2_seq_legacy_adam", "k2_conv", "k2_rnn",
                                  "k2_graph", "k3_conv_cf", "k3_flat_graph_adam"])
def test_loads_keras_files_with_their_predictions(name, tmp_path):
    model = jkeras.models.load_model(fx.fixture_file(name + ".h5", tmp_path))
    inputs, outputs, _ = fx.fixture_data(name)
    for got, want in zip(_predict(model, inputs), outputs):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["k2_dense_adam", "k2_seq_legacy_adam",
                                  "k3_flat_graph_adam", "k3_resume_nadam"])
def test_training_resumes_from_keras_optimizer_state(name, tmp_path):
    """tf-keras 2.11+ (`Adam/m/...`), legacy (`Adam/.../m:0`) and Keras 3
    (`adam/..._momentum`, read by position: Nadam's `variable_2`, DepthwiseConv2D's
    `depth_kernel`, TimeDistributed's `td_dense_kernel`) optimizer weights: restored
    without a warning, and one more step equals Keras's step after the same load."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model = jkeras.models.load_model(fx.fixture_file(name + ".h5", tmp_path))
    assert int(model.optimizer.iterations) == 3
    _, _, extra = fx.fixture_data(name)
    model.train_on_batch(_unlist(extra["train_x"]), _unlist(extra["train_y"]))
    for got, want in zip(model.get_weights(), extra["after"]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_loads_keras2_weights_file(tmp_path):
    model = fx.build_conv1d(jkeras)
    model.load_weights(fx.fixture_file("k2_conv1d_weights.h5", tmp_path))
    inputs, outputs, _ = fx.fixture_data("k2_conv1d_weights")
    np.testing.assert_allclose(_predict(model, inputs)[0], outputs[0], rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------- load_weights
def _two_models():
    def build(extra_units):
        inp = jkeras.Input((4,))
        x = jkeras.layers.Dense(3, name="first")(inp)
        x = jkeras.layers.Dense(extra_units, name="middle")(x)
        return jkeras.Model(inp, jkeras.layers.Dense(2, name="last")(x))
    return build(5), build


def test_by_name_loads_matching_layers_only(tmp_path):
    source, build = _two_models()
    source.save_weights(tmp_path / "w.h5")
    inp = jkeras.Input((4,))
    x = jkeras.layers.Dense(3, name="first")(inp)
    x = jkeras.layers.Dense(5, name="other")(x)
    target = jkeras.Model(inp, jkeras.layers.Dense(2, name="last")(x))
    other_before = target.get_layer("other").get_weights()
    target.load_weights(tmp_path / "w.h5", by_name=True)
    for name in ("first", "last"):
        for got, want in zip(target.get_layer(name).get_weights(),
                             source.get_layer(name).get_weights()):
            np.testing.assert_array_equal(got, want)
    for got, want in zip(target.get_layer("other").get_weights(), other_before):
        np.testing.assert_array_equal(got, want)


def test_skip_mismatch_warns_and_skips(tmp_path):
    source, build = _two_models()
    source.save_weights(tmp_path / "w.h5")
    target = build(7)
    before = target.get_layer("last").get_weights()
    with pytest.raises(ValueError, match="middle"):
        target.load_weights(tmp_path / "w.h5", by_name=True)
    with pytest.warns(UserWarning, match="middle"):
        target.load_weights(tmp_path / "w.h5", by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(target.get_layer("first").get_weights()[0],
                                  source.get_layer("first").get_weights()[0])
    # 'last' has kernel (7, 2) here and (5, 2) in the file: skipped; its bias loads.
    np.testing.assert_array_equal(target.get_layer("last").get_weights()[0], before[0])
    np.testing.assert_array_equal(target.get_layer("last").get_weights()[1],
                                  source.get_layer("last").get_weights()[1])
    with pytest.raises(ValueError, match="skip_mismatch can only be set to True when "
                                         "by_name is True"):
        target.load_weights(tmp_path / "w.h5", skip_mismatch=True)


def _assert_unchanged(model, before):
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)


def test_topological_mismatch_raises_and_changes_nothing(tmp_path):
    source, build = _two_models()
    source.save_weights(tmp_path / "w.h5")
    wrong_shape = build(7)
    before = wrong_shape.get_weights()
    with pytest.raises(ValueError, match=r"middle.*\(3, 7\).*\(3, 5\)"):
        wrong_shape.load_weights(tmp_path / "w.h5")
    _assert_unchanged(wrong_shape, before)

    inp = jkeras.Input((4,))
    fewer = jkeras.Model(inp, jkeras.layers.Dense(2, name="only")(inp))
    before = fewer.get_weights()
    with pytest.raises(ValueError, match="Layer count mismatch.*w.h5"):
        fewer.load_weights(tmp_path / "w.h5")
    _assert_unchanged(fewer, before)

    inp = jkeras.Input((4,))
    x = jkeras.layers.Dense(3, name="first")(inp)
    x = jkeras.layers.Dense(5, name="middle", use_bias=False)(x)
    no_bias = jkeras.Model(inp, jkeras.layers.Dense(2, name="last")(x))
    before = no_bias.get_weights()
    with pytest.raises(ValueError, match="Weight count mismatch for layer #1 "
                                         r"\(named middle"):
        no_bias.load_weights(tmp_path / "w.h5")
    _assert_unchanged(no_bias, before)


def test_custom_loss_and_metric_by_name(tmp_path):
    def scaled_mse(y_true, y_pred):
        return 2.0 * jkeras.backend.mean(jkeras.backend.square(y_true - y_pred), axis=-1)

    model = fx.build_sequential(jkeras)
    model.compile("sgd", loss=scaled_mse, metrics=[scaled_mse])
    x, y = fx.inputs_for("seq", 4)[0], fx.targets_for("seq", 4)[0]
    expected = model.evaluate(x, y, verbose=0)
    for name in ("m.h5", "m.keras"):
        model.save(tmp_path / name)
        with pytest.raises(ValueError, match="scaled_mse"):
            jkeras.models.load_model(tmp_path / name)
        loaded = jkeras.models.load_model(tmp_path / name,
                                          custom_objects={"scaled_mse": scaled_mse})
        np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), expected, rtol=1e-6)


def test_keras3_nadam_state_loads_whatever_its_variable_is_called(keras_ref, tmp_path):
    """Keras 3 names Nadam's u_product `variable`, `variable_1`, ... from a process-wide
    counter; an unnamed variable made earlier in the process (as an earlier test does)
    must not make the optimizer state unreadable."""
    keras_ref.Variable(1.0)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)).astype("float32"), rng.normal(size=(8, 1)).astype("float32")
    theirs = keras_ref.Sequential([keras_ref.Input((3,)), keras_ref.layers.Dense(1)])
    theirs.compile(keras_ref.optimizers.Nadam(0.05), "mse")
    for _ in range(3):
        theirs.train_on_batch(x, y)
    assert theirs.optimizer._u_product.name != "variable"
    theirs.save(tmp_path / "theirs.h5")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        ours = jkeras.models.load_model(tmp_path / "theirs.h5")
    state = ours.get_training_state()["opt_state"]
    np.testing.assert_allclose(state.extras["u_product"],
                               np.asarray(theirs.optimizer._u_product), rtol=1e-6)
    ours.train_on_batch(x, y)
    theirs.train_on_batch(x, y)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)


def test_nadam_schedule_follows_the_file_writer():
    """Keras 2.3 wrote `schedule_decay`; Keras 3 and tf.keras 2.11+ have none, their
    momentum schedule being 0.96**t, i.e. schedule_decay=1. Files carry it only when not 1."""
    keras2 = {"optimizer_config": {"class_name": "Nadam", "config": {
        "lr": 0.002, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
        "schedule_decay": 0.004}}}
    keras3 = {"optimizer_config": {"module": "keras.optimizers", "class_name": "Nadam",
                                   "config": {"learning_rate": 0.002, "beta_1": 0.9}}}
    assert hdf5_format.compile_args(keras2)["optimizer"].schedule_decay == 0.004
    assert hdf5_format.compile_args(keras3)["optimizer"].schedule_decay == 1.0
    assert "schedule_decay" not in hdf5_format.portable_optimizer_config(
        "Nadam", jkeras.optimizers.Nadam(schedule_decay=1.0).get_config())
    assert hdf5_format.portable_optimizer_config(
        "Nadam", jkeras.optimizers.Nadam().get_config())["schedule_decay"] == 0.004
