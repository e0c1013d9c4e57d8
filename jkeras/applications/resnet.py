"""ResNet50/101/152 (He et al., 2015) and the ResNet graph ResNetV2 shares: a 7x7 stem,
four stacks of bottleneck residual blocks, global pooling and the classifier."""
from jkeras.applications import _scaffold, imagenet_utils
from jkeras.applications.imagenet_utils import decode_predictions
from jkeras.layers.convolutional import Conv2D, ZeroPadding2D
from jkeras.layers.core import Activation
from jkeras.layers.merge import Add
from jkeras.layers.normalization import BatchNormalization
from jkeras.layers.pooling import MaxPooling2D

__all__ = ["ResNet50", "ResNet101", "ResNet152", "preprocess_input", "decode_predictions"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
WEIGHTS_HASHES = {  # file name -> md5, as Keras publishes them
    "resnet50_weights_tf_dim_ordering_tf_kernels.h5": "2cb95161c43110f7111970584f804107",
    "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5":
        "4d473c1dd8becc155b73f8504c6f6626",
    "resnet101_weights_tf_dim_ordering_tf_kernels.h5": "f1aeb4b969a6efcfb50fad2f0c20cfc5",
    "resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5":
        "88cf7a10940856eca736dc7b7e228a21",
    "resnet152_weights_tf_dim_ordering_tf_kernels.h5": "100835be76be38e30d865e96f2aaae62",
    "resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5":
        "ee4c566cf9a93f14d82f913c2dc6dd0c",
    "resnet50v2_weights_tf_dim_ordering_tf_kernels.h5": "3ef43a0b657b3be2300d5770ece849e0",
    "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5":
        "fac2f116257151a9d068a22e544a4917",
    "resnet101v2_weights_tf_dim_ordering_tf_kernels.h5": "6343647c601c52e1368623803854d971",
    "resnet101v2_weights_tf_dim_ordering_tf_kernels_notop.h5":
        "c0ed64b8031c3730f411d2eb4eea35b5",
    "resnet152v2_weights_tf_dim_ordering_tf_kernels.h5": "a49b44d1979771252814e80f8ec446f9",
    "resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5":
        "ed17cf2e0169df9d443503ef94b23b33",
}

preprocess_input = imagenet_utils.preprocessor("caffe")


def _bn(name):
    return BatchNormalization(axis=_scaffold.bn_axis(), epsilon=1.001e-5,
                                            name=name)


def build_resnet(stacks, block, preact, stem, *, include_top, weights, input_tensor,
                 input_shape, pooling, classes, classifier_activation, name):
    """The ResNet graph: `stacks` is `[(filters, blocks, stride), ...]` and
    `block(x, filters, blocks, stride, name)` builds one stack. `preact` (V2) moves the
    batch normalization after the stem to the end of the graph; `stem` names the
    weight files."""
    img_input, _ = _scaffold.start(weights, include_top, classes, pooling, input_tensor,
                                   input_shape, default_size=224, min_size=32)
    x = ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = Conv2D(64, 7, strides=2, name="conv1_conv")(x)
    if not preact:
        x = _bn("conv1_bn")(x)
        x = Activation("relu", name="conv1_relu")(x)
    x = ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for index, (filters, blocks, stride) in enumerate(stacks, start=2):
        x = block(x, filters, blocks, stride, f"conv{index}")
    if preact:
        x = _bn("post_bn")(x)
        x = Activation("relu", name="post_relu")(x)
    x = _scaffold.top(x, include_top, pooling, classes, classifier_activation, weights,
                      "avg_pool", "max_pool")
    return _scaffold.finish_model(
        img_input, input_tensor, x, name, weights,
        _scaffold.tf_kernels_file(stem, include_top), BASE_WEIGHTS_PATH, WEIGHTS_HASHES)


def _bottleneck(x, filters, stride, shortcut_conv, name):
    """Conv-BN-ReLU 1x1 / 3x3 / 1x1 (four times `filters` out), added to the shortcut."""
    if shortcut_conv:
        shortcut = Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = _bn(f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = _bn(f"{name}_1_bn")(x)
    x = Activation("relu", name=f"{name}_1_relu")(x)
    x = Conv2D(filters, 3, padding="same", name=f"{name}_2_conv")(x)
    x = _bn(f"{name}_2_bn")(x)
    x = Activation("relu", name=f"{name}_2_relu")(x)
    x = Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = _bn(f"{name}_3_bn")(x)
    x = Add(name=f"{name}_add")([shortcut, x])
    return Activation("relu", name=f"{name}_out")(x)


def _stack_v1(x, filters, blocks, stride, name):
    """`blocks` bottlenecks; the first projects the shortcut and strides by `stride`."""
    x = _bottleneck(x, filters, stride, True, f"{name}_block1")
    for i in range(2, blocks + 1):
        x = _bottleneck(x, filters, 1, False, f"{name}_block{i}")
    return x


def _stacks(depths, strides):
    return list(zip((64, 128, 256, 512), depths, strides))


def _resnet_v1(public_name, stem, depths):
    doc = (f"{public_name}: bottleneck stacks of {', '.join(map(str, depths))} blocks. "
           "Arguments as `VGG16`; inputs preprocessed by `resnet.preprocess_input` "
           "('caffe').")
    return _scaffold.variant(public_name, __name__, build_resnet, stem, doc,
                             stacks=_stacks(depths, (1, 2, 2, 2)), block=_stack_v1,
                             preact=False, stem=stem)


ResNet50 = _resnet_v1("ResNet50", "resnet50", (3, 4, 6, 3))
ResNet101 = _resnet_v1("ResNet101", "resnet101", (3, 4, 23, 3))
ResNet152 = _resnet_v1("ResNet152", "resnet152", (3, 8, 36, 3))
