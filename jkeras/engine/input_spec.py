"""InputSpec: what rank, dtype and fixed axes a layer accepts, checked at call time."""

__all__ = ["InputSpec", "assert_input_compatibility"]


class InputSpec:
    """Constraints on one input of a layer (`ndim`, `min_ndim`, `max_ndim`, `axes`, `shape`)."""

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None,
                 axes=None, allow_last_axis_squeeze=False, name=None):
        self.dtype = dtype
        self.shape = tuple(shape) if shape is not None else None
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = {int(k): v for k, v in (axes or {}).items()}
        self.name = name

    def __repr__(self):
        parts = [f"{k}={v}" for k, v in (("dtype", self.dtype), ("shape", self.shape),
                                           ("ndim", self.ndim), ("max_ndim", self.max_ndim),
                                           ("min_ndim", self.min_ndim), ("axes", self.axes))
                 if v]
        return f"InputSpec({', '.join(parts)})"

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
                "max_ndim": self.max_ndim, "min_ndim": self.min_ndim, "axes": self.axes}


def assert_input_compatibility(specs, shapes, layer_name):
    """Raises ValueError naming the layer, the expectation and the received shape."""
    if specs is None:
        return
    if not isinstance(specs, (list, tuple)):
        specs = [specs]
    if len(specs) != len(shapes):
        raise ValueError(
            f'Layer "{layer_name}" expects {len(specs)} input(s), but it received '
            f"{len(shapes)} input tensors.")
    for index, (spec, shape) in enumerate(zip(specs, shapes)):
        if spec is None:
            continue
        prefix = f'Input {index} of layer "{layer_name}" is incompatible with the layer:'
        rank = len(shape)
        if spec.ndim is not None and rank != spec.ndim:
            raise ValueError(
                f"{prefix} expected ndim={spec.ndim}, found ndim={rank}. "
                f"Full shape received: {tuple(shape)}")
        if spec.max_ndim is not None and rank > spec.max_ndim:
            raise ValueError(
                f"{prefix} expected max_ndim={spec.max_ndim}, found ndim={rank}. "
                f"Full shape received: {tuple(shape)}")
        if spec.min_ndim is not None and rank < spec.min_ndim:
            raise ValueError(
                f"{prefix} expected min_ndim={spec.min_ndim}, found ndim={rank}. "
                f"Full shape received: {tuple(shape)}")
        for axis, value in spec.axes.items():
            if value is None:
                continue
            if -rank <= axis < rank and shape[axis] not in (value, None):
                raise ValueError(
                    f"{prefix} expected axis {axis} of input shape to have value {value}, "
                    f"but received input with shape {tuple(shape)}")
        if spec.shape is not None:
            for expected, got in zip(spec.shape, shape):
                if expected is not None and got is not None and expected != got:
                    raise ValueError(
                        f"{prefix} expected shape={spec.shape}, found shape={tuple(shape)}")
