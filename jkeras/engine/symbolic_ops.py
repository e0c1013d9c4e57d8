"""Backend and loss functions on symbolic tensors.

Keras 2 scripts build graphs with backend functions on layer outputs (`K.mean(x)`,
`binary_crossentropy(inputs, outputs)`). One wrapper, applied by `wrap_namespace` over the
public functions of `jkeras.backend` and `jkeras.losses` (and of `loss_functions` and
`loss_reduction`, which `jkeras.losses` re-exports) at the end of those modules, makes
each of them record a graph node (a `FunctionOp` layer) when any argument, nested lists and
dicts included, is a `KerasTensor`; on arrays they run as before. Variable-like arguments
(`K.variable`, weight handles) are read to arrays first.

The wrapped functions are registered here by family and name: that table is the only place
a `FunctionOp` in a model config is resolved from, so loading never imports anything.
"""
import functools
import types

from jkeras.engine.keras_tensor import KerasTensor
from jkeras.engine.structure import flatten, map_structure
from jkeras.serialization import builtin_tables

__all__ = ["symbolic", "wrap_namespace", "set_public_module", "registered_function",
           "registered_name", "has_symbolic", "read_variables", "is_variable_like"]

_REGISTRY = {}    # family -> {name: raw function}
_NAMES = {}       # id(raw function) -> (family, name)


def is_variable_like(x):
    """Objects holding a live array: `K.variable`s and weight handles."""
    return hasattr(x, "__jkeras_value__")


def has_symbolic(args, kwargs):
    """`(any KerasTensor, any variable-like)` among the leaves of the arguments."""
    symbolic = variables = False
    for leaf in flatten([list(args), kwargs]):
        if isinstance(leaf, KerasTensor):
            symbolic = True
        elif is_variable_like(leaf):
            variables = True
    return symbolic, variables


def read_variables(tree):
    """`tree` with each variable-like leaf replaced by its current array."""
    return map_structure(lambda x: x.__jkeras_value__() if is_variable_like(x) else x, tree)


def registered_function(family, name):
    """The raw function `name` of `family` ('backend', 'losses', 'operator'), or None."""
    return _REGISTRY.get(family, {}).get(name)


def registered_name(fn):
    """`(family, name)` of a registered raw function, or None."""
    return _NAMES.get(id(fn))


def register(family, name, fn):
    _REGISTRY.setdefault(family, {})[name] = fn
    _NAMES.setdefault(id(fn), (family, name))


def symbolic(fn, family):
    """`fn`, also callable on KerasTensors (then it returns the outputs of a new node)."""
    register(family, fn.__name__, fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        symbolic_args, variable_args = has_symbolic(args, kwargs)
        if symbolic_args:
            FunctionOp = builtin_tables.table("layers")["FunctionOp"]
            return FunctionOp.record(fn, args, kwargs)
        if variable_args:
            args, kwargs = read_variables(list(args)), read_variables(kwargs)
        return fn(*args, **kwargs)

    wrapper.__symbolic_wrapped__ = fn
    return wrapper


def set_public_module(namespace, module):
    """Gives the public functions a module defines (its `globals()`) `module` as their
    `__module__`: for functions written in a helper module and re-exported from `module`,
    so pickles, Lambda configs and checks by module name see them where users import them."""
    for name, value in list(namespace.items()):
        if isinstance(value, types.FunctionType) and not name.startswith("_") \
                and value.__module__ == namespace["__name__"]:
            value.__module__ = module


def wrap_namespace(namespace, family, skip=()):
    """Wraps every public function in a module's `namespace` (its `globals()`) in place,
    and the same functions inside the module's tables (dicts), so identity checks agree."""
    wrapped = {}
    for name, value in list(namespace.items()):
        if name.startswith("_") or name in skip or not isinstance(value, types.FunctionType):
            continue
        if hasattr(value, "__symbolic_wrapped__"):
            continue
        if id(value) not in wrapped:
            wrapped[id(value)] = symbolic(value, family)
        namespace[name] = wrapped[id(value)]
    for name, value in namespace.items():
        if isinstance(value, dict) and not name.startswith("__"):
            for key, item in list(value.items()):
                if isinstance(item, types.FunctionType) and id(item) in wrapped:
                    value[key] = wrapped[id(item)]
    return namespace
