"""What the ImageNet models share outside their graphs: input preprocessing (the 'caffe',
'tf' and 'torch' conventions), decoding predictions into class names, and the input-shape
rules every application applies (`obtain_input_shape`, `correct_pad`)."""
import json
import warnings

import numpy as np

from jkeras import _config, activations

__all__ = ["preprocess_input", "decode_predictions", "obtain_input_shape", "correct_pad",
           "validate_activation", "preprocessor", "CLASS_INDEX_PATH", "CLASS_INDEX_HASH"]

CLASS_INDEX = None  # the class index file's contents, read once per session
CLASS_INDEX_PATH = ("https://storage.googleapis.com/download.tensorflow.org/"
                    "data/imagenet_class_index.json")
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"

# Per-channel statistics of the ImageNet training set, in RGB order (BGR for 'caffe').
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)


def _check_data_format(data_format):
    if data_format is None:
        return _config.image_data_format()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError("Expected data_format to be one of `channels_first` or "
                         f"`channels_last`. Received: data_format={data_format}")
    return data_format


def _channel_constant(values, ndim, data_format):
    """`values` (one per channel) shaped to broadcast against an image batch or image."""
    values = np.asarray(values, dtype=np.float32)
    if data_format == "channels_last":
        return values.reshape((1,) * (ndim - 1) + (3,))
    return values.reshape((3, 1, 1) if ndim == 3 else (1, 3) + (1,) * (ndim - 2))


def _reverse_channels(x, data_format):
    if data_format == "channels_first":
        return x[::-1, ...] if len(x.shape) == 3 else x[:, ::-1, ...]
    return x[..., ::-1]


def preprocess_input(x, data_format=None, mode="caffe"):
    """Preprocesses a batch of images (or one image) with values in [0, 255].

    Arguments:
        x: a NumPy array, a JAX array or a symbolic tensor, 3D or 4D, three channels.
            A floating-point NumPy array is overwritten in place, as Keras does
            (pass `np.copy(x)` to keep it).
        data_format: 'channels_last' or 'channels_first'; None: the global setting.
        mode: 'caffe' (RGB to BGR, then subtract the ImageNet channel means), 'tf' (scale
            to [-1, 1]) or 'torch' (scale to [0, 1], then normalize each channel with the
            ImageNet mean and standard deviation).

    Returns:
        The preprocessed images (float32 unless `x` was another float type).
    """
    if mode not in ("caffe", "tf", "torch"):
        raise ValueError("Expected mode to be one of `caffe`, `tf` or `torch`. "
                         f"Received: mode={mode}")
    data_format = _check_data_format(data_format)
    if isinstance(x, np.ndarray):
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(_config.floatx())
        return _preprocess_numpy(x, data_format, mode)
    return _preprocess_tensor(x, data_format, mode)


def _preprocess_numpy(x, data_format, mode):
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    if mode == "torch":
        x /= 255.0
        x -= _channel_constant(_TORCH_MEAN, x.ndim, data_format).astype(x.dtype)
        x /= _channel_constant(_TORCH_STD, x.ndim, data_format).astype(x.dtype)
        return x
    x = _reverse_channels(x, data_format)
    x -= _channel_constant(_CAFFE_MEAN_BGR, x.ndim, data_format).astype(x.dtype)
    return x


def _preprocess_tensor(x, data_format, mode):
    """The same arithmetic written with operators only, so that it works on JAX arrays
    and on symbolic tensors (where each operation becomes a layer of the graph)."""
    ndim = len(x.shape)
    if mode == "tf":
        return x / 127.5 - 1.0
    if mode == "torch":
        x = x / 255.0 - _channel_constant(_TORCH_MEAN, ndim, data_format)
        return x / _channel_constant(_TORCH_STD, ndim, data_format)
    x = _reverse_channels(x, data_format)
    return x - _channel_constant(_CAFFE_MEAN_BGR, ndim, data_format)


def preprocessor(mode):
    """The `preprocess_input(x, data_format=None)` of a family using `mode`."""
    def family_preprocess_input(x, data_format=None):
        return preprocess_input(x, data_format=data_format, mode=mode)

    family_preprocess_input.__name__ = family_preprocess_input.__qualname__ = \
        "preprocess_input"
    family_preprocess_input.__doc__ = (
        f"Preprocesses images with values in [0, 255] the way this family was trained "
        f"(mode {mode!r} of `imagenet_utils.preprocess_input`).")
    return family_preprocess_input


def _class_index():
    global CLASS_INDEX
    if CLASS_INDEX is None:
        from jkeras.utils import data_utils
        path = data_utils.get_file("imagenet_class_index.json", CLASS_INDEX_PATH,
                                   cache_subdir="models", file_hash=CLASS_INDEX_HASH)
        with open(path, encoding="utf-8") as f:
            CLASS_INDEX = json.load(f)
    return CLASS_INDEX


def decode_predictions(preds, top=5):
    """The `top` most likely ImageNet classes of each prediction.

    Arguments:
        preds: array of shape `(samples, 1000)`.
        top: how many classes to return per sample.

    Returns:
        One list per sample of `(class_id, class_name, score)` tuples, best first. The
        class index file is downloaded once (into the Keras cache) and kept in memory.
    """
    shape = np.shape(preds)
    if len(shape) != 2 or shape[1] != 1000:
        raise ValueError("`decode_predictions` expects a batch of predictions (i.e. a 2D "
                         f"array of shape (samples, 1000)). Received array with shape: "
                         f"{shape}")
    index = _class_index()
    results = []
    for row in np.asarray(preds):
        best = np.argsort(row, kind="stable")[::-1][:top]
        results.append([tuple(index[str(int(i))]) + (row[i],) for i in best])
    return results


def obtain_input_shape(input_shape, default_size, min_size, data_format, require_flatten,
                       weights=None):
    """The model's input shape (no batch axis) after checking `input_shape`.

    Arguments:
        input_shape: None (the default shape) or the user's shape to check.
        default_size: the height and width the model was trained at.
        min_size: the smallest height or width the model accepts.
        data_format: 'channels_last' or 'channels_first'.
        require_flatten: True when the classifier needs a fixed input (`include_top`).
        weights: None, 'imagenet' or a path; 'imagenet' requires three channels.
    """
    channels_first = data_format == "channels_first"
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if channels_first else input_shape[-1]
        if channels not in (1, 3):
            warnings.warn("This model usually expects 1 or 3 input channels. However, it "
                          f"was passed an input_shape with {channels} input channels.",
                          stacklevel=3)
        default_shape = ((channels, default_size, default_size) if channels_first
                         else (default_size, default_size, channels))
    else:
        default_shape = ((3, default_size, default_size) if channels_first
                         else (default_size, default_size, 3))
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and tuple(input_shape) != default_shape:
            raise ValueError("When setting `include_top=True` and loading `imagenet` "
                             f"weights, `input_shape` should be {default_shape}.  "
                             f"Received: input_shape={input_shape}")
        return default_shape
    if input_shape:
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError("`input_shape` must be a tuple of three integers. Received: "
                             f"input_shape={input_shape}")
        channels = input_shape[0] if channels_first else input_shape[-1]
        spatial = input_shape[1:] if channels_first else input_shape[:2]
        if channels != 3 and weights == "imagenet":
            raise ValueError(f"The input must have 3 channels; Received "
                             f"`input_shape={input_shape}`")
        if any(size is not None and size < min_size for size in spatial):
            raise ValueError(f"Input size must be at least {min_size}x{min_size}; "
                             f"Received: input_shape={input_shape}")
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (3, None, None) if channels_first else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError("If `include_top` is True, you should specify a static "
                         f"`input_shape`. Received: input_shape={input_shape}")
    return input_shape


def correct_pad(inputs, kernel_size):
    """The `((top, bottom), (left, right))` zero padding that makes a stride-2 'valid'
    convolution of `inputs` line up as TensorFlow's 'same' padding does."""
    first = 2 if _config.image_data_format() == "channels_first" else 1
    size = inputs.shape[first:first + 2]
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    half = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((half[0] - adjust[0], half[0]), (half[1] - adjust[1], half[1]))


def validate_activation(classifier_activation, weights):
    """Pretrained classifiers only allow `softmax` or no activation (logits)."""
    if weights is None:
        return
    allowed = (activations.get("softmax"), activations.get(None))
    if activations.get(classifier_activation) not in allowed:
        raise ValueError("Only `None` and `softmax` activations are allowed for the "
                         "`classifier_activation` argument when using pretrained "
                         "weights, with `include_top=True`; Received: "
                         f"classifier_activation={classifier_activation}")
