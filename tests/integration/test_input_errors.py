"""Bad input to the public entry points (issue 14): a clear error naming the argument, what
was expected and what was received, raised before any work starts and changing nothing."""
import numpy as np
import pytest

import jkeras as keras
from jkeras import layers


def _classifier(loss="categorical_crossentropy", classes=3):
    model = keras.Sequential([layers.Dense(classes, activation="softmax", input_shape=(4,))])
    model.compile("sgd", loss)
    return model


X = np.random.RandomState(0).rand(8, 4).astype("float32")


def _weights_unchanged(model, before):
    after = model.get_weights()
    assert len(after) == len(before)
    for a, b in zip(after, before):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- targets vs the loss
@pytest.mark.parametrize("method", ["fit", "evaluate", "train_on_batch", "test_on_batch"])
def test_categorical_targets_of_the_wrong_width(method):
    model = _classifier()
    before = model.get_weights()
    kwargs = {"verbose": 0} if method in ("fit", "evaluate") else {}
    with pytest.raises(ValueError) as info:
        getattr(model, method)(X, np.zeros((8, 5), "float32"), **kwargs)
    message = str(info.value)
    assert "`y`" in message and "categorical_crossentropy" in message
    assert model.output_names[0] in message
    assert "(None, 3)" in message and "(8, 5)" in message
    _weights_unchanged(model, before)


def test_categorical_loss_with_integer_labels_suggests_the_sparse_loss():
    model = _classifier()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy.*to_categorical") \
            as info:
        model.fit(X, np.array([0, 1, 2, 0, 1, 2, 0, 1]), verbose=0)
    assert "(8,)" in str(info.value)
    _weights_unchanged(model, before)


def test_sparse_loss_with_one_hot_targets_says_so():
    model = _classifier("sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy.*\(8, 3\).*"
                                         r"categorical_crossentropy"):
        model.fit(X, np.eye(3)[np.arange(8) % 3], verbose=0)


@pytest.mark.parametrize("shape", [(8,), (8, 1)])
def test_sparse_loss_accepts_flat_or_column_labels(shape):
    model = _classifier("sparse_categorical_crossentropy")
    y = (np.arange(8) % 3).reshape(shape)
    model.fit(X, y, epochs=1, verbose=0)


@pytest.mark.parametrize("y_shape", [(8,), (8, 1)])
def test_mse_accepts_flat_or_column_targets(y_shape):
    model = keras.Sequential([layers.Dense(1, input_shape=(4,))])
    model.compile("sgd", "mse")
    model.fit(X, np.zeros(y_shape, "float32"), verbose=0)


def test_mse_with_targets_of_another_width():
    model = keras.Sequential([layers.Dense(2, input_shape=(4,))])
    model.compile("sgd", keras.losses.MeanSquaredError())
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"mean_squared_error.*\(None, 2\).*\(8, 3\)"):
        model.fit(X, np.zeros((8, 3), "float32"), verbose=0)
    _weights_unchanged(model, before)


def test_multi_output_names_the_output_with_the_bad_target():
    inp = keras.Input((4,))
    a = layers.Dense(2, name="reg")(inp)
    b = layers.Dense(3, activation="softmax", name="cls")(inp)
    model = keras.Model(inp, [a, b])
    model.compile("sgd", ["mse", "categorical_crossentropy"])
    with pytest.raises(ValueError, match=r"output 'cls'.*categorical_crossentropy.*\(8, 4\)"):
        model.fit(X, [np.zeros((8, 2)), np.zeros((8, 4))], verbose=0)


def test_validation_targets_are_checked_before_training():
    model = _classifier()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"\(4, 2\)"):
        model.fit(X, np.eye(3)[np.arange(8) % 3], verbose=0,
                  validation_data=(X[:4], np.zeros((4, 2))))
    _weights_unchanged(model, before)


def test_a_users_loss_function_is_trusted_with_its_own_shapes():
    def column_loss(y_true, y_pred):  # integer labels against a softmax, its own way
        picked = keras.backend.sum(y_pred * keras.backend.one_hot(
            keras.backend.cast(y_true[:, 0], "int32"), 3), axis=-1)
        return -keras.backend.log(picked + 1e-7)

    model = _classifier(column_loss)
    model.fit(X, (np.arange(8) % 3).reshape(8, 1).astype("float32"), verbose=0)


# ---------------------------------------------------------------- string labels
@pytest.mark.parametrize("labels", [np.array(["cat", "dog"] * 4),
                                    np.array(["cat", "dog"] * 4, dtype=object),
                                    ["cat", "dog"] * 4])
def test_string_labels_say_labels_must_be_numbers(labels):
    model = _classifier("sparse_categorical_crossentropy")
    before = model.get_weights()
    with pytest.raises(TypeError) as info:
        model.fit(X, labels, verbose=0)
    message = str(info.value)
    assert "`y`" in message and "numbers" in message and "'cat'" in message
    assert "encode" in message.lower()
    _weights_unchanged(model, before)


def test_string_labels_in_evaluate_and_train_on_batch():
    model = _classifier("sparse_categorical_crossentropy")
    with pytest.raises(TypeError, match="numbers"):
        model.evaluate(X, np.array(["a"] * 8), verbose=0)
    with pytest.raises(TypeError, match="numbers"):
        model.train_on_batch(X, np.array(["a"] * 8))


# ---------------------------------------------------------------- loop arguments
@pytest.mark.parametrize("value", [0, -1, 2.5, "32", True])
@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_bad_batch_size(method, value):
    model = _classifier()
    before = model.get_weights()
    args = (X,) if method == "predict" else (X, np.eye(3)[np.arange(8) % 3])
    with pytest.raises(ValueError) as info:
        getattr(model, method)(*args, batch_size=value, verbose=0)
    assert "batch_size" in str(info.value) and f"batch_size={value!r}" in str(info.value)
    _weights_unchanged(model, before)


@pytest.mark.parametrize("argument,value,error", [
    ("epochs", "3", TypeError), ("epochs", 2.0, TypeError), ("epochs", -1, TypeError),
    ("epochs", None, TypeError), ("validation_split", 1.5, ValueError),
    ("validation_split", 1.0, ValueError), ("validation_split", -0.1, ValueError),
    ("validation_split", "0.2", ValueError)])
def test_bad_epochs_and_validation_split(argument, value, error):
    model = _classifier()
    before = model.get_weights()
    with pytest.raises(error) as info:
        model.fit(X, np.eye(3)[np.arange(8) % 3], verbose=0, **{argument: value})
    assert f"{argument}={value!r}" in str(info.value)
    _weights_unchanged(model, before)


def test_bad_initial_epoch_and_steps_per_epoch():
    model = _classifier()
    y = np.eye(3)[np.arange(8) % 3]
    with pytest.raises(ValueError, match=r"initial_epoch=-1"):
        model.fit(X, y, initial_epoch=-1, verbose=0)
    with pytest.raises(ValueError, match=r"steps_per_epoch=0"):
        model.fit(X, y, steps_per_epoch=0, verbose=0)


# ---------------------------------------------------------------- Input
@pytest.mark.parametrize("shape", ["abc", (-2,), (3, -1), (2.5,), ("a",), (True,), -3, 3.0,
                                   object()])
def test_input_with_a_bad_shape(shape):
    with pytest.raises(ValueError) as info:
        keras.Input(shape=shape)
    message = str(info.value)
    assert "`shape`" in message and f"shape={shape!r}" in message
    assert "non-negative integers" in message


def test_input_with_a_bad_batch_shape_or_batch_size():
    with pytest.raises(ValueError, match=r"`batch_shape`.*batch_shape=\(None, 'x'\)"):
        keras.Input(batch_shape=(None, "x"))
    with pytest.raises(ValueError, match=r"`batch_size`.*batch_size=0"):
        keras.Input(shape=(3,), batch_size=0)


@pytest.mark.parametrize("shape", [3, (3,), [None, 4], (np.int64(2), 5), (0,)])
def test_input_with_a_good_shape(shape):
    tensor = keras.Input(shape=shape)
    expected = (None,) + ((shape,) if isinstance(shape, int) else
                          tuple(None if d is None else int(d) for d in shape))
    assert tuple(tensor.shape) == expected


def test_input_layer_in_sequential_checks_input_shape():
    with pytest.raises(ValueError, match=r"`shape`.*shape='4'"):
        keras.Sequential([layers.InputLayer(input_shape="4"), layers.Dense(2)])


# ---------------------------------------------------------------- layer constructors
@pytest.mark.parametrize("units", [0, -1, "10", 2.5, True, None])
def test_dense_with_bad_units(units):
    with pytest.raises(ValueError) as info:
        layers.Dense(units=units)
    message = str(info.value)
    assert "Dense" in message and "`units`" in message and "positive integer" in message
    assert f"units={units!r}" in message


@pytest.mark.parametrize("rate", [1.5, -0.1, "0.5", None])
def test_dropout_with_bad_rate(rate):
    with pytest.raises(ValueError) as info:
        layers.Dropout(rate=rate)
    message = str(info.value)
    assert "Dropout" in message and "`rate`" in message and f"rate={rate!r}" in message


@pytest.mark.parametrize("kwargs,argument", [
    ({"filters": 0, "kernel_size": 3}, "filters"),
    ({"filters": "8", "kernel_size": 3}, "filters"),
    ({"filters": 8, "kernel_size": 0}, "kernel_size"),
    ({"filters": 8, "kernel_size": (3, -1)}, "kernel_size"),
    ({"filters": 8, "kernel_size": "a"}, "kernel_size"),
    ({"filters": 8, "kernel_size": 3, "strides": 0}, "strides"),
    ({"filters": 8, "kernel_size": 3, "padding": "sideways"}, "padding"),
])
def test_conv2d_with_bad_arguments(kwargs, argument):
    with pytest.raises(ValueError) as info:
        layers.Conv2D(**kwargs)
    message = str(info.value)
    assert "Conv2D" in message and argument in message
    assert repr(kwargs[argument]) in message or str(kwargs[argument]) in message


def test_a_good_fit_after_the_failures_still_learns():
    """The failed calls above leave a model usable: the same model then trains."""
    model = _classifier()
    y = np.eye(3)[np.arange(8) % 3]
    with pytest.raises(ValueError):
        model.fit(X, np.zeros((8, 5)), verbose=0)
    before = model.get_weights()
    history = model.fit(X, y, epochs=3, verbose=0)
    assert any(np.any(a != b) for a, b in zip(model.get_weights(), before))
    assert history.history["loss"][-1] < history.history["loss"][0]


# ---------------------------------------------------------------- compile
def _two_outputs():
    inputs = keras.Input((4,), name="in")
    return keras.Model(inputs, [layers.Dense(3, name="a")(inputs),
                                layers.Dense(1, name="b")(inputs)])


@pytest.mark.parametrize("kwargs,error,pattern", [
    ({"optimizer": 5}, ValueError, r"`optimizer`.*optimizer=5"),
    ({"optimizer": None}, ValueError, r"`optimizer`.*optimizer=None"),
    ({"optimizer": "adamm"}, ValueError, r"Unknown optimizer: 'adamm'"),
    ({"loss": "msee"}, ValueError, r"Unknown loss function: 'msee'"),
    ({"metrics": "accuracy"}, TypeError, r"`metrics`.*list.*'accuracy' of type str"),
    ({"weighted_metrics": 5}, TypeError, r"`weighted_metrics`.*5 of type int"),
    ({"metrics": ["accurcy"]}, ValueError, r"Unknown metric function: 'accurcy'"),
    ({"loss_weights": "a"}, ValueError, r"`loss_weights`.*number.*loss_weights='a'"),
    ({"loss_weights": [1, 2]}, ValueError, r"loss_weights.*1 output"),
    ({"sample_weight_mode": "foo"}, ValueError,
     r"`sample_weight_mode`.*'temporal'.*sample_weight_mode='foo'"),
    ({"run_eagerly": "yes"}, TypeError, r"`run_eagerly`.*run_eagerly='yes'"),
])
def test_compile_with_bad_arguments(kwargs, error, pattern):
    model = keras.Sequential([layers.Dense(3, input_shape=(4,))])
    arguments = {"optimizer": "sgd", "loss": "mse", **kwargs}
    with pytest.raises(error, match=pattern):
        model.compile(**arguments)
    assert not model.compiled


@pytest.mark.parametrize("kwargs,pattern", [
    ({"loss": {"a": "mse", "zz": "mse"}}, r"loss dictionary: \['zz'\].*\['a', 'b'\]"),
    ({"loss": ["mse"] * 3}, r"2 output\(s\).*loss=\['mse', 'mse', 'mse'\]"),
    ({"loss": "mse", "loss_weights": {"zz": 1}}, r"loss_weights dictionary: \['zz'\]"),
    ({"loss": "mse", "loss_weights": ["x", 1]}, r"`loss_weights`.*entry 'x'"),
    ({"loss": "mse", "metrics": {"zz": ["mae"]}}, r"metrics dictionary: \['zz'\]"),
    ({"loss": "mse", "metrics": [["mae"]] * 3}, r"2 output\(s\); received 3"),
])
def test_compile_per_output_arguments_must_match_the_outputs(kwargs, pattern):
    model = _two_outputs()
    with pytest.raises(ValueError, match=pattern):
        model.compile("sgd", **kwargs)
    assert not model.compiled


# ---------------------------------------------------------------- Model, Input, Sequential
def test_model_with_bad_inputs_or_outputs():
    a, b = keras.Input((3,)), keras.Input((3,))
    with pytest.raises(ValueError, match="Model inputs must come from"):
        keras.Model(np.zeros(3), layers.Dense(2)(a))
    with pytest.raises(ValueError, match="Model outputs must be tensors"):
        keras.Model(a, np.zeros(3))
    with pytest.raises(ValueError, match="not connected to the outputs"):
        keras.Model([a, b], layers.Dense(2)(b))
    with pytest.raises(ValueError, match=r"redundant.*inputs=\['input_1', 'input_1'\]"):
        keras.Model([a, a], layers.Dense(2)(a))
    with pytest.raises(ValueError, match=r'"twice" is used 2 times'):
        keras.Model(a, layers.Dense(2, name="twice")(layers.Dense(2, name="twice")(a)))


@pytest.mark.parametrize("kwargs,error,pattern", [
    ({"dtype": "flot"}, ValueError, r"`dtype`.*'float32'.*dtype='flot'"),
    ({"dtype": 5}, ValueError, r"`dtype`.*dtype=5"),
    ({"name": 5}, TypeError, r"`name`.*string.*name=5 of type int"),
    ({"tensor": np.zeros(3)}, ValueError, r"`tensor`.*Input\(\).*ndarray"),
    ({"foo": 1}, ValueError, r"Unrecognized keyword arguments to Input: \['foo'\]"),
])
def test_input_with_bad_arguments(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        keras.Input((3,), **kwargs)


def test_input_layer_checks_dtype_and_input_tensor_is_reused():
    with pytest.raises(ValueError, match=r"`dtype`.*dtype='flot'"):
        layers.InputLayer(input_shape=(3,), dtype="flot")
    tensor = keras.Input((3,))
    assert keras.Input(tensor=tensor) is tensor


def test_sequential_with_a_non_layer():
    with pytest.raises(TypeError, match=r"instance of class Layer.*layer=5 of type int"):
        keras.Sequential().add(5)
    with pytest.raises(TypeError, match=r"`layers`.*list of layers.*of type Dense"):
        keras.Sequential(layers.Dense(3))


# ---------------------------------------------------------------- more loop arguments
Y = np.eye(3)[np.arange(8) % 3]


@pytest.mark.parametrize("kwargs,error,pattern", [
    ({"verbose": "x"}, ValueError, r"`verbose` must be 0, 1 or 2.*verbose='x'"),
    ({"shuffle": "x"}, ValueError, r"`shuffle`.*'batch'.*shuffle='x'"),
    ({"callbacks": 5}, TypeError, r"`callbacks`.*callbacks=5 of type int"),
    ({"callbacks": [5]}, TypeError, r"`callbacks`.*entry 0 = 5 of type int"),
    ({"validation_data": (X, Y), "validation_steps": 0}, ValueError,
     r"`validation_steps`.*validation_steps=0"),
    ({"validation_data": (X, Y), "validation_freq": 0}, ValueError,
     r"`validation_freq`.*validation_freq=0"),
])
def test_fit_with_bad_loop_arguments(kwargs, error, pattern):
    model = _classifier()
    before = model.get_weights()
    with pytest.raises(error, match=pattern):
        model.fit(X, Y, **{"verbose": 0, **kwargs})
    _weights_unchanged(model, before)
    assert model.history is None or not model.history.history


@pytest.mark.parametrize("method", ["evaluate", "predict"])
@pytest.mark.parametrize("kwargs,error,pattern", [
    ({"steps": 0}, ValueError, r"`steps`.*steps=0"),
    ({"steps": "2"}, ValueError, r"`steps`.*steps='2'"),
    ({"verbose": 7}, ValueError, r"`verbose`.*verbose=7"),
    ({"callbacks": 5}, TypeError, r"`callbacks`.*callbacks=5"),
])
def test_evaluate_and_predict_with_bad_loop_arguments(method, kwargs, error, pattern):
    model = _classifier()
    args = (X,) if method == "predict" else (X, Y)
    with pytest.raises(error, match=pattern):
        getattr(model, method)(*args, **kwargs)
