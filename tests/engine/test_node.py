"""jkeras.engine.node: each call of a layer on symbolic tensors is a node, and a layer's
per-call accessors (`get_output_at`, `get_input_shape_at`, ...) read its nodes as Keras 2's
did (Keras 3 dropped those accessors, so Keras 2.3's engine/base_layer.py is the reference)."""
import pytest

import jkeras
from jkeras import layers


def test_shared_layer_node_accessors():
    a = jkeras.Input(shape=(8,))
    b = jkeras.Input(shape=(5,))
    shared = layers.Dense(4)
    assert shared(a).shape == (None, 4)
    shared_b = layers.Dense(3)
    x1, x2 = shared_b(a), shared_b(jkeras.Input(shape=(8,)))
    assert shared_b.get_output_at(0) is x1 and shared_b.get_output_at(1) is x2
    assert shared_b.get_input_shape_at(1) == (None, 8)
    assert shared_b.get_output_shape_at(0) == (None, 3)
    # Two nodes with the same shapes: shapes are well defined, tensors are not.
    assert shared_b.output_shape == (None, 3)
    with pytest.raises(AttributeError, match="multiple inbound nodes"):
        shared_b.output
    with pytest.raises(ValueError):
        shared(b)  # wrong last dimension for a built Dense


def test_node_links_follow_the_graph():
    a = jkeras.Input((3,), name="a")
    hidden = layers.Dense(4, name="hidden")
    h = hidden(a)
    out = layers.Dense(1, name="out")(h)
    node = out.node
    assert node.inbound_layers is hidden  # a single inbound layer, unwrapped as in Keras 2
    assert node.input_shapes == (None, 4) and node.output_shapes == (None, 1)
    assert node.flat_outputs == [out]
    assert [(layer.name, node_index, tensor_index)
            for layer, node_index, tensor_index, _ in node.iterate_inbound()] == \
        [("hidden", 0, 0)]
    assert node.parent_nodes == [h.node]
