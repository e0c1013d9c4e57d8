"""What users pass to fit/evaluate/predict, matched to the model: lists of host arrays in
input and output order, sample weights per output (class weights folded in), and the
model built from the data when it was not built yet."""
import jax
import numpy as np

from jkeras import losses as losses_module
from jkeras.engine import data_adapter
from jkeras.trainer import compile as compile_module

__all__ = ["prepare_x", "prepare_y", "prepare_sample_weights", "prepare_data",
           "num_samples", "check_run_arguments"]


def _as_array(value, what):
    """Like `data_adapter._as_array` but keeps float64 (and memmaps) as they are: the
    feed converts batch by batch, so a large memmap is never read whole."""
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        return value
    return data_adapter._as_array(value, what)


def build_from_data(model, x):
    """Builds a deferred Sequential or a subclassed model from the first sample of `x`."""
    first = x
    if isinstance(x, dict):
        first = next(iter(x.values()))
    elif isinstance(x, (list, tuple)) and x and hasattr(x[0], "shape"):
        first = x[0]
    first = np.asarray(first[:1]) if hasattr(first, "shape") else np.asarray(first)
    if hasattr(model, "_pending"):
        model.build((None,) + np.asarray(first).shape[1:])
    elif not model.built:
        sample = jax.tree_util.tree_map(lambda a: np.asarray(a[:1], np.float32)
                                        if np.asarray(a[:1]).dtype == np.float64
                                        else np.asarray(a[:1]), x)
        model._call_subclassed_eager(sample)


def prepare_x(model, x):
    """`x` as a list of arrays in the model's input order (builds a deferred model)."""
    if not model.built or not model._input_tensors() and model._is_graph_network is False:
        build_from_data(model, x)
    inputs = model._input_tensors()
    if inputs:
        names = [t._keras_history[0].name for t in inputs]
        arrays = data_adapter.match_structure(x, names, "input")
        arrays = [_as_array(a, f"input {n}") for a, n in zip(arrays, names)]
        data_adapter.check_array_shapes(arrays, inputs, names, "input")
        return arrays
    arrays = x if isinstance(x, (list, tuple)) else [x]
    return [_as_array(a, "input") for a in arrays]


def prepare_y(model, targets, y):
    names = targets.output_names
    # No targets are needed where no output has a loss (a model trained on added losses).
    no_loss = all(fn is None for fn in targets.loss_fns)
    arrays = data_adapter.match_structure(y, names, "target",
                                          allow_none=isinstance(y, dict) or no_loss)
    arrays = [_as_array(a, f"target {n}") for a, n in zip(arrays, names)]
    shapes = model._output_shapes_for_compile()
    for i, (array, fn) in enumerate(zip(arrays, targets.loss_fns)):
        if array is None and fn is not None:
            raise ValueError(f"No target data provided for output {names[i]}.")
        if array is not None:
            _check_numeric(array, names[i])
        if array is not None and fn is not None and i < len(shapes):
            _check_target_shape(array.shape, shapes[i], fn, names[i])
    return arrays


def _check_numeric(array, name):
    kind = array.dtype.kind
    if kind == "O" and array.size:
        kind = "U" if isinstance(array.flat[0], (str, bytes)) else "O"
    if kind in "USO":
        sample = array.flat[0] if array.size else None
        sample = sample.item() if hasattr(sample, "item") else sample
        raise TypeError(
            f"Invalid `y` for output {name!r}: target values must be numbers (integers or "
            f"floats). Received an array of dtype {array.dtype} (e.g. {sample!r}). Encode "
            "string labels as integers first (e.g. with `np.unique(y, return_inverse=True)` "
            "or a StringLookup layer), then use `sparse_categorical_crossentropy` or "
            "one-hot them with `to_categorical`.")


# How each built-in loss pairs a target with the output: "same" needs the output's shape,
# "sparse" class indices (the output's shape without its class axis, maybe with a trailing
# 1), "elementwise" shapes that broadcast once a trailing 1 is aligned.
_SAME = ("categorical_crossentropy", "categorical_hinge", "kl_divergence",
         "cosine_similarity")
_SPARSE = ("sparse_categorical_crossentropy",)
_ELEMENTWISE = ("mean_squared_error", "mean_absolute_error",
                "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "hinge",
                "squared_hinge", "log_cosh", "huber", "binary_crossentropy",
                "binary_focal_crossentropy", "poisson")


def _loss_kind(loss):
    fn = getattr(loss, "fn", None)
    if fn is None or getattr(fn, "__module__", None) != losses_module.__name__ or \
            getattr(loss, "_fn_kwargs", {}).get("axis", -1) != -1:
        return None  # A user's function may reshape; trust it.
    for kind, names in (("same", _SAME), ("sparse", _SPARSE), ("elementwise", _ELEMENTWISE)):
        if fn.__name__ in names:
            return kind
    return None


def _check_target_shape(target_shape, output_shape, loss, name):
    """Raises a ValueError naming the output, its loss and both shapes when a built-in loss
    cannot pair a target of `target_shape` with the output (known `output_shape` only)."""
    kind = _loss_kind(loss)
    if kind is None or output_shape is None or len(target_shape) == 0:
        return
    out, got = tuple(output_shape)[1:], tuple(target_shape)[1:]
    fits = lambda a, b, loose=False: len(a) == len(b) and all(
        x is None or y is None or x == y or (loose and 1 in (x, y)) for x, y in zip(a, b))
    if kind == "same":
        ok = fits(got, out)
        expected = f"the output's shape {tuple(output_shape)}"
    elif kind == "sparse":
        ok = len(out) >= 1 and (fits(got, out[:-1]) or fits(got, out[:-1] + (1,)))
        expected = (f"integer class indices of shape {(None,) + out[:-1]} or "
                    f"{(None,) + out[:-1] + (1,)} for the output's shape "
                    f"{tuple(output_shape)}")
    else:
        if len(got) == len(out) + 1 and got[-1:] == (1,):
            got = got[:-1]
        elif len(out) == len(got) + 1 and out[-1:] == (1,):
            out = out[:-1]
        ok = fits(got, out, loose=True)
        expected = f"the output's shape {tuple(output_shape)}"
    if ok:
        return
    loss_name = getattr(loss, "name", None) or type(loss).__name__
    hint = ""
    if kind == "same" and tuple(target_shape)[1:] in ((), (1,)):
        hint = (" If your targets are integer class indices, use the loss "
                "`sparse_categorical_crossentropy` or one-hot them with `to_categorical`.")
    elif kind == "sparse" and len(got) == len(out) and got[-1:] == out[-1:]:
        hint = (" If your targets are one-hot, use the loss `categorical_crossentropy` or "
                "pass their argmax.")
    raise ValueError(
        f"Invalid `y` for output {name!r} with loss `{loss_name}`: expected targets "
        f"matching {expected}. Received: a target array of shape "
        f"{tuple(target_shape)}.{hint}")


def prepare_sample_weights(targets, sample_weight, class_weight, y_arrays, count):
    """Per-output sample weights (float32 host arrays or None), class weights applied."""
    names = targets.output_names
    if sample_weight is None:
        sws = [None] * len(names)
    else:
        sws = data_adapter.match_structure(sample_weight, names, "sample_weight",
                                           allow_none=True)
        sws = [None if s is None else np.asarray(s, np.float32) for s in sws]
    for i, sw in enumerate(sws):
        if sw is not None and sw.shape[0] != count:
            raise ValueError(
                f"Found a sample_weight array with {sw.shape[0]} samples for "
                f"{count} input samples.")
        if sw is not None and sw.ndim == 2 and not targets.temporal[i] and sw.shape[1] != 1:
            raise ValueError(
                f"Found a sample_weight array with shape {sw.shape}. In order to use "
                "timestep-wise sample weighting, you should pass a 2D sample_weight "
                "array and specify `sample_weight_mode=\"temporal\"` in compile().")
    table = compile_module.class_weight_vector(class_weight)
    if table is not None:
        if len(names) > 1:
            raise ValueError(
                "`class_weight` is only supported for models with a single output.")
        cw = np.asarray(compile_module.class_weights_for(table, np.asarray(y_arrays[0])))
        sws[0] = cw if sws[0] is None else sws[0] * cw.reshape(
            cw.shape + (1,) * (sws[0].ndim - cw.ndim))
    return sws


def prepare_data(model, targets, x, y, sample_weight=None, class_weight=None):
    """`((xs, ys, sample_weights), sample count)` for arrays given to fit, evaluate or the
    batch methods, matched to the model's inputs and outputs and checked."""
    xs = prepare_x(model, x)
    ys = prepare_y(model, targets, y)
    count = num_samples(xs, ys)
    return (xs, ys, prepare_sample_weights(targets, sample_weight, class_weight, ys,
                                           count)), count


def num_samples(*array_lists):
    return data_adapter.check_lengths(list(array_lists))


def _positive_int_or_none(value, name):
    if value is not None and (isinstance(value, (bool, np.bool_)) or
                              not isinstance(value, (int, np.integer)) or value < 1):
        raise ValueError(f"`{name}` must be a positive integer or None. Received: "
                         f"{name}={value!r}")


def check_run_arguments(verbose=1, callbacks=None, steps=None, shuffle=True,
                        validation_steps=None, validation_freq=1):
    """The loop arguments of fit/evaluate/predict not checked elsewhere: raises, naming
    the argument, before any data is read."""
    if not (isinstance(verbose, (bool, np.bool_)) or verbose == "auto" or (
            isinstance(verbose, (int, np.integer)) and 0 <= verbose <= 2)):
        raise ValueError(f"`verbose` must be 0, 1 or 2. Received: verbose={verbose!r}")
    if callbacks is not None:
        if not isinstance(callbacks, (list, tuple)):
            raise TypeError("`callbacks` must be a list of Callback instances. Received: "
                            f"callbacks={callbacks!r} of type {type(callbacks).__name__}")
        for index, callback in enumerate(callbacks):
            if not callable(getattr(callback, "set_model", None)):
                raise TypeError(
                    "`callbacks` must be a list of Callback instances. Received: entry "
                    f"{index} = {callback!r} of type {type(callback).__name__}")
    _positive_int_or_none(steps, "steps")
    _positive_int_or_none(validation_steps, "validation_steps")
    if not (isinstance(shuffle, (bool, np.bool_)) or shuffle == "batch"):
        raise ValueError("`shuffle` must be True, False or 'batch'. Received: "
                         f"shuffle={shuffle!r}")
    freq_ok = (isinstance(validation_freq, (int, np.integer)) and
               not isinstance(validation_freq, bool) and validation_freq >= 1) or (
        isinstance(validation_freq, (list, tuple, set, range)) and all(
            isinstance(e, (int, np.integer)) and e >= 1 for e in validation_freq))
    if not freq_ok:
        raise ValueError(
            "`validation_freq` must be a positive integer or a list of epoch numbers "
            f"(from 1). Received: validation_freq={validation_freq!r}")
