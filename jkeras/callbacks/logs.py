"""Epoch and batch logs: the lazy logs dict the training loop hands to callbacks, and the
lookup that treats Keras's two spellings of accuracy keys as one name.

Batch logs are lazy: reading them fetches metric values from the device, so a callback
that never looks at its batch logs never makes the training loop wait on the device.
"""
__all__ = ["LazyLogs", "alias_of", "lookup"]


def alias_of(name):
    """The other spelling of an accuracy key: Keras before 2.3 wrote `acc`, later `accuracy`
    (`val_acc` <-> `val_accuracy`, `out_acc` <-> `out_accuracy`); None for other keys."""
    if name.endswith("accuracy"):
        return name[: -len("accuracy")] + "acc"
    if name.endswith("acc"):
        return name[: -len("acc")] + "accuracy"
    return None


def lookup(logs, name, default=None):
    """`logs[name]`, accepting `acc` and `accuracy` spellings for each other."""
    if logs is None:
        return default
    if name in logs:
        return logs[name]
    alias = alias_of(name)
    if alias is not None and alias in logs:
        return logs[alias]
    return default


class LazyLogs(dict):
    """A logs dict whose values are fetched from the device on first access."""

    def __init__(self, fetch, extra=None):
        super().__init__(extra or {})
        self._fetch = fetch

    def _materialize(self):
        if self._fetch is not None:
            fetch, self._fetch = self._fetch, None
            dict.update(self, fetch())

    def __getitem__(self, key):
        self._materialize()
        return dict.__getitem__(self, key)

    def __contains__(self, key):
        self._materialize()
        return dict.__contains__(self, key)

    def __iter__(self):
        self._materialize()
        return dict.__iter__(self)

    def __len__(self):
        self._materialize()
        return dict.__len__(self)

    def __repr__(self):
        self._materialize()
        return dict.__repr__(self)

    def get(self, key, default=None):
        self._materialize()
        return dict.get(self, key, default)

    def keys(self):
        self._materialize()
        return dict.keys(self)

    def items(self):
        self._materialize()
        return dict.items(self)

    def values(self):
        self._materialize()
        return dict.values(self)

    def copy(self):
        self._materialize()
        return dict(self)

    def __eq__(self, other):
        self._materialize()
        return dict.__eq__(self, other)

    __hash__ = None
