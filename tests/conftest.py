"""Shared test set-up: real Keras (the reference) runs on its JAX backend, on the CPU."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# The HDF5 load guard (a child process per load, ~0.2 s) is off for the suite's ~100 loads
# of intact files; tests/saving/test_file_guard.py turns it on (docs/LOADING.md).
os.environ.setdefault("JKERAS_LOAD_GUARD", "never")

import functools
import http.server
import importlib.util
import threading

import numpy as np
import pytest


# ------------------------------------------------------------------------- the test extra
# pyproject's `test` extra: module -> package. scipy (Keras's image reference) is not in it,
# so tests/preprocessing/test_image.py still skips its comparisons without scipy.
TEST_EXTRA = {"keras": "keras", "PIL": "pillow", "tensorboard": "tensorboard",
              "sklearn": "scikit-learn", "pydot": "pydot"}


def pytest_configure(config):
    """The test extra is the reference half of the suite: without it, stop at once with the
    command that installs it, instead of skipping the tests that compare with Keras."""
    missing = sorted(package for module, package in TEST_EXTRA.items()
                     if importlib.util.find_spec(module) is None)
    if missing:
        raise pytest.UsageError(
            f"the test extra is not installed (missing: {', '.join(missing)}); "
            f"run `pip install -e '.[test]'` from the repository root")


# ------------------------------------------------------------------ comparing with Keras 3
# Plain functions (import them: `from tests.conftest import TOL, assert_config_like_keras`).

TOL = dict(atol=1e-5, rtol=1e-5)  # float32 outputs against real Keras 3's


def config_values_agree(ours, theirs):
    """Config values agree; dicts on the keys both have (Keras 3 adds `module`, ...), lists
    and tuples item by item."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return all(config_values_agree(ours[k], theirs[k]) for k in set(ours) & set(theirs))
    if isinstance(ours, (list, tuple)) and isinstance(theirs, (list, tuple)):
        return len(ours) == len(theirs) and all(map(config_values_agree, ours, theirs))
    return ours == theirs


def assert_config_like_keras(ours, theirs, skip=()):
    """Every key of the two configs (dicts, or layers whose get_config is read) but `name`,
    `dtype` and `skip` agrees; a layer of ours also survives a from_config round trip.
    Returns the keys compared."""
    config = ours.get_config() if hasattr(ours, "get_config") else ours
    reference = theirs.get_config() if hasattr(theirs, "get_config") else theirs
    shared = (set(config) & set(reference)) - {"name", "dtype", *skip}
    for key in shared:
        assert config_values_agree(config[key], reference[key]), \
            (key, config[key], reference[key])
    if hasattr(ours, "get_config"):
        assert type(ours).from_config(config).get_config() == config
    return shared


def assert_all_close(ours, theirs, **tol):
    """One output or a list of outputs (an RNN's output and states) equal Keras's."""
    ours = list(ours) if isinstance(ours, (list, tuple)) else [ours]
    theirs = list(theirs) if isinstance(theirs, (list, tuple)) else [theirs]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), **{**TOL, **tol})


# ---------------------------------------------------------------------------------- fixtures
@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def keras_ref():
    """Real Keras 3 on JAX, for numbers to compare against."""
    import keras
    return keras


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
