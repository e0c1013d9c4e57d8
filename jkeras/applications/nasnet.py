"""NASNetMobile and NASNetLarge (Zoph et al., 2017): cells found by architecture search.
Normal cells keep the resolution, reduction cells halve it; each cell combines the two
previous cells' outputs through separable convolutions and poolings. Channels-last only."""
import warnings

from jkeras.applications import _scaffold, imagenet_utils
from jkeras.applications.imagenet_utils import decode_predictions
from jkeras.layers.convolutional import Conv2D, Cropping2D, SeparableConv2D, ZeroPadding2D
from jkeras.layers.core import Activation, Dense
from jkeras.layers.merge import add, concatenate
from jkeras.layers.normalization import BatchNormalization
from jkeras.layers.pooling import AveragePooling2D, GlobalAveragePooling2D, MaxPooling2D

__all__ = ["NASNetMobile", "NASNetLarge", "preprocess_input", "decode_predictions"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/nasnet/"
# Keras stores the files under other names than it downloads them from.
_FILES = {  # (default size, include_top) -> (cache name, published name)
    (224, True): ("nasnet_mobile.h5", "NASNet-mobile.h5"),
    (224, False): ("nasnet_mobile_no_top.h5", "NASNet-mobile-no-top.h5"),
    (331, True): ("nasnet_large.h5", "NASNet-large.h5"),
    (331, False): ("nasnet_large_no_top.h5", "NASNet-large-no-top.h5"),
}
WEIGHTS_HASHES = {  # cache name -> md5, as Keras publishes them
    "nasnet_mobile.h5": "020fb642bf7360b370c678b08e0adf61",
    "nasnet_mobile_no_top.h5": "1ed92395b5b598bdda52abe5c0dbfd63",
    "nasnet_large.h5": "11577c9a518f0070763c2b964a382f17",
    "nasnet_large_no_top.h5": "d81d89dc07e6e56530c4e77faddd61b5",
}

preprocess_input = imagenet_utils.preprocessor("tf")


def _bn(name):
    return BatchNormalization(axis=-1, momentum=0.9997, epsilon=1e-3, name=name)


def _conv1x1(x, filters, name):
    return Conv2D(filters, (1, 1), strides=(1, 1), padding="same", use_bias=False,
                  name=name, kernel_initializer="he_normal")(x)


def _separable_conv_block(x, filters, kernel_size=(3, 3), strides=(1, 1), block_id=None):
    """ReLU, separable conv (strided if asked), BN, ReLU, separable conv, BN."""
    x = Activation("relu")(x)
    if strides == (2, 2):
        x = ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                          name=f"separable_conv_1_pad_{block_id}")(x)
    x = SeparableConv2D(filters, kernel_size, strides=strides,
                        name=f"separable_conv_1_{block_id}",
                        padding="valid" if strides == (2, 2) else "same",
                        use_bias=False)(x)
    x = _bn(f"separable_conv_1_bn_{block_id}")(x)
    x = Activation("relu")(x)
    x = SeparableConv2D(filters, kernel_size, name=f"separable_conv_2_{block_id}",
                        padding="same", use_bias=False)(x)
    return _bn(f"separable_conv_2_bn_{block_id}")(x)


def _adjust_block(p, ip, filters, block_id=None):
    """Brings the previous cell's output `p` to the resolution and width of `ip`."""
    if p is None:
        return ip
    if p.shape[-2] != ip.shape[-2]:
        p = Activation("relu", name=f"adjust_relu_1_{block_id}")(p)
        p1 = AveragePooling2D((1, 1), strides=(2, 2), padding="valid",
                              name=f"adjust_avg_pool_1_{block_id}")(p)
        p1 = _conv1x1(p1, filters // 2, f"adjust_conv_1_{block_id}")
        p2 = ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
        p2 = Cropping2D(cropping=((1, 0), (1, 0)))(p2)
        p2 = AveragePooling2D((1, 1), strides=(2, 2), padding="valid",
                              name=f"adjust_avg_pool_2_{block_id}")(p2)
        p2 = _conv1x1(p2, filters // 2, f"adjust_conv_2_{block_id}")
        p = concatenate([p1, p2], axis=-1)
        return _bn(f"adjust_bn_{block_id}")(p)
    if p.shape[-1] != filters:
        p = Activation("relu")(p)
        p = _conv1x1(p, filters, f"adjust_conv_projection_{block_id}")
        return _bn(f"adjust_bn_{block_id}")(p)
    return p


def _squeeze(ip, filters, kind, block_id):
    """ReLU, 1x1 convolution and BN: the cell's view `h` of its input."""
    h = Activation("relu")(ip)
    h = _conv1x1(h, filters, f"{kind}_conv_1_{block_id}")
    return _bn(f"{kind}_bn_1_{block_id}")(h)


def _normal_a_cell(ip, p, filters, block_id=None):
    p = _adjust_block(p, ip, filters, block_id)
    h = _squeeze(ip, filters, "normal", block_id)

    def pool(x, side):
        return AveragePooling2D((3, 3), strides=(1, 1), padding="same",
                                name=f"normal_{side}_{block_id}")(x)

    x1 = add([_separable_conv_block(h, filters, (5, 5), block_id=f"normal_left1_{block_id}"),
              _separable_conv_block(p, filters, block_id=f"normal_right1_{block_id}")],
             name=f"normal_add_1_{block_id}")
    x2 = add([_separable_conv_block(p, filters, (5, 5), block_id=f"normal_left2_{block_id}"),
              _separable_conv_block(p, filters, (3, 3),
                                    block_id=f"normal_right2_{block_id}")],
             name=f"normal_add_2_{block_id}")
    x3 = add([pool(h, "left3"), p], name=f"normal_add_3_{block_id}")
    x4 = add([pool(p, "left4"), pool(p, "right4")], name=f"normal_add_4_{block_id}")
    x5 = add([_separable_conv_block(h, filters, block_id=f"normal_left5_{block_id}"), h],
             name=f"normal_add_5_{block_id}")
    x = concatenate([p, x1, x2, x3, x4, x5], axis=-1, name=f"normal_concat_{block_id}")
    return x, ip


def _reduction_a_cell(ip, p, filters, block_id=None):
    p = _adjust_block(p, ip, filters, block_id)
    h = _squeeze(ip, filters, "reduction", block_id)
    h3 = ZeroPadding2D(padding=imagenet_utils.correct_pad(h, 3),
                       name=f"reduction_pad_1_{block_id}")(h)

    def sep(x, size, side):
        return _separable_conv_block(x, filters, (size, size), strides=(2, 2),
                                     block_id=f"reduction_{side}_{block_id}")

    def pool(layer, side, x, strides=(2, 2), padding="valid"):
        return layer((3, 3), strides=strides, padding=padding,
                     name=f"reduction_{side}_{block_id}")(x)

    x1 = add([sep(h, 5, "left1"), sep(p, 7, "right1")], name=f"reduction_add_1_{block_id}")
    x2 = add([pool(MaxPooling2D, "left2", h3), sep(p, 7, "right2")],
             name=f"reduction_add_2_{block_id}")
    x3 = add([pool(AveragePooling2D, "left3", h3), sep(p, 5, "right3")],
             name=f"reduction_add3_{block_id}")
    x4 = add([x2, pool(AveragePooling2D, "left4", x1, (1, 1), "same")])
    x5 = add([_separable_conv_block(x1, filters, (3, 3),
                                    block_id=f"reduction_left4_{block_id}"),
              pool(MaxPooling2D, "right5", h3)], name=f"reduction_add4_{block_id}")
    x = concatenate([x2, x3, x4, x5], axis=-1, name=f"reduction_concat_{block_id}")
    return x, ip


def build_nasnet(input_shape, penultimate_filters, num_blocks, stem_block_filters,
                 skip_reduction, filter_multiplier, include_top, weights, input_tensor,
                 pooling, classes, default_size, classifier_activation, name):
    """The NASNet-A graph: a stem, two stem reduction cells, then three stacks of
    `num_blocks` normal cells separated by reduction cells."""
    _scaffold.channels_only_last("NASNet")
    if isinstance(input_shape, tuple) and None in input_shape and weights == "imagenet":
        raise ValueError("When specifying the input shape of a NASNet and loading "
                         "`ImageNet` weights, the input_shape argument must be static (no "
                         f"None entries). Got: `input_shape={input_shape}`.")
    if penultimate_filters % (24 * filter_multiplier ** 2):
        raise ValueError("For NASNet-A models, the `penultimate_filters` must be a multiple "
                         "of 24 * (`filter_multiplier` ** 2). Current value: "
                         f"{penultimate_filters}")
    if weights == "imagenet" and (default_size, include_top) not in _FILES:
        raise ValueError("ImageNet weights can only be loaded with NASNetLarge or "
                         "NASNetMobile")
    img_input, _ = _scaffold.start(weights, include_top, classes, pooling, input_tensor,
                                   input_shape, default_size=default_size, min_size=32)
    filters = penultimate_filters // 24
    x = Conv2D(stem_block_filters, (3, 3), strides=(2, 2), padding="valid", use_bias=False,
               name="stem_conv1", kernel_initializer="he_normal")(img_input)
    x = _bn("stem_bn1")(x)
    x, p = _reduction_a_cell(x, None, filters // filter_multiplier ** 2, block_id="stem_1")
    x, p = _reduction_a_cell(x, p, filters // filter_multiplier, block_id="stem_2")
    for stack in range(3):
        width = filters * filter_multiplier ** stack
        if stack:
            x, p0 = _reduction_a_cell(x, p, width, block_id=f"reduce_{stack * num_blocks}")
            p = p if skip_reduction else p0
        for i in range(num_blocks):
            block_id = stack * num_blocks + i + (1 if stack else 0)
            x, p = _normal_a_cell(x, p, width, block_id=f"{block_id}")
    x = Activation("relu")(x)
    if include_top:
        x = GlobalAveragePooling2D()(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _scaffold.global_pool(x, pooling)
    file_name = published = None
    if weights == "imagenet":
        file_name, published = _FILES[(default_size, include_top)]
    return _scaffold.finish_model(
        img_input, input_tensor, x, name, weights, file_name, BASE_WEIGHTS_PATH,
        WEIGHTS_HASHES, origin_name=published)


def NASNetMobile(input_shape=None, include_top=True, weights="imagenet", input_tensor=None,
                 pooling=None, classes=1000, classifier_activation="softmax",
                 name="nasnet_mobile"):
    """NASNetMobile for 224x224 images (without the top, the input is 224x224 unless
    `input_shape` says otherwise). Arguments as `VGG16`; inputs preprocessed by
    `nasnet.preprocess_input` ('tf')."""
    if not include_top and input_shape is None:
        input_shape = (224, 224, 3)
    return build_nasnet(input_shape, 1056, 4, 32, False, 2, include_top, weights,
                        input_tensor, pooling, classes, 224, classifier_activation, name)


def NASNetLarge(input_shape=None, include_top=True, weights="imagenet", input_tensor=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                name="nasnet_large"):
    """NASNetLarge for 331x331 images. Arguments as `VGG16`."""
    return build_nasnet(input_shape, 4032, 6, 96, True, 2, include_top, weights,
                        input_tensor, pooling, classes, 331, classifier_activation, name)
