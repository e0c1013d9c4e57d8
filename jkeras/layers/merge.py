"""Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot, and
their functional forms (`add([a, b])`, `concatenate([a, b], axis=-1)`, ...)."""
__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"]

import functools

import jax.numpy as jnp

from jkeras.engine.base_layer import Layer
from jkeras.losses import l2_normalize
from jkeras.layers import arguments
from jkeras.layers.autocast import autocast


class _Merge(Layer):
    """Combines a list of tensors elementwise. Inputs of lower rank get size-1 axes inserted
    after the batch axis until all ranks match (as Keras does), then broadcast as NumPy."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _check_list(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or \
                not isinstance(input_shape[0], (list, tuple)):
            raise ValueError(
                f'A merge layer ("{self.name}") should be called on a list of inputs. '
                f"Received: input_shape={input_shape}")
        if len(input_shape) < self._min_inputs:
            raise ValueError(
                f'A merge layer ("{self.name}") should be called on a list of at least '
                f"{self._min_inputs} inputs. Got {len(input_shape)} inputs.")

    _min_inputs = 1

    def init(self, key, input_shape):
        self.compute_output_shape(input_shape)
        return {"params": {}, "state": {}}

    def _broadcast(self, a, b, input_shape):
        """Broadcast shape of two non-batch shapes, aligned on their trailing axes."""
        if len(a) < len(b):
            a, b = b, a
        result = list(a[:len(a) - len(b)])
        for x, y in zip(a[len(a) - len(b):], b):
            if x is None or y is None:
                result.append(None)
            elif x == y or y == 1:
                result.append(x)
            elif x == 1:
                result.append(y)
            else:
                raise ValueError(
                    f'Inputs of layer "{self.name}" have incompatible shapes. Received: '
                    f"input_shape={[tuple(s) for s in input_shape]}")
        return tuple(result)

    def compute_output_shape(self, input_shape):
        self._check_list(input_shape)
        out = tuple(input_shape[0][1:])
        for shape in input_shape[1:]:
            out = self._broadcast(out, tuple(shape[1:]), input_shape)
        batches = {s[0] for s in input_shape if s[0] is not None}
        if len(batches) > 1:
            raise ValueError(
                f'Layer "{self.name}" cannot merge tensors with different batch sizes. '
                f"Received: input_shape={[tuple(s) for s in input_shape]}")
        return (batches.pop() if batches else None,) + out

    @staticmethod
    def _same_rank(inputs):
        """Inserts size-1 axes after the batch axis of lower-rank inputs (Keras's rule)."""
        rank = max(x.ndim for x in inputs)
        return [x.reshape(x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:]) for x in inputs]

    @autocast
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        inputs = self._same_rank(inputs)
        return self._merge_all(inputs), variables["state"]

    def _merge_all(self, inputs):
        return functools.reduce(self._merge, inputs[1:], inputs[0])

    def compute_mask(self, inputs, mask=None):
        if mask is None or all(m is None for m in mask):
            return None
        return functools.reduce(jnp.logical_and, [m for m in mask if m is not None])


class Add(_Merge):
    @staticmethod
    def _merge(a, b):
        return a + b


class Subtract(_Merge):
    _min_inputs = 2

    def _check_list(self, input_shape):
        super()._check_list(input_shape)
        if len(input_shape) != 2:
            raise ValueError(
                f'A `Subtract` layer ("{self.name}") should be called on exactly 2 inputs. '
                f"Received: {len(input_shape)} inputs.")

    @staticmethod
    def _merge(a, b):
        return a - b


class Multiply(_Merge):
    @staticmethod
    def _merge(a, b):
        return a * b


class Maximum(_Merge):
    @staticmethod
    def _merge(a, b):
        return jnp.maximum(a, b)


class Minimum(_Merge):
    @staticmethod
    def _merge(a, b):
        return jnp.minimum(a, b)


class Average(_Merge):
    @staticmethod
    def _merge(a, b):
        return a + b

    def _merge_all(self, inputs):
        return super()._merge_all(inputs) / len(inputs)


class Concatenate(_Merge):
    def __init__(self, axis=-1, **kwargs):
        axis = arguments.axis(axis, "axis", arguments.owner_of(self))
        if isinstance(axis, list):
            raise TypeError(f"{arguments.owner_of(self)}: expected an int for `axis`. "
                            f"Received: axis={axis!r}")
        super().__init__(**kwargs)
        self.axis = axis

    def compute_output_shape(self, input_shape):
        self._check_list(input_shape)
        rank = len(input_shape[0])
        if any(len(s) != rank for s in input_shape):
            raise ValueError(
                f'A `Concatenate` layer ("{self.name}") requires inputs with matching '
                "shapes except for the concatenation axis. Received: input_shape="
                f"{[tuple(s) for s in input_shape]}")
        axis = self.axis % rank
        out = list(input_shape[0])
        for shape in input_shape[1:]:
            for i, (a, b) in enumerate(zip(out, shape)):
                if i == axis:
                    out[i] = None if a is None or b is None else a + b
                elif a is not None and b is not None and a != b and i != 0:
                    raise ValueError(
                        f'A `Concatenate` layer ("{self.name}") requires inputs with '
                        "matching shapes except for the concatenation axis. Received: "
                        f"input_shape={[tuple(s) for s in input_shape]}")
        return tuple(out)

    @autocast
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        return jnp.concatenate(inputs, axis=self.axis), variables["state"]

    def compute_mask(self, inputs, mask=None):
        if mask is None or all(m is None for m in mask):
            return None
        axis = self.axis % inputs[0].ndim
        masks = []
        for x, m in zip(inputs, mask):
            if m is None:
                m = jnp.ones(x.shape, bool)
            elif m.ndim < x.ndim:
                m = jnp.broadcast_to(m.reshape(m.shape + (1,) * (x.ndim - m.ndim)), x.shape)
            masks.append(m)
        return jnp.all(jnp.concatenate(masks, axis=axis), axis=-1)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Dot(_Merge):
    """Dot product along `axes` of two tensors; `normalize` takes cosine proximity."""

    _min_inputs = 2

    def __init__(self, axes, normalize=False, **kwargs):
        owner = arguments.owner_of(self)
        axes = arguments.axis(axes, "axes", owner)
        if isinstance(axes, list) and len(axes) != 2:
            raise ValueError(f"{owner}: expected `axes` to be an int or a list of 2 ints. "
                             f"Received: axes={axes!r}")
        super().__init__(**kwargs)
        self.axes = axes
        self.normalize = bool(normalize)
        self.supports_masking = False

    def _axes_for(self, rank_a, rank_b):
        axes = self.axes if isinstance(self.axes, list) else [self.axes, self.axes]
        return [a % r if a < 0 else a for a, r in zip(axes, (rank_a, rank_b))]

    def compute_output_shape(self, input_shape):
        self._check_list(input_shape)
        if len(input_shape) != 2:
            raise ValueError(
                f'A `Dot` layer ("{self.name}") should be called on exactly 2 inputs. '
                f"Received: {len(input_shape)} inputs.")
        a, b = (list(s) for s in input_shape)
        ax_a, ax_b = self._axes_for(len(a), len(b))
        if a[ax_a] is not None and b[ax_b] is not None and a[ax_a] != b[ax_b]:
            raise ValueError(
                f'Incompatible input shapes for layer "{self.name}": dimension {ax_a} of '
                f"{tuple(a)} ({a[ax_a]}) != dimension {ax_b} of {tuple(b)} ({b[ax_b]}).")
        a.pop(ax_a)
        b.pop(ax_b)
        b.pop(0)
        out = tuple(a + b)
        return out if len(out) > 1 else out + (1,)

    @autocast
    def apply(self, variables, inputs, *, training=False, key=None, mask=None):
        a, b = inputs
        ax_a, ax_b = self._axes_for(a.ndim, b.ndim)
        if self.normalize:
            a, b = l2_normalize(a, axis=ax_a), l2_normalize(b, axis=ax_b)
        b_axes = [0] + [a.ndim + i if i != ax_b else ax_a for i in range(1, b.ndim)]
        out_axes = [i for i in range(a.ndim) if i != ax_a] + \
            [a.ndim + i for i in range(1, b.ndim) if i != ax_b]
        out = jnp.einsum(a, list(range(a.ndim)), b, b_axes, out_axes)
        if out.ndim == 1:
            out = out[:, None]
        return out, variables["state"]

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update({"axes": self.axes, "normalize": self.normalize})
        return config


def _functional(cls):
    def merge(inputs, **kwargs):
        return cls(**kwargs)(inputs)
    merge.__name__ = cls.__name__.lower()
    merge.__doc__ = f"Functional form of `{cls.__name__}`: `{merge.__name__}(inputs, **kwargs)`."
    return merge


add = _functional(Add)
subtract = _functional(Subtract)
multiply = _functional(Multiply)
average = _functional(Average)
maximum = _functional(Maximum)
minimum = _functional(Minimum)


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of `Concatenate`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes, normalize=False, **kwargs):
    """Functional form of `Dot`."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
