"""ResNet50V2/101V2/152V2 (He et al., 2016): the ResNet graph with pre-activation blocks
(batch normalization and ReLU before each convolution) and strides at the end of stacks."""
from jkeras.applications import _scaffold, imagenet_utils, resnet
from jkeras.applications.imagenet_utils import decode_predictions
from jkeras.layers.convolutional import Conv2D, ZeroPadding2D
from jkeras.layers.core import Activation
from jkeras.layers.merge import Add
from jkeras.layers.pooling import MaxPooling2D

__all__ = ["ResNet50V2", "ResNet101V2", "ResNet152V2", "preprocess_input",
           "decode_predictions"]

preprocess_input = imagenet_utils.preprocessor("tf")


def _preact_block(x, filters, stride, shortcut_conv, name):
    """BN-ReLU, then 1x1 / 3x3 (strided) / 1x1 convolutions added to the shortcut."""
    preact = resnet._bn(f"{name}_preact_bn")(x)
    preact = Activation("relu", name=f"{name}_preact_relu")(preact)
    if shortcut_conv:
        shortcut = Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(preact)
    elif stride > 1:
        shortcut = MaxPooling2D(1, strides=stride)(x)
    else:
        shortcut = x
    x = Conv2D(filters, 1, strides=1, use_bias=False, name=f"{name}_1_conv")(preact)
    x = resnet._bn(f"{name}_1_bn")(x)
    x = Activation("relu", name=f"{name}_1_relu")(x)
    x = ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(x)
    x = Conv2D(filters, 3, strides=stride, use_bias=False, name=f"{name}_2_conv")(x)
    x = resnet._bn(f"{name}_2_bn")(x)
    x = Activation("relu", name=f"{name}_2_relu")(x)
    x = Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    return Add(name=f"{name}_out")([shortcut, x])


def _stack_v2(x, filters, blocks, stride, name):
    """`blocks` pre-activation blocks; the first projects, the last strides."""
    x = _preact_block(x, filters, 1, True, f"{name}_block1")
    for i in range(2, blocks):
        x = _preact_block(x, filters, 1, False, f"{name}_block{i}")
    return _preact_block(x, filters, stride, False, f"{name}_block{blocks}")


def _resnet_v2(public_name, stem, depths):
    doc = (f"{public_name}: pre-activation stacks of {', '.join(map(str, depths))} blocks. "
           "Arguments as `VGG16`; inputs preprocessed by `resnet_v2.preprocess_input` "
           "('tf').")
    return _scaffold.variant(public_name, __name__, resnet.build_resnet, stem, doc,
                             stacks=resnet._stacks(depths, (2, 2, 2, 1)),
                             block=_stack_v2, preact=True, stem=stem)


ResNet50V2 = _resnet_v2("ResNet50V2", "resnet50v2", (3, 4, 6, 3))
ResNet101V2 = _resnet_v2("ResNet101V2", "resnet101v2", (3, 4, 23, 3))
ResNet152V2 = _resnet_v2("ResNet152V2", "resnet152v2", (3, 8, 36, 3))
