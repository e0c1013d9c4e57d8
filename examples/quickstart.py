"""Quick-start: train a small convnet on the handwritten digits scikit-learn ships.

Real data that needs no network: 1,797 8x8 grey images of the digits 0-9. The script is
plain Keras 2 code but for the import; it reaches about 98-99% test accuracy in well under
a minute on a 2-core CPU.
"""
import numpy as np
from sklearn.datasets import load_digits

import jkeras as keras
from jkeras.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D

keras.utils.set_random_seed(0)

digits = load_digits()
x = (digits.images / 16.0).astype("float32")[..., None]  # (1797, 8, 8, 1)
y = keras.utils.to_categorical(digits.target, num_classes=10)
order = np.random.permutation(len(x))
x, y = x[order], y[order]
split = int(0.8 * len(x))
x_train, y_train, x_test, y_test = x[:split], y[:split], x[split:], y[split:]

model = keras.Sequential()
model.add(Conv2D(32, (3, 3), padding="same", activation="relu", input_shape=(8, 8, 1)))
model.add(Conv2D(64, (3, 3), padding="same", activation="relu"))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))
model.add(Flatten())
model.add(Dense(128, activation="relu"))
model.add(Dropout(0.5))
model.add(Dense(10, activation="softmax"))
model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
model.summary()

model.fit(x_train, y_train, batch_size=32, epochs=25, validation_split=0.1, verbose=2)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"Test loss: {loss:.4f}  test accuracy: {accuracy:.4f}")
if accuracy < 0.97:
    raise SystemExit(f"Quick-start accuracy {accuracy:.4f} is below the expected 0.97")
