"""summary(): the Keras 2 text layout, golden strings as tf.keras 2 prints them."""
import jkeras
from jkeras import layers
from jkeras.models import Model, Sequential

MLP_SUMMARY = """\
Model: "sequential"
_________________________________________________________________
Layer (type)                 Output Shape              Param #   
=================================================================
dense (Dense)                (None, 64)                1344      
_________________________________________________________________
dropout (Dropout)            (None, 64)                0         
_________________________________________________________________
dense_1 (Dense)              (None, 10)                650       
=================================================================
Total params: 1,994
Trainable params: 1,994
Non-trainable params: 0
_________________________________________________________________"""

GRAPH_SUMMARY = """\
Model: "model"
__________________________________________________________________________________________________
Layer (type)                    Output Shape         Param #     Connected to                     
==================================================================================================
main_input (InputLayer)         [(None, 8)]          0                                            
__________________________________________________________________________________________________
shared (Dense)                  (None, 4)            36          main_input[0][0]                 
__________________________________________________________________________________________________
aux_input (InputLayer)          [(None, 5)]          0                                            
__________________________________________________________________________________________________
concatenate (Concatenate)       (None, 9)            0           shared[0][0]                     
                                                                 aux_input[0][0]                  
__________________________________________________________________________________________________
main_output (Dense)             (None, 1)            10          concatenate[0][0]                
__________________________________________________________________________________________________
aux_output (Dense)              (None, 1)            5           shared[0][0]                     
==================================================================================================
Total params: 51
Trainable params: 51
Non-trainable params: 0
__________________________________________________________________________________________________"""


def _capture(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return "\n".join(lines)


def test_sequential_summary_layout():
    model = Sequential()
    model.add(layers.Dense(64, activation="relu", input_dim=20))
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(10, activation="softmax"))
    assert _capture(model) == MLP_SUMMARY


def test_graph_summary_has_connected_to_column():
    main = jkeras.Input(shape=(8,), name="main_input")
    aux = jkeras.Input(shape=(5,), name="aux_input")
    shared = layers.Dense(4, name="shared")(main)
    merged = layers.concatenate([shared, aux])
    out = layers.Dense(1, name="main_output")(merged)
    aux_out = layers.Dense(1, name="aux_output")(shared)
    assert _capture(Model([main, aux], [out, aux_out])) == GRAPH_SUMMARY


def test_thousands_separators_and_non_trainable_counts():
    model = Sequential([layers.Dense(1000, input_shape=(1000,)), layers.Dense(10)])
    model.layers[0].trainable = False
    text = _capture(model)
    assert "Total params: 1,011,010" in text
    assert "Trainable params: 10,010" in text
    assert "Non-trainable params: 1,001,000" in text


def test_print_summary_long_form_and_custom_positions():
    model = Sequential([layers.Dense(3, input_shape=(2,))])
    lines = []
    jkeras.utils.print_summary(model, line_length=40, positions=[0.5, 0.8, 1.0],
                               print_fn=lines.append)
    assert lines[1] == "_" * 40
    assert lines[2].startswith("Layer (type)") and len(lines[2]) == 40
