"""The HDF5 load guard: files that crash or hang HDF5 do so in a child process and become a
DamagedFileError naming the file; every HDF5 entry point goes through it before reading;
the switch; HDF5's own errors on damaged structures are ValueErrors; and (slow) a seeded
fuzz of every fixture that must end in a load or a clean error, in a child process."""
import io
import json
import os
import subprocess
import sys
import time
import zipfile

import h5py
import numpy as np
import pytest

import jkeras
from jkeras.saving import file_guard, hdf5_probe
from tests.saving import load_fuzzer
from tests.fixtures import make_fixtures as fx


@pytest.fixture
def guard(monkeypatch):
    """The guard on ("always"), as it is by default; the suite's setting comes back after."""
    monkeypatch.delenv("JKERAS_LOAD_GUARD", raising=False)
    jkeras.saving.set_load_guard(None)
    yield
    jkeras.saving.set_load_guard(None, timeout=30)


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return str(path)


def _crashing_weights_file(tmp_path):
    """k2_graph.h5 with its first `weight_names` attribute retyped: reading it kills
    h5py 3.16 / HDF5 2.0 with a segmentation fault."""
    data = load_fuzzer.fixture_bytes("k2_graph.h5")
    return _write(tmp_path / "crash.h5",
                  load_fuzzer.break_vlen_string_attribute(data, "weight_names"))


def _hanging_model_file(tmp_path):
    """k2_dense_adam.h5 whose global heap claims 20 kB instead of 4 kB: reading the
    `model_config` string makes HDF5 loop forever."""
    data = bytearray(load_fuzzer.fixture_bytes("k2_dense_adam.h5"))
    pos = data.find(b"GCOL") + 9  # the second byte of the collection's size
    assert data[pos] == 0x10
    data[pos] = 0x50
    return _write(tmp_path / "hang.h5", bytes(data))


# ---------------------------------------------------------------------------- the child
def test_a_file_that_crashes_hdf5_is_reported_damaged(guard, tmp_path):
    path = _crashing_weights_file(tmp_path)
    with pytest.raises(jkeras.saving.DamagedFileError, match="crash.h5 is damaged.*SIGSEGV"):
        file_guard.check_file(path)
    weights = load_fuzzer.fixture_bytes("k3_graph.weights.h5")
    with pytest.raises(ValueError, match="in memory.*SIGSEGV"):
        file_guard.check_bytes(load_fuzzer.break_vlen_string_attribute(weights, "name"),
                               "in memory")


@pytest.mark.slow
def test_a_file_that_hangs_hdf5_is_reported_damaged_in_time(guard, tmp_path):
    path = _hanging_model_file(tmp_path)
    jkeras.saving.set_load_guard("always", timeout=2)
    start = time.perf_counter()
    with pytest.raises(ValueError, match="hang.h5 is damaged.*did not finish within 2 s"):
        jkeras.models.load_model(path)
    assert time.perf_counter() - start < 10


def test_every_fixture_and_our_own_files_pass(guard, tmp_path):
    """The walk the child makes finds nothing wrong in any Keras-written fixture (run
    here, it is the same function) nor in our own files; the child passes one."""
    for name in load_fuzzer.fixture_names():
        data = load_fuzzer.fixture_bytes(name)
        if name.endswith(".keras"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                data = archive.read("model.weights.h5")
        report = hdf5_probe.probe(data, h5py, np)
        assert report["objects"] > 3 and report["errors"] == report["damaged"] == [], name
    model = fx.build_dense(jkeras)
    model.save(tmp_path / "ours.h5")
    file_guard.check_file(tmp_path / "ours.h5")


def test_a_dataset_claiming_more_than_the_file_holds_is_damaged(guard, tmp_path):
    """A chunked dataset of 40 GB in a file of kilobytes (HDF5 checks contiguous data
    against the file's size, not chunked data): reading it would exhaust memory."""
    fx.build_dense(jkeras).save_weights(tmp_path / "w.h5")
    with h5py.File(tmp_path / "w.h5", "r+") as f:
        del f["hidden/hidden/kernel:0"]
        f.create_dataset("hidden/hidden/kernel:0", shape=(100_000, 100_000),
                         dtype="float32", chunks=(100, 100))
    with pytest.raises(ValueError, match="kernel:0 claims shape .100000, 100000.*far more"):
        file_guard.check_file(tmp_path / "w.h5")


# ---------------------------------------------------------------------------- entry points
def _files(tmp_path):
    model = fx.build_dense(jkeras)
    model.compile("adam", "mse")
    model.save(tmp_path / "m.h5")
    model.save(tmp_path / "m.keras")
    model.save_weights(tmp_path / "w.h5")
    model.save_weights(tmp_path / "w.weights.h5")
    return model


def test_every_hdf5_entry_point_checks_before_reading(guard, tmp_path, monkeypatch):
    """A stand-in for the child that refuses every file: each entry point raises before
    h5py has opened anything here, and a failed load_weights changes nothing."""
    model = _files(tmp_path)
    calls = []
    open_files = len(h5py.h5f.get_obj_ids(types=h5py.h5f.OBJ_FILE))

    def refuse(target, data, source, timeout):
        calls.append(source)
        assert len(h5py.h5f.get_obj_ids(types=h5py.h5f.OBJ_FILE)) == open_files, \
            "a file was opened before the check"
        raise file_guard.DamagedFileError(f"{source}: refused")
    monkeypatch.setattr(file_guard, "_run_probe", refuse)
    before = [w.copy() for w in model.get_weights()]
    for name in ("m.h5", "m.keras"):
        with pytest.raises(jkeras.saving.DamagedFileError, match="refused"):
            jkeras.models.load_model(tmp_path / name)
    for name in ("m.h5", "m.keras", "w.h5", "w.weights.h5"):
        with pytest.raises(jkeras.saving.DamagedFileError, match="refused"):
            model.load_weights(tmp_path / name)
    assert len(calls) == 6 and "m.keras" in calls[1]
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)


def test_the_switch(guard, tmp_path, monkeypatch):
    model = _files(tmp_path)
    calls = []
    monkeypatch.setattr(file_guard, "_run_probe", lambda *args: calls.append(args[2]))
    jkeras.saving.set_load_guard("never")
    jkeras.models.load_model(tmp_path / "m.h5")
    assert calls == []
    jkeras.saving.set_load_guard("safe_mode")
    jkeras.models.load_model(tmp_path / "m.h5", safe_mode=False)
    assert calls == []
    jkeras.models.load_model(tmp_path / "m.h5")
    model.load_weights(tmp_path / "w.h5")  # safe mode is on by default
    assert len(calls) == 2
    jkeras.saving.set_load_guard(None)
    monkeypatch.setenv("JKERAS_LOAD_GUARD", "0")
    assert jkeras.saving.load_guard()[0] == "never"
    monkeypatch.setenv("JKERAS_LOAD_GUARD", "sometimes")
    with pytest.raises(ValueError, match="JKERAS_LOAD_GUARD.*'sometimes'"):
        jkeras.models.load_model(tmp_path / "m.h5")
    jkeras.saving.set_load_guard("never")
    with pytest.raises(ValueError, match="timeout=0"):
        jkeras.saving.set_load_guard("always", timeout=0)
    assert jkeras.saving.load_guard() == ("never", 30.0)  # the refused call changed nothing


# ---------------------------------------------------------------------------- clean errors
def test_damaged_structures_are_value_errors_and_change_nothing(tmp_path):
    model = _files(tmp_path)
    with h5py.File(tmp_path / "w.h5", "r+") as f:
        del f["hidden"]
        f["hidden"] = h5py.SoftLink("/hidden")  # a link to itself
    with h5py.File(tmp_path / "m.h5", "r+") as f:
        f.attrs["model_config"] = "[]"
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match="w.h5 could not be read.*too many links"):
        model.load_weights(tmp_path / "w.h5")
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="m.h5: the model config is malformed"):
        jkeras.models.load_model(tmp_path / "m.h5")


# ---------------------------------------------------------------------------- fuzz
@pytest.mark.slow
def test_fuzzed_fixtures_load_or_fail_cleanly():
    """300 seeded mutations of every fixture: each ends in a load or a ValueError /
    OSError within the guard's limit, and a failed load_weights changes nothing; among
    them files that crash HDF5 and files that hang it. The loads run in a child process,
    so an escaped crash or hang fails the test instead of the run (about 80 s)."""
    env = {k: v for k, v in os.environ.items() if k != "JKERAS_LOAD_GUARD"}
    env["PYTHONPATH"] = os.pathsep.join([os.getcwd(), env.get("PYTHONPATH", "")])
    script = os.path.join(os.path.dirname(__file__), "load_fuzzer.py")
    try:
        done = subprocess.run([sys.executable, script, "--seed", "18", "--count", "300",
                               "--timeout", "4"], capture_output=True, text=True,
                              timeout=240, env=env)
    except subprocess.TimeoutExpired as e:
        last = (e.stdout or b"").decode().strip().splitlines()[-2:]
        pytest.fail(f"the fuzzer hung; its last lines: {last}")
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0, f"the fuzzer died ({done.returncode}): {lines[-2:]} " \
                                 f"{done.stderr[-2000:]}"
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(records) == 300
    unclean = [r for r in records if r["outcome"] == "unclean"]
    assert not unclean, unclean[:5]
    changed = [r for r in records if r.get("unchanged") is False]
    assert not changed, changed[:5]
    slow = [r for r in records if r["seconds"] > 20]
    assert not slow, slow[:5]
    outcomes = {r["outcome"] for r in records}
    assert outcomes == {"loaded", "clean"}
    errors = [r["error"] or "" for r in records]
    assert any("DamagedFileError" in e and "SIGSEGV" in e for e in errors)  # crashes caught
    assert any("DamagedFileError" in e and "did not finish" in e for e in errors)  # hangs
    assert {r["fixture"] for r in records} == set(load_fuzzer.fixture_names())
