"""`jkeras.backend` carries Keras 2.3's backend names, and its CTC functions train a model
the way Keras 2's image_ocr example does (a Lambda layer computing the loss)."""
import numpy as np
import pytest

import jkeras as keras
from jkeras import backend as K

# Keras 2.3's `keras.backend` exports (TensorFlow backend), less the graph-mode ones
# another module provides and the two with no jax meaning (docs/BACKEND.md).
KERAS_23_NAMES = """abs all any arange argmax argmin batch_dot batch_flatten batch_get_value
batch_normalization batch_set_value bias_add binary_crossentropy cast cast_to_floatx
categorical_crossentropy clear_session clip concatenate constant control_dependencies conv1d
conv2d conv2d_transpose conv3d conv3d_transpose cos count_params ctc_batch_cost ctc_decode
ctc_label_dense_to_sparse cumprod cumsum depthwise_conv2d dot dropout dtype eager elu epsilon
equal eval exp expand_dims eye flatten floatx foldl foldr gather get_uid get_value greater
greater_equal hard_sigmoid identity image_data_format in_test_phase in_top_k in_train_phase
int_shape is_keras_tensor is_sparse is_tensor l2_normalize learning_phase less less_equal
local_conv1d local_conv2d log logsumexp manual_variable_initialization map_fn max maximum
mean min minimum moving_average_update ndim normalize_batch_in_training
normalize_data_format not_equal one_hot ones ones_like permute_dimensions pool2d pool3d pow
print_tensor prod random_binomial random_normal random_normal_variable random_uniform
random_uniform_variable relu repeat repeat_elements reset_uids reshape resize_images
resize_volumes reverse rnn round separable_conv1d separable_conv2d set_epsilon set_floatx
set_image_data_format set_learning_phase set_session set_value shape sigmoid sign sin size
slice softmax softplus softsign sparse_categorical_crossentropy spatial_2d_padding
spatial_3d_padding sqrt square squeeze stack std stop_gradient sum switch symbolic tanh
temporal_padding tile to_dense transpose truncated_normal update_add update_sub update var
variable zeros zeros_like""".split()
GRAPH_MODE = {"update", "update_add", "update_sub"}


def test_backend_has_keras_23_names():
    missing = [n for n in KERAS_23_NAMES if n not in GRAPH_MODE and not hasattr(K, n)]
    assert missing == []


def test_random_variables_and_eval_use_the_seed():
    a = K.eval(K.random_normal_variable((3, 2), 1.0, 2.0, seed=3))
    b = K.eval(K.random_normal_variable((3, 2), 1.0, 2.0, seed=3))
    assert a.shape == (3, 2) and np.array_equal(a, b)
    u = K.eval(K.random_uniform_variable((200,), -1.0, 3.0, seed=1))
    assert u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.3


@pytest.mark.slow
def test_ctc_model_trains_as_keras2_image_ocr():
    steps, classes, max_label = 12, 5, 3
    rng = np.random.default_rng(0)
    labels = rng.integers(0, classes - 1, size=(32, max_label))
    x = np.zeros((32, steps, classes - 1), "float32")
    for i, row in enumerate(labels):                 # each label shown for 3 steps
        for j, c in enumerate(row):
            x[i, 4 * j:4 * j + 3, c] = 1.0
    x += rng.normal(scale=0.1, size=x.shape).astype("float32")

    inputs = keras.layers.Input((steps, classes - 1))
    y_pred = keras.layers.Dense(classes, activation="softmax")(inputs)
    the_labels = keras.layers.Input((max_label,))
    input_length = keras.layers.Input((1,), dtype="int32")
    label_length = keras.layers.Input((1,), dtype="int32")
    loss_out = keras.layers.Lambda(lambda a: K.ctc_batch_cost(*a), output_shape=(1,),
                                   name="ctc")([the_labels, y_pred, input_length,
                                                label_length])
    model = keras.models.Model([inputs, the_labels, input_length, label_length], loss_out)
    model.compile(loss={"ctc": lambda y_true, y_pred: y_pred},
                  optimizer=keras.optimizers.Adam(0.1))
    feeds = [x, labels, np.full((32, 1), steps), np.full((32, 1), max_label)]
    history = model.fit(feeds, np.zeros(32), batch_size=16, epochs=60, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]

    predict = keras.models.Model(inputs, y_pred)
    decoded, _ = K.ctc_decode(predict.predict(x[:4]), np.full(4, steps))
    np.testing.assert_array_equal(np.asarray(decoded[0]), labels[:4])
