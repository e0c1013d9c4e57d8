"""The steps every application builder shares around its own graph: checking the
arguments, making the image input, the optional global pooling, wrapping the graph in a
model and loading the weights (the ImageNet file through `get_file`, or a local file)."""
import os

from jkeras import _config
from jkeras.applications import imagenet_utils
from jkeras.engine.functional import Functional
from jkeras.engine.input_layer import Input
from jkeras.engine.keras_tensor import KerasTensor
from jkeras.layers import core
from jkeras.layers import pooling as pooling_layers
from jkeras.utils.layer_utils import get_source_inputs

__all__ = ["check_arguments", "channels_only_last", "image_input", "start", "global_pool",
           "classifier", "top", "variant", "finish_model", "channel_axis", "bn_axis", "tf_kernels_file",
           "imagenet_file", "load_weights"]


def check_arguments(weights, include_top, classes, pooling=None):
    """Rejects `weights`, `classes` and `pooling` values Keras does not accept."""
    if not (weights in ("imagenet", None) or
            (isinstance(weights, (str, os.PathLike)) and os.path.exists(weights))):
        raise ValueError(
            "The `weights` argument should be either `None` (random initialization), "
            "'imagenet' (pre-training on ImageNet), or the path to the weights file to be "
            f"loaded.  Received: weights={weights}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError("If using `weights='imagenet'` with `include_top=True`, `classes` "
                         f"should be 1000.  Received classes={classes}")
    if pooling not in (None, "avg", "max"):
        raise ValueError("Expected `pooling` to be None, 'avg' or 'max'. Received: "
                         f"pooling={pooling!r}")


def channels_only_last(model_name):
    """Some families exist only for channels_last images, in Keras too."""
    if _config.image_data_format() == "channels_first":
        raise ValueError(
            f"{model_name} does not support the `channels_first` image data format. Switch "
            "to `channels_last` with `jkeras.backend.set_image_data_format`.")


def channel_axis():
    return 1 if _config.image_data_format() == "channels_first" else -1


def bn_axis():
    """The channel axis as the Keras builders write it for BatchNormalization (3 or 1)."""
    return 1 if _config.image_data_format() == "channels_first" else 3


def image_input(input_tensor, input_shape):
    """The tensor the graph starts from: a new `Input`, or the caller's symbolic tensor."""
    if input_tensor is None:
        return Input(shape=input_shape)
    if not isinstance(input_tensor, KerasTensor):
        raise ValueError(
            "Expected `input_tensor` to be a symbolic tensor (the output of `Input()` or "
            f"of a layer). Received: input_tensor of type {type(input_tensor).__name__}")
    return input_tensor


def start(weights, include_top, classes, pooling, input_tensor, input_shape, default_size,
          min_size):
    """Checks the arguments; returns the image input and the input shape (no batch)."""
    check_arguments(weights, include_top, classes, pooling)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=min_size,
        data_format=_config.image_data_format(), require_flatten=include_top,
        weights=weights)
    return image_input(input_tensor, input_shape), input_shape


def classifier(x, classes, classifier_activation, weights, pool_name="avg_pool"):
    """The usual top: global average pooling, then one dense layer named `predictions`."""
    x = pooling_layers.GlobalAveragePooling2D(name=pool_name)(x)
    imagenet_utils.validate_activation(classifier_activation, weights)
    return core.Dense(classes, activation=classifier_activation, name="predictions")(x)


def top(x, include_top, pooling, classes, classifier_activation, weights, avg_name=None,
        max_name=None):
    """The usual end of a graph: the classifier (`classifier`), or without it the
    optional global pooling (named `avg_name` / `max_name`)."""
    if include_top:
        return classifier(x, classes, classifier_activation, weights)
    return global_pool(x, pooling, avg_name, max_name)


def variant(public_name, module, builder, default_name, doc, **fixed):
    """A public model function with Keras's usual signature (`include_top`, `weights`,
    `input_tensor`, `input_shape`, `pooling`, `classes`, `classifier_activation`, `name`)
    that calls `builder(**fixed, ...)` with them."""
    def application(include_top=True, weights="imagenet", input_tensor=None,
                    input_shape=None, pooling=None, classes=1000,
                    classifier_activation="softmax", name=default_name):
        return builder(include_top=include_top, weights=weights, input_tensor=input_tensor,
                       input_shape=input_shape, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation, name=name, **fixed)

    application.__name__ = application.__qualname__ = public_name
    application.__module__ = module
    application.__doc__ = doc
    return application


def global_pool(x, pooling, avg_name=None, max_name=None):
    """The optional global pooling of a headless model (`pooling='avg'` or `'max'`)."""
    if pooling == "avg":
        return pooling_layers.GlobalAveragePooling2D(name=avg_name)(x)
    if pooling == "max":
        return pooling_layers.GlobalMaxPooling2D(name=max_name)(x)
    return x


def finish_model(img_input, input_tensor, outputs, name, weights=None, file_name=None,
                 base_url=None, hashes=None, origin_name=None):
    """The model from the graph's sources (those of `input_tensor` when one was given),
    with `weights` loaded (see `load_weights`)."""
    inputs = img_input if input_tensor is None else get_source_inputs(input_tensor)
    if isinstance(inputs, list) and len(inputs) == 1:
        inputs = inputs[0]
    model = Functional(inputs, outputs, name=name)
    return load_weights(model, weights, file_name, base_url, hashes, origin_name)


def tf_kernels_file(stem, include_top):
    """The file name most Keras weight files follow, e.g. `vgg16_weights_tf_dim_ordering_
    tf_kernels_notop.h5` for `stem='vgg16'` without the top."""
    return f"{stem}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"


def imagenet_file(file_name, base_url, hashes, origin_name=None):
    """The local path of a published weights file, downloaded once from `base_url +
    (origin_name or file_name)` into the Keras cache (`~/.keras/models`, or
    `$KERAS_HOME/models`) as `file_name`, and checked against its hash in `hashes` (a
    file without one there is not checked, as Keras does for MobileNet)."""
    from jkeras.utils import data_utils  # looked up at call time, so tests can stand in
    return data_utils.get_file(file_name, base_url + (origin_name or file_name),
                               cache_subdir="models", file_hash=hashes.get(file_name))


def load_weights(model, weights, file_name=None, base_url=None, hashes=None,
                 origin_name=None):
    """Loads `weights` into `model`: for 'imagenet', the published file (see
    `imagenet_file`, fetched only then); a path is loaded as it is. Any mismatch between
    file and model raises before a weight changes."""
    if weights == "imagenet":
        model.load_weights(imagenet_file(file_name, base_url, hashes or {}, origin_name))
    elif weights is not None:
        model.load_weights(weights)
    return model
