"""Tests for jkeras.preprocessing.image: transforms, generator statistics, iterators
and directory datasets, against NumPy and Keras's legacy ImageDataGenerator."""
import os
import threading
import warnings

import numpy as np
import pytest

from jkeras import _config
from jkeras.preprocessing import image

from PIL import Image as PIL


@pytest.fixture
def keras_image():
    """Keras's (scipy-based) legacy image preprocessing, the reference."""
    pytest.importorskip("scipy")  # not in the test extra: Keras needs it only for this
    from keras.src.legacy.preprocessing import image as keras_image
    return keras_image


@pytest.fixture
def channels_first():
    _config.set_image_data_format("channels_first")
    yield
    _config.set_image_data_format("channels_last")


def grid(h, w, c=1):
    return np.arange(h * w * c, dtype="float32").reshape(h, w, c)


# -- single transforms --------------------------------------------------------------------

def test_flips():
    x = grid(3, 4, 2)
    gen = image.ImageDataGenerator()
    np.testing.assert_array_equal(gen.apply_transform(x, {"flip_horizontal": True}),
                                  x[:, ::-1])
    np.testing.assert_array_equal(gen.apply_transform(x, {"flip_vertical": True}), x[::-1])


@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "reflect", "wrap"])
def test_shift_by_whole_pixels(fill_mode):
    x = grid(4, 6)
    gen = image.ImageDataGenerator(fill_mode=fill_mode, cval=-1.0)
    # As in Keras, 'tx' moves content along the columns and 'ty' along the rows.
    cols = gen.apply_transform(x, {"tx": 2})[..., 0]
    np.testing.assert_array_equal(cols[:, :4], x[:, 2:, 0])
    tail = {"constant": np.full((4, 2), -1.0),
            "nearest": np.repeat(x[:, 5:, 0], 2, axis=1),
            "reflect": x[:, [5, 4], 0],
            "wrap": x[:, [1, 2], 0]}[fill_mode]  # scipy's 'wrap' has period size - 1
    np.testing.assert_array_equal(cols[:, 4:], tail)
    rows = gen.apply_transform(x, {"ty": -1})[..., 0]
    np.testing.assert_array_equal(rows[1:], x[:3, :, 0])


def test_rotation_by_90_degrees_is_rot90():
    x = np.random.default_rng(0).normal(size=(5, 5, 3)).astype("float32")
    gen = image.ImageDataGenerator()
    np.testing.assert_allclose(gen.apply_transform(x, {"theta": 90}), np.rot90(x), atol=1e-5)
    np.testing.assert_allclose(gen.apply_transform(x, {"theta": -90}), np.rot90(x, -1),
                               atol=1e-5)


@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "reflect", "wrap"])
@pytest.mark.parametrize("params", [
    {"theta": 33.0}, {"shear": 20.0}, {"zx": 0.6, "zy": 1.3},
    {"theta": -71.0, "tx": 1.5, "ty": -2.25, "shear": 10.0, "zx": 1.2, "zy": 0.8},
])
def test_affine_transforms_match_keras(keras_image, rng, fill_mode, params):
    x = rng.normal(size=(7, 9, 3)).astype("float32")
    for order in (0, 1):
        expected = keras_image.apply_affine_transform(
            x, **params, row_axis=0, col_axis=1, channel_axis=2, fill_mode=fill_mode,
            cval=0.5, order=order)
        got = image.apply_affine_transform(
            x, **params, row_axis=0, col_axis=1, channel_axis=2, fill_mode=fill_mode,
            cval=0.5, order=order)
        np.testing.assert_allclose(got, expected, atol=1e-5)
    xc = np.moveaxis(x, -1, 0)
    np.testing.assert_allclose(
        image.apply_affine_transform(xc, **params, fill_mode=fill_mode),
        keras_image.apply_affine_transform(xc, **params, fill_mode=fill_mode), atol=1e-5)


def test_zoom_in_by_two_takes_the_centre():
    x = grid(8, 8)
    out = image.apply_affine_transform(x, zx=0.5, zy=0.5, row_axis=0, col_axis=1,
                                       channel_axis=2)
    # Output pixel (i, j) samples input (0.5 i + 1.75, 0.5 j + 1.75), bilinearly.
    coords = 0.5 * np.arange(8) + 1.75
    expected = (coords[:, None] * 8 + coords[None, :])[..., None]
    np.testing.assert_allclose(out, expected, atol=1e-4)


def test_brightness_matches_keras(keras_image, rng):
    x = rng.uniform(0, 255, size=(4, 5, 3)).astype("float32")
    gen = image.ImageDataGenerator()
    got = gen.apply_transform(x, {"brightness": 0.5})
    np.testing.assert_allclose(got, keras_image.apply_brightness_shift(x, 0.5, False))
    np.testing.assert_allclose(got, np.floor(x) * 0.5, atol=1.0)
    wide = rng.uniform(-3, 3, size=(4, 5, 1)).astype("float32")  # outside 0-255
    np.testing.assert_allclose(gen.apply_transform(wide, {"brightness": 1.5}),
                               keras_image.apply_brightness_shift(wide, 1.5, False),
                               rtol=1e-5, atol=1e-5)


def test_channel_shift_clips_to_image_range():
    x = grid(2, 3, 2)
    out = image.ImageDataGenerator().apply_transform(x, {"channel_shift_intensity": 4.0})
    np.testing.assert_array_equal(out, np.clip(x + 4.0, x.min(), x.max()))


def test_random_transform_is_seeded():
    gen = image.ImageDataGenerator(rotation_range=40, zoom_range=0.3, horizontal_flip=True,
                                   width_shift_range=[1, 2], height_shift_range=0.2)
    x = grid(6, 6, 3)
    np.testing.assert_array_equal(gen.random_transform(x, seed=3),
                                  gen.random_transform(x, seed=3))
    for seed in range(5):
        params = gen.get_random_transform((6, 6, 3), seed=seed)
        assert abs(params["ty"]) in (1, 2)  # a list: pixels picked from it, either sign
        assert abs(params["tx"]) <= 0.2 * 6 and -40 <= params["theta"] <= 40
    ints = image.ImageDataGenerator(width_shift_range=2)
    picks = {ints.get_random_transform((6, 6, 3), seed=s)["ty"] for s in range(30)}
    assert picks == {-1, 0, 1}  # an int N: pixels from range(N), either sign (Keras)


# -- standardize and fit ------------------------------------------------------------------

def test_rescale_and_samplewise(rng):
    x = rng.uniform(0, 255, size=(2, 3, 3, 3)).astype("float32")
    gen = image.ImageDataGenerator(rescale=1 / 255.0)
    np.testing.assert_allclose(gen.standardize(x.copy()), x / 255.0, rtol=1e-6)
    gen = image.ImageDataGenerator(samplewise_center=True, samplewise_std_normalization=True)
    img = x[0].copy()
    expected = (img - img.mean()) / (img.std() + 1e-6)
    np.testing.assert_allclose(gen.standardize(img), expected, rtol=1e-5, atol=1e-5)


def test_featurewise_statistics_come_from_fit(rng):
    x = rng.normal(3.0, 2.0, size=(10, 4, 5, 3)).astype("float32")
    gen = image.ImageDataGenerator(featurewise_center=True,
                                   featurewise_std_normalization=True)
    with pytest.warns(UserWarning, match="fit"):
        gen.standardize(x[:1].copy())
    gen.fit(x)
    mean = x.mean(axis=(0, 1, 2))
    std = (x - mean).std(axis=(0, 1, 2))
    np.testing.assert_allclose(gen.mean, mean.reshape(1, 1, 3), rtol=1e-5)
    np.testing.assert_allclose(gen.std, std.reshape(1, 1, 3), rtol=1e-5)
    out = gen.standardize(x.copy())
    np.testing.assert_allclose(out, (x - mean) / (std + 1e-6), rtol=1e-4, atol=1e-5)


def test_featurewise_channels_first(rng, channels_first):
    x = rng.normal(size=(6, 3, 4, 5)).astype("float32")
    gen = image.ImageDataGenerator(featurewise_center=True)
    gen.fit(x)
    np.testing.assert_allclose(gen.mean, x.mean(axis=(0, 2, 3)).reshape(3, 1, 1), rtol=1e-5)


def test_zca_whitening(keras_image, rng):
    x = rng.normal(size=(300, 2, 2, 1)).astype("float32")
    x[..., 0, 0, 0] += 2 * x[..., 1, 1, 0]  # correlated pixels
    with pytest.warns(UserWarning, match="featurewise_center"):
        gen = image.ImageDataGenerator(zca_whitening=True, zca_epsilon=1e-6)
    assert gen.featurewise_center  # zca turns centring on
    gen.fit(x)
    white = gen.standardize(x.copy()).reshape(300, -1)
    # Centring is per channel, so the whitened second moment (not the covariance) is I.
    np.testing.assert_allclose(white.T @ white / len(white), np.eye(4), atol=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = keras_image.ImageDataGenerator(zca_whitening=True, zca_epsilon=1e-6)
        ref.fit(x)
    np.testing.assert_allclose(gen.zca_whitening_matrix, ref.zca_whitening_matrix,
                               rtol=1e-4, atol=1e-5)


def test_generator_argument_errors():
    with pytest.raises(ValueError, match="zoom_range"):
        image.ImageDataGenerator(zoom_range="big")
    with pytest.raises(ValueError, match="validation_split"):
        image.ImageDataGenerator(validation_split=1.5)
    with pytest.raises(ValueError, match="brightness_range"):
        image.ImageDataGenerator(brightness_range=0.5)
    with pytest.raises(ValueError, match="fill_mode"):
        image.ImageDataGenerator(fill_mode="mirror")


# -- flow -------------------------------------------------------------------------------

AUGMENT = dict(rotation_range=30, width_shift_range=0.2, height_shift_range=2,
               shear_range=10, zoom_range=0.2, channel_shift_range=10,
               brightness_range=(0.5, 1.5), horizontal_flip=True, vertical_flip=True,
               fill_mode="reflect", rescale=1 / 255.0)


def test_seeded_flow_repeats_and_matches_keras(keras_image, rng):
    x = rng.uniform(0, 255, size=(7, 8, 8, 3)).astype("float32")
    y = np.arange(7)
    ours = [image.ImageDataGenerator(**AUGMENT).flow(x, y, batch_size=3, seed=5)
            for _ in range(2)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = keras_image.ImageDataGenerator(**AUGMENT).flow(x, y, batch_size=3, seed=5)
    for _ in range(4):
        a, b, r = next(ours[0]), next(ours[1]), next(ref)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_allclose(a[0], r[0], atol=1e-5)
        np.testing.assert_array_equal(a[1], r[1])


def test_flow_batches_wrap_at_epoch_end():
    x = np.zeros((7, 2, 2, 1), "float32")
    flow = image.ImageDataGenerator().flow(x, np.arange(7), batch_size=3, seed=1)
    sizes, epoch = [], []
    for _ in range(6):
        _, yb = flow.next()
        sizes.append(len(yb))
        epoch.extend(yb.tolist())
    assert sizes == [3, 3, 1, 3, 3, 1]
    assert sorted(epoch[:7]) == list(range(7)) and sorted(epoch[7:]) == list(range(7))
    assert len(flow) == 3
    assert len(flow[2][1]) == 1
    with pytest.raises(IndexError):
        flow[3]
    with pytest.raises(ValueError):  # Keras raises ValueError here
        flow[3]


def test_flow_unshuffled_order_extras_and_sample_weight():
    x = np.arange(5 * 4, dtype="float32").reshape(5, 2, 2, 1)
    extra = np.arange(5) * 10
    flow = image.ImageDataGenerator().flow([x, extra], np.arange(5), batch_size=2,
                                           shuffle=False, sample_weight=np.ones(5))
    (xb, eb), yb, wb = flow[1]
    np.testing.assert_array_equal(yb, [2, 3])
    np.testing.assert_array_equal(eb, [20, 30])
    np.testing.assert_array_equal(xb, x[2:4])
    assert wb.shape == (2,)
    only_x = image.ImageDataGenerator().flow(x, batch_size=5, shuffle=False)
    np.testing.assert_array_equal(next(only_x), x)


def test_flow_validation_subsets():
    x = np.zeros((10, 2, 2, 1), "float32")
    y = np.array([0, 1] * 5)
    gen = image.ImageDataGenerator(validation_split=0.2)
    val = gen.flow(x, y, batch_size=10, shuffle=False, subset="validation")
    train = gen.flow(x, y, batch_size=10, shuffle=False, subset="training")
    assert val.n == 2 and train.n == 8
    with pytest.raises(ValueError, match="classes"):
        gen.flow(x, np.sort(y), subset="validation")
    with pytest.raises(ValueError, match="subset"):
        gen.flow(x, y, subset="test")


def test_flow_index_generation_is_thread_safe():
    x = np.zeros((12, 1, 1, 1), "float32")
    flow = image.ImageDataGenerator().flow(x, np.arange(12), batch_size=2, seed=0)
    seen, lock = [], threading.Lock()

    def pull():
        for _ in range(4):
            _, yb = next(flow)
            with lock:
                seen.extend(yb.tolist())

    threads = [threading.Thread(target=pull) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == sorted(list(range(12)) * 2)  # two full epochs, no repeats


def test_flow_save_to_dir(tmp_path):
    x = np.random.default_rng(0).uniform(0, 255, size=(3, 4, 4, 3)).astype("float32")
    flow = image.ImageDataGenerator().flow(x, batch_size=3, save_to_dir=str(tmp_path),
                                           save_prefix="aug", save_format="png", seed=2)
    next(flow)
    files = sorted(os.listdir(tmp_path))
    assert len(files) == 3
    assert all(f.startswith("aug_") and f.endswith(".png") for f in files)


# -- files ------------------------------------------------------------------------------

COLORS = {"cat": [(255, 0, 0), (250, 10, 0), (240, 20, 0), (230, 30, 0), (220, 40, 0)],
          "dog": [(0, 0, 255), (0, 10, 250), (0, 20, 240), (0, 30, 230), (0, 40, 220)]}


@pytest.fixture
def image_tree(tmp_path):
    """root/<class>/img_<k>.png: solid 6x4 (h x w) images, plus a non-image file."""
    root = tmp_path / "images"
    for name, colors in COLORS.items():
        (root / name).mkdir(parents=True)
        for k, color in enumerate(colors):
            PIL.new("RGB", (4, 6), color).save(root / name / f"img_{k}.png")
    (root / "cat" / "notes.txt").write_text("not an image")
    return root


def test_load_img_and_array_round_trip(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, size=(5, 7, 3)).astype("float32")
    path = tmp_path / "a.png"
    image.save_img(path, x, scale=False)
    img = image.load_img(path)
    assert img.size == (7, 5)
    np.testing.assert_array_equal(image.img_to_array(img), x)
    assert image.img_to_array(img, data_format="channels_first").shape == (3, 5, 7)
    gray = image.load_img(str(path), color_mode="grayscale", target_size=(3, 4))
    assert image.img_to_array(gray).shape == (3, 4, 1)
    with pytest.warns(UserWarning):
        assert image.load_img(path, grayscale=True).mode == "L"
    np.testing.assert_array_equal(np.asarray(image.array_to_img(x, scale=False)), x)
    scaled = image.img_to_array(image.array_to_img(x))
    assert scaled.min() == 0 and scaled.max() == 255
    with pytest.raises(ValueError, match="color_mode"):
        image.load_img(path, color_mode="cmyk")


def test_flow_from_directory(image_tree):
    gen = image.ImageDataGenerator(rescale=1 / 255.0)
    it = gen.flow_from_directory(str(image_tree), target_size=(6, 4), batch_size=4,
                                 shuffle=False)
    assert it.class_indices == {"cat": 0, "dog": 1}
    assert it.samples == it.n == 10
    assert it.filenames[:2] == [os.path.join("cat", "img_0.png"),
                                os.path.join("cat", "img_1.png")]
    np.testing.assert_array_equal(it.classes, [0] * 5 + [1] * 5)
    xb, yb = it[1]
    assert xb.shape == (4, 6, 4, 3) and yb.shape == (4, 2)
    np.testing.assert_array_equal(yb, [[1, 0], [0, 1], [0, 1], [0, 1]])
    np.testing.assert_allclose(xb[0, 0, 0], np.array(COLORS["cat"][4]) / 255.0, rtol=1e-6)
    np.testing.assert_allclose(xb[1, 2, 3], np.array(COLORS["dog"][0]) / 255.0, rtol=1e-6)
    sizes = [len(next(it)[1]) for _ in range(4)]
    assert sizes == [4, 4, 2, 4]


def test_flow_from_directory_modes_and_subsets(image_tree):
    gen = image.ImageDataGenerator(validation_split=0.4)
    val = gen.flow_from_directory(str(image_tree), target_size=(3, 2), class_mode="binary",
                                  subset="validation", shuffle=False, color_mode="grayscale")
    train = gen.flow_from_directory(str(image_tree), target_size=(3, 2), class_mode="sparse",
                                    subset="training", shuffle=False)
    assert val.samples == 4 and train.samples == 6
    assert val.filenames == [os.path.join("cat", "img_0.png"), os.path.join("cat", "img_1.png"),
                             os.path.join("dog", "img_0.png"), os.path.join("dog", "img_1.png")]
    assert not set(val.filenames) & set(train.filenames)
    xb, yb = val[0]
    assert xb.shape == (4, 3, 2, 1)
    np.testing.assert_array_equal(yb, [0, 0, 1, 1])
    none = gen.flow_from_directory(str(image_tree), target_size=(3, 2), class_mode=None,
                                   classes=["dog"], batch_size=2, shuffle=False)
    assert none.samples == 5 and none[0].shape == (2, 3, 2, 3)
    auto = gen.flow_from_directory(str(image_tree), target_size=(3, 2), class_mode="input",
                                   batch_size=2)
    xa, ya = auto[0]
    np.testing.assert_array_equal(xa, ya)
    with pytest.raises(ValueError, match="class_mode"):
        gen.flow_from_directory(str(image_tree), class_mode="bogus")


def test_flow_from_directory_channels_first(image_tree, channels_first):
    it = image.ImageDataGenerator().flow_from_directory(str(image_tree), target_size=(6, 4),
                                                        batch_size=2)
    assert it[0][0].shape == (2, 3, 6, 4)


def test_flow_from_directory_save_to_dir(image_tree, tmp_path):
    out = tmp_path / "saved"
    out.mkdir()
    it = image.ImageDataGenerator(horizontal_flip=True).flow_from_directory(
        str(image_tree), target_size=(6, 4), batch_size=3, save_to_dir=str(out),
        save_prefix="x", save_format="jpeg", seed=1)
    next(it)
    files = os.listdir(out)
    assert len(files) == 3 and all(f.startswith("x_") and f.endswith(".jpeg") for f in files)


def test_dataframe_iterator_with_columns(image_tree):
    table = {"filename": [os.path.join("cat", "img_0.png"), os.path.join("dog", "img_1.png"),
                          os.path.join("dog", "missing.png")],
             "class": ["cat", "dog", "dog"], "w": [1.0, 2.0, 3.0]}
    with pytest.warns(UserWarning, match="invalid"):
        it = image.DataFrameIterator(table, str(image_tree), image.ImageDataGenerator(),
                                     target_size=(6, 4), weight_col="w", shuffle=False)
    assert it.samples == 2 and it.class_indices == {"cat": 0, "dog": 1}
    xb, yb, wb = it[0]
    np.testing.assert_array_equal(yb, [[1, 0], [0, 1]])
    np.testing.assert_array_equal(wb, [1.0, 2.0])


def test_flow_from_dataframe_needs_pandas(image_tree):
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pandas"):
            image.ImageDataGenerator().flow_from_dataframe({"filename": []})
        return
    df = pandas.DataFrame({"filename": [os.path.join("cat", "img_0.png")], "class": ["cat"]})
    it = image.ImageDataGenerator().flow_from_dataframe(df, str(image_tree),
                                                        target_size=(6, 4))
    assert it.samples == 1


# -- image_dataset_from_directory ------------------------------------------------------

def test_image_dataset_from_directory(image_tree):
    ds = image.image_dataset_from_directory(str(image_tree), image_size=(6, 4), batch_size=4,
                                            shuffle=False)
    assert ds.class_names == ["cat", "dog"]
    batches = list(ds)
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    xb, yb = batches[0]
    assert xb.shape == (4, 6, 4, 3) and xb.dtype == np.float32 and yb.dtype == np.int32
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), [0] * 5 + [1] * 5)
    np.testing.assert_array_equal(xb[0, 0, 0], COLORS["cat"][0])

    cat = image.image_dataset_from_directory(str(image_tree), image_size=(3, 2), batch_size=10,
                                             label_mode="categorical", shuffle=False)
    assert cat[0][1].shape == (10, 2) and cat[0][1].dtype == np.float32
    binary = image.image_dataset_from_directory(str(image_tree), image_size=(3, 2),
                                                label_mode="binary", shuffle=False)
    assert binary[0][1].shape == (10, 1)
    only = image.image_dataset_from_directory(str(image_tree), image_size=(3, 2), labels=None,
                                              color_mode="grayscale", shuffle=False)
    assert only[0].shape == (10, 3, 2, 1)


def test_image_dataset_split_and_keras_file_order(image_tree):
    from keras.src.utils import dataset_utils
    train, val = image.image_dataset_from_directory(
        str(image_tree), image_size=(3, 2), validation_split=0.3, subset="both", seed=11,
        batch_size=2)
    assert len(train.file_paths) == 7 and len(val.file_paths) == 3
    assert not set(train.file_paths) & set(val.file_paths)
    paths, labels, _ = dataset_utils.index_directory(
        str(image_tree), "inferred", formats=image.IMAGE_DATASET_FORMATS, shuffle=True,
        seed=11, verbose=False)
    assert train.file_paths + val.file_paths == list(paths)
    np.testing.assert_array_equal(np.concatenate([train.labels, val.labels]), labels)
    first = [b[1].tolist() for b in train]
    second = [b[1].tolist() for b in train]  # reshuffled for the next epoch
    assert sorted(sum(first, [])) == sorted(sum(second, []))
    with pytest.raises(ValueError, match="seed"):
        image.image_dataset_from_directory(str(image_tree), validation_split=0.3,
                                           subset="training")


def test_resize_matches_keras_ops(keras_ref, rng):
    x = rng.uniform(0, 255, size=(7, 10, 3)).astype("float32")
    for size in [(4, 5), (11, 13), (3, 17)]:
        for method in ("bilinear", "nearest"):
            expected = np.asarray(keras_ref.ops.image.resize(x, size, interpolation=method,
                                                             antialias=False))
            np.testing.assert_allclose(image.resize_array(x, size, method), expected,
                                       atol=1e-3)
    expected = np.asarray(keras_ref.preprocessing.image.smart_resize(x, (4, 4)))
    np.testing.assert_allclose(image.smart_resize(x, (4, 4)), expected, atol=1e-3)
