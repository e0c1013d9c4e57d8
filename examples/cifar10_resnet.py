"""A ResNet (v1, 20 layers) on CIFAR-10, trained on augmented images from
`ImageDataGenerator` (random shifts and horizontal flips) with a learning-rate schedule.

The classic Keras 2 example, shortened but plain Keras 2 code but for the import: about
91% test accuracy after 200 epochs.
"""
import jkeras as keras
from jkeras.callbacks import LearningRateScheduler, ReduceLROnPlateau
from jkeras.datasets import cifar10
from jkeras.layers import (Activation, AveragePooling2D, BatchNormalization, Conv2D, Dense,
                           Flatten, Input)
from jkeras.models import Model
from jkeras.optimizers import Adam
from jkeras.preprocessing.image import ImageDataGenerator
from jkeras.regularizers import l2

batch_size = 32
epochs = 200
num_classes = 10
depth = 20  # 6n + 2

(x_train, y_train), (x_test, y_test) = cifar10.load_data()
x_train = x_train.astype("float32") / 255
x_test = x_test.astype("float32") / 255
x_train_mean = x_train.mean(axis=0)
x_train -= x_train_mean
x_test -= x_train_mean
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)


def lr_schedule(epoch):
    lr = 1e-3
    if epoch > 180:
        lr *= 0.5e-3
    elif epoch > 160:
        lr *= 1e-3
    elif epoch > 120:
        lr *= 1e-2
    elif epoch > 80:
        lr *= 1e-1
    return lr


def resnet_layer(inputs, num_filters=16, kernel_size=3, strides=1, activation="relu",
                 batch_normalization=True):
    """Conv2D, then batch normalization and the activation (either may be left out)."""
    x = Conv2D(num_filters, kernel_size=kernel_size, strides=strides, padding="same",
               kernel_initializer="he_normal", kernel_regularizer=l2(1e-4))(inputs)
    if batch_normalization:
        x = BatchNormalization()(x)
    if activation is not None:
        x = Activation(activation)(x)
    return x


def resnet_v1(input_shape, depth, num_classes=10):
    """Three stacks of (depth - 2) / 6 residual blocks of two 3x3 convolutions; each new
    stack halves the resolution and doubles the filters."""
    num_filters = 16
    num_res_blocks = int((depth - 2) / 6)
    inputs = Input(shape=input_shape)
    x = resnet_layer(inputs=inputs)
    for stack in range(3):
        for res_block in range(num_res_blocks):
            strides = 2 if stack > 0 and res_block == 0 else 1
            y = resnet_layer(inputs=x, num_filters=num_filters, strides=strides)
            y = resnet_layer(inputs=y, num_filters=num_filters, activation=None)
            if stack > 0 and res_block == 0:  # project the shortcut to the new shape
                x = resnet_layer(inputs=x, num_filters=num_filters, kernel_size=1,
                                 strides=strides, activation=None,
                                 batch_normalization=False)
            x = keras.layers.add([x, y])
            x = Activation("relu")(x)
        num_filters *= 2
    x = AveragePooling2D(pool_size=8)(x)
    y = Flatten()(x)
    outputs = Dense(num_classes, activation="softmax", kernel_initializer="he_normal")(y)
    return Model(inputs=inputs, outputs=outputs)


model = resnet_v1(input_shape=x_train.shape[1:], depth=depth)
model.compile(loss="categorical_crossentropy", optimizer=Adam(learning_rate=lr_schedule(0)),
              metrics=["accuracy"])
model.summary()

callbacks = [LearningRateScheduler(lr_schedule),
             ReduceLROnPlateau(factor=0.1 ** 0.5, cooldown=0, patience=5, min_lr=0.5e-6)]
datagen = ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1,
                             horizontal_flip=True)
datagen.fit(x_train)
model.fit(datagen.flow(x_train, y_train, batch_size=batch_size),
          validation_data=(x_test, y_test), epochs=epochs, verbose=1, workers=4,
          callbacks=callbacks)

scores = model.evaluate(x_test, y_test, verbose=1)
print("Test loss:", scores[0])
print("Test accuracy:", scores[1])
