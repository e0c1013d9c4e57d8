"""Whether configs being loaded may carry Python bytecode (Lambda layers): off by default."""
import threading

__all__ = ["is_safe_mode", "SafeModeScope", "enable_unsafe_deserialization"]

_STATE = threading.local()


def is_safe_mode():
    return getattr(_STATE, "safe_mode", True)


class SafeModeScope:
    """`with SafeModeScope(False):` allows Lambda bytecode while loading a trusted file."""

    def __init__(self, safe_mode=True):
        self.safe_mode = True if safe_mode is None else bool(safe_mode)

    def __enter__(self):
        self._previous = is_safe_mode()
        _STATE.safe_mode = self.safe_mode
        return self

    def __exit__(self, *exc):
        _STATE.safe_mode = self._previous


def enable_unsafe_deserialization():
    """Allows Lambda bytecode for the rest of this thread (Keras 3's switch)."""
    _STATE.safe_mode = False
