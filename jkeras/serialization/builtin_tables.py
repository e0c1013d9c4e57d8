"""Tables of jkeras's own objects by name, each provided by the package that defines them.

Modules low in the package sometimes need an object defined above them: a model config
names its layers, `activations.get('LeakyReLU')` returns the layer, arithmetic on a
symbolic tensor creates a `TensorOp` layer, `Model(inputs, outputs)` builds a `Functional`,
`Model.save` writes a file with `jkeras.saving`. They read `table("layers")` or
`table("saving")` instead of importing those packages, which provide their tables when
imported (as `import jkeras` always does); so every import points downwards.
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
