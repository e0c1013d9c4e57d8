"""Tests for jkeras.utils.data_utils: `Sequence` and `get_file` against a local server."""
import hashlib
import io
import os
import tarfile
import zipfile

import pytest

from jkeras.utils import data_utils


@pytest.fixture
def server(http_server):
    return http_server


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# -- Sequence ---------------------------------------------------------------------------

class Squares(data_utils.Sequence):
    def __init__(self, n):  # Keras 2 subclasses often skip super().__init__()
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i * i


def test_sequence_iterates_and_has_defaults():
    seq = Squares(4)
    assert list(seq) == [0, 1, 4, 9]
    assert seq.num_batches == 4
    assert seq.workers == 1 and seq.use_multiprocessing is False
    assert seq.on_epoch_end() is None


def test_sequence_base_methods_must_be_overridden():
    seq = data_utils.Sequence(workers=2)
    assert seq.workers == 2
    with pytest.raises(NotImplementedError):
        len(seq)
    with pytest.raises(NotImplementedError):
        seq[0]


# -- hashing ----------------------------------------------------------------------------

def test_hash_file_and_validate_file(tmp_path):
    path = tmp_path / "f.bin"
    data = b"jkeras" * 20000
    path.write_bytes(data)
    assert data_utils._hash_file(path, "sha256", chunk_size=1000) == sha256(data)
    assert data_utils._hash_file(path, "md5") == hashlib.md5(data).hexdigest()
    assert data_utils.validate_file(path, sha256(data))  # 64 characters: sha256
    assert data_utils.validate_file(path, hashlib.md5(data).hexdigest())  # 32: md5
    assert not data_utils.validate_file(path, "0" * 64)
    with pytest.raises(ValueError, match="hash_algorithm"):
        data_utils.validate_file(path, sha256(data), algorithm="sha1")


# -- get_file ---------------------------------------------------------------------------

def test_get_file_downloads_once_into_cache(server, tmp_path):
    (server.root / "data.txt").write_bytes(b"hello")
    cache = tmp_path / "cache"
    path = data_utils.get_file("data.txt", server.url + "data.txt", cache_dir=str(cache),
                               file_hash=sha256(b"hello"))
    assert path == os.path.join(str(cache), "datasets", "data.txt")
    assert open(path, "rb").read() == b"hello"
    again = data_utils.get_file("data.txt", server.url + "data.txt", cache_dir=str(cache),
                                file_hash=sha256(b"hello"))
    assert again == path
    assert server.requests == ["/data.txt"]
    assert os.listdir(os.path.dirname(path)) == ["data.txt"]  # no temporary files left


def test_get_file_name_from_url_md5_and_keras_home(server, tmp_path, monkeypatch):
    (server.root / "a.bin").write_bytes(b"abc")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    path = data_utils.get_file(origin=server.url + "a.bin",
                               md5_hash=hashlib.md5(b"abc").hexdigest(),
                               cache_subdir="models")
    assert path == os.path.join(str(tmp_path / "home"), "models", "a.bin")


def test_get_file_bad_download_raises_and_leaves_nothing(server, tmp_path):
    (server.root / "data.txt").write_bytes(b"tampered")
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match="hash"):
        data_utils.get_file("data.txt", server.url + "data.txt", cache_dir=str(cache),
                            file_hash=sha256(b"original"))
    assert os.listdir(cache / "datasets") == []


def test_get_file_stale_cache_is_downloaded_again_once(server, tmp_path):
    (server.root / "data.txt").write_bytes(b"good")
    cache = tmp_path / "cache"
    (cache / "datasets").mkdir(parents=True)
    (cache / "datasets" / "data.txt").write_bytes(b"stale")
    path = data_utils.get_file("data.txt", server.url + "data.txt", cache_dir=str(cache),
                               file_hash=sha256(b"good"))
    assert open(path, "rb").read() == b"good"
    assert server.requests == ["/data.txt"]

    # A stale cache and a bad server: one more download, then ValueError.
    (cache / "datasets" / "data.txt").write_bytes(b"stale")
    (server.root / "data.txt").write_bytes(b"bad")
    with pytest.raises(ValueError):
        data_utils.get_file("data.txt", server.url + "data.txt", cache_dir=str(cache),
                            file_hash=sha256(b"good"))
    assert server.requests == ["/data.txt", "/data.txt"]


def test_get_file_http_error_leaves_no_partial_file(server, tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(Exception, match="404"):
        data_utils.get_file("missing.txt", server.url + "missing.txt", cache_dir=str(cache))
    assert os.listdir(cache / "datasets") == []


def _tar_bytes(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_get_file_untar_returns_extracted_folder(server, tmp_path):
    archive = _tar_bytes({"pkg/a.txt": b"A", "pkg/sub/b.txt": b"B"})
    (server.root / "pkg.tar.gz").write_bytes(archive)
    cache = tmp_path / "cache"
    path = data_utils.get_file("pkg", server.url + "pkg.tar.gz", untar=True,
                               cache_dir=str(cache), file_hash=sha256(archive))
    assert path == os.path.join(str(cache), "datasets", "pkg")
    assert open(os.path.join(path, "sub", "b.txt"), "rb").read() == b"B"
    assert os.path.exists(path + ".tar.gz")


def test_get_file_extract_zip_returns_archive(server, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("folder/x.txt", "X")
    (server.root / "z.zip").write_bytes(buf.getvalue())
    cache = tmp_path / "cache"
    path = data_utils.get_file("z.zip", server.url + "z.zip", extract=True,
                               cache_dir=str(cache))
    assert path == os.path.join(str(cache), "datasets", "z.zip")
    assert (cache / "datasets" / "folder" / "x.txt").read_text() == "X"


def test_extraction_skips_members_escaping_the_folder(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in ("ok.txt", "../evil.txt", str(tmp_path / "abs_evil.txt")):
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
        link = tarfile.TarInfo("link_out")
        link.type = tarfile.SYMTYPE
        link.linkname = "../../outside"
        tar.addfile(link)
    tar_path = tmp_path / "a.tar"
    tar_path.write_bytes(buf.getvalue())
    target = tmp_path / "out"
    with pytest.warns(UserWarning, match="unsafe"):
        assert data_utils._extract_archive(tar_path, target)
    assert (target / "ok.txt").exists()
    assert not (tmp_path / "evil.txt").exists()
    assert not (tmp_path / "abs_evil.txt").exists()
    assert not os.path.lexists(target / "link_out")

    zip_path = tmp_path / "a.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        zf.writestr("fine.txt", "ok")
        zf.writestr("../zip_evil.txt", "no")
    with pytest.warns(UserWarning, match="unsafe"):
        assert data_utils._extract_archive(zip_path, target)
    assert (target / "fine.txt").exists()
    assert not (tmp_path / "zip_evil.txt").exists()


def test_extract_archive_rejects_non_archives(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("not an archive")
    assert data_utils._extract_archive(path, tmp_path / "o") is False
    assert data_utils._extract_archive(path, tmp_path / "o", archive_format=None) is False


def test_get_file_requires_origin():
    with pytest.raises(ValueError, match="origin"):
        data_utils.get_file("x")
