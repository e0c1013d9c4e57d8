"""Each script of examples/ runs to its end against small datasets in the real file
formats, served from 127.0.0.1 (the datasets' and the applications' download URLs point
there); `fit` is capped at one epoch, as in test_seeds, so that a script runs in seconds.
The scripts' text never changes; scripts with command-line arguments are given small
sizes, and `get_file` downloads from TensorFlow's data bucket are sent to the same server.
"""
import hashlib
import io
import json
import os
import pickle
import runpy
import tarfile
import zipfile

import numpy as np
import pytest

import jkeras
from jkeras.applications import vgg16

pytestmark = pytest.mark.slow  # a few seconds to half a minute each

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(REPO, "examples")


def write_mnist(root, rng, train=200, test=60):
    """`mnist.npz` as Keras publishes it: uint8 images (N, 28, 28), uint8 labels (N,)."""
    def split(n):
        return (rng.integers(0, 256, (n, 28, 28)).astype("uint8"),
                np.arange(n, dtype="uint8") % 10)
    (x_train, y_train), (x_test, y_test) = split(train), split(test)
    np.savez(root / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test,
             y_test=y_test)


def write_imdb(root, rng, train=64, test=32):
    """`imdb.npz` (object arrays of word-index lists) and `imdb_word_index.json`."""
    def split(n):
        reviews = np.empty(n, dtype=object)
        for i in range(n):
            reviews[i] = [int(w) for w in rng.integers(1, 30000, rng.integers(5, 60))]
        return reviews, (np.arange(n) % 2).astype("int64")
    (x_train, y_train), (x_test, y_test) = split(train), split(test)
    np.savez(root / "imdb.npz", x_train=x_train, y_train=y_train, x_test=x_test,
             y_test=y_test)
    word_index = {f"w{i}": i for i in range(1, 100)}
    (root / "imdb_word_index.json").write_text(json.dumps(word_index))


def write_cifar10(root, rng, per_batch=20):
    """`cifar-10-python.tar.gz`: pickled batches of uint8 rows (N, 3072) and labels."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            batch = {b"data": rng.integers(0, 256, (per_batch, 3072)).astype("uint8"),
                     b"labels": [int(v) for v in rng.integers(0, 10, per_batch)]}
            payload = pickle.dumps(batch, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    (root / "cifar-10-python.tar.gz").write_bytes(buffer.getvalue())


@pytest.fixture
def served(http_server, monkeypatch, tmp_path):
    """Datasets on 127.0.0.1, an empty Keras cache, `fit` capped at one epoch."""
    rng = np.random.default_rng(0)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("JKERAS_DATASETS_ORIGIN", http_server.url)
    from jkeras.datasets import cifar10
    monkeypatch.setattr(cifar10, "ORIGIN", http_server.url)
    write_mnist(http_server.root, rng)
    write_imdb(http_server.root, rng)
    write_cifar10(http_server.root, rng)
    fit = jkeras.Model.fit

    def one_epoch(self, *args, **kwargs):
        kwargs["epochs"] = 1
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(jkeras.Model, "fit", one_epoch)
    monkeypatch.chdir(tmp_path)
    return http_server


def run_example(name):
    return runpy.run_path(os.path.join(EXAMPLES, name), run_name="__main__")


@pytest.mark.parametrize("name", ["mnist_mlp.py", "mnist_cnn.py", "mnist_siamese.py",
                                  "imdb_lstm.py", "imdb_cnn.py"])
def test_example_trains_on_served_data(name, served):
    ns = run_example(name)
    model = ns["model"]
    assert model.history.history["loss"] and np.isfinite(model.history.history["loss"]).all()
    assert "/mnist.npz" in served.requests or "/imdb.npz" in served.requests


def test_cifar10_resnet_example(served):
    ns = run_example("cifar10_resnet.py")
    assert len(ns["model"].layers) > 60  # ResNet20: 19 convolutions, their BN and adds
    assert np.isfinite(ns["scores"]).all()
    assert "/cifar-10-python.tar.gz" in served.requests


def test_stateful_lstm_example(served):
    ns = run_example("stateful_lstm.py")
    assert ns["predicted"].shape == ns["y_test"].shape
    assert np.isfinite(ns["predicted"]).all()


def test_vgg16_bottleneck_features_example(served, monkeypatch):
    # The published notop file (58 MB) is stood in for by one of the same layout, written
    # from a jkeras VGG16 and served where Keras's URL points, its hash patched.
    name = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    folder = served.root / "vgg16"
    folder.mkdir()
    vgg16.VGG16(weights=None, include_top=False).save_weights(str(folder / name))
    monkeypatch.setattr(vgg16, "BASE_WEIGHTS_PATH", f"{served.url}vgg16/")
    monkeypatch.setitem(vgg16.WEIGHTS_HASHES, name,
                        hashlib.md5((folder / name).read_bytes()).hexdigest())
    ns = run_example("vgg16_bottleneck_features.py")
    assert ns["bottleneck_train"].shape == (100, 512)
    assert f"/vgg16/{name}" in served.requests
    assert "/cifar-10-python.tar.gz" in served.requests


TF_DATA_ORIGIN = "http://storage.googleapis.com/download.tensorflow.org/data/"

FRA_PAIRS = [("Go.", "Va !"), ("Hi.", "Salut !"), ("Run!", "Cours\u00a0!"),
             ("Wow!", "\u00c7a alors\u00a0!"), ("Fire!", "Au feu !"),
             ("Help!", "\u00c0 l'aide\u00a0!"), ("Stop!", "Arr\u00eate-toi !"),
             ("Wait!", "Attends !"), ("I see.", "Je comprends."), ("I try.", "J'essaye."),
             ("I won!", "J'ai gagn\u00e9 !"), ("Oh no!", "Oh non !")]


def write_fra_eng(root):
    """`fra-eng.zip` as published: `fra.txt` (English, tab, French, tab, attribution per
    line, UTF-8) and `_about.txt` at the top of the archive."""
    lines = [f"{en}\t{fr}\tCC-BY 2.0 (France) Attribution: tatoeba.org #{i} (x) & #{i + 1} (y)"
             for i, (en, fr) in enumerate(FRA_PAIRS * 4)]
    with zipfile.ZipFile(root / "fra-eng.zip", "w") as archive:
        archive.writestr("_about.txt", "Tab-delimited Bilingual Sentence Pairs\n")
        archive.writestr("fra.txt", "\n".join(lines) + "\n")


@pytest.fixture
def tf_data_served(served, monkeypatch):
    """The examples' `get_file` downloads from TensorFlow's data bucket go to 127.0.0.1."""
    get_file = jkeras.utils.get_file

    def local_get_file(fname=None, origin=None, *args, **kwargs):
        if origin is not None and origin.replace("https:", "http:").startswith(TF_DATA_ORIGIN):
            origin = served.url + origin.replace("https:", "http:")[len(TF_DATA_ORIGIN):]
        return get_file(fname, origin, *args, **kwargs)

    monkeypatch.setattr(jkeras.utils, "get_file", local_get_file)
    return served


def test_lstm_seq2seq_example(tf_data_served, monkeypatch):
    write_fra_eng(tf_data_served.root)
    monkeypatch.setattr("sys.argv", ["lstm_seq2seq.py", "--num-samples", "30",
                                     "--latent-dim", "32", "--decode", "3"])
    ns = run_example("lstm_seq2seq.py")
    assert "/fra-eng.zip" in tf_data_served.requests
    assert ns["input_texts"][:3] == ["Go.", "Hi.", "Run!"]
    assert ns["target_texts"][0] == "\tVa !\n"
    assert ns["encoder_input_data"].shape == (30, 6, len(ns["input_chars"]))
    assert np.isfinite(ns["model"].history.history["loss"]).all()
    assert len(ns["translations"]) == 3
    assert all(len(t) <= ns["max_decoder_seq_length"] for t in ns["translations"])
    # the inference models share the trained layers: their first step is the training
    # model's first step
    encoder_input, decoder_input = ns["encoder_input_data"][:2], ns["decoder_input_data"][:2]
    states = ns["encoder_model"].predict(encoder_input, verbose=0)
    first_step = ns["decoder_model"].predict([decoder_input[:, :1]] + states, verbose=0)[0]
    np.testing.assert_allclose(first_step[:, 0],
                               ns["model"].predict([encoder_input, decoder_input],
                                                   verbose=0)[:, 0], atol=1e-5)


def test_transformer_gpt_example(tf_data_served, monkeypatch):
    lines = ["First Citizen:", "Before we proceed any further, hear me speak.", "",
             "All:", "Speak, speak.", ""]
    (tf_data_served.root / "shakespeare.txt").write_text("\n".join(lines * 8),
                                                         encoding="utf-8")
    monkeypatch.setattr("sys.argv", ["transformer_gpt.py", "--maxlen", "16", "--embed-dim", "16",
                                     "--num-heads", "2", "--batch-size", "16",
                                     "--generate", "5"])
    ns = run_example("transformer_gpt.py")
    assert "/shakespeare.txt" in tf_data_served.requests
    assert ns["x_train"].shape[1:] == (16,)
    assert (ns["y_train"][:, :-1] == ns["x_train"][:, 1:]).all()
    assert np.isfinite(ns["model"].history.history["loss"]).all()
    assert len(ns["generated"]) == 5 and set(ns["generated"]) <= set(ns["chars"])
    # causal: changing the last character leaves the logits of every earlier position alone
    window = ns["x_train"][:1].copy()
    changed = window.copy()
    changed[0, -1] = (changed[0, -1] + 1) % len(ns["chars"])
    logits, changed_logits = ns["model"].predict(np.concatenate([window, changed]), verbose=0)
    np.testing.assert_allclose(logits[:-1], changed_logits[:-1], atol=1e-5)
    assert np.abs(logits[-1] - changed_logits[-1]).max() > 1e-4


def test_variational_autoencoder_example(served, monkeypatch, tmp_path):
    monkeypatch.setattr("sys.argv", ["variational_autoencoder.py"])
    ns = run_example("variational_autoencoder.py")
    vae = ns["vae"]
    history = vae.history.history
    assert np.isfinite(history["loss"]).all() and np.isfinite(history["val_loss"]).all()
    assert len(vae.losses) == 1 and (tmp_path / "vae_mlp_mnist.h5").exists()
    assert "/mnist.npz" in served.requests
    # `-w` loads the trained weights into a fresh VAE instead of training it
    monkeypatch.setattr("sys.argv", ["variational_autoencoder.py", "-m", "-w",
                                     "vae_mlp_mnist.h5"])
    again = run_example("variational_autoencoder.py")
    for a, b in zip(vae.get_weights(), again["vae"].get_weights()):
        np.testing.assert_array_equal(a, b)


def _random_image(path, height, width, seed=0):
    from PIL import Image
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3))
    Image.fromarray(pixels.astype("uint8")).save(path)


def _stand_in(names, filters=4):
    """A small convnet with the application's layer names, for the examples that only read
    some layers' outputs: `fn(input_tensor=None, ...)` like the application builders."""
    from jkeras import layers
    from jkeras.utils.layer_utils import get_source_inputs

    def build(input_tensor=None, weights=None, include_top=False, **kwargs):
        x = inputs = input_tensor if input_tensor is not None else layers.Input((None, None, 3))
        for i, name in enumerate(names):
            if i and name.endswith("conv1"):
                x = layers.MaxPooling2D(2, name=name.replace("conv1", "pool"))(x)
            x = layers.Conv2D(filters, 3, padding="same", activation="relu",
                              bias_initializer="ones", name=name)(x)
        return jkeras.Model(get_source_inputs(inputs), x)
    return build


def test_deep_dream_example(monkeypatch, tmp_path):
    from jkeras.applications import inception_v3
    build = inception_v3.InceptionV3
    monkeypatch.setattr(inception_v3, "InceptionV3",
                        lambda **kwargs: build(**dict(kwargs, weights=None)))
    _random_image(tmp_path / "base.png", 150, 150)
    monkeypatch.setattr("sys.argv", ["deep_dream.py", str(tmp_path / "base.png"),
                                     str(tmp_path / "dream")])
    ns = run_example("deep_dream.py")
    assert (tmp_path / "dream.png").exists()
    assert [tuple(s) for s in ns["successive_shapes"]] == [(76, 76), (107, 107), (150, 150)]
    assert not np.allclose(ns["img"], ns["original_img"])


def test_neural_style_transfer_example(monkeypatch, tmp_path):
    from jkeras.applications import vgg19
    monkeypatch.setattr(vgg19, "VGG19", _stand_in(
        ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1",
         "block5_conv2"]))
    _random_image(tmp_path / "base.png", 400, 40, seed=1)  # generated at 400 x 40
    _random_image(tmp_path / "style.png", 30, 30, seed=2)
    monkeypatch.setattr("sys.argv", ["neural_style_transfer.py", str(tmp_path / "base.png"),
                                     str(tmp_path / "style.png"), str(tmp_path / "out"),
                                     "--iter", "1"])
    ns = run_example("neural_style_transfer.py")
    assert (tmp_path / "out_at_iteration_0.png").exists()
    start = ns["eval_loss_and_grads"](ns["preprocess_image"](str(tmp_path / "base.png")))[0]
    assert np.isfinite(ns["min_val"]) and ns["min_val"] < start  # L-BFGS lowered the loss


def test_conv_filter_visualization_example(monkeypatch, tmp_path):
    from jkeras.applications import vgg16
    monkeypatch.setattr(vgg16, "VGG16", _stand_in(["block1_conv1", "block5_conv1"],
                                                  filters=2))
    monkeypatch.chdir(tmp_path)
    run_example("conv_filter_visualization.py")
    assert (tmp_path / "vgg_block5_conv1_1x1.png").exists()
