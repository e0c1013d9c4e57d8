"""Tests for jkeras.datasets: every loader against small files of the real formats,
served from a local HTTP server (127.0.0.1 only)."""
import gzip
import importlib
import io
import json
import pickle
import tarfile

import numpy as np
import pytest

from jkeras import _config
from jkeras.datasets import (_fetch, boston_housing, cifar10, cifar100, fashion_mnist, imdb,
                             mnist, reuters)


@pytest.fixture
def server(http_server, tmp_path, monkeypatch):
    """The local server, with the origin override cleared and the Keras cache in a
    temporary KERAS_HOME."""
    monkeypatch.delenv(_fetch.ORIGIN_ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return http_server


def point_at(monkeypatch, module, server):
    monkeypatch.setattr(module, "ORIGIN", server.url)


def save_object_npz(path, **arrays):
    """An .npz whose sequence arrays are 1D object arrays of lists, like Keras's files."""
    packed = {}
    for key, value in arrays.items():
        if isinstance(value, list):
            packed[key] = _fetch.object_array(value)
        else:
            packed[key] = np.asarray(value)
    np.savez(path, **packed)


# -- origins and hashes -----------------------------------------------------------------

def test_resolve_origin_precedence(monkeypatch):
    default = "https://example.invalid/data/"
    monkeypatch.delenv(_fetch.ORIGIN_ENV_VAR, raising=False)
    assert _fetch.resolve_origin(default, default) == (default, True)
    monkeypatch.setenv(_fetch.ORIGIN_ENV_VAR, "http://127.0.0.1:1/env")
    assert _fetch.resolve_origin(default, default) == ("http://127.0.0.1:1/env/", False)
    assert _fetch.resolve_origin("http://127.0.0.1:2/", default) == ("http://127.0.0.1:2/",
                                                                     False)
    assert _fetch.resolve_origin(default, default, origin="http://127.0.0.1:3") == \
        ("http://127.0.0.1:3/", False)


def test_hash_is_checked_only_for_the_official_origin(monkeypatch):
    calls = []
    monkeypatch.setattr(_fetch, "get_file", lambda *a, **k: calls.append(k) or "p")
    monkeypatch.delenv(_fetch.ORIGIN_ENV_VAR, raising=False)
    _fetch.fetch("mnist.npz", "mnist.npz", mnist.DEFAULT_ORIGIN, mnist.DEFAULT_ORIGIN,
                 mnist.FILE_HASH)
    _fetch.fetch("mnist.npz", "mnist.npz", mnist.DEFAULT_ORIGIN, mnist.DEFAULT_ORIGIN,
                 mnist.FILE_HASH, origin="http://127.0.0.1:9/")
    assert calls[0]["file_hash"] == mnist.FILE_HASH
    assert calls[0]["origin"] == mnist.DEFAULT_ORIGIN + "mnist.npz"
    assert calls[1]["file_hash"] is None
    assert calls[1]["origin"] == "http://127.0.0.1:9/mnist.npz"


def test_restricted_unpickler_refuses_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    arr = np.empty(1, dtype=object)
    arr[0] = Evil()
    np.savez(tmp_path / "evil.npz", x=arr)
    with pytest.raises(pickle.UnpicklingError, match="builtins.print"):
        _fetch.load_npz(tmp_path / "evil.npz")


# -- image datasets ---------------------------------------------------------------------

def test_mnist(server, monkeypatch, rng):
    arrays = {"x_train": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
              "y_train": rng.integers(0, 10, 5).astype(np.uint8),
              "x_test": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
              "y_test": rng.integers(0, 10, 2).astype(np.uint8)}
    np.savez(server.root / "mnist.npz", **arrays)
    point_at(monkeypatch, mnist, server)
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    for got, key in [(x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test"),
                     (y_test, "y_test")]:
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[key])
    mnist.load_data()
    assert server.requests == ["/mnist.npz"]  # the second call used the cache


def test_fashion_mnist_via_env_var(server, monkeypatch, rng):
    def write(name, header, payload):
        with gzip.open(server.root / name, "wb") as f:
            f.write(bytes(header) + payload.tobytes())

    x_train = rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)
    x_test = rng.integers(0, 256, (2, 28, 28), dtype=np.uint8)
    write("train-labels-idx1-ubyte.gz", range(8), np.array([1, 2, 3], np.uint8))
    write("train-images-idx3-ubyte.gz", range(16), x_train)
    write("t10k-labels-idx1-ubyte.gz", range(8), np.array([9, 0], np.uint8))
    write("t10k-images-idx3-ubyte.gz", range(16), x_test)
    monkeypatch.setenv(_fetch.ORIGIN_ENV_VAR, server.url)
    (xtr, ytr), (xte, yte) = fashion_mnist.load_data()
    np.testing.assert_array_equal(xtr, x_train)
    np.testing.assert_array_equal(ytr, [1, 2, 3])
    np.testing.assert_array_equal(xte, x_test)
    np.testing.assert_array_equal(yte, [9, 0])


def cifar_tarball(path, folder, batches, protocol):
    with tarfile.open(path, "w:gz") as tar:
        for name, content in batches.items():
            data = pickle.dumps(content, protocol=protocol)
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_cifar10(server, monkeypatch, rng):
    batches, train_data, train_labels = {}, [], []
    for i in range(1, 6):
        data = rng.integers(0, 256, (2, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, 2)]
        batches[f"data_batch_{i}"] = {b"data": data, b"labels": labels}
        train_data.append(data)
        train_labels += labels
    test_data = rng.integers(0, 256, (3, 3072), dtype=np.uint8)
    batches["test_batch"] = {b"data": test_data, b"labels": [4, 5, 6]}
    cifar_tarball(server.root / "cifar-10-python.tar.gz", "cifar-10-batches-py", batches,
                  protocol=2)

    (x_train, y_train), (x_test, y_test) = cifar10.load_data(origin=server.url)
    assert x_train.shape == (10, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (10, 1) and y_train.dtype == np.uint8
    np.testing.assert_array_equal(y_train[:, 0], train_labels)
    np.testing.assert_array_equal(y_test[:, 0], [4, 5, 6])
    assert y_test.dtype == np.uint8
    # Each row holds the R, G and B planes of 32x32 pixels in turn.
    flat = np.concatenate(train_data)
    assert x_train[7, 3, 5, 2] == flat[7, 2 * 1024 + 3 * 32 + 5]
    np.testing.assert_array_equal(x_test[1, :, :, 0], test_data[1, :1024].reshape(32, 32))

    _config.set_image_data_format("channels_first")
    try:
        (x_train, _), _ = cifar10.load_data(origin=server.url)
    finally:
        _config.set_image_data_format("channels_last")
    assert x_train.shape == (10, 3, 32, 32)
    assert server.requests == ["/cifar-10-python.tar.gz"]


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100(server, monkeypatch, rng, label_mode):
    def batch(n):
        return {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                b"fine_labels": list(range(n)), b"coarse_labels": [19 - k for k in range(n)]}

    cifar_tarball(server.root / "cifar-100-python.tar.gz", "cifar-100-python",
                  {"train": batch(4), "test": batch(2)}, protocol=5)
    point_at(monkeypatch, cifar100, server)
    (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode=label_mode)
    assert x_train.shape == (4, 32, 32, 3) and x_test.shape == (2, 32, 32, 3)
    expected = [0, 1, 2, 3] if label_mode == "fine" else [19, 18, 17, 16]
    np.testing.assert_array_equal(y_train[:, 0], expected)
    assert y_test.shape == (2, 1)
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data(label_mode="medium")


# -- text and tabular datasets: numbers checked against Keras's own loaders -------------

def keras_loader(monkeypatch, module_name, local_path):
    """Keras's loader, reading our local file instead of downloading."""
    module = importlib.import_module(f"keras.src.datasets.{module_name}")
    monkeypatch.setattr(module, "get_file", lambda *a, **k: str(local_path))
    return module


def assert_same_split(got, expected):
    (gx, gy), (ex, ey) = got, expected
    assert len(gx) == len(ex)
    assert [list(s) for s in gx] == [list(s) for s in ex]
    np.testing.assert_array_equal(gy, ey)


IMDB_TRAIN = [[1, 5, 2], [3, 3, 9, 4, 1], [7], [2, 2, 6, 8], [4, 1, 1, 1, 1, 1]]
IMDB_TEST = [[9, 9, 1], [5, 6], [8, 1, 2, 3, 4, 5], [1]]


@pytest.mark.parametrize("kwargs", [
    {},
    {"num_words": 6, "skip_top": 1},
    {"maxlen": 5, "seed": 3},
    {"start_char": None, "oov_char": None, "num_words": 8, "index_from": 0},
])
def test_imdb_matches_keras(server, monkeypatch, kwargs):
    save_object_npz(server.root / "imdb.npz", x_train=IMDB_TRAIN, y_train=[1, 0, 1, 0, 1],
                    x_test=IMDB_TEST, y_test=[0, 0, 1, 1])
    point_at(monkeypatch, imdb, server)
    got = imdb.load_data(**kwargs)
    ref = keras_loader(monkeypatch, "imdb", server.root / "imdb.npz").load_data(**kwargs)
    assert got[0][0].dtype == object and got[0][0].ndim == 1
    assert_same_split(got[0], ref[0])
    assert_same_split(got[1], ref[1])


def test_imdb_and_reuters_word_index(server, monkeypatch):
    words = {"the": 1, "cat": 2}
    (server.root / "imdb_word_index.json").write_text(json.dumps(words))
    (server.root / "reuters_word_index.json").write_text(json.dumps(words))
    point_at(monkeypatch, imdb, server)
    point_at(monkeypatch, reuters, server)
    assert imdb.get_word_index() == words
    assert reuters.get_word_index() == words
    assert len(reuters.get_label_names()) == 46


@pytest.mark.parametrize("kwargs", [{}, {"test_split": 0.5, "num_words": 5, "seed": 1},
                                    {"maxlen": 4}])
def test_reuters_matches_keras(server, monkeypatch, kwargs):
    save_object_npz(server.root / "reuters.npz", x=IMDB_TRAIN + IMDB_TEST,
                    y=[3, 1, 4, 1, 5, 9, 2, 6, 5])
    point_at(monkeypatch, reuters, server)
    got = reuters.load_data(**kwargs)
    ref = keras_loader(monkeypatch, "reuters", server.root / "reuters.npz").load_data(**kwargs)
    assert_same_split(got[0], ref[0])
    assert_same_split(got[1], ref[1])


def test_boston_housing_matches_keras(server, monkeypatch, rng):
    x = rng.normal(size=(20, 13))
    y = rng.normal(size=20)
    np.savez(server.root / "boston_housing.npz", x=x, y=y)
    point_at(monkeypatch, boston_housing, server)
    got = boston_housing.load_data(test_split=0.25)
    ref = keras_loader(monkeypatch, "boston_housing",
                       server.root / "boston_housing.npz").load_data(test_split=0.25)
    for g, r in zip(got[0] + got[1], ref[0] + ref[1]):
        np.testing.assert_array_equal(g, r)
    assert got[0][0].shape == (15, 13)
    with pytest.raises(ValueError, match="test_split"):
        boston_housing.load_data(test_split=1.0)
