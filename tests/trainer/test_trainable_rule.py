"""Keras 2's rule for `trainable`: a model trains the weights that were trainable when it
was compiled; changing the flag takes effect at the next compile (Keras 2's FAQ), and the
mismatch is warned about once. The GAN pattern depends on it."""
import warnings

import numpy as np
import pytest

import jkeras as keras
from jkeras import layers


def _changed(before, after):
    return [not np.array_equal(a, b) for a, b in zip(before, after)]


def _gan(latent=2):
    generator = keras.Sequential([layers.Dense(16, activation="relu", input_shape=(latent,)),
                                  layers.Dense(2)], name="generator")
    discriminator = keras.Sequential([
        layers.Dense(16, activation="relu", input_shape=(2,)),
        layers.Dense(1, activation="sigmoid")], name="discriminator")
    discriminator.compile(keras.optimizers.Adam(0.005), "binary_crossentropy")
    discriminator.trainable = False
    z = keras.Input((latent,))
    combined = keras.Model(z, discriminator(generator(z)))
    combined.compile(keras.optimizers.Adam(0.005), "binary_crossentropy")
    return generator, discriminator, combined


@pytest.mark.slow
def test_gan_pattern_each_model_trains_what_it_was_compiled_with():
    generator, discriminator, combined = _gan()
    rng = np.random.default_rng(0)
    z = rng.normal(size=(32, 2)).astype("float32")
    points = rng.normal(size=(32, 2)).astype("float32")

    d_before = discriminator.get_weights()
    discriminator.train_on_batch(points, np.ones((32, 1), "float32"))
    assert all(_changed(d_before, discriminator.get_weights()))

    d_before, g_before = discriminator.get_weights(), generator.get_weights()
    combined.train_on_batch(z, np.ones((32, 1), "float32"))
    assert not any(_changed(d_before, discriminator.get_weights()))
    assert all(_changed(g_before, generator.get_weights()))


def test_trainable_weights_report_the_current_flag():
    _, discriminator, combined = _gan()
    assert discriminator.trainable_weights == []
    assert len(combined.trainable_weights) == 4  # the generator's only


def test_freeze_then_recompile_for_fine_tuning():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = rng.normal(size=(64, 1)).astype("float32")
    base = keras.Sequential([layers.Dense(8, activation="relu", input_shape=(4,))],
                            name="base")
    model = keras.Sequential([base, layers.Dense(1)])
    base.trainable = False
    model.compile("adam", "mse")
    frozen = base.get_weights()
    model.fit(x, y, epochs=2, verbose=0)
    assert not any(_changed(frozen, base.get_weights()))
    base.trainable = True
    model.compile("adam", "mse")
    model.fit(x, y, epochs=2, verbose=0)
    assert all(_changed(frozen, base.get_weights()))


def test_toggling_without_recompiling_keeps_the_compiled_set_and_warns_once():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = rng.normal(size=(64, 1)).astype("float32")
    first = layers.Dense(8, activation="relu", input_shape=(4,))
    model = keras.Sequential([first, layers.Dense(1)])
    model.compile("adam", "mse")
    first.trainable = False  # no compile after: the model still trains `first`
    before = first.get_weights()
    with pytest.warns(UserWarning, match="Discrepancy between trainable weights"):
        model.fit(x, y, epochs=1, verbose=0)
    assert all(_changed(before, first.get_weights()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, y, epochs=1, verbose=0)  # warned once only


@pytest.mark.slow
def test_a_gan_on_a_toy_distribution_learns():
    """Both networks learn: the generator's samples move to the data's mean."""
    keras.utils.set_random_seed(0)
    generator, discriminator, combined = _gan()
    rng = np.random.default_rng(0)
    target = np.array([3.0, -2.0], "float32")
    half = 32
    noise = rng.normal(size=(512, 2)).astype("float32")
    start = np.linalg.norm(generator.predict(noise, verbose=0).mean(axis=0) - target)
    d_losses = []
    for _ in range(300):
        real = (target + 0.3 * rng.normal(size=(half, 2))).astype("float32")
        fake = generator.predict(rng.normal(size=(half, 2)).astype("float32"), verbose=0)
        d_losses.append(discriminator.train_on_batch(
            np.concatenate([real, fake]),
            np.concatenate([np.ones((half, 1)), np.zeros((half, 1))]).astype("float32")))
        combined.train_on_batch(rng.normal(size=(2 * half, 2)).astype("float32"),
                                np.ones((2 * half, 1), "float32"))
    end = np.linalg.norm(generator.predict(noise, verbose=0).mean(axis=0) - target)
    assert end < 0.5 * start, (start, end)
    assert min(d_losses[:20]) != min(d_losses[-20:])
