"""jkeras.optimizers and jkeras.schedules against real Keras 3 and NumPy references."""
import copy

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jkeras import optimizers, schedules

STEPS = 5
SHAPES = {"dense": {"kernel": (3, 2), "bias": (2,)}, "out": {"kernel": (2, 1)}}


def _tree(rng, scale=1.0, offset=0.0):
    return {layer: {name: (rng.normal(size=shape) * scale + offset).astype("float32")
                    for name, shape in weights.items()}
            for layer, weights in SHAPES.items()}


def _problem(seed=0):
    """Initial params and one gradient tree per step (numpy, float32)."""
    rng = np.random.default_rng(seed)
    params = _tree(rng)
    grads = [_tree(rng, scale=0.5, offset=0.1) for _ in range(STEPS)]
    return params, grads


def _run_jkeras(opt, params, grads):
    tx = opt.transformation()
    params = jax.tree.map(jnp.asarray, params)
    state = tx.init(params)

    @jax.jit
    def step(params, state, grads):
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    for g in grads:
        state = opt.sync_state(state)
        params, state = step(params, state, g)
        opt.observe_state(state)
    return jax.tree.map(np.asarray, params), state


def _run_keras(keras, opt, params, grads):
    leaves, treedef = jax.tree.flatten(params)
    variables = [keras.Variable(v) for v in leaves]
    for g in grads:
        opt.apply_gradients(zip([jnp.asarray(x) for x in jax.tree.leaves(g)], variables))
    return jax.tree.unflatten(treedef, [np.asarray(v.numpy()) for v in variables])


def _assert_trees_close(actual, expected, atol=1e-5, rtol=1e-5):
    for a, e in zip(jax.tree.leaves(actual), jax.tree.leaves(expected)):
        np.testing.assert_allclose(a, e, atol=atol, rtol=rtol)


def _set_value(variable, value):
    """`jkeras.backend.set_value` where that module exists, else what it does."""
    try:
        from jkeras.backend import set_value
    except ImportError:
        return variable.assign(value)
    return set_value(variable, value)


def _exp_decay(module):
    return {"learning_rate": module.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)}


def _piecewise(module):
    return {"learning_rate": module.PiecewiseConstantDecay([1, 3], [0.1, 0.05, 0.01]),
            "momentum": 0.5}


# (class name, kwargs or a function of the schedules module giving kwargs)
CASES = [
    ("SGD", {}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"learning_rate": 0.1, "clipvalue": 0.2}),
    ("SGD", {"learning_rate": 0.1, "weight_decay": 0.05}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.5, "use_ema": True,
             "ema_momentum": 0.8}),
    ("SGD", {"learning_rate": 0.1, "use_ema": True, "ema_momentum": 0.5,
             "ema_overwrite_frequency": 2}),
    ("SGD", _piecewise),
    ("RMSprop", {"learning_rate": 0.01}),
    ("RMSprop", {"learning_rate": 0.01, "momentum": 0.9}),
    ("RMSprop", {"learning_rate": 0.01, "centered": True}),
    ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5, "centered": True, "rho": 0.8,
                 "global_clipnorm": 0.5}),
    ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.1}),
    ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.5, "epsilon": 1e-3}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adadelta", {"learning_rate": 1.0, "rho": 0.5, "epsilon": 1e-4}),
    ("Adam", {"learning_rate": 0.1}),
    ("Adam", {"learning_rate": 0.1, "amsgrad": True, "beta_1": 0.8}),
    ("Adam", {"learning_rate": 0.1, "clipnorm": 0.3}),
    ("Adam", {"learning_rate": 0.1, "loss_scale_factor": 4.0}),
    ("Adam", _exp_decay),
    ("Adamax", {"learning_rate": 0.1}),
    ("Nadam", {"learning_rate": 0.1}),
    ("Nadam", {"learning_rate": 0.1, "beta_1": 0.7, "beta_2": 0.9}),
    ("AdamW", {"learning_rate": 0.1}),
    ("AdamW", {"learning_rate": 0.1, "weight_decay": 0.1, "amsgrad": True}),
    ("Ftrl", {"learning_rate": 0.1}),
    ("Ftrl", {"learning_rate": 0.1, "l1_regularization_strength": 0.01,
              "l2_regularization_strength": 0.02, "l2_shrinkage_regularization_strength": 0.03,
              "beta": 0.1, "learning_rate_power": -0.7}),
    ("Lion", {"learning_rate": 0.1}),
    ("Lion", {"learning_rate": 0.1, "beta_1": 0.5, "beta_2": 0.7, "weight_decay": 0.1}),
]


@pytest.mark.parametrize("name,kwargs", CASES,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_keras(keras_ref, name, kwargs):
    params, grads = _problem()
    ours = kwargs(schedules) if callable(kwargs) else kwargs
    theirs = kwargs(keras_ref.optimizers.schedules) if callable(kwargs) else kwargs
    if name == "Nadam":  # Keras 3's momentum schedule is 0.96**t: schedule_decay=1
        ours = {**ours, "schedule_decay": 1.0}
    actual, _ = _run_jkeras(getattr(optimizers, name)(**ours), params, grads)
    expected = _run_keras(keras_ref, getattr(keras_ref.optimizers, name)(**theirs),
                          params, grads)
    _assert_trees_close(actual, expected)
    # The run must have moved the parameters, or the comparison proves little.
    assert any(np.abs(a - p).max() > 1e-4
               for a, p in zip(jax.tree.leaves(actual), jax.tree.leaves(params)))


def test_decay_matches_numpy_reference():
    params, grads = _problem()
    lr, decay, momentum = 0.1, 0.5, 0.9
    opt = optimizers.SGD(lr=lr, decay=decay, momentum=momentum, nesterov=True)
    actual, _ = _run_jkeras(opt, params, grads)
    expected = jax.tree.map(np.copy, params)
    velocity = jax.tree.map(np.zeros_like, params)
    for t, g in enumerate(grads):
        lr_t = np.float32(lr / (1 + decay * t))
        velocity = jax.tree.map(lambda v, gi: momentum * v - lr_t * gi, velocity, g)
        expected = jax.tree.map(lambda p, v, gi: p + momentum * v - lr_t * gi,
                                expected, velocity, g)
    _assert_trees_close(actual, expected)


def test_nadam_keras2_schedule_matches_numpy_reference():
    """Keras 2.3's Nadam (default schedule_decay=0.004): the momentum cache is
    beta_1 * (1 - 0.5 * 0.96 ** (t * schedule_decay)) and its running product."""
    params, grads = _problem()
    lr, beta_1, beta_2, eps, sd = 0.05, 0.9, 0.999, 1e-7, 0.004
    actual, _ = _run_jkeras(optimizers.Nadam(lr=lr), params, grads)
    expected = jax.tree.map(np.copy, params)
    m = jax.tree.map(np.zeros_like, params)
    v = jax.tree.map(np.zeros_like, params)
    m_schedule = 1.0
    for t, g in enumerate(grads, start=1):
        cache_t = beta_1 * (1 - 0.5 * 0.96 ** (t * sd))
        cache_next = beta_1 * (1 - 0.5 * 0.96 ** ((t + 1) * sd))
        m_schedule_new = m_schedule * cache_t
        m_schedule_next = m_schedule_new * cache_next
        m = jax.tree.map(lambda mi, gi: beta_1 * mi + (1 - beta_1) * gi, m, g)
        v = jax.tree.map(lambda vi, gi: beta_2 * vi + (1 - beta_2) * gi ** 2, v, g)

        def step(p, gi, mi, vi):
            m_bar = ((1 - cache_t) * gi / (1 - m_schedule_new)
                     + cache_next * mi / (1 - m_schedule_next))
            return p - lr * m_bar / (np.sqrt(vi / (1 - beta_2 ** t)) + eps)
        expected = jax.tree.map(step, expected, g, m, v)
        m_schedule = m_schedule_new
    _assert_trees_close(actual, expected)


def test_decay_matches_keras_inverse_time_schedule(keras_ref):
    params, grads = _problem()
    actual, _ = _run_jkeras(optimizers.Adam(lr=0.1, decay=0.3), params, grads)
    schedule = keras_ref.optimizers.schedules.InverseTimeDecay(0.1, 1, 0.3)
    expected = _run_keras(keras_ref, keras_ref.optimizers.Adam(schedule), params, grads)
    _assert_trees_close(actual, expected)


def test_set_value_between_steps_takes_effect_without_retracing():
    opt = optimizers.SGD(learning_rate=0.1)
    tx = opt.transformation()
    params = {"w": jnp.ones(3)}
    grads = {"w": jnp.ones(3)}
    traces = []

    @jax.jit
    def step(params, state):
        traces.append(1)
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    state = tx.init(params)
    expected, previous = 1.0, 0.1
    for lr in (0.1, 0.1, 0.5, 0.25):
        if lr != previous:
            _set_value(opt.lr, lr)
        synced = opt.sync_state(state)
        if lr == previous:
            assert synced is state  # nothing changed: same object, no device work
        previous = lr
        params, state = step(params, synced)
        opt.observe_state(state)
        expected -= lr
        np.testing.assert_allclose(np.asarray(params["w"]), expected, rtol=1e-6)
    assert len(traces) == 1
    assert int(opt.iterations) == 4
    opt.learning_rate = 0.05  # attribute assignment, Keras 2's `opt.lr = ...` too
    opt.lr = 0.02
    state = opt.sync_state(state)
    assert float(state.hyperparams["learning_rate"]) == pytest.approx(0.02)
    assert opt.sync_state(state) is state


def test_other_hyperparameters_change_without_retracing():
    params, grads = _problem()
    opt = optimizers.Adam(learning_rate=0.1)
    tx = opt.transformation()
    traces = []

    @jax.jit
    def step(params, state, grads):
        traces.append(1)
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    state = tx.init(jax.tree.map(jnp.asarray, params))
    opt.beta_1 = 0.5
    state = opt.sync_state(state)
    p, state = step(params, state, grads[0])
    opt.observe_state(state)
    assert len(traces) == 1
    assert float(opt.beta_1) == pytest.approx(0.5)
    # One Adam step with beta_1 = 0.5: m = 0.5 g, alpha = lr sqrt(1-b2)/(1-b1).
    g = grads[0]["dense"]["bias"]
    m, v = 0.5 * g, 0.001 * g * g
    expected = params["dense"]["bias"] - m * 0.1 * np.sqrt(0.001) / 0.5 / (np.sqrt(v) + 1e-7)
    np.testing.assert_allclose(np.asarray(p["dense"]["bias"]), expected, rtol=1e-5)


def test_iterations_and_scheduled_lr_read_lazily():
    schedule = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    opt = optimizers.SGD(learning_rate=schedule)
    params, grads = _problem()
    _, state = _run_jkeras(opt, params, grads[:3])
    assert int(opt.iterations) == 3
    assert float(opt.lr) == pytest.approx(0.1 * 0.5 ** 3)
    assert float(opt.current_learning_rate()) == pytest.approx(0.1 * 0.5 ** 3)
    with pytest.raises(TypeError, match="not settable"):
        opt.lr = 0.01
    with pytest.raises(TypeError, match="not settable"):
        opt.lr.assign(0.01)
    # A copy reads its own step count, not the original's.
    twin = copy.deepcopy(opt)
    twin.iterations.assign(0)
    assert float(twin.lr) == pytest.approx(0.1) and int(opt.iterations) == 3


def test_iterations_assign_is_written_into_state():
    opt = optimizers.Adam()
    state = opt.transformation().init({"w": jnp.zeros(2)})
    opt.iterations.assign(7)
    state = opt.sync_state(state)
    assert int(state.iterations) == 7
    opt.observe_state(state)
    assert int(opt.iterations) == 7


def test_observed_state_values_win_over_stale_host_values():
    # A state restored from a checkpoint carries its own learning rate.
    opt = optimizers.SGD(learning_rate=0.1)
    state = opt.transformation().init({"w": jnp.zeros(2)})
    restored = state._replace(hyperparams={**state.hyperparams,
                                           "learning_rate": jnp.asarray(0.03)})
    opt.observe_state(restored)
    assert float(opt.lr) == pytest.approx(0.03)
    assert opt.get_config()["learning_rate"] == 0.03


def test_no_arg_callable_learning_rate_is_evaluated_at_sync():
    value = [0.1]
    opt = optimizers.SGD(learning_rate=lambda: value[0])
    state = opt.transformation().init({"w": jnp.zeros(2)})
    state = opt.sync_state(state)
    assert opt.sync_state(state) is state
    value[0] = 0.2
    state = opt.sync_state(state)
    assert float(state.hyperparams["learning_rate"]) == pytest.approx(0.2)


def test_host_variable_behaves_like_a_keras_variable():
    opt = optimizers.Adam(learning_rate=0.01)
    lr = opt.lr
    assert lr is opt.learning_rate
    assert isinstance(lr.numpy(), np.float32)
    assert float(lr * 0.5) == pytest.approx(0.005)
    assert float(0.5 * lr) == pytest.approx(0.005)
    assert float(lr / 2) == pytest.approx(0.005)
    assert float(lr + lr) == pytest.approx(0.02)
    assert lr > 0.001 and lr < 0.1
    assert np.asarray(lr).dtype == np.float32
    assert float(jnp.asarray(lr)) == pytest.approx(0.01)
    assert f"{lr:.3f}" == "0.010"
    assert "learning_rate" in repr(lr) and "0.01" in repr(lr)
    lr.assign(lr * 0.5)
    assert float(opt.lr) == pytest.approx(0.005)
    assert float(opt.beta_1) == pytest.approx(0.9)
    assert opt.epsilon == 1e-7
    assert [0, 1, 2][opt.iterations] == 0
    with pytest.raises(ValueError, match="learning_rate"):
        lr.assign("fast")
    with pytest.raises(AttributeError):
        opt.no_such_thing  # noqa: B018


KERAS2_CONFIG_KEYS = {
    "SGD": ["name", "learning_rate", "momentum", "nesterov", "decay"],
    "RMSprop": ["name", "learning_rate", "rho", "momentum", "epsilon", "centered", "decay"],
    "Adagrad": ["name", "learning_rate", "initial_accumulator_value", "epsilon", "decay"],
    "Adadelta": ["name", "learning_rate", "rho", "epsilon", "decay"],
    "Adam": ["name", "learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad", "decay"],
    "Adamax": ["name", "learning_rate", "beta_1", "beta_2", "epsilon", "decay"],
    "Nadam": ["name", "learning_rate", "beta_1", "beta_2", "epsilon", "schedule_decay",
              "decay"],
    "Ftrl": ["name", "learning_rate", "initial_accumulator_value", "learning_rate_power",
             "l1_regularization_strength", "l2_regularization_strength", "beta",
             "l2_shrinkage_regularization_strength", "decay"],
}


@pytest.mark.parametrize("name", sorted(KERAS2_CONFIG_KEYS))
def test_config_keras2_layout_and_round_trip(name):
    opt = optimizers.get(name.lower())
    config = opt.get_config()
    assert sorted(config) == sorted(KERAS2_CONFIG_KEYS[name])
    assert config["name"] == name
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert type(again) is type(opt) and again.get_config() == config


def test_config_values_and_clip_args():
    opt = optimizers.SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True, clipnorm=1.0)
    assert opt.get_config() == {"name": "SGD", "learning_rate": 0.01, "momentum": 0.9,
                                "nesterov": True, "decay": 1e-6, "clipnorm": 1.0}
    opt.lr = 0.5
    assert opt.get_config()["learning_rate"] == 0.5
    config = optimizers.AdamW(global_clipnorm=2.0).get_config()
    assert config["weight_decay"] == 0.004 and config["global_clipnorm"] == 2.0
    assert "clipnorm" not in config


def test_schedule_in_config_round_trips():
    schedule = schedules.CosineDecay(0.1, 100, alpha=0.1)
    opt = optimizers.Adam(learning_rate=schedule)
    config = optimizers.serialize(opt)
    assert config["config"]["learning_rate"] == {
        "class_name": "CosineDecay", "config": schedule.get_config()}
    again = optimizers.deserialize(config)
    assert isinstance(again._schedule, schedules.CosineDecay)
    assert again._schedule.get_config() == schedule.get_config()


def test_get_accepts_names_dicts_instances_and_keras_configs(keras_ref):
    for name in ("sgd", "ADAM", "RMSprop", "adagrad", "adadelta", "adamax", "nadam",
                 "adamw", "ftrl", "lion"):
        assert optimizers.get(name).__class__.__name__.lower() == name.lower()
    opt = optimizers.Adam()
    assert optimizers.get(opt) is opt
    assert optimizers.get(None) is None
    # tf.keras 2.11+ writes "Custom>Adam" with extra keys.
    opt = optimizers.get({"class_name": "Custom>Adam", "config": {
        "name": "Adam", "learning_rate": 0.002, "jit_compile": True,
        "is_legacy_optimizer": False, "decay": 0.0}})
    assert isinstance(opt, optimizers.Adam) and float(opt.lr) == pytest.approx(0.002)
    # Old Keras 2 configs spell it `lr`.
    opt = optimizers.get({"class_name": "SGD", "config": {"lr": 0.3, "momentum": 0.1}})
    assert float(opt.lr) == pytest.approx(0.3)
    # Keras 3 configs, with a schedule.
    keras_opt = keras_ref.optimizers.Adam(
        keras_ref.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9), beta_1=0.8)
    opt = optimizers.get(keras_ref.optimizers.serialize(keras_opt))
    assert isinstance(opt, optimizers.Adam) and float(opt.beta_1) == pytest.approx(0.8)
    assert isinstance(opt._schedule, schedules.ExponentialDecay)
    with pytest.raises(ValueError, match="Unknown optimizer"):
        optimizers.get("nosuch")
    with pytest.raises(ValueError, match="Could not interpret"):
        optimizers.get(42)


def test_get_wraps_optax_transformations():
    opt = optimizers.get(optax.inject_hyperparams(optax.sgd)(learning_rate=0.1))
    tx = opt.transformation()
    params = {"w": jnp.ones(2)}
    state = tx.init(params)
    opt.observe_state(state)
    assert float(opt.lr) == pytest.approx(0.1)
    opt.lr = 0.5
    state = opt.sync_state(state)
    updates, state = tx.update({"w": jnp.ones(2)}, state, params)
    np.testing.assert_allclose(np.asarray(updates["w"]), -0.5)
    assert opt.sync_state(state) is state
    plain = optimizers.get(optax.sgd(0.1))
    assert plain.transformation() is not None and not hasattr(plain, "lr")


def test_argument_errors():
    with pytest.raises(ValueError, match="Only one of"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(TypeError, match="not recognized"):
        optimizers.Adam(foo=1)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="decay"):
        optimizers.SGD(decay=-1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="learning_rate_power"):
        optimizers.Ftrl(learning_rate_power=0.5)
    with pytest.raises(NotImplementedError, match="gradient_accumulation_steps"):
        optimizers.Adam(gradient_accumulation_steps=2)


def test_slots_mirror_params_with_keras_names():
    params = {"dense": {"kernel": jnp.ones((2, 3)), "bias": jnp.zeros(3)}}
    state = optimizers.Adam(amsgrad=True).transformation().init(params)
    assert list(state.slots) == ["momentum", "velocity", "velocity_hat"]
    for slot in state.slots.values():
        assert jax.tree.structure(slot) == jax.tree.structure(params)
    state = optimizers.Adagrad(initial_accumulator_value=0.3).transformation().init(params)
    np.testing.assert_allclose(np.asarray(state.slots["accumulator"]["dense"]["bias"]), 0.3)
    assert optimizers.SGD().transformation().init(params).slots == {}


def test_exclude_from_weight_decay():
    params = {"dense": {"kernel": jnp.ones(2), "bias": jnp.ones(2)}}
    grads = jax.tree.map(jnp.zeros_like, params)
    opt = optimizers.SGD(learning_rate=0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    tx = opt.transformation()
    updates, _ = tx.update(grads, tx.init(params), params)
    np.testing.assert_allclose(np.asarray(updates["dense"]["kernel"]), -0.05, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(updates["dense"]["bias"]), 0.0)


def test_schedules_namespace_is_importable():
    import jkeras.optimizers.schedules as via_import
    from jkeras.optimizers.legacy import Adam
    assert optimizers.schedules is schedules and via_import is schedules
    assert Adam is optimizers.Adam


# ---- schedules ----------------------------------------------------------------------

SCHEDULES = [
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.7)),
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.7,
                              staircase=True)),
    ("PiecewiseConstantDecay", dict(boundaries=[2, 5, 7], values=[1.0, 0.5, 0.2, 0.1])),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=6)),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=4, end_learning_rate=0.01,
                             power=2.0, cycle=True)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=2, decay_rate=0.5)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=2, decay_rate=0.5,
                              staircase=True)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=6, alpha=0.1)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=6, warmup_target=0.2,
                         warmup_steps=3)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=3)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=2, t_mul=1.0,
                                 m_mul=0.5, alpha=0.1)),
]


@pytest.mark.parametrize("name,kwargs", SCHEDULES,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULES)])
def test_schedule_matches_keras(keras_ref, name, kwargs):
    ours = getattr(schedules, name)(**kwargs)
    theirs = getattr(keras_ref.optimizers.schedules, name)(**kwargs)
    steps = np.arange(12, dtype=np.int32)
    expected = np.asarray(jax.jit(jax.vmap(theirs))(jnp.asarray(steps)))
    in_jit = np.asarray(jax.jit(jax.vmap(ours))(jnp.asarray(steps)))
    np.testing.assert_allclose(in_jit, expected, rtol=1e-5, atol=1e-7)
    for step in (0, 4, 11):  # on the host, with a Python int, as `opt.lr` reads it
        np.testing.assert_allclose(float(ours(step)), float(theirs(step)), rtol=1e-5)
    config = ours.get_config()
    assert set(config) == set(theirs.get_config())
    again = schedules.deserialize(schedules.serialize(ours))
    assert type(again) is type(ours) and again.get_config() == config


def test_schedule_argument_errors():
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.ExponentialDecay(0.1, decay_steps=0, decay_rate=0.5)
    with pytest.raises(ValueError, match="1 less than"):
        schedules.PiecewiseConstantDecay([1, 2], [0.1])
    with pytest.raises(NotImplementedError):
        schedules.LearningRateSchedule()(0)


def _numpy_adam(param, grads, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Keras's Adam in float64; the parameter rounded to bfloat16 after each step, as a
    bfloat16 variable holds it."""
    p = np.asarray(param, np.float64)
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        g = np.asarray(g, np.float64)
        m += (g - m) * (1 - beta_1)
        v += (g * g - v) * (1 - beta_2)
        alpha = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        p = np.asarray(jnp.asarray(p - m * alpha / (np.sqrt(v) + epsilon), jnp.bfloat16),
                       np.float64)
    return p


def test_adam_moves_bfloat16_params_with_float32_math():
    # In bfloat16, beta_2=0.999 rounds to 1.0 and Adam's velocity stays 0: the math must
    # run in float32 whatever the params' dtype, with slots kept in float32.
    rng = np.random.default_rng(0)
    param = jnp.asarray(rng.normal(size=(4, 3)) * 0.1, jnp.bfloat16)
    grads = [jnp.asarray(rng.normal(size=(4, 3)), jnp.bfloat16) for _ in range(3)]
    tx = optimizers.Adam(learning_rate=0.01).transformation()
    state = tx.init(param)
    assert state.slots["velocity"].dtype == jnp.float32
    p = param
    for g in grads:
        updates, state = tx.update(g, state, p)
        p = optax.apply_updates(p, updates)
    assert p.dtype == jnp.bfloat16
    assert np.abs(np.asarray(p, np.float32) - np.asarray(param, np.float32)).min() > 0
    np.testing.assert_allclose(np.asarray(p, np.float32),
                               _numpy_adam(param, grads, 0.01), rtol=1e-2, atol=1e-3)
    assert float(state.slots["velocity"].max()) > 0
