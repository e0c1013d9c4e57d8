"""The seed notes' Keras code runs on jkeras with only its imports changed.

The code blocks of ../shared/seeds/*.txt are kept verbatim in
tests/integration/seed_snippets.py. Each test rewrites a block's imports (`keras` ->
`jkeras`, nothing else) and `exec`s it in a namespace that a short prelude fills with only
what the block uses but never defines: the note's data, the user's own helpers
(`DataManager`, `mini_XCEPTION`), tensors and models from earlier blocks of the same note.
To keep the suite fast, `fit` is capped at one epoch and two steps per epoch by a patch; the
block's text never changes. Results are compared with real Keras 3 running the same,
unchanged block where it runs there (with training patched out), otherwise with the numbers
Keras 2 gives, worked out in the comments.
"""
import ast
import contextlib
import csv
import glob
import inspect
import linecache
import os
import re
import sys
import types

import numpy as np
import pytest

import jkeras
from tests.integration.seed_snippets import OUTPUTS, SIGNATURES, SKIPPED, SNIPPETS

# every seed snippet: about 70 s; kept out of the default run, CI runs it with -m slow.
pytestmark = pytest.mark.slow

# ----------------------------------------------------------------------------- running a block

_FROM = re.compile(r"^(\s*)from\s+(?:tensorflow\.)?keras((?:\.\w+)*)\s+import\s+(.*)$")
_IMPORT = re.compile(r"^(\s*)import\s+(?:tensorflow\.)?keras((?:\.\w+)*)(\s+as\s+\w+)?\s*$")


def jkeras_imports(source):
    """`source` with its `keras` / `tensorflow.keras` imports pointed at jkeras; only those
    lines change, and every name the block binds stays the same."""
    lines = []
    for line in source.split("\n"):
        match = _FROM.match(line)
        if match:
            line = f"{match[1]}from jkeras{match[2]} import {match[3]}"
        elif _IMPORT.match(line):
            match = _IMPORT.match(line)
            if match[3]:
                line = f"{match[1]}import jkeras{match[2]}{match[3]}"
            elif not match[2]:
                line = f"{match[1]}import jkeras as keras"
            else:
                raise ValueError(f"Cannot rewrite {line!r} without renaming what it binds.")
        lines.append(line)
    return "\n".join(lines)


def _compiled(source, name):
    """The block as code; a trailing expression's value is kept in `__last__`, as a REPL
    would show it (blocks such as `keras.callbacks.EarlyStopping(...)` are one call)."""
    filename = f"<seed {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    tree = ast.parse(source, filename)
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1]
        tree.body[-1] = ast.copy_location(
            ast.Assign(targets=[ast.Name("__last__", ast.Store())], value=last.value), last)
        ast.fix_missing_locations(tree)
    return compile(tree, filename, "exec")


def run_seed(name, ns=None, keras_module=None):
    """Runs block `name` in `ns`: on jkeras, or unchanged on real Keras when
    `keras_module` is given. Returns the namespace."""
    source = SNIPPETS[name] if keras_module is not None else jkeras_imports(SNIPPETS[name])
    ns = {} if ns is None else ns
    ns.setdefault("__name__", "__seed__")
    exec(_compiled(source, name), ns)
    return ns


@contextlib.contextmanager
def no_training(K):
    """For preludes replaying an earlier block and for reference runs on Keras 3: only the
    models are needed, so `fit`, `fit_generator` and `evaluate` do nothing."""
    with pytest.MonkeyPatch.context() as mp:
        for method in ("fit", "fit_generator", "evaluate"):
            if hasattr(K.Model, method):
                mp.setattr(K.Model, method, lambda self, *args, **kwargs: None)
        yield


@pytest.fixture(autouse=True)
def _in_tmp_dir(tmp_path, monkeypatch):
    """Blocks write files (`model.h5`, `training.log`, `output/`) into the working folder."""
    monkeypatch.chdir(tmp_path)


def _num_samples(x):
    if isinstance(x, dict):
        x = next(iter(x.values()))
    if isinstance(x, (list, tuple)):
        x = x[0]
    return len(x)


@pytest.fixture
def short_fit(monkeypatch):
    """Caps jkeras `fit` (and so `fit_generator`) at 1 epoch and 2 steps per epoch (on
    arrays too: `steps_per_epoch=2` when they hold more batches); records the epochs each
    call asked for."""
    original = jkeras.Model.fit
    signature = inspect.signature(original)
    asked = []

    def capped_fit(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        arguments = bound.arguments
        asked.append(arguments.get("epochs", 1))
        arguments["epochs"] = min(arguments.get("epochs", 1), 1)
        for key in ("steps_per_epoch", "validation_steps"):
            steps = arguments.get(key)
            if steps is not None and steps > 2:
                arguments[key] = type(steps)(2)
        x = arguments.get("x")
        if arguments.get("steps_per_epoch") is None and isinstance(x, (np.ndarray, list,
                                                                       tuple, dict)):
            if _num_samples(x) > 2 * (arguments.get("batch_size") or 32):
                arguments["steps_per_epoch"] = 2
        return original(*bound.args, **bound.kwargs)

    monkeypatch.setattr(jkeras.Model, "fit", capped_fit)
    return asked


def known_failure(reason):
    """A block jkeras cannot run yet (see the reason); strict, so a fix shows up as XPASS."""
    return pytest.mark.xfail(reason=reason, strict=True)


SLOW = pytest.mark.slow        # for repeats of a block that the default run already has


# ----------------------------------------------------------------------------- prelude helpers

def names(K, *wanted):
    """Keras classes a block uses but whose import sits elsewhere in its note."""
    found = {}
    for name in wanted:
        for module in (K.layers, K.models, K.callbacks, K.optimizers, K.regularizers):
            if hasattr(module, name):
                found[name] = getattr(module, name)
                break
        else:
            raise LookupError(name)
    return found


def rand(*shape, seed=0):
    return np.random.default_rng(seed).random(shape).astype("float32")


def ints(high, *shape, seed=0):
    return np.random.default_rng(seed).integers(0, high, shape)


def one_hot(num, classes, seed=0):
    return np.eye(classes, dtype="float32")[ints(classes, num, seed=seed)]


def structure(model):
    """What two Keras versions must agree on: input and output shapes, parameter count."""
    return ([tuple(t.shape) for t in model.inputs], [tuple(t.shape) for t in model.outputs],
            int(model.count_params()))


def finite(values):
    return bool(np.all(np.isfinite(np.asarray(values, dtype="float64"))))


def write_pngs(folder, count, size=(32, 32), seed=0):
    from PIL import Image
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    for i in range(count):
        pixels = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(os.path.join(folder, f"img_{i:03d}.png"))


def test_import_rewrite_changes_only_import_lines():
    for name, source in SNIPPETS.items():
        for old, new in zip(source.split("\n"), jkeras_imports(source).split("\n")):
            if old != new:
                assert old.lstrip().startswith(("import ", "from ")), (name, old)
                assert "jkeras" in new and "keras" in old
    assert jkeras_imports("import keras") == "import jkeras as keras"
    assert jkeras_imports("import keras.backend as K") == "import jkeras.backend as K"
    assert jkeras_imports("from tensorflow.keras.models import load_model") == \
        "from jkeras.models import load_model"


def test_every_block_is_run_or_skipped_with_a_reason():
    with open(__file__, encoding="utf-8") as f:
        this_file = f.read()
    assert not set(SNIPPETS) & set(SKIPPED)
    missing = [name for name in SNIPPETS if f'"{name}"' not in this_file]
    assert not missing, f"blocks no test runs: {missing}"
    assert all(reason for reason, _ in SKIPPED.values())


# ============================================================================= Sequential MLPs

MLP_SOFTMAX_PARAMS = (20 * 64 + 64) + (64 * 64 + 64) + (64 * 10 + 10)      # 6,154
MLP_BINARY_PARAMS = (20 * 64 + 64) + (64 * 64 + 64) + (64 + 1)             # 5,569


@pytest.mark.parametrize("name", ["s001_01_mlp_softmax",
                                  pytest.param("s004_29_mlp_softmax", marks=SLOW),
                                  pytest.param("s004_30_mlp_to_categorical", marks=SLOW)])
def test_mlp_softmax_with_keras2_sgd(name, short_fit):
    # `SGD(lr=..., decay=...)` is Keras 2 only, so the numbers are Keras 2's.
    ns = run_seed(name)
    model = ns["model"]
    assert structure(model) == ([(None, 20)], [(None, 10)], MLP_SOFTMAX_PARAMS)
    assert short_fit == [20]
    opt = model.optimizer
    assert float(np.asarray(jkeras.backend.get_value(opt.lr))) == pytest.approx(0.01)
    assert float(np.asarray(jkeras.backend.get_value(opt.momentum))) == pytest.approx(0.9)
    assert opt.nesterov is True
    score = ns["score"]
    assert len(score) == 2 and finite(score) and 0.0 <= score[1] <= 1.0


def test_mlp_binary(short_fit):
    ns = run_seed("s001_02_mlp_binary")
    assert structure(ns["model"]) == ([(None, 20)], [(None, 1)], MLP_BINARY_PARAMS)
    assert len(ns["score"]) == 2 and finite(ns["score"])


# conv 3x3x3x32 + 3x3x32x32 + 3x3x32x64 + 3x3x64x64, then 100 -> 98 -> 96 -> 48 -> 46 -> 44
# -> 22, flatten 22*22*64 = 30,976 -> Dense 256 -> Dense 10.
VGG_LIKE_PARAMS = 896 + 9248 + 18496 + 36928 + (30976 * 256 + 256) + (256 * 10 + 10)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["s001_03_vgg_like_cnn", "s004_31_vgg_like_cnn"])
def test_vgg_like_cnn(name, short_fit):
    ns = run_seed(name)
    assert structure(ns["model"]) == ([(None, 100, 100, 3)], [(None, 10)], VGG_LIKE_PARAMS)
    assert np.ndim(ns["score"]) == 0 and finite(ns["score"])     # no metrics: a scalar loss


# ============================================================================= sequence models

def _lstm_prelude(max_features=None):
    ns = dict(x_train=ints(1000, 64, 20, seed=1), y_train=ints(2, 64, 1, seed=2),
              x_test=ints(1000, 16, 20, seed=3), y_test=ints(2, 16, 1, seed=4))
    if max_features is not None:
        ns["max_features"] = max_features
    return ns


@pytest.mark.parametrize("name, vocab", [("s001_04_lstm_classifier", None),
                                         pytest.param("s004_32_lstm_classifier", 1024,
                                                      marks=SLOW)])
def test_lstm_classifier(name, vocab, short_fit):
    ns = run_seed(name, _lstm_prelude(None if vocab else 1000))
    vocab = vocab or 1000
    lstm = 4 * (128 * (256 + 128) + 128)
    assert ns["model"].output_shape == (None, 1)
    assert ns["model"].count_params() == vocab * 256 + lstm + 129
    assert len(ns["score"]) == 2 and finite(ns["score"])


@pytest.mark.parametrize("name", ["s001_05_conv1d_classifier",
                                  pytest.param("s004_33_conv1d_classifier", marks=SLOW)])
def test_conv1d_classifier(name, short_fit):
    ns = dict(x_train=rand(32, 64, 100), y_train=ints(2, 32, 1), x_test=rand(16, 64, 100),
              y_test=ints(2, 16, 1))
    if name.startswith("s001"):
        ns["seq_length"] = 64
    ns = run_seed(name, ns)
    # 3*100*64+64, 3*64*64+64, 3*64*128+128, 3*128*128+128, 128+1
    assert structure(ns["model"]) == ([(None, 64, 100)], [(None, 1)], 105729)
    assert len(ns["score"]) == 2 and finite(ns["score"])


@pytest.mark.slow        # the stateful block below stacks the same three LSTMs
def test_stacked_lstm(short_fit, keras_ref):
    ns = run_seed("s004_34_stacked_lstm")
    with no_training(keras_ref):
        ref = run_seed("s004_34_stacked_lstm", keras_module=keras_ref)
    assert structure(ns["model"]) == structure(ref["model"])
    assert structure(ns["model"])[2] == 6272 + 8320 + 8320 + 330
    assert set(ns["model"].history.history) >= {"loss", "val_loss"}


def test_stateful_stacked_lstm(short_fit):
    # Keras 3 has no `batch_input_shape`; Keras 2 gives (32, 8, 16) -> (32, 10).
    ns = run_seed("s004_35_stateful_stacked_lstm")
    model = ns["model"]
    assert structure(model) == ([(32, 8, 16)], [(32, 10)], 6272 + 8320 + 8320 + 330)
    assert set(model.history.history) >= {"loss", "val_loss"}
    states = [np.asarray(jkeras.backend.get_value(s)) for s in model.layers[0].states]
    assert any(np.abs(s).sum() > 0 for s in states)        # the carry survives the batch


# ============================================================================= functional API

@pytest.mark.parametrize("name", ["s001_06_functional_callable",
                                  "s004_48_functional_callable"])
def test_functional_callable(name, keras_ref):
    ns = run_seed(name)
    ref = run_seed(name, keras_module=keras_ref)
    assert structure(ns["model"]) == structure(ref["model"]) == ([(None, 32)], [(None, 32)],
                                                                 1056)


def _multi_io_prelude(K):
    a1, a2 = K.layers.Input(shape=(8,)), K.layers.Input(shape=(4,))
    b1 = K.layers.Dense(2)(a1)
    b3 = K.layers.Dense(3)(K.layers.concatenate([a1, a2]))
    return dict(Model=K.models.Model, a1=a1, a2=a2, b1=b1, b3=b3)


@pytest.mark.parametrize("name", ["s001_07_multi_io_fragment", "s004_49_multi_io_fragment"])
def test_multi_io_fragment(name, keras_ref):
    ns = run_seed(name, _multi_io_prelude(jkeras))
    ref = run_seed(name, _multi_io_prelude(keras_ref), keras_module=keras_ref)
    assert structure(ns["model"]) == structure(ref["model"])
    out = ns["model"].predict([rand(5, 8), rand(5, 4)], verbose=0)
    assert [o.shape for o in out] == [(5, 2), (5, 3), (5, 3)]
    np.testing.assert_array_equal(out[1], out[2])           # the same tensor, twice


def _dense_model(K, inputs=784):
    """A small functional model: the notes' `model` where a block assumes one."""
    x = K.layers.Input(shape=(inputs,))
    h = K.layers.Dense(64, activation="relu")(x)
    y = K.layers.Dense(10, activation="softmax")(h)
    return K.models.Model(inputs=x, outputs=y)


def test_get_config_from_config(keras_ref):
    ns = run_seed("s004_02_get_config_from_config",
                  dict(model=_dense_model(jkeras), **names(jkeras, "Model", "Sequential")))
    # Keras 3 refuses the snippet's last line (Sequential.from_config of a functional
    # config, which Keras 2 accepts), so the reference rebuilds with Model.from_config.
    theirs = _dense_model(keras_ref)
    ref = keras_ref.Model.from_config(theirs.get_config())
    assert type(ns["model"]).__name__ == "Sequential"
    assert structure(ns["model"]) == structure(ref)


def test_json_roundtrip(keras_ref):
    original = _dense_model(jkeras)
    ns = run_seed("s004_03_json_roundtrip", dict(model=original))
    ref = run_seed("s004_03_json_roundtrip", dict(model=_dense_model(keras_ref)),
                   keras_module=keras_ref)
    assert structure(ns["model"]) == structure(ref["model"]) == structure(original)
    assert ns["model"] is not original


def test_yaml_roundtrip():
    # Keras 3 dropped `to_yaml`; Keras 2 rebuilds the same architecture from the YAML.
    import yaml
    original = _dense_model(jkeras)
    ns = run_seed("s004_04_yaml_roundtrip", dict(model=original))
    assert structure(ns["model"]) == structure(original)
    assert [type(layer).__name__ for layer in ns["model"].layers] == \
        [type(layer).__name__ for layer in original.layers]
    assert "config" in yaml.safe_load(ns["yaml_string"])


def _functional_guide(K, keras_module=None):
    """Blocks 36 -> 37 -> 38 of the functional guide, one namespace, training patched out."""
    ns = dict(data=rand(64, 784), labels=one_hot(64, 10))
    with no_training(K):                     # block 36's `fit(data, labels)`: tested below
        run_seed("s004_36_functional_dense", ns, keras_module=keras_module)
    run_seed("s004_37_model_is_callable", ns, keras_module=keras_module)
    run_seed("s004_38_time_distributed_model", ns, keras_module=keras_module)
    return ns


def test_model_is_callable_and_time_distributed(keras_ref):
    ns, ref = _functional_guide(jkeras), _functional_guide(keras_ref, keras_ref)
    assert tuple(ns["y"].shape) == tuple(ref["y"].shape) == (None, 10)
    assert tuple(ns["processed_sequences"].shape) == \
        tuple(ref["processed_sequences"].shape) == (None, 20, 10)


def test_time_distributed_model_reuses_its_weights(keras_ref):
    # "the model is applied to every time step ... reusing its weights": same weights in
    # the model, so the same per-step outputs as Keras's TimeDistributed.
    ns, ref = _functional_guide(jkeras), _functional_guide(keras_ref, keras_ref)
    ref["model"].set_weights(ns["model"].get_weights())
    video = jkeras.models.Model(ns["input_sequences"], ns["processed_sequences"])
    video_ref = keras_ref.Model(ref["input_sequences"], ref["processed_sequences"])
    frames = rand(3, 20, 784)
    np.testing.assert_allclose(video.predict(frames, verbose=0),
                               np.asarray(video_ref.predict(frames, verbose=0)),
                               rtol=1e-5, atol=1e-6)


def test_functional_dense_fit(short_fit):
    ns = run_seed("s004_36_functional_dense",
                  dict(data=rand(64, 784), labels=one_hot(64, 10)))
    model = ns["model"]
    assert structure(model)[2] == (784 * 64 + 64) + (64 * 64 + 64) + (64 * 10 + 10)
    assert short_fit == [1] and len(model.history.history["loss"]) == 1


HEADLINES = dict(headline_data=ints(9999, 64, 100, seed=5) + 1, additional_data=rand(64, 5),
                 labels=ints(2, 64, 1, seed=6).astype("float32"))
# Embedding 10000x512, LSTM(32) on 512, aux Dense(1), 37 -> 64 -> 64 -> 64 -> 1
MULTI_IO_PARAMS = 5_120_000 + 4 * (32 * (512 + 32) + 32) + 33 + (37 * 64 + 64) + 2 * 4160 + 65


def test_multi_input_multi_output(short_fit):
    ns = run_seed("s004_39_multi_input_multi_output", dict(keras=jkeras, **HEADLINES))
    assert structure(ns["model"]) == ([(None, 100), (None, 5)], [(None, 1), (None, 1)],
                                      MULTI_IO_PARAMS)
    assert short_fit == [50]
    history = ns["model"].history.history
    assert {"loss", "main_output_loss", "aux_output_loss"} <= set(history)
    # The total is the weighted sum 1.0 * main + 0.2 * aux (one epoch: one value each).
    assert history["loss"][0] == pytest.approx(
        history["main_output_loss"][0] + 0.2 * history["aux_output_loss"][0], rel=1e-4)


@pytest.mark.slow        # Keras 3 allocates the 5M-parameter embedding: seconds
def test_multi_input_multi_output_matches_keras3(keras_ref):
    ns, ref = dict(keras=jkeras, **HEADLINES), dict(keras=keras_ref, **HEADLINES)
    with no_training(jkeras):
        run_seed("s004_39_multi_input_multi_output", ns)
    with no_training(keras_ref):
        run_seed("s004_39_multi_input_multi_output", ref, keras_module=keras_ref)
    assert structure(ns["model"]) == structure(ref["model"])


def test_named_losses_dicts(short_fit):
    ns = dict(keras=jkeras, **HEADLINES)
    with no_training(jkeras):
        run_seed("s004_39_multi_input_multi_output", ns)
    run_seed("s004_40_named_losses_dicts", ns)
    history = ns["model"].history.history
    assert {"loss", "main_output_loss", "aux_output_loss"} <= set(history)
    assert finite(history["loss"])


def test_shared_lstm_model(short_fit, keras_ref):
    data = dict(data_a=rand(32, 280, 256, seed=1), data_b=rand(32, 280, 256, seed=2),
                labels=ints(2, 32, 1).astype("float32"))
    ns = run_seed("s004_41_tweet_inputs")
    ns.update(data)
    run_seed("s004_42_shared_lstm", ns)
    ref = run_seed("s004_41_tweet_inputs", keras_module=keras_ref)
    ref.update(data)
    with no_training(keras_ref):
        run_seed("s004_42_shared_lstm", ref, keras_module=keras_ref)
    assert structure(ns["model"]) == structure(ref["model"])
    assert structure(ns["model"])[2] == 4 * (64 * (256 + 64) + 64) + 129
    assert len(ns["model"].layers) == len(ref["model"].layers)   # one LSTM, shared
    assert finite(ns["model"].history.history["loss"])


def test_layer_output_is_the_called_tensor():
    # Keras 2: `lstm.output == encoded_a` compares the symbolic tensors, the same object.
    run_seed("s004_43_layer_output", names(jkeras, "Input", "LSTM"))


def test_layer_with_two_nodes_has_no_single_output():
    # Keras 2 raises the error the note prints (Keras 3 does not raise here).
    message = OUTPUTS["s004_45_multiple_nodes_error"]
    assert "has multiple inbound nodes" in message
    ns = names(jkeras, "Input", "LSTM")
    with pytest.raises(AttributeError, match="has multiple inbound nodes"):
        run_seed("s004_44_multiple_nodes_output", ns)
    run_seed("s004_46_get_output_at", ns)      # then each node's output by its index


def test_get_input_shape_at():
    # The block's own asserts are Keras 2's values (Keras 3 has no `layer.input_shape`).
    run_seed("s004_47_get_input_shape_at", names(jkeras, "Input", "Conv2D"))


def test_inception_module(keras_ref):
    ns = run_seed("s004_62_inception_module", dict(keras=jkeras))
    ref = run_seed("s004_62_inception_module", dict(keras=keras_ref), keras_module=keras_ref)
    assert tuple(ns["output"].shape) == tuple(ref["output"].shape) == (None, 768, 256, 64)


def test_residual_connection(keras_ref):
    ns = run_seed("s004_63_residual_connection", dict(keras=jkeras))
    ref = run_seed("s004_63_residual_connection", dict(keras=keras_ref),
                   keras_module=keras_ref)
    assert tuple(ns["z"].shape) == tuple(ref["z"].shape) == (None, 256, 256, 3)
    model = jkeras.models.Model(ns["x"], ns["z"])
    image = rand(1, 256, 256, 3)
    conv = model.layers[1]
    kernel, bias = conv.get_weights()
    from scipy.signal import correlate
    padded = np.pad(image[0], ((1, 1), (1, 1), (0, 0)))
    expected = np.stack([correlate(padded, kernel[..., o], mode="valid")[..., 0] + bias[o]
                         for o in range(3)], -1)
    np.testing.assert_allclose(model.predict(image, verbose=0)[0], image[0] + expected,
                               rtol=1e-4, atol=1e-4)


def test_shared_vision_model(keras_ref):
    ns = run_seed("s004_64_shared_vision_model", dict(keras=jkeras))
    ref = run_seed("s004_64_shared_vision_model", dict(keras=keras_ref),
                   keras_module=keras_ref)
    for key in ("vision_model", "classification_model"):
        assert structure(ns[key]) == structure(ref[key])
    assert structure(ns["classification_model"])[2] == 640 + 36928 + 15489


@pytest.mark.slow
def test_visual_and_video_qa(keras_ref):
    ns = run_seed("s004_65_visual_qa", dict(keras=jkeras))
    ref = run_seed("s004_65_visual_qa", dict(keras=keras_ref), keras_module=keras_ref)
    assert structure(ns["vqa_model"]) == structure(ref["vqa_model"])
    run_seed("s004_66_video_qa", ns)
    run_seed("s004_66_video_qa", ref, keras_module=keras_ref)
    for key in ("question_encoder", "video_qa_model"):
        assert structure(ns[key]) == structure(ref[key])


# ============================================================================= Sequential guide

def test_sequential_from_list_and_add(keras_ref):
    ns = run_seed("s004_06_sequential_list")
    ref = run_seed("s004_06_sequential_list", keras_module=keras_ref)
    assert structure(ns["model"]) == structure(ref["model"]) == \
        ([(None, 784)], [(None, 10)], 784 * 32 + 32 + 330)
    run_seed("s004_07_sequential_add", ns)
    assert structure(ns["model"]) == ([(None, 784)], [(None, 32)], 784 * 32 + 32)


def test_input_shape_and_input_dim_are_equivalent():
    models = [run_seed(name, names(jkeras, "Sequential", "Dense"))["model"]
              for name in ("s004_08_input_shape", "s004_09_input_dim")]
    assert structure(models[0]) == structure(models[1]) == \
        ([(None, 784)], [(None, 32)], 784 * 32 + 32)


def _check_mean_pred(model, x):
    """The custom metric `mean_pred` reports the mean prediction, as its body says."""
    y = (np.asarray(model.predict(x, verbose=0)) > 0.5).astype("float32")
    result = model.evaluate(x, y, verbose=0, batch_size=len(x))
    values = dict(zip(model.metrics_names, result))
    assert "mean_pred" in values
    assert values["mean_pred"] == pytest.approx(float(np.mean(model.predict(x, verbose=0))),
                                                rel=1e-4)


def _binary_model(K):
    model = K.models.Sequential()
    model.add(K.layers.Dense(32, activation="relu", input_shape=(100,)))
    model.add(K.layers.Dense(1, activation="sigmoid"))
    return model


@pytest.mark.parametrize("name", ["s001_22_custom_metric", "s004_10_compile_variants"])
def test_custom_metric_mean_pred(name):
    ns = run_seed(name, dict(model=_binary_model(jkeras)))
    _check_mean_pred(ns["model"], rand(16, 100))


def test_binary_fit(short_fit):
    ns = run_seed("s004_11_binary_fit", names(jkeras, "Sequential", "Dense"))
    assert structure(ns["model"]) == ([(None, 100)], [(None, 1)], 3200 + 32 + 33)
    assert short_fit == [10] and len(ns["model"].history.history["loss"]) == 1


def test_multiclass_fit(short_fit):
    ns = run_seed("s004_12_multiclass_fit", dict(keras=jkeras,
                                                **names(jkeras, "Sequential", "Dense")))
    assert structure(ns["model"]) == ([(None, 100)], [(None, 10)], 3200 + 32 + 330)
    assert ns["one_hot_labels"].shape == (1000, 10)
    np.testing.assert_array_equal(ns["one_hot_labels"].argmax(1), ns["labels"][:, 0])


class _PyplotRecorder:
    """Stands in for matplotlib's pyplot, which the note imports elsewhere: keeps the calls."""

    def __init__(self):
        self.lines, self.shown = [], False

    def plot(self, values, label=None):
        self.lines.append((label, list(values)))

    def legend(self):
        pass

    def show(self):
        self.shown = True


def _blobs(num, seed):
    centers = np.array([[-5.0, 0.0], [0.0, 5.0], [5.0, 0.0]], "float32")
    classes = ints(3, num, seed=seed)
    return centers[classes] + rand(num, 2, seed=seed + 1), np.eye(3, dtype="float32")[classes]


def _blobs_model():
    model = jkeras.models.Sequential([
        jkeras.layers.Dense(50, activation="relu", input_dim=2),
        jkeras.layers.Dense(3, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    return model


def test_fit_history_plot(short_fit):
    (train_x, train_y), (test_x, test_y) = _blobs(64, 0), _blobs(32, 10)
    pyplot = _PyplotRecorder()
    run_seed("s004_15_fit_history_plot", dict(model=_blobs_model(), trainX=train_x,
                                              trainy=train_y, testX=test_x, testy=test_y,
                                              pyplot=pyplot))
    assert short_fit == [4000]
    assert [label for label, _ in pyplot.lines] == ["train", "test"]
    assert all(len(values) == 1 and finite(values) for _, values in pyplot.lines)
    assert pyplot.shown


def test_evaluate_unpack(capsys):
    (train_x, train_y), (test_x, test_y) = _blobs(64, 0), _blobs(32, 10)
    model = _blobs_model()
    run_seed("s004_17_evaluate_unpack", dict(model=model, trainX=train_x, trainy=train_y,
                                             testX=test_x, testy=test_y))
    expected = np.mean(model.predict(test_x, verbose=0).argmax(1) == test_y.argmax(1))
    assert f"Test: {expected:.3f}" in capsys.readouterr().out


def test_subclassed_mlp(keras_ref):
    # `model.compile(...)` / `model.fit(...)` are placeholders: Ellipsis is no optimizer,
    # in Keras 2 and 3 alike. The class above them must work.
    with pytest.raises(ValueError):
        run_seed("s004_05_subclassed_mlp", ns := {})
    with pytest.raises(ValueError):
        run_seed("s004_05_subclassed_mlp", ref := {}, keras_module=keras_ref)
    x, y = rand(8, 16), one_hot(8, 10)
    for namespace in (ns, ref):
        namespace["model"].compile(optimizer="rmsprop", loss="categorical_crossentropy")
    assert ns["model"].predict(x, verbose=0).shape == ref["model"].predict(x, verbose=0).shape
    assert ns["model"].count_params() == ref["model"].count_params() == 16 * 32 + 32 + 330
    bn = ns["SimpleMLP"](use_bn=True, use_dp=True, num_classes=4)
    bn_ref = ref["SimpleMLP"](use_bn=True, use_dp=True, num_classes=4)
    bn.predict(x, verbose=0)                     # builds the subclassed models
    bn_ref.predict(x, verbose=0)
    assert bn.count_params() == bn_ref.count_params()
    history = ns["model"].fit(x, y, epochs=1, verbose=0)
    assert finite(history.history["loss"])


# ============================================================================= callbacks

def _compiled_mlp(inputs=20):
    model = _dense_model(jkeras, inputs)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def test_csv_logger():
    run_seed("s001_15_csv_logger", dict(model=_compiled_mlp(), X_train=rand(64, 20),
                                        Y_train=one_hot(64, 10),
                                        **names(jkeras, "CSVLogger")))
    with open("training.log") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1 and rows[0]["epoch"] == "0" and finite([rows[0]["loss"]])


def test_callback_constructors_with_keras2_arguments():
    ns = run_seed("s001_16_early_stopping_defaults", dict(keras=jkeras))
    stop = ns["__last__"]
    assert (stop.monitor, stop.min_delta, stop.patience, stop.verbose) == ("val_loss", 0, 0, 0)
    ns = run_seed("s001_18_reduce_lr_defaults", dict(keras=jkeras))
    plateau = ns["__last__"]
    assert (plateau.monitor, plateau.factor, plateau.patience, plateau.cooldown,
            plateau.min_lr) == ("val_loss", 0.1, 10, 0, 0)
    assert plateau.min_delta == pytest.approx(1e-4)
    ns = run_seed("s001_20_model_checkpoint_defaults",
                  dict(keras=jkeras, filepath="weights.{epoch:02d}.h5"))
    checkpoint = ns["__last__"]
    assert (checkpoint.monitor, checkpoint.save_best_only, checkpoint.save_weights_only) == \
        ("val_loss", False, False)
    ns = run_seed("s001_17_early_stop_patience", dict(patience=50,
                                                      **names(jkeras, "EarlyStopping")))
    assert (ns["early_stop"].monitor, ns["early_stop"].patience) == ("val_loss", 50)
    ns = run_seed("s001_21_model_checkpoint", dict(model_names="m.{epoch:02d}.hdf5",
                                                   **names(jkeras, "ModelCheckpoint")))
    assert (ns["model_checkpoint"].monitor, ns["model_checkpoint"].save_best_only) == \
        ("val_loss", True)


def test_reduce_lr_fit_without_validation_warns_only():
    model = _compiled_mlp()
    with pytest.warns(RuntimeWarning, match="val_loss"):
        ns = run_seed("s001_19_reduce_lr_fit", dict(model=model, X_train=rand(64, 20),
                                                    Y_train=one_hot(64, 10),
                                                    **names(jkeras, "ReduceLROnPlateau")))
    assert ns["reduce_lr"].min_lr == 0.001
    assert float(np.asarray(jkeras.backend.get_value(model.optimizer.lr))) == \
        pytest.approx(0.001)


def test_early_stopping_fit():
    model = _compiled_mlp(inputs=784)
    run_seed("s002_03_early_stopping_fit", dict(model=model, x=rand(50, 784),
                                                y=one_hot(50, 10)))
    assert set(model.history.history) >= {"loss", "val_loss"}


def test_callbacks_list_tensorflow_keras():
    # The note writes `tensorflow.keras.callbacks.X` after an `import tensorflow` it does not
    # show; that module is jkeras here.
    ns = run_seed("s003_06_callbacks_list",
                  dict(tensorflow=types.SimpleNamespace(keras=jkeras)))
    stop, checkpoint, board = ns["callbacks_list"]
    assert (stop.monitor, stop.patience) == ("accuracy", 10)
    assert (checkpoint.monitor, checkpoint.save_best_only) == ("val_loss", True)
    assert board.log_dir == "./TFA-CLSTMNN/TFA-CLSTMNN_train_log"


# ============================================================================= small utilities

def test_to_categorical_np_utils(keras_ref):
    labels = ints(5, 12)
    ns = run_seed("s001_25_to_categorical", dict(int_labels=labels))
    np.testing.assert_array_equal(ns["categorical_labels"],
                                  keras_ref.utils.to_categorical(labels, num_classes=None))


def test_conv2d_with_every_keras2_argument(keras_ref):
    args = dict(filters=16, kernel_size=(3, 3))
    layer = run_seed("s001_30_conv2d_defaults", dict(keras=jkeras, **args))["__last__"]
    ref = run_seed("s001_30_conv2d_defaults", dict(keras=keras_ref, **args),
                   keras_module=keras_ref)["__last__"]
    ours, theirs = layer.get_config(), ref.get_config()
    for key in ("filters", "kernel_size", "strides", "padding", "data_format",
                "dilation_rate", "activation", "use_bias"):
        assert _plain(ours[key]) == _plain(theirs[key]), key


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def test_conv2d_regularized(keras_ref):
    def prelude(K):
        return dict(input_shape=(64, 64, 1), regularization=K.regularizers.l2(0.01),
                    **names(K, "Input", "Conv2D"))
    ns = run_seed("s001_31_conv2d_regularized", prelude(jkeras))
    ref = run_seed("s001_31_conv2d_regularized", prelude(keras_ref), keras_module=keras_ref)
    assert tuple(ns["x"].shape) == tuple(ref["x"].shape) == (None, 62, 62, 8)


def test_sequential_mlp_and_model_call(keras_ref, capsys):
    def prelude(K):
        return dict(N_HIDDEN=128, DROPOUT=0.3, nb_classes=10,
                    **names(K, "Sequential", "Dense", "Activation", "Dropout", "Input"))
    ns = run_seed("s002_01_sequential_mlp", prelude(jkeras))
    printed = capsys.readouterr().out
    ref = run_seed("s002_01_sequential_mlp", prelude(keras_ref), keras_module=keras_ref)
    assert structure(ns["model"]) == structure(ref["model"])
    assert "Total params: 118,282" in printed                # 100,480 + 16,512 + 1,290
    run_seed("s002_02_model_is_callable", ns)
    run_seed("s002_02_model_is_callable", ref, keras_module=keras_ref)
    assert tuple(ns["y"].shape) == tuple(ref["y"].shape) == (None, 10)


def test_reproducibility_block_tf1(monkeypatch):
    # TensorFlow 1 session set-up around `K.set_session(sess)`: TensorFlow is not part of a
    # jkeras install, so the TF1 calls the block makes go to a small stand-in.
    tf = types.ModuleType("tensorflow")
    tf.ConfigProto = lambda **kwargs: types.SimpleNamespace(**kwargs)
    tf.set_random_seed = lambda seed: None
    tf.get_default_graph = lambda: "graph"
    tf.Session = lambda graph=None, config=None: types.SimpleNamespace(graph=graph,
                                                                       config=config)
    monkeypatch.setitem(sys.modules, "tensorflow", tf)
    monkeypatch.setenv("PYTHONHASHSEED", os.environ.get("PYTHONHASHSEED", "random"))
    with pytest.warns(UserWarning, match="set_session"):
        ns = run_seed("s002_04_reproducible_tf1")
    assert ns["K"] is jkeras.backend
    assert ns["session_conf"].intra_op_parallelism_threads == 1


# ============================================================================= generators

def test_random_batch_generator(short_fit):
    ns = run_seed("s004_23_random_batch_generator",
                  dict(np=np, random=np.random, some_processing=lambda x: x / 255.0))
    features, labels = rand(100, 64, 64, 3) * 255, ints(2, 100, 1).astype("float32")
    batches = ns["generator"](features, labels, 10)
    x, y = next(batches)
    assert x.shape == (10, 64, 64, 3) and y.shape == (10, 1) and x.max() <= 1.0
    model = jkeras.models.Sequential([jkeras.layers.Flatten(input_shape=(64, 64, 3)),
                                      jkeras.layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy")
    history = model.fit_generator(batches, steps_per_epoch=5, epochs=1, verbose=0)
    assert finite(history.history["loss"])


@pytest.mark.parametrize("name", ["s004_24_generator_from_file",
                                  "s004_58_generator_from_file"])
def test_skipped_generator_blocks_do_not_parse(name):
    # Skipped, and this is why: the notes' own text is not valid Python.
    with pytest.raises(SyntaxError):
        compile(SKIPPED[name][1], name, "exec")


# ============================================================================= images

def test_image_flow(monkeypatch, capsys):
    import time
    monkeypatch.setattr(time, "sleep", lambda seconds: None)     # the loop sleeps 1 s a batch
    os.makedirs("output")
    run_seed("s001_26_image_flow")
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("(")]
    expected = [line for line in OUTPUTS["s001_27_image_flow_output"].splitlines() if line]
    shapes = lambda lines: [line.split(")")[0] + ")" for line in lines]
    assert shapes(printed) == shapes(expected)                 # 3, 3, 1, 3, 3, 1, ...
    labels = [[int(v) for v in line.split("[")[1].rstrip("]").split()] for line in printed]
    for epoch in range(3):                                     # each pass: all 7, shuffled
        assert sorted(sum(labels[3 * epoch:3 * epoch + 3], [])) == list(range(7))
    # Every image of the 11 batches drawn (the 11th is drawn, then the loop breaks).
    assert len(glob.glob("output/*.png")) == 24 + 3


def test_flow_from_directory_save_to_dir(tmp_path, monkeypatch):
    # The note reads from and writes to /home/ubuntu/dataset/...; those folders are made
    # under tmp_path and the two paths redirected there.
    home = str(tmp_path / "home")
    image_module = jkeras.preprocessing.image
    original = image_module.ImageDataGenerator.flow_from_directory

    def moved(path):
        return path.replace("/home/ubuntu", home, 1) if isinstance(path, str) else path

    def redirected(self, directory, *args, **kwargs):
        if "save_to_dir" in kwargs:
            kwargs["save_to_dir"] = moved(kwargs["save_to_dir"])
        return original(self, moved(directory), *args, **kwargs)

    monkeypatch.setattr(image_module.ImageDataGenerator, "flow_from_directory", redirected)
    for animal, seed in (("cats", 0), ("dogs", 1)):
        write_pngs(f"{home}/dataset/dogs_cats_sample/{animal}", 5, seed=seed)
    os.makedirs(f"{home}/dataset/dogs_cats_gen/18")

    def print_result(pattern):          # the user's helper: lists the saved images
        return sorted(glob.glob(moved(pattern)))

    ns = run_seed("s001_29_flow_from_directory_save",
                  dict(image=image_module, print_result=print_result))
    assert ns["gen_data"].samples == 10
    assert ns["gen_data"].class_indices == {"cats": 0, "dogs": 1}
    assert len(ns["fig"]) == 9
    assert all(os.path.basename(f).startswith("gen_") for f in ns["fig"])
    from PIL import Image
    assert Image.open(ns["fig"][0]).size == (224, 224)


def test_fit_generator_from_directory(short_fit):
    for split, count in (("train", 12), ("valid", 8)):
        for animal in ("cats", "dogs"):
            write_pngs(f"data/{split}/{animal}", count // 2, seed=len(split + animal))
    gen = jkeras.preprocessing.image.ImageDataGenerator(rescale=1.0 / 255)
    net_final = jkeras.models.Sequential([
        jkeras.layers.Conv2D(4, (3, 3), activation="relu", input_shape=(32, 32, 3)),
        jkeras.layers.GlobalAveragePooling2D(),
        jkeras.layers.Dense(2, activation="softmax")])
    net_final.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    ns = dict(net_final=net_final, BATCH_SIZE=4, NUM_EPOCHS=3,
              train_batches=gen.flow_from_directory("data/train", target_size=(32, 32),
                                                    batch_size=4),
              valid_batches=gen.flow_from_directory("data/valid", target_size=(32, 32),
                                                    batch_size=4),
              callbacks_list=[jkeras.callbacks.EarlyStopping(monitor="val_loss",
                                                             patience=2)])
    ns = run_seed("s000_04_fit_generator_directory", ns)
    assert short_fit == [3]
    history = ns["hist"].history
    assert set(history) >= {"loss", "val_loss"} and len(history["loss"]) == 1


# ============================================================================= the emotion
# project (001): the user's own modules `models.cnn`, `utils.datasets`, `utils.preprocessor`

def mini_XCEPTION(input_shape, num_classes, l2_regularization=0.01):
    """The user's model, as the face-classification project writes it (Keras 2 code)."""
    from jkeras.models import Model
    img_input, output = _mini_xception_graph(input_shape, num_classes, l2_regularization)
    return Model(img_input, output)


def _mini_xception_graph(input_shape, num_classes, l2_regularization=0.01):
    from jkeras import layers
    from jkeras.layers import (Activation, BatchNormalization, Conv2D,
                               GlobalAveragePooling2D, Input, MaxPooling2D, SeparableConv2D)
    from jkeras.regularizers import l2
    regularization = l2(l2_regularization)
    img_input = Input(input_shape)
    x = Conv2D(8, (3, 3), strides=(1, 1), kernel_regularizer=regularization,
               use_bias=False)(img_input)
    x = BatchNormalization()(x)
    x = Activation('relu')(x)
    x = Conv2D(8, (3, 3), strides=(1, 1), kernel_regularizer=regularization,
               use_bias=False)(x)
    x = BatchNormalization()(x)
    x = Activation('relu')(x)
    for filters in (16, 32, 64, 128):
        residual = Conv2D(filters, (1, 1), strides=(2, 2), padding='same', use_bias=False)(x)
        residual = BatchNormalization()(residual)
        x = SeparableConv2D(filters, (3, 3), padding='same',
                            kernel_regularizer=regularization, use_bias=False)(x)
        x = BatchNormalization()(x)
        x = Activation('relu')(x)
        x = SeparableConv2D(filters, (3, 3), padding='same',
                            kernel_regularizer=regularization, use_bias=False)(x)
        x = BatchNormalization()(x)
        x = MaxPooling2D((3, 3), strides=(2, 2), padding='same')(x)
        x = layers.add([x, residual])
    x = Conv2D(num_classes, (3, 3), padding='same')(x)
    x = GlobalAveragePooling2D()(x)
    output = Activation('softmax', name='predictions')(x)
    return img_input, output


class DataManager:
    """The user's dataset loader; here 90 random 'faces' with one-hot emotions."""

    def __init__(self, dataset_name="imdb", dataset_path=None, image_size=(48, 48)):
        self.dataset_name, self.image_size = dataset_name, image_size

    def get_data(self):
        faces = rand(90, *self.image_size, 1, seed=7) * 255.0
        return faces, one_hot(90, 7, seed=8)


def split_data(x, y, validation_split=.2):
    num_train = int((1 - validation_split) * len(x))
    return (x[:num_train], y[:num_train]), (x[num_train:], y[num_train:])


def preprocess_input(x, v2=True):
    x = x.astype('float32') / 255.0
    return (x - 0.5) * 2.0 if v2 else x


@pytest.fixture
def emotion_project(tmp_path, monkeypatch):
    """The user's project around the training script: its modules and its folders."""
    modules = {"models": {}, "models.cnn": {"mini_XCEPTION": mini_XCEPTION}, "utils": {},
               "utils.datasets": {"DataManager": DataManager, "split_data": split_data},
               "utils.preprocessor": {"preprocess_input": preprocess_input}}
    for dotted, attrs in modules.items():
        module = types.ModuleType(dotted)
        module.__dict__.update(attrs)
        if "." not in dotted:
            module.__path__ = []
        monkeypatch.setitem(sys.modules, dotted, module)
        if "." in dotted:
            parent, child = dotted.split(".")
            setattr(sys.modules[parent], child, module)
    os.makedirs(tmp_path / "trained_models" / "emotion_models")
    os.makedirs(tmp_path / "project")
    monkeypatch.chdir(tmp_path / "project")
    return tmp_path / "trained_models" / "emotion_models"


def _check_emotion_training(ns, out_dir, short_fit):
    assert short_fit == [10000]
    model = ns["model"]
    assert structure(model) == ([(None, 64, 64, 1)], [(None, 7)], MINI_XCEPTION_7_PARAMS)
    with open(out_dir / "fer2013_emotion_training.log") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1 and {"loss", "val_loss"} <= set(rows[0])
    saved = glob.glob(str(out_dir / "fer2013_mini_XCEPTION.01-*.hdf5"))
    assert len(saved) == 1, os.listdir(out_dir)


# Keras 2's summary of mini_XCEPTION((64, 64, 1), 2) (OUTPUTS) says 52,658; 7 classes make
# the last conv 3*3*128*7+7 = 8,071 instead of 2,306.
MINI_XCEPTION_7_PARAMS = 52658 - 2306 + 8071


@pytest.mark.slow
def test_emotion_training_script(emotion_project, short_fit):
    ns = run_seed("s001_12_mini_xception_training")
    _check_emotion_training(ns, emotion_project, short_fit)


@pytest.mark.slow
def test_emotion_callbacks_fragment(emotion_project, short_fit):
    from jkeras.preprocessing.image import ImageDataGenerator
    model = mini_XCEPTION((64, 64, 1), 7)
    model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
    ns = dict(base_path='../trained_models/emotion_models/', dataset_name='fer2013',
              patience=50, input_shape=(64, 64, 1), validation_split=.2, batch_size=32,
              num_epochs=10000, model=model,
              data_generator=ImageDataGenerator(rotation_range=10, width_shift_range=0.1,
                                                height_shift_range=0.1, zoom_range=.1,
                                                horizontal_flip=True),
              DataManager=DataManager, split_data=split_data,
              preprocess_input=preprocess_input,
              **names(jkeras, "CSVLogger", "ModelCheckpoint", "EarlyStopping",
                      "ReduceLROnPlateau"))
    ns = run_seed("s001_14_callbacks_fragment", ns)
    _check_emotion_training(ns, emotion_project, short_fit)


def test_mini_xception_summary_matches_keras2(capsys):
    expected = OUTPUTS["s001_32_mini_xception_summary"]
    model = mini_XCEPTION((64, 64, 1), 2)
    model.summary()
    printed = capsys.readouterr().out
    for line in ("Total params: 52,658", "Trainable params: 51,186",
                 "Non-trainable params: 1,472"):
        assert line in expected and line in printed
    # Keras 2.2 prints the input row as (None, ...), later Keras 2 as [(None, ...)].
    row = re.compile(r"^\w+ \(\w+\)?\s+\[?(\(None[^)]*\))\]?\s+(\d+)")
    rows = lambda text: sorted(m.groups() for m in map(row.match, text.splitlines()) if m)
    assert len(rows(expected)) == 46
    assert rows(printed) == rows(expected)        # every layer's output shape and params


def _model_from_tensors_compiled():
    img_input, output = _mini_xception_graph((64, 64, 1), 7)
    ns = run_seed("s001_08_model_from_tensors",
                  dict(img_input=img_input, output=output, **names(jkeras, "Model")))
    assert structure(ns["model"]) == ([(None, 64, 64, 1)], [(None, 7)],
                                      MINI_XCEPTION_7_PARAMS)
    run_seed("s001_09_compile_adam", ns)
    assert type(ns["model"].optimizer).__name__ == "Adam"
    return ns


def test_model_from_tensors_compile_summary(capsys):
    ns = _model_from_tensors_compiled()
    run_seed("s001_10_summary", ns)
    assert f"Total params: {MINI_XCEPTION_7_PARAMS:,}" in capsys.readouterr().out


@pytest.mark.slow
def test_fit_generator_flow_on_that_model(short_fit):
    ns = _model_from_tensors_compiled()
    faces = preprocess_input(DataManager(image_size=(64, 64)).get_data()[0])
    emotions = one_hot(90, 7)
    gen = jkeras.preprocessing.image.ImageDataGenerator(horizontal_flip=True)
    ns.update(data_generator=gen, train_faces=faces[:72], train_emotions=emotions[:72],
              batch_size=32, num_epochs=10000, callbacks=[],
              val_data=(faces[72:], emotions[72:]))
    run_seed("s001_11_fit_generator_flow", ns)
    assert short_fit == [10000]
    assert set(ns["model"].history.history) >= {"loss", "val_loss"}


def test_regression_and_classification_compile(capsys):
    x, y = rand(32, 9), rand(32, 1)
    regression = jkeras.models.Sequential([
        jkeras.layers.Dense(16, activation="relu", input_shape=(9,)), jkeras.layers.Dense(1)])
    run_seed("s001_23_regression_compile", dict(model=regression))
    assert "Total params: 177" in capsys.readouterr().out       # 9*16+16 + 16+1
    loss, mae = regression.evaluate(x, y, verbose=0, batch_size=32)
    prediction = regression.predict(x, verbose=0)
    assert mae == pytest.approx(float(np.mean(np.abs(prediction - y))), rel=1e-4)
    assert loss == pytest.approx(float(np.mean((prediction - y) ** 2)), rel=1e-4)
    classifier = _dense_model(jkeras, 20)
    run_seed("s001_24_classification_compile", dict(model=classifier))
    x, y = rand(32, 20), one_hot(32, 10)
    _, accuracy = classifier.evaluate(x, y, verbose=0, batch_size=32)
    expected = np.mean(classifier.predict(x, verbose=0).argmax(1) == y.argmax(1))
    assert accuracy == pytest.approx(expected)


# ============================================================================= saving (003)

def _keras3_dense_model(K):
    model = K.models.Sequential([K.layers.Input(shape=(784,)),
                                 K.layers.Dense(64, activation="relu"),
                                 K.layers.Dense(32, activation="relu"),
                                 K.layers.Dense(10, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("writer", ["keras3", "jkeras"])
def test_load_model_h5(writer, keras_ref, capsys):
    K = keras_ref if writer == "keras3" else jkeras
    source = _keras3_dense_model(K)
    source.save("model.h5")
    ns = run_seed("s003_01_load_model_h5")
    model = ns["model"]
    assert structure(model) == ([(None, 784)], [(None, 10)], 784 * 64 + 64 + 2080 + 330)
    for ours, theirs in zip(model.get_weights(), source.get_weights()):
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    x = rand(4, 784)
    np.testing.assert_allclose(model.predict(x, verbose=0), source.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_save_weights_then_load_weights(short_fit, keras_ref):
    ns = run_seed("s003_02_save_weights_h5", dict(train_images=rand(64, 784),
                                                  train_labels=one_hot(64, 10)))
    assert short_fit == [10] and os.path.exists("model_weights.h5")
    test_images = rand(5, 784, seed=3)
    trained = ns["model"].predict(test_images, verbose=0)
    loaded = run_seed("s003_03_load_weights_h5", dict(test_images=test_images))
    np.testing.assert_allclose(loaded["predictions"], trained, rtol=1e-6, atol=1e-7)
    # The file is Keras's own layout: real Keras reads it and predicts the same.
    reference = _keras3_dense_model(keras_ref)
    reference.load_weights("model_weights.h5")
    np.testing.assert_allclose(reference.predict(test_images, verbose=0), trained,
                               rtol=1e-5, atol=1e-6)


def test_load_weights_from_a_keras3_file(keras_ref):
    source = _keras3_dense_model(keras_ref)
    source.save("model_weights.h5")                # a full legacy .h5 model file
    test_images = rand(5, 784, seed=3)
    ns = run_seed("s003_03_load_weights_h5", dict(test_images=test_images))
    np.testing.assert_allclose(ns["predictions"], source.predict(test_images, verbose=0),
                               rtol=1e-5, atol=1e-6)


# ============================================================================= applications

@pytest.mark.slow
def test_vgg16_attributes(tmp_path, monkeypatch, keras_ref, capsys):
    # Keras 2 downloads the ImageNet weights; here the same-shaped file comes from real Keras
    # (random weights) and `get_file` hands it over instead of the network.
    from keras.src.legacy.saving import legacy_h5_format
    import h5py
    reference = keras_ref.applications.VGG16(weights=None, include_top=False)
    weights = str(tmp_path / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5")
    with h5py.File(weights, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, reference)
    from jkeras.utils import data_utils
    monkeypatch.setattr(data_utils, "get_file", lambda *args, **kwargs: weights)
    monkeypatch.setattr(jkeras.utils, "get_file", lambda *args, **kwargs: weights)
    ns = run_seed("s004_01_vgg16_attributes")
    printed = capsys.readouterr().out
    base_model = ns["base_model"]
    expected = OUTPUTS["s004_01_vgg16_output"]
    assert "Total params: 14,714,688" in expected and expected.splitlines()[1] == "19"
    assert len(base_model.layers) == 19
    assert base_model.input_shape == (None, None, None, 3)
    assert base_model.output_shape == (None, None, None, 512)
    assert "Total params: 14,714,688" in printed
    for ours, theirs in zip(base_model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


# ============================================================================= signatures

def parse_signature(text):
    """The quoted `name(required, key=default, ...)`: (name, [required], {key: default}).
    The last call in the block with arguments is the signature (003 writes a call first)."""
    calls = [statement.value for statement in ast.parse(text).body
             if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)]
    call = [c for c in calls if c.args or c.keywords][-1]
    name = call.func.attr if isinstance(call.func, ast.Attribute) else call.func.id
    required = [arg.id for arg in call.args if arg.id != "self"]
    defaults = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords}
    return name, required, defaults


def test_signature_parser():
    name, required, defaults = parse_signature(SIGNATURES["s003_05_save_weights_signature"])
    assert (name, required, defaults) == ("save_weights", ["filepath"],
                                          {"overwrite": True, "save_format": None})


class _Batches(jkeras.utils.Sequence):
    def __len__(self):
        return 2

    def __getitem__(self, index):
        return rand(8, 20, seed=index), one_hot(8, 10, seed=index)


def _required_values():
    return dict(optimizer="sgd", x=rand(8, 20), y=one_hot(8, 10), generator=_Batches(),
                filepath="signature_check.h5")


@pytest.fixture(scope="module")
def signature_model():
    """One compiled model for all signature checks: its train/test steps compile once."""
    return _compiled_mlp()


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_quoted_signature_is_accepted(name, signature_model):
    method, required, defaults = parse_signature(SIGNATURES[name])
    function = getattr(jkeras.Model, method)
    parameters = inspect.signature(function).parameters
    has_kwargs = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    positional = [p for p in parameters if p != "self"]
    assert positional[:len(required)] == required
    for key, default in defaults.items():
        if key in parameters:
            assert parameters[key].default == default, (method, key)
        else:
            assert has_kwargs, f"{method}() has no `{key}` argument"
    # Calling with exactly the quoted defaults works, as it does in Keras 2.
    model = _compiled_mlp() if method == "compile" else signature_model
    kwargs = dict(defaults)
    values = _required_values()
    for key in required:
        kwargs[key] = values[key]
    if method == "compile":
        kwargs["loss"] = "categorical_crossentropy"
    if method in ("fit", "evaluate", "predict"):
        kwargs.update(x=values["x"], **({} if method == "predict" else {"y": values["y"]}))
    if method == "fit":
        kwargs["verbose"] = 0
    if method == "get_layer":
        kwargs["index"] = 0
    getattr(model, method)(**kwargs)
