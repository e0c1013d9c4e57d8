"""jkeras.engine.structure: nested lists, tuples and dicts are walked in Keras's order (dict
keys sorted), so flattened outputs, losses and weights line up with Keras's."""
import pytest

from jkeras.engine.structure import flatten, map_structure

STRUCTURES = [
    1,
    [1, 2, 3],
    (1, [2, (3, 4)], 5),
    {"b": 1, "a": [2, 3], "c": {"z": 4, "y": (5, 6)}},
    [{"out_2": 1, "out_1": 2}, (3,)],
    [],
]


@pytest.mark.parametrize("structure", STRUCTURES)
def test_flatten_order_matches_keras(keras_ref, structure):
    assert flatten(structure) == keras_ref.tree.flatten(structure)


@pytest.mark.parametrize("structure", STRUCTURES)
def test_map_structure_keeps_the_nesting_like_keras(keras_ref, structure):
    ours = map_structure(lambda x: x * 10, structure)
    assert ours == keras_ref.tree.map_structure(lambda x: x * 10, structure)
    assert type(ours) is type(structure)
    assert flatten(ours) == [x * 10 for x in flatten(structure)]
