"""Metrics: pure state machines (init_state / update / compute over a pytree of arrays)
with Keras's stateful methods on top.

One module per family, as Keras keeps them: the `Metric` base (`metric`), reductions
(`Sum`, `Mean`, `MeanMetricWrapper`), the metric functions, accuracy, regression,
probabilistic (losses as metrics), confusion counts (with `AUC`), IoU, and `lookup`
(`get`, `serialize`, `deserialize`, Keras 2's choice of accuracy for an output). The loss
functions are re-exported here, as `keras.metrics` does.
"""
from jkeras.losses import (
    KLD, MAE, MAPE, MSE, MSLE, binary_crossentropy, binary_focal_crossentropy,
    categorical_crossentropy, categorical_hinge, hinge, kl_divergence, kld,
    kullback_leibler_divergence, log_cosh, logcosh, mae, mape, mean_absolute_error,
    mean_absolute_percentage_error, mean_squared_error, mean_squared_logarithmic_error, mse,
    msle, poisson, sparse_categorical_crossentropy, squared_hinge)
from jkeras.metrics.metric import Metric, MetricVariable
from jkeras.metrics.reduction_metrics import Mean, MeanMetricWrapper, Sum
from jkeras.metrics.metric_functions import (
    ACC, BCE, acc, accuracy, bce, binary_accuracy, categorical_accuracy, cosine_similarity,
    sparse_categorical_accuracy, sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy)
from jkeras.metrics.accuracy_metrics import (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy)
from jkeras.metrics.regression_metrics import (
    CosineSimilarity, LogCoshError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredError, MeanSquaredLogarithmicError, RootMeanSquaredError)
from jkeras.metrics.probabilistic_metrics import (
    BinaryCrossentropy, CategoricalCrossentropy, CategoricalHinge, Hinge, KLDivergence,
    Poisson, SparseCategoricalCrossentropy, SquaredHinge)
from jkeras.metrics.confusion_metrics import (
    AUC, NEG_INF, FalseNegatives, FalsePositives, Precision, PrecisionAtRecall, Recall,
    RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity, TrueNegatives,
    TruePositives, confusion_counts)
from jkeras.metrics.iou_metrics import MeanIoU
from jkeras.metrics.lookup import (ALL_OBJECTS, accuracy_for, crossentropy_for, deserialize,
                                   get, serialize)

__all__ = [
    # the base class and reductions
    "Metric", "MetricVariable", "Sum", "Mean", "MeanMetricWrapper",
    # accuracy
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "acc", "ACC",
    "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
    # regression
    "cosine_similarity", "MeanSquaredError", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "LogCoshError",
    "CosineSimilarity", "RootMeanSquaredError",
    # probabilistic and hinge
    "Hinge", "SquaredHinge", "CategoricalHinge", "BinaryCrossentropy",
    "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "KLDivergence", "Poisson",
    # confusion counts
    "confusion_counts", "TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives",
    "Precision", "Recall", "SensitivityAtSpecificity", "SpecificityAtSensitivity",
    "PrecisionAtRecall", "RecallAtPrecision", "AUC", "MeanIoU", "NEG_INF",
    # lookup
    "ALL_OBJECTS", "get", "serialize", "deserialize", "accuracy_for", "crossentropy_for",
    # the loss functions, as keras.metrics has them
    "KLD", "MAE", "MAPE", "MSE", "MSLE", "bce", "BCE", "binary_crossentropy",
    "binary_focal_crossentropy", "categorical_crossentropy", "categorical_hinge", "hinge",
    "kl_divergence", "kld", "kullback_leibler_divergence", "log_cosh", "logcosh", "mae",
    "mape", "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_error",
    "mean_squared_logarithmic_error", "mse", "msle", "poisson",
    "sparse_categorical_crossentropy", "squared_hinge",
]
