"""Atomic writes: a save that fails midway leaves the previous good file as it was."""
import os

import numpy as np
import pytest

import jkeras
from jkeras.saving import atomic, checkpoint, hdf5_format, keras_archive


def _model():
    inp = jkeras.Input((3,))
    model = jkeras.Model(inp, jkeras.layers.Dense(2, name="d")(inp))
    model.compile("adam", "mse")
    return model


class Crash(RuntimeError):
    pass


def _crash_after(original):
    """Runs the real writer (so a partial file exists), then fails."""
    def writer(*args, **kwargs):
        original(*args, **kwargs)
        raise Crash("simulated crash while saving")
    return writer


@pytest.mark.parametrize("name, target, attr, save", [
    ("m.h5", hdf5_format, "save_weights_to_group", lambda m, p: m.save(p)),
    ("w.h5", hdf5_format, "save_weights_to_group", lambda m, p: m.save_weights(p)),
    ("m.keras", keras_archive, "_write_groups", lambda m, p: m.save(p)),
    ("w.weights.h5", keras_archive, "_write_groups", lambda m, p: m.save_weights(p)),
    ("c.msgpack", checkpoint, "_encode", lambda m, p: m.save_weights(p)),
])
def test_crash_mid_save_keeps_previous_file(tmp_path, monkeypatch, name, target, attr, save):
    path = tmp_path / name
    good = _model()
    save(good, path)
    before = path.read_bytes()

    changed = _model()
    changed.set_weights([w + 1.0 for w in good.get_weights()])
    monkeypatch.setattr(target, attr, _crash_after(getattr(target, attr)))
    with pytest.raises(Crash):
        save(changed, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == [name]  # no temporary file left behind

    monkeypatch.undo()
    fresh = _model()
    fresh.load_weights(path)
    for got, want in zip(fresh.get_weights(), good.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_crash_before_rename(tmp_path, monkeypatch):
    path = tmp_path / "m.h5"
    path.write_bytes(b"previous")

    def fail(_):
        raise Crash("disk full")
    monkeypatch.setattr(atomic, "_fsync", fail)
    with pytest.raises(Crash):
        _model().save(path)
    assert path.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["m.h5"]


def test_overwrite_false_refuses_existing_file(tmp_path):
    path = tmp_path / "m.h5"
    path.write_bytes(b"keep")
    with pytest.raises(FileExistsError, match="overwrite=False"):
        _model().save(path, overwrite=False)
    assert path.read_bytes() == b"keep"
    _model().save(tmp_path / "new.h5", overwrite=False)
    assert (tmp_path / "new.h5").exists()


def test_creates_missing_directories(tmp_path):
    path = tmp_path / "a" / "b" / "w.h5"
    _model().save_weights(path)
    assert path.exists()
