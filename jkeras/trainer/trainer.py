"""The `Trainer`: one per compiled model; runs fit, evaluate, predict and the batch methods.

It owns the optimizer state, the PRNG key and the step counter between calls, builds the
train state from the model's weight cells when a call starts, binds the cells to it for
the call's duration (so callbacks read and write the live state), and gives them their
arrays back when the call ends. Its loops are the only place callbacks are scheduled.
"""
import concurrent.futures
import copy
import threading
import warnings
import weakref

import jax
import jax.numpy as jnp
import numpy as np

from jkeras import _config
from jkeras.engine import data_adapter
from jkeras.engine.variables import is_exposed
from jkeras.trainer import casts as casts_module
from jkeras.trainer import epoch_iterator, inputs, step as step_module
from jkeras.trainer.placement import Placement
from jkeras.trainer.state import ModelVariables, StateBinding, trainable_mask

__all__ = ["Trainer"]


_COMPILER = None
_COMPILER_LOCK = threading.Lock()


def _compiler():
    """Threads for XLA compiles started ahead of a program's first call."""
    global _COMPILER
    with _COMPILER_LOCK:
        if _COMPILER is None:
            _COMPILER = concurrent.futures.ThreadPoolExecutor(
                max_workers=2, thread_name_prefix="jkeras-compile")
        return _COMPILER


def zeros_on_device():
    """Whether zeroed accumulators are made by a program (on an accelerator) rather than
    copied from the host (on the CPU; see `Trainer.fresh_metrics`)."""
    return jax.default_backend() != "cpu"


def _without_casts(shardings):
    """The state's shardings without the weights' copies (programs that give none); None
    (not known yet: let XLA choose) stays None."""
    if shardings is None:
        return None
    return {k: v for k, v in shardings.items() if k != "casts"}


def _batch_inputs(kind, batches):
    """The inputs (a list of arrays or shapes) of one batch of `batches`: a batch
    ("batch"), or batches stacked on a leading axis ("stack", "chunk")."""
    x = batches[0]
    if kind in ("chunk", "stack"):
        return [jax.ShapeDtypeStruct(a.shape[1:], a.dtype) for a in x]
    return list(x)


def _sixteen_bit(layer):
    dtype = getattr(layer, "compute_dtype", None)
    return dtype is not None and jnp.dtype(dtype) in casts_module.SIXTEEN_BIT


def whole_chunk(count, chunk):
    """Whether a chunk whose first `count` batches are real runs in one scan (all of it
    real, more than one batch) rather than a dispatch per batch."""
    return count > 1 and count == jax.tree_util.tree_leaves(chunk)[0].shape[0]


def _with_results(step, targets):
    """`step`, also returning the values of the new state's metrics."""
    def run(state, batch):
        state = step(state, batch)
        return state, targets.results(state["metrics"])
    return run


class Trainer:
    """Training state and loops for `model`, compiled with `optimizer` and `targets`."""

    def __init__(self, model, optimizer, targets, steps_per_execution=1):
        self.model = model
        self.optimizer = optimizer
        self.targets = targets
        self.steps_per_execution = steps_per_execution
        self.tx = optimizer.transformation()
        self.opt_state = None
        self.key = None
        self.step = 0
        self._trainable_ids = trainable_mask(model) if model.built else None
        self._warned_discrepancy = False
        self._start_runtime()

    def _start_runtime(self):
        """What a trainer holds only while it is used in this process: compiled programs,
        device caches and placements, a running binding, kept accumulators."""
        self.binding = None
        self.resume_epoch = None
        self.cache = epoch_iterator.DeviceCache()
        self._variables = None
        self._variables_ids = None
        self._jitted = {}
        self._ahead = {}
        self._compiled_ahead = False
        self._batch_metrics = None
        self._test_batch_metrics = None
        self._placement = None
        self._shardings = None
        self._zero_metrics = None
        self._shared_zero_metrics = None
        self._spare_metrics = None
        self._handed_out = None  # {id: weak reference} of the arrays `_keep` gave out
        self._cast_dtypes = None  # which weights keep 16-bit copies (`casts.plan`)
        self._any_casts = False
        self.casts = None  # the copies a call left, handed to the next with the state

    def __deepcopy__(self, memo):
        """The trainer of a copied model (`copy.deepcopy(model)`): the same settings and
        optimizer state, over the copy's own cells; nothing compiled, placed, cached or
        running is carried over (see `_cells_by_id`)."""
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        copy.deepcopy(self.model, memo)  # first: every cell gets its copy in memo
        new._start_runtime()
        for name, value in self._carried().items():
            setattr(new, name, copy.deepcopy(value, memo))
        for name, cells in self._cells_by_id(lambda i: memo.get(i)).items():
            setattr(new, name, _ids_of(cells))
        return new

    def __getstate__(self):
        """A pickled trainer (`pickle.dumps(model)`) carries its settings and optimizer
        state, not its runtime (see `_start_runtime`); the cells it names by id it keeps
        as the cells themselves, which the pickle shares with the model."""
        state = self._carried()
        cells = {id(c): c for c in jax.tree_util.tree_leaves(self.model._cell_tree())}
        state.update(self._cells_by_id(cells.get))
        return state

    def __setstate__(self, state):
        self._start_runtime()
        vars(self).update(state)
        for name in _CELL_ID_ATTRIBUTES:
            if getattr(self, name, None) is not None:
                setattr(self, name, _ids_of(getattr(self, name)))

    def _carried(self):
        """The attributes a copy or a pickle carries: all but the runtime's, with the
        optimizer state, key and step as they stand now (inside a `fit`, a callback
        copying the model, the running state's, which `end` keeps only when it stops)."""
        carried = {name: value for name, value in vars(self).items()
                   if name not in _RUNTIME_ATTRIBUTES}
        if self.binding is not None:
            carried.update({k: self.binding.state[k] for k in ("opt_state", "key", "step")})
        return carried

    def _cells_by_id(self, cell_of):
        """The attributes that name cells by `id()`, with each id replaced by
        `cell_of(id)`: which cells train, and which cells the optimizer state was made
        for. A copy's or a loaded pickle's cells have other ids: kept as they were, the
        copy trained nothing and its optimizer state was thrown away at its next `fit`."""
        out = {}
        if self._trainable_ids is not None:
            out["_trainable_ids"] = [cell_of(i) for i in self._trainable_ids]
        signature = getattr(self, "_opt_signature", None)
        if signature is not None:
            paths, trainable, non_trainable = signature
            out["_opt_signature"] = (paths, [cell_of(i) for i in trainable],
                                     [cell_of(i) for i in non_trainable])
        return out

    def resume_at(self, epoch):
        """Makes the running `fit` start at `epoch` (a callback restoring a backup)."""
        self.resume_epoch = int(epoch)

    # ------------------------------------------------------------------ variables
    def variables(self):
        """The model's cells, split by what was trainable at compile (or first build)."""
        cells = self.model._cell_tree()
        ids = [id(c) for c in jax.tree_util.tree_leaves(cells)]
        if self._variables is None or self._variables_ids != ids:
            self._variables = ModelVariables(self.model, self.trainable_ids())
            self._variables_ids = ids
            self._jitted, self._ahead, self._compiled_ahead = {}, {}, False
            self._forget_casts()
        return self._variables

    # ------------------------------------------------------------------ placement
    def distribution(self):
        """The model's own distribution (`multi_gpu_model`), else the global one."""
        own = getattr(self.model, "_distribution", None)
        return own if own is not None else _config.get_distribution()

    def placement(self):
        """Where arrays go now; a change of distribution drops what was compiled and
        cached for the old one."""
        dist = self.distribution()
        if self._placement is None or self._placement.distribution is not dist:
            self._placement = Placement(dist)
            self.cache = epoch_iterator.DeviceCache(placement=self._placement)
            self._jitted, self._ahead, self._compiled_ahead = {}, {}, False
            self._shardings = None
            self._shared_zero_metrics = self._spare_metrics = None
            self._forget_casts()
        return self._placement

    def state_shardings(self, state):
        """Shardings for every part of `state` under the current distribution: variables
        as its layouts say, optimizer slots like their variables, the rest replicated."""
        dist = self.distribution()
        if dist is None:
            return None
        rep = dist.replicated()
        trainable, non_trainable = self._variable_shardings(dist)
        placed = jax.tree_util.tree_map(
            lambda a, sh: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=sh),
            state["trainable"], trainable)
        opt = jax.jit(self.tx.init).lower(placed).compile().output_shardings
        mesh_devices = set(dist.jax_mesh.devices.flat)
        # Constants made inside init (hyperparameters, counts) may come back on one
        # device: they are replicated like the rest.
        opt = jax.tree_util.tree_map(
            lambda sh: sh if set(sh.device_set) == mesh_devices else rep, opt)
        metrics = jax.eval_shape(self.targets.init_metric_state)
        out = {"trainable": trainable, "non_trainable": non_trainable, "opt_state": opt,
               "key": rep, "step": rep,
               "metrics": jax.tree_util.tree_map(lambda _: rep, metrics)}
        if self._any_casts:
            out["casts"] = casts_module.select(self._cast_dtypes, trainable)
        return out

    def _variable_shardings(self, dist):
        """The variables' shardings under `dist`: a tree like the trainable part of the
        state, and a list for the non-trainable part."""
        mvars = self.variables()
        trainable = mvars.trainable_tree(
            lambda path, cell: dist.get_variable_layout("/".join(path), cell.shape).sharding())
        non_trainable = [dist.get_variable_layout(mvars.names[id(c)], c.shape).sharding()
                         for c in mvars.non_trainable]
        return trainable, non_trainable

    def weights_span_processes(self):
        """Whether the distribution splits some variable over several processes' devices
        (then reading it is a collective every process joins)."""
        dist = self.distribution()
        if dist is None or jax.process_count() == 1:
            return False
        shardings = jax.tree_util.tree_leaves(self._variable_shardings(dist))
        return any(not s.is_fully_replicated and not s.is_fully_addressable
                   for s in shardings)

    def _place_state(self, state, shapes_only=False):
        """`state`'s parts (None ones left out of placing) where the distribution puts
        them; `shapes_only`: their shapes with those shardings (nothing moves)."""
        placement = self.placement()
        if not placement.distributed:
            return state
        if self._shardings is None:
            self._shardings = self.state_shardings(state)
        present = {k: v for k, v in state.items() if v is not None}
        shardings = {k: self._shardings[k] for k in present}
        if shapes_only:
            placed = jax.tree_util.tree_map(
                lambda a, sharding: jax.ShapeDtypeStruct(
                    a.shape, a.dtype, weak_type=getattr(a, "weak_type", False),
                    sharding=sharding), present, shardings)
        else:
            placed = placement.place_tree(present, shardings)
        return dict(state, **placed)

    def check_trainable_discrepancy(self):
        """Warns once when the trainable flags changed since compile (Keras 2's rule: the
        model trains what it was compiled with until it is compiled again)."""
        if self._trainable_ids is None or self._warned_discrepancy:
            return
        if trainable_mask(self.model) != self._trainable_ids:
            self._warned_discrepancy = True
            warnings.warn(
                "Discrepancy between trainable weights and collected trainable weights, "
                "did you set `model.trainable` without calling `model.compile` after ?",
                UserWarning, stacklevel=4)

    def trainable_ids(self):
        if self._trainable_ids is None:
            self._trainable_ids = trainable_mask(self.model)
        return self._trainable_ids

    # ------------------------------------------------------------------ the state
    @property
    def running(self):
        return self.binding is not None

    def _fresh_state(self, mvars):
        """The state's parts as they stand between calls; `opt_state` is None until the
        first `begin` (which builds it inside its program: no compile of its own)."""
        trainable, non_trainable = mvars.values()
        signature = mvars.signature()
        if self.opt_state is not None and self._opt_signature != signature:
            self.opt_state = None  # the variables changed shape: a new optimizer state
        self._opt_signature = signature
        if self.key is None:
            # Raw threefry key bits from the host seed stream: no PRNG op to compile.
            self.key = jax.device_put(_config.next_key_bits())
        # Device arrays from the first call on, like the step's outputs later: a numpy
        # argument would make a second cache entry (a second compile) of each program.
        step = self.step if isinstance(self.step, jax.Array) else \
            jax.device_put(np.int32(self.step))
        return {"trainable": trainable, "non_trainable": non_trainable,
                "opt_state": self.opt_state, "key": self.key, "step": step}

    def fresh_metrics(self):
        """Zeroed metric accumulators in buffers of their own (the step donates them):
        the spare ones if made (`make_spare_metrics`), else new ones."""
        self.placement()
        spare, self._spare_metrics = self._spare_metrics, None
        return spare if spare is not None else self._zero_metrics_now()

    def make_spare_metrics(self):
        """Makes the next `fresh_metrics` ahead. The loops call it just before the host
        waits for an epoch's logs, when making them costs no time: the next epoch, or
        the next `fit`'s first step, then finds them made."""
        self.placement()
        if self._spare_metrics is None:
            self._spare_metrics = self._zero_metrics_now()

    def _zero_metrics_now(self):
        """On an accelerator a program with no inputs makes them: a copy from the host
        blocked the H200 machine's host for 1-2 ms at each epoch's start, with the device
        idle (`benchmarks/kernel_trace.py`). On the CPU the copy costs nothing. (An
        XLA:CPU abort once blamed on that program is the limit of 32 programs in flight
        per device, which `Placement.dispatched` keeps the loops under.)"""
        if zeros_on_device():
            return self._fn("zero_metrics")()
        if self._zero_metrics is None:
            self._zero_metrics = jax.device_get(jax.jit(self.targets.init_metric_state)())
        return self.placement().put_replicated_tree(self._zero_metrics)

    def shared_zero_metrics(self):
        """Zeroed accumulators for programs that donate nothing, made once."""
        if self._shared_zero_metrics is None:
            self._shared_zero_metrics = self._zero_metrics_now()
        return self._shared_zero_metrics

    def begin(self):
        """Binds the model's cells to a new train state, which the first step donates."""
        if self.binding is not None:
            return False
        mvars = self.variables()
        self.placement()
        parts = self._fresh_state(mvars)
        state = self._handed_over(parts)
        if state is None:
            state = self._fn("begin")(self._place_state(parts))
            if self._zero_metrics is None and not zeros_on_device():
                self._zero_metrics = jax.device_get(state["metrics"])  # no CPU transfer
        self.binding = StateBinding(mvars)
        self.binding.bind(state)
        return True

    def _handed_over(self, parts):
        """The train state made of `parts` themselves, or None where the `begin` program
        must make it. The first step donates these arrays, as Keras 3's donates its
        variables' values, so they must be arrays this trainer made and gave out when it
        last stopped (the cells' weights, the optimizer state, key and step), each held
        once, none handed to user code since (`Weight.value()`, `variables_tree()`:
        another model's weight may have been assigned from it): while bound, the cells
        read copies of the state. The first call, and any after the cells were given
        other arrays (`set_weights`, a load, another model training a shared layer) or
        gave theirs out, copies them in the program instead. No program runs
        here: that saved each later `fit` a dispatch and a copy of every weight and slot."""
        if parts["opt_state"] is None or self._handed_out is None:
            return None
        casts = self.casts
        leaves = jax.tree_util.tree_leaves(parts) + jax.tree_util.tree_leaves(casts)
        owned = self._handed_out
        if len(leaves) != len(owned) or len({id(a) for a in leaves}) != len(leaves):
            return None
        for a in leaves:
            ref = owned.get(id(a))
            if ref is None or ref() is not a or is_exposed(a):
                return None
        self._handed_out = None  # given once
        # (placing returns these arrays where they already sit, or new copies no one holds)
        state = dict(self._place_state(parts), metrics=self.fresh_metrics())
        if casts is not None:
            state["casts"] = casts
        return state

    def end(self):
        if self.binding is None:
            return
        binding, self.binding = self.binding, None
        self._keep(binding.release())

    def _keep(self, state):
        """Keeps what outlives a call besides the weights: optimizer state, key, step;
        notes the arrays given out (see `_handed_over`)."""
        self.opt_state = state["opt_state"]
        self.key = state["key"]
        self.step = state["step"]
        self.casts = state.get("casts")
        leaves = jax.tree_util.tree_leaves(
            {k: state[k] for k in ("trainable", "non_trainable", "opt_state", "key", "step")})
        leaves += jax.tree_util.tree_leaves(self.casts)
        self._handed_out = {id(a): weakref.ref(a) for a in leaves
                            if isinstance(a, jax.Array)}

    @property
    def state(self):
        return self.binding.state

    @state.setter
    def state(self, value):
        self.binding.state = value

    def read_state(self):
        """The variables part of the state: the live one while training, else the cells'."""
        if self.binding is not None:
            state = self.binding.state
            return {"trainable": state["trainable"], "non_trainable": state["non_trainable"]}
        trainable, non_trainable = self.variables().values()
        self.placement()
        return self._place_state({"trainable": trainable, "non_trainable": non_trainable})

    def set_opt_state(self, opt_state):
        self.opt_state = opt_state
        self._opt_signature = self.variables().signature()
        if self.binding is not None:
            self.state = dict(self.state, opt_state=jax.tree_util.tree_map(jnp.copy,
                                                                           opt_state))

    def optimizer_state_template(self):
        trainable, _ = self.variables().values()
        return jax.jit(self.tx.init)(trainable)

    def current_opt_state(self):
        return self.state["opt_state"] if self.binding is not None else self.opt_state

    def current_key(self):
        return self.state["key"] if self.binding is not None else self.key

    def current_step(self):
        return self.state["step"] if self.binding is not None else self.step

    def set_key_and_step(self, key=None, step=None):
        if key is not None:
            self.key = jnp.asarray(key)
            if self.binding is not None:
                self.state = dict(self.state, key=jnp.copy(self.key))
        if step is not None:
            self.step = int(np.asarray(step))
            if self.binding is not None:
                self.state = dict(self.state, step=jnp.asarray(self.step, jnp.int32))

    # ------------------------------------------------------------------ jitted functions
    def _jit(self, kind, fn, donate=(), out=None):
        """jax.jit of `fn` as program `kind` (its name in JAX's logs and profiles), with
        output shardings under a distribution (`out`: "state" for the train state,
        "replicated", or a function of the state shardings)."""
        def program(*args):
            return fn(*args)
        program.__name__ = program.__qualname__ = kind
        # Donated inputs the program never reads (the last batch's loss, overwritten) are
        # kept: JAX pairs donated buffers with outputs of the same shape in order, and a
        # dropped one shifts every later pair, which costs a copy of each.
        kwargs = {"donate_argnums": donate, "keep_unused": bool(donate)}
        if out is None or not self.placement().distributed:
            return jax.jit(program, **kwargs)
        shardings = self._shardings
        rep = self.distribution().replicated()
        outs = {"state": shardings, "replicated": rep}.get(out) if isinstance(out, str) \
            else out(shardings, rep)
        return jax.jit(program, out_shardings=outs, **kwargs)

    def _replicated_trace(self, fn):
        """`fn`, traced (under a distribution) with the batch's replica split declared, so
        that layers taking per-replica statistics (BatchNormalization) see it."""
        dist = self.distribution()
        if dist is None or getattr(dist, "batch_dim_name", None) is None:
            return fn
        mesh, axis, count = dist.jax_mesh, dist.batch_dim_name, dist.batch_size_on_axis()

        def traced(*args):
            with _config.tracing_replicas(mesh, axis, count):
                return fn(*args)
        return traced

    def _fn(self, kind):
        self.placement()
        fn = self._jitted.get(kind)
        if fn is not None:
            if self._ahead:
                self._await(kind)
            return fn
        mvars = self.variables()
        model, targets = self.model, self.targets
        predict_out = (lambda sh, rep: (rep, sh["non_trainable"]))
        if kind.startswith("train"):
            train = step_module.make_train_step(model, mvars, targets, self.tx,
                                                deferred=kind == "train_scan")
            if kind == "train_detached":
                # train_on_batch outside fit: reads the cells' own arrays, so it donates
                # nothing (no copy of the weights each call), and returns the metrics'
                # values with the new state (no second program to dispatch; no copies).
                fn = self._jit(kind, self._replicated_trace(_with_results(train, targets)), (),
                               lambda shardings, rep: (_without_casts(shardings), rep))
            else:
                if kind == "train_scan":
                    # (unrolled only for an explicit steps_per_execution: see unrolling.py)
                    train = step_module.scan_steps(train, targets,
                                                   unroll_small=self.steps_per_execution > 1)
                elif kind == "train_chunk":
                    train = step_module.chunk_step(train)
                fn = self._jit(kind, self._replicated_trace(train), (0,), "state")
        elif kind == "test":
            # The test programs donate nothing: their accumulators are a few scalars,
            # and zeros uploaded once can start every evaluate.
            fn = self._jit(kind, step_module.make_test_step(model, mvars, targets), (),
                           "replicated")
        elif kind == "test_results":  # test_on_batch: no donation, values returned too
            test = step_module.make_test_step(model, mvars, targets)

            def test_results(state, metrics, batch):
                metrics = test(state, metrics, batch)
                return metrics, targets.results(metrics)
            fn = self._jit(kind, test_results, (), lambda _, rep: (rep, rep))
        elif kind == "test_chunk":
            fn = self._jit(kind, step_module.scan_chunk_test(
                step_module.make_test_step(model, mvars, targets)), (), "replicated")
        elif kind == "predict":
            fn = self._jit(kind, step_module.make_predict_step(model, mvars), (), predict_out)
        elif kind == "predict_chunk":
            fn = self._jit(kind, step_module.scan_chunk_predict(
                step_module.make_predict_step(model, mvars)), (), predict_out)
        elif kind == "begin":
            # Own copies of the state (the step donates it; the cells, the kept optimizer
            # state and shared constants must survive that), the optimizer state on the
            # first call, and zeroed metrics: one program before the first step.
            tx = self.tx

            def begin(parts):
                copied = jax.tree_util.tree_map(jnp.copy, parts)
                if copied["opt_state"] is None:
                    copied["opt_state"] = tx.init(copied["trainable"])
                return dict(copied, step=copied["step"].astype(jnp.int32),
                            metrics=targets.init_metric_state())
            # (the weights' 16-bit copies are made before the first step: `_ensure_casts`)
            fn = self._jit(kind, begin, (), lambda shardings, _: _without_casts(shardings))
        elif kind == "make_casts":
            dtypes = self._cast_dtypes
            fn = self._jit(kind, lambda trainable: casts_module.make(trainable, dtypes), (),
                           lambda shardings, _: shardings["casts"])
        elif kind == "opt_init":
            fn = self._jit(kind, self.tx.init, (), lambda shardings, _: shardings["opt_state"])
        elif kind == "results":
            fn = self._jit(kind, targets.results, (), "replicated")
        elif kind == "zero_metrics":
            fn = self._jit(kind, targets.init_metric_state, (), "replicated")
        self._jitted[kind] = fn
        return fn

    # ------------------------------------------------------------------ compiling ahead
    def compile_ahead(self, kind, *args):
        """Starts XLA's compile of program `kind` for arguments like `args` (arrays or
        their `ShapeDtypeStruct`s) on a worker thread; the program's first call waits for
        it and then finds it in JAX's cache. Tracing and lowering run here, on the
        calling thread (they run the model's Python); the compile releases the GIL, so
        it runs beside the host's other work before the first step (the begin program,
        the first batches' gather, the callbacks' on_train_begin)."""
        if kind in self._ahead or not _config.compile_ahead():
            return
        lowered = self._fn(kind).lower(*args)
        self._ahead[kind] = _compiler().submit(lowered.compile)

    def _await(self, kind):
        pending = self._ahead.pop(kind, None)
        if pending is not None:
            # A failed compile is left to the call, which compiles again and raises
            # there, where the user's traceback makes sense.
            concurrent.futures.wait([pending])

    def _abstract(self, tree):
        """Shapes of `tree`'s arrays, shardings kept only under a distribution (on one
        device the call's committed arrays lower the same as no sharding)."""
        distributed = self.placement().distributed

        def spec(a):
            return jax.ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type,
                                        sharding=a.sharding if distributed else None)
        return jax.tree_util.tree_map(spec, tree)

    def compile_first_step(self, unit, stepwise):
        """Compiles ahead the program that will run `unit`, the first of a `fit`, on
        the state `begin` will make, and the metrics' results program (see
        `compile_ahead`). `stepwise`: the loop dispatches one batch at a time. Only a
        trainer's first `fit` does this: later ones find their programs compiled (or
        compile a new shape as they go), and the shapes' tracing would cost every `fit`
        about a millisecond of host time."""
        mvars = self.variables()  # first: finding new cells clears the flag below
        if self.binding is not None or self._compiled_ahead:
            return
        self._compiled_ahead = True
        # As shapes: placing the weights here would move them once more before `begin`.
        parts = self._place_state(self._fresh_state(mvars), shapes_only=True)
        state = self._abstract(jax.eval_shape(self._fn("begin"), parts))
        spec = self._abstract(unit.spec())
        self._plan_casts(state, unit.kind, spec[0] if unit.kind == "chunk" else spec)
        if self._any_casts:
            dtypes = self._cast_dtypes
            state["casts"] = self._abstract(jax.eval_shape(
                lambda t: casts_module.make(t, dtypes), state["trainable"]))
        if unit.kind == "chunk":
            chunk = spec[0]
            if not stepwise and whole_chunk(unit.count, chunk):
                self.compile_ahead("train_scan", state, chunk)
            else:
                self.compile_ahead("train_chunk", state, chunk, self.index(0))
        else:
            self.compile_ahead("train_scan" if unit.kind == "stack" else "train", state,
                               spec)
        self.compile_ahead("results", state["metrics"])
        if zeros_on_device():
            self.compile_ahead("zero_metrics")  # the next epoch's accumulators

    def metric_results(self, metrics):
        """The metrics' results, dispatched (device values: nothing waits yet)."""
        return self._fn("results")(metrics)

    def logs_from(self, results, batch=False):
        """`{name: value}` on the host from `metric_results`' values (waits for them).
        Running values (an epoch's, as Keras 2's BaseLogger averaged them); `batch=True`
        gives "loss" as the latest batch's own, as Keras 2 reported it per batch."""
        values = jax.device_get(results)
        names = self.targets.metric_names
        ordered = [float(np.asarray(v)) if np.ndim(v) == 0 else np.asarray(v)
                   for v in values[:len(names)]]
        if batch:
            ordered[names.index("loss")] = float(np.asarray(values[-1]))
        return Logs(names, ordered)

    def metric_logs(self, metrics):
        return self.logs_from(self.metric_results(metrics))

    def _synced(self, state):
        """`state` with the optimizer's host-side changes (lr, iterations) written in."""
        sync = getattr(self.optimizer, "sync_state", None)
        if sync is not None:
            opt_state = state["opt_state"]
            new = sync(opt_state)
            if new is not opt_state:
                state = dict(state, opt_state=new)
        return state

    def _sync_optimizer(self):
        self.state = self._synced(self.state)

    def _observe_optimizer(self, opt_state=None):
        observe = getattr(self.optimizer, "observe_state", None)
        if observe is not None:
            observe(self.state["opt_state"] if opt_state is None else opt_state)

    # ------------------------------------------------------------------ weight copies
    def _plan_casts(self, state, kind, batches):
        """Finds, once per set of cells, which weights the train state carries 16-bit
        copies of (`casts.py`), tracing the step's uses of them on `state`'s shapes and
        those of one batch of `batches` (a unit's item of `kind`). A model with no 16-bit
        layer keeps none, untraced; a trace that fails keeps none too (the step's own
        trace then reports the error)."""
        if self._cast_dtypes is not None:
            return
        mvars = self.variables()
        trainable = state["trainable"]
        dtypes = jax.tree_util.tree_map(lambda _: None, trainable)
        if any(_sixteen_bit(layer) for layer in [self.model] + self.model._all_leaf_layers()):
            uses = self._replicated_trace(step_module.weight_uses(self.model, mvars))
            try:
                dtypes = casts_module.plan(uses, trainable, state["non_trainable"],
                                           _batch_inputs(kind, batches), state["key"])
            except Exception:  # noqa: BLE001 (see the docstring)
                pass
        self._cast_dtypes = dtypes
        self._any_casts = casts_module.any_copies(dtypes)
        if self._shardings is not None and self._any_casts:
            # (a new dict: programs made before hold the old one, and give no copies)
            self._shardings = dict(self._shardings, casts=casts_module.select(
                dtypes, self._shardings["trainable"]))

    def _ensure_casts(self, kind, batches):
        """Gives the live state its weights' 16-bit copies where it has none (the first
        call, or a call after the cells took other arrays), before a train program on
        `batches` (see `_plan_casts`)."""
        if self._cast_dtypes is None:
            self._plan_casts(self.state, kind, batches)
        if self._any_casts and self.state.get("casts") is None:
            self.state = dict(self.state, casts=self._fn("make_casts")(self.state["trainable"]))

    def _forget_casts(self):
        """Drops the plan and the kept copies (new cells, another placement): the next
        call begins from the cells (no hand-over) and plans again."""
        if self.casts is not None:
            self._handed_out = None
        self._cast_dtypes = self.casts = None
        self._any_casts = False

    def index(self, i):
        """Batch number `i` of a chunk as a device scalar, made once and reused (no
        upload per step)."""
        return self.placement().index(i)

    def train_step(self, kind, *args):
        """One dispatch on the live state: a batch ("batch"), a scan over stacked batches
        ("stack"), or batch `i` of a gathered chunk ("chunk": args are chunk, i)."""
        self._ensure_casts(kind, args[0])
        self._sync_optimizer()
        if kind == "chunk":
            chunk, i = args
            self.state = self._fn("train_chunk")(self.state, chunk, self.index(i))
        else:
            self.state = self._fn("train_scan" if kind == "stack" else "train")(self.state,
                                                                              *args)
        self.placement().dispatched(self.state["step"])
        self._observe_optimizer()

    def train_batch(self, host_batch, reset_metrics):
        """One step on a host batch (train_on_batch); returns the metrics' values on the
        device (`reset_metrics=False`: the previous call's accumulators run on). Inside
        `fit` (a callback's train_on_batch) it steps the live state and leaves the epoch's
        metrics as they were. Outside, one program reads the cells' arrays, donates
        nothing, returns the values with the new state, and the new weights go back into
        the cells: no copy of the weights, no `begin`."""
        kept = None if reset_metrics else self._batch_metrics
        placement = self.placement()
        if self.binding is not None:
            metrics = self.fresh_metrics() if kept is None else kept
            epoch_metrics = self.state["metrics"]
            self.state = dict(self.state, metrics=metrics)
            self.train_step("batch", placement.put_batch(host_batch))
            metrics = self.state["metrics"]
            self.state = dict(self.state, metrics=epoch_metrics)
            values = self.metric_results(metrics)
        else:
            mvars = self.variables()
            parts = self._place_state(self._fresh_state(mvars))
            if parts["opt_state"] is None:
                parts["opt_state"] = self._fn("opt_init")(parts["trainable"])
            metrics = self.shared_zero_metrics() if kept is None else kept
            state = self._synced(dict(parts, metrics=metrics))  # metrics already placed
            state, values = self._fn("train_detached")(state,
                                                       placement.batch_argument(host_batch))
            binding = StateBinding(mvars)
            binding.state = state
            self._keep(binding.release())  # the cells take the new weights
            self._observe_optimizer(self.opt_state)
            metrics = state["metrics"]
        self._batch_metrics = None if reset_metrics else metrics
        return values

    def test_batch(self, host_batch, reset_metrics):
        """test_on_batch's accumulators' values on the device (see `train_batch`)."""
        kept = None if reset_metrics else self._test_batch_metrics
        metrics, values = self._fn("test_results")(
            self.read_state(), self.shared_zero_metrics() if kept is None else kept,
            self.placement().batch_argument(host_batch))
        self._test_batch_metrics = None if reset_metrics else metrics
        return values

    def run_chunk(self, chunk, valid, count):
        """The first `count` batches of a gathered chunk, with no host work in between (no
        callback looks at them): a whole chunk in one scan, whose length is fixed by the
        batch's bytes (so it compiles once); a partial one a step at a time. A loop whose
        length is a device value would need one program for both, but the GPU runtime
        reads its condition back each turn and the host waits for the whole loop."""
        self._ensure_casts("chunk", chunk)
        self._sync_optimizer()
        state = self.state
        placement = self.placement()
        if whole_chunk(count, chunk):
            state = placement.dispatched(self._fn("train_scan")(state, chunk))
        else:
            fn = self._fn("train_chunk")
            for i in range(count):
                state = placement.dispatched(fn(state, chunk, self.index(i)))
        self.state = state
        self._observe_optimizer()

    # ------------------------------------------------------------------ data
    def array_feed(self, arrays, batch_size, shuffle, steps=None, seed=None):
        count = inputs.num_samples(*arrays)
        plan = epoch_iterator.epoch_plan(count, batch_size, shuffle,
                                         _config.next_seed() if seed is None else seed,
                                         steps)
        placement = self.placement()
        # An unshuffled plan is the same every epoch and call: its index tables are kept
        # on the device (no upload at the start of each evaluate, predict or fit).
        order_key = None if shuffle else (count, batch_size, steps)
        return epoch_iterator.ArrayFeed(tuple(arrays), plan, cache=self.cache,
                                        placement=placement, order_key=order_key), count

    def source_batches(self, feed, steps):
        """Host `(xs, ys, sws)` and size for each batch a generator or Sequence yields."""
        model, targets = self.model, self.targets
        queue = data_adapter.BatchQueue(
            feed["source"], steps, workers=feed["workers"],
            use_multiprocessing=feed["use_multiprocessing"],
            max_queue_size=feed["max_queue_size"],
            shuffle=feed["shuffle"] and feed["is_sequence"], rng=feed["rng"])
        for item in queue:
            x, y, sw = data_adapter.unpack_batch(item)
            if y is None:
                xs = inputs.prepare_x(model, x)
                yield (epoch_iterator.host_batch(xs, slice(None)), None, None), \
                    inputs.num_samples(xs), 1
            else:
                batch, count = inputs.prepare_data(model, targets, x, y, sw,
                                                   feed.get("class_weight"))
                yield epoch_iterator.host_batch(batch, slice(None)), count, 1
        if feed["is_sequence"] and hasattr(feed["source"], "on_epoch_end"):
            feed["source"].on_epoch_end()

    def source_units(self, feed, steps):
        for device, size, count in epoch_iterator.prefetch(self.source_batches(feed, steps),
                                                           placement=self.placement()):
            yield epoch_iterator.Unit("batch", lambda device=device: device, size, count)


class Logs(dict):
    """`{name: value}` for callbacks, and `in_order`: the values by position, as the
    batch methods and `evaluate` return them. Two outputs may share a name (both made by
    one nested model): the dict keeps the last one's value, as Keras 2's logs did, and
    `in_order` keeps both."""

    def __init__(self, names, values):
        super().__init__(zip(names, values))
        self.in_order = list(values)


def _runtime_attributes():
    probe = Trainer.__new__(Trainer)
    probe._start_runtime()
    return frozenset(vars(probe))


# What neither a copy nor a pickle of a trainer carries (`Trainer._start_runtime`).
_RUNTIME_ATTRIBUTES = _runtime_attributes()
_CELL_ID_ATTRIBUTES = ("_trainable_ids", "_opt_signature")


def _ids_of(cells):
    """`Trainer._cells_by_id`'s form back to ids (a cell that was not found: None, which
    matches no cell)."""
    def one(cell):
        return None if cell is None else id(cell)
    if isinstance(cells, tuple):  # an optimizer signature: (paths, cells, cells)
        paths, trainable, non_trainable = cells
        return paths, tuple(map(one, trainable)), tuple(map(one, non_trainable))
    return {one(c) for c in cells} - {None}
