"""compile / fit / evaluate / predict: one jitted step per batch, driven from the host.

The step is `train_step(train_state, metric_state, batch) -> (train_state, metric_state)`
with both states donated. Array data is put on the device once and each step gathers its
batch by index inside the jitted function; generators and Sequences are fed through a
run-ahead queue. The host never waits on the device unless something reads a value: a
callback's batch logs, the progress bar when it redraws, or the end of an epoch.
"""
import math
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jkeras import _config
from jkeras import callbacks as callbacks_module
from jkeras.engine import compile_utils, data_adapter
from jkeras.engine.base_layer import flatten


def _split_params(params, mask):
    """(trainable, frozen) trees of nested dicts from `params` and a same-shaped bool mask."""
    trainable, frozen = {}, {}
    for name, value in params.items():
        flag = mask.get(name, True) if isinstance(mask, dict) else mask
        if isinstance(value, dict):
            trainable[name], frozen[name] = _split_params(value, flag if isinstance(
                flag, dict) else {k: flag for k in value})
        elif flag:
            trainable[name] = value
        else:
            frozen[name] = value
    return trainable, frozen


def _merge_params(a, b):
    out = dict(a)
    for name, value in b.items():
        out[name] = _merge_params(out.get(name, {}), value) if isinstance(value, dict) \
            else value
    return out


class _TrainerLink:
    """Lets layers read (and write) weights while the trainer holds them in train_state."""

    def __init__(self, trainer):
        self.trainer = trainer
        self.dirty = False
        self.stale = False
        self._flushing = False

    def flush(self):
        if self.dirty and not self._flushing:
            self._flushing = True
            try:
                self.trainer._write_back(copy=True)
            finally:
                self._flushing = False
            self.dirty = False

    def invalidate(self):
        if not self._flushing:
            self.stale = True


class TrainingMixin:
    """The Keras training API for `Model`."""

    def _init_training_state(self):
        self.optimizer = None
        self.compiled = False
        self._targets = None
        self.stop_training = False
        self.history = None
        self._steps_per_execution = 1
        self._step_cache = {}
        self._predict_cache = {}
        self._opt_state = None
        self._train_key = None
        self._train_step = 0
        self._link = None
        self._train_state = None

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                sample_weight_mode=None, weighted_metrics=None, target_tensors=None,
                steps_per_execution=1, run_eagerly=None, jit_compile=None, **kwargs):
        from jkeras import optimizers
        unknown = set(kwargs) - {"distribute", "experimental_steps_per_execution"}
        if unknown:
            raise TypeError(f"Invalid keyword argument(s) in `compile()`: {sorted(unknown)}")
        if "experimental_steps_per_execution" in kwargs:
            steps_per_execution = kwargs["experimental_steps_per_execution"]
        if not isinstance(steps_per_execution, int) or steps_per_execution < 1:
            raise ValueError(
                "`steps_per_execution` must be a positive integer. Received: "
                f"steps_per_execution={steps_per_execution!r}")
        self._ensure_graph()
        self.optimizer = optimizers.get(optimizer)
        output_names = self._output_names_for_compile()
        output_shapes = self._output_shapes_for_compile()
        self._targets = compile_utils.CompiledTargets(
            output_names, output_shapes, loss, loss_weights, metrics, weighted_metrics,
            sample_weight_mode)
        self.loss = loss
        self.loss_weights = loss_weights
        self._compile_metrics = metrics
        self._weighted_metrics = weighted_metrics
        self.sample_weight_mode = sample_weight_mode
        self._steps_per_execution = steps_per_execution
        self._step_cache = {}
        self._opt_state = None
        self._opt_mask = None
        self.compiled = True

    def _ensure_graph(self):
        return None

    def _output_names_for_compile(self):
        names = getattr(self, "output_names", None)
        if names:
            return list(names)
        return ["output_1"]

    def _output_shapes_for_compile(self):
        outputs = getattr(self, "outputs", None)
        if outputs:
            return [t.shape for t in outputs]
        return [None] * len(self._output_names_for_compile())

    @property
    def metrics_names(self):
        if self._targets is None:
            return []
        return self._targets.metric_names

    @property
    def run_eagerly(self):
        return False

    def _assert_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(
                f"You must compile your model before {what}. Use `model.compile(optimizer, "
                "loss)`.")

    # ------------------------------------------------------------------ data handling
    def _input_tensors(self):
        return list(getattr(self, "inputs", None) or [])

    def _prepare_x(self, x):
        """x as a list of arrays in model input order; builds a deferred model first."""
        if not self.built or not self._input_tensors() and self._is_graph_network is False:
            self._build_from_data(x)
        inputs = self._input_tensors()
        if inputs:
            names = [t._keras_history[0].name for t in inputs]
            arrays = data_adapter.match_structure(x, names, "input")
            arrays = [data_adapter._as_array(a, f"input {n}") for a, n in zip(arrays, names)]
            data_adapter.check_array_shapes(arrays, inputs, names, "input")
            return arrays
        arrays = x if isinstance(x, (list, tuple)) else [x]
        return [data_adapter._as_array(a, "input") for a in arrays]

    def _build_from_data(self, x):
        first = x
        if isinstance(x, dict):
            first = next(iter(x.values()))
        elif isinstance(x, (list, tuple)) and x and hasattr(x[0], "shape"):
            first = x[0] if len(x) == 1 or not hasattr(self, "_pending") else x[0]
        first = np.asarray(first)
        if hasattr(self, "_pending"):
            self.build((None,) + first.shape[1:])
        elif not self.built:
            sample = jax.tree_util.tree_map(lambda a: np.asarray(a)[:1], x)
            self._call_subclassed_eager(sample)

    def _prepare_y(self, y):
        names = self._output_names_for_compile()
        arrays = data_adapter.match_structure(y, names, "target",
                                              allow_none=isinstance(y, dict))
        arrays = [data_adapter._as_array(a, f"target {n}") for a, n in zip(arrays, names)]
        for i, (array, fn) in enumerate(zip(arrays, self._targets.loss_fns)):
            if array is None and fn is not None:
                raise ValueError(f"No target data provided for output {names[i]}.")
        return arrays

    def _prepare_sw(self, sample_weight, class_weight, y_arrays, num_samples):
        names = self._output_names_for_compile()
        if sample_weight is None:
            sws = [None] * len(names)
        else:
            sws = data_adapter.match_structure(sample_weight, names, "sample_weight",
                                               allow_none=True)
            sws = [None if s is None else np.asarray(s, np.float32) for s in sws]
        for i, sw in enumerate(sws):
            if sw is not None and sw.shape[0] != num_samples:
                raise ValueError(
                    f"Found a sample_weight array with {sw.shape[0]} samples for "
                    f"{num_samples} input samples.")
            if sw is not None and sw.ndim == 2 and not self._targets.temporal[i] and \
                    sw.shape[1] != 1:
                raise ValueError(
                    f"Found a sample_weight array with shape {sw.shape}. In order to use "
                    "timestep-wise sample weighting, you should pass a 2D sample_weight "
                    "array and specify `sample_weight_mode=\"temporal\"` in compile().")
        table = compile_utils.class_weight_vector(class_weight)
        if table is not None:
            if len(names) > 1:
                raise ValueError(
                    "`class_weight` is only supported for models with a single output.")
            cw = np.asarray(compile_utils.class_weights_for(table, y_arrays[0]))
            sws[0] = cw if sws[0] is None else sws[0] * cw.reshape(
                cw.shape + (1,) * (sws[0].ndim - cw.ndim))
        return sws

    # ------------------------------------------------------------------ train state
    def _trainable_mask_tree(self):
        return self._trainable_mask(self.trainable)

    def _begin_training(self):
        """Pulls live values into the trainer's state (params, state, optimizer, key)."""
        variables = self._get_vars()
        mask = self._trainable_mask_tree()
        trainable, frozen = _split_params(variables["params"], mask)
        mask_key = _mask_signature(mask)
        tx = self._transformation()
        if self._opt_state is None or self._opt_mask != mask_key:
            self._opt_state = tx.init(trainable)
            self._opt_mask = mask_key
        if self._train_key is None:
            self._train_key = _config.next_key()
        # Own copies: the step donates this state, and live layer values and shared
        # constant buffers (zeros in an optimizer state) must not be donated with it.
        self._train_state = jax.tree_util.tree_map(jnp.copy, {
            "trainable": trainable, "frozen": frozen, "state": variables["state"],
            "opt_state": self._opt_state, "key": self._train_key,
            "step": jnp.asarray(self._train_step, jnp.int32),
        })
        self._mask = mask
        self._mask_key = mask_key
        if self._link is None:
            self._link = _TrainerLink(self)
        self._link.dirty = False
        self._link.stale = False
        self._link_trainer(self._link)

    def _transformation(self):
        if getattr(self, "_tx_for", None) is not self.optimizer:
            self._tx = self.optimizer.transformation()
            self._tx_for = self.optimizer
        return self._tx

    def _write_back(self, copy=False):
        ts = self._train_state
        if ts is None:
            return
        params = _merge_params(ts["trainable"], ts["frozen"])
        state = ts["state"]
        if copy:
            params = jax.tree_util.tree_map(jnp.copy, params)
            state = jax.tree_util.tree_map(jnp.copy, state)
        link, self._link = self._link, None
        try:
            for leaf_model in [self]:
                leaf_model._set_vars_quiet({"params": params, "state": state})
        finally:
            self._link = link

    def _set_vars_quiet(self, variables):
        """Writes values into layers without notifying the trainer (it wrote them)."""
        saved = {}
        for leaf in self._all_leaf_layers():
            saved[id(leaf)] = leaf._trainer_link
            leaf._trainer_link = None
        try:
            self._set_vars(variables)
        finally:
            for leaf in self._all_leaf_layers():
                leaf._trainer_link = saved.get(id(leaf))

    def _reload_if_stale(self):
        if self._link is not None and self._link.stale:
            self._link.stale = False
            variables = self._get_vars_unlinked()
            trainable, frozen = _split_params(variables["params"], self._mask)
            ts = self._train_state
            ts["trainable"], ts["frozen"], ts["state"] = trainable, frozen, variables["state"]

    def _get_vars_unlinked(self):
        saved = {}
        for leaf in self._all_leaf_layers():
            saved[id(leaf)] = leaf._trainer_link
            leaf._trainer_link = None
        try:
            return self._get_vars()
        finally:
            for leaf in self._all_leaf_layers():
                leaf._trainer_link = saved.get(id(leaf))

    def _end_training(self):
        ts = self._train_state
        if ts is None:
            return
        self._opt_state = ts["opt_state"]
        self._train_key = ts["key"]
        self._train_step = ts["step"]
        if self._link is not None and self._link.dirty:
            self._write_back(copy=False)
        self._link_trainer(None)
        self._link = None
        self._train_state = None

    # ------------------------------------------------------------------ checkpoints
    def get_training_state(self):
        """Everything a bit-exact resume needs: variables, optimizer state, PRNG key and
        the step counter the per-step keys derive from.

        Returns `{"variables": {"params", "state"}, "opt_state": pytree or None,
        "key": array or None, "step": int32 array}` as host NumPy arrays.
        """
        if self._train_state is not None and self._link is not None:
            self._link.flush()
        variables = self._get_vars()
        opt_state = self._train_state["opt_state"] if self._train_state is not None \
            else self._opt_state
        ts = self._train_state
        key = ts["key"] if ts is not None else self._train_key
        step = ts["step"] if ts is not None else self._train_step
        return jax.device_get({"variables": variables, "opt_state": opt_state,
                               "key": key, "step": jnp.asarray(step, jnp.int32)})

    def set_training_state(self, snapshot):
        """Restores what `get_training_state` returned (structures must match)."""
        self._set_vars(jax.tree_util.tree_map(jnp.asarray, snapshot["variables"]))
        opt_state = snapshot.get("opt_state")
        if opt_state is not None:
            self._opt_state = jax.tree_util.tree_map(jnp.asarray, opt_state)
            self._opt_mask = _mask_signature(self._trainable_mask_tree())
            if self._train_state is not None:
                self._train_state["opt_state"] = jax.tree_util.tree_map(jnp.copy,
                                                                        self._opt_state)
            if self.optimizer is not None and hasattr(self.optimizer, "observe_state"):
                self.optimizer.observe_state(self._opt_state)
        if snapshot.get("key") is not None:
            self._train_key = jnp.asarray(snapshot["key"])
            if self._train_state is not None:
                self._train_state["key"] = jnp.copy(self._train_key)
        if snapshot.get("step") is not None:
            self._train_step = int(np.asarray(snapshot["step"]))
            if self._train_state is not None:
                self._train_state["step"] = jnp.asarray(self._train_step, jnp.int32)

    def optimizer_state_template(self):
        """A freshly initialised optimizer state for this model (for restoring into)."""
        mask = self._trainable_mask_tree()
        trainable, _ = _split_params(self._get_vars()["params"], mask)
        return self._transformation().init(trainable)

    # ------------------------------------------------------------------ step builders
    def _flat_outputs(self, outputs):
        if isinstance(outputs, dict):
            return [outputs[name] for name in self._output_names_for_compile()]
        return flatten(outputs)

    def _forward(self, variables, x, training, key):
        inputs = x if len(x) > 1 else x[0]
        return self.apply_with_losses(variables, inputs, training=training, key=key)

    def _make_train_step(self, cw_table):
        targets = self._targets
        tx = self._transformation()
        has_regs = self.has_regularizers()
        has_constraints = self.has_constraints()

        def loss_fn(trainable, frozen, state, x, y, sw, key):
            params = _merge_params(trainable, frozen)
            outputs, new_state, activity = self._forward(
                {"params": params, "state": state}, x, True, key)
            outputs = self._flat_outputs(outputs)
            total, per_output = targets.compute_loss(outputs, y, sw)
            if has_regs:
                total = total + self.regularization_loss(params)
            total = total + activity
            return total, (outputs, new_state, per_output)

        def step(ts, ms, batch):
            x, y, sw = batch
            if cw_table is not None:
                cw = compile_utils.class_weights_for(cw_table, y[0])
                sw = [cw if sw[0] is None else sw[0] * cw] + list(sw[1:])
            # The step's key comes from (base key, step number): when no layer draws
            # random numbers XLA drops it entirely, which a carried split could not allow.
            step_key = jax.random.fold_in(ts["key"], ts["step"])
            grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
            (total, (outputs, new_state, per_output)), grads = grad_fn(
                ts["trainable"], ts["frozen"], ts["state"], x, y, sw, step_key)
            updates, opt_state = tx.update(grads, ts["opt_state"], ts["trainable"])
            trainable = optax.apply_updates(ts["trainable"], updates)
            if has_constraints:
                merged = self.apply_constraints(_merge_params(trainable, ts["frozen"]))
                trainable, _ = _split_params(merged, self._mask)
            batch_size = flatten(x)[0].shape[0]
            ms = targets.update_metrics(ms, total, per_output, outputs, y, sw, batch_size)
            return {"trainable": trainable, "frozen": ts["frozen"], "state": new_state,
                    "opt_state": opt_state, "key": ts["key"], "step": ts["step"] + 1}, ms

        return step

    def _make_test_step(self):
        targets = self._targets
        has_regs = self.has_regularizers()

        def step(variables, ms, batch):
            x, y, sw = batch
            outputs, _, activity = self._forward(variables, x, False, None)
            outputs = self._flat_outputs(outputs)
            total, per_output = targets.compute_loss(outputs, y, sw)
            if has_regs:
                total = total + self.regularization_loss(variables["params"])
            total = total + activity
            batch_size = flatten(x)[0].shape[0]
            return targets.update_metrics(ms, total, per_output, outputs, y, sw, batch_size)
        return step

    def _compiled_fn(self, kind, cw_table=None):
        key = (kind, self._mask_key if kind != "test" else None,
               None if cw_table is None else cw_table.tobytes(), self._steps_per_execution)
        fn = self._step_cache.get(key)
        if fn is not None:
            return fn
        if kind == "train":
            step = self._make_train_step(cw_table)

            def indexed(ts, ms, data, idx):
                return step(ts, ms, _gather(data, idx))

            def scanned(ts, ms, data, idx_stack):
                def body(carry, idx):
                    return step(carry[0], carry[1], _gather(data, idx)), None
                (ts, ms), _ = jax.lax.scan(body, (ts, ms), idx_stack)
                return ts, ms
            fn = {"direct": jax.jit(step, donate_argnums=(0,)),
                  "indexed": jax.jit(indexed, donate_argnums=(0,)),
                  "scanned": jax.jit(scanned, donate_argnums=(0,))}
        elif kind == "test":
            step = self._make_test_step()

            def indexed(variables, ms, data, idx):
                return step(variables, ms, _gather(data, idx))
            fn = {"direct": jax.jit(step), "indexed": jax.jit(indexed)}
        self._step_cache[key] = fn
        return fn

    def _results_fn(self):
        fn = self._step_cache.get("results")
        if fn is None:
            fn = jax.jit(self._targets.results)
            self._step_cache["results"] = fn
        return fn

    def _metric_logs(self, ms):
        values = jax.device_get(self._results_fn()(ms))
        return {name: float(np.asarray(v)) if np.ndim(v) == 0 else np.asarray(v)
                for name, v in zip(self.metrics_names, values)}

    # ------------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None,
            validation_steps=None, validation_batch_size=None, validation_freq=1,
            max_queue_size=10, workers=1, use_multiprocessing=False, **kwargs):
        """Trains for `epochs` epochs; returns a `History`."""
        if "nb_epoch" in kwargs:
            epochs = kwargs.pop("nb_epoch")
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments to fit(): {sorted(kwargs)}")
        self._assert_compiled("training it")
        if data_adapter.is_generator_like(x):
            if y is not None:
                raise ValueError(
                    "`y` argument is not supported when using a generator or Sequence as "
                    "input; it yields (x, y) batches itself.")
            return self._fit_source(x, steps_per_epoch, epochs, verbose, callbacks,
                                    validation_data, validation_steps, validation_freq,
                                    class_weight, max_queue_size, workers,
                                    use_multiprocessing, shuffle, initial_epoch)
        if batch_size is None:
            batch_size = 32
        xs = self._prepare_x(x)
        ys = self._prepare_y(y)
        num = data_adapter.check_lengths([xs, ys])
        sws = self._prepare_sw(sample_weight, None, ys, num)
        val = None
        if validation_data is not None:
            val = self._validation_tuple(validation_data)
        elif validation_split and 0.0 < validation_split < 1.0:
            split = int(num * (1.0 - validation_split))
            cut = lambda arrays, lo, hi: [None if a is None else a[lo:hi] for a in arrays]
            val = ("arrays", cut(xs, split, num), cut(ys, split, num), cut(sws, split, num))
            xs, ys, sws = cut(xs, 0, split), cut(ys, 0, split), cut(sws, 0, split)
            num = split
        cw_table = compile_utils.class_weight_vector(class_weight)
        if cw_table is not None and len(ys) > 1:
            raise ValueError("`class_weight` is only supported for single-output models.")
        data = _to_device((xs, ys, sws))
        base_seed = _config.next_seed()
        if steps_per_epoch is not None:
            steps = int(math.ceil(steps_per_epoch))
        else:
            steps = math.ceil(num / batch_size) if num else 0

        def epoch_batches(epoch):
            # Each epoch's order depends only on the seed and the epoch number, so a run
            # resumed at epoch e shuffles exactly as an uninterrupted one did.
            rng = np.random.default_rng([base_seed, epoch])
            batches = data_adapter.batch_indices(num, batch_size, shuffle, rng)
            if steps_per_epoch is not None:
                while len(batches) < steps:
                    batches += data_adapter.batch_indices(num, batch_size, shuffle, rng)
                batches = batches[:steps]
            return batches

        return self._run_fit(
            epochs, initial_epoch, verbose, callbacks, steps, num, val, validation_freq,
            validation_steps, validation_batch_size or batch_size, cw_table,
            array_data=(data, epoch_batches), source=None)

    def _validation_tuple(self, validation_data):
        if data_adapter.is_generator_like(validation_data):
            return ("source", validation_data)
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(
                "When passing validation_data, it must contain 2 (x_val, y_val) or 3 "
                "(x_val, y_val, val_sample_weights) items; received: "
                f"{type(validation_data).__name__} of length {len(validation_data)}")
        vx, vy = validation_data[0], validation_data[1]
        vsw = validation_data[2] if len(validation_data) == 3 else None
        xs = self._prepare_x(vx)
        ys = self._prepare_y(vy)
        num = data_adapter.check_lengths([xs, ys])
        sws = self._prepare_sw(vsw, None, ys, num)
        return ("arrays", xs, ys, sws)

    def _fit_source(self, source, steps_per_epoch, epochs, verbose, callbacks,
                    validation_data, validation_steps, validation_freq, class_weight,
                    max_queue_size, workers, use_multiprocessing, shuffle, initial_epoch):
        is_sequence = data_adapter.is_sequence(source)
        if steps_per_epoch is None:
            if not is_sequence:
                raise ValueError(
                    "`steps_per_epoch` must be given when fitting from a generator; it "
                    "cannot tell how many batches make an epoch.")
            steps_per_epoch = len(source)
        steps = int(math.ceil(steps_per_epoch))
        if not hasattr(source, "__next__") and not is_sequence and hasattr(source, "__iter__"):
            source = iter(source)
        val = None
        if validation_data is not None:
            val = self._validation_tuple(validation_data)
        cw_table = compile_utils.class_weight_vector(class_weight)
        rng = np.random.default_rng(_config.next_seed())
        feed = {"source": source, "workers": workers, "use_multiprocessing":
                use_multiprocessing, "max_queue_size": max_queue_size,
                "shuffle": shuffle, "rng": rng, "is_sequence": is_sequence}
        return self._run_fit(epochs, initial_epoch, verbose, callbacks, steps, None, val,
                             validation_freq, validation_steps, None, cw_table,
                             array_data=None, source=feed)

    def _source_batches(self, feed, steps, epoch):
        queue = data_adapter.BatchQueue(
            feed["source"], steps, workers=feed["workers"],
            use_multiprocessing=feed["use_multiprocessing"],
            max_queue_size=feed["max_queue_size"],
            shuffle=feed["shuffle"] and feed["is_sequence"], rng=feed["rng"])
        for item in queue:
            x, y, sw = data_adapter.unpack_batch(item)
            xs = self._prepare_x(x)
            ys = self._prepare_y(y) if y is not None else None
            num = data_adapter.check_lengths([xs] + ([ys] if ys else []))
            sws = self._prepare_sw(sw, None, ys, num) if ys is not None else None
            yield xs, ys, sws, num
        if feed["is_sequence"] and hasattr(feed["source"], "on_epoch_end"):
            feed["source"].on_epoch_end()

    def _run_fit(self, epochs, initial_epoch, verbose, callbacks, steps, num_samples, val,
                 validation_freq, validation_steps, val_batch_size, cw_table, array_data,
                 source):
        callback_list = callbacks_module.CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=self,
            count_mode="samples" if num_samples is not None else "steps",
            verbose=verbose, epochs=epochs, steps=steps, samples=num_samples,
            do_validation=val is not None, metrics=self._log_names(val is not None))
        progbar = next((c for c in callback_list if isinstance(c, callbacks_module.ProgbarLogger)),
                       None)
        batch_hooks = [c for c in callback_list.callbacks if
                       not isinstance(c, callbacks_module.ProgbarLogger) and
                       callbacks_module._overrides(c, "on_train_batch_end", "on_batch_end",
                                                   "on_train_batch_begin", "on_batch_begin")]
        self.stop_training = False
        self._begin_training()
        train_fns = self._compiled_fn("train", cw_table)
        self._resume_epoch = None
        callback_list.on_train_begin()
        if self._resume_epoch is not None:  # set by a callback restoring a backup
            initial_epoch, self._resume_epoch = self._resume_epoch, None
            self._reload_if_stale()
        epoch_logs = {}
        try:
            for epoch in range(initial_epoch, epochs):
                self._reload_if_stale()
                ms = self._targets.init_metric_state()
                callback_list.on_epoch_begin(epoch)
                self._reload_if_stale()
                ms = self._run_epoch(train_fns, ms, epoch, steps, array_data, source,
                                     callback_list, progbar, batch_hooks)
                epoch_logs = self._metric_logs(ms)
                if val is not None and _should_validate(epoch, validation_freq):
                    val_logs = self._evaluate_internal(val, val_batch_size, validation_steps,
                                                       callbacks=callback_list)
                    epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
                if self.optimizer is not None and hasattr(self.optimizer, "observe_state"):
                    self.optimizer.observe_state(self._train_state["opt_state"])
                callback_list.on_epoch_end(epoch, epoch_logs)
                if self.stop_training:
                    break
            self._finalize_ema()
        finally:
            self._end_training()
        callback_list.on_train_end(epoch_logs)
        return callback_list.history

    def _finalize_ema(self):
        """With `use_ema`, training ends on the weights' moving average (as Keras 3)."""
        if not getattr(self.optimizer, "use_ema", False):
            return
        ts = self._train_state
        ts["trainable"] = jax.tree_util.tree_map(
            jnp.copy, self.optimizer.finalize_params(ts["trainable"], ts["opt_state"]))
        self._link.dirty = True

    def _log_names(self, with_val):
        names = list(self.metrics_names)
        return names + (["val_" + n for n in names] if with_val else [])

    def _run_epoch(self, fns, ms, epoch, steps, array_data, source, callback_list, progbar,
                   batch_hooks):
        link = self._link
        observe = getattr(self.optimizer, "observe_state", None)
        sync = getattr(self.optimizer, "sync_state", None)

        def run_one(step_index, batch_size, call):
            nonlocal ms
            if batch_hooks:
                callback_list.on_train_batch_begin(step_index, {"batch": step_index,
                                                                "size": batch_size})
                self._reload_if_stale()
            ts = self._train_state
            if sync is not None:
                ts["opt_state"] = sync(ts["opt_state"])
            self._train_state, ms = call(ts, ms)
            link.dirty = True
            if observe is not None:
                observe(self._train_state["opt_state"])
            if batch_hooks or (progbar is not None and progbar.verbose):
                current_ms = ms
                logs = callbacks_module.LazyLogs(
                    lambda: self._metric_logs(current_ms),
                    {"batch": step_index, "size": batch_size})
                if progbar is not None and not progbar.wants_logs(
                        progbar.seen + (batch_size if progbar.count_mode == "samples" else 1)):
                    progbar.seen += batch_size if progbar.count_mode == "samples" else 1
                    hooks = batch_hooks
                else:
                    hooks = batch_hooks + ([progbar] if progbar is not None else [])
                for callback in hooks:
                    callback.on_train_batch_end(step_index, logs)
                self._reload_if_stale()

        if array_data is not None:
            data, epoch_batches = array_data
            batches = epoch_batches(epoch)
            n = self._steps_per_execution
            index = 0
            while index < len(batches):
                group = batches[index:index + n]
                if n > 1 and len(group) == n and not batch_hooks and \
                        all(len(b) == len(group[0]) for b in group):
                    stack = jnp.asarray(np.stack(group))
                    run_one(index + n - 1, len(group[0]) * n,
                            lambda ts, m: fns["scanned"](ts, m, data, stack))
                    index += n
                else:
                    idx = jnp.asarray(batches[index])
                    run_one(index, len(batches[index]),
                            lambda ts, m: fns["indexed"](ts, m, data, idx))
                    index += 1
                if self.stop_training:
                    break
        else:
            batches = _prefetch_to_device(self._source_batches(source, steps, epoch))
            try:
                for step_index, (batch, num) in enumerate(batches):
                    run_one(step_index, num, lambda ts, m: fns["direct"](ts, m, batch))
                    if self.stop_training:
                        break
            finally:
                batches.close()  # stops the data workers now, even when a step raised
        return ms

    # ------------------------------------------------------------------ evaluate
    def evaluate(self, x=None, y=None, batch_size=None, verbose=1, sample_weight=None,
                 steps=None, callbacks=None, max_queue_size=10, workers=1,
                 use_multiprocessing=False, return_dict=False, **kwargs):
        """Loss and metrics over the data, averaged over samples."""
        self._assert_compiled("evaluating it")
        if data_adapter.is_generator_like(x):
            if steps is None and not (hasattr(x, "__len__") and hasattr(x, "__getitem__")):
                raise ValueError("`steps` must be given when evaluating from a generator.")
            val = ("source", x)
            logs = self._evaluate_internal(val, None, steps, workers=workers,
                                           use_multiprocessing=use_multiprocessing,
                                           max_queue_size=max_queue_size,
                                           callbacks=callbacks, verbose=verbose)
        else:
            xs = self._prepare_x(x)
            ys = self._prepare_y(y)
            num = data_adapter.check_lengths([xs, ys])
            sws = self._prepare_sw(sample_weight, None, ys, num)
            logs = self._evaluate_internal(("arrays", xs, ys, sws), batch_size or 32, steps,
                                           callbacks=callbacks, verbose=verbose)
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def _evaluate_internal(self, val, batch_size, steps, workers=1, use_multiprocessing=False,
                           max_queue_size=10, callbacks=None, verbose=0):
        fns = self._compiled_fn("test")
        variables = self._current_variables()
        ms = self._targets.init_metric_state()
        if isinstance(callbacks, callbacks_module.CallbackList):
            callback_list = callbacks
        else:
            callback_list = callbacks_module.CallbackList(callbacks, model=self) \
                if callbacks else None
        if callback_list:
            callback_list.on_test_begin()
        if val[0] == "arrays":
            _, xs, ys, sws = val
            num = data_adapter.check_lengths([xs, ys])
            data = _to_device((xs, ys, sws))
            batches = data_adapter.batch_indices(num, batch_size or 32, False, None)
            if steps is not None:
                batches = batches[:int(steps)]
            progbar = self._eval_progbar(verbose, num)
            for i, idx in enumerate(batches):
                ms = fns["indexed"](variables, ms, data, jnp.asarray(idx))
                if progbar is not None and progbar.due(i * (batch_size or 32) + len(idx)):
                    progbar.update(min((i + 1) * (batch_size or 32), num),
                                   list(self._metric_logs(ms).items()))
                if callback_list and callback_list.has_hook("on_test_batch_end"):
                    callback_list.on_test_batch_end(i, callbacks_module.LazyLogs(
                        lambda m=ms: self._metric_logs(m)))
        else:
            source = val[1]
            is_sequence = data_adapter.is_sequence(source)
            if steps is None:
                if not is_sequence:
                    raise ValueError(
                        "`validation_steps` (or `steps`) must be given to evaluate on a "
                        "generator.")
                steps = len(source)
            feed = {"source": source, "workers": workers,
                    "use_multiprocessing": use_multiprocessing,
                    "max_queue_size": max_queue_size, "shuffle": False, "rng": None,
                    "is_sequence": is_sequence}
            progbar = self._eval_progbar(verbose, int(math.ceil(steps)))
            for i, (xs, ys, sws, num) in enumerate(
                    self._source_batches(feed, int(math.ceil(steps)), 0)):
                ms = fns["direct"](variables, ms, _to_device((xs, ys, sws)))
                if progbar is not None:
                    progbar.update(i + 1)
        logs = self._metric_logs(ms)
        if callback_list:
            callback_list.on_test_end(logs)
        return logs

    @staticmethod
    def _eval_progbar(verbose, target):
        from jkeras.utils.generic_utils import Progbar
        return Progbar(target, verbose=1) if verbose == 1 else None

    def _current_variables(self):
        ts = self._train_state
        if ts is not None:
            return {"params": _merge_params(ts["trainable"], ts["frozen"]),
                    "state": ts["state"]}
        return self._get_vars()

    # ------------------------------------------------------------------ predict
    def _has_stateful_layers(self):
        return any(getattr(layer, "stateful", False) for layer in self._all_leaf_layers())

    def _predict_fn(self):
        """Jitted `(variables, x) -> (outputs, new_state)` (the state matters only for
        stateful layers, whose carry moves on from batch to batch as in Keras)."""
        fn = self._predict_cache.get("predict")
        if fn is None:
            def forward(variables, x, key):
                # `key` only matters for layers called with training=True (MC dropout);
                # XLA drops it otherwise.
                outputs, new_state, _ = self._forward(variables, x, False, key)
                return outputs, new_state
            fn = jax.jit(forward)
            self._predict_cache["predict"] = fn
        return fn

    def _run_predict(self, variables, xs_device):
        outputs, new_state = self._predict_fn()(variables, xs_device, _config.next_key())
        if self._stateful_cache():
            variables = {"params": variables["params"], "state": new_state}
            self._set_vars(variables)
        return outputs, variables

    def _stateful_cache(self):
        flag = self._predict_cache.get("stateful")
        if flag is None:
            flag = self._predict_cache["stateful"] = self._has_stateful_layers()
        return flag

    def predict(self, x, batch_size=None, verbose=0, steps=None, callbacks=None,
                max_queue_size=10, workers=1, use_multiprocessing=False):
        """Outputs for `x`, one jitted forward pass per batch."""
        batch_size = batch_size or 32
        if data_adapter.is_generator_like(x):
            return self.predict_generator(x, steps=steps, max_queue_size=max_queue_size,
                                          workers=workers,
                                          use_multiprocessing=use_multiprocessing,
                                          verbose=verbose)
        xs = self._prepare_x(x)
        num = data_adapter.check_lengths([xs])
        variables = self._current_variables()
        data = _to_device(xs)
        outputs = []
        batches = data_adapter.batch_indices(num, batch_size, False, None)
        if steps is not None:
            batches = batches[:int(steps)]
        gather = self._predict_cache.get("gather")
        if gather is None:
            forward = self._predict_fn()
            gather = jax.jit(lambda v, d, idx, key: forward(v, [a[idx] for a in d], key))
            self._predict_cache["gather"] = gather
        stateful = self._stateful_cache()
        for idx in batches:
            out, new_state = gather(variables, data, jnp.asarray(idx), _config.next_key())
            if stateful:
                variables = {"params": variables["params"], "state": new_state}
            outputs.append(out)
        if stateful:
            self._set_vars(variables)
        return self._concat_outputs(outputs)

    def _concat_outputs(self, outputs):
        if not outputs:
            return np.zeros((0,))
        first = outputs[0]
        if isinstance(first, dict):
            return {k: np.concatenate([np.asarray(o[k]) for o in outputs]) for k in first}
        if isinstance(first, (list, tuple)):
            return [np.concatenate([np.asarray(o[i]) for o in outputs])
                    for i in range(len(first))]
        return np.concatenate([np.asarray(o) for o in jax.device_get(outputs)])

    def predict_on_batch(self, x):
        xs = self._prepare_x(x)
        out, _ = self._run_predict(self._current_variables(), _to_device(xs))
        return jax.tree_util.tree_map(np.asarray, out)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       reset_metrics=True, return_dict=False):
        """One optimizer step on one batch; returns the loss (and metrics) of that batch."""
        self._assert_compiled("training it")
        xs = self._prepare_x(x)
        ys = self._prepare_y(y)
        num = data_adapter.check_lengths([xs, ys])
        sws = self._prepare_sw(sample_weight, None, ys, num)
        cw_table = compile_utils.class_weight_vector(class_weight)
        self._begin_training()
        try:
            fns = self._compiled_fn("train", cw_table)
            ms = self._targets.init_metric_state()
            ts = self._train_state
            if hasattr(self.optimizer, "sync_state"):
                ts["opt_state"] = self.optimizer.sync_state(ts["opt_state"])
            self._train_state, ms = fns["direct"](ts, ms, _to_device((xs, ys, sws)))
            self._link.dirty = True
            if hasattr(self.optimizer, "observe_state"):
                self.optimizer.observe_state(self._train_state["opt_state"])
        finally:
            self._end_training()
        logs = self._metric_logs(ms)
        return self._format_logs(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True,
                      return_dict=False):
        self._assert_compiled("evaluating it")
        xs = self._prepare_x(x)
        ys = self._prepare_y(y)
        num = data_adapter.check_lengths([xs, ys])
        sws = self._prepare_sw(sample_weight, None, ys, num)
        ms = self._compiled_fn("test")["direct"](self._current_variables(),
                                                  self._targets.init_metric_state(),
                                                  _to_device((xs, ys, sws)))
        return self._format_logs(self._metric_logs(ms), return_dict)

    def _format_logs(self, logs, return_dict):
        if return_dict:
            return logs
        values = [logs[n] for n in self.metrics_names]
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------------ generator API
    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1,
                      callbacks=None, validation_data=None, validation_steps=None,
                      validation_freq=1, class_weight=None, max_queue_size=10, workers=1,
                      use_multiprocessing=False, shuffle=True, initial_epoch=0):
        """Keras 2's `fit_generator`: `fit` on a generator or Sequence."""
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs,
                        verbose=verbose, callbacks=callbacks,
                        validation_data=validation_data, validation_steps=validation_steps,
                        validation_freq=validation_freq, class_weight=class_weight,
                        max_queue_size=max_queue_size, workers=workers,
                        use_multiprocessing=use_multiprocessing, shuffle=shuffle,
                        initial_epoch=initial_epoch)

    def evaluate_generator(self, generator, steps=None, callbacks=None, max_queue_size=10,
                           workers=1, use_multiprocessing=False, verbose=0):
        return self.evaluate(generator, steps=steps, callbacks=callbacks,
                             max_queue_size=max_queue_size, workers=workers,
                             use_multiprocessing=use_multiprocessing, verbose=verbose)

    def predict_generator(self, generator, steps=None, callbacks=None, max_queue_size=10,
                          workers=1, use_multiprocessing=False, verbose=0):
        is_sequence = data_adapter.is_sequence(generator)
        if steps is None:
            if not is_sequence:
                raise ValueError("`steps` must be given when predicting from a generator.")
            steps = len(generator)
        queue = data_adapter.BatchQueue(generator, int(math.ceil(steps)), workers=workers,
                                        use_multiprocessing=use_multiprocessing,
                                        max_queue_size=max_queue_size)
        variables = None
        outputs = []
        for item in queue:
            x, _, _ = data_adapter.unpack_batch(item)
            xs = self._prepare_x(x)
            if variables is None:
                variables = self._current_variables()
            out, variables = self._run_predict(variables, _to_device(xs))
            outputs.append(out)
        return self._concat_outputs(outputs)


def _prefetch_to_device(batches, ahead=2):
    """Yields `(device batch, size)`, starting the host-to-device copy of the next
    `ahead` batches before the current one is used (the copies are asynchronous)."""
    import collections
    pending = collections.deque()
    for xs, ys, sws, num in batches:
        pending.append((_to_device((xs, ys, sws)), num))
        if len(pending) > ahead:
            yield pending.popleft()
    while pending:
        yield pending.popleft()


def _gather(data, idx):
    return jax.tree_util.tree_map(lambda a: a[idx], data)


def _to_device(tree):
    return jax.tree_util.tree_map(jnp.asarray, tree)


def _mask_signature(mask):
    return tuple(sorted((k, _mask_signature(v) if isinstance(v, dict) else bool(v))
                        for k, v in mask.items()))


def _should_validate(epoch, validation_freq):
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return (epoch + 1) in validation_freq
