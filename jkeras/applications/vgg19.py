"""VGG19: the VGG graph with four convolutions in each of the last three blocks."""
from jkeras.applications import _scaffold
from jkeras.applications.imagenet_utils import decode_predictions
from jkeras.applications.vgg16 import build_vgg, preprocess_input

__all__ = ["VGG19", "preprocess_input", "decode_predictions"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
WEIGHTS_HASHES = {  # file name -> md5, as Keras publishes them
    "vgg19_weights_tf_dim_ordering_tf_kernels.h5": "cbe5617147190e668d6c5d5026f83318",
    "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5": "253f8cb515780f3b799900260a226db6",
}


def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation="softmax", name="vgg19"):
    """VGG19: 16 convolutions in five blocks, then (with `include_top`) the classifier.
    Arguments as `VGG16`; inputs preprocessed by `vgg19.preprocess_input` ('caffe')."""
    return build_vgg((2, 2, 4, 4, 4), name, include_top, weights, input_tensor,
                     input_shape, pooling, classes, classifier_activation,
                     _scaffold.tf_kernels_file("vgg19", include_top), BASE_WEIGHTS_PATH,
                     WEIGHTS_HASHES)
