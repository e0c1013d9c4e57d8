"""Convolution, upsampling, padding and cropping layers against real Keras 3."""
import jax
import numpy as np
import pytest

from jkeras import regularizers
from jkeras.layers import convolutional as conv
from jkeras.utils import conv_utils
from tests.conftest import assert_config_like_keras

CF = {"data_format": "channels_first"}


def _cheap_initializers(name):
    """Constant initializers (random ones compile per shape, slowly); weights are then set
    to random values."""
    if name.startswith("Separable"):
        return {"depthwise_initializer": "ones", "pointwise_initializer": "ones"}
    if name.startswith("Depthwise"):
        return {"depthwise_initializer": "ones"}
    if name.startswith("Conv"):
        return {"kernel_initializer": "ones"}
    return {}


def check_layer(keras, name, kwargs, input_shape, rng, ref_name=None, atol=1e-5):
    """Builds `name(**kwargs)` here and in Keras, shares Keras's weights, compares outputs,
    shapes (with None batch), weight names/order, param counts and configs."""
    x = rng.standard_normal(input_shape).astype("float32")
    kwargs = {**_cheap_initializers(name), **kwargs}
    ref = getattr(keras.layers, ref_name or name)(**kwargs)
    ref.build(input_shape)
    ref.set_weights([rng.standard_normal(w.shape).astype("float32")
                     for w in ref.get_weights()])
    expected = np.asarray(ref(x))
    ours = getattr(conv, name)(**kwargs)
    ours.build_from_shape(input_shape)
    keras2_names = {"kernel": "depthwise_kernel"} if name.startswith("Depthwise") else {}
    assert [w.name.split("/")[-1].split(":")[0] for w in ours.weights] == \
        [keras2_names.get(n, n) for n in (w.path.split("/")[-1] for w in ref.weights)]
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in ref.weights]
    ours.set_weights(ref.get_weights())
    assert ours.count_params() == ref.count_params()
    got = np.asarray(ours(x))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=atol, rtol=1e-5)
    batchless = (None,) + tuple(input_shape[1:])
    assert tuple(ours.compute_output_shape(batchless)) == \
        tuple(ref.compute_output_shape(batchless))
    config = ours.get_config()
    assert_config_like_keras(config, ref.get_config())
    clone = type(ours).from_config(config)
    assert clone.get_config() == config
    from_keras = type(ours).from_config(ref.get_config())  # a Keras 3 config loads too
    assert_config_like_keras(from_keras.get_config(), ref.get_config())
    return ours, x, got


CONV_CASES = [
    ("Conv1D", dict(filters=4, kernel_size=3), (2, 9, 3)),
    ("Conv1D", dict(filters=4, kernel_size=3, padding="same", strides=2), (2, 9, 3)),
    ("Conv1D", dict(filters=4, kernel_size=3, padding="causal", dilation_rate=2), (2, 9, 3)),
    ("Conv1D", dict(filters=4, kernel_size=2, groups=2, **CF), (2, 4, 9)),
    ("Conv1D", dict(filters=2, kernel_size=3, padding="causal", strides=2, **CF), (2, 3, 9)),
    ("Conv2D", dict(filters=4, kernel_size=3, activation="relu"), (2, 7, 7, 3)),
    ("Conv2D", dict(filters=4, kernel_size=(3, 2), strides=(2, 1), padding="same"),
     (2, 7, 6, 3)),
    ("Conv2D", dict(filters=4, kernel_size=3, dilation_rate=2, use_bias=False), (2, 7, 7, 3)),
    ("Conv2D", dict(filters=6, kernel_size=3, groups=3, padding="same"), (2, 7, 7, 6)),
    ("Conv2D", dict(filters=4, kernel_size=3, strides=2, padding="same", **CF), (2, 3, 7, 7)),
    ("Conv2D", dict(filters=4, kernel_size=2, groups=2, dilation_rate=(2, 1), **CF),
     (2, 4, 7, 7)),
    ("Conv3D", dict(filters=2, kernel_size=2), (2, 4, 5, 5, 3)),
    ("Conv3D", dict(filters=2, kernel_size=3, strides=2, padding="same", **CF),
     (2, 3, 5, 4, 5)),
]

TRANSPOSE_CASES = [
    ("Conv1DTranspose", dict(filters=3, kernel_size=3, strides=2), (2, 5, 2)),
    ("Conv1DTranspose", dict(filters=3, kernel_size=3, strides=2, padding="same",
                             output_padding=1), (2, 5, 2)),
    ("Conv1DTranspose", dict(filters=3, kernel_size=2, dilation_rate=2, **CF), (2, 2, 5)),
    ("Conv2DTranspose", dict(filters=4, kernel_size=3), (2, 5, 5, 3)),
    ("Conv2DTranspose", dict(filters=4, kernel_size=3, strides=2, output_padding=1),
     (2, 5, 4, 3)),
    ("Conv2DTranspose", dict(filters=4, kernel_size=(3, 4), strides=(2, 3), padding="same"),
     (2, 5, 4, 3)),
    ("Conv2DTranspose", dict(filters=4, kernel_size=4, strides=3, padding="same",
                             output_padding=(2, 0)), (2, 4, 5, 3)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, strides=2, padding="same",
                             output_padding=1, **CF), (2, 3, 5, 4)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=2, strides=4, **CF), (2, 3, 3, 4)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, dilation_rate=2, padding="same"),
     (2, 5, 5, 3)),
    ("Conv3DTranspose", dict(filters=2, kernel_size=2, strides=2), (2, 3, 3, 2, 3)),
    ("Conv3DTranspose", dict(filters=2, kernel_size=3, strides=2, padding="same",
                             output_padding=1, **CF), (2, 3, 3, 2, 3)),
]

DEPTHWISE_CASES = [
    ("DepthwiseConv1D", dict(kernel_size=3), (2, 9, 3)),
    ("DepthwiseConv1D", dict(kernel_size=3, depth_multiplier=2, strides=2, padding="same",
                             **CF), (2, 3, 9)),
    ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=2), (2, 7, 7, 3)),
    ("DepthwiseConv2D", dict(kernel_size=(3, 2), strides=2, padding="same"), (2, 7, 7, 3)),
    ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=3, dilation_rate=2, **CF),
     (2, 2, 7, 7)),
    ("SeparableConv1D", dict(filters=4, kernel_size=3), (2, 9, 3)),
    ("SeparableConv1D", dict(filters=4, kernel_size=3, depth_multiplier=2, strides=2,
                             padding="same", **CF), (2, 3, 9)),
    ("SeparableConv2D", dict(filters=4, kernel_size=3, depth_multiplier=2,
                             activation="tanh"), (2, 7, 7, 3)),
    ("SeparableConv2D", dict(filters=5, kernel_size=3, strides=2, padding="same",
                             use_bias=False), (2, 7, 7, 3)),
    ("SeparableConv2D", dict(filters=4, kernel_size=2, dilation_rate=2, **CF), (2, 3, 7, 7)),
]

RESHAPE_CASES = [
    ("UpSampling1D", dict(size=3), (2, 4, 3)),
    ("UpSampling2D", dict(size=(2, 3)), (2, 3, 4, 3)),
    ("UpSampling2D", dict(size=2, **CF), (2, 3, 3, 4)),
    ("UpSampling2D", dict(size=(2, 3), interpolation="bilinear"), (2, 3, 4, 3)),
    ("UpSampling2D", dict(size=3, interpolation="bilinear", **CF), (2, 3, 4, 3)),
    ("UpSampling2D", dict(size=2, interpolation="bicubic"), (2, 4, 4, 2)),
    ("UpSampling3D", dict(size=(1, 2, 3)), (2, 2, 3, 2, 3)),
    ("UpSampling3D", dict(size=2, **CF), (2, 3, 2, 3, 2)),
    ("ZeroPadding1D", dict(padding=2), (2, 4, 3)),
    ("ZeroPadding1D", dict(padding=(1, 3)), (2, 4, 3)),
    ("ZeroPadding2D", dict(padding=(1, 2)), (2, 3, 4, 3)),
    ("ZeroPadding2D", dict(padding=((1, 0), (2, 3)), **CF), (2, 3, 4, 3)),
    ("ZeroPadding3D", dict(padding=1), (2, 2, 3, 2, 3)),
    ("ZeroPadding3D", dict(padding=((0, 1), (2, 0), (1, 1)), **CF), (2, 3, 2, 3, 2)),
    ("Cropping1D", dict(cropping=(1, 2)), (2, 6, 3)),
    ("Cropping1D", dict(cropping=2), (2, 6, 3)),
    ("Cropping2D", dict(cropping=((1, 0), (2, 1))), (2, 5, 6, 3)),
    ("Cropping2D", dict(cropping=1, **CF), (2, 3, 5, 6)),
    ("Cropping3D", dict(cropping=(1, 0, 2)), (2, 4, 3, 5, 2)),
    ("Cropping3D", dict(cropping=((1, 1), (0, 1), (2, 0)), **CF), (2, 2, 4, 3, 5)),
]


@pytest.mark.parametrize("name,kwargs,shape", CONV_CASES)
def test_conv_matches_keras(keras_ref, rng, name, kwargs, shape):
    check_layer(keras_ref, name, kwargs, shape, rng)


@pytest.mark.parametrize("name,kwargs,shape", TRANSPOSE_CASES)
def test_conv_transpose_matches_keras(keras_ref, rng, name, kwargs, shape):
    check_layer(keras_ref, name, kwargs, shape, rng)


@pytest.mark.parametrize("name,kwargs,shape", DEPTHWISE_CASES)
def test_depthwise_and_separable_match_keras(keras_ref, rng, name, kwargs, shape):
    check_layer(keras_ref, name, kwargs, shape, rng)


@pytest.mark.parametrize("name,kwargs,shape", RESHAPE_CASES)
def test_resizing_layers_match_keras(keras_ref, rng, name, kwargs, shape):
    check_layer(keras_ref, name, kwargs, shape, rng, atol=1e-5)


@pytest.mark.parametrize("name", ["DepthwiseConv1D", "SeparableConv1D"])
def test_causal_depthwise_equals_left_padded_valid(keras_ref, rng, name):
    extra = {"filters": 4, **_cheap_initializers(name)} if name.startswith("Separable") \
        else _cheap_initializers(name)
    x = rng.standard_normal((2, 8, 3)).astype("float32")
    ref = getattr(keras_ref.layers, name)(kernel_size=3, dilation_rate=2, **extra)
    ref.build((2, 12, 3))
    ours = getattr(conv, name)(kernel_size=3, dilation_rate=2, padding="causal", **extra)
    ref.set_weights([rng.standard_normal(w.shape) for w in ref.get_weights()])
    expected = np.asarray(ref(np.pad(x, ((0, 0), (4, 0), (0, 0)))))
    ours.build_from_shape(x.shape)
    ours.set_weights(ref.get_weights())
    np.testing.assert_allclose(np.asarray(ours(x)), expected, atol=1e-5, rtol=1e-5)


def test_vgg_like_param_count_matches_keras(keras_ref):
    def stack(L, k="ones"):
        return [L.Conv2D(8, 3, padding="same", activation="relu", kernel_initializer=k),
                L.Conv2D(8, 3, kernel_initializer=k), L.MaxPooling2D(),
                L.SeparableConv2D(16, 3, padding="same", depthwise_initializer=k,
                                  pointwise_initializer=k),
                L.DepthwiseConv2D(3, depth_multiplier=2, depthwise_initializer=k),
                L.Conv2DTranspose(4, 3, strides=2, kernel_initializer=k),
                L.ZeroPadding2D(1), L.Cropping2D(2), L.UpSampling2D(),
                L.Conv2D(3, 1, kernel_initializer=k)]
    from jkeras.layers import pooling
    ours_ns = type("L", (), {**vars(conv), **vars(pooling)})
    model = keras_ref.Sequential([keras_ref.Input((16, 16, 3))] + stack(keras_ref.layers))
    shape, total = (None, 16, 16, 3), 0
    for layer in stack(ours_ns):
        layer.build_from_shape(shape)
        total += layer.count_params()
        shape = layer.compute_output_shape(shape)
    assert total == model.count_params()
    assert tuple(shape) == tuple(model.output_shape)


def test_output_shapes_with_unknown_spatial_dims(keras_ref):
    cases = [(conv.Conv2D(4, 3), keras_ref.layers.Conv2D(4, 3), (None, None, 7, 3)),
             (conv.Conv2DTranspose(4, 3, strides=2), keras_ref.layers.Conv2DTranspose(
                 4, 3, strides=2), (None, None, 5, 3)),
             (conv.SeparableConv2D(4, 3, **CF), keras_ref.layers.SeparableConv2D(4, 3, **CF),
              (None, 3, None, None)),
             (conv.UpSampling2D(), keras_ref.layers.UpSampling2D(), (None, None, 4, 3)),
             (conv.Cropping2D(1), keras_ref.layers.Cropping2D(1), (None, None, 4, 3)),
             (conv.ZeroPadding3D(1), keras_ref.layers.ZeroPadding3D(1),
              (None, 2, None, 3, 1))]
    for ours, ref, shape in cases:
        assert tuple(ours.compute_output_shape(shape)) == tuple(ref.compute_output_shape(shape))


def test_symbolic_call_gives_exact_shapes():
    from jkeras.engine.input_layer import Input
    x = Input((None, None, 3))
    y = conv.Conv2D(4, 3, strides=2, padding="same", kernel_initializer="ones")(x)
    assert tuple(y.shape) == (None, None, None, 4)
    z = conv.Conv2DTranspose(2, 3, strides=2, kernel_initializer="ones")(Input((5, 6, 3)))
    assert tuple(z.shape) == (None, 11, 13, 2)


def test_apply_is_jittable(rng):
    layer = conv.SeparableConv2D(4, 3, padding="same", depthwise_initializer="ones",
                                 pointwise_initializer="ones")
    x = rng.standard_normal((2, 7, 7, 3)).astype("float32")
    layer.build_from_shape(x.shape)
    variables = layer.variables_tree()
    jitted = jax.jit(lambda v, a: layer.apply(v, a)[0])
    np.testing.assert_allclose(np.asarray(jitted(variables, x)), np.asarray(layer(x)),
                               atol=1e-6)


def test_separable_accepts_keras2_kernel_spellings():
    layer = conv.SeparableConv2D(4, 3, kernel_initializer="zeros",
                                 kernel_regularizer=regularizers.L2(0.5),
                                 pointwise_initializer="ones")
    layer.build_from_shape((None, 5, 5, 2))
    depthwise, pointwise, _ = layer.get_weights()
    assert not depthwise.any() and (pointwise == 1).all()
    params = {"depthwise_kernel": np.ones((3, 3, 2, 1), "float32"),
              "pointwise_kernel": np.ones((1, 1, 2, 4), "float32"),
              "bias": np.ones((4,), "float32")}
    np.testing.assert_allclose(float(layer.regularization_loss(params)), 0.5 * (18 + 8))
    assert "kernel_initializer" not in layer.get_config()


def test_regularizers_and_constraints_find_their_weights():
    from jkeras import constraints
    layer = conv.DepthwiseConv2D(2, depthwise_regularizer=regularizers.L1(0.1),
                                 bias_regularizer=regularizers.L2(1.0),
                                 depthwise_constraint=constraints.NonNeg(),
                                 depthwise_initializer="ones")
    layer.build_from_shape((None, 4, 4, 2))
    params = {"depthwise_kernel": -np.ones((2, 2, 2, 1), "float32"),
              "bias": np.full((2,), 2.0, "float32")}
    np.testing.assert_allclose(float(layer.regularization_loss(params)), 0.1 * 8 + 8.0)
    constrained = layer.apply_constraints(params)
    assert not np.asarray(constrained["depthwise_kernel"]).any()
    np.testing.assert_array_equal(constrained["bias"], params["bias"])
    dense = conv.Conv1D(2, 1, kernel_regularizer="l2", kernel_initializer="ones")
    dense.build_from_shape((None, 3, 1))
    assert float(dense.regularization_loss({"kernel": np.ones((1, 1, 2), "float32"),
                                            "bias": np.zeros(2, "float32")})) > 0


def test_depthwise_accepts_keras2_config_leftovers(keras_ref):
    config = conv.DepthwiseConv2D(3).get_config()
    config.update(groups=1, kernel_regularizer=None)
    assert conv.DepthwiseConv2D.from_config(config).kernel_size == (3, 3)


def test_aliases():
    assert conv.Convolution2D is conv.Conv2D
    assert conv.Deconvolution2D is conv.Conv2DTranspose
    assert conv.SeparableConvolution2D is conv.SeparableConv2D
    assert conv.Convolution1D is conv.Conv1D and conv.Convolution3D is conv.Conv3D


@pytest.mark.parametrize("make,message", [
    (lambda: conv.Conv2D(0, 3), "filters=0"),
    (lambda: conv.Conv2D("four", 3), "filters='four'"),
    (lambda: conv.Conv2D(4, (3, 3, 3)), "kernel_size"),
    (lambda: conv.Conv2D(4, 3, padding="causal"), "padding"),
    (lambda: conv.Conv2D(5, 3, groups=2), "groups=2"),
    (lambda: conv.Conv2D(4, 3, strides=2, dilation_rate=2), "dilation_rate"),
    (lambda: conv.Conv2DTranspose(4, 3, strides=2, output_padding=2), "output_padding"),
    (lambda: conv.DepthwiseConv2D(3, depth_multiplier=0), "depth_multiplier"),
    (lambda: conv.UpSampling2D(interpolation="gaussian"), "interpolation"),
    (lambda: conv.ZeroPadding2D(((1, 2, 3), 1)), "padding"),
])
def test_bad_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_input_shapes_are_reported():
    with pytest.raises(ValueError, match="groups"):
        conv.Conv2D(4, 3, groups=2).build_from_shape((None, 7, 7, 3))
    with pytest.raises(ValueError, match="zero or negative"):
        conv.Conv2D(4, 5).build_from_shape((None, 3, 7, 3))
    with pytest.raises(ValueError, match="cropping"):
        conv.Cropping2D(2).compute_output_shape((None, 4, 7, 3))


def test_conv_utils_lengths():
    assert conv_utils.conv_output_length(7, 3, "valid", 2) == 3
    assert conv_utils.conv_output_length(7, 3, "same", 2) == 4
    assert conv_utils.conv_output_length(None, 3, "same", 2) is None
    assert conv_utils.deconv_output_length(5, 3, "valid", None, 2) == 11
    assert conv_utils.deconv_output_length(5, 3, "same", 1, 2) == 10
    assert conv_utils.normalize_tuple(2, 3, "size") == (2, 2, 2)
    kernel = np.arange(8).reshape(2, 2, 2, 1)
    np.testing.assert_array_equal(conv_utils.convert_kernel(kernel), kernel[::-1, ::-1])


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_atrous_convolutions_are_dilated_convs(keras_ref, rng):
    """Keras 1's AtrousConvolution1D/2D build Conv1D/Conv2D with dilation_rate=atrous_rate,
    also from Keras 1 argument names; outputs match Keras 3's dilated convolutions."""
    layer = conv.AtrousConvolution2D(4, 3, 3, atrous_rate=(2, 2), border_mode="same",
                                     init="ones")
    assert type(layer) is conv.Conv2D
    assert (layer.kernel_size, layer.dilation_rate, layer.padding) == ((3, 3), (2, 2), "same")
    x = rng.standard_normal((2, 9, 9, 3)).astype("float32")
    ref = keras_ref.layers.Conv2D(4, 3, dilation_rate=2, padding="same")
    expected = np.asarray(ref(x))
    layer(x)
    layer.set_weights(ref.get_weights())
    np.testing.assert_allclose(np.asarray(layer(x)), expected, rtol=1e-5, atol=1e-5)
    one_d = conv.AtrousConv1D(nb_filter=2, filter_length=3, atrous_rate=3)
    assert type(one_d) is conv.Conv1D
    assert (one_d.filters, one_d.kernel_size, one_d.dilation_rate) == (2, (3,), (3,))
    with pytest.warns(DeprecationWarning, match="dilation_rate"):
        conv.AtrousConvolution1D(2, 3)
    with pytest.raises(TypeError, match="nb_filter.*filters"):
        conv.AtrousConvolution1D(nb_filter=2, filters=2, kernel_size=3)
