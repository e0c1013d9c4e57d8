"""VGG16 (Simonyan & Zisserman, 2014), and the VGG graph VGG19 shares: blocks of 3x3
convolutions, each closed by 2x2 max pooling, then two 4096-unit dense layers."""
from jkeras.applications import _scaffold, imagenet_utils
from jkeras.applications.imagenet_utils import decode_predictions
from jkeras.layers.convolutional import Conv2D
from jkeras.layers.core import Dense, Flatten
from jkeras.layers.pooling import MaxPooling2D

__all__ = ["VGG16", "preprocess_input", "decode_predictions"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
WEIGHTS_HASHES = {  # file name -> md5, as Keras publishes them
    "vgg16_weights_tf_dim_ordering_tf_kernels.h5": "64373286793e3c8b2b4e3219cbf3544b",
    "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5": "6d6bbae143d832006294945121d1f1fc",
}

_FILTERS = (64, 128, 256, 512, 512)

preprocess_input = imagenet_utils.preprocessor("caffe")


def build_vgg(convs_per_block, name, include_top, weights, input_tensor, input_shape,
              pooling, classes, classifier_activation, file_name, base_url, hashes):
    """The VGG graph with `convs_per_block[i]` convolutions in block `i + 1`; the
    ImageNet weights are `file_name` under `base_url`."""
    img_input, _ = _scaffold.start(weights, include_top, classes, pooling, input_tensor,
                                   input_shape, default_size=224, min_size=32)
    x = img_input
    for block, (filters, convs) in enumerate(zip(_FILTERS, convs_per_block), start=1):
        for conv in range(1, convs + 1):
            x = Conv2D(filters, (3, 3), activation="relu", padding="same",
                       name=f"block{block}_conv{conv}")(x)
        x = MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = Flatten(name="flatten")(x)
        x = Dense(4096, activation="relu", name="fc1")(x)
        x = Dense(4096, activation="relu", name="fc2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _scaffold.global_pool(x, pooling)
    return _scaffold.finish_model(
        img_input, input_tensor, x, name, weights, file_name, base_url, hashes)


def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg16"):
    """VGG16: 13 convolutions in five blocks, then (with `include_top`) the classifier.

    Arguments (as in Keras, for every application):
        include_top: keep the classifier on top.
        weights: None (random), 'imagenet' (downloaded once into the Keras cache) or
            the path of a weights file.
        input_tensor: a symbolic tensor to use as the image input.
        input_shape: `(height, width, 3)` (channels first: `(3, height, width)`), at
            least 32x32 here; fixed to 224x224 with `include_top` and ImageNet weights.
        pooling: without the top, None (4D output), 'avg' or 'max' global pooling.
        classes: classifier size (1000 with ImageNet weights).
        classifier_activation: the last layer's activation; None gives logits.
        name: the model's name.

    Inputs are expected preprocessed by `vgg16.preprocess_input`.
    """
    return build_vgg((2, 2, 3, 3, 3), name, include_top, weights, input_tensor,
                     input_shape, pooling, classes, classifier_activation,
                     _scaffold.tf_kernels_file("vgg16", include_top), BASE_WEIGHTS_PATH,
                     WEIGHTS_HASHES)
