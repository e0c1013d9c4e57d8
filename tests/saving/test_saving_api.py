"""The saving entry points: format choice, Lambda refused in safe mode on every path, and
damaged files (truncated, random bytes, wrong group names, wrong shapes) that always end
in a clear exception naming the file, with the model left as it was."""
import os
import zipfile

import h5py
import numpy as np
import pytest

import jkeras
from jkeras.layers.core import LambdaUnsafeError


def _model():
    inp = jkeras.Input((3,), name="inp")
    x = jkeras.layers.Dense(4, name="dense")(inp)
    return jkeras.Model(inp, jkeras.layers.Dense(2, name="out")(x))


def _lambda_model():
    inp = jkeras.Input((3,))
    return jkeras.Model(inp, jkeras.layers.Lambda(lambda t: t * 2.0 + 1.0, name="lam")(inp))


def _snapshot(model):
    return [w.copy() for w in model.get_weights()]


def _assert_unchanged(model, before):
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------------------- formats
def test_format_follows_extension_and_save_format(tmp_path):
    model = _model()
    model.save(tmp_path / "a.h5")
    model.save(tmp_path / "b.keras")
    model.save(tmp_path / "noext", save_format="h5")
    model.save_weights(tmp_path / "c.weights.h5")
    model.save_weights(tmp_path / "d.msgpack")
    with h5py.File(tmp_path / "a.h5", "r") as f:
        assert "model_config" in f.attrs
    assert zipfile.is_zipfile(tmp_path / "b.keras")
    with h5py.File(tmp_path / "noext", "r") as f:
        assert "model_weights" in f
    with h5py.File(tmp_path / "c.weights.h5", "r") as f:
        assert "layers" in f and "layer_names" not in f.attrs
    for name in ("a.h5", "b.keras", "noext"):
        assert isinstance(jkeras.models.load_model(tmp_path / name), jkeras.Model)


def test_unsupported_formats_are_refused(tmp_path):
    model = _model()
    with pytest.raises(ValueError, match="SavedModel"):
        model.save(tmp_path / "m", save_format="tf")
    with pytest.raises(ValueError, match="'.keras' archive"):
        model.save_weights(tmp_path / "w.keras")
    with pytest.raises(ValueError, match="checkpoint"):
        model.save(tmp_path / "m.msgpack")
    os.makedirs(tmp_path / "saved_model")
    with pytest.raises(ValueError, match="directory"):
        jkeras.models.load_model(tmp_path / "saved_model")
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        jkeras.models.load_model(tmp_path / "missing.h5")
    model.save_weights(tmp_path / "w.h5")
    with pytest.raises(ValueError, match="No model config.*w.h5"):
        jkeras.models.load_model(tmp_path / "w.h5")
    lazy = jkeras.Sequential([jkeras.layers.Dense(4), jkeras.layers.Dense(2)])
    with pytest.raises(ValueError, match="has not created its weights"):
        lazy.load_weights(tmp_path / "w.h5")
    lazy.build((None, 3))
    lazy.load_weights(tmp_path / "w.h5")
    np.testing.assert_array_equal(lazy.get_weights()[0], model.get_weights()[0])


# ---------------------------------------------------------------------------- safe mode
@pytest.mark.parametrize("path", ["h5", "keras", "json", "yaml"])
def test_lambda_refused_in_safe_mode(tmp_path, path):
    model = _lambda_model()
    if path in ("h5", "keras"):
        model.save(tmp_path / f"m.{path}")

        def load(**kw):
            return jkeras.models.load_model(tmp_path / f"m.{path}", **kw)
    elif path == "json":
        def load(**kw):
            return jkeras.models.model_from_json(model.to_json(), **kw)
    else:
        def load(**kw):
            return jkeras.models.model_from_yaml(model.to_yaml(), **kw)
    with pytest.raises(LambdaUnsafeError, match="safe_mode=False"):
        load()
    loaded = load(safe_mode=False)
    np.testing.assert_array_equal(loaded.predict(np.ones((1, 3)), verbose=0), [[3.0] * 3])
    from jkeras.serialization.safe_mode import is_safe_mode
    assert is_safe_mode()  # the scope ended with the load


def test_lambda_loads_in_keras3_unsafe(keras_ref, tmp_path):
    _lambda_model().save(tmp_path / "m.keras")
    with pytest.raises(ValueError):
        keras_ref.models.load_model(tmp_path / "m.keras")
    theirs = keras_ref.models.load_model(tmp_path / "m.keras", safe_mode=False)
    np.testing.assert_array_equal(theirs.predict(np.ones((1, 3)), verbose=0), [[3.0] * 3])


# ---------------------------------------------------------------------------- damaged files
def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("name", ["w.h5", "w.weights.h5", "w.msgpack", "m.keras"])
def test_truncated_file(tmp_path, name):
    path = tmp_path / name
    source = _model()
    source.save(path) if name.endswith(".keras") else source.save_weights(path)
    _truncate(path)
    target = _model()
    before = _snapshot(target)
    with pytest.raises((ValueError, OSError), match=name.replace(".", r"\.")):
        target.load_weights(path)
    _assert_unchanged(target, before)
    if name.endswith(".keras"):
        with pytest.raises((ValueError, OSError), match=r"m\.keras"):
            jkeras.models.load_model(path)


def test_truncated_model_file(tmp_path):
    _model().save(tmp_path / "m.h5")
    _truncate(tmp_path / "m.h5")
    with pytest.raises((ValueError, OSError), match=r"m\.h5"):
        jkeras.models.load_model(tmp_path / "m.h5")


@pytest.mark.parametrize("header", [b"", b"\x89HDF\r\n\x1a\n", b"PK\x03\x04", b"\x84"])
def test_random_bytes(tmp_path, header):
    path = tmp_path / "junk.h5"
    path.write_bytes(header + np.random.default_rng(0).bytes(4096))
    target = _model()
    before = _snapshot(target)
    with pytest.raises((ValueError, OSError), match=r"junk\.h5"):
        target.load_weights(path)
    with pytest.raises((ValueError, OSError), match=r"junk\.h5"):
        jkeras.models.load_model(path)
    _assert_unchanged(target, before)


def test_wrong_group_names(tmp_path):
    path = tmp_path / "w.h5"
    _model().save_weights(path)
    with h5py.File(path, "a") as f:
        f.move("out", "renamed")
    target = _model()
    before = _snapshot(target)
    with pytest.raises(ValueError, match=r"w\.h5.*no group 'out'"):
        target.load_weights(path)
    _assert_unchanged(target, before)

    path = tmp_path / "m.h5"
    _model().save(path)
    with h5py.File(path, "a") as f:
        f.move("model_weights", "weights")
    with pytest.raises(ValueError, match=r"m\.h5.*no group 'model_weights'"):
        jkeras.models.load_model(path)

    path = tmp_path / "w.weights.h5"
    _model().save_weights(path)
    with h5py.File(path, "a") as f:
        f.move("layers/dense_1", "layers/other")
    with pytest.raises(ValueError, match=r"w\.weights\.h5.*layers/dense_1/vars"):
        target.load_weights(path)
    _assert_unchanged(target, before)


def test_wrong_shapes_and_types(tmp_path):
    path = tmp_path / "w.h5"
    _model().save_weights(path)
    with h5py.File(path, "a") as f:
        del f["out/out/kernel:0"]
        f["out/out/kernel:0"] = np.zeros((4, 5), "float32")
    target = _model()
    before = _snapshot(target)
    with pytest.raises(ValueError, match=r"layer out.*\(4, 2\).*w\.h5.*\(4, 5\)"):
        target.load_weights(path)
    _assert_unchanged(target, before)

    with h5py.File(path, "a") as f:
        del f["out/out/kernel:0"]
        f["out/out/kernel:0"] = np.array([b"not", b"numbers"])
    with pytest.raises(ValueError, match=r"w\.h5.*not numbers"):
        target.load_weights(path)
    _assert_unchanged(target, before)

    path = tmp_path / "w.weights.h5"
    _model().save_weights(path)
    with h5py.File(path, "a") as f:
        del f["layers/dense/vars/1"]
    with pytest.raises(ValueError, match=r"Weight count mismatch.*w\.weights\.h5"):
        target.load_weights(path)
    _assert_unchanged(target, before)


def test_damaged_archive_members(tmp_path):
    path = tmp_path / "m.keras"
    _model().save(path)
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    broken = tmp_path / "broken.keras"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("config.json", b"{not json")
        archive.writestr("model.weights.h5", members["model.weights.h5"])
    with pytest.raises(ValueError, match=r"broken\.keras.*not valid JSON"):
        jkeras.models.load_model(broken)
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("config.json", members["config.json"])
    with pytest.raises(ValueError, match=r"broken\.keras.*no 'model.weights.h5'"):
        jkeras.models.load_model(broken)
