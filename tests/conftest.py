"""Shared test set-up: real Keras (the reference) runs on its JAX backend, on the CPU."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

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
