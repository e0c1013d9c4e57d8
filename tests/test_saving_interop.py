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
from fixtures import make_fixtures as fx

_KERAS3_CANNOT_READ_KERAS2_H5 = {"nested_shared", "attention"}


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
    model.save_weights(tmp_path / "w.weights.h5")
    theirs = fx.build_family(family, keras_ref)
    theirs.load_weights(tmp_path / "w.weights.h5")
    _assert_close(_predict(theirs, inputs), expected)
    if family not in _KERAS3_CANNOT_READ_KERAS2_H5:
        model.save(tmp_path / "m.h5")
        _assert_close(_predict(keras_ref.models.load_model(tmp_path / "m.h5"), inputs),
                      expected)
        model.save_weights(tmp_path / "w.h5")
        theirs = fx.build_family(family, keras_ref)
        theirs.load_weights(tmp_path / "w.h5")
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
