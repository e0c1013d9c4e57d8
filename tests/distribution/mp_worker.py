"""One process of a two-process job on 127.0.0.1 (one CPU device each), data parallel or
model parallel (Dense kernels split over the two processes' devices).
Usage: mp_worker.py PROCESS_ID PORT OUT_DIR [data|model]. Prints one RESULT line of JSON."""
import json
import os
import sys

os.environ["JAX_PLATFORMS"] = "cpu"

import numpy as np  # noqa: E402

import jkeras as keras  # noqa: E402
from jkeras import distribution, layers  # noqa: E402


def model_and_data():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), layers.Dense(16, activation="relu"),
                              # global-batch statistics, so that two processes compute
                              # what one does (the default takes them per replica)
                              layers.BatchNormalization(synchronized=True),
                              layers.Dense(4, activation="softmax")])
    model.compile(keras.optimizers.SGD(0.1), "categorical_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 6)).astype("float32")
    y = np.eye(4, dtype="float32")[rng.integers(0, 4, 96)]
    return model, x, y


def schedule():
    """A learning rate halved after every epoch, by a callback listed before the backup
    (so the backup sees a pending host-side change at each epoch's end)."""
    return keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0,
                                             min_delta=100.0)


def main():
    process_id, port, out_dir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    parallel = sys.argv[4] if len(sys.argv) > 4 else "data"
    distribution.initialize(job_addresses=f"127.0.0.1:{port}", num_processes=2,
                            process_id=process_id)
    import jax
    assert jax.device_count() == 2 and jax.local_device_count() == 1
    if parallel == "model":
        mesh = distribution.DeviceMesh((1, 2), ["batch", "model"], jax.devices())
        layout_map = distribution.LayoutMap(mesh)
        layout_map["dense.*kernel"] = (None, "model")
        distribution.set_distribution(distribution.ModelParallel(layout_map=layout_map,
                                                                 batch_dim_name="batch"))
    else:
        distribution.set_distribution(distribution.DataParallel())
    model, x, y = model_and_data()
    callbacks = [keras.callbacks.ModelCheckpoint(
                     os.path.join(out_dir, f"ckpt_from_process_{process_id}.h5")),
                 keras.callbacks.CSVLogger(
                     os.path.join(out_dir, f"log_from_process_{process_id}.csv")),
                 schedule(),
                 keras.callbacks.BackupAndRestore(os.path.join(out_dir, "backup"))]
    # verbose=1: process 0 draws a bar per batch, so it steps one batch per dispatch; the
    # other process must too (the same programs in the same order), though it prints none.
    history = model.fit(x, y, batch_size=24, epochs=2, verbose=1, callbacks=callbacks)
    model.save(os.path.join(out_dir, f"model_from_process_{process_id}.h5"))
    # overwrite=False fails in process 0 (the file is there) and writes nothing elsewhere;
    # no process is left waiting in a gather of the weights.
    try:
        model.save(os.path.join(out_dir, f"model_from_process_{process_id}.h5"),
                   overwrite=False)
        refused = False
    except FileExistsError:
        refused = True
    # Every process loads the file process 0 wrote, under the same distribution.
    from jax.experimental import multihost_utils
    multihost_utils.sync_global_devices("saved")
    loaded = keras.models.load_model(os.path.join(out_dir, "model_from_process_0.h5"))
    print("RESULT " + json.dumps({"loss": history.history["loss"], "refused": refused,
                                  "weights": [w.tolist() for w in model.get_weights()],
                                  "evaluate": model.evaluate(x, y, batch_size=24, verbose=0),
                                  "loaded": loaded.evaluate(x, y, batch_size=24, verbose=0)}),
          flush=True)


if __name__ == "__main__":
    main()
