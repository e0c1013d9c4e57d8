"""The Keras training API on `Model`: `compile` makes a `jkeras.trainer.Trainer`, and
every training method delegates to it (see `jkeras/trainer/`)."""
import jax
import jax.numpy as jnp
import numpy as np

from jkeras.engine import host_values

__all__ = ["TrainingMixin"]


def _trainer_modules():
    from jkeras.trainer import loop, trainer
    return loop, trainer


def _trainer_inputs():
    from jkeras.trainer import inputs
    return inputs


class TrainingMixin:
    """compile / fit / evaluate / predict and the batch methods, for `Model`."""

    def _init_training_state(self):
        self.optimizer = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._trainer = None
        self._predictor = None

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                sample_weight_mode=None, weighted_metrics=None, target_tensors=None,
                steps_per_execution=1, run_eagerly=None, jit_compile=None, **kwargs):
        from jkeras import optimizers
        from jkeras.trainer import compile as compile_module
        unknown = set(kwargs) - {"distribute", "experimental_steps_per_execution"}
        if unknown:
            raise TypeError(f"Invalid keyword argument(s) in `compile()`: {sorted(unknown)}")
        if "experimental_steps_per_execution" in kwargs:
            steps_per_execution = kwargs["experimental_steps_per_execution"]
        if isinstance(steps_per_execution, bool) or \
                not isinstance(steps_per_execution, int) or steps_per_execution < 1:
            raise ValueError(
                "`steps_per_execution` must be a positive integer. Received: "
                f"steps_per_execution={steps_per_execution!r}")
        if optimizer is None or isinstance(optimizer, (bool, int, float, list, tuple, set)):
            raise ValueError(
                "`optimizer` must be an optimizer name (such as 'adam'), its config dict or "
                f"an optimizer instance. Received: optimizer={optimizer!r} of type "
                f"{type(optimizer).__name__}")
        if run_eagerly is not None and not isinstance(run_eagerly, bool):
            raise TypeError("`run_eagerly` must be True, False or None. Received: "
                            f"run_eagerly={run_eagerly!r}")
        resolved = optimizers.get(optimizer)
        if self.dtype_policy.name == "mixed_float16":
            # As Keras: float16 gradients underflow without dynamic loss scaling.
            from jkeras.mixed_precision import LossScaleOptimizer
            if not isinstance(resolved, LossScaleOptimizer):
                resolved = LossScaleOptimizer(resolved)
        from jkeras.engine import added_losses
        targets = compile_module.CompiledTargets(
            self._output_names_for_compile(), self._output_shapes_for_compile(), loss,
            loss_weights, metrics, weighted_metrics, sample_weight_mode,
            added_metrics=added_losses.metric_names(self))
        _, trainer = _trainer_modules()
        old = self._trainer
        if old is not None and old.running:
            raise RuntimeError(f"Model {self.name} cannot be compiled while it trains.")
        self.optimizer = resolved
        self.loss = loss
        self.loss_weights = loss_weights
        self._compile_metrics = metrics
        self._weighted_metrics = weighted_metrics
        self.sample_weight_mode = sample_weight_mode
        self._trainer = trainer.Trainer(self, resolved, targets, steps_per_execution)
        if old is not None and old.optimizer is resolved:
            # Recompiling with the same optimizer object keeps its state (Keras does).
            self._trainer.opt_state, self._trainer.key = old.opt_state, old.key
            self._trainer.step = old.step
            self._trainer._opt_signature = getattr(old, "_opt_signature", None)
        self.compiled = True

    @property
    def _targets(self):
        return self._trainer.targets if self._trainer is not None else None

    @property
    def _steps_per_execution(self):
        return self._trainer.steps_per_execution if self._trainer is not None else 1

    def _output_names_for_compile(self):
        names = getattr(self, "output_names", None)
        return list(names) if names else ["output_1"]

    def _output_shapes_for_compile(self):
        outputs = getattr(self, "outputs", None)
        if outputs:
            return [t.shape for t in outputs]
        return [None] * len(self._output_names_for_compile())

    def _input_tensors(self):
        return list(getattr(self, "inputs", None) or [])

    @property
    def metrics_names(self):
        return [] if self._trainer is None else self._trainer.targets.metric_names

    @property
    def run_eagerly(self):
        return False

    def _assert_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(
                f"You must compile your model before {what}. Use `model.compile(optimizer, "
                "loss)`.")

    def _has_stateful_layers(self):
        return any(getattr(layer, "stateful", False) for layer in self._all_leaf_layers())

    def _trainable_mask_tree(self):
        """Which params train: the set fixed at compile when compiled (Keras 2's rule)."""
        if self._trainer is None:
            return self._trainable_mask(self.trainable)
        ids = self._trainer.trainable_ids()
        return jax.tree_util.tree_map(lambda cell: id(cell) in ids,
                                      self._cell_tree()["params"])

    # ------------------------------------------------------------------ training
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
        loop, _ = _trainer_modules()
        _trainer_inputs().check_run_arguments(
            verbose, callbacks, None, shuffle, validation_steps, validation_freq)
        return loop.fit(self._trainer, x, y, batch_size, epochs, verbose, callbacks,
                        validation_split, validation_data, shuffle, class_weight,
                        sample_weight, initial_epoch, steps_per_epoch, validation_steps,
                        validation_batch_size, validation_freq, max_queue_size, workers,
                        use_multiprocessing)

    def evaluate(self, x=None, y=None, batch_size=None, verbose=1, sample_weight=None,
                 steps=None, callbacks=None, max_queue_size=10, workers=1,
                 use_multiprocessing=False, return_dict=False, **kwargs):
        """Loss and metrics over the data, averaged over samples."""
        self._assert_compiled("evaluating it")
        loop, _ = _trainer_modules()
        _trainer_inputs().check_run_arguments(verbose, callbacks, steps)
        return loop.evaluate(self._trainer, x, y, batch_size, verbose, sample_weight, steps,
                             callbacks, max_queue_size, workers, use_multiprocessing,
                             return_dict)

    def _inference_trainer(self):
        """The compiled trainer, or one made for inference only (predict before compile)."""
        if self._trainer is not None:
            return self._trainer
        if self._predictor is None or self._predictor.model is not self:
            from jkeras import optimizers
            from jkeras.trainer import compile as compile_module
            _, trainer = _trainer_modules()
            targets = compile_module.CompiledTargets(
                self._output_names_for_compile(), self._output_shapes_for_compile(), None)
            self._predictor = trainer.Trainer(self, optimizers.get("sgd"), targets)
        return self._predictor

    def predict(self, x, batch_size=None, verbose=0, steps=None, callbacks=None,
                max_queue_size=10, workers=1, use_multiprocessing=False):
        """Outputs for `x`, one jitted forward pass per batch."""
        loop, _ = _trainer_modules()
        _trainer_inputs().check_run_arguments(verbose, callbacks, steps)
        if not self.built:
            from jkeras.trainer import inputs
            if not hasattr(x, "__next__"):
                inputs.build_from_data(self, x)
        return loop.predict(self._inference_trainer(), x, batch_size, verbose, steps,
                            max_queue_size, workers, use_multiprocessing)

    def predict_on_batch(self, x):
        loop, _ = _trainer_modules()
        return jax.tree_util.tree_map(np.asarray,
                                      loop.predict_on_batch(self._inference_trainer(), x))

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       reset_metrics=True, return_dict=False):
        """One optimizer step on one batch; returns the loss (and metrics) of that batch."""
        self._assert_compiled("training it")
        loop, _ = _trainer_modules()
        return loop.train_on_batch(self._trainer, x, y, sample_weight, class_weight,
                                   reset_metrics, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True,
                      return_dict=False):
        self._assert_compiled("evaluating it")
        loop, _ = _trainer_modules()
        return loop.test_on_batch(self._trainer, x, y, sample_weight, reset_metrics,
                                  return_dict)

    def reset_metrics(self):
        if self._trainer is not None:
            self._trainer._batch_metrics = None
            self._trainer._test_batch_metrics = None

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
        return self.predict(generator, steps=steps, max_queue_size=max_queue_size,
                            workers=workers, use_multiprocessing=use_multiprocessing,
                            verbose=verbose)

    # ------------------------------------------------------------------ checkpoints
    def get_training_state(self):
        """Everything a bit-exact resume needs: variables, optimizer state, PRNG key and
        the step counter the per-step keys derive from, as host NumPy arrays:
        `{"variables": {"params", "state"}, "opt_state", "key", "step"}`."""
        trainer = self._trainer
        opt_state = key = None
        step = 0
        if trainer is not None:
            opt_state, key, step = (trainer.current_opt_state(), trainer.current_key(),
                                    trainer.current_step())
        return host_values.to_host({"variables": self._get_vars(), "opt_state": opt_state,
                                    "key": key, "step": jnp.asarray(step, jnp.int32)})

    def set_training_state(self, snapshot):
        """Restores what `get_training_state` returned (structures must match)."""
        self._set_vars(jax.tree_util.tree_map(jnp.asarray, snapshot["variables"]))
        trainer = self._trainer
        if trainer is None:
            return
        opt_state = snapshot.get("opt_state")
        if opt_state is not None:
            opt_state = jax.tree_util.tree_map(jnp.asarray, opt_state)
            trainer.set_opt_state(opt_state)
            if hasattr(self.optimizer, "observe_state"):
                self.optimizer.observe_state(opt_state)
        trainer.set_key_and_step(snapshot.get("key"), snapshot.get("step"))

    def optimizer_state_template(self):
        """A freshly initialised optimizer state for this model (for restoring into)."""
        self._assert_compiled("building its optimizer state")
        return self._trainer.optimizer_state_template()
