"""Augmentation in the jitted step (preprocessing layers) vs on the host (ImageDataGenerator).

One small convnet is trained twice on the same data with the same augmentation (random
horizontal flips, shifts of up to 10% of height and width):
  (a) ImageDataGenerator(...).flow(...) feeding fit: the images are transformed on the
      CPU, one by one, in a worker thread, then copied to the device each step;
  (b) RandomFlip + RandomTranslation layers at the model's input and fit on arrays: the
      transforms run inside the compiled train step on the device (they are active only
      in training; evaluate and predict see the images as they are).
Data: scikit-learn's 8x8 digits upsampled to 16x16x1, or, without scikit-learn, noisy
CIFAR-like 16x16x3 images drawn around one random template per class. Prints seconds per
epoch for both (after the first, which compiles), the speedup and the test accuracies
(with 360 test images these move by a few points from seed to seed, either way).
Usage: python examples/device_augmentation.py [--epochs N]
"""
import argparse
import time

import numpy as np

import jkeras as keras
from jkeras import layers


def load_data(seed=0):
    """(x_train, y_train), (x_test, y_test), one-hot labels, and the data's name."""
    rng = np.random.default_rng(seed)
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        coarse = rng.random((10, 4, 4, 3), dtype=np.float32)  # blocky, so shifts keep it
        templates = coarse.repeat(4, axis=1).repeat(4, axis=2)
        labels = rng.integers(0, 10, 1800)
        noise = rng.random((1800, 16, 16, 3), dtype=np.float32)
        x = 0.3 * templates[labels] + 0.7 * noise
        name = "random CIFAR-like 16x16x3 images (scikit-learn not installed)"
    else:
        digits = load_digits()
        x = (digits.images / 16.0).astype(np.float32).repeat(2, axis=1).repeat(2, axis=2)
        x, labels = x[..., None], digits.target
        name = "scikit-learn digits upsampled to 16x16x1"
    order = rng.permutation(len(x))
    x, y = x[order], keras.utils.to_categorical(labels[order], 10)
    split = int(0.8 * len(x))
    return (x[:split], y[:split]), (x[split:], y[split:]), name


def convnet(input_shape, augmentation=()):
    model = keras.Sequential([keras.Input(input_shape), *augmentation])
    model.add(layers.Conv2D(32, 3, padding="same", activation="relu"))
    model.add(layers.MaxPooling2D(2))
    model.add(layers.Conv2D(64, 3, padding="same", activation="relu"))
    model.add(layers.MaxPooling2D(2))
    model.add(layers.Flatten())
    model.add(layers.Dense(64, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    return model


class EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs["loss"]  # waits for the epoch's last step to finish on the device
        self.seconds.append(time.perf_counter() - self.start)


def train(name, model, fit_args, fit_kwargs, test, epochs):
    timer = EpochTimer()
    model.fit(*fit_args, epochs=epochs, verbose=0, callbacks=[timer], **fit_kwargs)
    accuracy = model.evaluate(*test, verbose=0)[1]
    per_epoch = float(np.median(timer.seconds[1:]))
    print(f"{name:44s} first epoch {timer.seconds[0]:6.2f} s, then {per_epoch:6.3f} s/epoch, "
          f"test accuracy {accuracy:.4f}")
    return per_epoch


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    (x_train, y_train), test, data_name = load_data()
    shape = x_train.shape[1:]
    print(f"data: {data_name}; {len(x_train)} train / {len(test[0])} test images, "
          f"{args.epochs} epochs of batch {args.batch_size}")

    keras.utils.set_random_seed(0)
    generator = keras.preprocessing.image.ImageDataGenerator(
        horizontal_flip=True, width_shift_range=0.1, height_shift_range=0.1)
    flow = generator.flow(x_train, y_train, batch_size=args.batch_size, seed=0)
    host = train("(a) ImageDataGenerator.flow -> fit", convnet(shape), (flow,),
                 {"steps_per_epoch": len(flow)}, test, args.epochs)

    keras.utils.set_random_seed(0)
    augmentation = [layers.RandomFlip("horizontal"), layers.RandomTranslation(0.1, 0.1)]
    device = train("(b) RandomFlip + RandomTranslation in model", convnet(shape, augmentation),
                   (x_train, y_train), {"batch_size": args.batch_size}, test, args.epochs)
    print(f"speedup of (b) over (a): {host / device:.1f}x per epoch")


if __name__ == "__main__":
    main()
