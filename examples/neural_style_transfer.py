"""Neural style transfer: the content of one picture drawn in the style of another.

The base image, the style reference (both `K.variable`s) and the image being generated (a
`K.placeholder`) go through VGG19 as one batch of three. The loss, built from backend
functions on the network's symbolic outputs, adds a content loss (block5_conv2 features
of base and generated image), a style loss (Gram matrices of five layers' features of
style and generated image) and a total variation loss (local coherence); `K.gradients`
and `K.function` give it and its gradient to SciPy's L-BFGS, which optimizes the pixels.

The classic Keras 2 example, unchanged but for the import. Run it with
`python neural_style_transfer.py path_to_your_base_image.jpg
path_to_your_reference.jpg prefix_for_results`; `--iter`, `--content_weight`,
`--style_weight` and `--tv_weight` tune it.
"""
import argparse
import time

import numpy as np
from scipy.optimize import fmin_l_bfgs_b

from jkeras import backend as K
from jkeras.applications import vgg19
from jkeras.preprocessing.image import img_to_array, load_img, save_img

parser = argparse.ArgumentParser(description="Neural style transfer with Keras.")
parser.add_argument("base_image_path", metavar="base", type=str,
                    help="Path to the image to transform.")
parser.add_argument("style_reference_image_path", metavar="ref", type=str,
                    help="Path to the style reference image.")
parser.add_argument("result_prefix", metavar="res_prefix", type=str,
                    help="Prefix for the saved results.")
parser.add_argument("--iter", type=int, default=10, required=False,
                    help="Number of iterations to run.")
parser.add_argument("--content_weight", type=float, default=0.025, required=False,
                    help="Content weight.")
parser.add_argument("--style_weight", type=float, default=1.0, required=False,
                    help="Style weight.")
parser.add_argument("--tv_weight", type=float, default=1.0, required=False,
                    help="Total Variation weight.")

args = parser.parse_args()
base_image_path = args.base_image_path
style_reference_image_path = args.style_reference_image_path
result_prefix = args.result_prefix
iterations = args.iter

# the weights of the three loss components
total_variation_weight = args.tv_weight
style_weight = args.style_weight
content_weight = args.content_weight

# the size of the generated picture
width, height = load_img(base_image_path).size
img_nrows = 400
img_ncols = int(width * img_nrows / height)


def preprocess_image(image_path):
    """Opens, resizes and formats a picture as a VGG19 input batch of one."""
    img = load_img(image_path, target_size=(img_nrows, img_ncols))
    img = img_to_array(img)
    img = np.expand_dims(img, axis=0)
    img = vgg19.preprocess_input(img)
    return img


def deprocess_image(x):
    """Turns a VGG19 input back into a displayable uint8 RGB image."""
    if K.image_data_format() == "channels_first":
        x = x.reshape((3, img_nrows, img_ncols))
        x = x.transpose((1, 2, 0))
    else:
        x = x.reshape((img_nrows, img_ncols, 3))
    # undo the zero-centring by the mean pixel
    x[:, :, 0] += 103.939
    x[:, :, 1] += 116.779
    x[:, :, 2] += 123.68
    # 'BGR'->'RGB'
    x = x[:, :, ::-1]
    x = np.clip(x, 0, 255).astype("uint8")
    return x


# the images as tensors
base_image = K.variable(preprocess_image(base_image_path))
style_reference_image = K.variable(preprocess_image(style_reference_image_path))

# the generated image
if K.image_data_format() == "channels_first":
    combination_image = K.placeholder((1, 3, img_nrows, img_ncols))
else:
    combination_image = K.placeholder((1, img_nrows, img_ncols, 3))

# the three images as one batch
input_tensor = K.concatenate([base_image,
                              style_reference_image,
                              combination_image], axis=0)

# VGG19 on that batch, with pre-trained ImageNet weights
model = vgg19.VGG19(input_tensor=input_tensor,
                    weights="imagenet", include_top=False)
print("Model loaded.")

# the symbolic output of each key layer (they have unique names)
outputs_dict = dict([(layer.name, layer.output) for layer in model.layers])


def gram_matrix(x):
    """The Gram matrix of a feature map: the channels' outer product, summed over space."""
    assert K.ndim(x) == 3
    if K.image_data_format() == "channels_first":
        features = K.batch_flatten(x)
    else:
        features = K.batch_flatten(K.permute_dimensions(x, (2, 0, 1)))
    gram = K.dot(features, K.transpose(features))
    return gram


def style_loss(style, combination):
    """How far the generated image's Gram matrix is from the style reference's."""
    assert K.ndim(style) == 3
    assert K.ndim(combination) == 3
    S = gram_matrix(style)
    C = gram_matrix(combination)
    channels = 3
    size = img_nrows * img_ncols
    return K.sum(K.square(S - C)) / (4.0 * (channels ** 2) * (size ** 2))


def content_loss(base, combination):
    """How far the generated image's features are from the base image's."""
    return K.sum(K.square(combination - base))


def total_variation_loss(x):
    """Penalizes differences between neighbouring pixels of the generated image."""
    assert K.ndim(x) == 4
    if K.image_data_format() == "channels_first":
        a = K.square(
            x[:, :, :img_nrows - 1, :img_ncols - 1] - x[:, :, 1:, :img_ncols - 1])
        b = K.square(
            x[:, :, :img_nrows - 1, :img_ncols - 1] - x[:, :, :img_nrows - 1, 1:])
    else:
        a = K.square(
            x[:, :img_nrows - 1, :img_ncols - 1, :] - x[:, 1:, :img_ncols - 1, :])
        b = K.square(
            x[:, :img_nrows - 1, :img_ncols - 1, :] - x[:, :img_nrows - 1, 1:, :])
    return K.sum(K.pow(a + b, 1.25))


# the loss, one scalar
loss = K.variable(0.0)
layer_features = outputs_dict["block5_conv2"]
base_image_features = layer_features[0, :, :, :]
combination_features = layer_features[2, :, :, :]
loss = loss + content_weight * content_loss(base_image_features,
                                            combination_features)

feature_layers = ["block1_conv1", "block2_conv1",
                  "block3_conv1", "block4_conv1",
                  "block5_conv1"]
for layer_name in feature_layers:
    layer_features = outputs_dict[layer_name]
    style_reference_features = layer_features[1, :, :, :]
    combination_features = layer_features[2, :, :, :]
    sl = style_loss(style_reference_features, combination_features)
    loss = loss + (style_weight / len(feature_layers)) * sl
loss = loss + total_variation_weight * total_variation_loss(combination_image)

# the gradients of the generated image with respect to the loss
grads = K.gradients(loss, combination_image)

outputs = [loss]
if isinstance(grads, (list, tuple)):
    outputs += grads
else:
    outputs.append(grads)

f_outputs = K.function([combination_image], outputs)


def eval_loss_and_grads(x):
    if K.image_data_format() == "channels_first":
        x = x.reshape((1, 3, img_nrows, img_ncols))
    else:
        x = x.reshape((1, img_nrows, img_ncols, 3))
    outs = f_outputs([x])
    loss_value = outs[0]
    if len(outs[1:]) == 1:
        grad_values = outs[1].flatten().astype("float64")
    else:
        grad_values = np.array(outs[1:]).flatten().astype("float64")
    return loss_value, grad_values


class Evaluator(object):
    """Computes loss and gradients in one pass but hands them out through the two
    functions SciPy's optimizer asks for."""

    def __init__(self):
        self.loss_value = None
        self.grads_values = None

    def loss(self, x):
        assert self.loss_value is None
        loss_value, grad_values = eval_loss_and_grads(x)
        self.loss_value = loss_value
        self.grad_values = grad_values
        return self.loss_value

    def grads(self, x):
        assert self.loss_value is not None
        grad_values = np.copy(self.grad_values)
        self.loss_value = None
        self.grad_values = None
        return grad_values


evaluator = Evaluator()

# L-BFGS over the pixels of the generated image, to minimize the loss
x = preprocess_image(base_image_path)

for i in range(iterations):
    print("Start of iteration", i)
    start_time = time.time()
    x, min_val, info = fmin_l_bfgs_b(evaluator.loss, x.flatten(),
                                     fprime=evaluator.grads, maxfun=20)
    print("Current loss value:", min_val)
    # save the current generated image
    img = deprocess_image(x.copy())
    fname = result_prefix + "_at_iteration_%d.png" % i
    save_img(fname, img)
    end_time = time.time()
    print("Image saved as %s" % fname)
    print("Iteration %d completed in %ds" % (i, end_time - start_time))
