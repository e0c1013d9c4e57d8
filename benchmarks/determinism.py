"""Is training reproducible on the GPU, and what does deterministic mode cost? (issue 17)

For each model (an MLP, a CNN with BatchNormalization and max-pooling, an LSTM with Dropout,
a small GPT with MultiHeadAttention) it trains in fresh processes, each starting with
`set_random_seed(0)`, and compares the final weights, the per-epoch losses and the
predictions bit for bit:
  - deterministic mode, two processes: one switched on by `enable_op_determinism()`, the
    other by JKERAS_DETERMINISTIC=1. They must be identical.
  - default mode, two processes: the control. On a GPU these usually differ, which shows
    the comparison can see a difference.
  - BackupAndRestore in deterministic mode: a process killed after the first epoch, then a
    fresh one resuming from the backup; it must end identical to the uninterrupted run.
Step time is measured in the first process of each mode, after the compared run, on the
same compiled step. A micro-benchmark ("ops") times the two gradients that scatter in plain
jax (embedding lookup, max-pooling), plain and as jkeras runs them: under XLA's flag a
scatter becomes a loop over its indices, which jkeras's deterministic mode avoids.

Only the public API is used: compile/fit/predict/get_weights and
callbacks.BackupAndRestore. Usage:
    python benchmarks/determinism.py            # one GPU; prints a table
    python benchmarks/determinism.py --tiny     # small shapes, runs on CPU in a minute
    python benchmarks/determinism.py --models cnn,gpt
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

MODELS = ("mlp", "cnn", "lstm", "gpt")

# Sizes: samples, batch, epochs, plus each model's own. The CNN is the issue's: 2,048
# samples, batch 256, 2 epochs.
FULL = {"mlp": dict(n=8192, batch=256, epochs=2, features=784, width=1024),
        "cnn": dict(n=2048, batch=256, epochs=2, side=32, filters=(64, 128, 256)),
        "lstm": dict(n=2048, batch=256, epochs=2, steps=64, features=32, units=256),
        "gpt": dict(n=1024, batch=32, epochs=2, seq=256, vocab=8192, d_model=256, heads=4,
                    blocks=2),
        "ops": dict(tokens=32 * 256, vocab=8192, dim=256, image=(16, 32, 32, 64)),
        "timing_epochs": 3}
TINY = {"mlp": dict(n=256, batch=64, epochs=2, features=32, width=32),
        "cnn": dict(n=128, batch=32, epochs=2, side=8, filters=(8, 16, 16)),
        "lstm": dict(n=128, batch=32, epochs=2, steps=8, features=4, units=16),
        "gpt": dict(n=64, batch=16, epochs=2, seq=16, vocab=64, d_model=32, heads=2,
                    blocks=1),
        "ops": dict(tokens=512, vocab=64, dim=32, image=(2, 8, 8, 4)),
        "timing_epochs": 1}


# ----------------------------------------------------------------------------- the models
def build(keras, kind, s):
    """The model and its data (inputs, targets), from a fixed NumPy generator."""
    layers = keras.layers
    rng = np.random.default_rng(1234)
    n = s["n"]
    if kind == "mlp":
        x = rng.random((n, s["features"]), dtype=np.float32)
        y = rng.integers(0, 10, n)
        model = keras.Sequential([
            layers.Dense(s["width"], activation="relu", input_shape=(s["features"],)),
            layers.Dense(s["width"], activation="relu"),
            layers.Dense(10, activation="softmax")])
        loss = "sparse_categorical_crossentropy"
    elif kind == "cnn":
        x = rng.random((n, s["side"], s["side"], 3), dtype=np.float32)
        y = rng.integers(0, 10, n)
        f1, f2, f3 = s["filters"]
        model = keras.Sequential([
            layers.Conv2D(f1, 3, padding="same", input_shape=x.shape[1:]),
            layers.BatchNormalization(), layers.Activation("relu"), layers.MaxPooling2D(2),
            layers.Conv2D(f2, 3, padding="same"),
            layers.BatchNormalization(), layers.Activation("relu"), layers.MaxPooling2D(2),
            layers.Conv2D(f3, 3, padding="same"),
            layers.BatchNormalization(), layers.Activation("relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(10, activation="softmax")])
        loss = "sparse_categorical_crossentropy"
    elif kind == "lstm":
        x = rng.standard_normal((n, s["steps"], s["features"])).astype(np.float32)
        y = rng.integers(0, 10, n)
        model = keras.Sequential([
            layers.LSTM(s["units"], dropout=0.1, input_shape=x.shape[1:]),
            layers.Dropout(0.3),
            layers.Dense(10, activation="softmax")])
        loss = "sparse_categorical_crossentropy"
    else:
        tokens = rng.integers(0, s["vocab"], (n, s["seq"] + 1))
        positions = np.broadcast_to(np.arange(s["seq"]), (n, s["seq"])).copy()
        x, y = [tokens[:, :-1], positions], tokens[:, 1:]
        d = s["d_model"]
        tok_in = keras.Input(shape=(s["seq"],), dtype="int32")
        pos_in = keras.Input(shape=(s["seq"],), dtype="int32")
        h = layers.Add()([layers.Embedding(s["vocab"], d)(tok_in),
                          layers.Embedding(s["seq"], d)(pos_in)])
        for _ in range(s["blocks"]):
            a = layers.LayerNormalization()(h)
            a = layers.MultiHeadAttention(s["heads"], d // s["heads"], dropout=0.1)(
                a, a, use_causal_mask=True)
            h = layers.Add()([h, layers.Dropout(0.1)(a)])
            m = layers.LayerNormalization()(h)
            m = layers.Dense(4 * d, activation="gelu")(m)
            h = layers.Add()([h, layers.Dense(d)(m)])
        logits = layers.Dense(s["vocab"])(layers.LayerNormalization()(h))
        model = keras.Model([tok_in, pos_in], logits)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(keras.optimizers.Adam(1e-3), loss)
    return model, x, y


# ----------------------------------------------------------------------------- one process
def worker(args):
    """Runs in a fresh process: trains once (the compared run), saves, then times."""
    if args.switch == "function":
        import jkeras as keras
        keras.utils.enable_op_determinism()
    else:  # "env" (JKERAS_DETERMINISTIC=1 set by the parent) or "off"
        import jkeras as keras
    import jax

    sizes = (TINY if args.tiny else FULL)
    meta = {"deterministic": keras.config.is_op_determinism_enabled(),
            "xla_flags": os.environ.get("XLA_FLAGS", ""),
            "device": f"{jax.devices()[0].device_kind} ({jax.default_backend()})"}
    if args.model == "ops":
        meta["ops"] = op_times(sizes["ops"])
        with open(args.out + ".json", "w") as f:
            json.dump(meta, f)
        return

    devices = int(os.environ.get("JKERAS_BENCH_DEVICES", "1"))
    if devices > 1:  # data parallel over the first `devices` devices
        keras.distribution.set_distribution(
            keras.distribution.DataParallel(devices=jax.devices()[:devices]))
    meta["devices"] = devices
    keras.utils.set_random_seed(0)
    s = sizes[args.model]
    model, x, y = build(keras, args.model, s)
    callbacks = []
    if args.backup_dir:
        callbacks.append(keras.callbacks.BackupAndRestore(args.backup_dir))
    if args.kill_after_epoch >= 0:
        class Kill(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch == args.kill_after_epoch:
                    os._exit(3)  # a crash: no clean-up, the backup stays
        callbacks.append(Kill())
    history = model.fit(x, y, batch_size=s["batch"], epochs=s["epochs"], verbose=0,
                        callbacks=callbacks)
    head = [a[:2 * s["batch"]] for a in x] if isinstance(x, list) else x[:2 * s["batch"]]
    preds = model.predict(head, batch_size=s["batch"], verbose=0)
    weights = model.get_weights()
    np.savez(args.out + ".npz", preds=preds,
             losses=np.asarray(history.history["loss"], np.float64),
             **{f"w{i}": w for i, w in enumerate(weights)})

    if args.time:
        steps = sizes["timing_epochs"] * -(-s["n"] // s["batch"])
        best = float("inf")
        for _ in range(2):  # the step is compiled already; best of two
            start = time.perf_counter()
            model.fit(x, y, batch_size=s["batch"], epochs=sizes["timing_epochs"], verbose=0)
            jax.block_until_ready(model.get_weights())
            best = min(best, time.perf_counter() - start)
        meta["step_ms"] = 1e3 * best / steps
    with open(args.out + ".json", "w") as f:
        json.dump(meta, f)


def op_times(s):
    """Milliseconds per call of two gradients that scatter in plain jax: an embedding
    lookup and max-pooling, each as plain jax and as jkeras runs it (in deterministic mode
    jkeras's scatter-free form, otherwise the same plain op)."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    from jkeras import deterministic_ops
    rng = np.random.default_rng(0)
    table = jnp.asarray(rng.standard_normal((s["vocab"], s["dim"]), dtype=np.float32))
    idx = jnp.asarray(rng.integers(0, s["vocab"], s["tokens"]), dtype=jnp.int32)
    rows = jnp.asarray(rng.standard_normal((s["tokens"], s["dim"]), dtype=np.float32))
    image = jnp.asarray(rng.standard_normal(s["image"], dtype=np.float32))
    window = (1, 2, 2, 1)

    cases = {
        "embedding grad, jnp.take": (
            lambda t: jnp.sum(jnp.take(t, idx, axis=0) * rows), table),
        "embedding grad, jkeras": (
            lambda t: jnp.sum(deterministic_ops.take_rows(t, idx) * rows), table),
        "max-pool grad, lax": (
            lambda x: jnp.sum(lax.reduce_window(x, -jnp.inf, lax.max, window, window,
                                                "VALID") ** 2), image),
        "max-pool grad, jkeras": (
            lambda x: jnp.sum(deterministic_ops.max_pool(x, window, window, "VALID") ** 2),
            image),
    }
    out = {}
    for name, (fn, arg) in cases.items():
        grad = jax.jit(jax.grad(fn))
        first = grad(arg).block_until_ready()  # compiles
        start = time.perf_counter()
        again = grad(arg).block_until_ready()
        once = time.perf_counter() - start
        reps = max(1, min(20, int(0.5 / max(once, 1e-6))))
        start = time.perf_counter()
        for _ in range(reps):
            g = grad(arg)
        g.block_until_ready()
        out[name] = {"ms": 1e3 * (time.perf_counter() - start) / reps,
                     "repeatable": bool(np.array_equal(np.asarray(first),
                                                       np.asarray(again)))}
    return out


# ----------------------------------------------------------------------------- the parent
def spawn(model, out, switch, tiny, time_it=False, backup_dir=None, kill_after_epoch=-1,
          timeout=300):
    env = dict(os.environ)
    env.pop("JKERAS_DETERMINISTIC", None)
    flags = re.sub(r"(?:^|(?<=\s))--?xla_gpu_(deterministic|exclude_nondeterministic)_ops"
                   r"(?:=\S*)?(?=\s|$)", "", env.get("XLA_FLAGS", "")).strip()
    if flags:
        env["XLA_FLAGS"] = flags
    else:
        env.pop("XLA_FLAGS", None)
    if switch == "env":
        env["JKERAS_DETERMINISTIC"] = "1"
    here = os.path.dirname(os.path.abspath(__file__))
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(here), env.get("PYTHONPATH", "")])
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", model, "--out", out,
           "--switch", switch]
    cmd += ["--tiny"] if tiny else []
    cmd += ["--time"] if time_it else []
    cmd += ["--backup-dir", backup_dir] if backup_dir else []
    cmd += ["--kill-after-epoch", str(kill_after_epoch)]
    try:
        result = subprocess.run(cmd, env=env, capture_output=True, text=True,
                                timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{model} worker ({switch}) took over {timeout} s") from None
    expected = 3 if kill_after_epoch >= 0 else 0
    if result.returncode != expected:
        raise RuntimeError(f"{model} worker ({switch}) exited {result.returncode}:\n"
                           f"{result.stderr[-3000:]}")
    meta = {}
    if os.path.exists(out + ".json"):
        with open(out + ".json") as f:
            meta = json.load(f)
    return meta


def compare(a_path, b_path):
    """(weights that differ, total weights, max |diff|, losses equal, predictions equal).
    A resumed run logs only the epochs it ran: its losses are compared with the last ones."""
    with np.load(a_path) as a, np.load(b_path) as b:
        names = sorted(k for k in a.files if k.startswith("w"))
        differ = total = 0
        worst = 0.0
        for k in names:
            wa, wb = a[k], b[k]
            differ += int(np.sum(wa != wb))
            total += wa.size
            if wa.size:
                worst = max(worst, float(np.max(np.abs(wa.astype(np.float64) - wb))))
        tail = len(b["losses"])
        return (differ, total, worst, bool(np.array_equal(a["losses"][-tail:], b["losses"])),
                bool(np.array_equal(a["preds"], b["preds"])))


def describe(result):
    differ, total, worst, losses, preds = result
    same = differ == 0 and losses and preds
    text = "IDENTICAL" if same else (f"{differ}/{total} differ (max {worst:.1e})"
                                     f"{'' if losses else ', losses differ'}"
                                     f"{'' if preds else ', preds differ'}")
    return same, text


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="small shapes (CPU smoke run)")
    parser.add_argument("--models", default=",".join(MODELS + ("ops",)),
                        help="comma-separated: mlp,cnn,lstm,gpt,ops")
    parser.add_argument("--devices", type=int, default=1,
                        help="train data-parallel over this many devices")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--switch", default="off", help=argparse.SUPPRESS)
    parser.add_argument("--time", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--backup-dir", help=argparse.SUPPRESS)
    parser.add_argument("--kill-after-epoch", type=int, default=-1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.model = args.worker
        return worker(args)
    os.environ["JKERAS_BENCH_DEVICES"] = str(args.devices)

    chosen = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = sorted(set(chosen) - set(MODELS + ("ops",)))
    if unknown:
        parser.error(f"unknown model(s) {unknown}; expected some of "
                     f"{', '.join(MODELS + ('ops',))}")
    rows, failures = [], 0
    device = ""
    with tempfile.TemporaryDirectory() as tmp:
        for model in chosen:
            p = lambda name: os.path.join(tmp, f"{model}_{name}")  # noqa: E731
            if model == "ops":
                ops = (spawn(model, p("off"), "off", args.tiny),
                       spawn(model, p("det"), "function", args.tiny))
                continue
            start = time.perf_counter()
            det_a = spawn(model, p("det_a"), "function", args.tiny, time_it=True)
            spawn(model, p("det_b"), "env", args.tiny)
            off_a = spawn(model, p("off_a"), "off", args.tiny, time_it=True)
            spawn(model, p("off_b"), "off", args.tiny)
            backup = os.path.join(tmp, f"{model}_backup")
            spawn(model, p("killed"), "function", args.tiny, backup_dir=backup,
                  kill_after_epoch=0)
            spawn(model, p("resumed"), "function", args.tiny, backup_dir=backup)
            device = det_a["device"]
            if not (det_a["deterministic"] and not off_a["deterministic"]):
                raise RuntimeError(f"deterministic mode not as asked: {det_a}, {off_a}")
            det_same, det_text = describe(compare(p("det_a.npz"), p("det_b.npz")))
            _, off_text = describe(compare(p("off_a.npz"), p("off_b.npz")))
            res_same, res_text = describe(compare(p("det_a.npz"), p("resumed.npz")))
            failures += (not det_same) + (not res_same)
            rows.append((model, det_text, off_text, res_text, off_a["step_ms"],
                         det_a["step_ms"], time.perf_counter() - start))
            print(f"[{model} done in {rows[-1][-1]:.0f} s]", file=sys.stderr, flush=True)

    print(f"device: {device}; sizes: {'tiny' if args.tiny else 'full'}")
    if rows:
        head = (f"{'model':<6} | {'deterministic: 2 runs':<34} | {'default: 2 runs':<34} | "
                f"{'det: resumed vs whole':<34} | {'ms/step':>8} | {'det ms':>8} | "
                f"{'cost':>6}")
        print(head)
        print("-" * len(head))
        for model, det_text, off_text, res_text, off_ms, det_ms, _ in rows:
            print(f"{model:<6} | {det_text:<34} | {off_text:<34} | {res_text:<34} | "
                  f"{off_ms:>8.3f} | {det_ms:>8.3f} | {det_ms / off_ms:>5.2f}x")
    if "ops" in chosen:
        off, det = ops
        print(f"\n{'gradient (ms per call)':<28} | {'default':>9} | {'deterministic':>13} | "
              f"repeatable (det)")
        for name, row in det["ops"].items():
            print(f"{name:<28} | {off['ops'][name]['ms']:>9.3f} | {row['ms']:>13.3f} | "
                  f"{row['repeatable']}")
    if failures:
        print(f"FAILED: {failures} comparison(s) in deterministic mode were not identical")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
