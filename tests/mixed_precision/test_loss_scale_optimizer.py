"""jkeras.mixed_precision.LossScaleOptimizer against real Keras 3's, and the trainer hook."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jkeras import mixed_precision, optimizers
from jkeras.mixed_precision import LossScaleOptimizer

# Multipliers of the loss scale for each scripted step: inf/nan make the gradient non-finite.
SCRIPT = [1.0, 1.0, np.inf, 1.0, 1.0, 1.0, np.nan, np.nan, 1.0, 1.0, 1.0, 1.0, 1.0]


def _keras_run(keras, script, growth):
    var = keras.Variable(np.ones(3, "float32"))
    opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=8.0,
                                              dynamic_growth_steps=growth)
    opt.build([var])
    # Keras 3's stateful apply cannot run eagerly on JAX; its stateless form is the step.
    opt_values = [v.value for v in opt.variables]
    params = [var.value]
    names = [v.path for v in opt.variables]
    scales, values = [], []
    for factor in script:
        scale = float(opt_values[names.index(opt.dynamic_scale.path)])
        grads = [jnp.full(3, factor * scale, "float32")]
        params, opt_values = opt.stateless_apply(opt_values, grads, params)
        scales.append(float(opt_values[names.index(opt.dynamic_scale.path)]))
        values.append(np.asarray(params[0]).copy())
    return scales, values, int(opt_values[names.index(opt.iterations.path)])


def _jkeras_run(script, growth):
    opt = LossScaleOptimizer(optimizers.SGD(0.1), initial_scale=8.0,
                             dynamic_growth_steps=growth)
    tx = opt.transformation()
    params = jnp.ones(3)
    state = tx.init(params)
    update = jax.jit(tx.update)
    scales, values = [], []
    for factor in script:
        grads = jnp.full(3, factor) * state.scale
        updates, state = update(grads, state, params)
        params = optax.apply_updates(params, updates)
        scales.append(float(state.scale))
        values.append(np.asarray(params))
    opt.observe_state(state)
    return scales, values, int(opt.iterations), opt


@pytest.mark.slow
@pytest.mark.parametrize("growth", [1, 3])
def test_scale_sequence_and_skipped_steps_match_keras(keras_ref, growth):
    want_scales, want_values, want_steps = _keras_run(keras_ref, SCRIPT, growth)
    got_scales, got_values, got_steps, opt = _jkeras_run(SCRIPT, growth)
    assert got_scales == want_scales
    np.testing.assert_allclose(np.stack(got_values), np.stack(want_values), rtol=1e-6)
    assert got_steps == want_steps == SCRIPT.count(1.0)  # skipped steps do not count
    assert opt.dynamic_scale == want_scales[-1]


def test_non_finite_step_changes_nothing_but_the_scale():
    opt = LossScaleOptimizer(optimizers.Adam(0.1), dynamic_growth_steps=2)
    tx = opt.transformation()
    params = {"w": jnp.arange(3.0)}
    state = tx.init(params)
    _, state = tx.update({"w": jnp.ones(3)}, state, params)
    updates, after = tx.update({"w": jnp.array([1.0, jnp.inf, 0.0])}, state, params)
    assert float(jnp.abs(updates["w"]).max()) == 0.0
    assert float(after.scale) == float(state.scale) / 2 and int(after.counter) == 0
    for new, old in zip(jax.tree.leaves(after.inner_state),
                        jax.tree.leaves(state.inner_state)):
        np.testing.assert_array_equal(new, old)


def test_scale_has_keras2_floor_of_one_and_fixed_mode():
    tx = LossScaleOptimizer("sgd", initial_scale=2.0).transformation()
    params = jnp.zeros(2)
    state = tx.init(params)
    for _ in range(3):
        _, state = tx.update(jnp.full(2, jnp.nan), state, params)
    assert float(state.scale) == 1.0
    fixed = mixed_precision.experimental.LossScaleOptimizer(optimizers.SGD(), 128)
    tx = fixed.transformation()
    state = tx.init(params)
    for grad in (jnp.nan, 1.0, 1.0):
        _, state = tx.update(jnp.full(2, grad), state, params)
    assert float(state.scale) == 128.0


def test_trainer_hook_scales_the_loss_and_the_update_unscales_it():
    opt = LossScaleOptimizer(optimizers.SGD(0.5), initial_scale=1024.0)
    tx = opt.transformation()
    params = jnp.array([2.0, -1.0])
    state = tx.init(params)

    def loss_fn(p):
        return jnp.sum(p.astype(jnp.float16) ** 2).astype(jnp.float32)
    grads = jax.grad(lambda p: mixed_precision.scale_loss(loss_fn(p), state))(params)
    np.testing.assert_allclose(grads, 1024.0 * 2 * params)
    updates, state = tx.update(grads, state, params)
    np.testing.assert_allclose(optax.apply_updates(params, updates), params - 0.5 * 2 * params)
    assert mixed_precision.scale_loss(3.0, optax.EmptyState()) == 3.0


def test_reads_through_to_the_inner_optimizer_and_config_round_trip():
    inner = optimizers.Adam(learning_rate=0.01)
    opt = LossScaleOptimizer(inner, dynamic_growth_steps=10)
    assert float(opt.learning_rate) == pytest.approx(0.01)
    opt.learning_rate = 0.5
    assert float(inner.learning_rate) == 0.5
    config = opt.get_config()
    assert config["inner_optimizer"]["class_name"] == "Adam"
    again = LossScaleOptimizer.from_config(config)
    assert (again.initial_scale, again.dynamic_growth_steps) == (2.0 ** 15, 10)
    assert isinstance(again.inner_optimizer, optimizers.Adam)


def test_argument_errors():
    with pytest.raises(ValueError, match="initial_scale"):
        LossScaleOptimizer("adam", initial_scale=0)
    with pytest.raises(ValueError, match="dynamic_growth_steps"):
        LossScaleOptimizer("adam", dynamic_growth_steps=0)
    with pytest.raises(TypeError, match="cannot wrap another"):
        LossScaleOptimizer(LossScaleOptimizer("adam"))
    with pytest.raises(ValueError, match="clipnorm"):
        LossScaleOptimizer("adam", clipnorm=1.0)
