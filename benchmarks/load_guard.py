"""What the HDF5 load guard costs: load times with the guard off and on, and the check alone.

The guard (jkeras/saving/file_guard.py) starts a child Python that imports h5py and walks
the file's metadata before the file is read here. Its cost is the child's start (Python
and h5py imports), the walk (grows with the number of groups, datasets and attributes,
not with the bytes of weights: contiguous weights are not read) and, for `.keras`
archives, piping the weights file's bytes to the child.

Files: small ones (fixtures written by Keras 2 and Keras 3, 16-50 kB), a wide model (few
layers, large weights: --large-mb), a deep one (many layers: --layers Dense layers) and
the large model as a `.keras` archive. For each: the median of --repeats runs of
`load_model` with the guard "never" and "always", and of the check alone.

Usage: python benchmarks/load_guard.py [--large-mb 256] [--layers 400] [--repeats 5]
"""
import argparse
import gzip
import os
import shutil
import statistics
import sys
import tempfile
import time
import zipfile

import numpy as np

import jkeras
from jkeras.saving import file_guard

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "tests", "fixtures")


def _median_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _fixture(name, directory):
    target = os.path.join(directory, name)
    with gzip.open(os.path.join(FIXTURES, name + ".gz"), "rb") as src, \
            open(target, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return target


def _wide_model(megabytes):
    """Four Dense layers holding about `megabytes` of float32 weights."""
    width = int((megabytes * 2 ** 20 / 4 / 4) ** 0.5)
    inp = jkeras.Input((width,))
    x = inp
    for _ in range(4):
        x = jkeras.layers.Dense(width)(x)
    return jkeras.Model(inp, x)


def _deep_model(count):
    inp = jkeras.Input((8,))
    x = inp
    for _ in range(count):
        x = jkeras.layers.Dense(8)(x)
    return jkeras.Model(inp, x)


def _check(path):
    if path.endswith(".keras"):
        with zipfile.ZipFile(path) as archive:
            data = archive.read("model.weights.h5")
        return lambda: file_guard.check_bytes(data, path)
    return lambda: file_guard.check_file(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--large-mb", type=int, default=256)
    parser.add_argument("--layers", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = [(name, _fixture(name, tmp)) for name in
                 ("k2_dense_adam.h5", "k2_rnn.h5", "k3_flat_graph_adam.h5", "k3_rnn.keras")]
        wide = _wide_model(args.large_mb)
        wide.save(os.path.join(tmp, "wide.h5"))
        wide.save(os.path.join(tmp, "wide.keras"))
        del wide
        _deep_model(args.layers).save(os.path.join(tmp, "deep.h5"))
        files += [(f"wide ({args.large_mb} MB)", os.path.join(tmp, "wide.h5")),
                  (f"wide ({args.large_mb} MB)", os.path.join(tmp, "wide.keras")),
                  (f"deep ({args.layers} layers)", os.path.join(tmp, "deep.h5"))]
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
              f"median of {args.repeats}")
        print(f"{'file':<28}{'size':>10}{'load, off':>12}{'load, on':>12}{'check':>10}"
              f"{'overhead':>10}")
        for label, path in files:
            size = os.path.getsize(path)
            jkeras.saving.set_load_guard("never")
            jkeras.models.load_model(path)  # warm: imports, first traces
            off = _median_seconds(lambda: jkeras.models.load_model(path), args.repeats)
            jkeras.saving.set_load_guard("always", timeout=600)
            on = _median_seconds(lambda: jkeras.models.load_model(path), args.repeats)
            check = _median_seconds(_check(path), args.repeats)
            name = f"{label}{os.path.splitext(path)[1] if label.startswith(('wide', 'deep')) else ''}"
            print(f"{name:<28}{size / 2 ** 20:>8.2f}MB{off:>11.3f}s{on:>11.3f}s"
                  f"{check:>9.3f}s{(on - off) / off:>9.0%}")
        jkeras.saving.set_load_guard(None)


if __name__ == "__main__":
    main()
