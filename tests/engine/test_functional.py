"""Functional models, Sequential, nested and subclassed models: structure checked against
real Keras building the same code, forward passes against Keras with the same weights."""
import numpy as np
import pytest

import jkeras
from jkeras import layers
from jkeras.models import Model, Sequential


def _copy_weights(ours, theirs):
    ours.set_weights(theirs.get_weights())


def _mlp(lib):
    model = lib.Sequential()
    model.add(lib.layers.Dense(64, activation="relu", input_shape=(20,)))
    model.add(lib.layers.Dropout(0.5))
    model.add(lib.layers.Dense(64, activation="relu"))
    model.add(lib.layers.Dense(10, activation="softmax"))
    return model


def _two_in_two_out(lib):
    a = lib.Input(shape=(8,), name="a")
    b = lib.Input(shape=(6,), name="b")
    shared = lib.layers.Dense(4, name="shared")
    ea, eb = shared(a), shared(lib.layers.Dense(8, name="pb")(b))
    merged = lib.layers.concatenate([ea, eb])
    out1 = lib.layers.Dense(1, activation="sigmoid", name="main_output")(merged)
    out2 = lib.layers.Dense(3, name="aux_output")(ea)
    return lib.Model(inputs=[a, b], outputs=[out1, out2])


def _nested(lib):
    x = lib.Input(shape=(6,))
    inner = lib.Model(x, lib.layers.Dense(5, activation="tanh")(x), name="inner")
    y = lib.Input(shape=(6,))
    z = lib.Input(shape=(6,))
    merged = lib.layers.add([inner(y), inner(z)])
    return lib.Model([y, z], lib.layers.Dense(2)(merged))


@pytest.mark.slow
@pytest.mark.parametrize("builder", [_mlp, _two_in_two_out, _nested])
def test_param_counts_shapes_and_outputs_match_keras(keras_ref, builder, rng):
    theirs = builder(keras_ref)
    ours = builder(jkeras)
    assert ours.count_params() == theirs.count_params()
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert [len(l.weights) for l in ours.layers] == [len(l.weights) for l in theirs.layers]
    _copy_weights(ours, theirs)
    inputs = [rng.standard_normal((3,) + tuple(t.shape[1:])).astype("float32")
              for t in ours.inputs]
    feed = inputs if len(inputs) > 1 else inputs[0]
    expected = theirs.predict(feed, verbose=0)
    got = ours.predict(feed)
    for e, g in zip(expected if isinstance(expected, list) else [expected],
                    got if isinstance(got, list) else [got]):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5)


def test_layer_names_and_order_follow_keras2():
    model = _two_in_two_out(jkeras)
    # Keras 2 orders layers by decreasing depth, ties by first visit from the outputs:
    # "b" sits deepest (b -> pb -> shared -> concatenate -> main_output).
    assert [l.name for l in model.layers] == ["b", "a", "pb", "shared", "concatenate",
                                              "main_output", "aux_output"]
    assert model.input_names == ["a", "b"]
    assert model.output_names == ["main_output", "aux_output"]
    assert model.output_shape == [(None, 1), (None, 3)]
    assert model.input_shape == [(None, 8), (None, 6)]


def test_automatic_unique_names():
    jkeras.backend.clear_session()
    d1, d2 = layers.Dense(2), layers.Dense(2)
    c = layers.Conv2D(1, 1) if hasattr(layers, "Conv2D") else None
    assert (d1.name, d2.name) == ("dense", "dense_1")
    if c is not None:
        assert c.name == "conv2d"
    assert jkeras.Input(shape=(2,)).name == "input_1"
    assert jkeras.Input(shape=(2,)).name == "input_2"
    assert Sequential().name == "sequential"


def test_different_shapes_make_output_shape_ambiguous():
    layer = layers.Flatten()
    layer(jkeras.Input(shape=(2, 3)))
    layer(jkeras.Input(shape=(4, 5)))
    with pytest.raises(AttributeError, match='"flatten'):
        layer.output_shape
    assert layer.get_output_shape_at(1) == (None, 20)


def test_model_called_as_a_layer_shares_weights(rng):
    x = jkeras.Input(shape=(4,))
    base = Model(x, layers.Dense(3)(x))
    y = jkeras.Input(shape=(4,))
    outer = Model(y, layers.Dense(2)(base(y)))
    data = rng.standard_normal((5, 4)).astype("float32")
    before = outer.predict(data)
    kernel, bias = base.get_weights()
    base.set_weights([kernel * 2, bias])
    after = outer.predict(data)
    assert not np.allclose(before, after)
    assert outer.layers[1] is base
    assert len(outer.weights) == 4


def test_dict_inputs_and_outputs(rng):
    a = jkeras.Input(shape=(3,), name="left")
    b = jkeras.Input(shape=(2,), name="right")
    merged = layers.concatenate([a, b])
    model = Model({"left": a, "right": b},
                  {"y": layers.Dense(1, name="y")(merged), "z": layers.Dense(2, name="z")(merged)})
    out = model.predict({"left": rng.random((4, 3)), "right": rng.random((4, 2))})
    assert set(out) == {"y", "z"} and out["z"].shape == (4, 2)


def test_subclassed_model(rng):
    class TwoLayer(jkeras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(8, activation="relu")
            self.out = layers.Dense(2)

        def call(self, inputs, training=None):
            return self.out(self.hidden(inputs))

    model = TwoLayer()
    x = rng.random((4, 3)).astype("float32")
    y = np.asarray(model(x))
    assert y.shape == (4, 2)
    assert model.name.startswith("two_layer")
    assert model.count_params() == 3 * 8 + 8 + 8 * 2 + 2
    kernel_h, bias_h, kernel_o, bias_o = model.get_weights()
    expected = np.maximum(x @ kernel_h + bias_h, 0) @ kernel_o + bias_o
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5, atol=1e-5)


def test_get_layer():
    model = _mlp(jkeras)
    assert model.get_layer(index=1) is model.layers[1]
    assert model.get_layer(model.layers[0].name) is model.layers[0]
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="index 10"):
        model.get_layer(index=10)


def test_set_weights_mismatch_leaves_weights_untouched():
    model = _mlp(jkeras)
    before = model.get_weights()
    bad = [w.copy() + 1 for w in before]
    bad[-1] = np.zeros((3,))
    with pytest.raises(ValueError, match="shape"):
        model.set_weights(bad)
    with pytest.raises(ValueError, match="expects"):
        model.set_weights(before[:-1])
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_trainable_false_moves_weights_to_non_trainable():
    model = _mlp(jkeras)
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 4
    assert len(model.non_trainable_weights) == 2
    assert [w.name for w in model.non_trainable_weights][0].endswith("kernel:0")


class TestBadGraphs:
    def test_input_not_connected_to_outputs(self):
        a = jkeras.Input(shape=(3,), name="used")
        b = jkeras.Input(shape=(3,), name="unused")
        with pytest.raises(ValueError, match='Input "unused".*not connected'):
            Model([a, b], layers.Dense(1)(a))

    def test_graph_disconnected(self):
        a = jkeras.Input(shape=(3,))
        b = jkeras.Input(shape=(3,), name="missing_input")
        out = layers.add([a, b])
        with pytest.raises(ValueError, match="Graph disconnected"):
            Model(a, out)

    def test_shape_that_cannot_feed_a_layer(self):
        x = jkeras.Input(shape=(4, 5))
        with pytest.raises(ValueError, match=r'"reshape.*\(4, 5\)|reshape'):
            layers.Reshape((7,))(x)
        dense = layers.Dense(2)
        dense(jkeras.Input(shape=(4,)))
        with pytest.raises(ValueError, match=r'layer "dense.*expected axis -1.*value 4.*\(None, 9\)'):
            dense(jkeras.Input(shape=(9,)))

    def test_duplicate_layer_name(self):
        x = jkeras.Input(shape=(3,))
        y = layers.Dense(2, name="twin")(layers.Dense(3, name="twin")(x))
        with pytest.raises(ValueError, match='"twin" is used 2 times'):
            Model(x, y)
        model = Sequential([layers.Dense(2, name="same", input_shape=(3,))])
        with pytest.raises(ValueError, match="unique names"):
            model.add(layers.Dense(2, name="same"))

    def test_merge_needs_a_list(self):
        with pytest.raises(ValueError, match="list of"):
            layers.Add()(jkeras.Input(shape=(3,)))
