"""msgpack training checkpoints: a resumed run is bit-identical to an uninterrupted one
(dropout, batch statistics, shuffling and Adam included), and a checkpoint that does
not fit the model is refused before anything changes."""
import numpy as np
import pytest

import jkeras
from jkeras.saving import checkpoint


def _model():
    inp = jkeras.Input((6,))
    x = jkeras.layers.Dense(8, activation="relu")(inp)
    x = jkeras.layers.BatchNormalization()(x)
    x = jkeras.layers.Dropout(0.3)(x)
    model = jkeras.Model(inp, jkeras.layers.Dense(3, activation="softmax")(x))
    model.compile(jkeras.optimizers.Adam(0.01), "categorical_crossentropy")
    return model


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6)).astype("float32")
    return x, np.eye(3, dtype="float32")[rng.integers(0, 3, 40)]


def _fit(model, epochs):
    x, y = _data()
    model.fit(x, y, batch_size=8, epochs=epochs, shuffle=True, verbose=0)


@pytest.mark.slow
def test_resume_is_bit_identical(tmp_path):
    jkeras.utils.set_random_seed(0)
    model = _model()
    _fit(model, 2)
    jkeras.saving.save_checkpoint(model, tmp_path / "ckpt.msgpack", epoch=2, step=10)
    jkeras.utils.set_random_seed(1)
    _fit(model, 2)

    jkeras.utils.set_random_seed(7)  # a different initialisation, overwritten by the load
    fresh = _model()
    metadata = jkeras.saving.load_checkpoint(fresh, tmp_path / "ckpt.msgpack")
    assert metadata["epoch"] == 2 and metadata["step"] == 10
    jkeras.utils.set_random_seed(1)
    _fit(fresh, 2)
    for got, want in zip(fresh.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)
    assert int(fresh.optimizer.iterations) == int(model.optimizer.iterations) == 20


def test_save_weights_and_load_weights_use_msgpack(tmp_path):
    jkeras.utils.set_random_seed(0)
    model = _model()
    _fit(model, 1)
    model.save_weights(tmp_path / "w.msgpack")
    with open(tmp_path / "w.msgpack", "rb") as f:
        assert checkpoint.FORMAT.encode() in f.read(64)
    fresh = _model()
    fresh.load_weights(tmp_path / "w.msgpack")
    for got, want in zip(fresh.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)
    state = fresh.get_training_state()
    np.testing.assert_array_equal(state["key"], model.get_training_state()["key"])
    with pytest.raises(ValueError, match="by_name"):
        fresh.load_weights(tmp_path / "w.msgpack", by_name=True)


def test_stateful_rnn_carry_is_kept(tmp_path):
    inp = jkeras.Input(batch_shape=(2, 3, 2))
    model = jkeras.Model(inp, jkeras.layers.SimpleRNN(3, stateful=True)(inp))
    x = np.random.default_rng(0).normal(size=(2, 3, 2)).astype("float32")
    model.predict(x, verbose=0)
    model(x, training=True)
    jkeras.saving.save_checkpoint(model, tmp_path / "c.msgpack")
    state = model.get_training_state()["variables"]["state"]
    inp2 = jkeras.Input(batch_shape=(2, 3, 2))
    other = jkeras.Model(inp2, jkeras.layers.SimpleRNN(3, stateful=True,
                                                       name=model.layers[1].name)(inp2))
    jkeras.saving.load_checkpoint(other, tmp_path / "c.msgpack")
    restored = other.get_training_state()["variables"]["state"]
    for name in state:
        for key in state[name]:
            np.testing.assert_array_equal(restored[name][key], state[name][key])


def test_structure_mismatch_is_refused_and_changes_nothing(tmp_path):
    jkeras.utils.set_random_seed(0)
    model = _model()
    _fit(model, 1)
    model.save_weights(tmp_path / "c.msgpack")

    inp = jkeras.Input((6,))
    other = jkeras.Model(inp, jkeras.layers.Dense(3)(jkeras.layers.Dense(9)(inp)))
    other.compile("adam", "mse")
    before = other.get_weights()
    with pytest.raises(ValueError, match="does not match the model"):
        other.load_weights(tmp_path / "c.msgpack")
    for got, want in zip(other.get_weights(), before):
        np.testing.assert_array_equal(got, want)

    uncompiled = _model()
    uncompiled.compiled = False
    uncompiled.optimizer = None
    with pytest.raises(ValueError, match="not compiled"):
        jkeras.saving.load_checkpoint(uncompiled, tmp_path / "c.msgpack")


def test_shape_and_dtype_mismatch_named(tmp_path):
    inp = jkeras.Input((4,))
    model = jkeras.Model(inp, jkeras.layers.Dense(2, name="d")(inp))
    model.save_weights(tmp_path / "c.msgpack")
    inp = jkeras.Input((5,))
    wider = jkeras.Model(inp, jkeras.layers.Dense(2, name="d")(inp))
    with pytest.raises(ValueError, match=r"state/variables/params/d/kernel.*\(5, 2\)"):
        wider.load_weights(tmp_path / "c.msgpack")


def test_encoding_round_trips_nested_values():
    tree = {"a": [np.arange(3, dtype="int32"), (np.float32(2.5), None)],
            "b": {"c": np.ones((2, 2), "float16")}}
    encoded = checkpoint._encode(tree)
    restored = checkpoint._restore(tree, encoded, "state", "test")
    np.testing.assert_array_equal(restored["a"][0], tree["a"][0])
    assert restored["a"][1][1] is None and restored["b"]["c"].dtype == np.float16


def test_bfloat16_arrays_round_trip():
    # jax's bfloat16 is no NumPy dtype code; the checkpoint writes it by name.
    import jax.numpy as jnp
    value = np.array([1.5, -2.25, 3.0e38], dtype=jnp.bfloat16)
    restored = checkpoint._restore({"w": value}, checkpoint._encode({"w": value}),
                                   "state", "test")
    assert restored["w"].dtype == value.dtype
    np.testing.assert_array_equal(restored["w"].view(np.uint16), value.view(np.uint16))
