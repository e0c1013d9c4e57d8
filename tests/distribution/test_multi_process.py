"""Two processes on 127.0.0.1, one CPU device each, started with `jax.distributed`
(through `jkeras.distribution.initialize`): the same losses as one process with the same
global batch, identical weights in both, files written by process 0 only. Bounded: a
process that dies or hangs ends the test with its output."""
import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

import jkeras as keras

from tests.distribution import mp_worker

WORKER = os.path.join(os.path.dirname(__file__), "mp_worker.py")
LIMIT_S = 240


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(process_id, port, out_dir, parallel="data"):
    env = dict(os.environ, JAX_PLATFORMS="cpu",
               PYTHONPATH=os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")]))
    env.pop("XLA_FLAGS", None)
    return subprocess.Popen([sys.executable, WORKER, str(process_id), str(port), out_dir,
                             parallel],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _finish(procs):
    deadline = time.monotonic() + LIMIT_S
    outputs = [None] * len(procs)
    while time.monotonic() < deadline and any(o is None for o in outputs):
        for i, proc in enumerate(procs):
            if outputs[i] is None and proc.poll() is not None:
                outputs[i] = proc.communicate()
                if proc.returncode != 0:
                    for other in procs:
                        other.kill()
                    pytest.fail(f"process {i} exited with {proc.returncode}:\n"
                                f"{outputs[i][1][-3000:]}")
        time.sleep(0.2)
    if any(o is None for o in outputs):
        for proc in procs:
            proc.kill()
        pytest.fail(f"the two-process job did not finish in {LIMIT_S} s")
    results = []
    for out, _ in outputs:
        line = [l for l in out.splitlines() if l.startswith("RESULT ")][-1]
        results.append(json.loads(line[len("RESULT "):]))
    return results


@pytest.mark.slow
@pytest.mark.parametrize("parallel", ["data", "model"])
def test_two_processes_train_like_one(tmp_path, parallel):
    """Data parallel, and model parallel with the Dense kernels split over the two
    processes' devices (reading them gathers from both: weights, checkpoints, backups and
    saves still work, and only process 0 writes). Process 0 draws a progress bar, so it
    steps batch by batch; a learning-rate callback makes the backup write again at each
    epoch's end; a save that process 0 refuses leaves no process waiting."""
    port = _free_port()
    procs = [_start(i, port, str(tmp_path), parallel) for i in range(2)]
    first, second = _finish(procs)
    for a, b in zip(first["weights"], second["weights"]):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert (first["refused"], second["refused"]) == (True, False)
    model, x, y = mp_worker.model_and_data()
    history = model.fit(x, y, batch_size=24, epochs=2, verbose=0,
                        callbacks=[mp_worker.schedule()])
    np.testing.assert_allclose(first["loss"], history.history["loss"], rtol=1e-5)
    for a, b in zip(first["weights"], model.get_weights()):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-5, atol=1e-5)
    for result in (first, second):  # the saved model, loaded under the distribution
        np.testing.assert_allclose(result["loaded"], result["evaluate"], rtol=1e-6)
    np.testing.assert_allclose(first["evaluate"], model.evaluate(x, y, batch_size=24,
                                                                 verbose=0), rtol=1e-5)
    written = sorted(os.listdir(tmp_path))
    assert written == ["backup", "ckpt_from_process_0.h5", "log_from_process_0.csv",
                       "model_from_process_0.h5"], written
    assert os.listdir(tmp_path / "backup") == []  # deleted at the end, by process 0
    saved = keras.models.load_model(os.path.join(tmp_path, "ckpt_from_process_0.h5"))
    for a, b in zip(first["weights"], saved.get_weights()):
        np.testing.assert_array_equal(np.asarray(a, np.float32), b)


def test_weight_reading_callbacks_are_refused_when_weights_span_processes(monkeypatch,
                                                                          tmp_path):
    """TensorBoard's histograms read weights in process 0 only, which would leave the
    gather of weights split over processes waiting for the others: a clear error instead,
    before any step."""
    model, x, y = mp_worker.model_and_data()
    monkeypatch.setattr(type(model._trainer), "weights_span_processes", lambda self: True)
    before = [w.copy() for w in model.get_weights()]
    board = keras.callbacks.TensorBoard(str(tmp_path), histogram_freq=1)
    with pytest.raises(ValueError, match="histogram_freq=1"):
        model.fit(x, y, batch_size=24, epochs=1, verbose=0, callbacks=[board])
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
