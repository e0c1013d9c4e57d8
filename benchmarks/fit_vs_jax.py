"""fit() against a hand-written jax.jit + optax loop on the same model, in one run.

Models (issue 3): an MLP 784-256-256-10 (batch 128, Adam) and a small convnet with
BatchNormalization (batch 512, Adam). Both loops keep the data on the device, shuffle each
epoch and gather the batch inside the jitted step; the hand-written one is what a careful
JAX user writes. Prints seconds per step for each and the ratio jkeras / hand-written, for
fit(verbose=0) and fit(verbose=1). Usage: python benchmarks/fit_vs_jax.py [--quick]
"""
import argparse
import contextlib
import io
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import jkeras as keras
from jkeras import layers


def mlp_model():
    return keras.Sequential([
        layers.Dense(256, activation="relu", input_shape=(784,)),
        layers.Dense(256, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


def convnet_model():
    return keras.Sequential([
        layers.Conv2D(32, 3, padding="same", use_bias=False, input_shape=(32, 32, 3)),
        layers.BatchNormalization(),
        layers.Activation("relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.Activation("relu"),
        layers.GlobalAveragePooling2D(),
        layers.Dense(10, activation="softmax"),
    ])


# ---------------------------------------------------------------------- hand-written
def _dense(p, x):
    return x @ p["kernel"] + p["bias"]


def mlp_forward(params, state, x, training):
    h = jax.nn.relu(_dense(params["d1"], x))
    h = jax.nn.relu(_dense(params["d2"], h))
    return jax.nn.softmax(_dense(params["d3"], h)), state


def _bn(p, s, x, training, momentum=0.99, eps=1e-3):
    if training:
        mean = jnp.mean(x, axis=(0, 1, 2))
        var = jnp.var(x, axis=(0, 1, 2))
        s = {"mean": s["mean"] * momentum + mean * (1 - momentum),
             "var": s["var"] * momentum + var * (1 - momentum)}
    else:
        mean, var = s["mean"], s["var"]
    return (x - mean) * jax.lax.rsqrt(var + eps) * p["gamma"] + p["beta"], s


def _conv(kernel, x):
    return jax.lax.conv_general_dilated(x, kernel, (1, 1), "SAME",
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))


def conv_forward(params, state, x, training):
    h, s1 = _bn(params["bn1"], state["bn1"], _conv(params["c1"], x), training)
    h = jax.nn.relu(h)
    h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
    h, s2 = _bn(params["bn2"], state["bn2"], _conv(params["c2"], h), training)
    h = jnp.mean(jax.nn.relu(h), axis=(1, 2))
    return jax.nn.softmax(_dense(params["d"], h)), {"bn1": s1, "bn2": s2}


def hand_params(model, kind):
    w = [jnp.asarray(a) for a in model.get_weights()]
    if kind == "mlp":
        return {"d1": {"kernel": w[0], "bias": w[1]}, "d2": {"kernel": w[2], "bias": w[3]},
                "d3": {"kernel": w[4], "bias": w[5]}}, {}
    params = {"c1": w[0], "bn1": {"gamma": w[1], "beta": w[2]}, "c2": w[5],
              "bn2": {"gamma": w[6], "beta": w[7]}, "d": {"kernel": w[10], "bias": w[11]}}
    state = {"bn1": {"mean": w[3], "var": w[4]}, "bn2": {"mean": w[8], "var": w[9]}}
    return params, state


_STEPS = {}


def hand_step(forward, tx):
    """The jitted train step for `forward`, built once (as a user would)."""
    if forward in _STEPS:
        return _STEPS[forward]

    def loss_fn(p, s, xb, yb):
        probs, new_s = forward(p, s, xb, True)
        probs = jnp.clip(probs, 1e-7, 1 - 1e-7)
        return -jnp.mean(jnp.sum(yb * jnp.log(probs), axis=-1)), new_s

    def step(carry, data, idx):
        p, s, o = carry
        xb, yb = data[0][idx], data[1][idx]
        (loss, s), grads = jax.value_and_grad(loss_fn, has_aux=True)(p, s, xb, yb)
        updates, o = tx.update(grads, o, p)
        return (optax.apply_updates(p, updates), s, o), loss

    _STEPS[forward] = jax.jit(step, donate_argnums=(0,))
    return _STEPS[forward]


def hand_written_fit(forward, params, state, x, y, batch_size, epochs, seed=0):
    tx = optax.adam(1e-3, eps=1e-7)
    step = hand_step(forward, tx)
    opt_state = tx.init(params)
    data = (jnp.asarray(x), jnp.asarray(y))
    carry = jax.tree_util.tree_map(jnp.copy, (params, state, opt_state))  # donated below
    n = len(x)
    rng = np.random.default_rng(seed)
    loss = None
    for _ in range(epochs):
        order = rng.permutation(n)
        for i in range(0, n, batch_size):
            carry, loss = step(carry, data, jnp.asarray(order[i:i + batch_size]))
        jax.block_until_ready(carry)
    return float(loss)


# ---------------------------------------------------------------------- timing
def time_it(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bench(kind, n, batch_size, epochs, repeats):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    if kind == "mlp":
        x = rng.random((n, 784), dtype=np.float32)
        model, forward = mlp_model(), mlp_forward
    else:
        x = rng.random((n, 32, 32, 3), dtype=np.float32)
        model, forward = convnet_model(), conv_forward
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]
    steps = epochs * -(-n // batch_size)
    model.compile(keras.optimizers.Adam(1e-3), "categorical_crossentropy")
    params, state = hand_params(model, kind)

    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)  # compile
    hand_written_fit(forward, params, state, x, y, batch_size, 1)  # compile

    def fit(verbose):
        with contextlib.redirect_stdout(io.StringIO()):
            model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=verbose)
        jax.block_until_ready(model.get_weights())

    # Interleaved, best of `repeats`: drift in machine speed hits all three alike.
    contenders = {"hand": lambda: hand_written_fit(forward, params, state, x, y, batch_size,
                                                   epochs),
                  "v0": lambda: fit(0), "v1": lambda: fit(1)}
    best = {name: float("inf") for name in contenders}
    for _ in range(repeats):
        for name, run in contenders.items():
            best[name] = min(best[name], time_it(run, 1))
    t_hand, t_v0, t_v1 = best["hand"], best["v0"], best["v1"]
    return [(f"{kind} verbose=0", t_v0 / steps, t_hand / steps),
            (f"{kind} verbose=1", t_v1 / steps, t_hand / steps)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer steps (smoke run)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    scale = 1 if args.quick else 4
    print(f"device: {jax.devices()[0].device_kind} ({jax.default_backend()}), "
          f"jax {jax.__version__}")
    rows = bench("mlp", 128 * 25 * scale, 128, 3, args.repeats)
    rows += bench("convnet", 512 * 4 * scale, 512, 3, args.repeats)
    print(f"{'case':<22}{'jkeras s/step':>15}{'hand s/step':>15}{'ratio':>8}")
    for name, ours, hand in rows:
        print(f"{name:<22}{ours:>15.6f}{hand:>15.6f}{ours / hand:>8.3f}")


if __name__ == "__main__":
    sys.exit(main())
