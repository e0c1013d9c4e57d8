"""Default arguments are Keras 2.3.1's, family by family: optimizers, layers, losses,
callbacks, initializers, regularizers, constraints and activations.

The reference table, `fixtures/keras2_defaults.json`, is read from Keras 2.3.1's source by
`fixtures/make_keras2_defaults.py`. `docs/KERAS2_DEFAULTS.md` lists what was changed to
match it and the few places where jkeras spells the same default differently.
"""
import inspect
import json
import math
import os

import pytest

from jkeras import (activations, callbacks, constraints, initializers, layers, losses,
                    optimizers, regularizers)

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures")
with open(os.path.join(FIXTURES, "keras2_defaults.json")) as f:
    TABLE = json.load(f)

MODULES = {"optimizers": optimizers, "layers": layers, "losses": losses,
           "callbacks": callbacks, "initializers": initializers,
           "regularizers": regularizers, "constraints": constraints,
           "activations": activations}

# Keras 2.3 public names jkeras does not have, and why (see docs/KERAS2_DEFAULTS.md).
NOT_PROVIDED = {
    ("optimizers", "Optimizer"): "abstract base, no defaults",
    ("optimizers", "TFOptimizer"): "wraps a TensorFlow optimizer",
    ("layers", "ConvRNN2D"): "abstract base of ConvLSTM2D",
    ("layers", "LocallyConnected1D"): "layer not implemented yet",
    ("layers", "LocallyConnected2D"): "layer not implemented yet",
}

TENSORBOARD_LEGACY = ("batch_size", "write_grads", "embeddings_layer_names", "embeddings_data")

# The same default spelled another way; each checked by what it does, below.
SAME_MEANING = {
    ("layers", "LeakyReLU", "alpha"),                   # None means 0.3
    ("callbacks", "ModelCheckpoint", "period"),         # None means 1
    ("callbacks", "TensorBoard", "log_dir"),            # "logs" is "./logs"
    *(("callbacks", "TensorBoard", arg) for arg in TENSORBOARD_LEGACY),  # in **kwargs
    ("callbacks", "CallbackList", "queue_length"),      # Keras 2 internals, no effect
    ("initializers", "VarianceScaling", "distribution"),  # "normal" was truncated normal
}


def _cases(family):
    return [pytest.param(name, defaults, id=name)
            for name, defaults in TABLE[family].items()
            if (family, name) not in NOT_PROVIDED]


def _same(ours, keras2):
    """Equal defaults; a single int stands for a tuple of it (`strides=1` is `(1, 1)`)."""
    if isinstance(keras2, list):
        if isinstance(ours, int) and not isinstance(ours, bool):
            return all(k == ours for k in keras2)
        return isinstance(ours, (list, tuple)) and len(ours) == len(keras2) and \
            all(_same(o, k) for o, k in zip(ours, keras2))
    if isinstance(keras2, bool) or isinstance(ours, bool):
        return ours is keras2
    if isinstance(keras2, float) and isinstance(ours, (int, float)):
        return ours == keras2 or (math.isinf(keras2) and ours == keras2) or \
            math.isclose(ours, keras2, rel_tol=1e-7)
    return ours == keras2


def _signature_default(obj, arg):
    """`arg`'s default where the class (or one of its bases, through **kwargs) declares it."""
    functions = [c.__init__ for c in obj.__mro__ if "__init__" in vars(c)] \
        if inspect.isclass(obj) else [obj]
    for function in functions:
        parameter = inspect.signature(function).parameters.get(arg)
        if parameter is not None and parameter.kind not in (parameter.VAR_KEYWORD,
                                                             parameter.VAR_POSITIONAL):
            assert parameter.default is not parameter.empty, f"{arg} has no default"
            return parameter.default
    raise AssertionError(f"{obj.__name__} takes no argument {arg!r}")


def _check_signature(family, name, defaults):
    obj = getattr(MODULES[family], name, None)
    assert obj is not None, f"jkeras.{family}.{name} is missing"
    wrong = {}
    for arg, keras2 in defaults.items():
        if (family, name, arg) in SAME_MEANING:
            continue
        ours = _signature_default(obj, arg)
        if not _same(ours, keras2):
            wrong[arg] = (ours, keras2)
    assert not wrong, f"{family}.{name}: (ours, Keras 2.3) differ: {wrong}"


@pytest.mark.parametrize("name, defaults", _cases("optimizers"))
def test_optimizer_defaults(name, defaults):
    """Built directly and from the string name (`'adadelta'`), the config holds Keras 2's
    values."""
    for opt in (getattr(optimizers, name)(), optimizers.get(name.lower())):
        config = opt.get_config()
        wrong = {arg: (config.get(arg), keras2) for arg, keras2 in defaults.items()
                 if not _same(config.get(arg), keras2)}
        assert not wrong, f"{name}: (ours, Keras 2.3) differ: {wrong}"


@pytest.mark.parametrize("name, defaults", _cases("layers"))
def test_layer_defaults(name, defaults):
    _check_signature("layers", name, defaults)


def test_layer_defaults_spelled_differently():
    assert layers.LeakyReLU().alpha == pytest.approx(0.3)


@pytest.mark.parametrize("name, defaults", _cases("losses"))
def test_loss_defaults(name, defaults):
    _check_signature("losses", name, defaults)


@pytest.mark.parametrize("name, defaults", _cases("callbacks"))
def test_callback_defaults(name, defaults):
    _check_signature("callbacks", name, defaults)


def test_callback_defaults_spelled_differently(tmp_path):
    assert callbacks.ModelCheckpoint(str(tmp_path / "m.h5")).period == 1
    legacy = {k: v for k, v in TABLE["callbacks"]["TensorBoard"].items()
              if k in TENSORBOARD_LEGACY}
    board = callbacks.TensorBoard(**legacy)  # Keras 2's arguments are accepted
    assert os.path.normpath(board.log_dir) == os.path.normpath(
        TABLE["callbacks"]["TensorBoard"]["log_dir"])


@pytest.mark.parametrize("family", ["initializers", "regularizers", "constraints",
                                    "activations"])
def test_other_family_defaults(family):
    for name, defaults in TABLE[family].items():
        _check_signature(family, name, defaults)


def test_variance_scaling_normal_is_keras2_truncated_normal():
    assert TABLE["initializers"]["VarianceScaling"]["distribution"] == "normal"
    assert initializers.VarianceScaling().distribution == "truncated_normal"
    assert initializers.VarianceScaling(distribution="normal").distribution == \
        "truncated_normal"
