"""Keras 1's atrous (dilated) convolutions, `AtrousConvolution1D` and `AtrousConvolution2D`.

Keras 2 kept them as deprecated constructors that return a `Conv1D`/`Conv2D` whose
`dilation_rate` is the `atrous_rate`; so do these. They also take the Keras 1 argument
names such layers were written with (`nb_filter`, `filter_length`, `nb_row`/`nb_col`,
`border_mode`, `subsample`, `init`, `W_regularizer`, ...).
"""
import warnings

__all__ = ["AtrousConvolution1D", "AtrousConvolution2D", "AtrousConv1D", "AtrousConv2D"]

# Keras 1 argument name -> Keras 2 name, as Keras 2's legacy conversions had them.
_KERAS1_NAMES = {
    "nb_filter": "filters", "filter_length": "kernel_size", "subsample_length": "strides",
    "subsample": "strides", "border_mode": "padding", "init": "kernel_initializer",
    "W_regularizer": "kernel_regularizer", "b_regularizer": "bias_regularizer",
    "W_constraint": "kernel_constraint", "b_constraint": "bias_constraint",
    "bias": "use_bias", "dim_ordering": "data_format",
}
_DIM_ORDERING = {"tf": "channels_last", "th": "channels_first", "default": None}


def _keras2_kwargs(name, kwargs):
    converted = {}
    for key, value in kwargs.items():
        new = _KERAS1_NAMES.get(key, key)
        if new != key and new in kwargs:
            raise TypeError(f"{name} got both `{key}` and `{new}`; pass `{new}` only.")
        if key == "dim_ordering":
            if value not in _DIM_ORDERING:
                raise ValueError(f"{name}: expected `dim_ordering` in 'tf', 'th' or "
                                 f"'default'. Received: dim_ordering={value!r}")
            value = _DIM_ORDERING[value]
        converted[new] = value
    return converted


def _deprecated(name, replacement):
    warnings.warn(f"The `{name}` layer has been deprecated. Use instead the "
                  f"`{replacement}` layer with the `dilation_rate` argument.",
                  DeprecationWarning, stacklevel=3)


def AtrousConvolution1D(*args, atrous_rate=1, **kwargs):
    """A `Conv1D` with `dilation_rate=atrous_rate` (Keras 1 names accepted)."""
    from jkeras.layers.convolutional import Conv1D
    _deprecated("AtrousConvolution1D", "Conv1D")
    kwargs = _keras2_kwargs("AtrousConvolution1D", kwargs)
    return Conv1D(*args, dilation_rate=atrous_rate, **kwargs)


def AtrousConvolution2D(*args, atrous_rate=(1, 1), **kwargs):
    """A `Conv2D` with `dilation_rate=atrous_rate`; Keras 1's `(nb_filter, nb_row, nb_col)`
    positional form and argument names are accepted."""
    from jkeras.layers.convolutional import Conv2D
    _deprecated("AtrousConvolution2D", "Conv2D")
    kwargs = _keras2_kwargs("AtrousConvolution2D", kwargs)
    if "nb_row" in kwargs or "nb_col" in kwargs:
        if len(args) > 1 or "kernel_size" in kwargs:
            raise TypeError("AtrousConvolution2D got a kernel size twice: pass either "
                            "`kernel_size` or `nb_row` and `nb_col`.")
        kwargs["kernel_size"] = (kwargs.pop("nb_row"), kwargs.pop("nb_col"))
    elif len(args) == 3 and all(isinstance(a, int) for a in args[1:]):
        args = (args[0], tuple(args[1:]))  # Keras 1: (nb_filter, nb_row, nb_col)
    return Conv2D(*args, dilation_rate=atrous_rate, **kwargs)


AtrousConv1D = AtrousConvolution1D
AtrousConv2D = AtrousConvolution2D
