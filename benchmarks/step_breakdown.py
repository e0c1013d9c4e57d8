"""Where a step's time goes: jkeras vs the hand-written model, stage by stage.

Times (jitted, device-synchronised, median of runs) the forward pass, the loss gradient,
the optimizer update and the whole train step for the convnet of fit_vs_jax.py, so a gap
in the end-to-end ratio can be traced to the stage that causes it.
"""
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

import jkeras as keras
from benchmarks.fit_vs_jax import conv_forward, convnet_model, hand_params


def median_time(fn, *args, runs=50):
    out = fn(*args)
    jax.block_until_ready(out)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(batch=512):
    keras.utils.set_random_seed(0)
    model = convnet_model()
    model.compile(keras.optimizers.Adam(1e-3), "categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.random((batch, 32, 32, 3), dtype=np.float32))
    y = jnp.asarray(np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch)])
    variables = model.variables_tree()
    params, state = hand_params(model, "cnn")

    ours_fwd = jax.jit(lambda v, x: model.apply(v, x, training=True)[0])
    hand_fwd = jax.jit(lambda p, s, x: conv_forward(p, s, x, True)[0])

    def ours_loss(params_tree, v, x, y):
        out = model.apply({"params": params_tree, "state": v["state"]}, x, training=True)[0]
        return keras.losses.categorical_crossentropy(y, out).mean()

    def hand_loss(p, s, x, y):
        probs = jnp.clip(conv_forward(p, s, x, True)[0], 1e-7, 1 - 1e-7)
        return -jnp.mean(jnp.sum(y * jnp.log(probs), axis=-1))

    ours_grad = jax.jit(jax.grad(ours_loss))
    hand_grad = jax.jit(jax.grad(hand_loss))

    ours_tx = model.optimizer.transformation()
    hand_tx = optax.adam(1e-3, eps=1e-7)
    ours_opt = ours_tx.init(variables["params"])
    hand_opt = hand_tx.init(params)
    ours_update = jax.jit(lambda g, o, p: ours_tx.update(g, o, p))
    hand_update = jax.jit(lambda g, o, p: hand_tx.update(g, o, p))
    g_ours = ours_grad(variables["params"], variables, x, y)
    g_hand = hand_grad(params, state, x, y)

    rows = [
        ("forward (training)", median_time(ours_fwd, variables, x),
         median_time(hand_fwd, params, state, x)),
        ("loss gradient", median_time(ours_grad, variables["params"], variables, x, y),
         median_time(hand_grad, params, state, x, y)),
        ("optimizer update", median_time(ours_update, g_ours, ours_opt, variables["params"]),
         median_time(hand_update, g_hand, hand_opt, params)),
    ]
    trainer = model._trainer
    trainer.begin()
    start_state = jax.tree_util.tree_map(jnp.copy, trainer.state)
    step = trainer._fn("train")
    times = []
    for _ in range(50):
        train_state = jax.tree_util.tree_map(jnp.copy, start_state)
        jax.block_until_ready(train_state)
        begin = time.perf_counter()
        jax.block_until_ready(step(train_state, ([x], [y], [None])))
        times.append(time.perf_counter() - begin)
    def hand_step(p, s, o, x, y):
        (loss, s), grads = jax.value_and_grad(
            lambda p: (hand_loss(p, s, x, y), s), has_aux=True)(p)
        updates, o = hand_tx.update(grads, o, p)
        return optax.apply_updates(p, updates), s, o, loss
    hand_time = median_time(jax.jit(hand_step), params, state, hand_opt, x, y)
    rows.append(("whole train step", float(np.median(times[5:])), hand_time))
    trainer.end()
    print(f"device: {jax.devices()[0].device_kind}")
    print(f"{'stage':<22}{'jkeras ms':>12}{'hand ms':>12}{'ratio':>8}")
    for name, ours, hand in rows:
        print(f"{name:<22}{ours * 1e3:>12.3f}{hand * 1e3:>12.3f}{ours / hand:>8.3f}")


if __name__ == "__main__":
    main()
