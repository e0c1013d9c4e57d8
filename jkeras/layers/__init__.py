"""All layers, under the names Keras 2 and Keras 3 give them."""
from jkeras.engine.base_layer import Layer
from jkeras.engine.input_layer import Input, InputLayer
from jkeras.engine.input_spec import InputSpec
from jkeras.layers.core import (Activation, ActivityRegularization, Dense, Dropout, Flatten,
                                Lambda, Masking, Permute, RepeatVector, Reshape)
from jkeras.layers.merge import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply,
                                 Subtract, add, average, concatenate, dot, maximum, minimum,
                                 multiply, subtract)
