"""The jkeras version, in a module of its own so that files can record it without importing
the whole package."""
__version__ = "0.1.0"
