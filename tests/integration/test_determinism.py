"""Op determinism (`jkeras.utils.enable_op_determinism`, JKERAS_DETERMINISTIC): XLA's flag
lands in XLA_FLAGS before jax starts its backend, or a clear error says how to ask in time.

XLA reads XLA_FLAGS once per process, so the in-time cases run in fresh subprocesses that
import only jkeras and run one tiny computation; the too-late cases run here, where the
backend has started. Whether GPU runs then repeat bit for bit is benchmarks/determinism.py's
job (it needs a GPU).
"""
import os
import subprocess
import sys
import textwrap

import jax
import pytest

import jkeras
from jkeras import _config

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FLAG = "--xla_gpu_deterministic_ops=true"


def _run(code, **env):
    """Runs `code` in a fresh interpreter with jkeras from this worktree; returns stdout."""
    full_env = dict(os.environ, PYTHONPATH=REPO, JAX_PLATFORMS="cpu")
    for name in ("XLA_FLAGS", "JKERAS_DETERMINISTIC"):
        full_env.pop(name, None)
    full_env.update(env)
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=full_env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.split()


@pytest.mark.slow
def test_enable_in_time_sets_the_flag_before_the_backend_starts():
    out = _run("""
        import os
        import jkeras
        from jax._src import xla_bridge
        print(xla_bridge.backends_are_initialized())   # import jkeras starts nothing
        print(jkeras.config.is_op_determinism_enabled())
        jkeras.utils.enable_op_determinism()
        print(os.environ["XLA_FLAGS"])
        print(jkeras.config.is_op_determinism_enabled())
        import jax, jax.numpy as jnp
        print(float(jnp.sum(jnp.arange(4.0) * 2)), jax.device_count())
        jkeras.config.enable_op_determinism()           # again, after the start: a no-op
        print(os.environ["XLA_FLAGS"])
    """, XLA_FLAGS="--xla_force_host_platform_device_count=2 "
                   "--xla_gpu_deterministic_ops=false")
    assert out == ["False", "False",
                   "--xla_force_host_platform_device_count=2", FLAG, "True",
                   # jax started with both flags: the user's flag still took effect
                   "12.0", "2",
                   "--xla_force_host_platform_device_count=2", FLAG]


@pytest.mark.slow
def test_environment_variable_enables_it_at_import():
    out = _run("""
        import os
        import jkeras
        print(os.environ["XLA_FLAGS"], jkeras.config.is_op_determinism_enabled())
        import jax.numpy as jnp
        print(float(jnp.sum(jnp.ones(3))))
    """, JKERAS_DETERMINISTIC="1")
    assert out == [FLAG, "True", "3.0"]


@pytest.fixture
def started_backend(monkeypatch):
    """This process with jax's backend started and XLA_FLAGS without the flag."""
    jax.devices()
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    monkeypatch.delenv("JKERAS_DETERMINISTIC", raising=False)


def test_enable_too_late_raises_and_names_the_fix(started_backend):
    with pytest.raises(RuntimeError) as info:
        jkeras.utils.enable_op_determinism()
    message = str(info.value)
    assert "after jax had started its backend" in message
    assert "enable_op_determinism() at the top of the script" in message
    assert "JKERAS_DETERMINISTIC=1" in message
    assert "XLA_FLAGS" not in os.environ  # nothing changed
    assert not jkeras.config.is_op_determinism_enabled()


def test_environment_variable_too_late_raises(started_backend, monkeypatch):
    monkeypatch.setenv("JKERAS_DETERMINISTIC", "true")
    with pytest.raises(RuntimeError, match="JKERAS_DETERMINISTIC=1 in the environment"):
        _config.read_determinism_variable()
    assert "XLA_FLAGS" not in os.environ


@pytest.mark.parametrize("value", ["", "0", "false", "Off"])
def test_environment_variable_off_changes_nothing(started_backend, monkeypatch, value):
    monkeypatch.setenv("JKERAS_DETERMINISTIC", value)
    _config.read_determinism_variable()
    assert "XLA_FLAGS" not in os.environ


def test_environment_variable_bad_value_is_a_clear_error(started_backend, monkeypatch):
    monkeypatch.setenv("JKERAS_DETERMINISTIC", "sometimes")
    with pytest.raises(ValueError, match="JKERAS_DETERMINISTIC to be 1 or 0.*'sometimes'"):
        _config.read_determinism_variable()


@pytest.mark.parametrize("flags, enabled", [
    ("", False),
    ("--xla_gpu_deterministic_ops", True),
    ("--xla_gpu_deterministic_ops=true --xla_cpu_enable_fast_math=false", True),
    ("--xla_gpu_deterministic_ops=true --xla_gpu_deterministic_ops=false", False),
    ("--xla_gpu_deterministic_ops=0 --xla_gpu_deterministic_ops=1", True),
    ("--xla_gpu_deterministic_ops_other=true", False),
])
def test_is_enabled_reads_xla_flags_as_xla_does(monkeypatch, flags, enabled):
    monkeypatch.setenv("XLA_FLAGS", flags)
    assert jkeras.config.is_op_determinism_enabled() is enabled


def test_enable_after_start_is_fine_when_the_flag_was_already_set(started_backend,
                                                                  monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_gpu_deterministic_ops")
    jkeras.utils.enable_op_determinism()
    assert os.environ["XLA_FLAGS"] == "--xla_gpu_deterministic_ops"
