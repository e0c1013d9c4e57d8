"""Does the worker queue keep the train step fed? fit() on an augmenting Sequence.

A small convnet on 32x32x3 images is fed from a Sequence whose `__getitem__` runs
ImageDataGenerator random transforms (rotation, shifts, zoom, flip) on each of its
images: real CPU work, no sleeping. In one run it times fit() with workers=1 and
workers=4, as threads and as processes, and fit() on in-memory arrays of the same
shapes (the pure step). For each it prints milliseconds per step and the share of the
time the step waited for data, (t_sequence - t_arrays) / t_sequence. A Sequence that
only slices arrays (no augmentation) shows what the queue itself costs. Each epoch starts
its workers afresh (so they see what on_epoch_end changed); a worker process is a fork,
tens of milliseconds for a large JAX process, which short timed epochs overweight: raise
--steps for the steady state. Augmentation that is mostly Python code (as here) does not
speed up with more threads (they share the GIL); processes do.
Usage: python benchmarks/sequence_workers.py [--quick] [--steps N] [--batch B]
           [--width W] [--workers 1,4]
"""
import argparse
import os
import time
import warnings

import jax
import numpy as np

import jkeras as keras
from jkeras import layers


def convnet(width):
    return keras.Sequential([
        layers.Conv2D(width, 3, padding="same", activation="relu", input_shape=(32, 32, 3)),
        layers.MaxPooling2D(2),
        layers.Conv2D(2 * width, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(4 * width, 3, padding="same", activation="relu"),
        layers.GlobalAveragePooling2D(),
        layers.Dense(10, activation="softmax"),
    ])


class AugmentedImages(keras.utils.Sequence):
    """Batches of randomly transformed images; batch `i` of epoch `e` is reproducible."""

    def __init__(self, x, y, batch_size, augment=True):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.augmented = augment
        self.epoch = 0
        self.augment = keras.preprocessing.image.ImageDataGenerator(
            rotation_range=15, width_shift_range=0.1, height_shift_range=0.1,
            zoom_range=0.1, horizontal_flip=True)

    def __len__(self):
        return len(self.x) // self.batch_size

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        if not self.augmented:
            return self.x[rows], self.y[rows]
        seeds = np.random.default_rng([self.epoch, index]).integers(2 ** 31, size=self.batch_size)
        images = [self.augment.random_transform(image, seed=int(seed))
                  for image, seed in zip(self.x[rows], seeds)]
        return np.stack(images), self.y[rows]

    def on_epoch_end(self):
        self.epoch += 1


def seconds_per_step(model, steps, repeats, data, **fit_kwargs):
    """Best of `repeats` timed one-epoch fits (after one untimed fit that compiles)."""
    times = []
    for run in range(repeats + 1):
        start = time.perf_counter()
        model.fit(*data, epochs=1, verbose=0, **fit_kwargs)
        jax.block_until_ready(model.get_weights())
        if run:
            times.append((time.perf_counter() - start) / steps)
    return min(times)


def batch_cost(seq, count=5):
    start = time.perf_counter()
    for i in range(count):
        seq[i]
    return (time.perf_counter() - start) / count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps, one repeat")
    parser.add_argument("--steps", type=int, default=None, help="steps per timed epoch")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--width", type=int, default=16, help="filters of the first conv")
    parser.add_argument("--workers", default="1,4", help="worker counts to time")
    args = parser.parse_args()
    steps = args.steps or (20 if args.quick else 50)
    repeats = 1 if args.quick else 2
    # Forking a process with JAX loaded warns; the workers only run NumPy code.
    warnings.filterwarnings("ignore", message="os.fork", category=RuntimeWarning)

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((steps * args.batch, 32, 32, 3), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, len(x))]
    seq = AugmentedImages(x, y, args.batch)
    model = convnet(args.width)
    model.compile(keras.optimizers.Adam(1e-3), "categorical_crossentropy")

    device = jax.devices()[0]
    print(f"device: {device.platform} ({device.device_kind}), {os.cpu_count()} CPU cores; "
          f"batch {args.batch}, {steps} steps per epoch, convnet width {args.width}")
    print(f"making one batch in the main thread: {batch_cost(seq) * 1e3:.1f} ms")

    pure = seconds_per_step(model, steps, repeats, (x, y), batch_size=args.batch,
                            shuffle=False)
    print(f"{'fit on arrays (pure step)':48s} {pure * 1e3:7.2f} ms/step")
    plain = AugmentedImages(x, y, args.batch, augment=False)
    runs = [("no augmentation", plain, 1, False)]
    counts = [int(w) for w in args.workers.split(",")]
    runs += [("", seq, w, False) for w in counts] + [("", seq, w, True) for w in counts]
    for note, source, workers, processes in runs:
        t = seconds_per_step(model, steps, repeats, (source,), workers=workers,
                             use_multiprocessing=processes, max_queue_size=10)
        kind = "processes" if processes else "threads"
        label = f"Sequence{', ' + note if note else ''}, workers={workers} ({kind})"
        waited = max(t - pure, 0.0) / t
        print(f"{label:48s} {t * 1e3:7.2f} ms/step   waited for data {waited:6.1%}")


if __name__ == "__main__":
    main()
