"""Keras 2's graph-mode backend functions on the functional graph.

- `variable`: a `BackendVariable`, a mutable cell. Used in a graph (an op on it and a
  symbolic tensor) it is read when the graph runs: a training model holds it in its state,
  so `K.set_value` from a callback changes the next step.
- `placeholder`: an `Input`. `learning_phase()`: a scalar input that `K.function` may be
  given (0 or 1 sets `training` for every layer of the run); `set_learning_phase` sets the
  phase used when it is not given.
- `function(inputs, outputs, updates)`: the subgraph from `inputs` to `outputs` as one
  jitted function of the layers' current weights; called on a list of arrays, it returns
  NumPy arrays.
- `gradients(loss, tensors)`: nodes holding d(sum of loss)/d(tensor), computed with
  `jax.grad` over the subgraph when a `K.function` runs.
"""
import jax
import jax.numpy as jnp
import numpy as np

from jkeras import _config
from jkeras.engine import naming
from jkeras.engine.base_layer import Layer, _Spec
from jkeras.engine.input_layer import Input, InputLayer
from jkeras.engine.keras_tensor import KerasTensor
from jkeras.engine.node import Node
from jkeras.engine.structure import flatten, map_structure
from jkeras.engine.variables import Variable

__all__ = ["BackendVariable", "variable", "placeholder", "learning_phase",
           "set_learning_phase", "function", "gradients", "GraphFunction", "GradientsOp"]


class BackendVariable:
    """`K.variable(value)`: a named mutable array (`K.get_value` / `K.set_value`)."""

    def __init__(self, value, dtype=None, name=None, constraint=None):
        self._cell = Variable(jnp.asarray(value, dtype=dtype or _config.floatx()))
        self.name = name or naming.unique_name("variable")
        self.constraint = constraint

    shape = property(lambda self: self._cell.shape)
    dtype = property(lambda self: np.dtype(self._cell.dtype))
    ndim = property(lambda self: len(self._cell.shape))

    def __jkeras_value__(self):
        return self._cell.value

    def __jkeras_cell__(self):
        return self._cell

    def __jax_array__(self):
        return self._cell.value

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self._cell.value, dtype=dtype)

    def numpy(self):
        return np.asarray(self._cell.value)

    eval = read_value = numpy

    def assign(self, value):
        self._cell.assign(value)

    def __repr__(self):
        return f"<BackendVariable {self.name} shape={self.shape} dtype={self.dtype.name}>"

    def _binary(fn, reverse=False):
        def method(self, other):
            if isinstance(other, KerasTensor):
                return NotImplemented  # the tensor records the op, reading this variable
            a, b = self._cell.value, getattr(other, "__jkeras_value__", lambda: other)()
            return fn(b, a) if reverse else fn(a, b)
        return method

    __add__, __radd__ = _binary(jnp.add), _binary(jnp.add, True)
    __sub__, __rsub__ = _binary(jnp.subtract), _binary(jnp.subtract, True)
    __mul__, __rmul__ = _binary(jnp.multiply), _binary(jnp.multiply, True)
    __truediv__, __rtruediv__ = _binary(jnp.true_divide), _binary(jnp.true_divide, True)
    __pow__, __rpow__ = _binary(jnp.power), _binary(jnp.power, True)
    __getitem__ = _binary(lambda a, index: a[index])
    del _binary

    def __neg__(self):
        return -self._cell.value


def variable(value, dtype=None, name=None, constraint=None):
    return BackendVariable(value, dtype=dtype, name=name, constraint=constraint)


def placeholder(shape=None, ndim=None, dtype=None, sparse=False, name=None):
    """A symbolic input; `shape` includes the batch dimension (None where unknown)."""
    if shape is None:
        if ndim is None:
            raise ValueError("placeholder needs a `shape` or an `ndim`. Received neither.")
        shape = (None,) * int(ndim)
    return Input(batch_shape=tuple(shape), dtype=dtype or _config.floatx(), name=name,
                 sparse=sparse)


class _Phase:
    value = 0       # the phase `set_learning_phase` chose
    tensor = None   # the symbolic learning-phase input, made on first use


class _LearningPhaseInput(InputLayer):
    """The learning phase's input: a scalar (an `Input` always has a batch axis)."""

    def __init__(self):
        Layer.__init__(self, name="keras_learning_phase", dtype="int32")
        self.sparse = self.ragged = False
        self._batch_input_shape = ()
        self._variables = {"params": {}, "state": {}}
        Node(self, [], [], {}, _Spec((), np.dtype("int32")), None)


def learning_phase():
    """The symbolic learning phase: give it to `K.function` among the inputs and feed
    0 (inference) or 1 (training)."""
    if _Phase.tensor is None:
        _Phase.tensor = _LearningPhaseInput()._inbound_nodes[0].outputs
    return _Phase.tensor


def learning_phase_value():
    return _Phase.value


def set_learning_phase(value):
    if value not in (0, 1):
        raise ValueError(f"Expected learning phase to be 0 or 1. Received: value={value!r}")
    _Phase.value = int(value)


# ----------------------------------------------------------------------------- gradients
class GradientsOp(Layer):
    """The gradients of `loss` (summed) with respect to symbolic tensors; evaluated only
    by `K.function`, which differentiates the subgraph between them."""

    def __init__(self, loss, **kwargs):
        super().__init__(name=naming.unique_name("gradients"), **kwargs)
        self.loss = loss

    def _infer_output_spec_symbolic(self, inputs, args, kwargs):
        return [_Spec(t.shape, t.dtype) for t in inputs]

    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        raise ValueError(
            f'"{self.name}" (K.gradients) runs only inside K.function; a model cannot '
            "hold gradients among its outputs.")

    def get_config(self):
        raise ValueError(
            f'"{self.name}" (K.gradients) cannot be saved in a model config.')


def gradients(loss, variables):
    """`[d sum(loss) / d x for x in variables]` as symbolic tensors."""
    many = isinstance(variables, (list, tuple))
    targets = list(variables) if many else [variables]
    if not isinstance(loss, KerasTensor):
        raise TypeError(f"gradients needs a symbolic `loss`. Received: {loss!r:.80}")
    for target in targets:
        if not isinstance(target, KerasTensor):
            raise TypeError(
                "gradients differentiates with respect to symbolic tensors (layer outputs, "
                f"inputs). Received: {target!r:.80}")
    outputs = GradientsOp(loss)(targets)
    return list(outputs)


# ----------------------------------------------------------------------------- running
def _nodes_for(outputs, fed):
    """The nodes computing `outputs` from the tensors in `fed` (ids), in run order, and
    the nodes behind the losses of any gradients among them."""
    order, done, stack = [], set(), [(t, False) for t in reversed(outputs)]
    while stack:
        tensor, expanded = stack.pop()
        if id(tensor) in fed:
            continue
        node = tensor.node
        if id(node) in done:
            continue
        if expanded:
            done.add(id(node))
            order.append(node)
            continue
        if node.is_input:
            raise ValueError(
                f"K.function: the value of input {tensor.name!r} is needed but it is not "
                "among the function's inputs.")
        stack.append((tensor, True))
        parents = list(node.keras_inputs)
        if isinstance(node.layer, GradientsOp):
            parents.append(node.layer.loss)
        stack.extend((p, False) for p in reversed(parents))
    return order


def _run(outputs, feeds, variables, training, key):
    """Values of `outputs` given `feeds` ({id(tensor): array}) and each layer's variables
    ({id(layer): tree}); pure, so it traces into one computation."""
    values = dict(feeds)
    for count, node in enumerate(_nodes_for(outputs, values)):
        layer = node.layer
        if isinstance(layer, GradientsOp):
            results = _gradients(layer, node, values, feeds, variables, training, key)
        else:
            fetch = (lambda t: values[id(t)] if isinstance(t, KerasTensor) else t)
            args = map_structure(fetch, node.input_tensors)
            call_args = map_structure(fetch, node.call_args)
            call_kwargs = map_structure(fetch, node.call_kwargs)
            node_training = training if node.training is None else node.training
            node_key = None if key is None else jax.random.fold_in(key, count)
            run = getattr(layer, "apply_with_losses", None) or layer.apply
            results = run(variables[id(layer)], args, *call_args, training=node_training,
                          key=node_key, **call_kwargs)[0]
        for tensor, value in zip(node.flat_outputs, flatten(results)):
            values[id(tensor)] = value
    return [values[id(t)] for t in outputs]


def _gradients(layer, node, values, feeds, variables, training, key):
    """Each target's own (total) derivative, as `tf.gradients` gives: the loss is rebuilt
    from the function's inputs with only that target held as the variable."""
    def grad_for(target):
        def loss_of(target_value):
            sub_feeds = dict(feeds)
            sub_feeds[id(target)] = target_value
            return jnp.sum(_run([layer.loss], sub_feeds, variables, training, key)[0])
        return jax.grad(loss_of)(values[id(target)])
    return [grad_for(target) for target in node.keras_inputs]


def _layers_of(nodes):
    seen, layers = set(), []
    for node in nodes:
        if id(node.layer) not in seen:
            seen.add(id(node.layer))
            layers.append(node.layer)
    return layers


class GraphFunction:
    """What `K.function` returns: call it on a list of arrays, one per input."""

    def __init__(self, inputs, outputs, updates=None, name=None):
        self.inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        self._single = not isinstance(outputs, (list, tuple))
        self.outputs = [outputs] if self._single else list(outputs)
        self.updates = []
        for update in updates or []:
            if not (isinstance(update, (list, tuple)) and len(update) == 2 and
                    isinstance(update[0], BackendVariable)):
                raise ValueError(
                    "K.function `updates` must be (K.variable, new value) pairs. Received: "
                    f"{update!r:.80}")
            self.updates.append(tuple(update))
        for tensor in self.inputs + self.outputs:
            if not isinstance(tensor, KerasTensor):
                raise TypeError(
                    f"K.function inputs and outputs must be symbolic tensors. Received: "
                    f"{tensor!r:.80}")
        self._targets = self.outputs + [value for _, value in self.updates]
        fed = {id(t) for t in self.inputs}
        self._layers = _layers_of(_nodes_for(
            [t for t in self._targets if isinstance(t, KerasTensor)], fed))
        self._jitted = {}

    def _phase_index(self):
        phase = _Phase.tensor
        for i, tensor in enumerate(self.inputs):
            if tensor is phase:
                return i
        return None

    def __call__(self, inputs):
        inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(inputs) != len(self.inputs):
            raise ValueError(
                f"This K.function takes {len(self.inputs)} input(s); received "
                f"{len(inputs)}.")
        phase_index = self._phase_index()
        training = bool(_Phase.value if phase_index is None else int(inputs[phase_index]))
        arrays = [jnp.asarray(v, dtype=t.dtype) for t, v in zip(self.inputs, inputs)]
        variables = [layer._get_vars() or {"params": {}, "state": {}}
                     for layer in self._layers]
        fn = self._jitted.get(training)
        if fn is None:
            fn = self._jitted[training] = jax.jit(
                lambda v, x, key: self._compute(v, x, key, training))
        key = _config.next_key() if training else None
        results = fn(variables, arrays, key)
        outputs = [np.asarray(r) for r in results[:len(self.outputs)]]
        for (target, _), value in zip(self.updates, results[len(self.outputs):]):
            target.assign(value)
        return outputs[0] if self._single else outputs

    def _compute(self, variables, arrays, key, training):
        feeds = {id(t): a for t, a in zip(self.inputs, arrays)}
        by_layer = {id(layer): v for layer, v in zip(self._layers, variables)}
        return _run(self._targets, feeds, by_layer, training, key)


def function(inputs, outputs, updates=None, name=None, **kwargs):
    return GraphFunction(inputs, outputs, updates=updates, name=name)
