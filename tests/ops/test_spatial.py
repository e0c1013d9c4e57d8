"""K.*_padding and K.resize_* (jkeras/ops/spatial.py) against NumPy and Keras 3 ops."""
import numpy as np
import pytest

from jkeras.ops import spatial


def test_paddings_match_numpy(rng):
    x = rng.normal(size=(2, 3, 4)).astype("float32")
    np.testing.assert_array_equal(np.asarray(spatial.temporal_padding(x, (2, 1))),
                                  np.pad(x, [(0, 0), (2, 1), (0, 0)]))
    x4 = rng.normal(size=(1, 2, 3, 4)).astype("float32")
    np.testing.assert_array_equal(
        np.asarray(spatial.spatial_2d_padding(x4, ((1, 0), (0, 2)), "channels_first")),
        np.pad(x4, [(0, 0), (0, 0), (1, 0), (0, 2)]))
    x5 = rng.normal(size=(1, 2, 2, 2, 3)).astype("float32")
    np.testing.assert_array_equal(
        np.asarray(spatial.spatial_3d_padding(x5, ((1, 1), (0, 1), (2, 0)),
                                              "channels_last")),
        np.pad(x5, [(0, 0), (1, 1), (0, 1), (2, 0), (0, 0)]))
    with pytest.raises(ValueError, match="padding"):
        spatial.spatial_2d_padding(x4, (1, 1))


@pytest.mark.slow
def test_resize_images_nearest_and_legacy_bilinear(rng):
    x = rng.normal(size=(1, 3, 2, 2)).astype("float32")
    np.testing.assert_array_equal(
        np.asarray(spatial.resize_images(x, 2, 3, "channels_last")),
        x.repeat(2, axis=1).repeat(3, axis=2))
    got = np.asarray(spatial.resize_images(x, 2, 1, "channels_last", "bilinear"))
    # TensorFlow 1 resize_bilinear: output row i samples input row i / 2.
    want = np.stack([x[:, 0], (x[:, 0] + x[:, 1]) / 2, x[:, 1], (x[:, 1] + x[:, 2]) / 2,
                     x[:, 2], x[:, 2]], axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    with pytest.raises(ValueError, match="interpolation"):
        spatial.resize_images(x, 2, 2, "channels_last", "cubic")
    with pytest.raises(ValueError, match="height_factor"):
        spatial.resize_images(x, 0, 2, "channels_last")


def test_resize_volumes_repeats(rng, keras_ref):
    x = rng.normal(size=(1, 2, 2, 3, 2)).astype("float32")
    want = keras_ref.layers.UpSampling3D((2, 1, 3), data_format="channels_first")(x)
    np.testing.assert_array_equal(
        np.asarray(spatial.resize_volumes(x, 2, 1, 3, "channels_first")), np.asarray(want))
