"""Keras 2 module paths: every public name Keras 2.3.1 had in these modules imports from the
jkeras module of the same path (`keras.layers.convolutional` -> `jkeras.layers.
convolutional`). The lists are the classes, functions and aliases each module of Keras
2.3.1's source defines, plus the layers it re-exported (pooling and the atrous
convolutions in `convolutional`); helper imports (backend, numpy, six) are not API.
Keras 1's abstract `Recurrent` base (re-exported by `keras.layers.recurrent`) is left out:
Keras 1 layers are not supported."""
import importlib

import pytest

KERAS2_NAMES = {
    "jkeras.layers.convolutional": [
        "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "MaxPooling1D",
        "MaxPooling2D", "MaxPooling3D", "AtrousConvolution1D", "AtrousConvolution2D",
        "Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "Conv3DTranspose",
        "SeparableConv1D", "SeparableConv2D", "DepthwiseConv2D", "UpSampling1D",
        "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
        "Cropping1D", "Cropping2D", "Cropping3D", "Convolution1D", "Convolution2D",
        "Convolution3D", "SeparableConvolution1D", "SeparableConvolution2D",
        "Convolution2DTranspose", "Deconvolution2D", "Deconv2D", "Deconvolution3D",
        "Deconv3D", "AtrousConv1D", "AtrousConv2D"],
    "jkeras.layers.advanced_activations": [
        "LeakyReLU", "PReLU", "ELU", "ThresholdedReLU", "Softmax", "ReLU"],
    "jkeras.layers.noise": ["GaussianNoise", "GaussianDropout", "AlphaDropout"],
    "jkeras.layers.embeddings": ["Embedding"],
    "jkeras.layers.recurrent": [
        "StackedRNNCells", "RNN", "SimpleRNNCell", "SimpleRNN", "GRUCell", "GRU",
        "LSTMCell", "LSTM"],
    "jkeras.layers.merge": [
        "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
        "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"],
    "jkeras.utils.data_utils": [
        "get_file", "validate_file", "Sequence", "init_pool", "get_index",
        "SequenceEnqueuer", "OrderedEnqueuer", "init_pool_generator", "next_sample",
        "GeneratorEnqueuer"],
    "jkeras.utils.np_utils": ["to_categorical", "normalize"],
    "jkeras.utils.generic_utils": [
        "CustomObjectScope", "custom_object_scope", "get_custom_objects",
        "serialize_keras_object", "deserialize_keras_object", "func_dump", "func_load",
        "getargspec", "has_arg", "Progbar", "to_list", "unpack_singleton", "object_list_uid",
        "is_all_none", "slice_arrays", "transpose_shape", "check_for_unexpected_keys"],
    "jkeras.preprocessing": ["image", "sequence", "text"],
    "jkeras.preprocessing.image": [
        "random_rotation", "random_shift", "random_shear", "random_zoom",
        "apply_channel_shift", "random_channel_shift", "apply_brightness_shift",
        "random_brightness", "apply_affine_transform", "load_img", "array_to_img",
        "img_to_array", "save_img", "Iterator", "DirectoryIterator", "NumpyArrayIterator",
        "DataFrameIterator", "ImageDataGenerator"],
    "jkeras.preprocessing.sequence": [
        "pad_sequences", "make_sampling_table", "skipgrams", "TimeseriesGenerator"],
    "jkeras.preprocessing.text": [
        "text_to_word_sequence", "one_hot", "hashing_trick", "Tokenizer",
        "tokenizer_from_json"],
}


@pytest.mark.parametrize("module", sorted(KERAS2_NAMES))
def test_every_keras2_name_imports(module):
    names = KERAS2_NAMES[module]
    namespace = {}
    exec(f"from {module} import {', '.join(names)}", namespace)  # the `from ... import`
    missing = [name for name in names if namespace.get(name) is None]
    assert not missing


def test_re_exports_are_the_same_objects():
    from jkeras import layers
    from jkeras.layers import convolutional, pooling
    for name in ("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D",
                 "AveragePooling2D", "AveragePooling3D"):
        assert getattr(convolutional, name) is getattr(pooling, name) is getattr(layers, name)
    assert convolutional.AtrousConv2D is layers.AtrousConvolution2D
    utils = importlib.import_module("jkeras.utils")
    assert utils.OrderedEnqueuer is utils.data_utils.OrderedEnqueuer
    assert utils.serialize_keras_object is utils.generic_utils.serialize_keras_object
