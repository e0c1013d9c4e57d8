"""`keras.wrappers`: adapters that let other libraries drive jkeras models."""
__all__ = ["scikit_learn"]
