"""Shared test set-up: real Keras (the reference) runs on its JAX backend, on the CPU."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# The HDF5 load guard (a child process per load, ~0.2 s) is off for the suite's ~100 loads
# of intact files; tests/test_saving_file_guard.py turns it on (docs/LOADING.md).
os.environ.setdefault("JKERAS_LOAD_GUARD", "never")

import functools
import http.server
import threading

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def keras_ref():
    """Real Keras 3 on JAX, for numbers to compare against; skips if it is not installed."""
    return pytest.importorskip("keras")


@pytest.fixture(autouse=True)
def _fresh_names():
    """Each test starts with fresh automatic names (`dense`, `input_1`, ...)."""
    from jkeras.engine import naming
    naming.reset_uids()
    yield


@pytest.fixture
def http_server(tmp_path, monkeypatch):
    """An HTTP server on 127.0.0.1 (never another host) serving `root`; `url` is its base
    address and `requests` lists the paths asked for."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "served"
    root.mkdir()
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    yield type("Server", (), {"root": root, "url": url, "requests": requests})
    httpd.shutdown()
    httpd.server_close()
