"""The pure steps the trainer jits: train, test and predict.

Each takes the train state (see `state.py`) and one batch `(x, y, sample_weight)` of lists
of arrays, and returns the new state; nothing here touches the host. `make_*` functions
close over the model, the compiled targets and the optax transformation.
"""
import jax
import jax.numpy as jnp
import optax

from jkeras import softmax_logits
from jkeras.engine import added_losses
from jkeras.engine.base_layer import flatten
from jkeras.mixed_precision.loss_scale_optimizer import LossScaleState, scale_loss
from jkeras.trainer import casts as casts_module
from jkeras.trainer import compile as compile_module
from jkeras.trainer import unrolling

__all__ = ["make_train_step", "make_test_step", "make_predict_step", "scan_steps",
           "chunk_step", "scan_chunk_test", "scan_chunk_predict"]


def _flat_outputs(model, outputs, output_names):
    if isinstance(outputs, dict):
        return [outputs[name] for name in output_names]
    return flatten(outputs)


def forward(model, variables, x, training, key):
    """`(outputs, new_state, losses)` of the model on a list of input arrays: activity
    penalties and the losses layers add (`add_loss`)."""
    return forward_with_metrics(model, variables, x, training, key)[:3]


def forward_with_metrics(model, variables, x, training, key):
    """`forward`, and the `{name: value}` of the metrics layers add (`add_metric`)."""
    inputs = x if len(x) > 1 else x[0]
    with added_losses.collecting() as collected:
        outputs, new_state, losses = model.apply_with_losses(variables, inputs,
                                                             training=training, key=key)
    return outputs, new_state, losses + collected.total(), collected.metrics


class _TracedCells:
    """Lets weight cells read the traced arrays of a step (for zero-argument losses)."""

    def __init__(self, mvars, trainable, non_trainable):
        self.mvars = mvars
        self.lists = {"trainable": trainable, "non_trainable": non_trainable}

    def read(self, slot):
        return self.mvars.read(self.lists, slot)

    def write(self, slot, value):
        raise RuntimeError("A loss added with add_loss(callable) cannot assign weights.")

    def __enter__(self):
        cells = self.mvars.trainable + self.mvars.non_trainable
        self.saved = [(cell, cell._binding, cell._slot) for cell in cells]
        for cell in cells:
            cell._binding, cell._slot = self, self.mvars.slots[id(cell)]
        return self

    def __exit__(self, *exc):
        for cell, binding, slot in self.saved:
            cell._binding, cell._slot = binding, slot
        return False


def _callable_losses(model, mvars, trainable, non_trainable):
    """The sum of the zero-argument losses' means, on the traced weights."""
    fns = added_losses.callable_losses(model)
    total = 0.0
    if fns:
        with _TracedCells(mvars, trainable, non_trainable):
            for fn in fns:
                total = total + jnp.mean(jnp.asarray(fn(), jnp.float32))
    return total


def _constrained(model, mvars, trainable, non_trainable):
    """`trainable` after each weight's constraint (pure)."""
    params = mvars.assemble(trainable, non_trainable)["params"]
    return mvars.params_to_trainable(_fill_missing(model.apply_constraints(params), params))


def _fill_missing(tree, like):
    if isinstance(like, dict):
        return {k: _fill_missing((tree or {}).get(k), v) for k, v in like.items()}
    return like if tree is None else tree


def _scaled(optimizer, loss, opt_state):
    """The loss to differentiate: times the dynamic loss scale (mixed float16) or the
    optimizer's `loss_scale_factor`; the update divides the gradients back."""
    if isinstance(opt_state, LossScaleState):
        return scale_loss(loss, opt_state)
    scale = getattr(optimizer, "scale_loss", None)
    return loss if scale is None else scale(loss)


def _losses(model, mvars, targets, trainable, non_trainable, batch, training, key):
    """`(total loss, per-output losses, flat outputs, new state, added metrics)` of the
    model on a batch: the compiled losses, weight and activity penalties, added losses.
    The callers trace it, and the metrics' update on its outputs, inside
    `softmax_logits.recording()`: a cross-entropy of a softmax output, a loss's or a
    metric's, is then taken from the softmax's logits, as Keras 2.3's were."""
    x, y, sw = batch
    variables = mvars.assemble(trainable, non_trainable)
    outputs, new_state, added, metrics = forward_with_metrics(model, variables, x, training,
                                                              key)
    outputs = _flat_outputs(model, outputs, targets.output_names)
    total, per_output = targets.compute_loss(outputs, y, sw)
    if model.has_regularizers():
        total = total + model.regularization_loss(variables["params"])
    total = total + _callable_losses(model, mvars, trainable, non_trainable)
    return total + added, per_output, outputs, new_state, metrics


def weight_uses(model, mvars):
    """`uses(trainable, non_trainable, x, key)`: everything a train step computes from
    the trainable weights, its loss aside (the compiled losses read only outputs): the
    forward pass, weight penalties, added losses and metrics. `casts.plan` reads which
    weights it only casts."""
    def uses(trainable, non_trainable, x, key):
        with softmax_logits.recording():
            variables = mvars.assemble(trainable, non_trainable)
            out = forward_with_metrics(model, variables, x, True, key)
            penalty = model.regularization_loss(variables["params"]) \
                if model.has_regularizers() else 0.0
            return out, penalty, _callable_losses(model, mvars, trainable, non_trainable)
    return uses


def make_train_step(model, mvars, targets, tx, cw_table=None, deferred=False):
    """`step(state, batch) -> state`: one optimizer update and the metrics' update.
    `deferred=True`: `step(state, batch) -> (state, loss values)`, the running loss means
    left for the caller to update (`scan_steps` does it once for a whole scan). A state
    with `casts` (16-bit copies of some weights, see `casts.py`) runs the forward pass on
    them and returns new ones."""
    has_constraints = model.has_constraints()

    def loss_fn(trainable, non_trainable, x, y, sw, key, opt_state, metric_state):
        # The metrics update here, beside the loss they share the outputs with (aux: no
        # gradient flows into them), so that both see the softmax outputs' logits.
        with softmax_logits.recording():
            total, per_output, outputs, new_state, added = _losses(
                model, mvars, targets, trainable, non_trainable, (x, y, sw), True, key)
            metrics = targets.update_output_metrics(metric_state, outputs, y, sw, added)
        return _scaled(model.optimizer, total, opt_state), (total, metrics, new_state,
                                                             per_output, added)

    def step(state, batch):
        x, y, sw = batch
        if cw_table is not None:
            cw = compile_module.class_weights_for(cw_table, y[0])
            sw = [cw if sw[0] is None else sw[0] * cw] + list(sw[1:])
        # The key comes from (base key, step number): when no layer draws random numbers
        # XLA drops it entirely, which a carried split could not allow.
        key = jax.random.fold_in(state["key"], state["step"])
        casts = state.get("casts")
        weights = state["trainable"] if casts is None else \
            casts_module.merge(state["trainable"], casts)
        grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
        (_, (total, metrics, new_state, per_output, added)), grads = grad_fn(
            weights, state["non_trainable"], x, y, sw, key, state["opt_state"],
            state["metrics"])
        if casts is not None:  # a copy's gradient in float32, as its cast's was
            grads = jax.tree_util.tree_map(lambda g, w: g.astype(w.dtype), grads,
                                           state["trainable"])
        updates, opt_state = tx.update(grads, state["opt_state"], state["trainable"])
        trainable = optax.apply_updates(state["trainable"], updates)
        if has_constraints:
            trainable = _constrained(model, mvars, trainable, state["non_trainable"])
        non_trainable = mvars.new_state(new_state, state["non_trainable"])
        values = targets.loss_values(total, per_output, added)
        state = dict(state, trainable=trainable, non_trainable=non_trainable,
                     opt_state=opt_state, metrics=metrics, step=state["step"] + 1)
        if casts is not None:
            state["casts"] = casts_module.recast(trainable, casts)
        if deferred:
            return state, values
        return dict(state, metrics=targets.add_loss_values(metrics, values[None],
                                                           flatten(x)[0].shape[0]))

    return step


def make_test_step(model, mvars, targets):
    """`step(state, metrics, batch) -> metrics`, in inference mode (`state` is read only)."""
    def step(state, metrics, batch):
        x, y, sw = batch
        with softmax_logits.recording():  # (see `_losses`)
            total, per_output, outputs, _, added = _losses(
                model, mvars, targets, state["trainable"], state["non_trainable"], batch,
                False, None)
            batch_size = flatten(x)[0].shape[0]
            return targets.update_metrics(metrics, total, per_output, outputs, y, sw,
                                          batch_size, added)

    return step


def make_predict_step(model, mvars):
    """`step(state, x, key, index) -> (outputs, non_trainable)`; the non-trainable values
    move on only for stateful layers (an RNN's carry), as in Keras. Batch `index` of a call
    draws from `fold_in(key, index)`, which matters only for layers called with
    `training=True` inside the model (Monte Carlo dropout)."""
    def step(state, x, key, index):
        variables = mvars.assemble(state["trainable"], state["non_trainable"])
        outputs, new_state, _ = forward(model, variables, x, False,
                                        jax.random.fold_in(key, index))
        return outputs, mvars.new_state(new_state, state["non_trainable"])

    return step


def scan_steps(deferred_step, targets, unroll_small=False):
    """`run(state, stacked_batch) -> state`: a `deferred=True` train step over the leading
    axis, in one scan. The running loss means take the scan's loss values after it, in one
    update: per step that saves the few scalar kernels of their update, which on a GPU cost
    as much as a small model's step would lose to them (a launch each). `unroll_small`: a
    small step's loop is unrolled on GPUs (`unrolling.scan`)."""
    def run(state, stacked):
        state, values = unrolling.scan(deferred_step, state, stacked, unroll_small)
        size = flatten(stacked[0])[0].shape[1]
        return dict(state, metrics=targets.add_loss_values(state["metrics"], values, size))
    return run



def pick(chunk, index):
    return jax.tree_util.tree_map(
        lambda c: jax.lax.dynamic_index_in_dim(c, index, keepdims=False), chunk)


def chunk_step(step):
    """`run(state, chunk, index) -> state`: `step` on batch `index` of a gathered chunk."""
    def run(state, chunk, index):
        return step(state, pick(chunk, index))
    return run


def scan_chunk_test(test_step):
    """`run(state, metrics, chunk, valid) -> metrics`: every real batch of a chunk (a
    conditional skips the padding batches, so they cost no compute)."""
    def run(state, metrics, chunk, valid):
        def body(m, item):
            batch, ok = item
            return jax.lax.cond(ok, lambda m: test_step(state, m, batch), lambda m: m, m), \
                None
        return jax.lax.scan(body, metrics, (chunk, valid))[0]
    return run


def scan_chunk_predict(predict_step):
    """`run(state, chunk, valid, key, start) -> (outputs, non_trainable)` over a chunk's
    batches, numbered from `start`; padding batches are skipped by a conditional (their
    outputs are zeros, cut off on the host) and change no state."""
    def run(state, chunk, valid, key, start):
        first = jax.tree_util.tree_map(lambda c: c[0], chunk)
        shapes = jax.eval_shape(lambda: predict_step(state, first, key, start)[0])

        def body(non_trainable, item):
            x, ok, i = item

            def compute(nt):
                out, new = predict_step(dict(state, non_trainable=nt), x, key, start + i)
                return out, new

            def skip(nt):
                return jax.tree_util.tree_map(
                    lambda s: jnp.zeros(s.shape, s.dtype), shapes), nt
            out, new = jax.lax.cond(ok, compute, skip, non_trainable)
            return new, out
        count = valid.shape[0]
        non_trainable, outputs = jax.lax.scan(
            body, state["non_trainable"], (chunk, valid, jnp.arange(count)))
        return outputs, non_trainable
    return run
