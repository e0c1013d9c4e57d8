"""Data helpers: the `Sequence` base class and `get_file`, a hash-checked download cache.
Keras 2's enqueuers (`OrderedEnqueuer`, `GeneratorEnqueuer`, ...) live in
`jkeras.utils.enqueuers` and are importable from here, as they were in Keras 2."""
import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile


class Sequence:
    """Base class for indexable batch sources (`len(seq)` batches, `seq[i]` is batch `i`).

    Subclasses implement `__getitem__(index)` and `__len__()`; `on_epoch_end()` is called
    by the trainer after each epoch (shuffle there). Unlike a generator, a Sequence can
    be read by several workers without ever handing out a batch twice per epoch.

    Subclasses need not call `super().__init__()`; the Keras 3 keywords `workers`,
    `use_multiprocessing` and `max_queue_size` are accepted for compatibility.
    """

    workers = 1
    use_multiprocessing = False
    max_queue_size = 10

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __getitem__(self, index):
        raise NotImplementedError(
            f"{type(self).__name__} must implement __getitem__(index)")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__()")

    @property
    def num_batches(self):
        """The number of batches per epoch (Keras 3 `PyDataset` spelling of `len`)."""
        return len(self)

    def on_epoch_end(self):
        """Called at the end of every epoch; does nothing unless overridden."""

    def __iter__(self):
        for index in range(len(self)):
            yield self[index]


PyDataset = Sequence


# ---------------------------------------------------------------------------------------
# Hashing


def _resolve_hasher(algorithm, file_hash=None):
    if algorithm == "sha256":
        return hashlib.sha256()
    if algorithm == "md5":
        return hashlib.md5()
    if algorithm == "auto":
        if file_hash is not None and len(file_hash) == 64:
            return hashlib.sha256()
        return hashlib.md5()
    raise ValueError(
        "Expected hash_algorithm to be 'auto', 'sha256' or 'md5'. "
        f"Received: hash_algorithm={algorithm!r}")


def _hash_file(fpath, algorithm="sha256", chunk_size=65535):
    """The hex digest of a file (`algorithm`: 'sha256' or 'md5'; 'auto' means md5, as Keras)."""
    hasher = _resolve_hasher(algorithm)
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


hash_file = _hash_file


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=65535):
    """True when the file's sha256/md5 digest equals `file_hash` ('auto': by its length)."""
    hasher = _resolve_hasher(algorithm, file_hash)
    name = "sha256" if hasher.name == "sha256" else "md5"
    return str(_hash_file(fpath, name, chunk_size)) == str(file_hash).lower()


# ---------------------------------------------------------------------------------------
# Archives


def _is_within(base, target):
    base = os.path.realpath(base)
    target = os.path.realpath(target)
    try:
        return os.path.commonpath([base, target]) == base
    except ValueError:
        return False


def _safe_tar_members(archive, path):
    for member in archive.getmembers():
        target = os.path.join(path, member.name)
        ok = _is_within(path, target)
        if ok and (member.issym() or member.islnk()):
            link_base = path if member.islnk() else os.path.dirname(target)
            ok = _is_within(path, os.path.join(link_base, member.linkname))
        if ok and (member.isdev() or os.path.isabs(member.name)):
            ok = False
        if ok:
            yield member
        else:
            warnings.warn(f"Skipping unsafe path in archive: {member.name!r}", stacklevel=3)


def _safe_zip_members(archive, path):
    for info in archive.infolist():
        if os.path.isabs(info.filename) or not _is_within(path,
                                                         os.path.join(path, info.filename)):
            warnings.warn(f"Skipping unsafe path in archive: {info.filename!r}",
                          stacklevel=3)
            continue
        yield info


def _extract_archive(file_path, path=".", archive_format="auto"):
    """Extracts a tar (.tar, .tar.gz, .tar.bz2, .tar.xz) or zip archive into `path`.

    Members that would land outside `path` (absolute names, `..`, links pointing out)
    are skipped with a warning. Returns True when the file was an archive of one of the
    formats asked for (`'auto'` = `['tar', 'zip']`), False otherwise.
    """
    if archive_format is None:
        return False
    if archive_format == "auto":
        archive_format = ["tar", "zip"]
    if isinstance(archive_format, str):
        archive_format = [archive_format]
    file_path = os.fspath(file_path)
    path = os.fspath(path)
    for kind in archive_format:
        if kind == "tar":
            if not tarfile.is_tarfile(file_path):
                continue
            os.makedirs(path, exist_ok=True)
            with tarfile.open(file_path) as archive:
                members = list(_safe_tar_members(archive, path))
                if hasattr(tarfile, "data_filter"):
                    archive.extractall(path, members=members, filter="data")
                else:  # pragma: no cover - Pythons without extraction filters
                    archive.extractall(path, members=members)
            return True
        if kind == "zip":
            if not zipfile.is_zipfile(file_path):
                continue
            os.makedirs(path, exist_ok=True)
            with zipfile.ZipFile(file_path) as archive:
                archive.extractall(path, members=list(_safe_zip_members(archive, path)))
            return True
        raise ValueError(
            "Expected archive_format to be 'auto', 'tar', 'zip', a list of these or "
            f"None. Received: archive_format={kind!r}")
    return False


extract_archive = _extract_archive


# ---------------------------------------------------------------------------------------
# Downloading


def _cache_root(cache_dir):
    """The writable cache folder: `cache_dir`, `$KERAS_HOME` or `~/.keras` (else a temp one)."""
    if cache_dir is None:
        cache_dir = os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")
    root = os.path.expanduser(os.fspath(cache_dir))
    try:
        os.makedirs(root, exist_ok=True)
    except OSError:
        pass
    if not os.access(root, os.W_OK):
        root = os.path.join(tempfile.gettempdir(), ".keras")
    return root


def _download(origin, target_dir, progress=True):
    """Downloads `origin` into a temporary file inside `target_dir`; returns its path."""
    fd, tmp_path = tempfile.mkstemp(prefix=".download-", dir=target_dir)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(origin) as response:
            total = response.headers.get("Content-Length")
            total = int(total) if total and total.isdigit() else None
            done = 0
            for chunk in iter(lambda: response.read(1 << 16), b""):
                out.write(chunk)
                done += len(chunk)
                if progress and total and sys.stdout.isatty():
                    sys.stdout.write(f"\r{done}/{total} bytes")
            if progress and total and sys.stdout.isatty():
                sys.stdout.write("\n")
    except BaseException as error:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
        if isinstance(error, urllib.error.HTTPError):
            raise Exception(
                f"URL fetch failure on {origin}: {error.code} -- {error.msg}") from error
        if isinstance(error, urllib.error.URLError):
            raise Exception(
                f"URL fetch failure on {origin}: {error.errno} -- {error.reason}"
            ) from error
        raise
    return tmp_path


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None, force_download=False):
    """Downloads a file from `origin` unless it is already cached; returns its local path.

    The file lands in `cache_dir/cache_subdir/fname` (`cache_dir` defaults to
    `$KERAS_HOME` or `~/.keras`). With `file_hash` (sha256 or md5, told apart by length
    when `hash_algorithm='auto'`), a cached file that does not match is downloaded again,
    and a download that does not match raises ValueError. Downloads go to a temporary
    file renamed into place, so an interrupted download never leaves a partial file.

    `untar=True` (Keras 2): the archive is stored as `fname + '.tar.gz'`, extracted into
    the cache subdirectory, and the path `cache_subdir/fname` is returned.
    `extract=True`: the archive is extracted beside it and the archive's path returned.
    Archive members that would escape the extraction folder are skipped.
    """
    if origin is None:
        raise ValueError(
            "Expected the URL of the file to download. Received: origin=None")
    if md5_hash is not None and file_hash is None:
        file_hash = md5_hash
        hash_algorithm = "md5"
    _resolve_hasher(hash_algorithm, file_hash)  # checks the algorithm name early
    datadir = os.path.join(_cache_root(cache_dir), cache_subdir)
    os.makedirs(datadir, exist_ok=True)

    fname = os.fspath(fname) if fname is not None else None
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(
                "Could not infer a file name from the origin; pass fname. "
                f"Received: origin={origin!r}")
    if untar:
        if fname.endswith(".tar.gz"):
            fname = fname[:-len(".tar.gz")]
        untar_fpath = os.path.join(datadir, fname)
        fpath = untar_fpath + ".tar.gz"
    else:
        fpath = os.path.join(datadir, fname)

    download = force_download or not os.path.exists(fpath)
    if not download and file_hash is not None:
        if not validate_file(fpath, file_hash, algorithm=hash_algorithm):
            print("A local file was found, but it does not match the expected "
                  f"{hash_algorithm} hash {file_hash}; downloading it again.")
            download = True

    if download:
        print(f"Downloading data from {origin}")
        tmp_path = _download(origin, os.path.dirname(fpath) or ".")
        if file_hash is not None and not validate_file(tmp_path, file_hash,
                                                       algorithm=hash_algorithm):
            os.remove(tmp_path)
            raise ValueError(
                f"Incomplete or corrupted file downloaded from {origin}: its "
                f"{hash_algorithm} hash does not match the expected file_hash={file_hash}")
        os.replace(tmp_path, fpath)

    if untar:
        if download or not os.path.exists(untar_fpath):
            if download and os.path.isdir(untar_fpath):
                shutil.rmtree(untar_fpath)
            _extract_archive(fpath, datadir, archive_format="tar")
        return untar_fpath
    if extract:
        _extract_archive(fpath, datadir, archive_format)
    return fpath


# Keras 2 kept the enqueuers in this module.
from jkeras.utils.enqueuers import (  # noqa: E402
    GeneratorEnqueuer, OrderedEnqueuer, SequenceEnqueuer, get_index, init_pool,
    init_pool_generator, next_sample)

__all__ = ["Sequence", "validate_file", "get_file", "PyDataset"]
