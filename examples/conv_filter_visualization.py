"""Visualizing what the filters of a VGG16 layer respond to, by gradient ascent in input
space.

For each filter, the mean activation is the loss; `K.gradients` gives its gradient with
respect to the input image and `K.function` compiles both. Starting from noise on a small
image, the script climbs the gradient, upscales the image a little, and climbs again, so
the pattern grows without a dominating high frequency. The filters with the highest final
activation are stitched into a grid and saved.

The classic Keras 2 example, unchanged but for the import.
"""
import time

import numpy as np
from PIL import Image as pil_image

from jkeras import backend as K
from jkeras import layers
from jkeras.applications import vgg16
from jkeras.preprocessing.image import save_img


def normalize(x):
    """Divides a tensor by its root mean square."""
    return x / (K.sqrt(K.mean(K.square(x))) + K.epsilon())


def deprocess_image(x):
    """Turns a float image into a displayable uint8 one (centred, std 0.25, clipped)."""
    x -= x.mean()
    x /= (x.std() + K.epsilon())
    x *= 0.25

    x += 0.5
    x = np.clip(x, 0, 1)

    x *= 255
    if K.image_data_format() == "channels_first":
        x = x.transpose((1, 2, 0))
    x = np.clip(x, 0, 255).astype("uint8")
    return x


def process_image(x, former):
    """Reverses `deprocess_image`, using the mean and std of the image `former`."""
    if K.image_data_format() == "channels_first":
        x = x.transpose((2, 0, 1))
    return (x / 255 - 0.5) * 4 * former.std() + former.mean()


def visualize_layer(model,
                    layer_name,
                    step=1.,
                    epochs=15,
                    upscaling_steps=9,
                    upscaling_factor=1.2,
                    output_dim=(412, 412),
                    filter_range=(0, None)):
    """Draws the filters of `model`'s layer `layer_name` that respond most.

    Arguments:
        model: the model holding the layer.
        layer_name: the convolution layer to visualize.
        step: the gradient ascent step size.
        epochs: gradient ascent steps at each size.
        upscaling_steps: how many times the image is enlarged on its way to `output_dim`.
        upscaling_factor: the enlargement factor of each step.
        output_dim: (width, height) of the final images.
        filter_range: (first, last) filter indices to process; last None means all.
    """

    def _generate_filter_image(input_img, layer_output, filter_index):
        """`(image, last loss)` for one filter, or None when its activation dies."""
        s_time = time.time()

        # the loss: the mean activation of this filter
        if K.image_data_format() == "channels_first":
            loss = K.mean(layer_output[:, filter_index, :, :])
        else:
            loss = K.mean(layer_output[:, :, :, filter_index])

        # its gradient with respect to the input picture, normalized
        grads = K.gradients(loss, input_img)[0]
        grads = normalize(grads)

        iterate = K.function([input_img], [loss, grads])

        # start from a grey image with some noise, at the smallest size
        intermediate_dim = tuple(
            int(x / (upscaling_factor ** upscaling_steps)) for x in output_dim)
        if K.image_data_format() == "channels_first":
            input_img_data = np.random.random(
                (1, 3, intermediate_dim[0], intermediate_dim[1]))
        else:
            input_img_data = np.random.random(
                (1, intermediate_dim[0], intermediate_dim[1], 3))
        input_img_data = (input_img_data - 0.5) * 20 + 128

        # climb, then upscale a little, until the output size is reached
        for up in reversed(range(upscaling_steps)):
            for _ in range(epochs):
                loss_value, grads_value = iterate([input_img_data])
                input_img_data += grads_value * step

                # some filters get stuck at 0: skip them
                if loss_value <= K.epsilon():
                    return None

            intermediate_dim = tuple(
                int(x / (upscaling_factor ** up)) for x in output_dim)
            img = deprocess_image(input_img_data[0])
            img = np.array(pil_image.fromarray(img).resize(intermediate_dim,
                                                           pil_image.BICUBIC))
            input_img_data = np.expand_dims(process_image(img, input_img_data[0]), 0)

        img = deprocess_image(input_img_data[0])
        e_time = time.time()
        print("Costs of filter {:3}: {:5.0f} ( {:4.2f}s )".format(filter_index, loss_value,
                                                                  e_time - s_time))
        return img, loss_value

    def _draw_filters(filters, n=None):
        """Saves the `n * n` filters with the highest loss in an n x n grid."""
        if n is None:
            n = int(np.floor(np.sqrt(len(filters))))

        filters.sort(key=lambda x: x[1], reverse=True)
        filters = filters[:n * n]

        # a black picture with room for the filters and 5px margins
        MARGIN = 5
        width = n * output_dim[0] + (n - 1) * MARGIN
        height = n * output_dim[1] + (n - 1) * MARGIN
        stitched_filters = np.zeros((width, height, 3), dtype="uint8")

        for i in range(n):
            for j in range(n):
                img, _ = filters[i * n + j]
                width_margin = (output_dim[0] + MARGIN) * i
                height_margin = (output_dim[1] + MARGIN) * j
                stitched_filters[
                    width_margin: width_margin + output_dim[0],
                    height_margin: height_margin + output_dim[1], :] = img

        save_img("vgg_{0:}_{1:}x{1:}.png".format(layer_name, n), stitched_filters)

    # the placeholder for the input images
    assert len(model.inputs) == 1
    input_img = model.inputs[0]

    # the symbolic outputs of each named layer
    layer_dict = dict([(layer.name, layer) for layer in model.layers[1:]])

    output_layer = layer_dict[layer_name]
    assert isinstance(output_layer, layers.Conv2D)

    # the filters to process
    filter_lower = filter_range[0]
    filter_upper = (filter_range[1]
                    if filter_range[1] is not None
                    else len(output_layer.get_weights()[1]))
    assert (filter_lower >= 0
            and filter_upper <= len(output_layer.get_weights()[1])
            and filter_upper > filter_lower)
    print("Compute filters {:} to {:}".format(filter_lower, filter_upper))

    processed_filters = []
    for f in range(filter_lower, filter_upper):
        img_loss = _generate_filter_image(input_img, output_layer.output, f)

        if img_loss is not None:
            processed_filters.append(img_loss)

    print("{} filter processed.".format(len(processed_filters)))
    _draw_filters(processed_filters)


if __name__ == "__main__":
    # the layer to visualize (see the model definition in jkeras/applications/vgg16.py)
    LAYER_NAME = "block5_conv1"

    vgg = vgg16.VGG16(weights="imagenet", include_top=False)
    print("Model loaded.")
    vgg.summary()

    visualize_layer(vgg, LAYER_NAME)
