"""jkeras.wrappers.scikit_learn: KerasClassifier and KerasRegressor fit, predict and score
as scikit-learn estimators, and work inside GridSearchCV."""
import numpy as np
import pytest
import sklearn.base

import jkeras
from jkeras.wrappers.scikit_learn import KerasClassifier, KerasRegressor


def _data(rng, n=60):
    x = rng.normal(size=(n, 4)).astype("float32")
    labels = np.where(x[:, 0] + x[:, 1] > 0, "yes", "no")
    return x, labels


def build_classifier(hidden=8, loss="sparse_categorical_crossentropy", units=2,
                     activation="softmax"):
    model = jkeras.Sequential([jkeras.Input((4,)), jkeras.layers.Dense(hidden, activation="relu"),
                               jkeras.layers.Dense(units, activation=activation)])
    model.compile(jkeras.optimizers.Adam(0.05), loss, metrics=["accuracy"])
    return model


def build_regressor(hidden=8):
    model = jkeras.Sequential([jkeras.Input((4,)), jkeras.layers.Dense(hidden, activation="relu"),
                               jkeras.layers.Dense(1)])
    model.compile(jkeras.optimizers.Adam(0.05), "mse")
    return model


@pytest.mark.slow
def test_classifier_fit_predict_proba_score(rng):
    x, y = _data(rng)
    clf = KerasClassifier(build_classifier, hidden=8, epochs=30, batch_size=16, verbose=0)
    history = clf.fit(x, y)
    assert history.history["loss"][-1] < history.history["loss"][0]
    np.testing.assert_array_equal(clf.classes_, ["no", "yes"])
    proba = clf.predict_proba(x)
    np.testing.assert_allclose(proba, np.asarray(clf.model.predict(x, verbose=0)), rtol=1e-6)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    predicted = clf.predict(x)
    np.testing.assert_array_equal(predicted, clf.classes_[proba.argmax(1)])
    accuracy = np.mean(predicted == y)
    assert accuracy > 0.8
    assert clf.score(x, y) == pytest.approx(accuracy, abs=1e-6)


@pytest.mark.slow
def test_classifier_with_one_sigmoid_unit_and_categorical_targets(rng):
    x, y = _data(rng)
    binary = KerasClassifier(build_classifier, loss="binary_crossentropy", units=1,
                             activation="sigmoid", epochs=5, verbose=0)
    binary.fit(x, y)
    proba = binary.predict_proba(x)
    assert proba.shape == (60, 2)
    np.testing.assert_array_equal(binary.predict(x), binary.classes_[(proba[:, 1] > 0.5)
                                                                     .astype(int)])
    one_hot = KerasClassifier(build_classifier, loss="categorical_crossentropy", epochs=2,
                              verbose=0)
    one_hot.fit(x, y)   # 1-D labels become one-hot for categorical_crossentropy
    assert 0.0 <= one_hot.score(x, y) <= 1.0


@pytest.mark.slow
def test_regressor_predict_and_score(rng):
    x = rng.normal(size=(40, 4)).astype("float32")
    y = x @ np.array([1.0, -2.0, 0.5, 0.0], "float32")
    reg = KerasRegressor(build_fn=build_regressor, epochs=5, batch_size=8, verbose=0)
    reg.fit(x, y)
    predicted = reg.predict(x)
    assert predicted.shape == (40,)
    mse = float(np.mean((np.asarray(reg.model.predict(x, verbose=0))[:, 0] - y) ** 2))
    assert reg.score(x, y) == pytest.approx(-mse, rel=1e-4)


def test_params_round_trip_and_typos_are_refused():
    clf = KerasClassifier(build_classifier, hidden=4, epochs=3)
    assert clf.get_params() == {"build_fn": build_classifier, "hidden": 4, "epochs": 3}
    assert clf.set_params(hidden=6) is clf and clf.sk_params["hidden"] == 6
    with pytest.raises(ValueError, match="hiden is not a legal parameter"):
        clf.set_params(hiden=6)
    with pytest.raises(ValueError, match="epoch is not a legal parameter"):
        KerasRegressor(build_regressor, epoch=3)
    clone = sklearn.base.clone(clf)
    assert clone.get_params() == clf.get_params() and clone is not clf


@pytest.mark.slow
def test_build_fn_may_be_a_callable_object_or_the_subclass_call(rng):
    x, y = _data(rng, 20)

    class Builder:
        def __call__(self, hidden=3):
            return build_classifier(hidden)

    class Subclassed(KerasClassifier):
        def __call__(self, hidden=3):
            return build_classifier(hidden)

    for clf in (KerasClassifier(Builder(), hidden=5, epochs=1, verbose=0),
                Subclassed(hidden=5, epochs=1, verbose=0)):
        clf.fit(x, y)
        assert clf.model.layers[0].units == 5


@pytest.mark.slow
def test_grid_search_over_model_and_fit_parameters(rng):
    from sklearn.model_selection import GridSearchCV
    x, y = _data(rng)
    search = GridSearchCV(KerasClassifier(build_classifier, verbose=0, batch_size=30),
                          {"hidden": [2, 8], "epochs": [1, 20]}, cv=2)
    search.fit(x, y)
    assert set(search.best_params_) == {"hidden", "epochs"}
    assert search.best_params_["epochs"] == 20
    assert len(search.cv_results_["mean_test_score"]) == 4
