"""TensorBoard without TensorFlow: the event files are read back with the `tensorboard`
package's own reader (which checks every CRC) and its compiled protobuf messages."""
import os
import struct

import numpy as np
import pytest
from PIL import Image
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.compat.tensorflow_stub import pywrap_tensorflow

import jkeras
from jkeras import callbacks, layers
from jkeras.models import Sequential
from jkeras.tensorboard import protobuf as pb
from jkeras.tensorboard import records, summary


def _accumulator(path):
    acc = event_accumulator.EventAccumulator(
        str(path), size_guidance={"scalars": 0, "histograms": 0, "images": 0, "tensors": 0})
    acc.Reload()
    return acc


def _records(path):
    """The raw records of one event file, read by TensorBoard's CRC-checking reader."""
    reader = pywrap_tensorflow.PyRecordReader_New(str(path))
    out = []
    while True:
        try:
            reader.GetNext()
        except Exception as error:  # noqa: BLE001 - OutOfRangeError ends the file
            if type(error).__name__ == "OutOfRangeError":
                return out
            raise
        out.append(reader.record())


@pytest.fixture
def data(rng):
    x = rng.standard_normal((20, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [1.5]], "float32")).astype("float32")
    return x, y


def _model():
    model = Sequential([jkeras.Input(shape=(4,)), layers.Dense(3, activation="tanh"),
                        layers.Dense(1)])
    model.compile(jkeras.optimizers.SGD(0.05), "mse", metrics=["mae"])
    return model


# ---------------------------------------------------------------------------------- encoding
def test_crc32c_check_value_and_masking_match_tensorboard(rng):
    assert records.crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    for size in (0, 1, 7, 64, 1000):
        data = rng.integers(0, 256, size).astype(np.uint8).tobytes()
        assert records.crc32c(data) == pywrap_tensorflow.crc32c(data)
        assert records.masked_crc32c(data) == pywrap_tensorflow.masked_crc32c(data)


def test_frame_layout():
    framed = records.frame(b"abc")
    assert struct.unpack("<Q", framed[:8]) == (3,) and framed[12:15] == b"abc"
    assert struct.unpack("<I", framed[15:])[0] == pywrap_tensorflow.masked_crc32c(b"abc")


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 2**31, 2**63 - 1, -1, -2**63])
def test_varints_parse_as_protobuf_int64(value):
    parsed = event_pb2.Event.FromString(pb.int_field(2, value))
    assert parsed.step == value


def test_event_with_scalar_parses_with_tensorboard_protos():
    raw = summary.event(wall_time=1234.5, step=7, summary_bytes=summary.summary(
        [summary.summary_value("epoch_loss", simple_value=0.25),
         summary.summary_value("graph", tensor=summary.string_tensor("{}"),
                               metadata=summary.plugin_metadata("graph_keras_model", b"1"))]))
    event = event_pb2.Event.FromString(raw)
    assert event.wall_time == 1234.5 and event.step == 7
    first, second = event.summary.value
    assert first.tag == "epoch_loss" and first.simple_value == 0.25
    assert second.tensor.string_val == [b"{}"] and second.tensor.dtype == 7
    assert second.metadata.plugin_data.plugin_name == "graph_keras_model"
    assert second.metadata.plugin_data.content == b"1"
    assert event_pb2.Event.FromString(summary.event(
        wall_time=1.0, file_version="brain.Event:2")).file_version == "brain.Event:2"


def test_histogram_matches_a_numpy_reference(rng):
    values = np.concatenate([rng.standard_normal(500) * 3, [0.0, 0.0, 1e-13, -7.5]])
    proto = summary_pb2.HistogramProto.FromString(summary.histogram_proto(values))
    assert proto.min == values.min() and proto.max == values.max()
    assert proto.num == values.size
    np.testing.assert_allclose(proto.sum, values.sum())
    np.testing.assert_allclose(proto.sum_squares, np.square(values).sum())
    limits, counts = np.array(proto.bucket_limit), np.array(proto.bucket)
    assert counts.sum() == values.size and np.all(np.diff(limits) > 0)
    # Each bucket holds the values in [previous limit, its limit).
    lower = np.concatenate([[-np.inf], limits[:-1]])
    for low, high, count in zip(lower, limits, counts):
        assert count == np.sum((values >= low) & (values < high))


def test_png_decodes_to_the_pixels(tmp_path):
    pixels = np.arange(24, dtype=np.uint8).reshape(4, 6) * 10
    path = tmp_path / "w.png"
    path.write_bytes(summary.encode_png(pixels))
    np.testing.assert_array_equal(np.asarray(Image.open(path)), pixels)


# ---------------------------------------------------------------------------------- the callback
def test_epoch_scalars_equal_history_in_train_and_validation_runs(data, tmp_path):
    x, y = data
    model = _model()
    board = callbacks.TensorBoard(str(tmp_path), write_graph=False)
    assert not callbacks.CallbackList([board]).has_train_batch_hooks
    history = model.fit(x, y, epochs=3, verbose=0, validation_data=(x[:8], y[:8]),
                        callbacks=[board])
    train, val = _accumulator(tmp_path / "train"), _accumulator(tmp_path / "validation")
    assert sorted(train.Tags()["scalars"]) == ["epoch_loss", "epoch_mae"]
    for name in ("loss", "mae"):
        assert [e.step for e in train.Scalars("epoch_" + name)] == [0, 1, 2]
        np.testing.assert_allclose([e.value for e in train.Scalars("epoch_" + name)],
                                   history.history[name], rtol=1e-6)
        np.testing.assert_allclose([e.value for e in val.Scalars("epoch_" + name)],
                                   history.history["val_" + name], rtol=1e-6)
    for run in ("train", "validation"):
        (name,) = os.listdir(tmp_path / run)
        assert name.startswith("events.out.tfevents.") and name.endswith(".v2")
        first = event_pb2.Event.FromString(_records(tmp_path / run / name)[0])
        assert first.file_version == "brain.Event:2"


def test_batch_scalars_every_update_freq_batches(data, tmp_path):
    x, y = data
    model = _model()
    seen = {}
    record = callbacks.LambdaCallback(on_batch_end=lambda batch, logs: seen.setdefault(
        len(seen) + 1, float(logs["loss"])))
    model.fit(x, y, batch_size=5, epochs=2, verbose=0, callbacks=[
        record, callbacks.TensorBoard(str(tmp_path), update_freq=3, write_graph=False)])
    events = _accumulator(tmp_path / "train").Scalars("batch_loss")
    # 4 batches an epoch, 8 in all, numbered from 1 across epochs: written at 3 and 6.
    assert [e.step for e in events] == [3, 6]
    np.testing.assert_allclose([e.value for e in events], [seen[3], seen[6]], rtol=1e-6)
    assert [e.step for e in _accumulator(tmp_path / "train").Scalars("batch_mae")] == [3, 6]


def test_weight_histograms_and_images(data, tmp_path):
    x, y = data
    model = _model()
    weights = []
    model.fit(x, y, epochs=3, verbose=0, callbacks=[
        callbacks.LambdaCallback(on_epoch_end=lambda e, logs: weights.append(
            model.get_weights())),
        callbacks.TensorBoard(str(tmp_path), histogram_freq=2, write_images=True,
                              write_graph=False)])
    train = _accumulator(tmp_path / "train")
    tags = ["dense/kernel_0/histogram", "dense/bias_0/histogram",
            "dense_1/kernel_0/histogram", "dense_1/bias_0/histogram"]
    assert sorted(train.Tags()["histograms"]) == sorted(tags)
    for tag, index in zip(tags, range(4)):
        events = train.Histograms(tag)
        assert [e.step for e in events] == [0, 2]  # every 2 epochs, from epoch 0
        for event, epoch in zip(events, (0, 2)):
            value, w = event.histogram_value, weights[epoch][index].astype(np.float64)
            assert value.min == w.min() and value.max == w.max() and value.num == w.size
            np.testing.assert_allclose(value.sum, w.sum(), rtol=1e-6, atol=1e-7)
            assert sum(value.bucket) == w.size
    images = train.Images("dense/kernel_0/image")
    # A 4x3 kernel is shown wider than tall: 3 rows of 4.
    assert [(i.step, i.height, i.width) for i in images] == [(0, 3, 4), (2, 3, 4)]


@pytest.mark.slow
def test_profile_batch_writes_a_jax_trace(data, tmp_path):
    x, y = data
    board = callbacks.TensorBoard(str(tmp_path), profile_batch=2, write_graph=False)
    assert callbacks.CallbackList([board]).has_train_batch_hooks
    _model().fit(x, y, batch_size=5, epochs=1, verbose=0, callbacks=[board])
    profile_dir = tmp_path / "plugins" / "profile"
    runs = os.listdir(profile_dir)
    assert len(runs) == 1 and os.listdir(profile_dir / runs[0])
    assert not board._is_tracing


def test_model_graph_is_written_as_keras_config(data, tmp_path):
    x, y = data
    model = _model()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.TensorBoard(str(tmp_path))])
    train = _accumulator(tmp_path / "train")
    (event,) = train.Tensors("keras")
    assert event.tensor_proto.string_val[0].decode() == model.to_json()


def test_evaluate_writes_evaluation_scalars_against_iterations(data, tmp_path):
    x, y = data
    model = _model()
    model.fit(x, y, batch_size=5, epochs=1, verbose=0)
    logs = model.evaluate(x, y, verbose=0, return_dict=True,
                          callbacks=[callbacks.TensorBoard(str(tmp_path), write_graph=False)])
    events = _accumulator(tmp_path / "validation").Scalars("evaluation_loss_vs_iterations")
    assert [e.step for e in events] == [4]
    np.testing.assert_allclose(events[0].value, logs["loss"], rtol=1e-6)


def test_embeddings_are_written_for_the_projector(tmp_path):
    model = Sequential([jkeras.Input(shape=(3,)), layers.Embedding(6, 2, name="words"),
                        layers.Flatten(), layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.array([[0, 1, 2], [3, 4, 5]])
    model.fit(x, np.zeros((2, 1)), epochs=1, verbose=0, callbacks=[callbacks.TensorBoard(
        str(tmp_path), embeddings_freq=1, embeddings_metadata="labels.tsv",
        write_graph=False)])
    config = (tmp_path / "projector_config.pbtxt").read_text()
    assert 'tensor_path: "embeddings/words.tsv"' in config
    assert 'metadata_path: "labels.tsv"' in config
    np.testing.assert_allclose(np.loadtxt(tmp_path / "embeddings" / "words.tsv"),
                               model.get_layer("words").get_weights()[0], rtol=1e-6)


def test_argument_checks():
    with pytest.raises(ValueError, match="profile_batch"):
        callbacks.TensorBoard(profile_batch=(5, 2))
    with pytest.raises(ValueError, match="update_freq"):
        callbacks.TensorBoard(update_freq="sometimes")
    with pytest.raises(ValueError, match="Unrecognized arguments"):
        callbacks.TensorBoard(log_every=3)
    with pytest.warns(RuntimeWarning, match="write_grads"):
        callbacks.TensorBoard(write_grads=True)
    assert callbacks.TensorBoard(profile_batch="2,4")._stop_batch == 4
    assert callbacks.TensorBoard(update_freq="batch").update_freq == 1
