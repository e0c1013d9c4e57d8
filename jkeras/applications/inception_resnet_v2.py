"""InceptionResNetV2 (Szegedy et al., 2016): Inception branches whose concatenation,
projected by a 1x1 convolution and scaled, is added back to the block's input."""
from jkeras.applications import _scaffold, imagenet_utils
from jkeras.applications.imagenet_utils import decode_predictions
from jkeras.layers.convolutional import Conv2D
from jkeras.layers.core import Activation
from jkeras.layers.merge import Concatenate
from jkeras.layers.normalization import BatchNormalization
from jkeras.layers.pooling import AveragePooling2D, MaxPooling2D
from jkeras.layers.residual import CustomScaleLayer

__all__ = ["InceptionResNetV2", "preprocess_input", "decode_predictions"]

BASE_WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                     "inception_resnet_v2/")
WEIGHTS_HASHES = {  # file name -> md5, as Keras publishes them
    "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5":
        "e693bd0210a403b3192acc6073ad2e96",
    "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5":
        "d19885ff4a710c122648d3b5c3b684e4",
}

preprocess_input = imagenet_utils.preprocessor("tf")

# block type -> the branches, each a list of (filters, kernel size) convolutions
_BRANCHES = {
    "block35": [[(32, 1)], [(32, 1), (32, 3)], [(32, 1), (48, 3), (64, 3)]],
    "block17": [[(192, 1)], [(128, 1), (160, (1, 7)), (192, (7, 1))]],
    "block8": [[(192, 1)], [(192, 1), (224, (1, 3)), (256, (3, 1))]],
}


def conv2d_bn(x, filters, kernel_size, strides=1, padding="same", activation="relu",
              use_bias=False, name=None):
    """A convolution; without bias it is followed by batch normalization (no scale);
    then the activation, if any."""
    x = Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias,
               name=name)(x)
    if not use_bias:
        x = BatchNormalization(axis=_scaffold.bn_axis(), scale=False,
                               name=None if name is None else f"{name}_bn")(x)
    if activation is not None:
        x = Activation(activation, name=None if name is None else f"{name}_ac")(x)
    return x


def _chain(x, convs):
    for filters, kernel_size in convs:
        x = conv2d_bn(x, filters, kernel_size)
    return x


def inception_resnet_block(x, scale, block_type, block_idx, activation="relu"):
    """`x + scale * conv1x1(concat(branches(x)))`, then the activation."""
    if block_type not in _BRANCHES:
        raise ValueError('Unknown Inception-ResNet block type. Expects "block35", '
                         f'"block17" or "block8", but got: {block_type}')
    axis = _scaffold.bn_axis()
    name = f"{block_type}_{block_idx}"
    branches = [_chain(x, convs) for convs in _BRANCHES[block_type]]
    mixed = Concatenate(axis=axis, name=f"{name}_mixed")(branches)
    up = conv2d_bn(mixed, x.shape[axis], 1, activation=None, use_bias=True,
                   name=f"{name}_conv")
    x = CustomScaleLayer(scale)([x, up])
    if activation is not None:
        x = Activation(activation, name=f"{name}_ac")(x)
    return x


def InceptionResNetV2(include_top=True, weights="imagenet", input_tensor=None,
                      input_shape=None, pooling=None, classes=1000,
                      classifier_activation="softmax", name="inception_resnet_v2"):
    """InceptionResNetV2 for 299x299 images (at least 75x75 without the top). Arguments
    as `VGG16`; inputs preprocessed by `inception_resnet_v2.preprocess_input` ('tf')."""
    img_input, _ = _scaffold.start(weights, include_top, classes, pooling, input_tensor,
                                   input_shape, default_size=299, min_size=75)
    axis = _scaffold.bn_axis()
    x = conv2d_bn(img_input, 32, 3, strides=2, padding="valid")
    x = conv2d_bn(x, 32, 3, padding="valid")
    x = conv2d_bn(x, 64, 3)
    x = MaxPooling2D(3, strides=2)(x)
    x = conv2d_bn(x, 80, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, padding="valid")
    x = MaxPooling2D(3, strides=2)(x)

    branches = [conv2d_bn(x, 96, 1), _chain(x, [(48, 1), (64, 5)]),
                _chain(x, [(64, 1), (96, 3), (96, 3)]),
                conv2d_bn(AveragePooling2D(3, strides=1, padding="same")(x), 64, 1)]
    x = Concatenate(axis=axis, name="mixed_5b")(branches)
    for block_idx in range(1, 11):
        x = inception_resnet_block(x, 0.17, "block35", block_idx)

    branches = [conv2d_bn(x, 384, 3, strides=2, padding="valid"),
                conv2d_bn(_chain(x, [(256, 1), (256, 3)]), 384, 3, strides=2,
                          padding="valid"),
                MaxPooling2D(3, strides=2, padding="valid")(x)]
    x = Concatenate(axis=axis, name="mixed_6a")(branches)
    for block_idx in range(1, 21):
        x = inception_resnet_block(x, 0.1, "block17", block_idx)

    branches = [conv2d_bn(conv2d_bn(x, 256, 1), 384, 3, strides=2, padding="valid"),
                conv2d_bn(conv2d_bn(x, 256, 1), 288, 3, strides=2, padding="valid"),
                conv2d_bn(_chain(x, [(256, 1), (288, 3)]), 320, 3, strides=2,
                          padding="valid"),
                MaxPooling2D(3, strides=2, padding="valid")(x)]
    x = Concatenate(axis=axis, name="mixed_7a")(branches)
    for block_idx in range(1, 10):
        x = inception_resnet_block(x, 0.2, "block8", block_idx)
    x = inception_resnet_block(x, 1.0, "block8", 10, activation=None)
    x = conv2d_bn(x, 1536, 1, name="conv_7b")
    x = _scaffold.top(x, include_top, pooling, classes, classifier_activation, weights)
    return _scaffold.finish_model(
        img_input, input_tensor, x, name, weights,
        _scaffold.tf_kernels_file("inception_resnet_v2", include_top), BASE_WEIGHTS_PATH,
        WEIGHTS_HASHES)
