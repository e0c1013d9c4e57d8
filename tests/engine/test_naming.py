"""jkeras.engine.naming: class names to snake case as Keras does, and the per-session
counters behind `dense`, `dense_1`, ... (Keras 2's automatic names)."""
import pytest

import jkeras
from jkeras.engine import naming

CLASS_NAMES = ["Conv2D", "BatchNormalization", "LSTM", "GRUCell", "MyHTTPLayer", "ReLU",
               "Conv2DTranspose", "PReLU", "Dense", "TimeDistributed"]


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_snake_case_matches_keras(keras_ref, name):
    from keras.src.utils.naming import to_snake_case
    assert naming.to_snake_case(name) == to_snake_case(name)


def test_private_class_names_get_keras2s_private_prefix():
    # Keras 2.3 (keras/utils/generic_utils.py to_snake_case): "_Hidden" splits to "__hidden"
    # like Keras 3's, and a name that starts with "_" is then prefixed with "private".
    assert naming.to_snake_case("_Hidden") == "private__hidden"


def test_unique_names_count_per_base_from_zero_or_one():
    assert [naming.unique_name("dense") for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    assert naming.unique_name("conv") == "conv"  # each base counts on its own
    assert [naming.unique_name("input", zero_based=False) for _ in range(2)] == \
        ["input_1", "input_2"]
    naming.reset_uids()
    assert naming.unique_name("dense") == "dense"


def test_layers_and_inputs_are_named_like_keras2():
    # Keras 2: layers count from `dense`, inputs from `input_1`; a Sequential's implied
    # input is named after its first layer.
    first, second = jkeras.layers.Dense(1), jkeras.layers.Dense(1)
    assert (first.name, second.name) == ("dense", "dense_1")
    assert [jkeras.Input((2,)).name for _ in range(2)] == ["input_1", "input_2"]
    assert jkeras.layers.BatchNormalization().name == "batch_normalization"
    model = jkeras.Sequential([jkeras.layers.Dense(1, input_shape=(3,))])
    assert model.inputs[0].name == "dense_2_input"
