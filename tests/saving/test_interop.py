"""Files go both ways with real Keras 3 (on JAX), for every layer family: what jkeras
writes, Keras 3 loads with the same predictions, and the other way round.

Two limits are Keras 3's own, shown on a file tf-keras wrote: it cannot read a Keras 2
HDF5 config holding a nested model (it ignores the Keras 2 offset of a nested model's
first node) or a MultiHeadAttention (it refuses the `query_shape` arguments Keras 2
needs). `.keras` archives carry both fine.
"""

import numpy as np
import pytest

import jkeras
from tests.fixtures import make_fixtures as fx

_KERAS3_CANNOT_READ_KERAS2_H5 = {"nested_shared", "attention"}

# Real Keras 3 loads and saves every family here: about a minute; CI runs it with -m slow.
pytestmark = pytest.mark.slow


def _predict(model, inputs):
    out = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    return [np.asarray(o) for o in (out if isinstance(out, list) else [out])]


def _assert_close(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("family", sorted(fx.FAMILIES))
def test_keras3_loads_our_files(keras_ref, family, tmp_path):
    model = fx.build_family(family, jkeras)
    inputs = fx.family_inputs(family)
    expected = _predict(model, inputs)
    model.save(tmp_path / "m.keras")
    _assert_close(_predict(keras_ref.models.load_model(tmp_path / "m.keras"), inputs),
                  expected)
    if family not in _KERAS3_CANNOT_READ_KERAS2_H5:
        model.save(tmp_path / "m.h5")
        _assert_close(_predict(keras_ref.models.load_model(tmp_path / "m.h5"), inputs),
                      expected)


@pytest.mark.parametrize("family", ["nested_shared", "wrappers", "conv2d_first"])
def test_keras3_loads_our_weights_files(keras_ref, family, tmp_path):
    model = fx.build_family(family, jkeras)
    inputs = fx.family_inputs(family)
    expected = _predict(model, inputs)
    model.save_weights(tmp_path / "w.weights.h5")
    model.save_weights(tmp_path / "w.h5")
    for name in ("w.weights.h5", "w.h5"):
        theirs = fx.build_family(family, keras_ref)
        theirs.load_weights(tmp_path / name)
        _assert_close([np.asarray(w) for w in theirs.get_weights()], model.get_weights())
    _assert_close(_predict(theirs, inputs), expected)


@pytest.mark.parametrize("family", sorted(fx.FAMILIES))
def test_we_load_keras3_files(keras_ref, family, tmp_path):
    theirs = fx.build_family(family, keras_ref)
    inputs = fx.family_inputs(family)
    expected = _predict(theirs, inputs)
    theirs.save(tmp_path / "m.keras")
    theirs.save(tmp_path / "m.h5")
    theirs.save_weights(tmp_path / "w.weights.h5")
    for name in ("m.keras", "m.h5"):
        _assert_close(_predict(jkeras.models.load_model(tmp_path / name), inputs), expected)
    ours = fx.build_family(family, jkeras)
    ours.load_weights(tmp_path / "w.weights.h5")
    _assert_close(_predict(ours, inputs), expected)


def test_keras3_limits_with_keras2_files(keras_ref, tmp_path):
    """The same refusals on a file tf-keras wrote: the limits are Keras 3's."""
    with pytest.raises(ValueError, match="Invalid Functional model configuration"):
        keras_ref.models.load_model(fx.fixture_file("k2_graph.h5", tmp_path))
    model = fx.build_family("nested_shared", jkeras)
    model.save(tmp_path / "nested.h5")
    with pytest.raises(ValueError, match="Invalid Functional model configuration"):
        keras_ref.models.load_model(tmp_path / "nested.h5")


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", {"momentum": 0.5}), ("RMSprop", {"momentum": 0.5, "centered": True}),
    ("Adadelta", {}), ("Adamax", {}), ("Nadam", {}), ("Ftrl", {}),
    ("Adam", {"amsgrad": True})])
def test_optimizer_state_moves_both_ways(keras_ref, name, kwargs, tmp_path):
    """Trained in one, saved, one more step in the other: the same weights."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)).astype("float32"), rng.normal(size=(8, 1)).astype("float32")

    def build(lib):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2), lib.layers.Dense(1)])
        extra = {}
        if lib is jkeras and name == "Nadam":  # Keras 3's schedule (Keras 2.3's is 0.004)
            extra = {"schedule_decay": 1.0}
        model.compile(getattr(lib.optimizers, name)(0.05, **kwargs, **extra), "mse")
        for _ in range(3):
            model.train_on_batch(x, y)
        return model

    ours, theirs = build(jkeras), build(keras_ref)
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    theirs.save(tmp_path / "theirs.h5")
    loaded = [jkeras.models.load_model(tmp_path / "theirs.keras"),
              jkeras.models.load_model(tmp_path / "theirs.h5")]
    other = keras_ref.models.load_model(tmp_path / "ours.keras")
    for model in loaded + [ours, theirs, other]:
        model.train_on_batch(x, y)
    for model in loaded:
        _assert_close(model.get_weights(), [np.asarray(w) for w in theirs.get_weights()])
    _assert_close([np.asarray(w) for w in other.get_weights()], ours.get_weights())


def test_compile_config_moves_both_ways(keras_ref, tmp_path):
    """Loss and metric objects in the training config: Keras 3 rebuilds them from our
    files (same loss value), and we rebuild Keras 3's."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(6, 3)).astype("float32"), rng.normal(size=(6, 1)).astype("float32")
    ours = jkeras.Sequential([jkeras.Input((3,)), jkeras.layers.Dense(1)])
    ours.compile(jkeras.optimizers.SGD(0.1), loss=jkeras.losses.Huber(delta=0.5),
                 metrics=[jkeras.metrics.MeanAbsoluteError(), "mse"])
    ours.fit(x, y, verbose=0)
    expected = ours.evaluate(x, y, verbose=0)
    for name in ("m.keras", "m.h5"):
        ours.save(tmp_path / name)
        theirs = keras_ref.models.load_model(tmp_path / name)
        np.testing.assert_allclose(theirs.evaluate(x, y, verbose=0)[0], expected[0],
                                   rtol=1e-5)
        back = jkeras.models.load_model(tmp_path / name)
        np.testing.assert_allclose(back.evaluate(x, y, verbose=0), expected, rtol=1e-6)
        assert back.metrics_names == ["loss", "mean_absolute_error", "mse"]

    theirs = keras_ref.Sequential([keras_ref.Input((3,)), keras_ref.layers.Dense(1)])
    theirs.compile(keras_ref.optimizers.SGD(0.1), loss=keras_ref.losses.Huber(),
                   metrics=[keras_ref.metrics.MeanAbsoluteError(), "mse"])
    theirs.fit(x, y, verbose=0)
    theirs.save(tmp_path / "k.keras")
    loaded = jkeras.models.load_model(tmp_path / "k.keras")
    assert loaded.metrics_names == ["loss", "mean_absolute_error", "mse"]
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0)[0],
                               theirs.evaluate(x, y, verbose=0)[0], rtol=1e-5)
