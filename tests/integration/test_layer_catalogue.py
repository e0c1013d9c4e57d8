"""Whole models from the layer catalogue: per-layer parameter counts equal Keras's for
the same code, and gradients reach every trainable layer (a short fit lowers the loss)."""
import numpy as np
import pytest

import jkeras


def vgg_like(lib):
    L = lib.layers
    return lib.Sequential([
        lib.Input(shape=(32, 32, 3)),
        L.Conv2D(32, (3, 3), activation="relu"), L.Conv2D(32, (3, 3), activation="relu"),
        L.MaxPooling2D(pool_size=(2, 2)), L.Dropout(0.25),
        L.Conv2D(64, (3, 3), activation="relu"), L.Conv2D(64, (3, 3), activation="relu"),
        L.MaxPooling2D(pool_size=(2, 2)), L.Dropout(0.25),
        L.Flatten(), L.Dense(256, activation="relu"), L.Dropout(0.5),
        L.Dense(10, activation="softmax"),
    ])


def stacked_lstm(lib):
    L = lib.layers
    return lib.Sequential([
        lib.Input(shape=(8, 16)),
        L.LSTM(32, return_sequences=True), L.LSTM(32, return_sequences=True), L.LSTM(32),
        L.Dense(10, activation="softmax"),
    ])


def bidirectional_gru(lib):
    L = lib.layers
    return lib.Sequential([
        lib.Input(shape=(12,)),
        L.Embedding(100, 16),
        L.Bidirectional(L.GRU(24, return_sequences=True, reset_after=False)),
        L.Bidirectional(L.GRU(8, reset_after=True), merge_mode="sum"),
        L.Dense(1, activation="sigmoid"),
    ])


def xception_block(lib):
    L = lib.layers
    inputs = lib.Input(shape=(16, 16, 32))
    residual = L.Conv2D(64, (1, 1), strides=(2, 2), padding="same", use_bias=False)(inputs)
    residual = L.BatchNormalization()(residual)
    x = L.SeparableConv2D(64, (3, 3), padding="same", use_bias=False)(inputs)
    x = L.BatchNormalization()(x)
    x = L.Activation("relu")(x)
    x = L.SeparableConv2D(64, (3, 3), padding="same", use_bias=False)(x)
    x = L.BatchNormalization()(x)
    x = L.MaxPooling2D((3, 3), strides=(2, 2), padding="same")(x)
    x = L.add([x, residual])
    x = L.GlobalAveragePooling2D()(x)
    outputs = L.Dense(7, activation="softmax")(x)
    return lib.Model(inputs, outputs)


@pytest.mark.slow
@pytest.mark.parametrize("builder", [vgg_like, stacked_lstm, bidirectional_gru,
                                     xception_block])
def test_parameter_counts_match_keras(keras_ref, builder):
    theirs, ours = builder(keras_ref), builder(jkeras)
    # Keras 3 orders functional layers its own way; compare per-layer counts as multisets.
    def counts(model, input_type):
        return sorted(l.count_params() for l in model.layers if not isinstance(l, input_type))
    assert counts(ours, jkeras.layers.InputLayer) == counts(theirs, keras_ref.layers.InputLayer)
    assert ours.count_params() == theirs.count_params()
    trainable = sum(int(np.prod(w.shape)) for w in theirs.trainable_weights)
    assert sum(int(np.prod(w.shape)) for w in ours.trainable_weights) == trainable
    assert ours.output_shape == theirs.output_shape
    text = []
    ours.summary(print_fn=text.append)
    assert f"Total params: {theirs.count_params():,}" in text


def _every_layer_model():
    """One graph using every trainable layer family once."""
    L = jkeras.layers
    image = jkeras.Input(shape=(8, 8, 3))
    x = L.Conv2D(4, 3, padding="same")(image)
    x = L.BatchNormalization()(x)
    x = L.SeparableConv2D(4, 3, padding="same")(x)
    x = L.DepthwiseConv2D(3, padding="same")(x)
    x = L.Conv2DTranspose(4, 3, strides=2, padding="same")(x)
    x = L.PReLU()(x)
    x = L.LayerNormalization()(x)
    x = L.GroupNormalization(groups=2)(x)
    x = L.GlobalAveragePooling2D()(x)
    seq = jkeras.Input(shape=(6,))
    s = L.Embedding(20, 4)(seq)
    s = L.Conv1D(4, 2, padding="causal")(s)
    s = L.MultiHeadAttention(num_heads=2, key_dim=2)(s, s)
    s = L.Bidirectional(L.LSTM(3, return_sequences=True))(s)
    s = L.GRU(3, return_sequences=True)(s)
    s = L.TimeDistributed(L.Dense(3))(s)
    s = L.SimpleRNN(3)(s)
    frames = jkeras.Input(shape=(3, 4, 4, 1))
    v = L.Flatten()(L.ConvLSTM2D(2, 3, padding="same")(frames))
    merged = L.concatenate([x, s, v])
    out = L.Dense(1)(merged)
    return jkeras.Model([image, seq, frames], out)


@pytest.mark.slow
def test_gradients_reach_every_trainable_layer(rng):
    jkeras.utils.set_random_seed(0)
    model = _every_layer_model()
    model.compile(jkeras.optimizers.Adam(0.01), "mse")
    n = 16
    x = [rng.standard_normal((n, 8, 8, 3)).astype("float32"),
         rng.integers(0, 20, (n, 6)), rng.standard_normal((n, 3, 4, 4, 1)).astype("float32")]
    y = rng.standard_normal((n, 1)).astype("float32")
    before = {w.name: w.numpy() for w in model.trainable_weights}
    history = model.fit(x, y, batch_size=8, epochs=5, verbose=0)
    after = {w.name: w.numpy() for w in model.trainable_weights}
    unchanged = [name for name in before if np.array_equal(before[name], after[name])]
    assert not unchanged, f"no gradient reached: {unchanged}"
    assert history.history["loss"][-1] < history.history["loss"][0]
