"""Small steps' scans unroll on host-driven loops (GPUs): what counts as small, that the
unrolled scan computes what `lax.scan` computes, and that `fit` asks for it only with an
explicit `steps_per_execution`.

CPUs run loops on the device, so these tests declare the CPU host-driven to take the path.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jkeras as keras
from jkeras.trainer import unrolling


@pytest.fixture
def host_driven(monkeypatch):
    monkeypatch.setattr(unrolling, "HOST_DRIVEN_LOOPS", frozenset({jax.default_backend()}))


@pytest.fixture
def scan_unrolls(monkeypatch):
    """The `unroll` of every `lax.scan` traced from now on."""
    seen, plain = [], jax.lax.scan

    def spy(f, init, xs=None, length=None, reverse=False, unroll=1, **kwargs):
        seen.append(unroll)
        return plain(f, init, xs, length=length, reverse=reverse, unroll=unroll, **kwargs)
    monkeypatch.setattr(jax.lax, "scan", spy)
    return seen


def _loss(w, x):
    return jnp.sum(jnp.tanh(x @ w) ** 2)


def _sgd_body(carry, x):
    w = carry["w"]
    return {"w": w - 0.01 * jax.grad(_loss)(w, x), "n": carry["n"] + 1}, _loss(w, x)


def test_flops_of_dense_train_step():
    """Forward x @ w, then the gradient of w (x^T @ g); x's gradient is never formed."""
    batch, d_in, d_out = 128, 256, 64
    jaxpr = jax.make_jaxpr(jax.grad(_loss))(jnp.ones((d_in, d_out)), jnp.ones((batch, d_in)))
    assert unrolling.step_flops(jaxpr.jaxpr) == 2 * (2 * batch * d_in * d_out)


def test_flops_of_convolution_and_of_a_scan_inside():
    def conv(k, x):
        return jax.lax.conv_general_dilated(x, k, (1, 1), "SAME",
                                            dimension_numbers=("NHWC", "HWIO", "NHWC"))
    jaxpr = jax.make_jaxpr(conv)(jnp.ones((3, 3, 8, 16)), jnp.ones((2, 10, 10, 8)))
    # each output element: a 3x3 window over 8 input channels
    assert unrolling.step_flops(jaxpr.jaxpr) == 2 * (2 * 10 * 10 * 16) * (3 * 3 * 8)

    def five(w, xs):
        return jax.lax.scan(lambda c, x: (c + _loss(w, x), None), 0.0, xs)[0]
    jaxpr = jax.make_jaxpr(five)(jnp.ones((256, 64)), jnp.ones((5, 128, 256)))
    assert unrolling.step_flops(jaxpr.jaxpr) == 5 * 2 * 128 * 256 * 64


def _run(scan, xs):
    init = {"w": jnp.full((32, 16), 0.05), "n": jnp.int32(0)}
    return jax.jit(lambda i, x: scan(_sgd_body, i, x))(init, xs)


def test_unrolled_scan_computes_what_lax_scan_computes(host_driven, scan_unrolls):
    xs = jnp.asarray(np.random.default_rng(0).normal(size=(10, 8, 32)), jnp.float32)
    (carry, losses) = _run(unrolling.scan, xs)
    assert scan_unrolls[-1] == unrolling.UNROLL  # 10 turns: a remainder of 2 too
    ref_carry, ref_losses = _run(jax.lax.scan, xs)
    np.testing.assert_allclose(carry["w"], ref_carry["w"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-6)
    assert int(carry["n"]) == 10


def test_big_steps_and_unasked_scans_keep_one_body(host_driven, scan_unrolls, monkeypatch):
    xs = jnp.ones((4, 8, 32))
    _run(lambda *a: unrolling.scan(*a, unroll_small=False), xs)
    monkeypatch.setattr(unrolling, "SMALL_STEP_FLOPS", 10)
    _run(unrolling.scan, xs)
    assert scan_unrolls == [1, 1]


def test_devices_running_their_own_loops_keep_one_body(scan_unrolls, monkeypatch):
    monkeypatch.setattr(unrolling, "HOST_DRIVEN_LOOPS", frozenset())
    _run(unrolling.scan, jnp.ones((4, 8, 32)))
    assert scan_unrolls == [1]


def _fit_losses(steps_per_execution):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1024, 8)).astype("float32")  # 32 batches: one whole chunk
    y = (x[:, :3].sum(axis=1) > 0).astype("float32")
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dropout(0.1),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy",
                  steps_per_execution=steps_per_execution)
    history = model.fit(x, y, batch_size=32, epochs=3, verbose=0, shuffle=False)
    return history.history["loss"]


@pytest.mark.slow
def test_fit_unrolls_only_for_an_explicit_steps_per_execution(host_driven, scan_unrolls):
    quiet = _fit_losses(1)  # a quiet fit's chunks run in scans too, not unrolled
    assert scan_unrolls and set(scan_unrolls) == {1}
    del scan_unrolls[:]
    unrolled = _fit_losses(8)
    assert unrolling.UNROLL in scan_unrolls
    assert unrolled[-1] < 0.8 * unrolled[0], unrolled
    # the same steps in the same order: the same losses, up to rounding
    np.testing.assert_allclose(unrolled, quiet, rtol=1e-5)
