"""TensorBoard event files without TensorFlow: `Event` and `Summary` messages, histograms,
PNG images, and a writer that appends them as TFRecords to `events.out.tfevents.*`.

Field numbers are those of TensorFlow's `event.proto`, `summary.proto`, `tensor.proto`.
"""
import itertools
import os
import socket
import struct
import threading
import time
import zlib

import numpy as np

from jkeras.tensorboard import protobuf as pb
from jkeras.tensorboard.records import frame

__all__ = ["plugin_metadata", "string_tensor", "summary_value", "summary", "event",
           "histogram_proto", "encode_png", "image_proto", "EventFileWriter"]

FILE_VERSION = "brain.Event:2"
DT_FLOAT, DT_STRING = 1, 7


# ------------------------------------------------------------------------ messages
def plugin_metadata(plugin_name, content=b""):
    """SummaryMetadata{plugin_data: {plugin_name, content}}."""
    plugin = pb.bytes_field(1, plugin_name)
    if content:
        plugin += pb.bytes_field(2, content)
    return pb.message_field(1, plugin)


def string_tensor(value):
    """TensorProto of a scalar string (dtype DT_STRING, shape [])."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    return pb.int_field(1, DT_STRING) + pb.message_field(2, b"") + pb.bytes_field(8, value)


def summary_value(tag, *, simple_value=None, histo=None, image=None, tensor=None,
                  metadata=None):
    """Summary.Value bytes: a tag and one kind of value."""
    out = pb.bytes_field(1, tag)
    if simple_value is not None:
        out += pb.float_field(2, simple_value)
    if image is not None:
        out += pb.message_field(4, image)
    if histo is not None:
        out += pb.message_field(5, histo)
    if tensor is not None:
        out += pb.message_field(8, tensor)
    if metadata is not None:
        out += pb.message_field(9, metadata)
    return out


def summary(values):
    """Summary bytes from Summary.Value bytes."""
    return b"".join(pb.message_field(1, value) for value in values)


def event(*, wall_time, step=0, file_version=None, summary_bytes=None):
    """Event bytes: wall_time, step and one of file_version / summary."""
    out = pb.double_field(1, wall_time)
    if step:
        out += pb.int_field(2, step)
    if file_version is not None:
        out += pb.bytes_field(3, file_version)
    if summary_bytes is not None:
        out += pb.message_field(5, summary_bytes)
    return out


# ------------------------------------------------------------------------ histograms
def _default_bucket_limits():
    """TensorFlow's default histogram edges: +-1e-12 growing by 10% up to 1e20, then the
    largest double, mirrored around 0."""
    positive = []
    value = 1e-12
    while value < 1e20:
        positive.append(value)
        value *= 1.1
    positive.append(np.finfo(np.float64).max)
    return np.array([-v for v in reversed(positive)] + [0.0] + positive)


_BUCKET_LIMITS = _default_bucket_limits()


def histogram_proto(values):
    """HistogramProto bytes of `values` with TensorFlow's default buckets.

    Bucket i counts values in [limit[i-1], limit[i]). Empty buckets are left out except
    the one just before a filled bucket, which keeps that bucket's left edge exact.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size:
        index = np.searchsorted(_BUCKET_LIMITS, values, side="right")
        counts = np.bincount(index, minlength=len(_BUCKET_LIMITS))[:len(_BUCKET_LIMITS)]
        filled = counts > 0
        keep = filled | np.append(filled[1:], False)
        limits, kept = _BUCKET_LIMITS[keep], counts[keep]
        low, high = values.min(), values.max()
    else:
        limits, kept, low, high = np.array([]), np.array([]), 0.0, 0.0
    return (pb.double_field(1, low) + pb.double_field(2, high) +
            pb.double_field(3, values.size) + pb.double_field(4, values.sum()) +
            pb.double_field(5, np.square(values).sum()) + pb.packed_doubles(6, limits) +
            pb.packed_doubles(7, kept))


# ------------------------------------------------------------------------ images
def encode_png(pixels):
    """PNG bytes of uint8 `pixels` shaped (height, width) or (height, width, 1|3|4)."""
    pixels = np.asarray(pixels, dtype=np.uint8)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    height, width, channels = pixels.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    rows = pixels.reshape(height, width * channels)
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def image_proto(pixels):
    """Summary.Image bytes of uint8 `pixels` (height, width[, channels])."""
    pixels = np.asarray(pixels, dtype=np.uint8)
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    return (pb.int_field(1, pixels.shape[0]) + pb.int_field(2, pixels.shape[1]) +
            pb.int_field(3, channels) + pb.bytes_field(4, encode_png(pixels)))


# ------------------------------------------------------------------------ the writer
_FILE_COUNTER = itertools.count()


class EventFileWriter:
    """Appends events to a new `events.out.tfevents.<time>.<host>.<pid>.<n>.v2` file in
    `logdir`, starting with the file-version event TensorBoard expects first."""

    def __init__(self, logdir):
        os.makedirs(logdir, exist_ok=True)
        self.logdir = logdir
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
                f"{os.getpid()}.{next(_FILE_COUNTER)}.v2")
        self.path = os.path.join(logdir, name)
        self._file = open(self.path, "wb")
        self._lock = threading.Lock()
        self._write(event(wall_time=time.time(), file_version=FILE_VERSION))
        self.flush()

    def _write(self, event_bytes):
        with self._lock:
            if self._file is None:
                raise ValueError(f"The event file writer for {self.path} is closed.")
            self._file.write(frame(event_bytes))

    def add_values(self, values, step):
        """Writes one Event holding a Summary of the given Summary.Value bytes."""
        self._write(event(wall_time=time.time(), step=int(step), summary_bytes=summary(values)))

    def add_scalar(self, tag, value, step):
        self.add_values([summary_value(tag, simple_value=float(value))], step)

    def add_histogram(self, tag, values, step):
        self.add_values([summary_value(tag, histo=histogram_proto(values))], step)

    def add_image(self, tag, pixels, step):
        self.add_values([summary_value(tag, image=image_proto(pixels))], step)

    def add_text_tensor(self, tag, text, step, plugin_name, content=b""):
        """A string-tensor summary for a plugin (the Keras model graph uses this)."""
        self.add_values([summary_value(tag, tensor=string_tensor(text),
                                       metadata=plugin_metadata(plugin_name, content))], step)

    def flush(self):
        with self._lock:
            if self._file is not None:
                self._file.flush()

    def close(self):
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
