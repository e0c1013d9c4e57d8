"""Small K.* tensor functions (jkeras/ops/tensors.py) against NumPy and Keras 2 rules."""
import jax.numpy as jnp
import numpy as np
import pytest

from jkeras.ops import tensors


def test_slice_repeat_size_identity(rng):
    x = rng.normal(size=(3, 4, 5)).astype("float32")
    np.testing.assert_array_equal(np.asarray(tensors.slice(x, (1, 0, 2), (2, -1, 3))),
                                  x[1:3, :, 2:5])
    with pytest.raises(ValueError, match="start"):
        tensors.slice(x, (0, 0), (1, 1))
    y = rng.normal(size=(2, 3)).astype("float32")
    np.testing.assert_array_equal(np.asarray(tensors.repeat(y, 4)),
                                  np.repeat(y[:, None], 4, axis=1))
    with pytest.raises(ValueError, match="2D"):
        tensors.repeat(x, 2)
    assert int(tensors.size(x)) == 60
    np.testing.assert_array_equal(np.asarray(tensors.identity(y)), y)


def test_type_checks_and_data_format():
    assert tensors.is_tensor(jnp.ones(2)) and not tensors.is_tensor(np.ones(2))
    assert not tensors.is_sparse(jnp.ones(2))
    assert tensors.normalize_data_format("Channels_First") == "channels_first"
    with pytest.raises(ValueError, match="data_format"):
        tensors.normalize_data_format("NCHW")


def test_get_uid_counts_per_prefix():
    tensors.reset_uids()
    assert [tensors.get_uid("a"), tensors.get_uid("a"), tensors.get_uid("b")] == [1, 2, 1]
    tensors.reset_uids()
    assert tensors.get_uid("a") == 1
