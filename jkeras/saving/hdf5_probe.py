"""A standalone script that reads every part of an HDF5 file a loader may touch, so that a
damaged file crashes or hangs this short-lived process instead of the user's.

`file_guard` runs it as `python -I hdf5_probe.py SYS_PATH_JSON FILE` (or `-` for FILE to
read the file's bytes from stdin). It imports only the standard library, numpy and h5py
(those two only when run, so `file_guard` can import its constants): never jkeras, never
jax. It visits the root, every group, every object a string attribute
names (Keras looks up `layer_names` and `weight_names` entries by name), every attribute
value, and every dataset's header and storage layout; datasets whose data is not a plain
contiguous array of numbers (chunked, compressed, compact, strings) are read in full.
Exceptions are collected, not raised: the loader meets them again as clean errors.

The last line it prints is a JSON report:
    {"objects": n, "errors": [str, ...], "damaged": [str, ...]}
`damaged` lists what the loader would not survive although HDF5 reports no error: a
dataset (chunked, so HDF5 does not check it against the file's size) claiming far more
bytes than the file could hold, which would exhaust memory when read. Exit status 0 means
the walk finished.
"""
import io
import json
import os
import sys

__all__ = ["probe", "main"]

REPORT_MARKER = "HDF5_PROBE_REPORT "
IMPORT_FAILED = 3
_MAX_OBJECTS = 200_000
_MAX_NAME = 1024
_KEEP = 20


class _Walk:
    def __init__(self, h5py, numpy, file_size):
        self.h5py, self.np, self.file_size = h5py, numpy, file_size
        self.seen, self.errors, self.damaged = set(), [], []
        self.stack = []

    def note(self, where, error):
        if len(self.errors) < _KEEP:
            self.errors.append(f"{where}: {type(error).__name__}: {error}")

    def push(self, obj):
        # By file name and address: an external link may open the same file again under
        # a new id (a file held in memory resolves every external link to itself).
        try:
            key = (str(obj.file.filename), self.h5py.h5o.get_info(obj.id).addr)
        except Exception as e:  # an object HDF5 cannot describe
            self.note(getattr(obj, "name", "?"), e)
            return
        if key not in self.seen and len(self.seen) < _MAX_OBJECTS:
            self.seen.add(key)
            self.stack.append(obj)

    def lookup(self, group, name, where):
        try:
            found = group.get(name)
        except Exception as e:
            self.note(f"{where} -> {name!r}", e)
            return
        if found is not None:
            self.push(found)

    def names_in(self, value):
        """Strings an attribute holds (names a loader may look up)."""
        np = self.np
        items = value.ravel().tolist() if isinstance(value, np.ndarray) else [value]
        for item in items:
            if isinstance(item, bytes):
                try:
                    item = item.decode("utf8")
                except UnicodeDecodeError:
                    continue
            if isinstance(item, str) and 0 < len(item) <= _MAX_NAME:
                yield item

    def attributes(self, obj):
        where = obj.name or "/"
        try:
            names = list(obj.attrs)
        except Exception as e:
            self.note(f"attributes of {where}", e)
            return
        for name in names:
            try:
                _ = name in obj.attrs
                value = obj.attrs[name]
            except Exception as e:
                self.note(f"attribute {name!r} of {where}", e)
                continue
            if isinstance(obj, self.h5py.Group):
                for target in self.names_in(value):
                    self.lookup(obj, target, f"attribute {name!r} of {where}")

    def group(self, group):
        try:
            members = list(group)
        except Exception as e:
            self.note(f"members of {group.name}", e)
            return
        for name in members:
            self.lookup(group, name, group.name)

    def dataset(self, ds):
        h5py, where = self.h5py, ds.name
        try:
            shape, dtype = ds.shape, ds.dtype
            dsid = ds.id
            layout = dsid.get_create_plist().get_layout()
            nbytes = int(self.np.prod(shape, dtype=object) or 0) * dtype.itemsize \
                if shape is not None else 0
        except Exception as e:
            self.note(f"dataset {where}", e)
            return
        if nbytes > 64 * self.file_size + (1 << 30):
            self.damaged.append(f"dataset {where} claims shape {shape} ({nbytes} bytes), "
                                f"far more than a {self.file_size}-byte file holds")
            return
        if layout == h5py.h5d.CONTIGUOUS and dtype.kind in "biuf" and dtype.fields is None:
            return  # HDF5 checks on opening that such data lies inside the file
        try:
            if layout == h5py.h5d.CHUNKED:
                for index in range(dsid.get_num_chunks()):
                    dsid.get_chunk_info(index)
            ds[()]
        except Exception as e:
            self.note(f"data of {where}", e)

    def run(self, root):
        self.push(root)
        while self.stack:
            obj = self.stack.pop()
            self.attributes(obj)
            if isinstance(obj, self.h5py.Group):
                self.group(obj)
            elif isinstance(obj, self.h5py.Dataset):
                self.dataset(obj)
        try:  # HDF5's own visit, as loading by name walks the file
            root.visititems(lambda name, obj: None)
        except Exception as e:
            self.note("visiting the file", e)


def probe(source, h5py, numpy):
    """Walks the HDF5 file at path `source` (or in bytes `source`); returns the report."""
    if isinstance(source, bytes):
        size, handle = len(source), io.BytesIO(source)
    else:
        size, handle = os.path.getsize(source), source
    try:
        f = h5py.File(handle, "r")
    except Exception as e:
        return {"objects": 0, "errors": [f"open: {type(e).__name__}: {e}"], "damaged": []}
    walk = _Walk(h5py, numpy, size)
    try:
        walk.run(f)
    finally:
        try:
            f.close()
        except Exception as e:
            walk.note("close", e)
    return {"objects": len(walk.seen), "errors": walk.errors, "damaged": walk.damaged}


def main(argv):
    sys.path[:0] = json.loads(argv[1])
    try:
        import numpy
        import h5py
    except ImportError as e:
        print(f"hdf5_probe: cannot import h5py/numpy: {e}", file=sys.stderr)
        return IMPORT_FAILED
    source = sys.stdin.buffer.read() if argv[2] == "-" else argv[2]
    report = probe(source, h5py, numpy)
    sys.stdout.write(REPORT_MARKER + json.dumps(report) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
