"""scikit-learn estimators around a jkeras model: `KerasClassifier` and `KerasRegressor`
(Keras 2's `keras.wrappers.scikit_learn`).

`build_fn` builds and compiles a fresh model on every `fit`; `sk_params` hold both its
arguments and those of `fit`, `predict` and `evaluate` (`epochs`, `batch_size`, ...), each
call taking the ones its target accepts. So `GridSearchCV` can tune model and training
arguments alike. When scikit-learn is installed the estimators derive from its
`BaseEstimator` and classifier/regressor mixins (for tags and cross-validation choices);
it is not needed otherwise.
"""
import types
import warnings

import numpy as np

from jkeras import losses
from jkeras.engine.sequential import Sequential
from jkeras.utils.generic_utils import has_arg, to_list
from jkeras.utils.np_utils import to_categorical

try:  # optional: only for scikit-learn's tags and estimator type
    from sklearn.base import BaseEstimator as _Estimator
    from sklearn.base import ClassifierMixin as _ClassifierMixin
    from sklearn.base import RegressorMixin as _RegressorMixin
except ImportError:  # pragma: no cover - scikit-learn absent
    _Estimator = _ClassifierMixin = _RegressorMixin = object

__all__ = ["BaseWrapper", "KerasClassifier", "KerasRegressor"]


def _is_categorical_crossentropy(loss):
    if isinstance(loss, losses.CategoricalCrossentropy):
        return True
    try:
        return losses.get(loss) is losses.categorical_crossentropy
    except (ValueError, TypeError):
        return False


class BaseWrapper(_Estimator):
    """Holds `build_fn` and `sk_params`; subclasses add the scikit-learn methods.

    `build_fn` is a function, an object with `__call__`, or None for a subclass whose own
    `__call__` builds the model. It must return a compiled model.
    """

    def __init__(self, build_fn=None, **sk_params):
        self.build_fn = build_fn
        self.sk_params = sk_params
        self.check_params(sk_params)

    def _build_fn(self):
        if self.build_fn is None:
            return self.__call__
        if not isinstance(self.build_fn, (types.FunctionType, types.MethodType)) and \
                callable(self.build_fn) and not isinstance(self.build_fn, type):
            return self.build_fn.__call__
        return self.build_fn

    def _legal_targets(self):
        return [Sequential.fit, Sequential.predict, Sequential.evaluate, self._build_fn()]

    def check_params(self, params):
        """Raises ValueError naming a parameter that neither `build_fn` nor `fit`,
        `predict` or `evaluate` takes (a typo would otherwise be ignored)."""
        if self.build_fn is not None and not callable(self.build_fn):
            raise ValueError(f"Expected `build_fn` to be callable or None. Received: "
                             f"build_fn={self.build_fn!r}")
        targets = self._legal_targets()
        for name in params:
            if name != "nb_epoch" and not any(has_arg(fn, name) for fn in targets):
                raise ValueError(f"{name} is not a legal parameter: `build_fn`, `fit`, "
                                 "`predict` and `evaluate` take no argument of that name.")

    def get_params(self, deep=True, **params):
        """`build_fn` and the `sk_params` (scikit-learn's estimator API)."""
        return {**self.sk_params, "build_fn": self.build_fn}

    def set_params(self, **params):
        """Updates `build_fn` and `sk_params`; returns self."""
        if "build_fn" in params:
            self.build_fn = params.pop("build_fn")
        self.check_params(params)
        self.sk_params.update(params)
        return self

    def filter_sk_params(self, fn, override=None):
        """The `sk_params` (then `override`) that `fn` accepts by name."""
        params = dict(self.sk_params)
        if "nb_epoch" in params:
            warnings.warn("`nb_epoch` is Keras 1's name of `epochs`.", DeprecationWarning,
                          stacklevel=3)
            params.setdefault("epochs", params.pop("nb_epoch"))
        chosen = {name: value for name, value in params.items() if has_arg(fn, name)}
        chosen.update(override or {})
        return chosen

    def fit(self, x, y, **kwargs):
        """Builds a new model with `build_fn` and fits it; returns the History."""
        build = self._build_fn()
        self.model = build(**self.filter_sk_params(build))
        y = np.asarray(y)
        if _is_categorical_crossentropy(getattr(self.model, "loss", None)) and y.ndim != 2:
            y = to_categorical(y)
        fit_args = self.filter_sk_params(Sequential.fit)
        fit_args.update(kwargs)
        return self.model.fit(x, y, **fit_args)

    def _predict_raw(self, x, kwargs):
        return np.asarray(self.model.predict(x, **self.filter_sk_params(Sequential.predict,
                                                                         kwargs)))


class KerasClassifier(_ClassifierMixin, BaseWrapper):
    """scikit-learn classifier: labels of any sortable kind, one-hot targets, or one
    sigmoid unit for two classes."""

    def fit(self, x, y, sample_weight=None, **kwargs):
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:
            self.classes_ = np.arange(y.shape[1])
        elif y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1):
            self.classes_ = np.unique(y)
            y = np.searchsorted(self.classes_, y)
        else:
            raise ValueError(f"Invalid shape for y: {y.shape}. Expected (samples,), "
                             "(samples, 1) or one-hot (samples, classes).")
        self.n_classes_ = len(self.classes_)
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        return super().fit(x, y, **kwargs)

    def predict(self, x, **kwargs):
        """Class labels, (samples,): the argmax of the outputs, or output > 0.5 for one
        unit (Keras 2 kept a trailing axis there; scikit-learn wants none)."""
        proba = self._predict_raw(x, kwargs)
        if proba.shape[-1] > 1:
            classes = proba.argmax(axis=-1)
        else:
            classes = (proba[..., 0] > 0.5).astype("int32")
        return self.classes_[classes]

    def predict_proba(self, x, **kwargs):
        """Class probabilities, (samples, classes); one sigmoid unit gives two columns."""
        probs = self._predict_raw(x, kwargs)
        if probs.shape[1] == 1:
            probs = np.hstack([1 - probs, probs])
        return probs

    def score(self, x, y, **kwargs):
        """The model's accuracy metric on (x, y); the model must be compiled with
        `metrics=['accuracy']`."""
        y = np.searchsorted(self.classes_, np.asarray(y))
        if _is_categorical_crossentropy(self.model.loss) and y.ndim != 2:
            y = to_categorical(y, num_classes=self.n_classes_)
        outputs = to_list(self.model.evaluate(
            x, y, **self.filter_sk_params(Sequential.evaluate, kwargs)))
        for name, output in zip(self.model.metrics_names, outputs):
            if name in ("accuracy", "acc"):
                return float(output)
        raise ValueError("The model is not configured to compute accuracy. You should "
                         "pass `metrics=['accuracy']` to the `model.compile()` method.")


class KerasRegressor(_RegressorMixin, BaseWrapper):
    """scikit-learn regressor: `score` is minus the model's loss (greater is better)."""

    def predict(self, x, **kwargs):
        """The model's outputs with size-1 axes squeezed."""
        return np.squeeze(self._predict_raw(x, kwargs))

    def score(self, x, y, **kwargs):
        loss = self.model.evaluate(x, y, **self.filter_sk_params(Sequential.evaluate,
                                                                 kwargs))
        return -float(loss[0] if isinstance(loss, (list, tuple)) else loss)
