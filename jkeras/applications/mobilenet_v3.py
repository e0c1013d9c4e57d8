"""MobileNetV3Small and MobileNetV3Large (Howard et al., 2019): inverted residual blocks
with optional squeeze-and-excitation and hard-swish activations. The models rescale
their inputs themselves (`include_preprocessing`), so `preprocess_input` is the identity."""
import warnings

from jkeras.applications import _scaffold, imagenet_utils
from jkeras.applications.imagenet_utils import decode_predictions
from jkeras.applications.mobilenet import spatial_size
from jkeras.applications.mobilenet_v2 import make_divisible
from jkeras.engine.keras_tensor import KerasTensor
from jkeras.layers.advanced_activations import ReLU
from jkeras.layers.convolutional import Conv2D, DepthwiseConv2D, ZeroPadding2D
from jkeras.layers.core import Activation, Dropout, Flatten
from jkeras.layers.merge import Add, Multiply
from jkeras.layers.normalization import BatchNormalization
from jkeras.layers.pooling import GlobalAveragePooling2D
from jkeras.layers.preprocessing import Rescaling

__all__ = ["MobileNetV3Small", "MobileNetV3Large", "preprocess_input",
           "decode_predictions"]

BASE_WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                     "mobilenet_v3/")
WEIGHTS_HASHES = {  # file name -> md5, as Keras publishes them
    "weights_mobilenet_v3_large_224_0.75_float.h5": "765b44a33ad4005b3ac83185abf1d0eb",
    "weights_mobilenet_v3_large_224_0.75_float_no_top_v2.h5":
        "40af19a13ebea4e2ee0c676887f69a2e",
    "weights_mobilenet_v3_large_224_1.0_float.h5": "59e551e166be033d707958cf9e29a6a7",
    "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5":
        "07fb09a5933dd0c8eaafa16978110389",
    "weights_mobilenet_v3_large_minimalistic_224_1.0_float.h5":
        "675e7b876c45c57e9e63e6d90a36599c",
    "weights_mobilenet_v3_large_minimalistic_224_1.0_float_no_top_v2.h5":
        "ec5221f64a2f6d1ef965a614bdae7973",
    "weights_mobilenet_v3_small_224_0.75_float.h5": "cb65d4e5be93758266aa0a7f2c6708b7",
    "weights_mobilenet_v3_small_224_0.75_float_no_top_v2.h5":
        "ebdb5cc8e0b497cd13a7c275d475c819",
    "weights_mobilenet_v3_small_224_1.0_float.h5": "8768d4c2e7dee89b9d02b2d03d65d862",
    "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5":
        "d3e8ec802a04aa4fc771ee12a9a9b836",
    "weights_mobilenet_v3_small_minimalistic_224_1.0_float.h5":
        "99cd97fb2fcdad2bf028eb838de69e37",
    "weights_mobilenet_v3_small_minimalistic_224_1.0_float_no_top_v2.h5":
        "cde8136e733e811080d9fcd8a252f7e4",
}

# Blocks: (expansion, filters, kernel ('k': the model's kernel size), stride,
# squeeze-excite?, activation ('relu' or 'act': the model's activation)).
_SMALL = ((1, 16, 3, 2, True, "relu"), (72 / 16, 24, 3, 2, False, "relu"),
          (88 / 24, 24, 3, 1, False, "relu"), (4, 40, "k", 2, True, "act"),
          (6, 40, "k", 1, True, "act"), (6, 40, "k", 1, True, "act"),
          (3, 48, "k", 1, True, "act"), (3, 48, "k", 1, True, "act"),
          (6, 96, "k", 2, True, "act"), (6, 96, "k", 1, True, "act"),
          (6, 96, "k", 1, True, "act"))
_LARGE = ((1, 16, 3, 1, False, "relu"), (4, 24, 3, 2, False, "relu"),
          (3, 24, 3, 1, False, "relu"), (3, 40, "k", 2, True, "relu"),
          (3, 40, "k", 1, True, "relu"), (3, 40, "k", 1, True, "relu"),
          (6, 80, 3, 2, False, "act"), (2.5, 80, 3, 1, False, "act"),
          (2.3, 80, 3, 1, False, "act"), (2.3, 80, 3, 1, False, "act"),
          (6, 112, 3, 1, True, "act"), (6, 112, 3, 1, True, "act"),
          (6, 160, "k", 2, True, "act"), (6, 160, "k", 1, True, "act"),
          (6, 160, "k", 1, True, "act"))


def preprocess_input(x, data_format=None):
    """The identity: MobileNetV3 models rescale their inputs themselves."""
    return x


def _relu(x):
    return ReLU()(x)


def _hard_sigmoid(x):
    return ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def _hard_swish(x):
    return Activation("hard_swish")(x)


def _bn(name):
    return BatchNormalization(axis=_scaffold.channel_axis(), epsilon=1e-3, momentum=0.999,
                              name=name)


def _se_block(inputs, filters, se_ratio, prefix):
    x = GlobalAveragePooling2D(keepdims=True, name=f"{prefix}squeeze_excite_avg_pool")(inputs)
    x = Conv2D(make_divisible(filters * se_ratio), kernel_size=1, padding="same",
               name=f"{prefix}squeeze_excite_conv")(x)
    x = ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = Conv2D(filters, kernel_size=1, padding="same",
               name=f"{prefix}squeeze_excite_conv_1")(x)
    x = _hard_sigmoid(x)
    return Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, x])


def _inverted_res_block(x, expansion, filters, kernel_size, stride, se_ratio, activation,
                        block_id):
    shortcut = x
    in_filters = x.shape[_scaffold.channel_axis()]
    prefix = "expanded_conv_"
    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = Conv2D(make_divisible(in_filters * expansion), kernel_size=1, padding="same",
                   use_bias=False, name=f"{prefix}expand")(x)
        x = _bn(f"{prefix}expand_bn")(x)
        x = activation(x)
    if stride == 2:
        x = ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                          name=f"{prefix}depthwise_pad")(x)
    x = DepthwiseConv2D(kernel_size, strides=stride,
                        padding="same" if stride == 1 else "valid", use_bias=False,
                        name=f"{prefix}depthwise")(x)
    x = _bn(f"{prefix}depthwise_bn")(x)
    x = activation(x)
    if se_ratio:
        x = _se_block(x, make_divisible(in_filters * expansion), se_ratio, prefix)
    x = Conv2D(filters, kernel_size=1, padding="same", use_bias=False,
               name=f"{prefix}project")(x)
    x = _bn(f"{prefix}project_bn")(x)
    if stride == 1 and in_filters == filters:
        x = Add(name=f"{prefix}add")([shortcut, x])
    return x


def _input_shape(input_shape, input_tensor):
    """Checks `input_shape` against `input_tensor`; the shape to build the input for."""
    channels_first = _scaffold.channel_axis() == 1
    if input_tensor is not None and not isinstance(input_tensor, KerasTensor):
        raise ValueError(f"input_tensor specified: {input_tensor!r} is not a keras tensor")
    if input_shape is not None and input_tensor is not None:
        axis = 1 if channels_first else 2
        if input_tensor.shape[axis] != input_shape[1]:
            raise ValueError(f"input_shape[1] must equal input_tensor.shape[{axis}].  "
                             f"Received input_shape={input_shape}, input_tensor.shape="
                             f"{input_tensor.shape}")
    if input_shape is None and input_tensor is not None:
        shape = input_tensor.shape
        rows, cols = (shape[2], shape[3]) if channels_first else (shape[1], shape[2])
        input_shape = (3, cols, rows) if channels_first else (cols, rows, 3)
    if input_shape is None:
        input_shape = (3, None, None) if channels_first else (None, None, 3)
    return tuple(input_shape)


def build_mobilenet_v3(blocks, last_point_ch, input_shape, alpha, model_type,
                       minimalistic, include_top, weights, input_tensor, classes, pooling,
                       dropout_rate, classifier_activation, include_preprocessing, name):
    """The MobileNetV3 graph for a table of `blocks` (see `_SMALL`, `_LARGE`)."""
    _scaffold.check_arguments(weights, include_top, classes, pooling)
    input_shape = _input_shape(input_shape, input_tensor)
    rows, cols = spatial_size(input_shape)
    if rows and cols and (rows < 32 or cols < 32):
        raise ValueError("Input size must be at least 32x32; Received "
                         f"`input_shape={input_shape}`")
    if weights == "imagenet":
        if (not minimalistic and alpha not in (0.75, 1.0)) or (minimalistic and alpha != 1.0):
            raise ValueError("If imagenet weights are being loaded, alpha can be one of "
                             "`0.75`, `1.0` for non minimalistic or `1.0` for minimalistic "
                             f"only. Received: alpha={alpha}, minimalistic={minimalistic}")
        if rows != cols or rows != 224:
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not 224. "
                          "Weights for input shape (224, 224) will be loaded as the "
                          "default.", stacklevel=3)
    img_input = _scaffold.image_input(input_tensor, input_shape)
    axis = _scaffold.channel_axis()
    if minimalistic:
        kernel, activation, se_ratio = 3, _relu, None
    else:
        kernel, activation, se_ratio = 5, _hard_swish, 0.25
    x = img_input
    if include_preprocessing:
        x = Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = Conv2D(16, kernel_size=3, strides=(2, 2), padding="same", use_bias=False,
               name="conv")(x)
    x = _bn("conv_bn")(x)
    x = activation(x)
    for block_id, (expansion, filters, size, stride, se, act) in enumerate(blocks):
        x = _inverted_res_block(
            x, expansion, make_divisible(filters * alpha), kernel if size == "k" else size,
            stride, se_ratio if se else None, activation if act == "act" else _relu,
            block_id)
    last_conv_ch = make_divisible(x.shape[axis] * 6)
    if alpha > 1.0:
        last_point_ch = make_divisible(last_point_ch * alpha)
    x = Conv2D(last_conv_ch, kernel_size=1, padding="same", use_bias=False,
               name="conv_1")(x)
    x = _bn("conv_1_bn")(x)
    x = activation(x)
    if include_top:
        x = GlobalAveragePooling2D(keepdims=True)(x)
        x = Conv2D(last_point_ch, kernel_size=1, padding="same", use_bias=True,
                   name="conv_2")(x)
        x = activation(x)
        if dropout_rate > 0:
            x = Dropout(dropout_rate)(x)
        x = Conv2D(classes, kernel_size=1, padding="same", name="logits")(x)
        x = Flatten()(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = _scaffold.global_pool(x, pooling, "avg_pool", "max_pool")
    file_name = None
    if weights == "imagenet":
        variant = f"{model_type}{'_minimalistic' if minimalistic else ''}_224_{alpha}_float"
        file_name = (f"weights_mobilenet_v3_{variant}.h5" if include_top
                     else f"weights_mobilenet_v3_{variant}_no_top_v2.h5")
    return _scaffold.finish_model(
        img_input, input_tensor, x, name, weights, file_name, BASE_WEIGHTS_PATH,
        WEIGHTS_HASHES)


def MobileNetV3Small(input_shape=None, alpha=1.0, minimalistic=False, include_top=True,
                     weights="imagenet", input_tensor=None, classes=1000, pooling=None,
                     dropout_rate=0.2, classifier_activation="softmax",
                     include_preprocessing=True, name="MobileNetV3Small"):
    """MobileNetV3Small. `alpha` scales the widths (ImageNet weights: 0.75 or 1.0, 1.0
    when `minimalistic`, which drops squeeze-excite, hard-swish and 5x5 kernels);
    `include_preprocessing` rescales [0, 255] inputs to [-1, 1] inside the model.
    Other arguments as `VGG16`."""
    return build_mobilenet_v3(_SMALL, 1024, input_shape, alpha, "small", minimalistic,
                              include_top, weights, input_tensor, classes, pooling,
                              dropout_rate, classifier_activation, include_preprocessing,
                              name)


def MobileNetV3Large(input_shape=None, alpha=1.0, minimalistic=False, include_top=True,
                     weights="imagenet", input_tensor=None, classes=1000, pooling=None,
                     dropout_rate=0.2, classifier_activation="softmax",
                     include_preprocessing=True, name="MobileNetV3Large"):
    """MobileNetV3Large; arguments as `MobileNetV3Small`."""
    return build_mobilenet_v3(_LARGE, 1280, input_shape, alpha, "large", minimalistic,
                              include_top, weights, input_tensor, classes, pooling,
                              dropout_rate, classifier_activation, include_preprocessing,
                              name)
