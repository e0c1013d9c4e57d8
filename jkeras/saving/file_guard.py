"""The guarded way into an HDF5 file: before this process reads one, a short-lived child
process reads every part of it the loader may touch (`hdf5_probe.py`, which imports only
h5py and numpy). Some damaged files make HDF5 itself hang or crash; with the guard they
hang or crash the child, and the caller gets a `DamagedFileError` (a `ValueError`) that
names the file. Nothing has been read into a model at that point, so nothing changes.

When the guard runs is a setting (`jkeras.saving.set_load_guard`, or the environment
variable `JKERAS_LOAD_GUARD`): `"always"` (the default), `"safe_mode"` (only while safe
mode is on: `load_model(safe_mode=True)`, the default) or `"never"`. docs/LOADING.md has
what it costs.
"""
import importlib.util
import json
import os
import signal
import subprocess
import sys
import warnings

from jkeras import _config
from jkeras.saving import hdf5_probe  # for its constants: it imports h5py only when run
from jkeras.serialization.safe_mode import is_safe_mode

__all__ = ["DamagedFileError", "guard_applies", "check_file", "check_bytes"]

PROBE_SCRIPT = os.path.abspath(hdf5_probe.__file__)


class DamagedFileError(ValueError):
    """An HDF5 file that crashed or hung the process checking it, or whose structure
    contradicts itself. Nothing was loaded from it."""


def guard_applies(safe_mode=None):
    """Whether files are checked now: by the load-guard setting and, for `"safe_mode"`,
    by `safe_mode` (None: the current safe-mode setting)."""
    mode = _config.load_guard()[0]
    if mode == "safe_mode":
        return is_safe_mode() if safe_mode is None else bool(safe_mode)
    return mode == "always"


def _module_dirs():
    """Where this process found numpy and h5py (the child runs isolated, `-I`, and gets
    only these directories)."""
    dirs = []
    for name in ("numpy", "h5py"):
        spec = importlib.util.find_spec(name)
        for location in (spec.submodule_search_locations or []) if spec else []:
            parent = os.path.dirname(os.path.abspath(location))
            if parent not in dirs:
                dirs.append(parent)
    return dirs


def _damaged(source, why):
    return DamagedFileError(
        f"File {source} is damaged: {why}. Nothing was read from it into this process. "
        "Load a good copy of it.")


def _signal_name(returncode):
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def _report(stdout):
    for line in reversed(stdout.decode("utf8", "replace").splitlines()):
        if line.startswith(hdf5_probe.REPORT_MARKER):
            return json.loads(line[len(hdf5_probe.REPORT_MARKER):])
    return None


def _unguarded(why):
    warnings.warn(f"The HDF5 load guard could not run ({why}); the file is read without "
                  "it. Turn it off with jkeras.saving.set_load_guard('never').",
                  stacklevel=4)


def _run_probe(target, data, source, timeout):
    if getattr(sys, "frozen", False) or not sys.executable:
        _unguarded("no Python interpreter to start")
        return
    command = [sys.executable, "-I", PROBE_SCRIPT, json.dumps(_module_dirs()), target]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=timeout,
                              stdin=subprocess.DEVNULL if data is None else None)
    except subprocess.TimeoutExpired:
        raise _damaged(source, f"reading its HDF5 metadata did not finish within "
                               f"{timeout:g} s (HDF5 loops forever on some damaged "
                               "files)") from None
    except OSError as e:
        _unguarded(f"the checking process did not start: {e}")
        return
    if done.returncode == hdf5_probe.IMPORT_FAILED:
        _unguarded(done.stderr.decode("utf8", "replace").strip()[-300:])
        return
    if done.returncode < 0:
        raise _damaged(source, "reading its HDF5 metadata crashed the process checking it "
                               f"({_signal_name(done.returncode)})")
    report = _report(done.stdout) if done.returncode == 0 else None
    if report is None:
        tail = done.stderr.decode("utf8", "replace").strip().splitlines()[-1:] or [""]
        raise _damaged(source, "the process checking its HDF5 metadata failed (exit "
                               f"status {done.returncode}: {tail[0][:300]})")
    if report["damaged"]:
        raise _damaged(source, "; ".join(report["damaged"][:3]))


def check_file(filepath, safe_mode=None):
    """Raises `DamagedFileError` if reading the HDF5 file at `filepath` crashes or hangs
    a child process, or its structure contradicts itself; returns None otherwise (also
    when the guard is off). Errors HDF5 reports cleanly are left to the loader."""
    if guard_applies(safe_mode):
        _run_probe(os.path.abspath(os.fspath(filepath)), None, filepath,
                   _config.load_guard()[1])


def check_bytes(data, source, safe_mode=None):
    """`check_file` for an HDF5 file held in memory (the weights of a `.keras` archive);
    `source` names it in errors."""
    if guard_applies(safe_mode):
        _run_probe("-", bytes(data), source, _config.load_guard()[1])
