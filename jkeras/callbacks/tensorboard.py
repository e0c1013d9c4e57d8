"""The Keras `TensorBoard` callback: scalars, histograms, images, the model graph and a
JAX profiler trace, written as TensorBoard event files without TensorFlow.

Layout as Keras 2 writes it: `log_dir/train` and `log_dir/validation` runs, epoch scalars
tagged `epoch_<metric>` (validation values without their `val_` prefix), batch scalars
`batch_<metric>`, weight histograms `<layer>/<weight>_0/histogram`.
"""
import os
import time
import warnings

import numpy as np

from jkeras.callbacks.callback import Callback
from jkeras.tensorboard.summary import EventFileWriter

__all__ = ["weight_image", "TensorBoard"]

_LEGACY_KWARGS = ("write_grads", "batch_size", "embeddings_layer_names", "embeddings_data")


def _parse_profile_batch(profile_batch):
    """(start, stop) 1-based global batch numbers to trace; (0, 0) disables tracing."""
    error = ValueError(
        "profile_batch must be a non-negative integer or 2-tuple of positive integers. A "
        f"pair of positive integers signifies a range of batches to profile. Found: "
        f"{profile_batch!r}")
    if isinstance(profile_batch, str):
        try:
            profile_batch = [int(part) for part in profile_batch.split(",")]
        except ValueError:
            raise error from None
        if len(profile_batch) == 1:
            profile_batch = profile_batch[0]
    if isinstance(profile_batch, (int, np.integer)) and not isinstance(profile_batch, bool):
        start = stop = int(profile_batch)
    elif isinstance(profile_batch, (tuple, list)) and len(profile_batch) == 2:
        start, stop = (int(v) for v in profile_batch)
    else:
        raise error
    if start < 0 or stop < start:
        raise error
    return start, stop


def weight_image(weight):
    """uint8 images (n, height, width) showing a weight as Keras 2 lays it out, or None.

    Biases are one row; a kernel is shown wider than tall; a 3-D kernel (width, in,
    channels) becomes one image per channel. Values are scaled to 0..255.
    """
    w = np.squeeze(np.asarray(weight, dtype=np.float64))
    if w.ndim == 1:
        images = w.reshape(1, 1, -1)
    elif w.ndim == 2:
        images = (w.T if w.shape[0] > w.shape[1] else w)[None]
    elif w.ndim == 3:
        images = np.transpose(w, (2, 0, 1))
    else:
        return None
    low, high = images.min(), images.max()
    scale = 255.0 / (high - low) if high > low else 0.0
    return np.round((images - low) * scale).astype(np.uint8)


class TensorBoard(Callback):
    """Writes logs TensorBoard reads (`tensorboard --logdir log_dir`).

    Arguments:
        log_dir: where the `train/` and `validation/` runs go.
        histogram_freq: every this many epochs, histograms of each weight (0: never).
        write_graph: write the model's config as the Keras model graph.
        write_images: with histograms, write each weight as an image too.
        write_steps_per_second: log training steps per second.
        update_freq: 'epoch', 'batch' or N: batch scalars every N batches.
        profile_batch: a batch number, or (start, stop), to trace with the JAX profiler
            (global batch numbers from 1; 0 disables).
        embeddings_freq: every this many epochs, write each Embedding layer's matrix as a
            TSV tensor and a projector config (0: never).
        embeddings_metadata: a metadata file for all embeddings, or {layer name: file}.
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None, **kwargs):
        super().__init__()
        unknown = set(kwargs) - set(_LEGACY_KWARGS)
        if unknown:
            raise ValueError(f"Unrecognized arguments in `TensorBoard` Callback: "
                             f"{sorted(unknown)}. Supported legacy arguments (ignored) are: "
                             f"{list(_LEGACY_KWARGS)}")
        if any(kwargs.get(k) for k in _LEGACY_KWARGS):
            warnings.warn(f"TensorBoard ignores {sorted(k for k in kwargs if kwargs[k])} "
                          "(Keras 1 arguments).", RuntimeWarning, stacklevel=2)
        for name, value in (("histogram_freq", histogram_freq),
                            ("embeddings_freq", embeddings_freq)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"Expected `{name}` to be a non-negative integer. Received: "
                                 f"{name}={value!r}")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (isinstance(update_freq, bool) or not isinstance(
                update_freq, (int, np.integer)) or update_freq < 1):
            raise ValueError("Expected `update_freq` to be 'epoch', 'batch' or a positive "
                             f"integer. Received: update_freq={update_freq!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = int(histogram_freq)
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = update_freq
        self.embeddings_freq = int(embeddings_freq)
        self.embeddings_metadata = embeddings_metadata
        self._start_batch, self._stop_batch = _parse_profile_batch(profile_batch)
        self._should_trace = not (self._start_batch == 0 and self._stop_batch == 0)
        self._is_tracing = False
        self._writers = {}
        self._global_train_batch = 0
        self._graph_written = False
        self._epoch_start = None
        self._epoch_batches = 0
        self._batch_start = None

    # ---------------------------------------------------------------- writers
    def _writer(self, run):
        writer = self._writers.get(run)
        if writer is None:
            writer = EventFileWriter(os.path.join(self.log_dir, run))
            self._writers[run] = writer
        return writer

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def set_model(self, model):
        self.model = model
        self._close_writers()
        self._graph_written = False

    def _implements_train_batch_hooks(self):
        return self.update_freq != "epoch" or self._should_trace or \
            self.write_steps_per_second

    # ---------------------------------------------------------------- training
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        if self.write_graph and not self._graph_written:
            self._write_model_graph()

    def on_train_end(self, logs=None):
        if self._is_tracing:
            self._stop_trace()
        self._close_writers()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.time()
        self._epoch_batches = 0

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start = time.time()
        if self._should_trace and not self._is_tracing and \
                self._global_train_batch == self._start_batch:
            self._start_trace()

    def on_train_batch_end(self, batch, logs=None):
        self._epoch_batches += 1
        step = self._global_train_batch
        if self.update_freq != "epoch" and step % self.update_freq == 0:
            writer = self._writer("train")
            for name, value in (logs or {}).items():
                if name not in ("batch", "size") and np.ndim(value) == 0:
                    writer.add_scalar("batch_" + name, value, step)
        if self.write_steps_per_second and self._batch_start is not None:
            elapsed = max(time.time() - self._batch_start, 1e-9)
            self._writer("train").add_scalar("batch_steps_per_second", 1.0 / elapsed, step)
        if self._is_tracing and step >= self._stop_batch:
            list((logs or {}).items())  # waits for this batch, so the trace holds it
            self._stop_trace()

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs or {})
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            self._log_embeddings(epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not hasattr(optimizer, "iterations") or not logs:
            return
        writer = self._writer("validation")
        step = int(optimizer.iterations)
        for name, value in logs.items():
            if np.ndim(value) == 0:
                writer.add_scalar(f"evaluation_{name}_vs_iterations", value, step)
        writer.flush()

    # ---------------------------------------------------------------- what is written
    def _log_epoch_metrics(self, epoch, logs):
        train, val = {}, {}
        for name, value in logs.items():
            if np.ndim(value) != 0:
                continue
            if name.startswith("val_"):
                val[name[len("val_"):]] = value
            else:
                train[name] = value
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and getattr(optimizer, "_schedule", None) is not None:
            train["learning_rate"] = float(optimizer.lr)
        if self.write_steps_per_second and self._epoch_start is not None:
            steps = self._epoch_batches or self.params.get("steps") or 0
            train["steps_per_second"] = steps / max(time.time() - self._epoch_start, 1e-9)
        for run, values in (("train", train), ("validation", val)):
            if values:
                writer = self._writer(run)
                for name, value in values.items():
                    writer.add_scalar("epoch_" + name, value, epoch)

    def _log_weights(self, epoch):
        writer = self._writer("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                name = weight.name.replace(":", "_")
                values = np.asarray(weight.numpy())
                writer.add_histogram(name + "/histogram", values, epoch)
                if self.write_images:
                    images = weight_image(values)
                    if images is None:
                        continue
                    for i, image in enumerate(images[:3]):
                        suffix = "" if len(images) == 1 else f"/{i}"
                        writer.add_image(name + "/image" + suffix, image, epoch)

    def _write_model_graph(self):
        try:
            config = self.model.to_json()
        except Exception as error:  # noqa: BLE001 - a graph is optional, training is not
            warnings.warn(f"TensorBoard: the model could not be serialized to JSON, so no "
                          f"graph is written. Reason: {error}", RuntimeWarning, stacklevel=2)
            return
        self._writer("train").add_text_tensor("keras", config, 0, "graph_keras_model", b"1")
        self._graph_written = True

    def _log_embeddings(self, epoch):
        entries = []
        metadata = self.embeddings_metadata
        for layer in self.model.layers:
            if type(layer).__name__ != "Embedding" or not layer.weights:
                continue
            relative = os.path.join("embeddings", f"{layer.name}.tsv")
            path = os.path.join(self.log_dir, relative)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            np.savetxt(path, np.asarray(layer.weights[0].numpy()), delimiter="\t", fmt="%.8g")
            entry = f'embeddings {{\n  tensor_name: "{layer.name}/embeddings"\n' \
                    f'  tensor_path: "{relative}"\n'
            meta = metadata if isinstance(metadata, str) else (metadata or {}).get(layer.name)
            if meta:
                entry += f'  metadata_path: "{meta}"\n'
            entries.append(entry + "}\n")
        if entries:
            with open(os.path.join(self.log_dir, "projector_config.pbtxt"), "w") as f:
                f.write("".join(entries))

    # ---------------------------------------------------------------- profiling
    def _start_trace(self):
        import jax
        try:
            jax.profiler.start_trace(self.log_dir)
        except RuntimeError as error:  # another trace is running: profiling is optional
            warnings.warn(f"TensorBoard could not start the profiler: {error}",
                          RuntimeWarning, stacklevel=2)
            return
        self._is_tracing = True

    def _stop_trace(self):
        import jax
        try:
            jax.profiler.stop_trace()
        finally:
            self._is_tracing = False
