"""Mixed-bfloat16 training speed on one GPU: a hand-written jax+optax loop, jkeras `fit`
and Keras 3 `fit` side by side, with TFLOP/s and MFU (issue 12).

Cases:
- mlp: 4 Dense(4096) layers (ReLU, the last linear) on 4096 features, batch 4096, MSE,
  Adam. FLOPs per step: 6 * weights * batch.
- gpt: 6 pre-LayerNorm blocks (d_model 512, 8 heads, causal MultiHeadAttention, a 4x GELU
  MLP), sequence 1024, batch 32, vocab 8192, token and position Embeddings, AdamW, from
  jkeras layers. FLOPs per step: 6 * N * tokens + 6 * layers * seq * d_model * tokens
  (the causal half of the attention matrices), N = weights outside the embeddings (the
  logits' Dense included).
- cnn: Conv2D 64-128-256 (3x3, same) each with BatchNormalization and ReLU, 2x2 max
  pooling between, global average pooling and Dense(10), 32x32x3 images, batch 512, Adam.
  FLOPs per step: 3 * the forward convolutions' and Dense's multiply-adds * 2 * batch.

Everything runs under the 'mixed_bfloat16' policy (bfloat16 compute, float32 weights).
The hand-written loop is what a careful JAX user writes: jitted, train state donated,
batches already on the device, cuDNN flash attention when it can run. jkeras and Keras 3
are timed through public `compile`/`fit` only (numpy inputs, `shuffle=False`), after a
warm-up `fit` that compiles. MFU is against a bfloat16 dense peak of 989 TFLOP/s (H100/H200
SXM); pass --peak for another chip. Each contender's time is the best of --repeats runs.

Usage: python benchmarks/gpu_suite.py [--tiny] [--cases mlp,gpt,cnn]
       [--contenders hand,jkeras,keras] [--steps 30] [--repeats 3] [--slope]
Contender "nocopies" adds jkeras's `fit` without its weights' 16-bit copies in the train
state (trainer/casts.py), for their effect in one run.
Contender "casts" adds the hand-written loop carrying its Dense weights' bfloat16 copies
from one update to the next step (no cast at the step's start; same numbers).
Contender "levers" adds, for the GPT, the hand-written loop with jkeras's kernel choices
(gpt_levers.py's "jkeras" variant): its steady cost against `fit`'s is what `fit` adds
per step, and the difference at N steps what a call adds once.
--slope also reports each contender's steady cost of a step: the slope of time against
steps between runs of N and 3N steps (a `fit` call's own set-up and drain left out).
--tiny runs tiny shapes (a CPU smoke test of the whole suite).
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

PEAK_BF16 = 989e12
BF16 = jnp.bfloat16

SHAPES = {
    "mlp": {"full": dict(width=4096, depth=4, batch=4096),
            "tiny": dict(width=64, depth=4, batch=32)},
    "gpt": {"full": dict(layers=6, d_model=512, heads=8, seq=1024, batch=32, vocab=8192),
            "tiny": dict(layers=2, d_model=32, heads=2, seq=16, batch=4, vocab=64)},
    "cnn": {"full": dict(filters=(64, 128, 256), size=32, batch=512, classes=10),
            "tiny": dict(filters=(8, 16, 32), size=16, batch=16, classes=10)},
}
N_BATCHES = 4  # distinct batches each contender cycles through


# ============================================================================ models
# One builder per case, written against the Keras API, so that jkeras and Keras 3 get
# the same graph: `lib` is `jkeras` or `keras`.
def build_mlp(lib, width, depth, batch):
    inputs = lib.Input((width,))
    h = inputs
    for i in range(depth):
        h = lib.layers.Dense(width, activation="relu" if i < depth - 1 else None)(h)
    out = lib.layers.Activation("linear", dtype="float32")(h)
    return lib.Model(inputs, out)


def build_gpt(lib, layers, d_model, heads, seq, batch, vocab):
    L = lib.layers
    tokens = lib.Input((seq,), dtype="int32")
    positions = lib.Input((seq,), dtype="int32")
    x = L.Add()([L.Embedding(vocab, d_model)(tokens), L.Embedding(seq, d_model)(positions)])
    for _ in range(layers):
        h = L.LayerNormalization(epsilon=1e-5)(x)
        h = L.MultiHeadAttention(heads, d_model // heads)(h, h, use_causal_mask=True)
        x = L.Add()([x, h])
        h = L.LayerNormalization(epsilon=1e-5)(x)
        h = L.Dense(4 * d_model, activation="gelu")(h)
        x = L.Add()([x, L.Dense(d_model)(h)])
    x = L.LayerNormalization(epsilon=1e-5)(x)
    logits = L.Activation("linear", dtype="float32")(L.Dense(vocab)(x))
    return lib.Model([tokens, positions], logits)


def build_cnn(lib, filters, size, batch, classes):
    L = lib.layers
    inputs = lib.Input((size, size, 3))
    h = inputs
    for i, f in enumerate(filters):
        h = L.Conv2D(f, 3, padding="same", use_bias=False)(h)
        h = L.BatchNormalization()(h)
        h = L.Activation("relu")(h)
        if i < len(filters) - 1:
            h = L.MaxPooling2D(2)(h)
    h = L.GlobalAveragePooling2D()(h)
    logits = L.Activation("linear", dtype="float32")(L.Dense(classes)(h))
    return lib.Model(inputs, logits)


BUILDERS = {"mlp": build_mlp, "gpt": build_gpt, "cnn": build_cnn}


# ============================================================================ FLOPs
def flops_mlp(width, depth, batch):
    return 6 * depth * width * width * batch


def flops_gpt(layers, d_model, heads, seq, batch, vocab):
    n = layers * 12 * d_model * d_model + d_model * vocab  # blocks + the logits' Dense
    tokens = batch * seq
    return 6 * n * tokens + 6 * layers * seq * d_model * tokens


def flops_cnn(filters, size, batch, classes):
    macs, channels, side = 0, 3, size
    for i, f in enumerate(filters):
        macs += side * side * 9 * channels * f
        channels = f
        if i < len(filters) - 1:
            side //= 2
    macs += channels * classes
    return 3 * 2 * macs * batch


FLOPS = {"mlp": flops_mlp, "gpt": flops_gpt, "cnn": flops_cnn}


# ============================================================================ data
def make_data(case, shape, n, seed=0):
    """(inputs list, targets) as numpy arrays of `n` samples."""
    rng = np.random.default_rng(seed)
    if case == "mlp":
        x = rng.standard_normal((n, shape["width"]), dtype=np.float32)
        return [x], (x[:, ::-1] * 0.5).copy()
    if case == "gpt":
        tokens = rng.integers(0, shape["vocab"], (n, shape["seq"] + 1)).astype(np.int32)
        positions = np.broadcast_to(np.arange(shape["seq"], dtype=np.int32),
                                    (n, shape["seq"])).copy()
        return [tokens[:, :-1], positions], tokens[:, 1:].copy()
    x = rng.random((n, shape["size"], shape["size"], 3), dtype=np.float32)
    return [x], rng.integers(0, shape["classes"], n).astype(np.int32)


def loss_name(case):
    return "mse" if case == "mlp" else "sparse_categorical_crossentropy"


def make_optimizer(lib, case):
    if case == "gpt":
        return lib.optimizers.AdamW(learning_rate=3e-4, weight_decay=0.004, epsilon=1e-7)
    return lib.optimizers.Adam(learning_rate=1e-3, epsilon=1e-7)


def make_loss(lib, case):
    if case == "mlp":
        return "mse"
    return lib.losses.SparseCategoricalCrossentropy(from_logits=True)


# ============================================================================ hand-written
def _dense(p, x):
    y = x @ p["kernel"].astype(BF16)
    return y + p["bias"].astype(BF16) if "bias" in p else y


def _layer_norm(p, x, eps):
    x32 = x.astype(jnp.float32)
    mean = jnp.mean(x32, -1, keepdims=True)
    var = jnp.mean(jnp.square(x32 - mean), -1, keepdims=True)
    return ((x32 - mean) * jax.lax.rsqrt(var + eps) * p["gamma"] + p["beta"]).astype(BF16)


def _attention_impl(q):
    from jkeras.layers import fused_attention
    reason = fused_attention.cudnn_unsupported_reason(q, q, q)
    return "cudnn" if reason is None else "xla"


def hand_mlp(params, state, x, training):
    h = x[0].astype(BF16)
    for i, p in enumerate(params):
        h = _dense(p, h)
        if i < len(params) - 1:
            h = jax.nn.relu(h)
    return h.astype(jnp.float32), state


def make_hand_gpt(heads):
    def forward(params, state, x, training):
        tokens, positions = x
        h = (jnp.take(params["tok"], tokens, axis=0)
             + jnp.take(params["pos"], positions, axis=0)).astype(BF16)
        for blk in params["blocks"]:
            a = _layer_norm(blk["ln1"], h, 1e-5)
            b, t, d = a.shape
            q, k, v = (_dense(blk[n], a).reshape(b, t, heads, d // heads)
                       for n in ("q", "k", "v"))
            o = jax.nn.dot_product_attention(q, k, v, is_causal=True,
                                             implementation=_attention_impl(q))
            h = h + _dense(blk["o"], o.reshape(b, t, d))
            m = jax.nn.gelu(_dense(blk["fc"], _layer_norm(blk["ln2"], h, 1e-5)),
                            approximate=False)
            h = h + _dense(blk["proj"], m)
        h = _layer_norm(params["ln_f"], h, 1e-5)
        return _dense(params["head"], h).astype(jnp.float32), state
    return forward


def _batch_norm(p, s, x, training, momentum=0.99, eps=1e-3):
    x32 = x.astype(jnp.float32)
    if training:
        mean, var = jnp.mean(x32, (0, 1, 2)), jnp.var(x32, (0, 1, 2))
        s = {"mean": s["mean"] * momentum + mean * (1 - momentum),
             "var": s["var"] * momentum + var * (1 - momentum)}
    else:
        mean, var = s["mean"], s["var"]
    return ((x32 - mean) * jax.lax.rsqrt(var + eps) * p["gamma"] + p["beta"]).astype(BF16), s


def hand_cnn(params, state, x, training):
    h = x[0].astype(BF16)
    new_state = []
    for i, (conv, bn, s) in enumerate(zip(params["convs"], params["bns"], state)):
        h = jax.lax.conv_general_dilated(h, conv.astype(BF16), (1, 1), "SAME",
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"))
        h, s = _batch_norm(bn, s, h, training)
        new_state.append(s)
        h = jax.nn.relu(h)
        if i < len(params["convs"]) - 1:
            h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1),
                                      "VALID")
    h = jnp.mean(h.astype(jnp.float32), axis=(1, 2)).astype(BF16)
    return _dense(params["dense"], h).astype(jnp.float32), new_state


def hand_params(case, model, shape):
    """The hand-written loop's params and state, from the jkeras model's initial weights."""
    w = [jnp.asarray(a) for a in model.get_weights()]
    if case == "mlp":
        return [{"kernel": w[2 * i], "bias": w[2 * i + 1]} for i in range(len(w) // 2)], {}
    if case == "cnn":
        n = len(shape["filters"])
        convs = [w[5 * i] for i in range(n)]
        bns = [{"gamma": w[5 * i + 1], "beta": w[5 * i + 2]} for i in range(n)]
        state = [{"mean": w[5 * i + 3], "var": w[5 * i + 4]} for i in range(n)]
        return {"convs": convs, "bns": bns,
                "dense": {"kernel": w[5 * n], "bias": w[5 * n + 1]}}, state
    # gpt: weights in the order the layers were created (see build_gpt)
    d = shape["d_model"]
    it = iter(w)

    def take(k):
        return next(it) if k == 1 else [next(it) for _ in range(k)]
    params = {"tok": take(1), "pos": take(1), "blocks": []}
    for _ in range(shape["layers"]):
        g1, b1 = take(2)
        qk, qb, kk, kb, vk, vb, ok, ob = take(8)
        g2, b2 = take(2)
        fk, fb, pk, pb = take(4)
        params["blocks"].append({
            "ln1": {"gamma": g1, "beta": b1}, "ln2": {"gamma": g2, "beta": b2},
            "q": {"kernel": qk.reshape(d, d), "bias": qb.reshape(d)},
            "k": {"kernel": kk.reshape(d, d), "bias": kb.reshape(d)},
            "v": {"kernel": vk.reshape(d, d), "bias": vb.reshape(d)},
            "o": {"kernel": ok.reshape(d, d), "bias": ob},
            "fc": {"kernel": fk, "bias": fb}, "proj": {"kernel": pk, "bias": pb}})
    g, b = take(2)
    params["ln_f"] = {"gamma": g, "beta": b}
    hk, hb = take(2)
    params["head"] = {"kernel": hk, "bias": hb}
    return params, {}


def hand_loss(case, outputs, y):
    if case == "mlp":
        return jnp.mean(jnp.square(outputs - y))
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(outputs, y))


def hand_optimizer(case):
    if case == "gpt":
        return optax.adamw(3e-4, eps=1e-7, weight_decay=0.004)
    return optax.adam(1e-3, eps=1e-7)


def _casts(params):
    """The Dense layers' weights (leaves named kernel or bias) in bfloat16, the rest None."""
    def walk(tree, name=None):
        if isinstance(tree, dict):
            return {k: walk(v, k) for k, v in tree.items()}
        if isinstance(tree, (list, tuple)):
            return type(tree)(walk(v) for v in tree)
        return tree.astype(BF16) if name in ("kernel", "bias") else None
    return walk(params)


def _with_casts(params, casts):
    return jax.tree_util.tree_map(lambda p, c: p if c is None else c, params, casts,
                                  is_leaf=lambda c: c is None)


def run_hand(case, shape, model, data, steps, carry_casts=False):
    """A function running `steps` hand-written steps (returns the last loss).
    `carry_casts`: the carry also holds the Dense weights' bfloat16 copies, made by each
    update for the next step's forward pass (which then casts nothing), the gradients
    taken with respect to them: the same numbers, and the casts fused into the update."""
    forward = {"mlp": hand_mlp, "gpt": make_hand_gpt(shape.get("heads")),
               "cnn": hand_cnn}[case]
    tx = hand_optimizer(case)
    params, state = hand_params(case, model, shape)
    carry = [params, state, tx.init(params)] + ([_casts(params)] if carry_casts else [])

    def loss_fn(p, s, x, y):
        out, new_s = forward(p, s, x, True)
        return hand_loss(case, out, y), new_s

    def _step(carry, x, y):
        p, s, o = carry[:3]
        used = _with_casts(p, carry[3]) if carry_casts else p
        (loss, s), grads = jax.value_and_grad(loss_fn, has_aux=True)(used, s, x, y)
        grads = jax.tree_util.tree_map(lambda g, w: g.astype(w.dtype), grads, p)
        updates, o = tx.update(grads, o, p)
        p = optax.apply_updates(p, updates)
        return [p, s, o] + ([_casts(p)] if carry_casts else []), loss
    step = jax.jit(_step, donate_argnums=(0,))
    inputs, targets = data
    batch = shape["batch"]
    batches = [([jax.device_put(a[i * batch:(i + 1) * batch]) for a in inputs],
                jax.device_put(targets[i * batch:(i + 1) * batch]))
               for i in range(N_BATCHES)]

    def run(count=steps):
        loss = None
        for i in range(count):
            x, y = batches[i % N_BATCHES]
            carry[:], loss = step(carry, x, y)
        return float(loss)
    return run


def run_fit(model, data, shape, steps):
    """A function running `steps` steps of `model.fit` (returns the last loss); its
    argument, another step count."""
    inputs, targets = data

    def run(count=steps):
        history = model.fit(inputs if len(inputs) > 1 else inputs[0], targets,
                            batch_size=shape["batch"], epochs=max(1, count // N_BATCHES),
                            verbose=0, shuffle=False)
        return float(history.history["loss"][-1])
    return run, max(1, steps // N_BATCHES) * N_BATCHES


# ============================================================================ running
def build_compiled(lib, case, shape, set_policy, default_policy):
    set_policy("mixed_bfloat16")
    try:
        model = BUILDERS[case](lib, **shape)
    finally:
        set_policy(default_policy)
    model.compile(optimizer=make_optimizer(lib, case), loss=make_loss(lib, case))
    return model


def jkeras_case(case):
    """`(shape, data, model)`: `case`'s shapes for this backend (tiny on a CPU), its
    N_BATCHES batches of data, and its jkeras model compiled (the profiling tools')."""
    shape = SHAPES[case]["tiny" if jax.default_backend() == "cpu" else "full"]
    data = make_data(case, shape, N_BATCHES * shape["batch"])
    model = build_compiled(jkeras, case, shape, jkeras.mixed_precision.set_global_policy,
                           None)
    return shape, data, model


def time_best(fn, repeats):
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def bench_case(case, size, contenders, steps, repeats, keras_module, slope=False):
    """Rows `(case, contender, ms/step, TFLOP/s, MFU, last loss, params, steady ms/step)`:
    a run of `steps` steps timed whole, and with `slope` the steady cost of a step: the
    slope of time against steps between runs of `steps` and 3 x `steps` steps (what a
    call costs once, setting up and draining, left out)."""
    shape = SHAPES[case][size]
    data = make_data(case, shape, N_BATCHES * shape["batch"])
    flops = FLOPS[case](**shape)
    rows = []
    jk_model = build_compiled(jkeras, case, shape, jkeras.mixed_precision.set_global_policy,
                              None)
    runners = {}
    if "hand" in contenders:
        run = run_hand(case, shape, jk_model, data, steps)
        run()  # compile
        runners["hand-written jax"] = (run, steps)
    if "casts" in contenders:
        # The loop carrying its Dense weights' bfloat16 copies from update to update (what
        # a jkeras step could do): the weights' casts at each step's start, measured.
        run = run_hand(case, shape, jk_model, data, steps, carry_casts=True)
        run()  # compile
        runners["hand, carried casts"] = (run, steps)
    if "levers" in contenders and case == "gpt":
        # The loop again with the kernels jkeras's step chooses (gpt_levers.py imports
        # this module, hence the import here): what `fit` adds beyond its kernels.
        from benchmarks import gpt_levers
        run = gpt_levers.runner(shape, jk_model, data, steps)
        run()  # compile
        runners["hand, jkeras kernels"] = (run, steps)
    if "jkeras" in contenders:
        run, n = run_fit(jk_model, data, shape, steps)
        jk_model.fit(*_fit_args(data), batch_size=shape["batch"], epochs=1, verbose=0)
        runners["jkeras fit"] = (run, n)
    if "nocopies" in contenders:
        # jkeras again without its weights' 16-bit copies in the train state
        # (trainer/casts.py): what carrying them buys, in the same run.
        from jkeras.trainer import trainer as trainer_module
        plain = build_compiled(jkeras, case, shape, jkeras.mixed_precision.set_global_policy,
                               None)
        sixteen_bit, trainer_module._sixteen_bit = trainer_module._sixteen_bit, \
            (lambda layer: False)
        try:  # (the warm-up call plans the copies: none)
            plain.fit(*_fit_args(data), batch_size=shape["batch"], epochs=1, verbose=0)
        finally:
            trainer_module._sixteen_bit = sixteen_bit
        run, n = run_fit(plain, data, shape, steps)
        runners["jkeras fit, no copies"] = (run, n)
    if "keras" in contenders and keras_module is not None:
        k_model = build_compiled(keras_module, case, shape,
                                 keras_module.config.set_dtype_policy, "float32")
        k_model.fit(*_fit_args(data), batch_size=shape["batch"], epochs=1, verbose=0)
        run, n = run_fit(k_model, data, shape, steps)
        runners["keras 3 fit"] = (run, n)
    params = jk_model.count_params()
    for name, (run, n) in runners.items():
        seconds, loss = time_best(run, repeats)
        per_step = seconds / n
        steady = None
        if slope:
            run(3 * n)  # warm (a new epoch count compiles nothing, but allocates)
            longer, _ = time_best(lambda: run(3 * n), repeats)
            steady = (longer - seconds) / (2 * n) * 1e3
        rows.append((case, name, per_step * 1e3, flops / per_step / 1e12,
                     flops / per_step / PEAK_BF16, loss, params, steady))
    return rows


def _fit_args(data):
    inputs, targets = data
    return (inputs if len(inputs) > 1 else inputs[0]), targets


def main(argv=None):
    global PEAK_BF16
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny shapes (CPU smoke test)")
    parser.add_argument("--cases", default="mlp,gpt,cnn")
    parser.add_argument("--contenders", default="hand,jkeras,keras")
    parser.add_argument("--steps", type=int, default=None,
                        help="steps per timed run (default 40, 4 with --tiny)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed runs per contender (default 3, 1 with --tiny)")
    parser.add_argument("--peak", type=float, default=PEAK_BF16 / 1e12,
                        help="bfloat16 dense peak in TFLOP/s for MFU (default 989)")
    parser.add_argument("--slope", action="store_true",
                        help="also the steady cost of a step (runs of N and 3N steps)")
    args = parser.parse_args(argv)
    PEAK_BF16 = args.peak * 1e12
    size = "tiny" if args.tiny else "full"
    steps = args.steps or (4 if args.tiny else 40)
    repeats = args.repeats or (1 if args.tiny else 3)
    contenders = set(args.contenders.split(","))
    keras_module = None
    if "keras" in contenders:
        try:
            import keras as keras_module
        except ImportError:
            print("Keras 3 is not importable: its column is left out.")
    device = jax.devices()[0]
    print(f"device: {device.device_kind} ({jax.default_backend()}), jax {jax.__version__}, "
          f"shapes: {size}, steps/run: {steps}, best of {repeats}, "
          f"MFU against {PEAK_BF16 / 1e12:.0f} TFLOP/s")
    rows = []
    for case in args.cases.split(","):
        rows += bench_case(case, size, contenders, steps, repeats, keras_module,
                           args.slope)
    header = (f"{'case':<6}{'contender':<22}{'ms/step':>10}{'TFLOP/s':>10}{'MFU':>8}"
              f"{'last loss':>11}{'params':>12}")
    if args.slope:
        header += f"{'steady ms':>11}{'steady MFU':>12}"
    print(header)
    print("-" * len(header))
    for case, name, ms, tflops, mfu, loss, params, steady in rows:
        line = (f"{case:<6}{name:<22}{ms:>10.3f}{tflops:>10.1f}{mfu:>8.1%}{loss:>11.4f}"
                f"{params:>12,}")
        if steady is not None:
            flops = tflops * 1e12 * ms / 1e3
            line += f"{steady:>11.3f}{flops / (steady / 1e3) / PEAK_BF16:>12.1%}"
        print(line)
    return rows


if __name__ == "__main__":
    main()
    sys.exit(0)
