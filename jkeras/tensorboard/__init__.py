"""TensorBoard event files written without TensorFlow (the `TensorBoard` callback that
writes them is jkeras.callbacks.TensorBoard, in callbacks/tensorboard.py)."""
from jkeras.tensorboard.summary import EventFileWriter

__all__ = ["EventFileWriter"]
