"""The engine: layers, symbolic tensors, graphs and models (used through its modules)."""

__all__ = []
