"""All layers, under the names Keras 2 and Keras 3 give them.

The names below are also the table configs resolve layer class names against
(`layer_classes`): a layer class is found by name only if it is exported here.
"""
from jkeras.engine import functional as _functional, sequential as _sequential
from jkeras.engine.base_layer import Layer
from jkeras.engine.input_layer import Input, InputLayer
from jkeras.engine.input_spec import InputSpec
from jkeras.engine.model import Model
from jkeras.layers.advanced_activations import (ELU, LeakyReLU, PReLU, ReLU, Softmax,
                                                ThresholdedReLU)
from jkeras.layers.attention import AdditiveAttention, Attention, MultiHeadAttention
from jkeras.layers.convolutional import (
    AtrousConvolution1D, AtrousConvolution2D, Conv, Conv1D, Conv1DTranspose, Conv2D,
    Conv2DTranspose, Conv3D, Conv3DTranspose, ConvTranspose, Convolution1D, Convolution2D,
    Convolution2DTranspose, Convolution3D, Convolution3DTranspose, Deconv2D, Deconv3D,
    Deconvolution2D, Deconvolution3D)
from jkeras.layers.convolutional_recurrent import (ConvLSTM1D, ConvLSTM1DCell, ConvLSTM2D,
                                                   ConvLSTM2DCell, ConvLSTM3D,
                                                   ConvLSTM3DCell, ConvLSTMCell)
from jkeras.layers.core import (Activation, ActivityRegularization, Dense, Dropout, Flatten,
                                Masking, Permute, RepeatVector, Reshape, SliceOp, TensorOp)
from jkeras.layers.tensor_ops import FunctionOp
from jkeras.layers.depthwise_separable import (
    DepthwiseConv, DepthwiseConv1D, DepthwiseConv2D, DepthwiseConvolution2D, SeparableConv,
    SeparableConv1D, SeparableConv2D, SeparableConvolution1D, SeparableConvolution2D)
from jkeras.layers.embeddings import Embedding
from jkeras.layers.lambda_layer import Lambda
from jkeras.layers.merge import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply,
                                 Subtract, add, average, concatenate, dot, maximum, minimum,
                                 multiply, subtract)
from jkeras.layers.noise import (AlphaDropout, GaussianDropout, GaussianNoise,
                                 SpatialDropout1D, SpatialDropout2D, SpatialDropout3D)
from jkeras.layers.normalization import (BatchNormalization, GroupNormalization,
                                         LayerNormalization, UnitNormalization)
from jkeras.layers.pooling import (
    AveragePooling1D, AveragePooling2D, AveragePooling3D, AvgPool1D, AvgPool2D, AvgPool3D,
    GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D, GlobalAvgPool1D,
    GlobalAvgPool2D, GlobalAvgPool3D, GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D,
    GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D, GlobalPooling, MaxPool1D,
    MaxPool2D, MaxPool3D, MaxPooling1D, MaxPooling2D, MaxPooling3D, Pooling)
from jkeras.layers.preprocessing import (CenterCrop, Normalization, RandomCrop, RandomFlip,
                                         RandomRotation, RandomTranslation, RandomZoom,
                                         Rescaling, Resizing)
from jkeras.layers.recurrent import (GRU, GRUCell, LSTM, LSTMCell, RNN, SimpleRNN,
                                     SimpleRNNCell, StackedRNNCells)
from jkeras.layers.reshaping import (Cropping1D, Cropping2D, Cropping3D, UpSampling1D,
                                     UpSampling2D, UpSampling3D, ZeroPadding1D, ZeroPadding2D,
                                     ZeroPadding3D)
from jkeras.layers.residual import CustomScaleLayer, LayerScale, StochasticDepth
from jkeras.layers.serialization import deserialize, serialize
from jkeras.layers.wrappers import Bidirectional, TimeDistributed, Wrapper
from jkeras.serialization import builtin_tables

__all__ = [
    "Activation", "ActivityRegularization", "Add", "AdditiveAttention", "AlphaDropout",
    "AtrousConvolution1D", "AtrousConvolution2D", "Attention", "Average", "AveragePooling1D",
    "AveragePooling2D", "AveragePooling3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
    "BatchNormalization", "Bidirectional", "CenterCrop", "Concatenate", "Conv", "Conv1D",
    "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "ConvLSTM1D",
    "ConvLSTM1DCell", "ConvLSTM2D", "ConvLSTM2DCell", "ConvLSTM3D", "ConvLSTM3DCell",
    "ConvLSTMCell", "ConvTranspose", "Convolution1D", "Convolution2D",
    "Convolution2DTranspose", "Convolution3D", "Convolution3DTranspose", "Cropping1D",
    "Cropping2D", "Cropping3D", "CustomScaleLayer", "Deconv2D", "Deconv3D", "Deconvolution2D",
    "Deconvolution3D", "Dense", "DepthwiseConv", "DepthwiseConv1D", "DepthwiseConv2D",
    "DepthwiseConvolution2D", "Dot", "Dropout", "ELU", "Embedding", "Flatten",
    "FunctionOp", "GRU",
    "GRUCell", "GaussianDropout", "GaussianNoise", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalAvgPool1D", "GlobalAvgPool2D",
    "GlobalAvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlobalPooling",
    "GroupNormalization", "Input", "InputLayer", "InputSpec", "LSTM", "LSTMCell", "Lambda",
    "Layer", "LayerNormalization", "LayerScale", "LeakyReLU", "Masking", "MaxPool1D",
    "MaxPool2D", "MaxPool3D", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "Maximum",
    "Minimum", "Model", "MultiHeadAttention", "Multiply", "Normalization", "PReLU", "Permute",
    "Pooling", "RNN", "RandomCrop", "RandomFlip", "RandomRotation", "RandomTranslation",
    "RandomZoom", "ReLU", "RepeatVector", "Rescaling", "Reshape", "Resizing", "SeparableConv",
    "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D",
    "SimpleRNN", "SimpleRNNCell", "SliceOp", "Softmax", "SpatialDropout1D",
    "SpatialDropout2D", "SpatialDropout3D", "StackedRNNCells", "StochasticDepth", "Subtract",
    "TensorOp", "ThresholdedReLU", "TimeDistributed", "UnitNormalization", "UpSampling1D",
    "UpSampling2D", "UpSampling3D", "Wrapper", "ZeroPadding1D", "ZeroPadding2D",
    "ZeroPadding3D", "add", "average", "concatenate", "deserialize", "dot", "layer_classes",
    "maximum", "minimum", "multiply", "serialize", "subtract",
]


def layer_classes():
    """Name -> class for every exported layer (the allow-list configs resolve against)."""
    exported = globals()
    table = {name: exported[name] for name in __all__
             if isinstance(exported[name], type) and issubclass(exported[name], Layer)}
    table.update({"Functional": _functional.Functional, "Sequential": _sequential.Sequential})
    return table


# Modules below this package (the engine, activations) find layer classes by name here.
builtin_tables.provide("layers", layer_classes)
