"""A variational autoencoder on MNIST, written as Keras 2 wrote it: an encoder to the mean
and log-variance of a 2-D latent code, a Lambda layer drawing a sample with the
reparameterization trick, a decoder back to pixels, and the VAE loss (reconstruction
cross-entropy plus the KL divergence to a unit Gaussian) built from backend functions on
the layers' outputs and given to the model with `add_loss`; `compile` then needs no loss.

The classic Keras 2 example, unchanged but for the import (and plots skipped where
matplotlib is not installed). Run with `-m` for a mean-squared-error reconstruction
loss, `-w file.h5` to load trained weights instead of training.
"""
import argparse
import os

import numpy as np

from jkeras import backend as K
from jkeras.datasets import mnist
from jkeras.layers import Dense, Input, Lambda
from jkeras.losses import binary_crossentropy, mse
from jkeras.models import Model
from jkeras.utils import plot_model


def sampling(args):
    """Draws z = mean + sigma * epsilon with epsilon from a unit Gaussian, so the sample
    stays differentiable in the mean and log-variance."""
    z_mean, z_log_var = args
    batch = K.shape(z_mean)[0]
    dim = K.int_shape(z_mean)[1]
    epsilon = K.random_normal(shape=(batch, dim))
    return z_mean + K.exp(0.5 * z_log_var) * epsilon


def plot_results(models, data, batch_size=128, model_name="vae_mnist"):
    """Saves the test digits' latent means coloured by label, and a 30x30 grid of digits
    decoded from the latent plane."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: plots skipped.")
        return
    encoder, decoder = models
    x_test, y_test = data
    os.makedirs(model_name, exist_ok=True)

    z_mean, _, _ = encoder.predict(x_test, batch_size=batch_size)
    plt.figure(figsize=(12, 10))
    plt.scatter(z_mean[:, 0], z_mean[:, 1], c=y_test)
    plt.colorbar()
    plt.xlabel("z[0]")
    plt.ylabel("z[1]")
    plt.savefig(os.path.join(model_name, "vae_mean.png"))

    n, digit_size = 30, 28
    figure = np.zeros((digit_size * n, digit_size * n))
    grid_x = np.linspace(-4, 4, n)
    grid_y = np.linspace(-4, 4, n)[::-1]
    for i, yi in enumerate(grid_y):
        for j, xi in enumerate(grid_x):
            x_decoded = decoder.predict(np.array([[xi, yi]]))
            digit = x_decoded[0].reshape(digit_size, digit_size)
            figure[i * digit_size:(i + 1) * digit_size,
                   j * digit_size:(j + 1) * digit_size] = digit
    plt.figure(figsize=(10, 10))
    plt.imshow(figure, cmap="Greys_r")
    plt.savefig(os.path.join(model_name, "digits_over_latent.png"))


# MNIST as flat vectors in [0, 1]
(x_train, y_train), (x_test, y_test) = mnist.load_data()
image_size = x_train.shape[1]
original_dim = image_size * image_size
x_train = np.reshape(x_train, [-1, original_dim]).astype("float32") / 255
x_test = np.reshape(x_test, [-1, original_dim]).astype("float32") / 255

input_shape = (original_dim,)
intermediate_dim = 512
batch_size = 128
latent_dim = 2
epochs = 50

# encoder: pixels -> (z_mean, z_log_var, z)
inputs = Input(shape=input_shape, name="encoder_input")
x = Dense(intermediate_dim, activation="relu")(inputs)
z_mean = Dense(latent_dim, name="z_mean")(x)
z_log_var = Dense(latent_dim, name="z_log_var")(x)
z = Lambda(sampling, output_shape=(latent_dim,), name="z")([z_mean, z_log_var])
encoder = Model(inputs, [z_mean, z_log_var, z], name="encoder")
encoder.summary()
plot_model(encoder, to_file="vae_mlp_encoder.png", show_shapes=True)

# decoder: latent code -> pixels
latent_inputs = Input(shape=(latent_dim,), name="z_sampling")
x = Dense(intermediate_dim, activation="relu")(latent_inputs)
outputs = Dense(original_dim, activation="sigmoid")(x)
decoder = Model(latent_inputs, outputs, name="decoder")
decoder.summary()
plot_model(decoder, to_file="vae_mlp_decoder.png", show_shapes=True)

# the VAE: the decoder applied to the encoder's sample
outputs = decoder(encoder(inputs)[2])
vae = Model(inputs, outputs, name="vae_mlp")

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("-w", "--weights", help="load h5 model trained weights")
    parser.add_argument("-m", "--mse", help="use mse loss instead of binary cross entropy",
                        action="store_true")
    args = parser.parse_args()
    models = (encoder, decoder)
    data = (x_test, y_test)

    # the VAE loss: reconstruction + KL divergence, from the layers' symbolic outputs
    if args.mse:
        reconstruction_loss = mse(inputs, outputs)
    else:
        reconstruction_loss = binary_crossentropy(inputs, outputs)
    reconstruction_loss *= original_dim
    kl_loss = 1 + z_log_var - K.square(z_mean) - K.exp(z_log_var)
    kl_loss = K.sum(kl_loss, axis=-1)
    kl_loss *= -0.5
    vae_loss = K.mean(reconstruction_loss + kl_loss)
    vae.add_loss(vae_loss)
    vae.compile(optimizer="adam")
    vae.summary()
    plot_model(vae, to_file="vae_mlp.png", show_shapes=True)

    if args.weights:
        vae.load_weights(args.weights)
    else:
        vae.fit(x_train, epochs=epochs, batch_size=batch_size,
                validation_data=(x_test, None))
        vae.save_weights("vae_mlp_mnist.h5")

    plot_results(models, data, batch_size=batch_size, model_name="vae_mlp")
