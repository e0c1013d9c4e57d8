"""The train state and the binding of a model's weight cells to it.

The state is one pytree, carried (and donated) from step to step:

    {"trainable": [array, ...], "non_trainable": [array, ...], "opt_state": optax state,
     "key": PRNG key, "step": int32 scalar}

The lists follow `ModelVariables.trainable` and `.non_trainable`: the model's unique
`Variable` cells, split by what was trainable when the model was compiled. Under a mixed
policy `fit`'s state also holds "casts", 16-bit copies of some trainable weights
(`casts.py`). While a `StateBinding` is active the cells read and write the state (a
device read, a device write; a written weight's copy is written too); when it ends each
cell takes its last array back.
"""
import jax
import jax.numpy as jnp

__all__ = ["ModelVariables", "StateBinding"]


def tree_get(tree, path):
    for key in path:
        tree = tree[key]
    return tree


def tree_set(tree, path, value):
    """A copy of nested dict `tree` with `value` at `path` (the rest shared)."""
    if not path:
        return value
    out = dict(tree)
    out[path[0]] = tree_set(tree[path[0]], path[1:], value)
    return out


def _walk(tree, prefix=()):
    """`(path, leaf)` over a nested dict, in insertion order."""
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _walk(value, prefix + (key,))
        else:
            yield prefix + (key,), value


def trainable_mask(model):
    """`{id(cell)}` of the weights that train now: trainable layers' params."""
    mask = model._trainable_mask(model.trainable)
    cells = model._cell_tree()["params"]
    return {id(cell) for path, cell in _walk(cells)
            if _mask_at(mask, path)}


def _mask_at(mask, path):
    for key in path:
        if not isinstance(mask, dict):
            return bool(mask)
        mask = mask.get(key, False)
    return bool(mask)


class ModelVariables:
    """A model's weight cells, split into trainable and non-trainable.

    The trainable ones form a nested dict like the model's params tree (`{layer: {weight:
    array}}`, nested models nested), so the optimizer's slots have the same paths; each
    cell appears once (its first place). The others are a flat list. `trainable_ids`
    fixes which cells train (Keras 2's rule: the set `compile` saw).
    `assemble(trainable, non_trainable)` builds the variables tree `model.apply` takes;
    `new_state(tree, non_trainable)` reads an apply's new state back into the list.
    """

    def __init__(self, model, trainable_ids):
        self.tree = model._cell_tree()
        self.slots = {}
        self.trainable_paths = []
        for path, cell in _walk(self.tree["params"]):
            if id(cell) in trainable_ids and id(cell) not in self.slots:
                self.slots[id(cell)] = ("trainable", path)
                self.trainable_paths.append((path, cell))
        self.names = {}
        for kind in ("params", "state"):
            for path, cell in _walk(self.tree[kind]):
                self.names.setdefault(id(cell), "/".join(path))
        self.non_trainable = []
        for cell in jax.tree_util.tree_leaves(self.tree):
            if id(cell) not in self.slots:
                self.slots[id(cell)] = ("non_trainable", len(self.non_trainable))
                self.non_trainable.append(cell)
        self._state_leaves, self._state_def = jax.tree_util.tree_flatten(self.tree["state"])

    @property
    def trainable(self):
        return [cell for _, cell in self.trainable_paths]

    def signature(self):
        return (tuple(p for p, _ in self.trainable_paths),
                tuple(id(c) for c in self.trainable), tuple(id(c) for c in self.non_trainable))

    def read(self, lists, slot):
        kind, where = slot
        return tree_get(lists[kind], where) if kind == "trainable" else lists[kind][where]

    def assemble(self, trainable, non_trainable):
        lists = {"trainable": trainable, "non_trainable": non_trainable}
        return jax.tree_util.tree_map(lambda cell: self.read(lists, self.slots[id(cell)]),
                                      self.tree)

    def new_state(self, state_tree, non_trainable):
        """`non_trainable` with the values of an apply's new state written in."""
        out = list(non_trainable)
        for cell, value in zip(self._state_leaves,
                               self._state_def.flatten_up_to(state_tree)):
            kind, index = self.slots[id(cell)]
            if kind == "non_trainable":
                out[index] = value
        return out

    def trainable_tree(self, value_of):
        """A tree shaped like the train state's trainable part, `value_of(path, cell)` at
        each trainable weight."""
        trainable = self._skeleton()
        for path, cell in self.trainable_paths:
            _nested_put(trainable, path, value_of(path, cell))
        return trainable

    def values(self):
        """`(trainable tree, non-trainable list)` of the cells' current arrays."""
        return (self.trainable_tree(lambda path, cell: cell.value),
                [cell.value for cell in self.non_trainable])

    def params_to_trainable(self, params):
        """The trainable tree's entries taken from a full params tree."""
        return self.trainable_tree(lambda path, cell: tree_get(params, path))

    def _skeleton(self):
        """Every layer's dict of the params tree, empty (optimizer states keep the
        model's layer names even for layers with nothing to train)."""
        def walk(tree):
            return {k: walk(v) for k, v in tree.items() if isinstance(v, dict)}
        return walk(self.tree["params"])


def _nested_put(tree, path, value):
    node = tree
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    return tree


class StateBinding:
    """Lets a model's cells read and write a running trainer's state.

    `state` is the newest train state (replaced after every step). A read returns a copy,
    since the state's buffers are donated to the next step; reads of one state share one
    copy per weight (a save reads each weight more than once, and a gather of weights
    split over processes, made once for the save, must find the same arrays again).
    """

    def __init__(self, variables):
        self.variables = variables
        self._state = None
        self._reads = {}
        self.active = False

    @property
    def state(self):
        return self._state

    @state.setter
    def state(self, value):
        self._state = value
        self._reads = {}

    def read(self, slot):
        copy = self._reads.get(slot)
        if copy is None:
            copy = self._reads[slot] = jnp.copy(self.variables.read(self._state, slot))
        return copy

    def write(self, slot, value):
        kind, where = slot
        update = {}
        if kind == "trainable":
            current = tree_get(self.state["trainable"], where)
            value = jnp.asarray(value, current.dtype)
            new = tree_set(self.state["trainable"], where, value)
            casts = self.state.get("casts")  # the weight's 16-bit copy follows it
            copy = None if casts is None else tree_get(casts, where)
            if copy is not None:
                update["casts"] = tree_set(casts, where, value.astype(copy.dtype))
        else:
            new = list(self.state["non_trainable"])
            new[where] = jnp.asarray(value, new[where].dtype)
        update[kind] = new
        self.state = dict(self.state, **update)

    def bind(self, state):
        """Starts holding the cells; `state` must already hold their values."""
        self.state = state
        for cell in self._cells():
            cell.bind(self, self.variables.slots[id(cell)])
        self.active = True

    def _cells(self):
        return self.variables.trainable + self.variables.non_trainable

    def release(self):
        """Gives each cell its last array back; returns the final state."""
        state = self.state
        for cell in self._cells():
            cell.release(self.variables.read(state, self.variables.slots[id(cell)]))
        self.active = False
        self.state = None
        return state
