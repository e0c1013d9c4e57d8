"""Dtype policies (jkeras.dtype_policies, jkeras.mixed_precision) against real Keras 3:
per-layer policies, variable dtypes and output dtypes under 'mixed_bfloat16', configs."""
import json

import numpy as np
import pytest

import jkeras
from jkeras import dtype_policies, mixed_precision
from jkeras import layers as L
from jkeras.engine.model_config import deserialize_layer


@pytest.fixture
def mixed_bf16(keras_ref):
    """Both libraries with 'mixed_bfloat16' as their global policy for one test."""
    mixed_precision.set_global_policy("mixed_bfloat16")
    keras_ref.config.set_dtype_policy("mixed_bfloat16")
    yield keras_ref
    mixed_precision.set_global_policy(None)
    keras_ref.config.set_dtype_policy("float32")


def test_policy_names_and_dtypes():
    cases = {"float32": ("float32", "float32"), "mixed_bfloat16": ("bfloat16", "float32"),
             "mixed_float16": ("float16", "float32"), "bfloat16": ("bfloat16", "bfloat16"),
             "float16": ("float16", "float16")}
    for name, (compute, variable) in cases.items():
        policy = mixed_precision.Policy(name)
        assert (policy.name, policy.compute_dtype, policy.variable_dtype) == \
            (name, compute, variable)
    assert mixed_precision.Policy("mixed_float16") == mixed_precision.Policy("mixed_float16")
    assert repr(mixed_precision.Policy("mixed_float16")) == '<Policy "mixed_float16">'
    with pytest.raises(ValueError, match="Cannot convert 'mixed_float8'"):
        mixed_precision.Policy("mixed_float8")
    with pytest.raises(TypeError, match="must be a string"):
        mixed_precision.Policy(3)


def test_global_policy_and_keras2_aliases():
    assert mixed_precision.global_policy().name == "float32"
    try:
        mixed_precision.experimental.set_policy("mixed_float16")
        assert mixed_precision.experimental.global_policy().name == "mixed_float16"
        layer = L.Dense(2)
        assert (layer.compute_dtype, layer.variable_dtype, layer.dtype) == \
            ("float16", "float32", "float32")
        assert L.Dense(2, dtype="float32").dtype_policy.name == "float32"
        with pytest.raises(ValueError, match="floating-point policies"):
            mixed_precision.set_global_policy("int32")
        assert mixed_precision.global_policy().name == "mixed_float16"  # unchanged
    finally:
        mixed_precision.set_global_policy(None)
    assert L.Dense(2).dtype_policy.name == "float32"
    policy = mixed_precision.experimental.Policy("mixed_bfloat16", loss_scale="dynamic")
    assert L.Dense(2, dtype=policy).dtype_policy is policy


# (jkeras layer, Keras 3 layer, input) for every layer family, called eagerly.
def _family_cases(K, rng):
    x2 = rng.random((2, 8)).astype("float32")
    x3 = rng.random((2, 6, 8)).astype("float32")
    x4 = rng.random((2, 8, 8, 4)).astype("float32")
    ids = np.array([[1, 2, 3], [4, 5, 0]])

    def both(name, *args, **kwargs):
        return getattr(L, name)(*args, **kwargs), getattr(K.layers, name)(*args, **kwargs)
    cases = [
        (*both("Dense", 4), x2), (*both("Dense", 4, activation="softmax"), x2),
        (*both("Activation", "softmax", dtype="float32"), x2), (*both("Softmax"), x2),
        (*both("ReLU"), x2), (*both("PReLU"), x2),
        (*both("Conv2D", 4, 3), x4), (*both("Conv1D", 4, 3), x3),
        (*both("Conv2DTranspose", 4, 3), x4), (*both("DepthwiseConv2D", 3), x4),
        (*both("SeparableConv2D", 4, 3), x4), (*both("MaxPooling2D", 2), x4),
        (*both("GlobalAveragePooling2D"), x4), (*both("UpSampling2D"), x4),
        (*both("ZeroPadding2D"), x4), (*both("Flatten"), x4), (*both("Dropout", 0.5), x2),
        (*both("GaussianNoise", 0.1), x2), (*both("Embedding", 10, 4), ids),
        (*both("BatchNormalization"), x4), (*both("LayerNormalization"), x3),
        (*both("GroupNormalization", groups=2), x4), (*both("LSTM", 4), x3),
        (*both("GRU", 4), x3), (*both("SimpleRNN", 4), x3),
        (*both("Masking"), x3), (*both("Rescaling", 0.5), x4),
        (L.Bidirectional(L.LSTM(4)), K.layers.Bidirectional(K.layers.LSTM(4)), x3),
        (L.TimeDistributed(L.Dense(3)), K.layers.TimeDistributed(K.layers.Dense(3)), x3),
        (*both("Add"), [x2, x2]), (*both("Concatenate"), [x2, x2]),
        (*both("Attention"), [x3, x3]), (*both("AdditiveAttention"), [x3, x3]),
        (*both("Dense", 4, dtype="float32"), x2.astype("bfloat16")),
        (*both("Dense", 4, dtype="bfloat16"), x2),
    ]
    return cases


def _dtypes(layer, outputs):
    outs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return (layer.dtype_policy.name, layer.compute_dtype, layer.variable_dtype, layer.dtype,
            [str(np.dtype(w.dtype)) for w in layer.weights], [str(o.dtype) for o in outs])


@pytest.mark.slow
def test_every_layer_family_follows_its_policy_like_keras(mixed_bf16, rng):
    for ours, theirs, x in _family_cases(mixed_bf16, rng):
        ours_out = ours(x)
        theirs_out = theirs(x)
        assert _dtypes(ours, ours_out) == _dtypes(theirs, theirs_out), type(ours).__name__


@pytest.mark.slow
def test_multi_head_attention_follows_its_policy_like_keras(mixed_bf16, rng):
    x = rng.random((2, 6, 8)).astype("float32")
    ours, theirs = L.MultiHeadAttention(2, 4), mixed_bf16.layers.MultiHeadAttention(2, 4)
    assert _dtypes(ours, ours(x, x)) == _dtypes(theirs, theirs(x, x))


def _model(lib):
    """A small model over the layer families, built with `lib`'s layers."""
    image = lib.Input((8, 8, 3))
    tokens = lib.Input((5,), dtype="int32")
    h = lib.layers.Conv2D(4, 3, activation="relu")(image)
    h = lib.layers.BatchNormalization()(h)
    h = lib.layers.MaxPooling2D()(h)
    h = lib.layers.Flatten()(h)
    t = lib.layers.Embedding(10, 8)(tokens)
    t = lib.layers.MultiHeadAttention(2, 4)(t, t)
    t = lib.layers.LayerNormalization()(t)
    t = lib.layers.LSTM(6)(t)
    h = lib.layers.Concatenate()([lib.layers.Dense(6)(h), t])
    h = lib.layers.Dropout(0.1)(h)
    out = lib.layers.Activation("softmax", dtype="float32")(lib.layers.Dense(3)(h))
    return lib.Model([image, tokens], out)


@pytest.mark.slow
def test_model_outputs_and_weights_like_keras(mixed_bf16, rng):
    ours, theirs = _model(jkeras), _model(mixed_bf16)
    x = [rng.random((2, 8, 8, 3)).astype("float32"), rng.integers(0, 10, (2, 5))]
    for a, b in zip(ours.layers, theirs.layers):
        if type(a).__name__ == "InputLayer":
            continue
        assert (a.dtype_policy.name, [str(np.dtype(w.dtype)) for w in a.weights]) == \
            (b.dtype_policy.name, [str(np.dtype(w.dtype)) for w in b.weights]), a.name
    probe_ours = jkeras.Model(ours.inputs, [layer.output for layer in ours.layers[2:]])
    probe_theirs = mixed_bf16.Model(theirs.inputs,
                                    [layer.output for layer in theirs.layers[2:]])
    got = [str(y.dtype) for y in probe_ours(x)]
    want = [str(y.dtype) for y in probe_theirs(x)]
    assert got == want
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(theirs(x)), atol=2e-2)


@pytest.mark.slow
def test_mixed_bfloat16_training_lowers_the_loss_with_float32_weights(rng):
    mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = jkeras.Sequential([L.Dense(16, activation="relu", input_shape=(6,)),
                                   L.LayerNormalization(), L.Dense(3),
                                   L.Activation("softmax", dtype="float32")])
    finally:
        mixed_precision.set_global_policy(None)
    x = rng.normal(size=(128, 6)).astype("float32")
    y = np.argmax(x[:, :3], axis=1)
    model.compile("adam", "sparse_categorical_crossentropy")
    before = model.get_weights()
    history = model.fit(x, y, epochs=4, batch_size=32, verbose=0).history["loss"]
    assert history[-1] < history[0]
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert any(np.abs(a - b).max() > 0 for a, b in zip(before, model.get_weights()))
    assert model.predict(x[:4], verbose=0).dtype == np.float32


def test_pure_bfloat16_training_lowers_the_loss(rng):
    jkeras.backend.set_floatx("bfloat16")
    try:
        model = jkeras.Sequential([L.Dense(16, activation="relu", input_shape=(6,)),
                                   L.Dense(1)])
    finally:
        jkeras.backend.set_floatx("float32")
    assert model.layers[0].dtype_policy.name == "bfloat16"
    x = rng.normal(size=(128, 6)).astype("float32")
    y = x @ rng.normal(size=(6, 1)).astype("float32")
    model.compile(jkeras.optimizers.Adam(0.01), "mse")
    history = model.fit(x, y, epochs=5, batch_size=32, verbose=0).history["loss"]
    assert history[-1] < 0.8 * history[0]
    assert all(str(w.dtype) == "bfloat16" for w in model.get_weights())


def test_configs_keep_keras_policy_and_keras3_reads_them(keras_ref):
    layer = L.Dense(3, dtype="mixed_bfloat16")
    config = layer.get_config()
    assert config["dtype"] == {"module": "keras", "class_name": "DTypePolicy",
                               "config": {"name": "mixed_bfloat16"}, "registered_name": None}
    assert L.Dense(3).get_config()["dtype"] == "float32"
    theirs = keras_ref.layers.Dense.from_config(json.loads(json.dumps(config)))
    assert theirs.dtype_policy.name == "mixed_bfloat16"
    assert L.Dense.from_config(config).dtype_policy.name == "mixed_bfloat16"
    # Keras 2 (tf.keras) and Keras 3 spellings of a policy config both load.
    keras2 = dict(config, dtype={"class_name": "Policy", "config": {"name": "mixed_float16"}})
    assert L.Dense.from_config(keras2).dtype_policy.name == "mixed_float16"
    keras3 = keras_ref.layers.serialize(keras_ref.layers.Dense(3, dtype="mixed_float16"))
    assert deserialize_layer(keras3).compute_dtype == "float16"


def test_saved_mixed_model_loads_in_keras3(keras_ref, tmp_path, rng):
    model = jkeras.Sequential([L.Dense(4, input_shape=(3,), dtype="mixed_bfloat16"),
                               L.Activation("softmax", dtype="float32")])
    path = str(tmp_path / "mixed.keras")
    model.save(path)
    theirs = keras_ref.models.load_model(path)
    assert theirs.layers[0].dtype_policy.name == "mixed_bfloat16"
    x = rng.random((2, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(theirs(x)), np.asarray(model(x)), atol=1e-2)
    ours = jkeras.models.load_model(path)
    assert ours.layers[0].dtype_policy.name == "mixed_bfloat16"


def test_policy_get_rejects_what_is_not_a_policy():
    with pytest.raises(ValueError, match="dtype policy config"):
        dtype_policies.get({"class_name": "Dense", "config": {}})
    with pytest.raises(ValueError, match="Cannot interpret `dtype`"):
        dtype_policies.get(object())


def test_stateful_rnn_keeps_its_carry_in_the_variable_dtype(rng):
    layer = L.LSTM(4, stateful=True, dtype="mixed_bfloat16")
    x = rng.random((2, 3, 5)).astype("float32")
    assert layer(x).dtype == "bfloat16"
    assert [str(np.dtype(s.dtype)) for s in layer.states] == ["float32", "float32"]
