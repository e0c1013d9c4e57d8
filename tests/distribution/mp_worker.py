"""One process of a two-process data-parallel job on 127.0.0.1 (one CPU device each).
Usage: mp_worker.py PROCESS_ID PORT OUT_DIR. Prints one RESULT line of JSON."""
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


def main():
    process_id, port, out_dir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    distribution.initialize(job_addresses=f"127.0.0.1:{port}", num_processes=2,
                            process_id=process_id)
    import jax
    assert jax.device_count() == 2 and jax.local_device_count() == 1
    distribution.set_distribution(distribution.DataParallel())
    model, x, y = model_and_data()
    callbacks = [keras.callbacks.ModelCheckpoint(
                     os.path.join(out_dir, f"ckpt_from_process_{process_id}.h5")),
                 keras.callbacks.CSVLogger(
                     os.path.join(out_dir, f"log_from_process_{process_id}.csv"))]
    history = model.fit(x, y, batch_size=24, epochs=2, verbose=0, callbacks=callbacks)
    model.save(os.path.join(out_dir, f"model_from_process_{process_id}.h5"))
    print("RESULT " + json.dumps({"loss": history.history["loss"],
                                  "weights": [w.tolist() for w in model.get_weights()]}),
          flush=True)


if __name__ == "__main__":
    main()
