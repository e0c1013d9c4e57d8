"""EfficientNetB0 to B7 (Tan & Le, 2019): MBConv blocks (expansion, depthwise convolution,
squeeze-and-excitation, projection) scaled in width, depth and resolution together. The
models rescale and normalize their inputs themselves, so `preprocess_input` is the
identity."""
import math

from jkeras.applications import _scaffold, imagenet_utils
from jkeras.applications.imagenet_utils import decode_predictions
from jkeras.layers.convolutional import Conv2D, DepthwiseConv2D, ZeroPadding2D
from jkeras.layers.core import Activation, Dense, Dropout, Reshape
from jkeras.layers.merge import add, multiply
from jkeras.layers.normalization import BatchNormalization
from jkeras.layers.pooling import GlobalAveragePooling2D
from jkeras.layers.preprocessing import Normalization, Rescaling

__all__ = [f"EfficientNetB{i}" for i in range(8)] + ["preprocess_input",
                                                     "decode_predictions"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/keras-applications/"
WEIGHTS_HASHES = {  # file name -> md5, as Keras publishes them
    "efficientnetb0.h5": "902e53a9f72be733fc0bcb005b3ebbac",
    "efficientnetb0_notop.h5": "50bc09e76180e00e4465e1a485ddc09d",
    "efficientnetb1.h5": "1d254153d4ab51201f1646940f018540",
    "efficientnetb1_notop.h5": "74c4e6b3e1f6a1eea24c589628592432",
    "efficientnetb2.h5": "b15cce36ff4dcbd00b6dd88e7857a6ad",
    "efficientnetb2_notop.h5": "111f8e2ac8aa800a7a99e3239f7bfb39",
    "efficientnetb3.h5": "ffd1fdc53d0ce67064dc6a9c7960ede0",
    "efficientnetb3_notop.h5": "af6d107764bb5b1abb91932881670226",
    "efficientnetb4.h5": "18c95ad55216b8f92d7e70b3a046e2fc",
    "efficientnetb4_notop.h5": "ebc24e6d6c33eaebbd558eafbeedf1ba",
    "efficientnetb5.h5": "ace28f2a6363774853a83a0b21b9421a",
    "efficientnetb5_notop.h5": "38879255a25d3c92d5e44e04ae6cec6f",
    "efficientnetb6.h5": "165f6e37dce68623721b423839de8be5",
    "efficientnetb6_notop.h5": "9ecce42647a20130c1f39a5d4cb75743",
    "efficientnetb7.h5": "8c03f828fec3ef71311cd463b6759d99",
    "efficientnetb7_notop.h5": "cbcfe4450ddf6f3ad90b1b398090fe4a",
}

# The seven stages of B0: (kernel, repeats, filters in, filters out, expansion, stride).
_STAGES = ((3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2),
           (3, 3, 40, 80, 6, 2), (5, 3, 80, 112, 6, 1), (5, 4, 112, 192, 6, 2),
           (3, 1, 192, 320, 6, 1))
_SE_RATIO = 0.25
CONV_KERNEL_INITIALIZER = {"class_name": "VarianceScaling",
                           "config": {"scale": 2.0, "mode": "fan_out",
                                      "distribution": "truncated_normal"}}
DENSE_KERNEL_INITIALIZER = {"class_name": "VarianceScaling",
                            "config": {"scale": 1.0 / 3.0, "mode": "fan_out",
                                       "distribution": "uniform"}}
# The standard deviation of ImageNet's RGB channels; the published weights hold the
# variances in the Normalization layer, and Keras 3 divides once more by their roots.
IMAGENET_STDDEV_RGB = (0.229, 0.224, 0.225)


def preprocess_input(x, data_format=None):
    """The identity: EfficientNet models rescale and normalize their inputs themselves."""
    return x


def _mbconv(inputs, activation, drop_rate, name, filters_in, filters_out, kernel_size,
            strides, expand_ratio):
    """Expansion, depthwise conv, squeeze-and-excitation, projection; plus the input
    (through stochastic-depth dropout) when the shapes allow."""
    axis = _scaffold.bn_axis()
    filters = filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = Conv2D(filters, 1, padding="same", use_bias=False,
                   kernel_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}expand_conv")(x)
        x = BatchNormalization(axis=axis, name=f"{name}expand_bn")(x)
        x = Activation(activation, name=f"{name}expand_activation")(x)
    if strides == 2:
        x = ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                          name=f"{name}dwconv_pad")(x)
    x = DepthwiseConv2D(kernel_size, strides=strides,
                        padding="valid" if strides == 2 else "same", use_bias=False,
                        depthwise_initializer=CONV_KERNEL_INITIALIZER,
                        name=f"{name}dwconv")(x)
    x = BatchNormalization(axis=axis, name=f"{name}bn")(x)
    x = Activation(activation, name=f"{name}activation")(x)

    se = GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se = Reshape((filters, 1, 1) if axis == 1 else (1, 1, filters),
                 name=f"{name}se_reshape")(se)
    se = Conv2D(max(1, int(filters_in * _SE_RATIO)), 1, padding="same",
                activation=activation, kernel_initializer=CONV_KERNEL_INITIALIZER,
                name=f"{name}se_reduce")(se)
    se = Conv2D(filters, 1, padding="same", activation="sigmoid",
                kernel_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}se_expand")(se)
    x = multiply([x, se], name=f"{name}se_excite")

    x = Conv2D(filters_out, 1, padding="same", use_bias=False,
               kernel_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}project_conv")(x)
    x = BatchNormalization(axis=axis, name=f"{name}project_bn")(x)
    if strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = add([x, inputs], name=f"{name}add")
    return x


def build_efficientnet(width_coefficient, depth_coefficient, default_size, dropout_rate,
                       stem, *, include_top, weights, input_tensor, input_shape, pooling,
                       classes, classifier_activation, name, drop_connect_rate=0.2,
                       depth_divisor=8, activation="swish"):
    """The EfficientNet graph: B0's stages with filters scaled by `width_coefficient`
    and repeats by `depth_coefficient`; `stem` names its weight files."""
    img_input, _ = _scaffold.start(weights, include_top, classes, pooling, input_tensor,
                                   input_shape, default_size=default_size, min_size=32)
    axis = _scaffold.bn_axis()

    def round_filters(filters):
        filters *= width_coefficient
        rounded = max(depth_divisor,
                      int(filters + depth_divisor / 2) // depth_divisor * depth_divisor)
        return int(rounded + depth_divisor if rounded < 0.9 * filters else rounded)

    def round_repeats(repeats):
        return int(math.ceil(depth_coefficient * repeats))

    x = Rescaling(1.0 / 255.0)(img_input)
    x = Normalization(axis=axis)(x)
    if weights == "imagenet":
        x = Rescaling([1.0 / math.sqrt(stddev) for stddev in IMAGENET_STDDEV_RGB])(x)
    x = ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name="stem_conv_pad")(x)
    x = Conv2D(round_filters(32), 3, strides=2, padding="valid", use_bias=False,
               kernel_initializer=CONV_KERNEL_INITIALIZER, name="stem_conv")(x)
    x = BatchNormalization(axis=axis, name="stem_bn")(x)
    x = Activation(activation, name="stem_activation")(x)

    total = float(sum(round_repeats(stage[1]) for stage in _STAGES))
    done = 0
    for i, (kernel, repeats, filters_in, filters_out, expand, stride) in enumerate(_STAGES):
        filters_in, filters_out = round_filters(filters_in), round_filters(filters_out)
        for j in range(round_repeats(repeats)):
            x = _mbconv(x, activation, drop_connect_rate * done / total,
                        f"block{i + 1}{chr(j + 97)}_", filters_out if j else filters_in,
                        filters_out, kernel, 1 if j else stride, expand)
            done += 1
    x = Conv2D(round_filters(1280), 1, padding="same", use_bias=False,
               kernel_initializer=CONV_KERNEL_INITIALIZER, name="top_conv")(x)
    x = BatchNormalization(axis=axis, name="top_bn")(x)
    x = Activation(activation, name="top_activation")(x)
    if include_top:
        x = GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = Dropout(dropout_rate, name="top_dropout")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Dense(classes, activation=classifier_activation,
                  kernel_initializer=DENSE_KERNEL_INITIALIZER, name="predictions")(x)
    else:
        x = _scaffold.global_pool(x, pooling, "avg_pool", "max_pool")
    file_name = f"{stem}{'.h5' if include_top else '_notop.h5'}"
    return _scaffold.finish_model(
        img_input, input_tensor, x, name, weights, file_name, BASE_WEIGHTS_PATH,
        WEIGHTS_HASHES)


_VARIANTS = ((1.0, 1.0, 224, 0.2), (1.0, 1.1, 240, 0.2), (1.1, 1.2, 260, 0.3),
             (1.2, 1.4, 300, 0.3), (1.4, 1.8, 380, 0.4), (1.6, 2.2, 456, 0.4),
             (1.8, 2.6, 528, 0.5), (2.0, 3.1, 600, 0.5))
(EfficientNetB0, EfficientNetB1, EfficientNetB2, EfficientNetB3, EfficientNetB4,
 EfficientNetB5, EfficientNetB6, EfficientNetB7) = [
    _scaffold.variant(
        f"EfficientNetB{i}", __name__, build_efficientnet, f"efficientnetb{i}",
        f"EfficientNetB{i} for {size}x{size} images (width x{width}, depth x{depth}). "
        "Arguments as `VGG16`; the model takes [0, 255] pixels (its preprocessing is built "
        "in).", width_coefficient=width, depth_coefficient=depth, default_size=size,
        dropout_rate=dropout, stem=f"efficientnetb{i}")
    for i, (width, depth, size, dropout) in enumerate(_VARIANTS)]
