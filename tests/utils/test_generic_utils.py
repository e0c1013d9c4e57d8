"""jkeras.utils.generic_utils: Keras 2's helpers, checked against the results Keras 2.3's
documentation and source give."""
import base64
import marshal

import numpy as np
import pytest

from jkeras.utils import generic_utils as gu


def test_func_dump_and_load_round_trip_closures_and_defaults():
    scale = 3

    def fn(x, shift=2):
        return x * scale + shift

    code, defaults, closure = gu.func_dump(fn)
    assert defaults == (2,) and closure == (3,)
    again = gu.func_load(code, defaults, closure)
    assert again(5) == 17 and again(5, shift=0) == 15
    assert gu.func_load((code, list(defaults), closure))(1) == 5  # one tuple, as dumped


def test_func_load_reads_keras2_base64_with_line_breaks():
    """Keras 2 encoded the bytecode with codecs' base64, which breaks lines every 76 chars."""
    raw = marshal.dumps((lambda x: x + 1).__code__)
    wrapped = base64.encodebytes(raw).decode("ascii")
    assert "\n" in wrapped
    assert gu.func_load(wrapped)(41) == 42


def test_has_arg_and_getargspec():
    def f(a, b=1, *args, c, **kwargs):
        pass

    def g(a, /, b):
        pass
    assert gu.has_arg(f, "b") and gu.has_arg(f, "c") and not gu.has_arg(f, "d")
    assert gu.has_arg(f, "d", accept_all=True) and not gu.has_arg(g, "a")
    assert not gu.has_arg(g, "z", accept_all=True)
    spec = gu.getargspec(f)
    assert spec.args == ["a", "b"] and spec.varargs == "args"
    assert spec.keywords == "kwargs" and spec.defaults == (1,)


def test_list_helpers():
    assert gu.to_list([1]) == [1] and gu.to_list(1) == [1]
    assert gu.to_list((1, 2)) == [(1, 2)] and gu.to_list((1, 2), allow_tuple=True) == [1, 2]
    assert gu.unpack_singleton([7]) == 7 and gu.unpack_singleton((1, 2)) == (1, 2)
    a, b = object(), object()
    assert gu.object_list_uid([a, b]) == f"{abs(id(a))}, {abs(id(b))}"
    assert gu.is_all_none([None, None]) and gu.is_all_none(None)
    assert not gu.is_all_none((None, 0))


def test_slice_arrays():
    x, y = np.arange(10), np.arange(10) * 2
    np.testing.assert_array_equal(gu.slice_arrays(x, 2, 5), [2, 3, 4])
    first, second, none = gu.slice_arrays([x, y, None], 1, 3)
    np.testing.assert_array_equal(first, [1, 2])
    np.testing.assert_array_equal(second, [2, 4])
    assert none is None
    np.testing.assert_array_equal(gu.slice_arrays([x], np.array([0, 9]))[0], [0, 9])
    assert gu.slice_arrays(None) == [None]


def test_transpose_shape_examples_from_keras2_docs():
    assert gu.transpose_shape((16, 128, 128, 32), "channels_first", (1, 2)) == \
        (16, 32, 128, 128)
    assert gu.transpose_shape((16, 128, 128, 32), "channels_last", (1, 2)) == \
        (16, 128, 128, 32)
    assert gu.transpose_shape([128, 128, 32], "channels_first", (0, 1)) == [32, 128, 128]
    with pytest.raises(ValueError, match="data_format.*'nchw'"):
        gu.transpose_shape((1, 2, 3), "nchw", (0, 1))


def test_check_for_unexpected_keys():
    gu.check_for_unexpected_keys("loss", {"a": 1}, ["a", "b"])
    with pytest.raises(ValueError, match=r"Unknown entries in loss dictionary: \['c'\]"):
        gu.check_for_unexpected_keys("loss", {"a": 1, "c": 2}, ["a", "b"])
