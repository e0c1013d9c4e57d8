"""The trainer against an honest hand-written jax+optax loop, and against Keras 3, in one run.

The hand-written loop is the strongest baseline a careful JAX user writes: one jitted,
donated step over batches already cut and on the device (no shuffle, no per-step upload,
no callbacks), blocked on once per epoch. Cases (issue "The trainer, rebuilt around one
state"):

- mlp: 784-256-256-10, batch 128, Adam, 2 epochs, warm (same arrays as the warm-up).
- mlp fresh: the same, on a fresh array of a new size after warm-up; both sides pay the
  upload of the new array (the hand loop cuts its batches from it too).
- cnn: conv 64-128-256 with BatchNormalization, batch 512, Adam.
- mlp spe=32: fit with steps_per_execution=32 against 32 steps in one lax.scan over
  batches stacked on the device; and against the same scan summing its steps' losses (fit
  reports the epoch's mean loss, which the plain loop never computes). On a GPU fit unrolls
  this small step's scan by 4 (jkeras/trainer/unrolling.py); the "vs a scan unrolled" row
  and the slope rows below it put the hand scan on the same footing, to show what fit
  itself adds.
- "unshuffled" rows: fit with shuffle=False, the batches in the loop's own order (the loop
  never shuffles; a shuffled fit also draws a permutation and uploads its index table at
  each epoch's start).
- "per step" and "fixed cost": the unshuffled cnn and spe=32 cases timed at 2 and 6
  epochs; the slope of time against steps is each side's cost per step (per-epoch work
  included), the intercept what one call costs besides (setting up, the first dispatch,
  the last read).
- predict: samples/s on the cnn, jkeras against Keras 3 (and a jitted forward loop).
- first step: seconds from the `fit` call to the first step done, fresh model (compile
  included), jkeras against Keras 3.

Ratios are jkeras time / baseline time (lower is better). Keras 3 columns appear when the
`keras` package imports with KERAS_BACKEND=jax. Usage:
python benchmarks/fit_vs_jax.py [--quick] [--repeats 5] [--json out.json]
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import jkeras  # noqa: E402
from jkeras import layers  # noqa: E402
from jkeras.trainer import unrolling  # noqa: E402


# ---------------------------------------------------------------------- models
def mlp_model(lib=jkeras):
    return lib.Sequential([
        lib.Input((784,)),
        lib.layers.Dense(256, activation="relu"),
        lib.layers.Dense(256, activation="relu"),
        lib.layers.Dense(10, activation="softmax"),
    ])


def convnet_model(lib=jkeras):
    L = lib.layers
    stack = [lib.Input((32, 32, 3))]
    for i, filters in enumerate((64, 128, 256)):
        stack += [L.Conv2D(filters, 3, padding="same", use_bias=False),
                  L.BatchNormalization(), L.Activation("relu")]
        if i < 2:
            stack.append(L.MaxPooling2D(2))
    stack += [L.GlobalAveragePooling2D(), L.Dense(10, activation="softmax")]
    return lib.Sequential(stack)


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
    h, new_state = x, {}
    for i in range(3):
        h, new_state[f"bn{i}"] = _bn(params[f"bn{i}"], state[f"bn{i}"],
                                     _conv(params[f"c{i}"], h), training)
        h = jax.nn.relu(h)
        if i < 2:
            h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1),
                                      "VALID")
    h = jnp.mean(h, axis=(1, 2))
    return jax.nn.softmax(_dense(params["d"], h)), new_state


def hand_params(model, kind):
    """The model's initial weights in the hand-written layout (same starting point)."""
    w = [jnp.asarray(a) for a in model.get_weights()]
    if kind == "mlp":
        return {"d1": {"kernel": w[0], "bias": w[1]}, "d2": {"kernel": w[2], "bias": w[3]},
                "d3": {"kernel": w[4], "bias": w[5]}}, {}
    params, state = {}, {}
    for i in range(3):
        kernel, gamma, beta, mean, var = w[5 * i:5 * i + 5]
        params[f"c{i}"] = kernel
        params[f"bn{i}"] = {"gamma": gamma, "beta": beta}
        state[f"bn{i}"] = {"mean": mean, "var": var}
    params["d"] = {"kernel": w[15], "bias": w[16]}
    return params, state


def _loss_fn(forward):
    def loss(p, s, xb, yb):
        probs, new_s = forward(p, s, xb, True)
        probs = jnp.clip(probs, 1e-7, 1 - 1e-7)
        return -jnp.mean(jnp.sum(yb * jnp.log(probs), axis=-1)), new_s
    return loss


def hand_step(forward, tx, with_loss=False):
    """`step(carry, batch) -> carry` (`with_loss`: `-> (carry, loss)`)."""
    loss_fn = _loss_fn(forward)

    def step(carry, batch):
        p, s, o = carry
        (loss, s), grads = jax.value_and_grad(loss_fn, has_aux=True)(p, s, *batch)
        updates, o = tx.update(grads, o, p)
        carry = (optax.apply_updates(p, updates), s, o)
        return (carry, loss) if with_loss else carry
    return step


class HandLoop:
    """The baseline: a jitted, donated step (or a scan of `scan` steps) over device batches.
    `with_loss` (scans only): the loop also sums its steps' losses, as a loop that logs an
    epoch's mean loss does (the plain loop never computes the loss's value). `unroll`: the
    scan's `unroll` (jkeras unrolls a small step's scan on GPUs by `unrolling.UNROLL`)."""

    def __init__(self, forward, params, state, scan=1, with_loss=False, unroll=1):
        self.tx = optax.adam(1e-3, eps=1e-7)
        step = hand_step(forward, self.tx, with_loss)
        if scan > 1 and with_loss:
            def run(carry, stacked):
                new, losses = jax.lax.scan(step, carry[:3], stacked, unroll=unroll)
                return new + (carry[3] + jnp.sum(losses),)
            self.step = jax.jit(run, donate_argnums=(0,))
        elif scan > 1:
            def run(carry, stacked):
                return jax.lax.scan(lambda c, b: (step(c, b), None), carry, stacked,
                                    unroll=unroll)[0]
            self.step = jax.jit(run, donate_argnums=(0,))
        else:
            self.step = jax.jit(step, donate_argnums=(0,))
        self.scan = scan
        self.carry = jax.tree_util.tree_map(jnp.copy, (params, state, self.tx.init(params)))
        if with_loss:
            self.carry += (jnp.zeros((), jnp.float32),)

    def batches(self, x, y, batch_size):
        xd, yd = jax.device_put(x), jax.device_put(y)
        out = [(xd[i:i + batch_size], yd[i:i + batch_size])
               for i in range(0, len(x) - batch_size + 1, batch_size)]
        if self.scan > 1:
            out = [jax.tree_util.tree_map(lambda *b: jnp.stack(b), *out[i:i + self.scan])
                   for i in range(0, len(out) - self.scan + 1, self.scan)]
        return jax.block_until_ready(out)

    def run(self, batches, epochs):
        for _ in range(epochs):
            for batch in batches:
                self.carry = self.step(self.carry, batch)
            jax.block_until_ready(self.carry)


# ---------------------------------------------------------------------- timing
def best_interleaved(contenders, repeats):
    """Best of `repeats` for each contender, run in turn so drift hits all alike."""
    best = {name: float("inf") for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def _data(kind, n, seed=0):
    rng = np.random.default_rng(seed)
    shape = (n, 784) if kind == "mlp" else (n, 32, 32, 3)
    x = rng.random(shape, dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]
    return x, y


def _compiled(kind, spe=1):
    jkeras.utils.set_random_seed(0)
    model = mlp_model() if kind == "mlp" else convnet_model()
    model.compile(jkeras.optimizers.Adam(1e-3), "categorical_crossentropy",
                  steps_per_execution=spe)
    return model


def _sync(model):
    # The live arrays, read as jkeras reads them: `variables_tree()` would hand them
    # out, and a trainer never donates an array handed out (the next fit would copy).
    jax.block_until_ready(model._get_vars())


def _contenders(kind, n, batch_size, spe=1, hand_with_loss=False, shuffle=True, unroll=1):
    """`{name: run(epochs)}` for jkeras's fit and the hand loop, both warm."""
    forward = mlp_forward if kind == "mlp" else conv_forward
    x, y = _data(kind, n)
    model = _compiled(kind, spe)
    hand = HandLoop(forward, *hand_params(model, kind), scan=spe, with_loss=hand_with_loss,
                    unroll=unroll)
    batches = hand.batches(x, y, batch_size)
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=shuffle)
    hand.run(batches, 1)
    return {"jkeras": lambda epochs: (model.fit(x, y, batch_size=batch_size, epochs=epochs,
                                                verbose=0, shuffle=shuffle), _sync(model)),
            "hand": lambda epochs: hand.run(batches, epochs)}


def bench_fit(kind, n, batch_size, epochs, repeats, spe=1, hand_with_loss=False,
              shuffle=True, unroll=1):
    runs = _contenders(kind, n, batch_size, spe, hand_with_loss, shuffle, unroll)
    steps = epochs * (n // batch_size)
    best = best_interleaved({name: (lambda run=run: run(epochs)) for name, run in runs.items()},
                            repeats)
    return best["jkeras"] / steps, best["hand"] / steps


def bench_slope(kind, n, batch_size, repeats, spe=1, shuffle=True, epochs=(2, 6), unroll=1):
    """Each side's cost per step and fixed cost per call, from the best runs of two
    lengths (`epochs`): the slope and the intercept of time against steps."""
    runs = _contenders(kind, n, batch_size, spe, shuffle=shuffle, unroll=unroll)
    out = {}
    for name, run in runs.items():
        short, long = (best_interleaved({name: lambda e=e: run(e)}, repeats)[name]
                       for e in epochs)
        steps = [e * (n // batch_size) for e in epochs]
        per_step = (long - short) / (steps[1] - steps[0])
        out[name] = (per_step, short - per_step * steps[0])
    return out


def bench_fresh(n, batch_size, epochs, repeats):
    """fit on a fresh array of a new size each time, after warm-up on other sizes."""
    model = _compiled("mlp")
    hand = HandLoop(mlp_forward, *hand_params(model, "mlp"))
    warm_x, warm_y = _data("mlp", n // 2, seed=1)
    model.fit(warm_x, warm_y, batch_size=batch_size, epochs=1, verbose=0)
    hand.run(hand.batches(warm_x, warm_y, batch_size), 1)
    sizes = iter(range(1, 10 * repeats + 10))

    def fresh():
        extra = next(sizes)
        return _data("mlp", n + batch_size * extra, seed=extra)
    times = {"jkeras": float("inf"), "hand": float("inf")}
    steps = None
    for _ in range(repeats):
        for name in times:
            x, y = fresh()
            steps = epochs * (len(x) // batch_size)
            start = time.perf_counter()
            if name == "jkeras":
                model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0)
                _sync(model)
            else:
                hand.run(hand.batches(x, y, batch_size), epochs)
            times[name] = min(times[name], (time.perf_counter() - start) / steps)
    return times["jkeras"], times["hand"]


def _keras3():
    try:
        import keras
    except Exception:  # noqa: BLE001 - Keras 3 is optional here
        return None
    return keras if keras.backend.backend() == "jax" else None


def bench_predict(n, batch_size, repeats, keras3):
    x, _ = _data("cnn", n)
    model = _compiled("cnn")
    params, state = hand_params(model, "cnn")
    forward = jax.jit(lambda p, s, xb: conv_forward(p, s, xb, False)[0])
    xd = jax.device_put(x)
    batches = [xd[i:i + batch_size] for i in range(0, n, batch_size)]

    def hand():
        jax.block_until_ready([forward(params, state, b) for b in batches])
    contenders = {"jkeras": lambda: model.predict(x, batch_size=batch_size, verbose=0),
                  "hand": hand}
    if keras3 is not None:
        k3 = convnet_model(keras3)
        k3.set_weights(model.get_weights())
        contenders["keras3"] = lambda: k3.predict(x, batch_size=batch_size, verbose=0)
    for fn in contenders.values():
        fn()
    best = best_interleaved(contenders, repeats)
    return {name: n / t for name, t in best.items()}


def bench_first_step(kind, batch_size, keras3):
    """Seconds from the fit call to the first step done, fresh model (compile included)."""
    x, y = _data(kind, batch_size * 4, seed=7)
    out = {}
    libs = [("jkeras", jkeras)] + ([("keras3", keras3)] if keras3 is not None else [])
    for name, lib in libs:
        model = mlp_model(lib) if kind == "mlp" else convnet_model(lib)
        model.compile(lib.optimizers.Adam(1e-3), "categorical_crossentropy")
        marks = {}

        def first(batch, logs, model=model, marks=marks):
            if "t" not in marks:
                float(logs["loss"])  # the step's result is on the host: it is done
                marks["t"] = time.perf_counter()
                model.stop_training = True
        callback = lib.callbacks.LambdaCallback(on_train_batch_end=first)
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, callbacks=[callback])
        out[name] = marks["t"] - start
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    keras3 = _keras3()
    scale = 1 if args.quick else 6
    device = jax.devices()[0]
    print(f"device: {device.device_kind} ({jax.default_backend()}), jax {jax.__version__}, "
          f"Keras 3: {keras3.__version__ if keras3 else 'not available'}")
    results = {"device": device.device_kind, "rows": []}
    rows = results["rows"]

    def row(case, ours, base, unit="s/step", baseline="hand"):
        rows.append({"case": case, "jkeras": ours, baseline: base, "unit": unit,
                     "ratio": ours / base})
        print(f"{case:<34}{ours:>12.6f}{base:>12.6f} {unit:<10}{baseline:<8}"
              f"{ours / base:>7.3f}", flush=True)
    print(f"{'case':<34}{'jkeras':>12}{'baseline':>12} {'unit':<10}{'vs':<8}{'ratio':>7}")
    row("mlp b128 (warm)", *bench_fit("mlp", 128 * 20 * scale, 128, 2, args.repeats))
    row("mlp b128 (fresh array, new size)", *bench_fresh(128 * 20 * scale, 128, 2,
                                                         args.repeats))
    row("cnn+BN b512", *bench_fit("cnn", 512 * (2 if args.quick else 8), 512, 2,
                                  args.repeats))
    row("  unshuffled (the loop's order)", *bench_fit("cnn", 512 * (2 if args.quick else 8),
                                                      512, 2, args.repeats, shuffle=False))
    slope = bench_slope("cnn", 512 * (2 if args.quick else 8), 512, args.repeats,
                        shuffle=False)
    row("  per step (2 and 6 epochs' slope)", slope["jkeras"][0], slope["hand"][0])
    row("  fixed cost of a call", slope["jkeras"][1], slope["hand"][1], "s/call")
    row("mlp spe=32 vs scan of 32", *bench_fit("mlp", 128 * 32 * scale, 128, 2,
                                               args.repeats, spe=32))
    row("  vs a scan that sums its losses", *bench_fit("mlp", 128 * 32 * scale, 128, 2,
                                                       args.repeats, spe=32,
                                                       hand_with_loss=True))
    row("  unshuffled (the scan's order)", *bench_fit("mlp", 128 * 32 * scale, 128, 2,
                                                      args.repeats, spe=32, shuffle=False))
    # fit unrolls this small step's scan on a GPU (jkeras/trainer/unrolling.py); against
    # a scan unrolled alike, what is left is what fit itself adds
    unroll = unrolling.UNROLL if unrolling.host_drives_loops() else 1
    row(f"  unshuffled vs scan unroll={unroll}",
        *bench_fit("mlp", 128 * 32 * scale, 128, 2, args.repeats, spe=32, shuffle=False,
                   unroll=unroll))
    slope = bench_slope("mlp", 128 * 32 * scale, 128, args.repeats, spe=32, shuffle=False,
                        unroll=unroll)
    row("  per step (2 and 6 epochs' slope)", slope["jkeras"][0], slope["hand"][0])
    row("  fixed cost of a call", slope["jkeras"][1], slope["hand"][1], "s/call")
    pred = bench_predict(512 * (4 if args.quick else 40), 512, args.repeats, keras3)
    row("cnn predict (jitted loop)", 1 / pred["jkeras"], 1 / pred["hand"], "s/sample")
    if "keras3" in pred:
        row("cnn predict (Keras 3)", 1 / pred["jkeras"], 1 / pred["keras3"], "s/sample",
            "keras3")
    results["predict_samples_per_s"] = pred
    for kind, bs in (("mlp", 128), ("cnn", 512)):
        first = bench_first_step(kind, bs, keras3)
        results[f"first_step_{kind}"] = first
        print(f"first step {kind}: " + ", ".join(f"{k} {v:.3f} s" for k, v in first.items()),
              flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
