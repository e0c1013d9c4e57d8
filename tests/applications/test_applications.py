"""jkeras.applications against Keras 3.

- Every model's layers (names, classes, parameter counts, weight names, in order) equal
  Keras 3's, read from golden lists that tests/fixtures/make_application_weights.py writes
  with Keras 3 (the input layer's name aside; jkeras's arithmetic on symbolic tensors is
  a weightless `TensorOp` layer, where Keras 3 records an operation that is no layer).
- One small configuration per family computes what Keras 3 computed with the same
  (synthetic, deterministic) weights; a few are compared live, weights copied over.
- `weights='imagenet'` end to end: small files in the published layout served from
  127.0.0.1, cached under a temporary Keras home; a wrong-shape file is refused.
- `preprocess_input` and `decode_predictions` of every family against Keras 3's.

The heavy models are built only in the slow run (`-m slow`).
"""
import gzip
import hashlib
import json
import os
import shutil

import h5py
import jax.numpy as jnp
import numpy as np
import pytest

import jkeras
from jkeras import applications
from jkeras.applications import imagenet_utils, mobilenet, mobilenet_v3
from jkeras.engine import naming
from tests.fixtures import make_application_weights as fx

SLOW_MODELS = {"VGG19", "ResNet101", "ResNet152", "ResNet101V2", "ResNet152V2",
               "InceptionResNetV2", "DenseNet169", "DenseNet201", "NASNetLarge",
               "EfficientNetB2", "EfficientNetB3", "EfficientNetB4", "EfficientNetB5",
               "EfficientNetB6", "EfficientNetB7", "ConvNeXtSmall", "ConvNeXtBase"}
SLOW_CASES = {"vgg19", "inception_resnet_v2", "nasnet"}

FAMILIES = ["vgg16", "vgg19", "resnet", "resnet50", "resnet_v2", "inception_v3",
            "inception_resnet_v2", "xception", "mobilenet", "mobilenet_v2", "mobilenet_v3",
            "densenet", "nasnet", "efficientnet", "convnext"]


def _slow_if(condition, values):
    return pytest.param(*values, marks=pytest.mark.slow if condition else ())


@pytest.fixture(scope="module")
def golden():
    with gzip.open(fx.LAYERS_FILE, "rt", encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="module")
def expected_outputs():
    with np.load(fx.OUTPUTS_FILE) as data:
        return dict(data)


def build(builder, **kwargs):
    """A jkeras application built from fresh automatic names, as the golden lists were."""
    naming.reset_uids()
    return getattr(applications, builder)(**kwargs)


def layer_rows(model):
    return [[None if type(layer).__name__ == "InputLayer" else layer.name,
             type(layer).__name__, int(layer.count_params()),
             [fx.weight_key(w.name, type(layer).__name__) for w in layer.weights]]
            for layer in model.layers if type(layer).__name__ != "TensorOp"]


def predict(model, x):
    """Inference on `x` (one compiled call: far cheaper than op-by-op for these graphs)."""
    return model.predict(x, verbose=0)


def close_to(ours, reference, rtol=1e-4):
    """Equal to `reference` within `rtol` of its largest magnitude."""
    ours, reference = np.asarray(ours), np.asarray(reference)
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, rtol=rtol,
                               atol=rtol * float(np.abs(reference).max()))


# ------------------------------------------------------------------ layers and parameters
@pytest.mark.slow
@pytest.mark.parametrize("key, builder, kwargs", [
    _slow_if(key in SLOW_MODELS, (key, builder, kwargs))
    for key, builder, kwargs in fx.MODELS])
def test_layers_and_parameters_equal_keras(key, builder, kwargs, golden):
    model = build(builder, weights=None, **kwargs)
    expected = golden[key]
    rows = layer_rows(model)
    assert [r[0] for r in rows] == [r[0] for r in expected["layers"]]
    assert rows == expected["layers"]
    assert model.count_params() == expected["params"]


def test_vgg16_without_top_has_keras_layer_count_and_parameters():
    model = build("VGG16", weights=None, include_top=False)
    assert len(model.layers) == 19
    assert model.count_params() == 14_714_688
    assert model.input_shape == (None, None, None, 3)
    assert model.output_shape == (None, None, None, 512)


# ------------------------------------------------------------------ outputs
@pytest.mark.slow
@pytest.mark.parametrize("case, builder, kwargs, data_format", [
    _slow_if(case in SLOW_CASES, (case, builder, kwargs, data_format))
    for case, builder, kwargs, data_format in fx.CASES])
def test_outputs_equal_keras_with_the_same_weights(case, builder, kwargs, data_format,
                                                   expected_outputs):
    previous = jkeras.backend.image_data_format()
    jkeras.backend.set_image_data_format(data_format)
    try:
        model = build(builder, weights=None, **kwargs)
    finally:
        jkeras.backend.set_image_data_format(previous)
    model.set_weights(fx.synthetic_weights(fx.named_shapes(model),
                                           gain=fx.GAIN.get(case, 1.0)))
    x = expected_outputs[f"x_{case}"]
    close_to(predict(model, x), expected_outputs[f"y_{case}"])


@pytest.mark.parametrize("builder, kwargs", [
    ("MobileNet", dict(alpha=0.25, input_shape=(32, 32, 3), classes=7,
                       classifier_activation=None)),
    pytest.param("ResNet50V2", dict(input_shape=(32, 32, 3), classes=5),
                 marks=pytest.mark.slow),
    pytest.param("EfficientNetB0", dict(include_top=False, input_shape=(32, 32, 3)),
                 marks=pytest.mark.slow),
])
@pytest.mark.slow
def test_live_keras_weights_copied_over(builder, kwargs, keras_ref, rng):
    reference = getattr(keras_ref.applications, builder)(weights=None, **kwargs)
    model = build(builder, weights=None, **kwargs)
    model.set_weights(reference.get_weights())
    x = rng.uniform(0, 255, (2,) + kwargs["input_shape"]).astype("float32")
    close_to(predict(model, x), reference(x, training=False))


@pytest.mark.slow
def test_saved_application_loads_back(tmp_path, rng):
    # MobileNetV3 holds symbolic arithmetic with constants, Rescaling and Multiply.
    model = build("MobileNetV3Small", weights=None, input_shape=(32, 32, 3), classes=5)
    path = str(tmp_path / "mobilenet_v3.h5")
    model.save(path)
    loaded = jkeras.models.load_model(path)
    x = rng.uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(predict(loaded, x), predict(model, x), rtol=1e-6)


def test_channels_first_only_families_refuse_channels_first():
    previous = jkeras.backend.image_data_format()
    jkeras.backend.set_image_data_format("channels_first")
    try:
        for builder in ("DenseNet121", "NASNetMobile", "ConvNeXtTiny"):
            with pytest.raises(ValueError, match="channels_first"):
                build(builder, weights=None)
    finally:
        jkeras.backend.set_image_data_format(previous)


# ------------------------------------------------------------------ arguments
def test_input_tensor_becomes_the_model_input():
    image = jkeras.Input((40, 40, 3))
    model = build("MobileNetV2", weights=None, include_top=False, input_tensor=image,
                  alpha=0.35)
    assert model.inputs[0] is image
    scaled = jkeras.layers.Rescaling(1 / 255)(image)
    model = build("ResNet50", weights=None, include_top=False, input_tensor=scaled)
    assert model.inputs[0] is image  # the source of the tensor, as Keras finds it
    assert model.output_shape == (None, 2, 2, 2048)


def test_pooling_and_names():
    model = build("Xception", weights=None, include_top=False, pooling="max",
                  input_shape=(71, 71, 3), name="my_xception")
    assert model.name == "my_xception"
    assert model.output_shape == (None, 2048)
    assert type(model.layers[-1]).__name__ == "GlobalMaxPooling2D"


@pytest.mark.parametrize("call, message", [
    (lambda: applications.VGG16(weights="no/such/file.h5"), "`weights` argument"),
    (lambda: applications.ResNet50(weights="imagenet", classes=10), "classes"),
    (lambda: applications.VGG16(weights=None, include_top=False, pooling="sum"), "pooling"),
    (lambda: applications.VGG16(weights="imagenet", input_shape=(64, 64, 3)),
     r"input_shape` should be \(224, 224, 3\)"),
    (lambda: applications.VGG16(weights=None, include_top=False, input_shape=(16, 16, 3)),
     "at least 32x32"),
    (lambda: applications.InceptionV3(weights=None, include_top=False,
                                      input_shape=(32, 32, 3)), "at least 75x75"),
    (lambda: applications.VGG16(weights="imagenet", classifier_activation="relu"),
     "classifier_activation"),
    (lambda: applications.MobileNet(weights="imagenet", alpha=0.3), "alpha"),
    (lambda: applications.MobileNetV3Small(weights="imagenet", alpha=0.5), "alpha"),
    (lambda: applications.VGG16(weights=None, input_tensor=np.zeros((1, 32, 32, 3))),
     "input_tensor"),
])
@pytest.mark.slow
def test_bad_arguments_are_refused_before_any_download(call, message, monkeypatch):
    from jkeras.utils import data_utils

    def no_download(*args, **kwargs):
        raise AssertionError("nothing may be downloaded for a refused call")

    monkeypatch.setattr(data_utils, "get_file", no_download)
    with pytest.raises(ValueError, match=message):
        call()


def test_keras_module_layout():
    from jkeras.applications.vgg16 import VGG16, decode_predictions, preprocess_input
    assert VGG16 is applications.VGG16 and callable(preprocess_input)
    assert decode_predictions is imagenet_utils.decode_predictions
    from jkeras.applications.resnet50 import ResNet50
    assert ResNet50 is applications.resnet.ResNet50
    names = {key for key, _, _ in fx.MODELS if key != "VGG16_notop"}
    assert names <= set(applications.__all__)
    for family in FAMILIES:
        module = getattr(applications, family)
        assert callable(module.preprocess_input) and callable(module.decode_predictions)


# ------------------------------------------------------------------ preprocess / decode
@pytest.mark.parametrize("family", FAMILIES)
def test_preprocess_input_equals_keras(family, keras_ref, rng):
    ours = getattr(applications, family).preprocess_input
    theirs = getattr(keras_ref.applications, family).preprocess_input
    for shape, data_format in (((2, 5, 4, 3), "channels_last"), ((5, 4, 3), "channels_last"),
                               ((2, 3, 5, 4), "channels_first"), ((3, 5, 4), "channels_first")):
        x = rng.uniform(0, 255, shape).astype("float32")
        expected = np.asarray(theirs(x.copy(), data_format=data_format))
        np.testing.assert_allclose(ours(x.copy(), data_format=data_format), expected,
                                   rtol=1e-6, atol=1e-5)
        np.testing.assert_allclose(np.asarray(ours(jnp.asarray(x), data_format=data_format)),
                                   expected, rtol=1e-6, atol=1e-5)
    ints = rng.integers(0, 256, (1, 4, 4, 3)).astype("uint8")
    np.testing.assert_allclose(ours(ints), np.asarray(theirs(ints.copy())), atol=1e-5)


def test_preprocess_input_works_inside_a_model(keras_ref, rng):
    inputs = jkeras.Input((4, 4, 3))
    model = jkeras.Model(inputs, applications.vgg16.preprocess_input(inputs))
    x = rng.uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    expected = keras_ref.applications.vgg16.preprocess_input(x.copy())
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-4)


def test_preprocess_input_refuses_unknown_mode_and_format():
    with pytest.raises(ValueError, match="mode"):
        imagenet_utils.preprocess_input(np.zeros((1, 2, 2, 3)), mode="keras")
    with pytest.raises(ValueError, match="data_format"):
        imagenet_utils.preprocess_input(np.zeros((1, 2, 2, 3)), data_format="nhwc")


def class_index_file(path):
    """A class index in the published format: `{"0": ["n01440764", "tench"], ...}`."""
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    path.write_text(json.dumps(index))
    return index


def test_decode_predictions_equals_keras(keras_ref, tmp_path, monkeypatch, rng):
    index = class_index_file(tmp_path / "imagenet_class_index.json")
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", index)
    from keras.src.applications import imagenet_utils as keras_utils
    monkeypatch.setattr(keras_utils, "CLASS_INDEX", index)
    preds = rng.uniform(size=(3, 1000)).astype("float32")
    ours = applications.resnet.decode_predictions(preds, top=4)
    assert ours == keras_utils.decode_predictions(preds, top=4)
    assert ours[0][0][:2] == tuple(index[str(int(np.argmax(preds[0])))])
    with pytest.raises(ValueError, match=r"\(samples, 1000\)"):
        applications.resnet.decode_predictions(preds[:, :10])


# ------------------------------------------------------------------ weights='imagenet'
def _unzip(name, target):
    with gzip.open(os.path.join(fx.WEIGHTS_DIR, name + ".gz"), "rb") as src, \
            open(target, "wb") as out:
        shutil.copyfileobj(src, out)
    return target


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def published(http_server, monkeypatch, tmp_path):
    """The fixture weight files served from 127.0.0.1 where Keras's URLs point, an empty
    Keras cache, and the class index file; returns the server."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    for module, folder in ((mobilenet, "mobilenet"), (mobilenet_v3, "mobilenet_v3")):
        (http_server.root / folder).mkdir()
        monkeypatch.setattr(module, "BASE_WEIGHTS_PATH", f"{http_server.url}{folder}/")
    for name, _, _, _ in fx.WEIGHT_FILES:
        folder = "mobilenet_v3" if "v3" in name else "mobilenet"
        _unzip(name, http_server.root / folder / name)
    v3_name = fx.WEIGHT_FILES[2][0]
    monkeypatch.setitem(mobilenet_v3.WEIGHTS_HASHES, v3_name,
                        _md5(http_server.root / "mobilenet_v3" / v3_name))
    index_path = http_server.root / "imagenet_class_index.json"
    class_index_file(index_path)
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_PATH", f"{http_server.url}"
                                                            "imagenet_class_index.json")
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_HASH", _md5(index_path))
    return http_server


def file_weights(path):
    """The arrays of a legacy HDF5 weights file, layer by layer in `layer_names` order,
    read with h5py alone (the reference for what loading must give)."""
    values = []
    with h5py.File(path, "r") as f:
        for layer in f.attrs["layer_names"]:
            group = f[layer.decode() if isinstance(layer, bytes) else layer]
            for weight in group.attrs["weight_names"]:
                values.append(group[weight.decode() if isinstance(weight, bytes)
                                    else weight][()])
    return values


@pytest.fixture(scope="module")
def published_outputs():
    with np.load(os.path.join(fx.WEIGHTS_DIR, "outputs.npz")) as data:
        return dict(data)


@pytest.mark.slow
@pytest.mark.parametrize("file_index", [0, 1])
def test_imagenet_weights_download_once_and_load(file_index, published, published_outputs,
                                                 tmp_path):
    name, builder, kwargs, _ = fx.WEIGHT_FILES[file_index]
    model = build(builder, weights="imagenet", **kwargs)
    cached = tmp_path / "keras_home" / "models" / name
    assert cached.exists()
    assert published.requests == [f"/mobilenet/{name}"]
    for ours, theirs in zip(model.get_weights(), file_weights(cached), strict=True):
        np.testing.assert_array_equal(np.asarray(ours), theirs)
    x = published_outputs[f"x_{name}"]
    close_to(predict(model, x), published_outputs[f"y_{name}"])
    build(builder, weights="imagenet", **kwargs)  # from the cache: no second request
    assert len(published.requests) == 1


def test_imagenet_classifier_and_decode_predictions(published, published_outputs):
    name, builder, kwargs, _ = fx.WEIGHT_FILES[1]
    model = build(builder, weights="imagenet", **kwargs)
    preds = predict(model, published_outputs[f"x_{name}"])
    decoded = mobilenet.decode_predictions(preds, top=3)
    best = int(np.argmax(published_outputs[f"y_{name}"][0]))
    assert decoded[0][0][:2] == (f"n{best:08d}", f"class_{best}")
    assert [d[2] for d in decoded[0]] == sorted((d[2] for d in decoded[0]), reverse=True)
    assert "/imagenet_class_index.json" in published.requests


@pytest.mark.slow
def test_imagenet_weights_checked_against_the_published_hash(published, tmp_path,
                                                              published_outputs,
                                                              monkeypatch):
    name, builder, kwargs, _ = fx.WEIGHT_FILES[2]
    with pytest.warns(UserWarning, match=r"Weights for input shape \(224, 224\)"):
        model = build(builder, weights="imagenet", **kwargs)  # as Keras warns
    for ours, theirs in zip(model.get_weights(),
                            file_weights(tmp_path / "keras_home" / "models" / name),
                            strict=True):
        np.testing.assert_array_equal(np.asarray(ours), theirs)
    close_to(predict(model, published_outputs[f"x_{name}"]), published_outputs[f"y_{name}"])

    os.remove(tmp_path / "keras_home" / "models" / name)
    monkeypatch.setitem(mobilenet_v3.WEIGHTS_HASHES, name, "0" * 32)
    with pytest.raises(ValueError, match="hash"), pytest.warns(UserWarning):
        build(builder, weights="imagenet", **kwargs)
    assert not (tmp_path / "keras_home" / "models" / name).exists()


def test_wrong_shape_weight_file_is_refused_and_changes_nothing(published, tmp_path):
    # The alpha=0.25 file served where the alpha=0.5 one should be.
    source = published.root / "mobilenet" / "mobilenet_2_5_128_tf_no_top.h5"
    shutil.copy(source, published.root / "mobilenet" / "mobilenet_5_0_128_tf_no_top.h5")
    with pytest.raises(ValueError, match=r"Shape mismatch for layer conv1\b.*\(3, 3, 3, 16\)"):
        build("MobileNet", weights="imagenet", alpha=0.5, input_shape=(128, 128, 3),
              include_top=False)
    model = build("MobileNet", weights=None, alpha=0.5, input_shape=(128, 128, 3),
                  include_top=False)
    before = [np.asarray(w) for w in model.get_weights()]
    with pytest.raises(ValueError, match="Shape mismatch"):
        model.load_weights(str(source))
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, np.asarray(new))


@pytest.mark.slow
def test_weights_from_a_local_file(tmp_path, published_outputs):
    name, builder, kwargs, _ = fx.WEIGHT_FILES[0]
    path = _unzip(name, tmp_path / name)
    model = build(builder, weights=str(path), **kwargs)
    close_to(predict(model, published_outputs[f"x_{name}"]), published_outputs[f"y_{name}"])
