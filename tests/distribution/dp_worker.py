"""Run in a subprocess with XLA_FLAGS=--xla_force_host_platform_device_count=8 (the flag must
be set before jax starts). Trains each model on 1 device and on 2, 4 and 8 devices with the
same global batch, and prints one JSON line with the losses, weights' differences and the
shardings seen."""
import json
import sys

import jax
import numpy as np

import jkeras as keras
from jkeras import distribution, layers


def mlp():
    return keras.Sequential([keras.Input((6,)), layers.Dense(16, activation="relu"),
                             layers.Dense(4, activation="softmax")])


def cnn():
    # synchronized: statistics over the global batch, so that every device count computes
    # what one device does (the default takes them per replica: see batch_norm_stats)
    return keras.Sequential([keras.Input((8, 8, 2)), layers.Conv2D(4, 3, padding="same"),
                             layers.BatchNormalization(synchronized=True),
                             layers.Activation("relu"),
                             layers.GlobalAveragePooling2D(),
                             layers.Dense(4, activation="softmax")])


def lstm():
    return keras.Sequential([keras.Input((5, 3)), layers.LSTM(8),
                             layers.Dense(4, activation="softmax")])


def multi_input():
    a, b = keras.Input((6,), name="a"), keras.Input((4,), name="b")
    h = layers.concatenate([layers.Dense(8, activation="relu")(a), b])
    return keras.Model([a, b], layers.Dense(4, activation="softmax")(h))


BUILD = {"mlp": (mlp, (6,)), "cnn": (cnn, (8, 8, 2)), "lstm": (lstm, (5, 3)),
         "multi": (multi_input, None)}


def data(kind, n=96):
    rng = np.random.default_rng(0)
    y = np.eye(4, dtype="float32")[rng.integers(0, 4, n)]
    if kind == "multi":
        return [rng.normal(size=(n, 6)).astype("float32"),
                rng.normal(size=(n, 4)).astype("float32")], y
    return rng.normal(size=(n,) + BUILD[kind][1]).astype("float32"), y


def model_parallel(devices):
    """A (batch, model) mesh with Dense kernels split over the model axis."""
    mesh = distribution.DeviceMesh((devices // 2, 2), ["batch", "model"],
                                   jax.devices()[:devices])
    layout_map = distribution.LayoutMap(mesh)
    layout_map["dense.*kernel"] = (None, "model")
    return distribution.ModelParallel(layout_map=layout_map, batch_dim_name="batch")


def run(kind, devices, batch_size=24, steps_per_execution=1, parallel="data"):
    keras.utils.set_random_seed(0)
    if devices == 1:
        dist = None
    elif parallel == "model":
        dist = model_parallel(devices)
    else:
        dist = distribution.DataParallel(devices=jax.devices()[:devices])
    distribution.set_distribution(dist)
    model = BUILD[kind][0]()
    model.compile(keras.optimizers.SGD(0.1), "categorical_crossentropy",
                  metrics=["accuracy"], steps_per_execution=steps_per_execution)
    x, y = data(kind)
    seen = {}
    real = model._trainer.train_step

    def record(args):
        leaves = jax.tree_util.tree_leaves(args)
        seen["batch_spec"] = str(leaves[0].sharding.spec) if dist else None
        seen["state_specs"] = [str(a.sharding.spec) for a in jax.tree_util.tree_leaves(
            model._trainer.state["trainable"])] if dist else None

    def spy(kind_, *args):
        record(args)
        return real(kind_, *args)
    real_chunk = model._trainer.run_chunk

    def spy_chunk(chunk, valid, count):
        record(chunk)
        return real_chunk(chunk, valid, count)
    model._trainer.train_step = spy
    model._trainer.run_chunk = spy_chunk
    history = model.fit(x, y, batch_size=batch_size, epochs=2, shuffle=True, verbose=0,
                        validation_data=(x, y))
    evaluated = model.evaluate(x, y, batch_size=batch_size, verbose=0)
    predicted = model.predict(x, batch_size=batch_size, verbose=0)
    distribution.set_distribution(None)
    return {"loss": history.history["loss"], "val_loss": history.history["val_loss"],
            "evaluate": evaluated, "predict": np.asarray(predicted).tolist(),
            "weights": [w.tolist() for w in model.get_weights()], **seen}


def multi_gpu():
    """multi_gpu_model on 4 devices trains the original model's weights."""
    keras.utils.set_random_seed(0)
    model = mlp()
    before = [w.copy() for w in model.get_weights()]
    parallel = keras.utils.multi_gpu_model(model, gpus=4)
    parallel.compile(keras.optimizers.SGD(0.1), "categorical_crossentropy")
    x, y = data("mlp")
    seen = {}
    real = parallel._trainer.train_step

    def spy(kind_, *args):
        seen["batch_spec"] = str(jax.tree_util.tree_leaves(args)[0].sharding.spec)
        seen["devices"] = len(jax.tree_util.tree_leaves(args)[0].sharding.device_set)
        return real(kind_, *args)
    real_chunk = parallel._trainer.run_chunk

    def spy_chunk(chunk, valid, count):
        seen["batch_spec"] = str(jax.tree_util.tree_leaves(chunk)[0].sharding.spec)
        seen["devices"] = len(jax.tree_util.tree_leaves(chunk)[0].sharding.device_set)
        return real_chunk(chunk, valid, count)
    parallel._trainer.train_step = spy
    parallel._trainer.run_chunk = spy_chunk
    history = parallel.fit(x, y, batch_size=24, epochs=2, shuffle=False, verbose=0)
    keras.utils.set_random_seed(0)
    single = mlp()
    single.compile(keras.optimizers.SGD(0.1), "categorical_crossentropy")
    single_history = single.fit(x, y, batch_size=24, epochs=2, shuffle=False, verbose=0)
    moved = [bool(np.abs(a - b).max() > 0) for a, b in zip(before, model.get_weights())]
    same = max(float(np.abs(a - b).max()) for a, b in zip(model.get_weights(),
                                                         single.get_weights()))
    return {"loss": history.history["loss"], "single_loss": single_history.history["loss"],
            "moved": moved, "max_diff_vs_single": same, **seen}


def feeds():
    """A generator, a Sequence, arrays over the device budget (streamed) and arrays cut a
    batch at a time (single), on 1 and 4 devices: the same losses and weights."""
    from jkeras import _config
    from jkeras.trainer import epoch_iterator

    class Batches(keras.utils.Sequence):
        def __init__(self, x, y):
            self.x, self.y = x, y

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return self.x[24 * i:24 * (i + 1)], self.y[24 * i:24 * (i + 1)]

    def generator(x, y):
        while True:
            for i in range(4):
                yield x[24 * i:24 * (i + 1)], y[24 * i:24 * (i + 1)]
    out = {}
    for name in ("sequence", "generator", "streamed", "single"):
        out[name] = {}
        for devices in (1, 4):
            keras.utils.set_random_seed(0)
            distribution.set_distribution(None if devices == 1 else
                                          distribution.DataParallel(
                                              devices=jax.devices()[:devices]))
            _config.set_device_data_budget(1 if name == "streamed" else None)
            # "single": batches cut one at a time (as when one is over a chunk's bytes)
            epoch_iterator.CHUNK_BYTES = 1 if name == "single" else 64 << 20
            model = mlp()
            model.compile(keras.optimizers.SGD(0.1), "categorical_crossentropy")
            x, y = data("mlp")
            if name == "sequence":
                history = model.fit(Batches(x, y), epochs=2, shuffle=False, verbose=0)
            elif name == "generator":
                history = model.fit(generator(x, y), steps_per_epoch=4, epochs=2,
                                    verbose=0)
            else:
                history = model.fit(x, y, batch_size=24, epochs=2, shuffle=False,
                                    verbose=0)
            out[name][str(devices)] = {
                "loss": history.history["loss"],
                "predict": np.asarray(model.predict(x, verbose=0)).tolist(),
                "weights": [w.tolist() for w in model.get_weights()]}
            distribution.set_distribution(None)
            _config.set_device_data_budget(None)
            epoch_iterator.CHUNK_BYTES = 64 << 20
    return out


def batch_norm_stats():
    """BatchNormalization's moving statistics after one step on one batch of 16 (momentum
    0: they are the step's batch statistics), on 1, 2 and 4 devices, per replica (the
    default) and synchronized."""
    rng = np.random.default_rng(3)
    x = (rng.normal(size=(16, 3)) * [1, 2, 3] + np.arange(16)[:, None]).astype("float32")
    out = {"x": x.tolist()}
    for synchronized in (False, True):
        for count in (1, 2, 4):
            distribution.set_distribution(
                distribution.DataParallel(devices=jax.devices()[:count]) if count > 1
                else None)
            model = keras.Sequential([keras.Input((3,)), layers.BatchNormalization(
                momentum=0.0, synchronized=synchronized)])
            model.compile(keras.optimizers.SGD(0.0), "mse")
            history = model.fit(x, np.zeros_like(x), batch_size=16, epochs=1,
                                shuffle=False, verbose=0)
            distribution.set_distribution(None)
            _, _, mean, var = model.get_weights()
            out[f"{synchronized}/{count}"] = {"mean": mean.tolist(), "var": var.tolist(),
                                              "loss": history.history["loss"][0]}
    return out


def in_flight():
    """How often fit, evaluate and predict waited for a dispatch: on a 2-device CPU mesh
    (every 8th, see Placement.dispatched) and on one device (never)."""
    from jkeras.trainer import placement as placement_module
    waits = []
    real = placement_module.jax.block_until_ready

    def counted(value):
        waits.append(1)
        return real(value)
    placement_module.jax.block_until_ready = counted
    out = {}
    for devices in (1, 2):
        distribution.set_distribution(
            None if devices == 1 else distribution.DataParallel(devices=jax.devices()[:2]))
        keras.utils.set_random_seed(0)
        model = mlp()
        model.compile(keras.optimizers.SGD(0.1), "categorical_crossentropy")
        x, y = data("mlp", n=24 * 40)
        watch = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: None)
        waits.clear()
        history = model.fit(x, y, batch_size=24, epochs=2, shuffle=False, verbose=0,
                            callbacks=[watch])
        model.evaluate(x, y, batch_size=24, verbose=0, callbacks=[watch])
        model.predict(x, batch_size=24, verbose=0)
        out[str(devices)] = {"waits": len(waits), "loss": history.history["loss"]}
        distribution.set_distribution(None)
    placement_module.jax.block_until_ready = real
    return out


def mixed():
    """A mixed-bfloat16 MLP on 1 device, 4 (data parallel) and 4 (kernels split), with and
    without its weights' bfloat16 copies carried in the train state: losses, weights and
    the copies' shardings."""
    from jkeras.trainer import trainer as trainer_module
    sixteen_bit = trainer_module._sixteen_bit
    out = {}
    for copies in (True, False):
        trainer_module._sixteen_bit = sixteen_bit if copies else (lambda layer: False)
        for setting in ("1", "data", "model"):
            keras.utils.set_random_seed(0)
            distribution.set_distribution(
                None if setting == "1" else model_parallel(4) if setting == "model"
                else distribution.DataParallel(devices=jax.devices()[:4]))
            keras.mixed_precision.set_global_policy("mixed_bfloat16")
            model = mlp()
            keras.mixed_precision.set_global_policy("float32")
            model.compile(keras.optimizers.SGD(0.1), "categorical_crossentropy")
            x, y = data("mlp")
            losses = []
            for _ in range(2):  # the second call takes the first's copies over
                losses += model.fit(x, y, batch_size=24, epochs=2, shuffle=False,
                                    verbose=0).history["loss"]
            kept = jax.tree_util.tree_leaves(model._trainer.casts)
            out[f"{copies}/{setting}"] = {
                "loss": losses, "weights": [w.tolist() for w in model.get_weights()],
                "copies": [str(a.dtype) for a in kept],
                "specs": [str(a.sharding.spec) for a in kept] if setting != "1" else []}
            distribution.set_distribution(None)
    trainer_module._sixteen_bit = sixteen_bit
    return out


def main():
    if sys.argv[1] == "mixed":
        print("RESULT " + json.dumps(mixed()))
        return
    if sys.argv[1] == "in_flight":
        print("RESULT " + json.dumps(in_flight()))
        return
    if sys.argv[1] == "bn":
        print("RESULT " + json.dumps(batch_norm_stats()))
        return
    if sys.argv[1] == "feeds":
        print("RESULT " + json.dumps(feeds()))
        return
    if sys.argv[1] == "multi_gpu":
        print("RESULT " + json.dumps(multi_gpu()))
        return
    kinds = sys.argv[1].split(",")
    batch_size = int(sys.argv[2]) if len(sys.argv) > 2 else 24
    spe = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    parallel = sys.argv[4] if len(sys.argv) > 4 else "data"
    counts = (1, 2, 4, 8) if parallel == "data" else (1, 4, 8)
    out = {}
    for kind in kinds:
        out[kind] = {str(n): run(kind, n, batch_size, spe, parallel) for n in counts}
    print("RESULT " + json.dumps(out))


if __name__ == "__main__":
    main()
