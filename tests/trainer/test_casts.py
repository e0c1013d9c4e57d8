"""The weights' 16-bit copies a mixed-precision train state carries (trainer/casts.py):
which weights get one, and that every number stays what it is without them."""
import jax
import numpy as np
import pytest

import jkeras as keras
from jkeras import layers
from jkeras.trainer import trainer as trainer_module


@pytest.fixture
def mixed():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    yield
    keras.mixed_precision.set_global_policy("float32")


def _model():
    """Every kind of weight use: plain Dense layers (cast once: copied), a Dense shared
    by two branches (cast twice), a regularized kernel (read in float32 by its penalty),
    a weight an `add_loss` callable reads, LayerNormalization (float32 statistics) and an
    Embedding (a gather)."""
    ids, x = keras.Input((4,), dtype="int32"), keras.Input((6,))
    shared = layers.Dense(8, name="shared")
    h = layers.Dense(8, activation="relu", name="plain")(x)
    h = layers.add([shared(h), shared(layers.Dense(8, name="side")(x))])
    h = layers.Dense(8, kernel_regularizer="l2", name="penalized")(h)
    h = layers.LayerNormalization(name="norm")(h)
    e = layers.Flatten()(layers.Embedding(10, 2, name="embed")(ids))
    watched = layers.Dense(8, name="watched")
    h = layers.concatenate([watched(h), e])
    out = layers.Activation("linear", dtype="float32")(layers.Dense(3, name="head")(h))
    model = keras.Model([ids, x], out)
    model.add_loss(lambda: 1e-3 * keras.backend.sum(watched.kernel))
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    return model


def _data():
    rng = np.random.default_rng(0)
    return ([rng.integers(0, 10, (64, 4)).astype("int32"),
             rng.normal(size=(64, 6)).astype("float32")],
            rng.normal(size=(64, 3)).astype("float32"))


def _copied(model):
    casts = model._trainer.casts
    out = []
    for path, _ in jax.tree_util.tree_flatten_with_path(casts)[0]:
        out.append("/".join(str(k.key) for k in path))
    return sorted(out)


def _train(copies, monkeypatch, callbacks=(), between=None, verbose=0):
    if not copies:
        monkeypatch.setattr(trainer_module, "_sixteen_bit", lambda layer: False)
    keras.utils.set_random_seed(0)
    model = _model()
    x, y = _data()
    losses = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=verbose,
                       callbacks=list(callbacks)).history["loss"]
    if between is not None:
        between(model, x, y)
    losses += model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=verbose,
                        callbacks=list(callbacks)).history["loss"]
    monkeypatch.undo()
    return model, losses


def _same(a, b):
    (model_a, losses_a), (model_b, losses_b) = a, b
    assert losses_a == losses_b
    for wa, wb in zip(model_a.get_weights(), model_b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_only_weights_the_step_just_casts_are_copied(mixed, monkeypatch):
    model, _ = _train(True, monkeypatch)
    assert _copied(model) == ["head/bias", "head/kernel", "penalized/bias", "plain/bias",
                              "plain/kernel", "side/bias", "side/kernel", "watched/bias"]
    assert all(str(a.dtype) == "bfloat16" for a in
               jax.tree_util.tree_leaves(model._trainer.casts))


@pytest.mark.parametrize("verbose", [0, 1])
def test_copies_change_no_number(mixed, monkeypatch, verbose):
    """Two fits (the second takes the first's copies over), against the same without
    copies: bit for bit, losses and weights; quiet (chunks) and watched (a dispatch a
    batch)."""
    copied = _train(True, monkeypatch, verbose=verbose)
    assert len(_copied(copied[0])) == 8
    _same(copied, _train(False, monkeypatch, verbose=verbose))


@pytest.mark.slow
def test_weights_set_while_training_or_between_calls_move_their_copies(mixed,
                                                                       monkeypatch):
    """A callback setting a copied weight mid-fit, set_weights and train_on_batch between
    calls: the next steps see the new weights, as without copies."""
    class Nudge(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            layer = self.model.get_layer("plain")
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel * 0.5, bias + 0.1])

    def between(model, x, y):
        model.set_weights([w * 0.9 for w in model.get_weights()])
        model.train_on_batch([a[:16] for a in x], y[:16])
    _same(_train(True, monkeypatch, [Nudge()], between),
          _train(False, monkeypatch, [Nudge()], between))


@pytest.mark.slow
def test_moving_average_weights_end_the_fit_as_without_copies(mixed, monkeypatch):
    def build():
        model = _model()
        model.compile(keras.optimizers.Adam(1e-2, use_ema=True, ema_momentum=0.5), "mse")
        return model
    runs = []
    for copies in (True, False):
        if not copies:
            monkeypatch.setattr(trainer_module, "_sixteen_bit", lambda layer: False)
        keras.utils.set_random_seed(0)
        model = build()
        x, y = _data()
        losses = []
        for _ in range(2):
            losses += model.fit(x, y, batch_size=16, epochs=1, shuffle=False,
                                verbose=0).history["loss"]
        runs.append((model, losses))
        monkeypatch.undo()
    _same(*runs)


def test_float32_models_keep_no_copies_and_trace_nothing_more(monkeypatch):
    traced = []
    real = trainer_module.casts_module.plan
    monkeypatch.setattr(trainer_module.casts_module, "plan",
                        lambda *a, **k: traced.append(1) or real(*a, **k))
    model = _model()
    x, y = _data()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert model._trainer.casts is None and not traced


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_constrained_weights_and_skipped_steps_copy_as_without(policy, monkeypatch):
    """A kernel constraint applied after each update, and (float16) the loss scale
    skipping steps whose gradients overflowed: the copies are the weights' as they end
    each step, so every number is the same as without them."""
    def train(copies):
        if not copies:
            monkeypatch.setattr(trainer_module, "_sixteen_bit", lambda layer: False)
        keras.mixed_precision.set_global_policy(policy)
        try:
            keras.utils.set_random_seed(0)
            x = keras.Input((6,))
            h = layers.Dense(16, activation="relu", name="constrained",
                             kernel_constraint=keras.constraints.max_norm(0.5))(x)
            h = layers.Dense(3, name="head")(h)
            model = keras.Model(x, layers.Activation("linear", dtype="float32")(h))
            model.compile(keras.optimizers.SGD(1e-2, momentum=0.9), "mse")
            rng = np.random.default_rng(0)
            x, y = rng.normal(size=(64, 6)).astype("float32"), \
                rng.normal(size=(64, 3)).astype("float32")
            y[5] = 6e4  # float16 gradients overflow at the first loss scales
            losses = model.fit(x, y, batch_size=16, epochs=3, shuffle=False,
                               verbose=0).history["loss"]
            copies_made = model._trainer.casts is not None
        finally:
            keras.mixed_precision.set_global_policy("float32")
            monkeypatch.undo()
        return (model, losses), copies_made
    (copied, made), (plain, none) = train(True), train(False)
    assert made and not none
    _same(copied, plain)
