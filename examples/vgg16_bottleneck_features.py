"""Transfer learning from VGG16 bottleneck features on CIFAR-10.

The ImageNet-trained convolutional base of VGG16 (`include_top=False`, weights fetched
once into the Keras cache) turns each image into a 512-value feature vector; only a small
dense classifier is trained on those features. Plain Keras 2 code but for the import.
"""
import numpy as np

import jkeras as keras
from jkeras.applications.vgg16 import VGG16, preprocess_input
from jkeras.datasets import cifar10
from jkeras.layers import Dense, Dropout
from jkeras.models import Sequential

num_classes = 10
train_samples = 5000
test_samples = 1000

(x_train, y_train), (x_test, y_test) = cifar10.load_data()
x_train, y_train = x_train[:train_samples], y_train[:train_samples]
x_test, y_test = x_test[:test_samples], y_test[:test_samples]

base_model = VGG16(weights="imagenet", include_top=False, input_shape=(32, 32, 3),
                   pooling="avg")
bottleneck_train = base_model.predict(preprocess_input(x_train.astype("float32")),
                                      batch_size=64)
bottleneck_test = base_model.predict(preprocess_input(x_test.astype("float32")),
                                     batch_size=64)
print("bottleneck features:", bottleneck_train.shape)

model = Sequential()
model.add(Dense(256, activation="relu", input_shape=bottleneck_train.shape[1:]))
model.add(Dropout(0.5))
model.add(Dense(num_classes, activation="softmax"))
model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(bottleneck_train, keras.utils.to_categorical(y_train, num_classes), epochs=20,
          batch_size=64,
          validation_data=(bottleneck_test, keras.utils.to_categorical(y_test, num_classes)))
loss, accuracy = model.evaluate(bottleneck_test,
                                keras.utils.to_categorical(y_test, num_classes), verbose=0)
print("Test accuracy:", accuracy)
print("Most confident test predictions:", np.argsort(model.predict(bottleneck_test)[0])[-3:])
