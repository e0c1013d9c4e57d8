"""DenseNet121/169/201 (Huang et al., 2016): dense blocks, where each layer's 32 new
channels are concatenated to everything before it, joined by transition layers that halve
channels and resolution. Channels-last only, as in Keras."""
from jkeras.applications import _scaffold, imagenet_utils
from jkeras.applications.imagenet_utils import decode_predictions
from jkeras.layers.convolutional import Conv2D, ZeroPadding2D
from jkeras.layers.core import Activation
from jkeras.layers.merge import Concatenate
from jkeras.layers.normalization import BatchNormalization
from jkeras.layers.pooling import AveragePooling2D, MaxPooling2D

__all__ = ["DenseNet121", "DenseNet169", "DenseNet201", "preprocess_input",
           "decode_predictions"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/densenet/"
WEIGHTS_HASHES = {  # file name -> md5, as Keras publishes them
    "densenet121_weights_tf_dim_ordering_tf_kernels.h5": "9d60b8095a5708f2dcce2bca79d332c7",
    "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5":
        "30ee3e1110167f948a6b9946edeeb738",
    "densenet169_weights_tf_dim_ordering_tf_kernels.h5": "d699b8f76981ab1b30698df4c175e90b",
    "densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5":
        "b8c4d4c20dd625c148057b9ff1c1176b",
    "densenet201_weights_tf_dim_ordering_tf_kernels.h5": "1ceb130c1ea1b78c3bf6114dbdfd8807",
    "densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5":
        "c13680b51ded0fb44dff2d8f86ac8bb1",
}

preprocess_input = imagenet_utils.preprocessor("torch")

_GROWTH_RATE = 32


def _bn(name):
    return BatchNormalization(axis=_scaffold.bn_axis(), epsilon=1.001e-5, name=name)


def _conv_block(x, name):
    """BN-ReLU-1x1 conv (4 x growth), BN-ReLU-3x3 conv (growth), concatenated to `x`."""
    y = _bn(f"{name}_0_bn")(x)
    y = Activation("relu", name=f"{name}_0_relu")(y)
    y = Conv2D(4 * _GROWTH_RATE, 1, use_bias=False, name=f"{name}_1_conv")(y)
    y = _bn(f"{name}_1_bn")(y)
    y = Activation("relu", name=f"{name}_1_relu")(y)
    y = Conv2D(_GROWTH_RATE, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(y)
    return Concatenate(axis=_scaffold.bn_axis(), name=f"{name}_concat")([x, y])


def _transition_block(x, reduction, name):
    x = _bn(f"{name}_bn")(x)
    x = Activation("relu", name=f"{name}_relu")(x)
    channels = x.shape[_scaffold.bn_axis()]
    x = Conv2D(int(channels * reduction), 1, use_bias=False, name=f"{name}_conv")(x)
    return AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def build_densenet(blocks, stem, *, include_top, weights, input_tensor, input_shape,
                   pooling, classes, classifier_activation, name):
    """The DenseNet graph with `blocks[i]` conv blocks in dense block `i + 1`; `stem`
    names the weight files."""
    _scaffold.channels_only_last("DenseNet")
    img_input, _ = _scaffold.start(weights, include_top, classes, pooling, input_tensor,
                                   input_shape, default_size=224, min_size=32)
    x = ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = _bn("conv1_bn")(x)
    x = Activation("relu", name="conv1_relu")(x)
    x = ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = MaxPooling2D(3, strides=2, name="pool1")(x)
    for index, count in enumerate(blocks, start=2):
        for i in range(1, count + 1):
            x = _conv_block(x, f"conv{index}_block{i}")
        if index < len(blocks) + 1:
            x = _transition_block(x, 0.5, f"pool{index}")
    x = _bn("bn")(x)
    x = Activation("relu", name="relu")(x)
    x = _scaffold.top(x, include_top, pooling, classes, classifier_activation, weights,
                      "avg_pool", "max_pool")
    return _scaffold.finish_model(
        img_input, input_tensor, x, name, weights,
        _scaffold.tf_kernels_file(stem, include_top), BASE_WEIGHTS_PATH, WEIGHTS_HASHES)


def _densenet(public_name, stem, blocks):
    doc = (f"{public_name}: dense blocks of {', '.join(map(str, blocks))} layers. Arguments "
           "as `VGG16`; inputs preprocessed by `densenet.preprocess_input` ('torch').")
    return _scaffold.variant(public_name, __name__, build_densenet, stem, doc,
                             blocks=blocks, stem=stem)


DenseNet121 = _densenet("DenseNet121", "densenet121", (6, 12, 24, 16))
DenseNet169 = _densenet("DenseNet169", "densenet169", (6, 12, 32, 32))
DenseNet201 = _densenet("DenseNet201", "densenet201", (6, 12, 48, 32))
