"""Atomic file writes: write beside the target, then rename over it in one step.

A crash (or an exception) while writing leaves the previous file untouched; only a fully
written file ever takes the target's name.
"""
import contextlib
import os
import tempfile

__all__ = ["atomic_path", "write_bytes", "check_overwrite"]


def _as_path(filepath, what="filepath"):
    try:
        return os.fspath(filepath)
    except TypeError:
        raise TypeError(
            f"Expected `{what}` to be a string or path-like object. Received: "
            f"{what}={filepath!r} of type {type(filepath).__name__}") from None


def check_overwrite(filepath, overwrite):
    """Raises if `filepath` exists and `overwrite` is False (no interactive prompt)."""
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(
            f"File {filepath} already exists and overwrite=False. Pass overwrite=True to "
            "replace it.")


@contextlib.contextmanager
def atomic_path(filepath, overwrite=True):
    """Yields a temporary path in the target's directory; renames it onto `filepath` only
    if the body finishes without raising. The temporary file is removed otherwise."""
    filepath = _as_path(filepath)
    check_overwrite(filepath, overwrite)
    directory = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(filepath)}.", suffix=".tmp",
                               dir=directory)
    os.close(fd)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, filepath)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_bytes(filepath, data, overwrite=True):
    """Writes `data` to `filepath` atomically."""
    with atomic_path(filepath, overwrite) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)


def _fsync(path):
    try:
        with open(path, "rb+") as f:
            os.fsync(f.fileno())
    except OSError:  # some file systems do not support fsync; the rename still applies
        pass
