"""Data- and model-parallel training on 8 fake CPU devices (a subprocess each, since the
device count is fixed when jax starts): the same losses, metrics, predictions and weights
as one device with the same global batch, the batch really split, the variables laid out
as the distribution says."""
import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

import jkeras as keras
from jkeras import distribution

WORKER = os.path.join(os.path.dirname(__file__), "dp_worker.py")
TOL = 1e-5


def _run(*args, timeout=300):
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8",
               JAX_PLATFORMS="cpu",
               PYTHONPATH=os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, WORKER, *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=timeout)
    lines = [l for l in done.stdout.splitlines() if l.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


def _close(a, b):
    return np.allclose(np.asarray(a), np.asarray(b), rtol=TOL, atol=TOL)


def _check_same_as_one_device(results, sharded=True):
    for kind, runs in results.items():
        one = runs["1"]
        for count, run in runs.items():
            if count == "1":
                continue
            where = f"{kind} on {count} devices"
            for key in ("loss", "val_loss", "evaluate", "predict"):
                assert _close(run[key], one[key]), (where, key, run[key], one[key])
            for a, b in zip(run["weights"], one["weights"]):
                assert _close(a, b), where
            if sharded:
                assert "batch" in run["batch_spec"], (where, run["batch_spec"])


@pytest.fixture(scope="module")
def data_parallel_runs():
    return _run("mlp,cnn,lstm,multi", 24)


@pytest.mark.slow
def test_data_parallel_matches_one_device(data_parallel_runs):
    _check_same_as_one_device(data_parallel_runs)


def test_data_parallel_replicates_variables(data_parallel_runs):
    for kind, runs in data_parallel_runs.items():
        for count, run in runs.items():
            if count != "1":
                assert all("model" not in spec and "batch" not in spec
                           for spec in run["state_specs"]), (kind, run["state_specs"])


@pytest.mark.slow
def test_batches_that_do_not_divide_and_steps_per_execution():
    # 96 samples in batches of 20: 20 does not divide by 8 (nor 16 by 8... the last is 16);
    # such batches run replicated, and every sample counts once.
    _check_same_as_one_device(_run("mlp,cnn", 20, 2), sharded=False)


@pytest.mark.slow
def test_model_parallel_shards_kernels_by_the_layout_map():
    results = _run("mlp", 24, 1, "model")
    _check_same_as_one_device(results)
    for count in ("4", "8"):
        specs = results["mlp"][count]["state_specs"]
        assert specs.count("P(None, 'model')") == 2, specs  # the two Dense kernels


@pytest.mark.slow
def test_generators_sequences_and_streamed_arrays_shard_too():
    results = _run("feeds")
    for name, runs in results.items():
        one, four = runs["1"], runs["4"]
        assert _close(four["loss"], one["loss"]), (name, four["loss"], one["loss"])
        assert _close(four["predict"], one["predict"]), name
        for a, b in zip(four["weights"], one["weights"]):
            assert _close(a, b), name


@pytest.mark.slow
def test_cpu_meshes_keep_few_steps_in_flight():
    """XLA:CPU aborts when a program's all-reduce waits behind more than 32 queued
    programs (see Placement.dispatched); on a CPU mesh the loops wait for every 8th
    dispatch: 80 training steps one at a time, then an evaluate of 40 batches in 2 chunks
    and a predict of 2 chunks, at least 10 waits. One device never waits."""
    result = _run("in_flight")
    assert result["1"]["waits"] == 0
    assert result["2"]["waits"] >= 10
    assert _close(result["2"]["loss"], result["1"]["loss"])


@pytest.mark.slow
def test_multi_gpu_model_trains_the_original_weights():
    result = _run("multi_gpu")
    assert all(result["moved"])
    assert result["devices"] == 4 and "batch" in result["batch_spec"]
    assert _close(result["loss"], result["single_loss"])
    assert result["max_diff_vs_single"] < TOL


def test_layout_map_that_does_not_divide_is_a_clear_error():
    mesh = distribution.DeviceMesh((1,), ["model"], jax.devices()[:1])
    layout_map = distribution.LayoutMap(mesh)
    layout_map["dense.*kernel"] = ("model", None, None)
    dist = distribution.ModelParallel(layout_map=layout_map, batch_dim_name="model")
    with pytest.raises(ValueError, match="has 3 axes"):
        dist.get_variable_layout("dense/kernel", (4, 3))


def test_mesh_naming_missing_devices_is_a_clear_error():
    with pytest.raises(ValueError, match="does not exist"):
        distribution.DeviceMesh((2,), ["batch"], ["cpu:0", "cpu:7"])
    with pytest.raises(ValueError, match="needs 4 devices"):
        distribution.DeviceMesh((4,), ["batch"], jax.devices()[:1])


def test_api_names_and_scope():
    assert distribution.list_devices()[0].startswith("cpu:")
    dist = distribution.DataParallel()
    assert distribution.distribution() is None
    with dist.scope():
        assert distribution.distribution() is dist
    assert distribution.distribution() is None
    laid = distribution.distribute_tensor(np.ones((4, 2), "float32"),
                                          distribution.TensorLayout((None, None),
                                                                    dist.device_mesh))
    assert laid.shape == (4, 2)


def test_multi_gpu_model_needs_two_devices():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="gpus >= 2"):
        keras.utils.multi_gpu_model(model, gpus=1)


@pytest.mark.slow
def test_batch_norm_takes_statistics_per_replica_unless_synchronized():
    """As Keras's BatchNormalization under a distribution strategy: each replica normalizes
    its part of the batch with that part's statistics and the moving statistics move by
    their average over replicas; `synchronized=True` uses the global batch's."""
    runs = _run("bn")
    x = np.asarray(runs["x"])
    eps = 1e-3
    for count in (1, 2, 4):
        parts = np.split(x, count)
        mean = np.mean([p.mean(0) for p in parts], axis=0)
        var = np.mean([p.var(0) for p in parts], axis=0)
        loss = np.mean(np.concatenate([((p - p.mean(0)) / np.sqrt(p.var(0) + eps)) ** 2
                                       for p in parts]))
        run = runs[f"False/{count}"]
        assert _close(run["mean"], mean) and _close(run["var"], var), count
        assert np.isclose(run["loss"], loss, rtol=1e-4), (count, run["loss"], loss)
        synced = runs[f"True/{count}"]
        assert _close(synced["var"], x.var(0)) and _close(synced["mean"], x.mean(0)), count
    assert not _close(runs["False/4"]["var"], x.var(0))  # the two really differ here


@pytest.mark.slow
def test_weights_16_bit_copies_are_sharded_like_the_weights():
    """Under mixed_bfloat16 the train state carries the Dense weights' bfloat16 copies
    (trainer/casts.py), placed as the weights are (a split kernel's copy split the same
    way), and the numbers are those of a state without them, on every mesh."""
    results = _run("mixed")
    for setting in ("1", "data", "model"):
        on, off = results[f"True/{setting}"], results[f"False/{setting}"]
        assert on["copies"] == ["bfloat16"] * 4 and off["copies"] == [], (setting, on, off)
        assert on["loss"] == off["loss"], setting
        assert on["weights"] == off["weights"], setting
    assert results["True/model"]["specs"].count("P(None, 'model')") == 2, \
        results["True/model"]["specs"]  # the kernels' copies, split as the kernels
    one, four = results["True/1"]["loss"], results["True/data"]["loss"]
    assert np.allclose(one, four, rtol=2e-2), (one, four)
