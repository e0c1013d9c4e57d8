"""What users pass to fit/evaluate/predict, matched to the model: lists of host arrays in
input and output order, sample weights per output (class weights folded in), and the
model built from the data when it was not built yet."""
import jax
import numpy as np

from jkeras.engine import data_adapter
from jkeras.trainer import compile as compile_module

__all__ = ["prepare_x", "prepare_y", "prepare_sample_weights", "num_samples"]


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
    arrays = data_adapter.match_structure(y, names, "target", allow_none=isinstance(y, dict))
    arrays = [_as_array(a, f"target {n}") for a, n in zip(arrays, names)]
    for i, (array, fn) in enumerate(zip(arrays, targets.loss_fns)):
        if array is None and fn is not None:
            raise ValueError(f"No target data provided for output {names[i]}.")
    return arrays


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


def num_samples(*array_lists):
    return data_adapter.check_lengths(list(array_lists))
