"""K.conv*, K.pool*, K.local_conv*, K.bias_add (jkeras/ops/conv.py) against Keras 3's ops
(keras.ops.conv ...) and NumPy references for what Keras 3 lacks."""
import numpy as np
import pytest

from jkeras.ops import conv


def _close(got, want):
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-4, atol=1e-4)


def _cf(x):
    """channels_last -> channels_first."""
    return np.moveaxis(x, -1, 1)


@pytest.mark.parametrize("rank,fn", [(1, conv.conv1d), (2, conv.conv2d), (3, conv.conv3d)])
@pytest.mark.parametrize("padding,strides,dilation", [("valid", 1, 1), ("same", 2, 1),
                                                      ("same", 1, 2)])
def test_conv_matches_keras(rng, keras_ref, rank, fn, padding, strides, dilation):
    x = rng.normal(size=(2,) + (7,) * rank + (3,)).astype("float32")
    k = rng.normal(size=(3,) * rank + (3, 4)).astype("float32")
    want = keras_ref.ops.conv(x, k, strides=strides, padding=padding,
                              dilation_rate=dilation)
    _close(fn(x, k, strides, padding, "channels_last", dilation), want)
    got = fn(_cf(x), k, strides, padding, "channels_first", dilation)
    _close(got, _cf(np.asarray(want)))


def test_conv1d_causal_pads_on_the_left(rng):
    x = rng.normal(size=(1, 5, 1)).astype("float32")
    k = np.array([[[2.0]], [[1.0]]], "float32")              # y[t] = 2 x[t-1] + x[t]
    want = x[0, :, 0] + 2 * np.concatenate([[0.0], x[0, :-1, 0]])
    _close(conv.conv1d(x, k, padding="causal")[0, :, 0], want)


@pytest.mark.parametrize("padding,strides", [("valid", 2), ("same", 2), ("same", 1)])
def test_conv2d_transpose_matches_keras(rng, keras_ref, padding, strides):
    x = rng.normal(size=(2, 4, 5, 3)).astype("float32")
    k = rng.normal(size=(3, 3, 6, 3)).astype("float32")       # (rows, cols, out, in)
    want = np.asarray(keras_ref.ops.conv_transpose(x, k, strides, padding=padding))
    _close(conv.conv2d_transpose(x, k, (None,) + want.shape[1:], (strides, strides),
                                 padding), want)
    got = conv.conv2d_transpose(_cf(x), k, _cf(want).shape, (strides, strides), padding,
                                "channels_first")
    _close(got, _cf(want))


def test_conv3d_transpose_matches_keras(rng, keras_ref):
    x = rng.normal(size=(1, 3, 4, 3, 2)).astype("float32")
    k = rng.normal(size=(2, 2, 2, 5, 2)).astype("float32")
    want = np.asarray(keras_ref.ops.conv_transpose(x, k, 2, padding="valid"))
    _close(conv.conv3d_transpose(x, k, want.shape, (2, 2, 2)), want)


def test_conv_transpose_checks_output_shape(rng):
    x = np.zeros((1, 4, 4, 3), "float32")
    with pytest.raises(ValueError, match="output_shape"):
        conv.conv2d_transpose(x, np.zeros((3, 3, 2, 3), "float32"), (1, 20, 20, 2))


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_depthwise_and_separable_match_keras(rng, keras_ref, padding):
    x = rng.normal(size=(2, 6, 6, 3)).astype("float32")
    dk = rng.normal(size=(3, 3, 3, 2)).astype("float32")
    pk = rng.normal(size=(1, 1, 6, 4)).astype("float32")
    _close(conv.depthwise_conv2d(x, dk, (2, 2), padding),
           keras_ref.ops.depthwise_conv(x, dk, 2, padding=padding))
    _close(conv.separable_conv2d(x, dk, pk, (1, 1), padding, dilation_rate=(2, 2)),
           keras_ref.ops.separable_conv(x, dk, pk, 1, padding=padding, dilation_rate=2))
    x1, dk1, pk1 = x[:, 0], dk[0], pk[0]
    _close(conv.separable_conv1d(_cf(x1), dk1, pk1, 1, padding, "channels_first"),
           _cf(np.asarray(keras_ref.ops.separable_conv(x1, dk1, pk1, 1, padding=padding))))


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_pool_matches_keras(rng, keras_ref, mode, padding):
    x = rng.normal(size=(2, 7, 6, 3)).astype("float32")
    ref = keras_ref.ops.max_pool if mode == "max" else keras_ref.ops.average_pool
    _close(conv.pool2d(x, (3, 2), (2, 2), padding, "channels_last", mode),
           ref(x, (3, 2), (2, 2), padding))
    x3 = rng.normal(size=(1, 3, 5, 4, 5)).astype("float32")   # channels_first
    want = ref(np.moveaxis(x3, 1, -1), 2, 2, padding)
    _close(conv.pool3d(x3, (2, 2, 2), (2, 2, 2), padding, "channels_first", mode),
           np.moveaxis(np.asarray(want), -1, 1))


def test_pool_rejects_unknown_mode():
    with pytest.raises(ValueError, match="pool_mode"):
        conv.pool2d(np.zeros((1, 4, 4, 1)), (2, 2), pool_mode="sum")


def test_local_conv1d_matches_numpy(rng):
    x = rng.normal(size=(2, 9, 3)).astype("float32")
    size, stride = 3, 2
    length = (9 - size) // stride + 1
    k = rng.normal(size=(length, size * 3, 4)).astype("float32")
    want = np.stack([x[:, i * stride:i * stride + size].reshape(2, -1) @ k[i]
                     for i in range(length)], axis=1)
    _close(conv.local_conv1d(x, k, (size,), (stride,)), want)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_local_conv2d_matches_numpy(rng, data_format):
    x = rng.normal(size=(2, 6, 5, 3)).astype("float32")
    (kh, kw), (sh, sw) = (3, 2), (1, 2)
    rows, cols = (6 - kh) // sh + 1, (5 - kw) // sw + 1
    k = rng.normal(size=(rows * cols, kh * kw * 3, 4)).astype("float32")
    xin = x if data_format == "channels_last" else _cf(x)
    out = np.zeros((2, rows, cols, 4), "float32")
    for i in range(rows):
        for j in range(cols):
            if data_format == "channels_last":
                patch = xin[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :]
            else:
                patch = xin[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
            out[:, i, j] = patch.reshape(2, -1) @ k[i * cols + j]
    want = out if data_format == "channels_last" else _cf(out)
    _close(conv.local_conv2d(xin, k, (kh, kw), (sh, sw), (rows, cols), data_format), want)


def test_bias_add_follows_keras2(rng):
    x = rng.normal(size=(2, 3, 4, 5)).astype("float32")
    b = rng.normal(size=(3,)).astype("float32")
    _close(conv.bias_add(x, b, "channels_first"), x + b[None, :, None, None])
    b5 = rng.normal(size=(5,)).astype("float32")
    _close(conv.bias_add(x, b5, "channels_last"), x + b5)
    full = rng.normal(size=(4, 5, 3)).astype("float32")        # (H, W, C), reshaped
    _close(conv.bias_add(x, full, "channels_first"), x + full.reshape(1, 3, 4, 5))
    with pytest.raises(ValueError, match="bias"):
        conv.bias_add(x, np.zeros((2, 2)), "channels_last")


def test_conv_errors_name_the_argument():
    x, k = np.zeros((1, 5, 5, 1)), np.zeros((3, 3, 1, 1))
    with pytest.raises(ValueError, match="padding"):
        conv.conv2d(x, k, padding="full")
    with pytest.raises(ValueError, match="data_format"):
        conv.conv2d(x, k, data_format="NHWC")
    with pytest.raises(ValueError, match="strides"):
        conv.conv2d(x, k, strides=(1, 0))
    with pytest.raises(ValueError, match="rank 4"):
        conv.conv2d(x[0], k)
