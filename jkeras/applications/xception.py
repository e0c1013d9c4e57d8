"""Xception (Chollet, 2017): depthwise separable convolutions in residual blocks; an
entry flow that downsamples three times, eight middle blocks and an exit flow."""
from jkeras.applications import _scaffold, imagenet_utils
from jkeras.applications.imagenet_utils import decode_predictions
from jkeras.layers.convolutional import Conv2D, SeparableConv2D
from jkeras.layers.core import Activation
from jkeras.layers.merge import add
from jkeras.layers.normalization import BatchNormalization
from jkeras.layers.pooling import MaxPooling2D

__all__ = ["Xception", "preprocess_input", "decode_predictions"]

BASE_WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                     "xception/")
WEIGHTS_HASHES = {  # file name -> md5, as Keras publishes them
    "xception_weights_tf_dim_ordering_tf_kernels.h5": "0a58e3b7378bc2990ea3b43d5981f1f6",
    "xception_weights_tf_dim_ordering_tf_kernels_notop.h5":
        "b0042744bf5b25fce3cb969f33bebb97",
}

preprocess_input = imagenet_utils.preprocessor("tf")


def _bn(name=None):
    return BatchNormalization(axis=_scaffold.channel_axis(), name=name)


def _sepconv_bn(x, filters, name):
    x = SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return _bn(f"{name}_bn")(x)


def _downsampling_block(x, filters, block, relu_first=True):
    """Two separable convolutions and a strided max pooling, added to a strided 1x1
    projection of the block's input (`filters` is a pair: first and second conv)."""
    residual = Conv2D(filters[1], (1, 1), strides=(2, 2), padding="same",
                      use_bias=False)(x)
    residual = _bn()(residual)
    if relu_first:
        x = Activation("relu", name=f"block{block}_sepconv1_act")(x)
    x = _sepconv_bn(x, filters[0], f"block{block}_sepconv1")
    x = Activation("relu", name=f"block{block}_sepconv2_act")(x)
    x = _sepconv_bn(x, filters[1], f"block{block}_sepconv2")
    x = MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"block{block}_pool")(x)
    return add([x, residual])


def Xception(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax", name="xception"):
    """Xception for 299x299 images (at least 71x71 without the top). Arguments as
    `VGG16`; inputs preprocessed by `xception.preprocess_input` ('tf')."""
    img_input, _ = _scaffold.start(weights, include_top, classes, pooling, input_tensor,
                                   input_shape, default_size=299, min_size=71)
    x = Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(img_input)
    x = _bn("block1_conv1_bn")(x)
    x = Activation("relu", name="block1_conv1_act")(x)
    x = Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = _bn("block1_conv2_bn")(x)
    x = Activation("relu", name="block1_conv2_act")(x)

    x = _downsampling_block(x, (128, 128), 2, relu_first=False)
    x = _downsampling_block(x, (256, 256), 3)
    x = _downsampling_block(x, (728, 728), 4)
    for block in range(5, 13):
        residual = x
        for conv in (1, 2, 3):
            x = Activation("relu", name=f"block{block}_sepconv{conv}_act")(x)
            x = _sepconv_bn(x, 728, f"block{block}_sepconv{conv}")
        x = add([x, residual])
    x = _downsampling_block(x, (728, 1024), 13)

    for conv, filters in ((1, 1536), (2, 2048)):
        x = _sepconv_bn(x, filters, f"block14_sepconv{conv}")
        x = Activation("relu", name=f"block14_sepconv{conv}_act")(x)
    x = _scaffold.top(x, include_top, pooling, classes, classifier_activation, weights)
    return _scaffold.finish_model(
        img_input, input_tensor, x, name, weights,
        _scaffold.tf_kernels_file("xception", include_top), BASE_WEIGHTS_PATH, WEIGHTS_HASHES)
