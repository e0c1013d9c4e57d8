"""MobileNet (Howard et al., 2017): thirteen depthwise separable blocks (a 3x3 depthwise
convolution, then a 1x1 pointwise one, each with batch normalization and ReLU6); `alpha`
scales the width, `depth_multiplier` the depthwise channels."""
import warnings

from jkeras.applications import _scaffold, imagenet_utils
from jkeras.applications.imagenet_utils import decode_predictions
from jkeras.layers.advanced_activations import ReLU
from jkeras.layers.convolutional import Conv2D, DepthwiseConv2D, ZeroPadding2D
from jkeras.layers.core import Activation, Dropout, Reshape
from jkeras.layers.normalization import BatchNormalization
from jkeras.layers.pooling import GlobalAveragePooling2D

__all__ = ["MobileNet", "preprocess_input", "decode_predictions"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
WEIGHTS_HASHES = {}  # Keras publishes no hashes for these files

preprocess_input = imagenet_utils.preprocessor("tf")

_SIZES = (128, 160, 192, 224)  # the input sizes ImageNet weights exist for
# (pointwise filters, strides) of the thirteen depthwise separable blocks
_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
           (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))


def spatial_size(input_shape):
    """(rows, cols) of an input shape without the batch axis, in the current format."""
    if _scaffold.channel_axis() == 1:
        return input_shape[1], input_shape[2]
    return input_shape[0], input_shape[1]


def weights_size(rows, cols, sizes):
    """The input size whose ImageNet weights are loaded: `rows` when the input is square
    and one of `sizes`, else 224 (with a warning, as Keras gives)."""
    if rows == cols and rows in sizes:
        return rows
    warnings.warn("`input_shape` is undefined or non-square, or `rows` is not in "
                  f"{list(sizes)}. Weights for input shape (224, 224) will be loaded as the "
                  "default.", stacklevel=3)
    return 224


def _depthwise_block(x, filters, alpha, depth_multiplier, stride, block_id):
    axis = _scaffold.channel_axis()
    if stride != 1:
        x = ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = DepthwiseConv2D((3, 3), padding="same" if stride == 1 else "valid",
                        depth_multiplier=depth_multiplier, strides=(stride, stride),
                        use_bias=False, name=f"conv_dw_{block_id}")(x)
    x = BatchNormalization(axis=axis, name=f"conv_dw_{block_id}_bn")(x)
    x = ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = Conv2D(int(filters * alpha), (1, 1), padding="same", use_bias=False,
               strides=(1, 1), name=f"conv_pw_{block_id}")(x)
    x = BatchNormalization(axis=axis, name=f"conv_pw_{block_id}_bn")(x)
    return ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def MobileNet(input_shape=None, alpha=1.0, depth_multiplier=1, dropout=1e-3,
              include_top=True, weights="imagenet", input_tensor=None, pooling=None,
              classes=1000, classifier_activation="softmax", name=None):
    """MobileNet; `alpha` in (0.25, 0.5, 0.75, 1.0) and input sizes 128, 160, 192 or 224
    have ImageNet weights. Other arguments as `VGG16`; the top is a 1x1 convolution after
    dropout (`dropout` rate). Inputs preprocessed by `mobilenet.preprocess_input`."""
    default_size = 224
    if input_shape is not None:
        rows, cols = spatial_size(input_shape)
        if rows == cols and rows in _SIZES:
            default_size = rows
    img_input, input_shape = _scaffold.start(
        weights, include_top, classes, pooling, input_tensor, input_shape,
        default_size=default_size, min_size=32)
    rows, cols = spatial_size(input_shape)
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError("If imagenet weights are being loaded, depth multiplier must "
                             f"be 1.  Received depth_multiplier={depth_multiplier}")
        if alpha not in (0.25, 0.5, 0.75, 1.0):
            raise ValueError("If imagenet weights are being loaded, alpha can be one of "
                             f"`0.25`, `0.50`, `0.75` or `1.0` only.  Received alpha={alpha}")
        rows = weights_size(rows, cols, _SIZES)
    axis = _scaffold.channel_axis()
    x = Conv2D(int(32 * alpha), (3, 3), padding="same", use_bias=False, strides=(2, 2),
               name="conv1")(img_input)
    x = BatchNormalization(axis=axis, name="conv1_bn")(x)
    x = ReLU(6.0, name="conv1_relu")(x)
    for block_id, (filters, stride) in enumerate(_BLOCKS, start=1):
        x = _depthwise_block(x, filters, alpha, depth_multiplier, stride, block_id)
    if include_top:
        x = GlobalAveragePooling2D(keepdims=True)(x)
        x = Dropout(dropout, name="dropout")(x)
        x = Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = Reshape((classes,), name="reshape_2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = _scaffold.global_pool(x, pooling)
    file_name = None
    if weights == "imagenet":
        alpha_text = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0", 0.25: "2_5"}[alpha]
        file_name = f"mobilenet_{alpha_text}_{rows}_tf{'' if include_top else '_no_top'}.h5"
    return _scaffold.finish_model(
        img_input, input_tensor, x, name or f"mobilenet_{alpha:0.2f}_{rows}", weights,
        file_name, BASE_WEIGHTS_PATH, WEIGHTS_HASHES)
