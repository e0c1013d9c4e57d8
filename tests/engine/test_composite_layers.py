"""Keras-style layers holding other layers (engine/composite.py): the transformer-block
pattern of Keras 2 code. They build on symbolic inputs, list their sublayers' weights,
train them, save and load them, and compute what Keras 3 computes on the same weights."""
import jax
import numpy as np
import pytest

import jkeras
from jkeras import layers


def _block_classes(lib):
    """A transformer block and a token-and-position embedding, written once against the
    Keras API of `lib` (jkeras or Keras 3), as keras.io writes them."""
    L = lib.layers

    class TransformerBlock(L.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1, **kwargs):
            super().__init__(**kwargs)
            self.att = L.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.ffn = lib.Sequential([L.Dense(ff_dim, activation="relu"), L.Dense(embed_dim)])
            self.layernorm1 = L.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = L.LayerNormalization(epsilon=1e-6)
            self.dropout1 = L.Dropout(rate)
            self.dropout2 = L.Dropout(rate)

        def call(self, inputs, training=None):
            attn_output = self.dropout1(self.att(inputs, inputs), training=training)
            out1 = self.layernorm1(inputs + attn_output)
            ffn_output = self.dropout2(self.ffn(out1), training=training)
            return self.layernorm2(out1 + ffn_output)

    class TokenAndPositionEmbedding(L.Layer):
        def __init__(self, maxlen, vocab_size, embed_dim, **kwargs):
            super().__init__(**kwargs)
            self.token_emb = L.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.pos_emb = L.Embedding(input_dim=maxlen, output_dim=embed_dim)

        def call(self, x):
            positions = self.pos_emb(np.arange(x.shape[-1]))
            return self.token_emb(x) + positions

    return TransformerBlock, TokenAndPositionEmbedding


def _classifier(lib, maxlen=12, vocab=50, dim=8):
    block, embedding = _block_classes(lib)
    inputs = lib.layers.Input(shape=(maxlen,), dtype="int32")
    x = embedding(maxlen, vocab, dim)(inputs)
    x = block(dim, 2, 16)(x)
    x = lib.layers.GlobalAveragePooling1D()(x)
    outputs = lib.layers.Dense(2, activation="softmax")(x)
    return lib.Model(inputs, outputs)


def _tokens(n=64, maxlen=12, vocab=50, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, vocab, (n, maxlen)).astype("int32")
    return x, (x[:, 0] >= vocab // 2).astype("int32")


@pytest.mark.slow
def test_composite_layers_build_symbolically_and_report_run_shapes():
    model = _classifier(jkeras)
    block = model.layers[2]
    assert block.output_shape == (None, 12, 8)
    x, _ = _tokens(5)
    assert block(model.layers[1](x)).shape == (5, 12, 8)
    assert model.predict(x, verbose=0).shape == (5, 2)
    assert model.count_params() == sum(int(np.prod(w.shape)) for w in model.weights) > 62 * 8


@pytest.mark.slow
def test_composite_layers_match_keras_3_on_the_same_weights(keras_ref):
    ours, theirs = _classifier(jkeras), _classifier(keras_ref)
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert ours.count_params() == theirs.count_params()
    ours.set_weights(theirs.get_weights())
    x, _ = _tokens(7)
    np.testing.assert_allclose(ours.predict(x, verbose=0), np.asarray(theirs.predict(x, verbose=0)),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_fit_moves_every_sublayer_weight_and_lowers_the_loss():
    jkeras.utils.set_random_seed(1)
    model = _classifier(jkeras)
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = _tokens(256)
    before = model.get_weights()
    history = model.fit(x, y, batch_size=32, epochs=8, verbose=0)
    after = model.get_weights()
    assert len(before) == len(model.trainable_weights) == 20  # 2 + 16 + 2
    for w, a, b in zip(model.weights, before, after):
        assert np.max(np.abs(a - b)) > 0, w.name
    assert history.history["loss"][-1] < 0.85 * history.history["loss"][0]


@pytest.mark.slow
def test_frozen_sublayer_stays_and_its_weights_are_listed_as_non_trainable():
    jkeras.utils.set_random_seed(2)
    model = _classifier(jkeras)
    block = model.layers[2]
    block.ffn.trainable = False
    frozen = block.ffn.weights
    assert frozen and not any(w in block.trainable_weights for w in frozen)
    assert all(w in block.non_trainable_weights for w in frozen)
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = _tokens(128)
    kept = block.ffn.get_weights()
    attention = block.att.get_weights()
    model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    for a, b in zip(kept, block.ffn.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert any(np.max(np.abs(a - b)) > 0 for a, b in zip(attention, block.att.get_weights()))


class _Normalized(layers.Layer):
    """Own weight (add_weight in build) plus a Dense and a BatchNormalization."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(units, kernel_regularizer=jkeras.regularizers.l2(0.5))
        self.norm = layers.BatchNormalization()

    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=(), initializer="ones")

    def call(self, x, training=None):
        return self.norm(self.dense(x), training=training) * self.scale


def test_own_weights_come_first_then_trainable_before_non_trainable():
    layer = _Normalized(3, name="normalized")
    layer(np.ones((4, 5), "float32"))
    names = [w.name for w in layer.weights]
    assert names == ["normalized/scale:0", "normalized/dense/kernel:0",
                     "normalized/dense/bias:0", "normalized/batch_normalization/gamma:0",
                     "normalized/batch_normalization/beta:0",
                     "normalized/batch_normalization/moving_mean:0",
                     "normalized/batch_normalization/moving_variance:0"]
    assert [w.name for w in layer.trainable_weights] == names[:5]
    values = [np.full(w.shape, i, "float32") for i, w in enumerate(layer.weights)]
    layer.set_weights(values)
    for got, want in zip(layer.get_weights(), values):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="normalized"):
        layer.set_weights(values[:-1] + [np.ones((2,), "float32")])
    for got, want in zip(layer.get_weights(), values):  # a failed call changed nothing
        np.testing.assert_array_equal(got, want)


def test_sublayer_regularizer_enters_the_loss_and_state_updates_in_training():
    inputs = layers.Input(shape=(5,))
    model = jkeras.Model(inputs, _Normalized(3, name="normalized")(inputs))
    model.compile("sgd", "mse")
    x = np.random.default_rng(0).standard_normal((16, 5)).astype("float32")
    y = np.zeros((16, 3), "float32")
    layer = model.layers[1]
    kernel = layer.dense.get_weights()[0]
    mse = np.mean(model.predict(x, verbose=0) ** 2)
    loss = model.evaluate(x, y, batch_size=16, verbose=0)
    np.testing.assert_allclose(loss, mse + 0.5 * np.sum(kernel ** 2), rtol=1e-5)
    mean_before = layer.norm.get_weights()[2].copy()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert np.max(np.abs(layer.norm.get_weights()[2] - mean_before)) > 0  # moving mean


@pytest.mark.slow
def test_weights_save_and_load_through_hdf5(tmp_path):
    model = _classifier(jkeras)
    path = str(tmp_path / "w.h5")
    model.save_weights(path)
    jkeras.backend.clear_session()
    other = _classifier(jkeras)
    other.load_weights(path)
    x, _ = _tokens(6)
    np.testing.assert_allclose(other.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-7)


@pytest.mark.slow
def test_composite_inside_a_subclassed_model_trains():
    block_cls, _ = _block_classes(jkeras)

    class Net(jkeras.Model):
        def __init__(self):
            super().__init__()
            self.block = block_cls(4, 2, 8)
            self.head = layers.Dense(1)

        def call(self, x, training=None):
            return self.head(self.block(x, training=training)[:, 0])

    jkeras.utils.set_random_seed(3)
    net = Net()
    net.compile("adam", "mse")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 6, 4)).astype("float32")
    y = x[:, :1, 0]
    net(x[:2])  # builds
    before = net.get_weights()
    history = net.fit(x, y, batch_size=16, epochs=6, verbose=0)
    assert len(before) == len(net.block.weights) + 2
    assert all(np.max(np.abs(a - b)) > 0 for a, b in zip(before, net.get_weights()))
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.slow
def test_eager_calls_use_the_built_sublayers_and_draw_fresh_dropout():
    block_cls, _ = _block_classes(jkeras)
    block = block_cls(4, 2, 8, rate=0.5)
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype("float32")
    first = np.asarray(block(x))
    assert len(block.weights) == 16  # attention 8, feed-forward 4, normalizations 4
    np.testing.assert_array_equal(np.asarray(block(x)), first)
    assert not np.array_equal(np.asarray(block(x, training=True)),
                              np.asarray(block(x, training=True)))


def test_a_sequential_without_input_shape_builds_on_the_array_it_is_called_on():
    model = jkeras.Sequential([layers.Dense(4), layers.Dense(2)])
    x = np.ones((3, 5), "float32")
    assert model(x).shape == (3, 2)
    assert model.built and model.layers[0].get_weights()[0].shape == (5, 4)


def _rich_model(lib):
    """A layer with its own weight, two Dense, a LayerNormalization, a Sequential and a
    list of layers, in a functional model."""
    L = lib.layers

    class Block(L.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.d1 = L.Dense(units, activation="relu")
            self.d2 = L.Dense(units)
            self.norm = L.LayerNormalization()
            self.seq = lib.Sequential([L.Dense(3), L.Dense(units)])
            self.pair = [L.Dense(units), L.Dense(units)]

        def build(self, input_shape):
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")

        def call(self, x):
            y = x + self.d2(self.d1(x)) + self.seq(x) + self.pair[1](self.pair[0](x))
            return self.norm(y) * self.scale

    inputs = L.Input(shape=(4,))
    return lib.Model(inputs, L.Dense(1)(Block(4)(inputs)))


def test_keras3_weights_files_of_composite_layers_load_both_ways(keras_ref, tmp_path):
    x = np.random.default_rng(0).standard_normal((6, 4)).astype("float32")
    ours, theirs = _rich_model(jkeras), _rich_model(keras_ref)
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    theirs.set_weights([np.random.default_rng(i).standard_normal(w.shape).astype("float32")
                        for i, w in enumerate(theirs.weights)])
    theirs.save_weights(str(tmp_path / "keras.weights.h5"))
    ours.load_weights(str(tmp_path / "keras.weights.h5"))
    np.testing.assert_allclose(ours.predict(x, verbose=0), np.asarray(theirs(x)),
                               rtol=1e-5, atol=1e-5)
    ours.set_weights([w[::-1] * 0.5 if w.ndim else w * 2 for w in ours.get_weights()])
    ours.save_weights(str(tmp_path / "ours.weights.h5"))
    back = _rich_model(keras_ref)
    back.load_weights(str(tmp_path / "ours.weights.h5"))
    np.testing.assert_allclose(np.asarray(back(x)), ours.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)


def _fit_moves(model, x, y, epochs=2):
    model.compile("adam", "mse")
    before = model.get_weights()
    model.fit(x, y, batch_size=8, epochs=epochs, verbose=0)
    return [bool(np.any(a != b)) for a, b in zip(before, model.get_weights())]


def _data(n=32, width=4, seed=0):
    x = np.random.default_rng(seed).standard_normal((n, width)).astype("float32")
    return x, x[:, ::-1].copy()


def test_sublayers_build_before_training_however_call_reaches_them():
    """Sublayers used only in training, behind `compute_output_shape`, in lists filled
    later, in dicts and in private attributes all build at graph time and train."""
    class Hidden(layers.Layer):
        def __init__(self):
            super().__init__()
            self.blocks = []
            for _ in range(2):
                self.blocks.append(layers.Dense(4))
            self.heads = {"a": layers.Dense(4)}
            self._proj = layers.Dense(4)
            self.train_only = layers.Dense(4)

        def call(self, x, training=None):
            for block in self.blocks:
                x = block(x)
            x = self._proj(self.heads["a"](x))
            return self.train_only(x) if training else x

        def compute_output_shape(self, input_shape):
            return input_shape

    inputs = layers.Input(shape=(4,))
    model = jkeras.Model(inputs, Hidden()(inputs))
    assert len(model.weights) == 10
    assert all(_fit_moves(model, *_data()))


def test_a_layer_first_made_inside_a_compiled_step_raises_instead_of_freezing():
    class Careless(layers.Layer):
        def call(self, x, training=None):
            return layers.Dense(4)(x) if training else x

    inputs = layers.Input(shape=(4,))
    model = jkeras.Model(inputs, Careless()(inputs))
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="first called inside a compiled step"):
        model.fit(*_data(), verbose=0)


def test_freezing_the_holder_freezes_its_parts():
    layer = _Normalized(3)
    layer(np.ones((2, 5), "float32"))
    layer.trainable = False
    assert not layer.dense.trainable and not layer.norm.trainable
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 7


def test_parts_with_one_name_are_refused():
    class Twins(layers.Layer):
        def __init__(self):
            super().__init__()
            self.heads = [layers.Dense(2, name="head") for _ in range(2)]

        def call(self, x):
            return self.heads[0](x) + self.heads[1](x)

    with pytest.raises(ValueError, match="need names of their own"):
        Twins()(layers.Input(shape=(4,)))


def test_an_init_override_may_call_the_base_init():
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(name="w", shape=(input_shape[-1],), initializer="ones")

        def init(self, key, input_shape):
            return super().init(key, input_shape)

        def call(self, x):
            return x * self.w

    np.testing.assert_array_equal(np.asarray(Scale()(np.full((1, 3), 2.0))), 2.0)


def test_monte_carlo_dropout_in_a_part_runs_eagerly_and_in_predict():
    class MC(layers.Layer):
        def __init__(self):
            super().__init__()
            self.drop = layers.Dropout(0.5)

        def call(self, x):
            return self.drop(x, training=True)

    layer = MC()
    x = np.ones((4, 64), "float32")
    assert not np.array_equal(np.asarray(layer(x)), np.asarray(layer(x)))
    inputs = layers.Input(shape=(64,))
    out = jkeras.Model(inputs, MC()(inputs)).predict(x, verbose=0)
    assert 0 < np.mean(out == 0) < 1


def test_time_distributed_holder_of_layers_trains():
    inputs = layers.Input(shape=(5, 4))
    model = jkeras.Model(inputs, layers.TimeDistributed(_custom_block_class(jkeras)(3))(inputs))
    x = np.random.default_rng(0).standard_normal((16, 5, 4)).astype("float32")
    moved = _fit_moves(model, x, x[..., :3])
    assert len(moved) == 2 and all(moved)


class _Block(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.proj = layers.Dense(units, name="proj")
        self.ffn = jkeras.Sequential([layers.Dense(units)])

    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=(), initializer="ones")

    def call(self, x):
        return self.ffn(self.proj(x)) * self.scale

    def get_config(self):
        return dict(super().get_config(), units=self.units)


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_whole_model_files_keep_weights_and_optimizer_of_parts(tmp_path, suffix):
    """Two blocks whose parts share a name save apart (Keras 2's scoped names), and the
    optimizer's slots come back though the parts get new names when rebuilt."""
    inputs = layers.Input(shape=(4,))
    model = jkeras.Model(inputs, _Block(4, name="b2")(_Block(4, name="b1")(inputs)))
    x, y = _data()
    model.compile("adam", "mse")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    path = str(tmp_path / f"m{suffix}")
    model.save(path)
    loaded = jkeras.models.load_model(path, custom_objects={"_Block": _Block})
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    after = [m.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False).history["loss"]
             for m in (model, loaded)]
    np.testing.assert_allclose(after[0], after[1], rtol=1e-6)


def _tied_model(lib, dot):
    """Output logits from the embedding matrix itself (tied weights), read through the
    embedding layer's weight inside `call`."""
    L = lib.layers

    class Tied(L.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.emb = L.Embedding(10, 4)
            self.mix = L.Dense(4)

        def call(self, x):
            return dot(self.mix(self.emb(x)), self.emb.embeddings)

    inputs = L.Input(shape=(3,), dtype="int32")
    return lib.Model(inputs, Tied()(inputs))


def test_a_weight_read_inside_call_trains_as_in_keras_3(keras_ref):
    from jkeras import backend as K
    ours = _tied_model(jkeras, lambda h, e: K.dot(h, K.transpose(e)))
    theirs = _tied_model(keras_ref, lambda h, e: keras_ref.ops.matmul(
        h, keras_ref.ops.transpose(e)))
    ours.set_weights(theirs.get_weights())
    x = np.random.default_rng(0).integers(0, 10, (8, 3)).astype("int32")
    y = np.random.default_rng(1).standard_normal((8, 3, 10)).astype("float32")
    ours.compile(jkeras.optimizers.SGD(learning_rate=0.1), "mse")
    theirs.compile(keras_ref.optimizers.SGD(learning_rate=0.1), "mse")
    ours.train_on_batch(x, y)
    theirs.train_on_batch(x, y)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)


def _shared_part_model(lib):
    """Two layers holding one shared Embedding (written once, at its first place)."""
    L = lib.layers

    class Enc(L.Layer):
        def __init__(self, emb, **kwargs):
            super().__init__(**kwargs)
            self.emb = emb
            self.out = L.Dense(3)

        def call(self, x):
            return self.out(self.emb(x))

    emb = L.Embedding(10, 4)
    inputs = L.Input(shape=(2,), dtype="int32")
    return lib.Model(inputs, L.Add()([Enc(emb)(inputs), Enc(emb)(inputs)]))


def test_a_part_shared_by_two_holders_loads_from_keras_3_files(keras_ref, tmp_path):
    ours, theirs = _shared_part_model(jkeras), _shared_part_model(keras_ref)
    assert len(ours.weights) == len(theirs.weights) == 5
    theirs.set_weights([np.random.default_rng(i).standard_normal(w.shape).astype("float32")
                        for i, w in enumerate(theirs.weights)])
    theirs.save_weights(str(tmp_path / "keras.weights.h5"))
    ours.load_weights(str(tmp_path / "keras.weights.h5"))
    x = np.random.default_rng(0).integers(0, 10, (4, 2)).astype("int32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), np.asarray(theirs(x)),
                               rtol=1e-5, atol=1e-5)
    ours.save_weights(str(tmp_path / "ours.weights.h5"))
    back = _shared_part_model(keras_ref)
    back.load_weights(str(tmp_path / "ours.weights.h5"))
    np.testing.assert_allclose(np.asarray(back(x)), ours.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)


def test_a_shared_part_penalty_counts_once():
    class Holder(layers.Layer):
        def __init__(self, part, **kwargs):
            super().__init__(**kwargs)
            self.part = part

        def call(self, x):
            return self.part(x)

    part = layers.Dense(4, kernel_regularizer=jkeras.regularizers.l2(0.5))
    inputs = layers.Input(shape=(4,))
    outputs = layers.Add()([part(inputs), Holder(part)(inputs), Holder(part)(inputs)])
    model = jkeras.Model(inputs, outputs)
    model.compile("sgd", "mse")
    x, _ = _data(8)
    y = np.zeros((8, 4), "float32")
    mse = np.mean(model.predict(x, verbose=0) ** 2)
    kernel = part.get_weights()[0]
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=8, verbose=0),
                               mse + 0.5 * np.sum(kernel ** 2), rtol=1e-5)


def test_subclassed_model_trains_layers_put_in_lists_and_dicts_after_assignment():
    class Net(jkeras.Model):
        def __init__(self):
            super().__init__()
            self.blocks = []
            for _ in range(2):
                self.blocks.append(layers.Dense(4, activation="relu"))
            self.heads = {"out": layers.Dense(1)}

        def call(self, x):
            for block in self.blocks:
                x = block(x)
            return self.heads["out"](x)

    jkeras.utils.set_random_seed(4)
    net = Net()
    x, _ = _data(64)
    net(x[:2])
    assert len(net.weights) == 6
    net.compile("adam", "mse")
    before = net.get_weights()
    net.fit(x, x[:, :1], batch_size=16, epochs=3, verbose=0)
    assert all(np.any(a != b) for a, b in zip(before, net.get_weights()))


def test_fresh_variables_of_a_layer_making_its_parts_in_build_keep_the_parts():
    class Gated(layers.Layer):
        def build(self, input_shape):
            self.lin = layers.Dense(input_shape[-1])
            self.bias = self.add_weight(name="bias", shape=(input_shape[-1],),
                                        initializer="zeros")

        def call(self, x):
            return self.lin(x) + self.bias

    inputs = layers.Input(shape=(3,))
    gated = Gated()
    model = jkeras.Model(inputs, gated(inputs))
    lin = gated.lin
    fresh = model.init(jax.random.PRNGKey(1))
    assert gated.lin is lin and gated._sublayers == [lin]
    tree = fresh["params"][gated.name]
    assert set(tree) == {"bias", lin.name} and tree[lin.name]["kernel"].shape == (3, 3)
    assert model.predict(np.ones((2, 3), "float32"), verbose=0).shape == (2, 3)


def _custom_block_class(lib):
    class Block(lib.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.dense = lib.layers.Dense(units)

        def call(self, x):
            return self.dense(x)

        def get_config(self):
            return dict(super().get_config(), units=self.units)
    return Block


def test_keras_3_loads_a_keras_archive_with_a_custom_layer(keras_ref, tmp_path):
    """A user's layer class is written as Keras 3 writes it (no module, its registered
    name), so Keras 3 finds it in `custom_objects`."""
    ours_cls, theirs_cls = _custom_block_class(jkeras), _custom_block_class(keras_ref)
    inputs = layers.Input(shape=(4,))
    model = jkeras.Model(inputs, layers.Dense(1)(ours_cls(3)(inputs)))
    path = str(tmp_path / "m.keras")
    model.save(path)
    theirs = keras_ref.models.load_model(path, custom_objects={"Block": theirs_cls})
    x = np.random.default_rng(0).standard_normal((5, 4)).astype("float32")
    np.testing.assert_allclose(np.asarray(theirs(x)), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    again = jkeras.models.load_model(path, custom_objects={"Block": ours_cls})
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0))
