"""ConvNeXtTiny/Small/Base (Liu et al., 2022): a patchify stem and four stages of blocks
(7x7 depthwise convolution, layer normalization, an inverted MLP, a learned LayerScale)
joined by strided downsampling layers. The stem and downsampling layers are small
Sequential models, as in Keras. The models normalize their inputs themselves, so
`preprocess_input` is the identity. Channels-last only."""
import numpy as np

from jkeras.applications import _scaffold, imagenet_utils
from jkeras.applications.imagenet_utils import decode_predictions
from jkeras.engine.sequential import Sequential
from jkeras.layers.convolutional import Conv2D
from jkeras.layers.core import Activation, Dense
from jkeras.layers.normalization import LayerNormalization
from jkeras.layers.pooling import GlobalAveragePooling2D
from jkeras.layers.preprocessing import Normalization
from jkeras.layers.residual import LayerScale, StochasticDepth

__all__ = ["ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "preprocess_input",
           "decode_predictions"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/convnext/"
WEIGHTS_HASHES = {  # file name -> sha256, as Keras publishes them
    "convnext_tiny.h5": "8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
    "convnext_tiny_notop.h5":
        "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1",
    "convnext_small.h5": "ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c",
    "convnext_small_notop.h5":
        "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab",
    "convnext_base.h5": "52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6",
    "convnext_base_notop.h5":
        "40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45",
}
# ImageNet's RGB mean and variance on the [0, 255] scale, as the prestem uses them.
_MEAN = [0.485 * 255, 0.456 * 255, 0.406 * 255]
_VARIANCE = [(0.229 * 255) ** 2, (0.224 * 255) ** 2, (0.225 * 255) ** 2]
_EPSILON = 1e-6


def preprocess_input(x, data_format=None):
    """The identity: ConvNeXt models normalize their inputs themselves."""
    return x


def _layer_norm(name=None):
    return LayerNormalization(epsilon=_EPSILON, name=name)


def convnext_block(x, projection_dim, drop_path_rate, layer_scale_init_value, name):
    """`x + scale * mlp(norm(depthwise7x7(x)))`, with stochastic depth on the branch."""
    y = Conv2D(filters=projection_dim, kernel_size=7, padding="same", groups=projection_dim,
               name=f"{name}_depthwise_conv")(x)
    y = _layer_norm(f"{name}_layernorm")(y)
    y = Dense(4 * projection_dim, name=f"{name}_pointwise_conv_1")(y)
    y = Activation("gelu", name=f"{name}_gelu")(y)
    y = Dense(projection_dim, name=f"{name}_pointwise_conv_2")(y)
    if layer_scale_init_value is not None:
        y = LayerScale(layer_scale_init_value, projection_dim, name=f"{name}_layer_scale")(y)
    if drop_path_rate:
        y = StochasticDepth(drop_path_rate, name=f"{name}_stochastic_depth")(y)
    else:
        y = Activation("linear", name=f"{name}_identity")(y)
    return x + y


def build_convnext(depths, projection_dims, stem, drop_path_rate=0.0,
                   layer_scale_init_value=1e-6, default_size=224, name="convnext",
                   include_preprocessing=True, include_top=True, weights=None,
                   input_tensor=None, input_shape=None, pooling=None, classes=1000,
                   classifier_activation="softmax"):
    """The ConvNeXt graph: `depths[i]` blocks of width `projection_dims[i]` in stage `i`;
    `stem` names the weight files."""
    _scaffold.channels_only_last("ConvNeXt")
    img_input, input_shape = _scaffold.start(
        weights, include_top, classes, pooling, input_tensor, input_shape,
        default_size=default_size, min_size=32)
    x = img_input
    if include_preprocessing and input_shape[-1] == 3:
        x = Normalization(mean=_MEAN, variance=_VARIANCE,
                          name=f"{name}_prestem_normalization")(x)
    downsampling = [Sequential([
        Conv2D(projection_dims[0], kernel_size=4, strides=4, name=f"{name}_stem_conv"),
        _layer_norm(f"{name}_stem_layernorm")], name=f"{name}_stem")]
    for i in range(3):
        downsampling.append(Sequential([
            _layer_norm(f"{name}_downsampling_layernorm_{i}"),
            Conv2D(projection_dims[i + 1], kernel_size=2, strides=2,
                   name=f"{name}_downsampling_conv_{i}")],
            name=f"{name}_downsampling_block_{i}"))
    rates = [float(r) for r in np.linspace(0.0, drop_path_rate, sum(depths))]
    done = 0
    for stage, (depth, dim) in enumerate(zip(depths, projection_dims)):
        x = downsampling[stage](x)
        for j in range(depth):
            x = convnext_block(x, dim, rates[done + j], layer_scale_init_value,
                               f"{name}_stage_{stage}_block_{j}")
        done += depth
    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = GlobalAveragePooling2D(name=f"{name}_head_gap")(x)
        x = _layer_norm(f"{name}_head_layernorm")(x)
        x = Dense(classes, activation=classifier_activation, name=f"{name}_head_dense")(x)
    else:
        x = _scaffold.global_pool(x, pooling)
        x = _layer_norm()(x)
    file_name = f"{stem}{'.h5' if include_top else '_notop.h5'}"
    return _scaffold.finish_model(
        img_input, input_tensor, x, name, weights, file_name, BASE_WEIGHTS_PATH,
        WEIGHTS_HASHES)


def _variant(depths, dims, stem, doc):
    def builder(include_top=True, include_preprocessing=True, weights="imagenet",
                input_tensor=None, input_shape=None, pooling=None, classes=1000,
                classifier_activation="softmax", name=stem):
        return build_convnext(depths, dims, stem, name=name, include_top=include_top,
                              include_preprocessing=include_preprocessing, weights=weights,
                              input_tensor=input_tensor, input_shape=input_shape,
                              pooling=pooling, classes=classes,
                              classifier_activation=classifier_activation)

    builder.__name__ = builder.__qualname__ = "ConvNeXt" + stem.split("_")[1].capitalize()
    builder.__doc__ = doc
    return builder


_DOC = ("ConvNeXt{v}: stages of {d} blocks, {w} channels. Arguments as `VGG16`, and "
        "`include_preprocessing` (normalize [0, 255] inputs inside the model).")
ConvNeXtTiny = _variant([3, 3, 9, 3], [96, 192, 384, 768], "convnext_tiny",
                        _DOC.format(v="Tiny", d="3/3/9/3", w="96-768"))
ConvNeXtSmall = _variant([3, 3, 27, 3], [96, 192, 384, 768], "convnext_small",
                         _DOC.format(v="Small", d="3/3/27/3", w="96-768"))
ConvNeXtBase = _variant([3, 3, 27, 3], [128, 256, 512, 1024], "convnext_base",
                        _DOC.format(v="Base", d="3/3/27/3", w="128-1024"))
