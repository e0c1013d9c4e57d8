"""Weights' 16-bit copies carried in the train state from one update to the next step.

Under a mixed policy a layer casts its float32 weights to its compute dtype at every call
(`layers.autocast`): each step reads every such weight (4 bytes) and writes its copy (2)
before the forward pass can start, in kernels of their own. The 4x4096 MLP of
`gpu_suite.py` spent 0.13 ms of a 2.7 ms step on them. Where a trainable weight's only use
in the step is that cast, the train state carries its copy (`state["casts"]`): the update
that makes the new float32 weight writes the copy too, the next forward pass takes the
copy as the weight (its cast is then of a 16-bit array to its own dtype: nothing), and the
gradient, taken with respect to the copy, is cast to float32 as the cast's own gradient
was. The numbers are the same; only the kernels change. On one H200 (2026-12-02, one run,
`gpu_suite.py --contenders hand,casts,jkeras,nocopies`) the MLP's step took 2.631 ms
(63.4% MFU) with the copies and 2.787 ms (59.8%) without; the GPT's, whose weights are a
small part of its bytes, 15.10 against 15.04 ms (within the runs' noise).

Which weights qualify is read off the step's own trace (`plan`): a weight used twice (a
shared layer, whose two gradients add in float32 through two casts), used in float32
(normalization layers, regularizers, losses added with `add_loss`), or through a nested
program (an embedding's gather) keeps no copy.

`casts` trees are shaped like the state's trainable part, with None where a weight
keeps no copy.
"""
import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core as jax_core

__all__ = ["SIXTEEN_BIT", "plan", "select", "make", "merge", "recast", "any_copies"]

SIXTEEN_BIT = (jnp.dtype(jnp.bfloat16), jnp.dtype(jnp.float16))


def plan(uses_of_trainable, trainable, *args):
    """A tree like `trainable`: the 16-bit dtype of each weight whose only use in
    `uses_of_trainable(trainable, *args)` (the step's forward pass, penalties and added
    losses) is one cast to that dtype, else None. Nothing runs: the function is traced
    on the arrays' shapes (`args` may be arrays or `ShapeDtypeStruct`s)."""
    leaves, treedef = jax.tree_util.tree_flatten(trainable)
    specs = [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in leaves]
    rest = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), args)

    def traced(weights, rest):
        return uses_of_trainable(jax.tree_util.tree_unflatten(treedef, weights), *rest)
    jaxpr = jax.make_jaxpr(traced)(specs, rest).jaxpr
    weights = jaxpr.invars[:len(leaves)]
    uses = {v: [] for v in weights}
    for eqn in jaxpr.eqns:
        for var in eqn.invars:
            if not isinstance(var, jax_core.Literal) and var in uses:
                uses[var].append(eqn)
    returned = {v for v in jaxpr.outvars if not isinstance(v, jax_core.Literal)}
    dtypes = []
    for var in weights:
        found = uses[var]
        one_cast = len(found) == 1 and var not in returned and \
            found[0].primitive.name == "convert_element_type" and \
            jnp.dtype(found[0].params["new_dtype"]) in SIXTEEN_BIT and \
            var.aval.dtype == jnp.float32
        dtypes.append(np.dtype(found[0].params["new_dtype"]) if one_cast else None)
    return jax.tree_util.tree_unflatten(treedef, dtypes)


def _is_none(x):
    return x is None


def select(dtypes, tree):
    """`tree`'s entries (a tree like the trainable part: shardings, say) where `dtypes` (a
    `plan`) asks for a copy, None elsewhere."""
    return jax.tree_util.tree_map(lambda d, x: None if d is None else x, dtypes, tree,
                                  is_leaf=_is_none)


def make(trainable, dtypes):
    """The copies `dtypes` (a `plan`) asks for, of `trainable`'s weights."""
    return jax.tree_util.tree_map(lambda d, w: None if d is None else w.astype(d), dtypes,
                                  trainable, is_leaf=_is_none)


def recast(trainable, casts):
    """New copies of `trainable`'s weights where `casts` holds old ones (same dtypes)."""
    return jax.tree_util.tree_map(lambda c, w: None if c is None else w.astype(c.dtype),
                                  casts, trainable, is_leaf=_is_none)


def merge(trainable, casts):
    """`trainable` with each copied weight replaced by its copy (what the step's forward
    pass takes)."""
    return jax.tree_util.tree_map(lambda c, w: w if c is None else c, casts, trainable,
                                  is_leaf=_is_none)


def any_copies(dtypes):
    """Whether a `plan` asks for any copy."""
    return any(d is not None for d in jax.tree_util.tree_leaves(dtypes, is_leaf=_is_none))
