"""Metrics by name or config (`get`, `serialize`, `deserialize`, the table of built-in
names), and the metric Keras 2 means by 'accuracy' or 'crossentropy' for an output."""
from jkeras import losses as _losses
from jkeras.losses import (binary_crossentropy, categorical_crossentropy,
                           sparse_categorical_crossentropy)
from jkeras.metrics.accuracy_metrics import (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy)
from jkeras.metrics.confusion_metrics import (
    AUC, FalseNegatives, FalsePositives, Precision, PrecisionAtRecall, Recall,
    RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity, TrueNegatives,
    TruePositives)
from jkeras.metrics.iou_metrics import MeanIoU
from jkeras.metrics.metric import Metric
from jkeras.metrics.metric_functions import (FUNCTIONS, binary_accuracy, categorical_accuracy,
                                             sparse_categorical_accuracy)
from jkeras.metrics.probabilistic_metrics import (
    BinaryCrossentropy, CategoricalCrossentropy, CategoricalHinge, Hinge, KLDivergence,
    Poisson, SparseCategoricalCrossentropy, SquaredHinge)
from jkeras.metrics.reduction_metrics import Mean, MeanMetricWrapper, Sum
from jkeras.metrics.regression_metrics import (
    CosineSimilarity, LogCoshError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredError, MeanSquaredLogarithmicError, RootMeanSquaredError)
from jkeras.serialization.serialize import deserialize_keras_object, serialize_keras_object

__all__ = ["ALL_OBJECTS", "get", "serialize", "deserialize", "accuracy_for",
           "crossentropy_for"]


_CLASSES = {
    cls.__name__: cls for cls in (
        Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
        SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
        MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
        MeanSquaredLogarithmicError, RootMeanSquaredError, LogCoshError, CosineSimilarity,
        Hinge, SquaredHinge, CategoricalHinge, BinaryCrossentropy, CategoricalCrossentropy,
        SparseCategoricalCrossentropy, KLDivergence, Poisson, TruePositives, FalsePositives,
        TrueNegatives, FalseNegatives, Precision, Recall, SensitivityAtSpecificity,
        SpecificityAtSensitivity, PrecisionAtRecall, RecallAtPrecision, AUC, MeanIoU)
}

ALL_OBJECTS = {**FUNCTIONS, **_CLASSES}


def serialize(metric):
    """A function's name, or `{'class_name', 'config'}` for a Metric object."""
    return serialize_keras_object(metric)


def deserialize(config, custom_objects=None):
    """A metric function or Metric object from a name or config dict (a class name gives an
    instance with default arguments)."""
    obj = deserialize_keras_object(config, module_objects=ALL_OBJECTS,
                                   custom_objects=custom_objects,
                                   printable_module_name="metric function")
    if isinstance(obj, type):
        obj = obj()
    return obj


def get(identifier):
    """A Metric object for a name, config dict, Metric, Loss, Metric class or function.

    Functions (named or given) are wrapped in a MeanMetricWrapper named after the string or
    the function (`'mse'` logs as 'mse', `def mean_pred` as 'mean_pred'). 'accuracy' and
    'acc' resolve to exact-match accuracy here; a trainer picks the Keras 2 variant first
    with `accuracy_for`.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, (str, dict)):
        obj = deserialize(identifier)
        if isinstance(obj, Metric):
            return obj
        if isinstance(obj, _losses.Loss):
            return MeanMetricWrapper(obj)
        name = identifier if isinstance(identifier, str) else getattr(obj, "__name__", None)
        return MeanMetricWrapper(obj, name=name)
    if isinstance(identifier, _losses.Loss):
        return MeanMetricWrapper(identifier)
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", None))
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def _crossentropy_kind(loss):
    """'binary', 'sparse', 'categorical' or None: the crossentropy a loss identifier names."""
    if isinstance(loss, (str, dict)):
        try:
            loss = _losses.get(loss)
        except ValueError:
            return None
    if isinstance(loss, _losses.LossFunctionWrapper):
        loss = loss.fn
    kinds = {_losses.binary_crossentropy: "binary",
             _losses.sparse_categorical_crossentropy: "sparse",
             _losses.categorical_crossentropy: "categorical"}
    try:
        return kinds.get(loss)
    except TypeError:  # unhashable user callables
        return None


def _choose(loss, output_shape, target_shape, binary, sparse, categorical):
    output_shape = tuple(output_shape) if output_shape is not None else ()
    last = output_shape[-1] if output_shape else None
    kind = _crossentropy_kind(loss)
    if last == 1 or kind == "binary":
        return binary
    if kind == "sparse":
        return sparse
    if kind is None and target_shape is not None and output_shape:
        target_shape = tuple(target_shape)
        if len(target_shape) < len(output_shape) or (
                target_shape and target_shape[-1] == 1 and last not in (None, 1)):
            return sparse
    return categorical


def accuracy_for(loss, output_shape, target_shape=None):
    """The accuracy function Keras 2 means by 'accuracy'/'acc' for an output.

    binary_accuracy when the output's last dimension is 1 or the loss is binary
    crossentropy; sparse_categorical_accuracy when the loss is sparse categorical
    crossentropy (or, for other losses, when the targets have one dimension fewer or a
    trailing 1); categorical_accuracy otherwise. Wrap it as
    `MeanMetricWrapper(fn, name='accuracy')` (or 'acc', the name the user wrote).
    """
    return _choose(loss, output_shape, target_shape, binary_accuracy,
                   sparse_categorical_accuracy, categorical_accuracy)


def crossentropy_for(loss, output_shape, target_shape=None):
    """The crossentropy Keras 2 means by 'crossentropy'/'ce', chosen like `accuracy_for`."""
    return _choose(loss, output_shape, target_shape, binary_crossentropy,
                   sparse_categorical_crossentropy, categorical_crossentropy)
