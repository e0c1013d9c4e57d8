"""In-graph preprocessing layers against real Keras 3 and NumPy: Rescaling, Normalization,
Resizing, CenterCrop, RandomCrop and the random affine augmentations."""
import jax
import numpy as np
import pytest

from jkeras.layers import preprocessing as pre
from tests.conftest import TOL, assert_config_like_keras


def _train(layer, x, seed=0):
    layer.build_from_shape(x.shape)
    out, _ = layer.apply(layer.variables_tree(), x, training=True, key=jax.random.PRNGKey(seed))
    return np.asarray(out)


@pytest.fixture
def images(rng):
    return rng.uniform(0, 1, (2, 7, 9, 3)).astype("float32")


# ---------------------------------------------------------------------- value layers
@pytest.mark.parametrize("scale, offset", [(1 / 255, 0.0), (2.0, -1.0), ([1.0, 2.0, 3.0], 0.5)])
def test_rescaling(keras_ref, rng, scale, offset):
    x = rng.integers(0, 255, (2, 4, 3)).astype("uint8")
    ours, theirs = pre.Rescaling(scale, offset), keras_ref.layers.Rescaling(scale, offset)
    out = ours(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, theirs(x), **TOL)
    assert_config_like_keras(ours, theirs)


def test_normalization_with_given_statistics(keras_ref, rng):
    x = rng.normal(3, 2, (4, 3)).astype("float32")
    mean, variance = [1.0, 2.0, 3.0], [4.0, 0.25, 1.0]
    ours = pre.Normalization(mean=mean, variance=variance)
    theirs = keras_ref.layers.Normalization(mean=mean, variance=variance)
    np.testing.assert_allclose(ours(x), theirs(x), **TOL)
    assert ours.weights == []
    assert_config_like_keras(ours, theirs)
    inverse = pre.Normalization(mean=mean, variance=variance, invert=True)
    np.testing.assert_allclose(inverse(ours(x)), x, atol=1e-5)
    np.testing.assert_allclose(pre.Normalization(mean=2.0, variance=9.0)(x), (x - 2) / 3, **TOL)


@pytest.mark.parametrize("axis", [-1, None, (1, 2)])
def test_normalization_adapt(keras_ref, rng, axis):
    data = rng.normal(5, 3, (20, 4, 3)).astype("float32")
    ours, theirs = pre.Normalization(axis=axis), keras_ref.layers.Normalization(axis=axis)
    ours.adapt(data)
    theirs.adapt(data)
    assert [w.name.split("/")[-1] for w in ours.weights] == ["mean:0", "variance:0", "count:0"]
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    for a, b in zip(ours.get_weights()[:2], theirs.get_weights()[:2]):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(ours(data), theirs(data), atol=1e-4, rtol=1e-5)
    # Keras 2 counts the samples each statistic was computed from
    kept = {-1: 3, None: 1, (1, 2): 12}[axis]
    assert int(ours.get_weights()[2]) == data.size // kept


def test_normalization_adapt_over_batches(rng):
    data = rng.normal(-2, 4, (30, 5)).astype("float32")
    layer = pre.Normalization()
    layer.adapt(iter([data[:7], data[7:20], data[20:]]))
    mean, var, count = layer.get_weights()
    np.testing.assert_allclose(mean, data.mean(0), atol=1e-5)
    np.testing.assert_allclose(var, data.var(0), rtol=1e-5)
    assert int(count) == 30
    with pytest.raises(ValueError, match="shape"):
        layer.adapt(np.ones((4, 6), "float32"))


def test_normalization_validates_arguments():
    with pytest.raises(ValueError, match="variance"):
        pre.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="same shape"):
        pre.Normalization(mean=[1.0, 2.0], variance=[1.0])


# ---------------------------------------------------------------------- resizing and crops
@pytest.mark.parametrize("size", [(4, 5), (12, 10)])
@pytest.mark.parametrize("kwargs", [{}, dict(interpolation="nearest"),
                                    dict(interpolation="bicubic"),
                                    dict(crop_to_aspect_ratio=True),
                                    dict(pad_to_aspect_ratio=True, fill_value=0.3)])
def test_resizing(keras_ref, images, size, kwargs):
    ours, theirs = pre.Resizing(*size, **kwargs), keras_ref.layers.Resizing(*size, **kwargs)
    np.testing.assert_allclose(ours(images), theirs(images), **TOL)
    assert_config_like_keras(ours, theirs)


def test_resizing_channels_first(keras_ref, images):
    x = np.transpose(images, (0, 3, 1, 2))
    ours = pre.Resizing(5, 6, data_format="channels_first")
    theirs = keras_ref.layers.Resizing(5, 6, data_format="channels_first")
    np.testing.assert_allclose(ours(x), theirs(x), **TOL)
    assert ours.get_config()["data_format"] == "channels_first"


@pytest.mark.parametrize("size", [(4, 5), (10, 12), (8, 4)])
def test_center_crop(keras_ref, images, size):
    ours, theirs = pre.CenterCrop(*size), keras_ref.layers.CenterCrop(*size)
    np.testing.assert_allclose(ours(images), theirs(images), **TOL)
    np.testing.assert_allclose(ours(images[0]), theirs(images[0]), **TOL)
    assert_config_like_keras(ours, theirs)


def test_random_crop(keras_ref, images):
    from keras.preprocessing.image import smart_resize
    layer = pre.RandomCrop(4, 6)
    # inference: the centred window of the target aspect ratio, resized (Keras 2)
    np.testing.assert_allclose(layer(images), smart_resize(images, (4, 6)), **TOL)
    out = _train(layer, images)
    assert out.shape == (2, 4, 6, 3)
    # one window of the input, shared by the batch
    windows = [(top, left) for top in range(4) for left in range(4)
               if np.array_equal(out, images[:, top:top + 4, left:left + 6])]
    assert len(windows) == 1
    seen = {tuple(np.asarray(_train(layer, images, seed)[0, 0, 0])) for seed in range(8)}
    assert len(seen) > 1
    assert_config_like_keras(pre.RandomCrop(4, 6, seed=3), keras_ref.layers.RandomCrop(4, 6, seed=3))


# ---------------------------------------------------------------------- random augmentations
@pytest.mark.parametrize("ours, theirs", [
    (lambda: pre.RandomFlip(), lambda k: k.layers.RandomFlip()),
    (lambda: pre.RandomRotation(0.2), lambda k: k.layers.RandomRotation(0.2)),
    (lambda: pre.RandomZoom(0.3, 0.2), lambda k: k.layers.RandomZoom(0.3, 0.2)),
    (lambda: pre.RandomTranslation(0.2, 0.1), lambda k: k.layers.RandomTranslation(0.2, 0.1)),
])
def test_random_layers_are_identities_at_inference(keras_ref, images, ours, theirs):
    ours, theirs = ours(), theirs(keras_ref)
    np.testing.assert_array_equal(ours(images), images)
    np.testing.assert_allclose(ours(images), theirs(images, training=False), **TOL)
    assert_config_like_keras(ours, theirs, skip=("factor",))   # Keras 3 stores (lower, upper)
    if isinstance(ours, pre.RandomRotation):
        assert ours.get_config()["factor"] == 0.2


def test_random_layers_need_a_key(images):
    layer = pre.RandomRotation(0.1)
    layer.build_from_shape(images.shape)
    with pytest.raises(ValueError, match="key"):
        layer.apply(layer.variables_tree(), images, training=True, key=None)


@pytest.mark.parametrize("mode, axes", [("horizontal", [2]), ("vertical", [1]),
                                        ("horizontal_and_vertical", [1, 2])])
def test_random_flip_flips(rng, mode, axes):
    x = rng.uniform(size=(64, 3, 4, 2)).astype("float32")
    out = _train(pre.RandomFlip(mode), x)
    choices = [x]
    if mode == "horizontal_and_vertical":
        choices += [x[:, :, ::-1], x[:, ::-1], x[:, ::-1, ::-1]]
    else:
        choices.append(np.flip(x, axes[0]))
    matched = np.array([[np.array_equal(out[i], c[i]) for c in choices]
                        for i in range(len(x))])
    assert matched.any(axis=1).all()          # every image is one of the flips
    assert matched.any(axis=0).all()          # and each flip happened
    with pytest.raises(ValueError, match="mode"):
        pre.RandomFlip("diagonal")


def test_random_flip_channels_first(rng):
    x = rng.uniform(size=(32, 2, 3, 4)).astype("float32")
    out = _train(pre.RandomFlip("horizontal", data_format="channels_first"), x)
    for i in range(len(x)):
        assert np.array_equal(out[i], x[i]) or np.array_equal(out[i], x[i, :, :, ::-1])


@pytest.mark.slow
@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_fixed_rotation_matches_keras(keras_ref, images, fill_mode, interpolation):
    kwargs = dict(fill_mode=fill_mode, interpolation=interpolation, fill_value=0.5)
    ours = pre.RandomRotation((0.1, 0.1), **kwargs)
    theirs = keras_ref.layers.RandomRotation((0.1, 0.1), **kwargs)
    np.testing.assert_allclose(_train(ours, images), theirs(images, training=True), **TOL)


@pytest.mark.slow
def test_rotation_by_a_quarter_turn(rng):
    x = rng.uniform(size=(1, 5, 5, 1)).astype("float32")
    out = _train(pre.RandomRotation((0.25, 0.25)), x)
    np.testing.assert_allclose(out[0, ..., 0], np.rot90(x[0, ..., 0]), atol=1e-5)


def test_fixed_zoom_and_translation_match_keras(keras_ref, images):
    for ours, theirs in [
            (pre.RandomZoom((-0.3, -0.3), (0.2, 0.2)),
             keras_ref.layers.RandomZoom((-0.3, -0.3), (0.2, 0.2))),
            (pre.RandomZoom((0.4, 0.4), fill_mode="constant"),
             keras_ref.layers.RandomZoom((0.4, 0.4), fill_mode="constant")),
            (pre.RandomTranslation((0.2, 0.2), (-0.3, -0.3)),
             keras_ref.layers.RandomTranslation((0.2, 0.2), (-0.3, -0.3)))]:
        np.testing.assert_allclose(_train(ours, images), theirs(images, training=True), **TOL)


@pytest.mark.slow
def test_translation_by_whole_pixels_shifts(rng):
    x = rng.uniform(size=(2, 4, 8, 1)).astype("float32")
    layer = pre.RandomTranslation((0.5, 0.5), (0.25, 0.25), fill_mode="constant")
    out = _train(layer, x)   # down 2 rows, right 2 columns
    expected = np.zeros_like(x)
    expected[:, 2:, 2:] = x[:, :2, :6]
    np.testing.assert_allclose(out, expected, atol=1e-6)


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest", "mirror"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_affine_transform_matches_keras(keras_ref, images, fill_mode, interpolation):
    transforms = np.array([[0.9, -0.3, 1.2, 0.25, 1.1, -0.7, 0, 0],
                           [1.3, 0.2, -2.0, -0.1, 0.8, 1.5, 0, 0]], "float32")
    ours = pre.affine_transform(images, transforms, interpolation, fill_mode, 0.5)
    theirs = keras_ref.ops.image.affine_transform(images, transforms, interpolation,
                                                  fill_mode, 0.5)
    np.testing.assert_allclose(ours, theirs, **TOL)
    first = np.transpose(images, (0, 3, 1, 2))
    ours = pre.affine_transform(first, transforms, interpolation, fill_mode, 0.5,
                                data_format="channels_first")
    np.testing.assert_allclose(np.transpose(ours, (0, 2, 3, 1)), theirs, **TOL)


@pytest.mark.slow
def test_random_rotation_varies_per_image(rng):
    x = np.repeat(rng.uniform(size=(1, 6, 6, 1)).astype("float32"), 4, axis=0)
    out = _train(pre.RandomRotation(0.5), x)
    assert not np.allclose(out[0], out[1])


def test_factor_validation():
    with pytest.raises(ValueError, match="height_factor"):
        pre.RandomZoom(1.5)
    with pytest.raises(ValueError, match="width_factor"):
        pre.RandomTranslation(0.1, (0.3, 0.1))
    with pytest.raises(ValueError, match="fill_mode"):
        pre.RandomRotation(0.1, fill_mode="bogus")


def test_in_a_model(images):
    from jkeras.engine.input_layer import Input
    from jkeras.engine.model import Model
    inputs = Input((7, 9, 3))
    x = pre.Rescaling(2.0)(inputs)
    x = pre.RandomFlip()(x)
    x = pre.Resizing(4, 4)(x)
    model = Model(inputs, x)
    assert model.output_shape == (None, 4, 4, 3)
    np.testing.assert_allclose(model.predict(images, verbose=0),
                               pre.Resizing(4, 4)(images * 2.0), **TOL)


@pytest.mark.parametrize("layer", [pre.RandomFlip(), pre.RandomRotation(0.2),
                                   pre.RandomZoom(0.2), pre.RandomTranslation(0.1, 0.1),
                                   pre.RandomCrop(5, 5)],
                         ids=lambda layer: type(layer).__name__)
def test_random_layers_trace_under_jit(images, layer):
    layer.build_from_shape(images.shape)
    step = jax.jit(lambda v, x, k: layer.apply(v, x, training=True, key=k)[0])
    eager = layer.apply(layer.variables_tree(), images, training=True, key=jax.random.PRNGKey(3))[0]
    np.testing.assert_allclose(step(layer.variables_tree(), images, jax.random.PRNGKey(3)), eager,
                               atol=1e-5)
