"""Holding inner layers' weights under prefixed keys: an RNN keeps its cell's `kernel` as
`lstm_cell/kernel`, a Bidirectional its two layers' as `forward_lstm/...` and
`backward_lstm/...`, so `f"{layer.name}/{key}:0"` is the Keras weight name."""

__all__ = ["with_prefix", "strip_prefix", "unique_names"]


def with_prefix(tree, prefix):
    """`tree`'s entries with `prefix` put before each key (order kept)."""
    return {prefix + k: v for k, v in tree.items()}


def strip_prefix(tree, prefix):
    """The entries of `tree` under `prefix`, with the prefix removed (order kept)."""
    n = len(prefix)
    return {k[n:]: v for k, v in tree.items() if k.startswith(prefix)}


def unique_names(names):
    """`names` with repeats numbered as Keras numbers them: `a`, `a_1`, `a_2`."""
    seen, out = {}, []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        out.append(name if count == 0 else f"{name}_{count}")
    return out
