"""Damaged copies of every fixture file, loaded as a user would load them.

    python tests/saving/load_fuzzer.py [--seed S] [--count N] [--timeout SECONDS]

Each of N seeded mutations takes one fixture of tests/fixtures and damages it: a
truncation, flipped bytes (anywhere, or near HDF5 structures and attribute names, where
damage reaches HDF5's parsers), one of the two byte changes known to crash or hang HDF5
2.0 (a string attribute's type, a global heap's size), or a structural edit (a group or dataset deleted,
reshaped or retyped, a name list or a JSON config changed, a link that loops or points
outside the file; for `.keras` archives also a member dropped or its JSON damaged). The
damaged file then goes to `load_model` or to `load_weights` of a model built from the
intact fixture, with the load guard on.

One JSON line per mutation: `{"i", "fixture", "mutation", "op", "outcome", "error",
"seconds", "unchanged"}`; `outcome` is "loaded", "clean" (a ValueError or OSError) or
"unclean" (any other exception); `unchanged` says whether a failed `load_weights` left the
weights as they were. A line `begin <i>` precedes each load, so a crash or hang that
escaped the guard names its mutation. The slow fuzz test in test_file_guard.py runs
this script in a child process with a time limit.
"""
import argparse
import gzip
import io
import json
import os
import random
import sys
import tempfile
import time
import zipfile

import numpy as np

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(TESTS, "fixtures")
# Places in an HDF5 file where a damaged byte reaches HDF5's parsers: structure
# signatures and the names of the attributes Keras reads.
TARGETS = (b"TREE", b"HEAP", b"SNOD", b"GCOL", b"model_config", b"training_config",
           b"layer_names", b"weight_names", b"keras_version", b"name\0")
VLEN_STRING_TYPE = 0x19  # the first byte of a variable-length string datatype message


# ---------------------------------------------------------------------------- fixtures
def fixture_names():
    """Every fixture model file: `k2_rnn.h5`, `k3_rnn.keras`, `k3_graph.weights.h5`..."""
    return sorted(n[:-3] for n in os.listdir(FIXTURES)
                  if n.endswith((".h5.gz", ".keras.gz")))


def fixture_bytes(name):
    with gzip.open(os.path.join(FIXTURES, name + ".gz"), "rb") as f:
        return f.read()


def is_weights_file(name, data):
    """Weights-only files (no architecture): load_weights into a model built in code."""
    return name.endswith(".weights.h5") or (
        name.endswith(".h5") and b"model_config" not in data)


def builder(name):
    """The fixtures builder of a weights-only fixture (`k2_conv1d_weights.h5` ->
    `build_conv1d`)."""
    stem = name.split(".")[0].split("_", 1)[1]
    stem = stem[:-len("_weights")] if stem.endswith("_weights") else stem
    return "build_" + stem


# ---------------------------------------------------------------------------- damage
def vlen_string_types(data, attribute):
    """Offsets of the datatype messages of the attributes named `attribute` that hold
    variable-length strings (as Keras writes its attributes)."""
    key, out, at = attribute.encode() + b"\0", [], data.find(attribute.encode() + b"\0")
    while at >= 0:
        pos = at + (len(key) + 7) // 8 * 8  # attribute names are padded to 8 bytes
        if data[pos:pos + 2] == bytes([VLEN_STRING_TYPE, 1]):
            out.append(pos)
        at = data.find(key, at + 1)
    return out


def break_vlen_string_attribute(data, attribute, which=0):
    """`data` with the datatype of attribute `attribute` (a variable-length string)
    turned into a variable-length type HDF5 does not know: h5py 3.16 / HDF5 2.0 crash
    reading it (a segmentation fault)."""
    found = vlen_string_types(data, attribute)
    if not found:
        raise ValueError(f"no variable-length string attribute {attribute!r} found")
    out = bytearray(data)
    out[found[which % len(found)] + 1] = 3
    return bytes(out)


def grow_global_heap(data):
    """`data` whose first global heap claims 16 kB more than it holds: HDF5 2.0 loops
    forever reading the strings stored there."""
    pos = data.find(b"GCOL") + 9  # the second byte of the collection's size
    out = bytearray(data)
    out[pos] |= 0x40
    return bytes(out)


def known_damage(data, rng):
    """The two kinds of damage that take HDF5 down (found by flipping bytes)."""
    if rng.random() < 0.25 and b"GCOL" in data:
        return grow_global_heap(data), "grow_global_heap"
    names = [n for n in ("model_config", "training_config", "layer_names",
                         "weight_names", "name", "backend") if vlen_string_types(data, n)]
    if not names:
        return flip(data, rng)
    return break_vlen_string_attribute(data, rng.choice(names), rng.randrange(8)), \
        "retype_string_attribute"


def truncate(data, rng):
    return data[:rng.randrange(len(data))], "truncate"


def flip(data, rng, near=None):
    out = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 4))):
        if near:
            pos = min(len(out) - 1, max(0, rng.choice(near) + rng.randrange(-8, 48)))
        else:
            pos = rng.randrange(len(out))
        out[pos] = rng.randrange(256) if rng.random() < 0.3 else \
            out[pos] ^ (1 << rng.randrange(8))
    return bytes(out), "flip_near_structure" if near else "flip"


def target_offsets(data):
    out = []
    for key in TARGETS:
        at = data.find(key)
        while at >= 0:
            out.append(at)
            at = data.find(key, at + 1)
    return out


def _json_damage(text, rng):
    kind = rng.randrange(4)
    if kind == 0 and text:
        at = rng.randrange(len(text))
        return text[:at] + rng.choice('{}[]",:0x ') + text[at + 1:]
    if kind == 1:
        return text[:rng.randrange(len(text) + 1)]
    if kind == 2:
        return rng.choice(["[]", '"text"', "17", "null", '{"class_name": "Nope"}',
                           '{"class_name": "Functional", "config": 3}'])
    value = json.loads(text)
    return json.dumps(_shuffle_values(value, rng))


def _shuffle_values(value, rng):
    """A config with some leaves replaced by values of another type."""
    if isinstance(value, dict):
        return {k: _shuffle_values(v, rng) for k, v in value.items()}
    if isinstance(value, list):
        return [_shuffle_values(v, rng) for v in value]
    if rng.random() < 0.05:
        return rng.choice([None, -1, 0, 10 ** 6, "x", [], {}, 2.5, True])
    return value


def _h5_items(f):
    import h5py
    items = []
    f.visititems(lambda name, obj: items.append((name, isinstance(obj, h5py.Dataset))))
    return items


def _list_attribute_damage(value, rng):
    names = [v.decode() if isinstance(v, bytes) else str(v) for v in np.atleast_1d(value)]
    kind = rng.randrange(4)
    if kind == 0 and names:
        names.pop(rng.randrange(len(names)))
    elif kind == 1:
        names.insert(rng.randrange(len(names) + 1), rng.choice(["ghost", "a/b/c", ""]))
    elif kind == 2:
        names.reverse()
    else:
        return np.arange(3)
    return np.array(names, dtype=object) if names else np.array([], dtype="S1")


def structural(data, rng):
    """An edit made with h5py on a copy: a deleted, reshaped or retyped object, a damaged
    name list or JSON config, a looping or dangling link."""
    import h5py
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "edit.h5")
        with open(path, "wb") as f:
            f.write(data)
        with h5py.File(path, "r+") as f:
            items = _h5_items(f)
            datasets = [n for n, is_ds in items if is_ds]
            groups = [n for n, is_ds in items if not is_ds]
            holders = [n for n in ["/"] + groups if f[n].attrs.keys()]
            kind = rng.choice(["delete", "reshape", "retype", "names", "json", "loop",
                               "dangling"])
            if kind == "delete" and items:
                del f[rng.choice(items)[0]]
            elif kind in ("reshape", "retype") and datasets:
                name = rng.choice(datasets)
                value = np.asarray(f[name][()])
                del f[name]
                if kind == "reshape":
                    f[name] = np.resize(value, tuple(d + 1 for d in value.shape) or (2,))
                else:
                    f[name] = np.array(["not", "numbers"], dtype=object)
            elif kind == "json" and ("model_config" in f.attrs or
                                     "training_config" in f.attrs):
                key = "model_config" if "model_config" in f.attrs and (
                    rng.random() < 0.7 or "training_config" not in f.attrs) \
                    else "training_config"
                text = f.attrs[key]
                text = text.decode() if isinstance(text, bytes) else str(text)
                f.attrs[key] = _json_damage(text, rng)
            elif kind in ("loop", "dangling") and groups:
                name = rng.choice(groups)
                parent = name.rsplit("/", 1)[0] if "/" in name else "/"
                del f[name]
                f[name] = h5py.SoftLink("/" + name) if kind == "loop" else \
                    h5py.ExternalLink("missing_file.h5", "/" + parent)
            elif holders:
                holder = f[rng.choice(holders)]
                key = rng.choice(list(holder.attrs.keys()))
                holder.attrs[key] = _list_attribute_damage(holder.attrs[key], rng)
            else:
                kind = "none"
        with open(path, "rb") as f:
            return f.read(), f"structure_{kind}"


def damage_h5(data, rng):
    kind = rng.random()
    if kind < 0.05:
        return known_damage(data, rng)
    if kind < 0.15:
        return truncate(data, rng)
    if kind < 0.4:
        return flip(data, rng)
    if kind < 0.75:
        return flip(data, rng, near=target_offsets(data))
    return structural(data, rng)


def damage_archive(data, rng):
    """A damaged `.keras` archive: its weights file or its JSON damaged, a member
    dropped, or the zip's own bytes truncated or flipped."""
    kind = rng.random()
    if kind < 0.1:
        return truncate(data, rng)
    if kind < 0.2:
        return flip(data, rng)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    if kind < 0.75:
        members["model.weights.h5"], what = damage_h5(members["model.weights.h5"], rng)
    elif kind < 0.9:
        text = members["config.json"].decode()
        members["config.json"], what = _json_damage(text, rng).encode(), "json"
    else:
        what = "drop_" + rng.choice(sorted(members))
        members.pop(what[5:])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue(), "archive_" + what


# ---------------------------------------------------------------------------- loading
def _weights(model):
    return [np.array(w) for w in model.get_weights()]


def _same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


class Targets:
    """The models that damaged files are loaded into, built once per fixture from the
    intact file (or by the fixtures builder for weights-only files)."""

    def __init__(self, jkeras, tmp):
        self.jkeras, self.tmp, self.models = jkeras, tmp, {}

    def get(self, name, data):
        if name not in self.models:
            if is_weights_file(name, data):
                sys.path.insert(0, TESTS)
                from fixtures import make_fixtures as fx
                model = getattr(fx, builder(name))(self.jkeras)
            else:
                path = os.path.join(self.tmp, "intact_" + name)
                with open(path, "wb") as f:
                    f.write(data)
                model = self.jkeras.models.load_model(path, compile=False)
            self.models[name] = (model, _weights(model))
        model, weights = self.models[name]
        model.set_weights(weights)
        return model, weights


def run_one(jkeras, targets, i, name, intact, damaged, what, op, path):
    with open(path, "wb") as f:
        f.write(damaged)
    model = before = None
    if op == "load_weights":
        model, before = targets.get(name, intact)
    record = {"i": i, "fixture": name, "mutation": what, "op": op}
    print(f"begin {i}", flush=True)
    start = time.perf_counter()
    try:
        if op == "load_model":
            jkeras.models.load_model(path)
        else:
            model.load_weights(path)
        record.update(outcome="loaded", error=None)
    except (ValueError, OSError) as e:
        record.update(outcome="clean", error=f"{type(e).__name__}: {str(e)[:300]}")
    except Exception as e:  # noqa: BLE001 - what the fuzz looks for
        record.update(outcome="unclean", error=f"{type(e).__name__}: {str(e)[:300]}")
    record["seconds"] = round(time.perf_counter() - start, 3)
    if op == "load_weights" and record["outcome"] != "loaded":
        record["unchanged"] = _same(_weights(model), before)
    print(json.dumps(record), flush=True)
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--count", type=int, default=240)
    parser.add_argument("--timeout", type=float, default=5.0,
                        help="the load guard's time limit, seconds")
    args = parser.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "jax")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import logging
    import warnings
    warnings.simplefilter("ignore")
    logging.getLogger("jkeras").setLevel(logging.ERROR)
    import jkeras
    jkeras.saving.set_load_guard("always", timeout=args.timeout)
    rng = random.Random(args.seed)
    names = fixture_names()
    intact = {name: fixture_bytes(name) for name in names}
    counts = {}
    with tempfile.TemporaryDirectory() as tmp:
        targets = Targets(jkeras, tmp)
        for i in range(args.count):
            name = names[i % len(names)]
            data = intact[name]
            damaged, what = (damage_archive if name.endswith(".keras") else damage_h5)(
                data, rng)
            op = "load_weights" if is_weights_file(name, data) or rng.random() < 0.5 \
                else "load_model"
            path = os.path.join(tmp, f"damaged_{i}_{name}")
            record = run_one(jkeras, targets, i, name, data, damaged, what, op, path)
            counts[record["outcome"]] = counts.get(record["outcome"], 0) + 1
            os.remove(path)
    print("summary " + json.dumps(counts), flush=True)


if __name__ == "__main__":
    main()
