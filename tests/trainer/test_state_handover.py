"""A later `fit` hands the arrays the trainer gave out when it last stopped (the cells'
weights, the optimizer state, key and step) to its first step, donated, with no program
of its own; arrays that came from elsewhere are copied first, so nothing a user holds is
deleted."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jkeras as keras
from jkeras import layers


def _data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    y = (x[:, :2].sum(axis=1) > 0).astype("float32")[:, None]
    return x, y


def _model(weights=None):
    model = keras.Sequential([layers.Dense(8, activation="relu", input_shape=(6,)),
                              layers.BatchNormalization(),
                              layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    if weights is not None:
        model.set_weights(weights)
    return model


def _count_begins(model):
    trainer = model._trainer
    real = trainer._fn("begin")
    calls = []

    def counting(*args):
        if not any(isinstance(a, jax.core.Tracer) for a in jax.tree_util.tree_leaves(args)):
            calls.append(1)  # a run, not a trace (compiling ahead traces it for shapes)
        return real(*args)
    trainer._jitted["begin"] = counting
    return calls


@pytest.mark.slow
def test_later_fits_start_from_the_last_state_with_no_program():
    x, y = _data()
    whole = _model()
    weights = whole.get_weights()
    parts = _model(weights)
    whole.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0)
    parts.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
    begins = _count_begins(parts)
    first = parts.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
    second = parts.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
    assert begins == []
    # three epochs in three calls train as three in one: the same optimizer state,
    # step count and weights carried over
    for a, b in zip(whole.get_weights(), parts.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert first.history["loss"][0] > second.history["loss"][0]
    assert int(parts.optimizer.iterations.numpy()) == 24


def test_arrays_from_outside_are_copied_not_donated():
    x, y = _data()
    model = _model()
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    begins = _count_begins(model)
    mine = jnp.full((6, 8), 0.1, "float32")
    model.layers[0].weights[0].assign(mine)  # the cell now holds the user's own array
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert begins == [1]
    assert not mine.is_deleted()
    np.testing.assert_array_equal(np.asarray(mine), np.full((6, 8), 0.1, "float32"))
    assert not np.allclose(model.layers[0].get_weights()[0], 0.1)  # and it trained
    begins.clear()
    model.set_weights(model.get_weights())
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert begins == [1]
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert begins == [1]  # its own arrays again


@pytest.mark.slow
def test_arrays_handed_out_between_fits_are_not_donated():
    """An array read out between fits (`Weight.value()`, `variables_tree()`, a backend
    snapshot) may live on elsewhere, here as another model's weight: the next fit copies
    instead of donating it."""
    from jkeras import backend as K
    x, y = _data()
    source, target = _model(), _model()
    source.fit(x, y, batch_size=32, epochs=1, verbose=0)
    for mine, theirs in zip(target.weights, source.weights):
        mine.assign(theirs.value())  # the target's cells now hold the source's arrays
    snapshot = K.constant(source.layers[0].kernel)
    begins = _count_begins(source)
    before = target.predict(x, verbose=0)
    source.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert begins == [1]
    np.testing.assert_array_equal(target.predict(x, verbose=0), before)  # still alive
    assert not snapshot.is_deleted()
    tree = source.variables_tree()
    source.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert begins == [1, 1]
    assert not any(a.is_deleted() for a in jax.tree_util.tree_leaves(tree))
    source.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert begins == [1, 1]  # nothing handed out since the last stop: donated again


@pytest.mark.slow
def test_a_deep_copied_model_trains_its_own_weights():
    """copy.deepcopy of a compiled model: the copy's trainer works on the copy's cells
    (the trainable set was kept by the original's ids, so the copy trained nothing), the
    optimizer state carries over, and the original does not move."""
    import copy
    import warnings
    x, y = _data()
    model = _model()
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    original = model.get_weights()
    twin = copy.deepcopy(model)
    start = twin.get_weights()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no trainable-weights discrepancy warning
        history = twin.fit(x, y, batch_size=32, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    moved = [not np.allclose(a, b) for a, b in zip(start, twin.get_weights())]
    assert all(moved[:2]) and moved[-2] and moved[-1]  # both Dense layers' kernel and bias
    for a, b in zip(original, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(twin.optimizer.iterations.numpy()) == 8 + 3 * 8
    assert int(model.optimizer.iterations.numpy()) == 8


@pytest.mark.slow
@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_a_copied_fitted_model_trains_on_as_the_original(how):
    """A pickled (it failed on the trainer's weak references) or deep-copied fitted
    model predicts what the original does, keeps the optimizer's state (iterations and
    slots: both copies used to start their slots again, the optimizer state being
    matched to the cells by id) and which layers are frozen, and its next epochs give
    the original's weights bit for bit."""
    import copy
    import pickle
    x, y = _data()
    model = _model()
    model.layers[0].trainable = False
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    twin = pickle.loads(pickle.dumps(model)) if how == "pickle" else copy.deepcopy(model)
    np.testing.assert_array_equal(twin.predict(x, verbose=0), model.predict(x, verbose=0))
    assert int(twin.optimizer.iterations.numpy()) == 8
    frozen = [w.copy() for w in twin.layers[0].get_weights()]
    model.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False)
    history = twin.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False)
    assert history.history["loss"][-1] < history.history["loss"][0]
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(frozen, twin.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(twin.optimizer.iterations.numpy()) == 8 + 2 * 8


@pytest.mark.slow
@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_a_model_copied_inside_fit_trains_on_from_that_point(how):
    """A callback copying the model at an epoch's end (keeping the best model): the copy's
    cells are free of the running trainer and hold that moment's weights, its optimizer
    state, key and step are the running ones (kept by the trainer only when a fit ends),
    and one epoch of it gives what the original's next epoch gave, bit for bit."""
    import copy
    import pickle
    x, y = _data()
    model = _model()
    copies = []

    class Keep(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                copies.append(pickle.loads(pickle.dumps(self.model)) if how == "pickle"
                              else copy.deepcopy(self.model))
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # slots that are not zeros
    model.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False, callbacks=[Keep()])
    twin = copies[0]
    assert int(twin.optimizer.iterations.numpy()) == 16
    twin.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(twin.optimizer.iterations.numpy()) == 24
