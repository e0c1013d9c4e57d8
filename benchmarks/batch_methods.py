"""The per-batch methods Keras 2 scripts drive by hand, jkeras against Keras 3 and a
hand-written jitted step, in one run.

- train_on_batch / test_on_batch / predict_on_batch on an MLP (784-256-256-10, batch
  128, Adam, accuracy): milliseconds per call, the result read back each time (the
  methods return numbers). The hand-written baseline is one jitted, donated optax step
  plus reading its loss back: the least a call that returns the loss can do.
- A GAN iteration as Keras 2's GAN scripts write it (generator 100-256-512-784 with
  BatchNormalization, discriminator 784-512-256-1, batch 64): predict_on_batch on the
  generator, train_on_batch on the discriminator twice (real, fake), train_on_batch on
  the stacked model.

Ratios are jkeras / other (lower is better). Usage:
python benchmarks/batch_methods.py [--calls 200] [--repeats 5]
"""
import argparse
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import jkeras  # noqa: E402

LATENT, GAN_BATCH, MLP_BATCH = 100, 64, 128


def _keras3():
    try:
        import keras
    except ImportError:
        return None
    return keras


def mlp(lib):
    L = lib.layers
    model = lib.Sequential([lib.Input((784,)), L.Dense(256, activation="relu"),
                            L.Dense(256, activation="relu"),
                            L.Dense(10, activation="softmax")])
    model.compile(lib.optimizers.Adam(1e-3), "categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def gan(lib):
    L = lib.layers
    generator = lib.Sequential([
        lib.Input((LATENT,)), L.Dense(256), L.LeakyReLU(0.2),
        L.BatchNormalization(momentum=0.8), L.Dense(512), L.LeakyReLU(0.2),
        L.BatchNormalization(momentum=0.8), L.Dense(784, activation="tanh")])
    discriminator = lib.Sequential([
        lib.Input((784,)), L.Dense(512), L.LeakyReLU(0.2), L.Dense(256), L.LeakyReLU(0.2),
        L.Dense(1, activation="sigmoid")])
    discriminator.compile(lib.optimizers.Adam(2e-4, 0.5), "binary_crossentropy",
                          metrics=["accuracy"])
    discriminator.trainable = False
    z = lib.Input((LATENT,))
    combined = lib.Model(z, discriminator(generator(z)))
    combined.compile(lib.optimizers.Adam(2e-4, 0.5), "binary_crossentropy")
    return generator, discriminator, combined


def hand_train_on_batch(model):
    """A jitted, donated optax step on the MLP's weights that returns its loss."""
    params = [jnp.asarray(w) for w in model.get_weights()]
    tx = optax.adam(1e-3, eps=1e-7)

    def loss_fn(p, x, y):
        h = x
        for i in range(0, len(p), 2):
            h = h @ p[i] + p[i + 1]
            h = jax.nn.relu(h) if i + 2 < len(p) else jax.nn.softmax(h)
        h = jnp.clip(h, 1e-7, 1 - 1e-7)
        return -jnp.mean(jnp.sum(y * jnp.log(h), axis=-1))

    def step(carry, x, y):
        p, o = carry
        loss, grads = jax.value_and_grad(loss_fn)(p, x, y)
        updates, o = tx.update(grads, o, p)
        return (optax.apply_updates(p, updates), o), loss

    step = jax.jit(step, donate_argnums=(0,))
    carry = [(params, tx.init(params))]

    def call(x, y):
        carry[0], loss = step(carry[0], x, y)
        return float(loss)
    return call


def per_call(fn, calls, repeats):
    for _ in range(5):
        fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def gan_iteration(lib, data, rng):
    generator, discriminator, combined = gan(lib)
    ones = np.ones((GAN_BATCH, 1), "float32")
    zeros = np.zeros((GAN_BATCH, 1), "float32")
    state = {"i": 0}

    def run():
        start = (state["i"] * GAN_BATCH) % (len(data) - GAN_BATCH)
        state["i"] += 1
        noise = rng.normal(size=(GAN_BATCH, LATENT)).astype("float32")
        fake = generator.predict_on_batch(noise)
        discriminator.train_on_batch(data[start:start + GAN_BATCH], ones)
        discriminator.train_on_batch(np.asarray(fake), zeros)
        combined.train_on_batch(noise, ones)
    return run


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    keras3 = _keras3()
    libs = {"jkeras": jkeras}
    if keras3 is not None:
        libs["keras3"] = keras3
    device = jax.devices()[0]
    print(f"device: {device.device_kind} ({jax.default_backend()}), jax {jax.__version__}, "
          f"Keras 3: {keras3.__version__ if keras3 else 'not available'}")
    rng = np.random.default_rng(0)
    x = rng.random((MLP_BATCH, 784), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, MLP_BATCH)]
    rows = {}
    for name, lib in libs.items():
        jkeras.utils.set_random_seed(0)
        model = mlp(lib)
        rows.setdefault("train_on_batch", {})[name] = per_call(
            lambda: model.train_on_batch(x, y), args.calls, args.repeats)
        rows.setdefault("test_on_batch", {})[name] = per_call(
            lambda: model.test_on_batch(x, y), args.calls, args.repeats)
        rows.setdefault("predict_on_batch", {})[name] = per_call(
            lambda: np.asarray(model.predict_on_batch(x)), args.calls, args.repeats)
        if name == "jkeras":
            hand = hand_train_on_batch(model)
            xd, yd = jax.device_put(x), jax.device_put(y)
            rows["train_on_batch"]["hand"] = per_call(lambda: hand(xd, yd), args.calls,
                                                      args.repeats)
        data = rng.uniform(-1, 1, (6400, 784)).astype("float32")
        rows.setdefault("GAN iteration", {})[name] = per_call(
            gan_iteration(lib, data, rng), args.calls // 2, args.repeats)
    print(f"{'case':<20}{'jkeras ms':>11}{'keras3 ms':>11}{'hand ms':>10}"
          f"{'vs keras3':>11}{'vs hand':>9}")
    for case, values in rows.items():
        ours = values["jkeras"]
        k3, hand = values.get("keras3"), values.get("hand")
        cells = [f"{ours * 1e3:>11.3f}",
                 f"{k3 * 1e3:>11.3f}" if k3 else f"{'-':>11}",
                 f"{hand * 1e3:>10.3f}" if hand else f"{'-':>10}",
                 f"{ours / k3:>11.2f}" if k3 else f"{'-':>11}",
                 f"{ours / hand:>9.2f}" if hand else f"{'-':>9}"]
        print(f"{case:<20}" + "".join(cells), flush=True)


if __name__ == "__main__":
    sys.exit(main())
