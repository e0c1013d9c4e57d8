"""InceptionV3 (Szegedy et al., 2015): a convolutional stem, then eleven Inception
modules (`mixed0` to `mixed10`) whose parallel branches are concatenated."""
from jkeras.applications import _scaffold, imagenet_utils
from jkeras.applications.imagenet_utils import decode_predictions
from jkeras.layers.convolutional import Conv2D
from jkeras.layers.core import Activation
from jkeras.layers.merge import concatenate
from jkeras.layers.normalization import BatchNormalization
from jkeras.layers.pooling import AveragePooling2D, MaxPooling2D

__all__ = ["InceptionV3", "preprocess_input", "decode_predictions"]

BASE_WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                     "inception_v3/")
WEIGHTS_HASHES = {  # file name -> md5, as Keras publishes them
    "inception_v3_weights_tf_dim_ordering_tf_kernels.h5": "9a0d58056eeedaa3f26cb7ebd46da564",
    "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5":
        "bcbd6486424b2319ff4ef7d526e38f63",
}

preprocess_input = imagenet_utils.preprocessor("tf")


def conv2d_bn(x, filters, rows, cols, padding="same", strides=(1, 1), name=None):
    """Convolution without bias, batch normalization without scale, then ReLU."""
    x = Conv2D(filters, (rows, cols), strides=strides, padding=padding, use_bias=False,
               name=None if name is None else f"{name}_conv")(x)
    x = BatchNormalization(axis=_scaffold.bn_axis(), scale=False,
                           name=None if name is None else f"{name}_bn")(x)
    return Activation("relu", name=name)(x)


def _average_branch(x, filters):
    branch = AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)
    return conv2d_bn(branch, filters, 1, 1)


def _module_35(x, pool_filters, name):
    """The 35x35 module: 1x1, 5x5, double 3x3 and pooled branches."""
    branch1x1 = conv2d_bn(x, 64, 1, 1)
    branch5x5 = conv2d_bn(conv2d_bn(x, 48, 1, 1), 64, 5, 5)
    branch3x3dbl = conv2d_bn(x, 64, 1, 1)
    branch3x3dbl = conv2d_bn(conv2d_bn(branch3x3dbl, 96, 3, 3), 96, 3, 3)
    pool = _average_branch(x, pool_filters)
    return concatenate([branch1x1, branch5x5, branch3x3dbl, pool],
                       axis=_scaffold.bn_axis(), name=name)


def _module_17(x, width, name):
    """The 17x17 module: 1x1, factorized 7x7, double factorized 7x7 and pooled branches."""
    branch1x1 = conv2d_bn(x, 192, 1, 1)
    branch7x7 = conv2d_bn(x, width, 1, 1)
    branch7x7 = conv2d_bn(branch7x7, width, 1, 7)
    branch7x7 = conv2d_bn(branch7x7, 192, 7, 1)
    dbl = conv2d_bn(x, width, 1, 1)
    for filters, rows, cols in ((width, 7, 1), (width, 1, 7), (width, 7, 1), (192, 1, 7)):
        dbl = conv2d_bn(dbl, filters, rows, cols)
    pool = _average_branch(x, 192)
    return concatenate([branch1x1, branch7x7, dbl, pool], axis=_scaffold.bn_axis(),
                       name=name)


def _module_8(x, index):
    """The 8x8 module, whose 3x3 branches split into parallel 1x3 and 3x1 convolutions."""
    axis = _scaffold.bn_axis()
    branch1x1 = conv2d_bn(x, 320, 1, 1)
    branch3x3 = conv2d_bn(x, 384, 1, 1)
    branch3x3 = concatenate([conv2d_bn(branch3x3, 384, 1, 3),
                             conv2d_bn(branch3x3, 384, 3, 1)],
                            axis=axis, name=f"mixed9_{index}")
    dbl = conv2d_bn(conv2d_bn(x, 448, 1, 1), 384, 3, 3)
    dbl = concatenate([conv2d_bn(dbl, 384, 1, 3), conv2d_bn(dbl, 384, 3, 1)], axis=axis)
    pool = _average_branch(x, 192)
    return concatenate([branch1x1, branch3x3, dbl, pool], axis=axis,
                       name=f"mixed{9 + index}")


def InceptionV3(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="inception_v3"):
    """InceptionV3 for 299x299 images (at least 75x75 without the top). Arguments as
    `VGG16`; inputs preprocessed by `inception_v3.preprocess_input` ('tf')."""
    img_input, _ = _scaffold.start(weights, include_top, classes, pooling, input_tensor,
                                   input_shape, default_size=299, min_size=75)
    axis = _scaffold.bn_axis()
    x = conv2d_bn(img_input, 32, 3, 3, strides=(2, 2), padding="valid")
    x = conv2d_bn(x, 32, 3, 3, padding="valid")
    x = conv2d_bn(x, 64, 3, 3)
    x = MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = conv2d_bn(x, 80, 1, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, 3, padding="valid")
    x = MaxPooling2D((3, 3), strides=(2, 2))(x)

    x = _module_35(x, 32, "mixed0")
    x = _module_35(x, 64, "mixed1")
    x = _module_35(x, 64, "mixed2")

    branch3x3 = conv2d_bn(x, 384, 3, 3, strides=(2, 2), padding="valid")
    dbl = conv2d_bn(conv2d_bn(x, 64, 1, 1), 96, 3, 3)
    dbl = conv2d_bn(dbl, 96, 3, 3, strides=(2, 2), padding="valid")
    pool = MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = concatenate([branch3x3, dbl, pool], axis=axis, name="mixed3")

    x = _module_17(x, 128, "mixed4")
    x = _module_17(x, 160, "mixed5")
    x = _module_17(x, 160, "mixed6")
    x = _module_17(x, 192, "mixed7")

    branch3x3 = conv2d_bn(conv2d_bn(x, 192, 1, 1), 320, 3, 3, strides=(2, 2),
                          padding="valid")
    branch7x7x3 = conv2d_bn(x, 192, 1, 1)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 1, 7)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 7, 1)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 3, 3, strides=(2, 2), padding="valid")
    pool = MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = concatenate([branch3x3, branch7x7x3, pool], axis=axis, name="mixed8")

    x = _module_8(x, 0)
    x = _module_8(x, 1)
    x = _scaffold.top(x, include_top, pooling, classes, classifier_activation, weights)
    return _scaffold.finish_model(
        img_input, input_tensor, x, name, weights,
        _scaffold.tf_kernels_file("inception_v3", include_top), BASE_WEIGHTS_PATH, WEIGHTS_HASHES)
