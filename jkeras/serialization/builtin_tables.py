"""Tables of jkeras's own classes by name, each provided by the package that defines them.

Modules below the layers package sometimes need a layer class by name: a model config
names its layers, `activations.get('LeakyReLU')` returns the layer, arithmetic on a
symbolic tensor creates a `TensorOp` layer, `Model(inputs, outputs)` builds a `Functional`.
They read `table("layers")` instead of importing `jkeras.layers`, which registers its
table when it is imported (as `import jkeras` always does); so imports only go downwards.
"""
__all__ = ["provide", "table"]

_PROVIDERS = {}


def provide(family, provider):
    """Registers `provider()`, a function returning the current name -> object table."""
    _PROVIDERS[family] = provider


def table(family):
    """Name -> object for `family` (e.g. "layers"), as its package provides it now."""
    provider = _PROVIDERS.get(family)
    if provider is None:
        raise RuntimeError(
            f"No table of built-in {family}: `jkeras.{family}` has not been imported yet. "
            "Import jkeras first.")
    return provider()
