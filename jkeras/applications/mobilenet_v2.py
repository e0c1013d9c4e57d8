"""MobileNetV2 (Sandler et al., 2018): inverted residual blocks (1x1 expansion, 3x3
depthwise convolution, linear 1x1 projection, a shortcut when shapes allow)."""
from jkeras.applications import _scaffold, imagenet_utils
from jkeras.applications.imagenet_utils import decode_predictions
from jkeras.applications.mobilenet import spatial_size, weights_size
from jkeras.engine.keras_tensor import KerasTensor
from jkeras.layers.advanced_activations import ReLU
from jkeras.layers.convolutional import Conv2D, DepthwiseConv2D, ZeroPadding2D
from jkeras.layers.merge import Add
from jkeras.layers.normalization import BatchNormalization

__all__ = ["MobileNetV2", "preprocess_input", "decode_predictions", "make_divisible"]

BASE_WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                     "mobilenet_v2/")
WEIGHTS_HASHES = {}  # Keras publishes no hashes for these files

preprocess_input = imagenet_utils.preprocessor("tf")

_SIZES = (96, 128, 160, 192, 224)
# (filters, stride, expansion) of the seventeen inverted residual blocks
_BLOCKS = ((16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6),
           (64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6),
           (96, 1, 6), (160, 2, 6), (160, 1, 6), (160, 1, 6), (320, 1, 6))


def make_divisible(value, divisor=8, min_value=None):
    """`value` rounded to the nearest multiple of `divisor`, never less than
    `min_value` (default `divisor`) nor more than 10% below `value`."""
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _bn(name):
    return BatchNormalization(axis=_scaffold.channel_axis(), epsilon=1e-3, momentum=0.999,
                              name=name)


def _inverted_res_block(inputs, expansion, stride, alpha, filters, block_id):
    in_channels = inputs.shape[_scaffold.channel_axis()]
    pointwise_filters = make_divisible(int(filters * alpha), 8)
    x = inputs
    if block_id:
        prefix = f"block_{block_id}_"
        x = Conv2D(expansion * in_channels, kernel_size=1, padding="same", use_bias=False,
                   activation=None, name=f"{prefix}expand")(x)
        x = _bn(f"{prefix}expand_BN")(x)
        x = ReLU(6.0, name=f"{prefix}expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name=f"{prefix}pad")(x)
    x = DepthwiseConv2D(kernel_size=3, strides=stride, activation=None, use_bias=False,
                        padding="same" if stride == 1 else "valid",
                        name=f"{prefix}depthwise")(x)
    x = _bn(f"{prefix}depthwise_BN")(x)
    x = ReLU(6.0, name=f"{prefix}depthwise_relu")(x)
    x = Conv2D(pointwise_filters, kernel_size=1, padding="same", use_bias=False,
               activation=None, name=f"{prefix}project")(x)
    x = _bn(f"{prefix}project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        return Add(name=f"{prefix}add")([inputs, x])
    return x


def _default_size(input_shape, input_tensor):
    """The weights' input size suggested by `input_shape`, or by `input_tensor`."""
    if input_shape is not None:
        if input_tensor is not None:
            if not isinstance(input_tensor, KerasTensor):
                raise ValueError("input_tensor is not a Keras tensor; Received "
                                 f"`input_tensor={input_tensor!r}`")
            first = 1 if _scaffold.channel_axis() == 1 else 2
            if input_tensor.shape[first] != input_shape[1]:
                raise ValueError(
                    f"input_shape[1] must equal input_tensor.shape[{first}]; Received "
                    f"`input_tensor.shape={input_tensor.shape}`, `input_shape="
                    f"{input_shape}`")
        rows, cols = spatial_size(input_shape)
    elif isinstance(input_tensor, KerasTensor):
        rows, cols = spatial_size(input_tensor.shape[1:])
    else:
        return 224
    return rows if rows == cols and rows in _SIZES else 224


def MobileNetV2(input_shape=None, alpha=1.0, include_top=True, weights="imagenet",
                input_tensor=None, pooling=None, classes=1000,
                classifier_activation="softmax", name=None):
    """MobileNetV2; `alpha` in (0.35, 0.5, 0.75, 1.0, 1.3, 1.4) and input sizes 96, 128,
    160, 192 or 224 have ImageNet weights. Other arguments as `VGG16`; inputs
    preprocessed by `mobilenet_v2.preprocess_input` ('tf')."""
    img_input, input_shape = _scaffold.start(
        weights, include_top, classes, pooling, input_tensor, input_shape,
        default_size=_default_size(input_shape, input_tensor), min_size=32)
    rows, cols = spatial_size(input_shape)
    if weights == "imagenet":
        if alpha not in (0.35, 0.5, 0.75, 1.0, 1.3, 1.4):
            raise ValueError("If imagenet weights are being loaded, alpha must be one of "
                             "`0.35`, `0.50`, `0.75`, `1.0`, `1.3` or `1.4` only; Received "
                             f"`alpha={alpha}`")
        rows = weights_size(rows, cols, _SIZES)
    x = Conv2D(make_divisible(32 * alpha, 8), kernel_size=3, strides=(2, 2), padding="same",
               use_bias=False, name="Conv1")(img_input)
    x = _bn("bn_Conv1")(x)
    x = ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_res_block(x, expansion, stride, alpha, filters, block_id)
    last_filters = make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = Conv2D(last_filters, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = _bn("Conv_1_bn")(x)
    x = ReLU(6.0, name="out_relu")(x)
    if include_top:
        x = _scaffold.classifier(x, classes, classifier_activation, weights, pool_name=None)
    else:
        x = _scaffold.global_pool(x, pooling)
    file_name = None
    if weights == "imagenet":
        file_name = (f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}"
                     f"{'' if include_top else '_no_top'}.h5")
    return _scaffold.finish_model(
        img_input, input_tensor, x, name or f"mobilenetv2_{alpha:0.2f}_{rows}", weights,
        file_name, BASE_WEIGHTS_PATH, WEIGHTS_HASHES)
