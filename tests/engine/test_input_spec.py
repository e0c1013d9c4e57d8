"""jkeras.engine.input_spec: which shapes an InputSpec accepts, case for case as Keras 3's
check decides, and errors that name the layer and the shape received."""
import pytest

from jkeras.engine.input_spec import InputSpec, assert_input_compatibility

CASES = [  # (spec arguments, input shape)
    (dict(ndim=2), (None, 3)),
    (dict(ndim=3), (None, 3)),
    (dict(min_ndim=2), (None,)),
    (dict(min_ndim=2), (None, 4, 5)),
    (dict(max_ndim=3), (None, 4, 5, 6)),
    (dict(max_ndim=3), (None, 4)),
    (dict(axes={-1: 4}), (None, 4)),
    (dict(axes={-1: 4}), (None, 5)),
    (dict(axes={-1: 4}), (None, None)),
    (dict(min_ndim=2, axes={1: 3}), (2, 3, 7)),
    (dict(min_ndim=2, axes={1: 3}), (2, 2, 7)),
    (dict(shape=(None, 3)), (8, 3)),
    (dict(shape=(None, 3)), (8, 4)),
    (dict(shape=(None, 3)), (8, 3, 1)),
]


def _keras_accepts(keras, kwargs, shape):
    from keras.src.layers.input_spec import assert_input_compatibility as keras_check
    try:
        keras_check(keras.layers.InputSpec(**kwargs), [keras.KerasTensor(shape)], "layer")
    except ValueError:
        return False
    return True


def _accepts(kwargs, shape):
    try:
        assert_input_compatibility(InputSpec(**kwargs), [shape], "layer")
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("kwargs, shape", CASES)
def test_accepts_what_keras_accepts(keras_ref, kwargs, shape):
    assert _accepts(kwargs, shape) == _keras_accepts(keras_ref, kwargs, shape)


def test_errors_name_the_layer_the_expectation_and_the_shape():
    with pytest.raises(ValueError, match=r'layer "dense_x".*expected ndim=3, found ndim=2.*'
                                         r"\(None, 3\)"):
        assert_input_compatibility(InputSpec(ndim=3), [(None, 3)], "dense_x")
    with pytest.raises(ValueError, match=r'"conv" expects 2 input\(s\), but it received 1'):
        assert_input_compatibility([InputSpec(), InputSpec()], [(1, 2)], "conv")
    assert_input_compatibility(None, [(1, 2, 3)], "anything")  # no spec: anything goes


def test_a_layer_checks_its_spec_before_building():
    import jkeras
    layer = jkeras.layers.Conv2D(2, 3)
    with pytest.raises(ValueError, match=r"conv2d.*expected (min_)?ndim=4, found ndim=3"):
        layer(jkeras.Input((8, 8)))
    assert layer.weights == []  # nothing was built
