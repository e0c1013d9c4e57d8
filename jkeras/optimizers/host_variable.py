"""`HostVariable`: a hyperparameter (or the step count) of an optimizer as the host sees
it, read and set like a Keras variable between steps.

Hyperparameters live in the optimizer's optax state on the device, so that changing one
takes effect without recompiling. The host keeps this mirror of each: a value assigned on
the host is marked changed and written into the state by the optimizer's `sync_state`
before the next step; otherwise a read fetches the value from the last state the
optimizer observed. Layer weights have their own cells (`jkeras.engine.variables`); these
scalars are not weights and never leave the optimizer.
"""
import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["HostVariable", "scalar_value", "put_like"]


def scalar_value(name, value):
    """A Python number from a number, a 0-d array or a HostVariable; errors name `name`."""
    if isinstance(value, HostVariable):
        value = value.numpy()
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - anything not array-like is reported below
        array = None
    if array is None or array.shape != () or array.dtype.kind not in "biuf":
        raise ValueError(f"Expected `{name}` to be a number. Received: {name}={value!r}")
    return array.item()


def _fetch(array):
    """The host value of a device scalar (waits for it), or None if it was donated."""
    deleted = getattr(array, "is_deleted", None)
    if deleted is not None and deleted():
        return None
    return np.asarray(array).item()


def _binary(op, reflected=False):
    def method(self, other):
        if isinstance(other, HostVariable):
            other = other.numpy()
        mine = self.numpy()
        return op(other, mine) if reflected else op(mine, other)
    return method


class HostVariable:
    """A scalar the host owns: an optimizer hyperparameter or its step count.

    Reads like a Keras variable (`numpy()`, `float()`, arithmetic, `np.asarray`) and is
    set with `assign(value)`; setting marks it changed, and the optimizer's next
    `sync_state` writes it into the transformation's state. Its value is, first to
    apply: a getter's (a scheduled learning rate), a value assigned since the last sync,
    the last state the optimizer observed (fetched when read), the last value known.
    """

    shape = ()

    def __init__(self, name, value, dtype="float32"):
        self.name = name
        self.dtype = np.dtype(dtype)
        self._value = None if value is None else self._python(value)
        self._source = None      # a device scalar to read when asked
        self._getter = None      # computes the value (schedules, no-arg callables)
        self._read_only = None   # message for assign() when not settable
        self.changed = False     # set by assign(), cleared by the optimizer's sync_state

    def _python(self, value, fetched=False):
        """A Python number. A fetched float keeps its shortest repr in this dtype (0.001,
        not 0.0010000000474974513), so configs read as they were written."""
        if self.dtype.kind in "iu":
            return int(value)
        return float(str(self.dtype.type(value))) if fetched else float(value)

    def python_value(self):
        """The value as a Python number (what configs store)."""
        value = self.numpy()
        return value.item() if self._getter is not None else self._value

    def numpy(self):
        if self._getter is not None:
            return self.dtype.type(self._getter())
        if self._source is not None:
            fetched = _fetch(self._source)
            if fetched is not None and (self._value is None or
                                        self.dtype.type(fetched) != self.dtype.type(self._value)):
                self._value = self._python(fetched, fetched=True)
            if fetched is not None:
                self._source = None
        if self._value is None:
            raise ValueError(f"The value of `{self.name}` is not known yet: the optimizer "
                             "has not seen a state holding it.")
        return self.dtype.type(self._value)

    @property
    def value(self):
        return self.numpy()

    def assign(self, value):
        if self._read_only:
            raise TypeError(self._read_only)
        self._getter = None  # a set value replaces a no-arg callable learning rate
        self._value = self._python(scalar_value(self.name, value))
        self._source = None
        self.changed = True
        return self

    def assign_add(self, delta):
        return self.assign(self.numpy() + scalar_value(self.name, delta))

    def assign_sub(self, delta):
        return self.assign(self.numpy() - scalar_value(self.name, delta))

    def _observe(self, array):
        """Remembers a device scalar holding the current value, unless changed on the host."""
        if not self.changed:
            self._source = array

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.numpy(), dtype=dtype)

    def __float__(self):
        return float(self.numpy())

    def __int__(self):
        return int(self.numpy())

    def __index__(self):
        if self.dtype.kind not in "iu":
            raise TypeError(f"`{self.name}` is a float and cannot be used as an index.")
        return int(self.numpy())

    def __bool__(self):
        return bool(self.numpy())

    def __format__(self, spec):
        return format(self.numpy().item(), spec)

    def __repr__(self):
        try:
            shown = str(self.numpy())
        except ValueError:
            shown = "<unknown>"
        return f"<HostVariable '{self.name}' shape=() dtype={self.dtype.name}, numpy={shown}>"

    __hash__ = object.__hash__
    __add__, __radd__ = _binary(np.add), _binary(np.add, True)
    __sub__, __rsub__ = _binary(np.subtract), _binary(np.subtract, True)
    __mul__, __rmul__ = _binary(np.multiply), _binary(np.multiply, True)
    __truediv__, __rtruediv__ = _binary(np.true_divide), _binary(np.true_divide, True)
    __floordiv__, __rfloordiv__ = _binary(np.floor_divide), _binary(np.floor_divide, True)
    __mod__, __rmod__ = _binary(np.mod), _binary(np.mod, True)
    __pow__, __rpow__ = _binary(np.power), _binary(np.power, True)
    __lt__, __le__ = _binary(np.less), _binary(np.less_equal)
    __gt__, __ge__ = _binary(np.greater), _binary(np.greater_equal)
    __eq__, __ne__ = _binary(np.equal), _binary(np.not_equal)

    def __neg__(self):
        return -self.numpy()

    def __abs__(self):
        return abs(self.numpy())


def put_like(value, old, dtype):
    """A new device scalar holding `value`, placed like `old` (replicated stays replicated,
    and an array JAX may move stays movable: a committed one in its place would change the
    signature of the programs it is passed to, and compile them again)."""
    array = np.asarray(value, dtype=dtype)
    sharding = getattr(old, "sharding", None)
    if sharding is not None and getattr(old, "_committed", True):
        try:
            return jax.device_put(array, sharding)
        except Exception:  # noqa: BLE001 - fall back to the default device
            pass
    return jnp.asarray(array)
