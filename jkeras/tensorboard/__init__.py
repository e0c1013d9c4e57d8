"""TensorBoard support without TensorFlow: event files written by hand, and the callback."""
from jkeras.tensorboard.summary import EventFileWriter

__all__ = ["EventFileWriter", "TensorBoard"]


def __getattr__(name):
    if name == "TensorBoard":
        from jkeras.tensorboard.callback import TensorBoard
        return TensorBoard
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
