"""Model configs: the Keras 2 layout checked against files real Keras 2 wrote, Keras 3
configs read, JSON/YAML round trips of every layer family, the registry as the only way
to name a class, and clone_model."""
import json
import os

import numpy as np
import pytest
import yaml

import jkeras
from tests.fixtures import make_fixtures as fx


def _predict(model, inputs):
    out = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    return [np.asarray(o) for o in (out if isinstance(out, list) else [out])]


def _keras2_config(tmp_path, name):
    import h5py
    with h5py.File(fx.fixture_file(name, tmp_path), "r") as f:
        return json.loads(f.attrs["model_config"])


# ---------------------------------------------------------------------------- Keras 2 layout
def test_functional_layout_matches_keras2_file(tmp_path):
    """Shared layer (two nodes), nested model (first node offset by one), multi-input/
    output: the graph part of our config is what tf-keras wrote for the same code."""
    theirs = _keras2_config(tmp_path, "k2_graph.h5")
    ours = json.loads(fx.build_graph(jkeras).to_json())
    assert ours["class_name"] == theirs["class_name"] == "Functional"
    assert ours["config"]["input_layers"] == theirs["config"]["input_layers"]
    assert ours["config"]["output_layers"] == theirs["config"]["output_layers"]
    mine = {l["name"]: l for l in ours["config"]["layers"]}
    for layer in theirs["config"]["layers"]:
        assert mine[layer["name"]]["class_name"] == layer["class_name"]
        assert mine[layer["name"]]["inbound_nodes"] == layer["inbound_nodes"]
    assert mine["sub"]["config"]["output_layers"] == [["sub_dense", 0, 0]]


def test_sequential_layout_matches_keras2_file(tmp_path):
    theirs = _keras2_config(tmp_path, "k2_seq_legacy_adam.h5")
    ours = json.loads(fx.build_sequential(jkeras).to_json())
    assert ours["class_name"] == "Sequential"
    assert set(ours["config"]) == set(theirs["config"]) == {"name", "layers"}
    assert [l["class_name"] for l in ours["config"]["layers"]] == \
        [l["class_name"] for l in theirs["config"]["layers"]] == \
        ["InputLayer", "Dense", "BatchNormalization", "Dense"]
    assert ours["config"]["layers"][0]["config"]["batch_input_shape"] == [None, 5]
    for mine, layer in zip(ours["config"]["layers"], theirs["config"]["layers"]):
        assert set(mine) == {"class_name", "config"} <= set(layer)


def test_json_wrapper_and_layer_called_with_kwargs():
    a = jkeras.Input((5, 3), name="a")
    seq, h, c = jkeras.layers.LSTM(2, return_sequences=True, return_state=True,
                                   name="enc")(a)
    out = jkeras.layers.LSTM(2, name="dec")(seq, initial_state=[h, c])
    model = jkeras.Model(a, out)
    data = json.loads(model.to_json())
    assert set(data) == {"class_name", "config", "keras_version", "backend"}
    nodes = {l["name"]: l["inbound_nodes"] for l in data["config"]["layers"]}
    assert nodes["dec"] == [[["enc", 0, 0, {"initial_state": [["enc", 0, 1],
                                                               ["enc", 0, 2]]}]]]
    clone = jkeras.models.model_from_json(json.dumps(data))
    assert clone.get_config() == model.get_config()
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))

    dropped = jkeras.layers.Dropout(0.5, name="drop")(out, training=True)
    data = json.loads(jkeras.Model(a, dropped).to_json())
    nodes = {l["name"]: l["inbound_nodes"] for l in data["config"]["layers"]}
    assert nodes["drop"] == [[["dec", 0, 0, {"training": True}]]]
    node = jkeras.models.model_from_json(json.dumps(data)).get_layer("drop")._inbound_nodes[0]
    assert node.training is True


# ---------------------------------------------------------------------------- round trips
@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(fx.FAMILIES))
def test_json_and_yaml_round_trip(family):
    model = fx.build_family(family, jkeras)
    inputs = fx.family_inputs(family)
    expected = _predict(model, inputs)
    clone = jkeras.models.model_from_json(model.to_json())
    assert type(clone) is type(model)
    assert clone.get_config() == model.get_config()
    clone.set_weights(model.get_weights())
    for got, want in zip(_predict(clone, inputs), expected):
        np.testing.assert_array_equal(got, want)
    from_yaml = jkeras.models.model_from_yaml(model.to_yaml())
    assert from_yaml.get_config() == model.get_config()


def test_yaml_is_plain_safe_yaml():
    text = fx.build_family("wrappers", jkeras).to_yaml()
    assert "!!python" not in text
    assert yaml.safe_load(text)["class_name"] == "Functional"


def test_model_from_config_and_unbuilt_sequential():
    model = jkeras.Sequential([jkeras.layers.Dense(3), jkeras.layers.Dense(1)], name="lazy")
    config = {"class_name": "Sequential", "config": model.get_config()}
    clone = jkeras.models.model_from_config(config)
    assert [l.name for l in clone.layers] == ["dense", "dense_1"] and not clone.built
    with pytest.raises(TypeError, match="not a list"):
        jkeras.models.model_from_config([config])
    functional = fx.build_dense(jkeras)
    old_name = {"class_name": "Model", "config": functional.get_config()}  # Keras <= 2.3
    assert jkeras.models.model_from_config(old_name).get_config() == functional.get_config()


# ---------------------------------------------------------------------------- Keras 3 configs
@pytest.mark.slow
@pytest.mark.parametrize("family", ["nested_shared", "embedding_lstm", "attention",
                                    "sequential", "conv2d_first"])
def test_reads_keras3_json(keras_ref, family, tmp_path):
    theirs = fx.build_family(family, keras_ref)
    model = jkeras.models.model_from_json(theirs.to_json())
    theirs.save_weights(tmp_path / "w.weights.h5")
    model.load_weights(tmp_path / "w.weights.h5")
    inputs = fx.family_inputs(family)
    for got, want in zip(_predict(model, inputs), _predict(theirs, inputs)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_keras3_schema_details():
    """Flat single endpoints, dtype policy dicts, `batch_shape`, module keys, build
    configs and extra Keras 3 keys at their defaults are all accepted."""
    config = {
        "module": "keras.src.models.functional", "class_name": "Functional",
        "registered_name": "Functional", "config": {
            "name": "m", "trainable": True,
            "layers": [
                {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
                 "config": {"batch_shape": [None, 3], "dtype": "float32", "sparse": False,
                            "ragged": False, "name": "inp", "optional": False},
                 "name": "inp", "inbound_nodes": []},
                {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
                 "build_config": {"input_shape": [None, 3]},
                 "config": {"name": "d", "trainable": True, "units": 2,
                            "dtype": {"module": "keras", "class_name": "DTypePolicy",
                                      "config": {"name": "float32"},
                                      "registered_name": None},
                            "activation": "relu", "use_bias": True,
                            "kernel_initializer": {
                                "module": "keras.initializers", "class_name": "GlorotUniform",
                                "config": {"seed": None, "input_axes": None,
                                           "output_axes": None}, "registered_name": None},
                            "bias_initializer": {"module": "keras.initializers",
                                                 "class_name": "Zeros", "config": {},
                                                 "registered_name": None},
                            "kernel_regularizer": None, "bias_regularizer": None,
                            "kernel_constraint": None, "bias_constraint": None,
                            "quantization_config": None, "lora_rank": None},
                 "name": "d", "inbound_nodes": [{"args": [{
                     "class_name": "__keras_tensor__", "config": {
                         "shape": [None, 3], "dtype": "float32",
                         "keras_history": ["inp", 0, 0]}}], "kwargs": {}}]}],
            "input_layers": ["inp", 0, 0], "output_layers": ["d", 0, 0]}}
    model = jkeras.models.model_from_config(config)
    assert model.get_layer("d").units == 2 and model.inputs[0].shape == (None, 3)
    assert model.output_shape == (None, 2)


# ---------------------------------------------------------------------------- the registry
class Scale(jkeras.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight("w", shape=(input_shape[-1],), initializer="ones")

    def call(self, inputs):
        return inputs * self.w * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def _scaled_model():
    inp = jkeras.Input((3,))
    return jkeras.Model(inp, Scale(3.0, name="scale")(inp))


def test_custom_layer_needs_the_registry():
    text = _scaled_model().to_json()
    with pytest.raises(ValueError, match="Unknown layer: 'Scale'"):
        jkeras.models.model_from_json(text)
    assert jkeras.models.model_from_json(text, custom_objects={"Scale": Scale}) \
        .get_layer("scale").factor == 3.0
    with jkeras.saving.custom_object_scope({"Scale": Scale}):
        assert jkeras.models.model_from_json(text).get_layer("scale").factor == 3.0


def test_registered_layer_resolves_by_registered_name():
    @jkeras.saving.register_keras_serializable(package="SavingTests")
    class Doubler(jkeras.layers.Layer):
        def call(self, inputs):
            return inputs * 2.0

    inp = jkeras.Input((2,))
    model = jkeras.Model(inp, Doubler(name="dbl")(inp))
    data = json.loads(model.to_json())
    assert data["config"]["layers"][1]["class_name"] == "SavingTests>Doubler"
    clone = jkeras.models.model_from_json(json.dumps(data))
    np.testing.assert_array_equal(clone.predict(np.ones((1, 2)), verbose=0), [[2.0, 2.0]])


def test_module_named_in_a_file_is_never_imported():
    config = {"module": "os", "class_name": "system", "registered_name": None,
              "config": {"name": "x"}}
    with pytest.raises(ValueError, match="Unknown layer: 'system'"):
        jkeras.models.model_from_config(config)
    config = {"module": "json_bomb_module_that_does_not_exist", "class_name": "Dense",
              "config": {"units": 1, "name": "d"}}
    assert jkeras.models.model_from_config(config).units == 1


def test_yaml_with_python_tags_is_refused(tmp_path):
    marker = tmp_path / "touched"
    text = f"!!python/object/apply:os.system ['touch {marker}']\n"
    with pytest.raises(ValueError, match="refuses this YAML"):
        jkeras.models.model_from_yaml(text)
    assert not os.path.exists(marker)
    with pytest.raises(ValueError, match="refuses this YAML"):
        jkeras.models.model_from_yaml("class_name: !!python/name:os.system\n")


# ---------------------------------------------------------------------------- clone_model
def test_clone_functional_has_new_weights_and_same_config():
    model = fx.build_family("nested_shared", jkeras)
    clone = jkeras.models.clone_model(model)
    assert clone.get_config() == model.get_config()
    assert all(not np.array_equal(a, b) for a, b in
               zip(clone.get_weights(), model.get_weights()) if a.std() > 0)
    clone.set_weights(model.get_weights())
    inputs = fx.family_inputs("nested_shared")
    np.testing.assert_array_equal(_predict(clone, inputs)[0], _predict(model, inputs)[0])


def test_clone_sequential_with_input_tensors_and_clone_function():
    model = fx.build_sequential(jkeras)
    new_input = jkeras.Input((5,), name="fresh")
    seen = []

    def clone_fn(layer):
        seen.append(layer.name)
        return type(layer).from_config(layer.get_config())
    clone = jkeras.models.clone_model(model, input_tensors=new_input,
                                      clone_function=clone_fn)
    assert seen == ["s1", "s_bn", "s2"]
    assert clone.inputs[0] is new_input
    assert [l.name for l in clone.layers] == ["s1", "s_bn", "s2"]


def test_clone_functional_with_input_tensors():
    model = fx.build_graph(jkeras)
    a, b = jkeras.Input((4,), name="na"), jkeras.Input((4,), name="nb")
    clone = jkeras.models.clone_model(model, input_tensors=[a, b])
    assert clone.inputs == [a, b]
    assert [l.name for l in clone.layers if l.weights] == \
        [l.name for l in model.layers if l.weights]
    with pytest.raises(ValueError, match="2 input"):
        jkeras.models.clone_model(model, input_tensors=[a])


def test_subclassed_model_has_no_config():
    class Net(jkeras.Model):
        def __init__(self):
            super().__init__()
            self.d = jkeras.layers.Dense(2)

        def call(self, x):
            return self.d(x)

    net = Net()
    net(np.ones((1, 3), "float32"))
    with pytest.raises(NotImplementedError, match="subclassed"):
        net.to_json()
    with pytest.raises(ValueError, match="Subclassed models cannot be cloned"):
        jkeras.models.clone_model(net)

