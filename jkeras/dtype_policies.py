"""Dtype policies: the dtype a layer computes in and the dtype its variables are kept in.

A policy is named by a dtype ('float32', 'bfloat16', ...: both dtypes the same) or by
'mixed_float16' / 'mixed_bfloat16' (compute in 16 bits, keep variables in float32). Layers
take `dtype=` a policy, its name or its config; without one they follow the global policy
(`set_global_policy`), which follows `floatx()` until set. The global value itself lives in
`jkeras._config`, the package's one home of global settings.

Configs: a layer's config keeps a plain dtype name for plain policies (what Keras 2 and
Keras 3 both read) and Keras 3's `{"module": "keras", "class_name": "DTypePolicy", ...}`
for mixed ones; Keras 2's `{"class_name": "Policy", ...}` is read too.
"""
import jax.numpy as jnp

from jkeras import _config

__all__ = ["Policy", "DTypePolicy", "get", "serialize", "deserialize", "layer_config_value",
           "global_policy", "set_global_policy"]

_MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
# Class names other Keras versions write for a plain float policy.
_CONFIG_CLASS_NAMES = ("Policy", "PolicyV1", "DTypePolicy", "FloatDTypePolicy")


def _dtype_name(value):
    """The canonical name of a dtype given as a string, numpy dtype or scalar type."""
    try:
        return jnp.dtype(value).name
    except TypeError:
        return None


class Policy:
    """A dtype policy: `name`, `compute_dtype` and `variable_dtype` (all strings).

    `Policy('mixed_bfloat16')` computes in bfloat16 and keeps variables in float32;
    `Policy('float16')` does both in float16.
    """

    def __init__(self, name, loss_scale=None):
        # `loss_scale`: tf.keras 2.1-2.3's experimental Policy argument, kept as an
        # attribute; loss scaling itself is LossScaleOptimizer's.
        self.loss_scale = loss_scale
        if isinstance(name, Policy):
            name = name.name
        if not isinstance(name, str):
            raise TypeError(
                "A dtype policy's name must be a string such as 'mixed_bfloat16'. "
                f"Received: name={name!r} (of type {type(name).__name__})")
        if name in _MIXED:
            compute, variable = _MIXED[name], "float32"
        else:
            compute = variable = _dtype_name(name)
            if compute is None:
                raise ValueError(
                    f"Cannot convert {name!r} to a dtype policy. Valid policies are "
                    "'mixed_float16', 'mixed_bfloat16' and dtype names such as 'float32'. "
                    f"Received: name={name!r}")
            name = compute  # 'float' -> 'float64' as numpy spells it
        self._name = name
        self._compute_dtype = compute
        self._variable_dtype = variable

    name = property(lambda self: self._name, doc="The policy's name.")
    compute_dtype = property(lambda self: self._compute_dtype,
                             doc="The dtype layers compute in (and output).")
    variable_dtype = property(lambda self: self._variable_dtype,
                              doc="The dtype layers keep their variables in.")

    @property
    def is_mixed(self):
        return self._compute_dtype != self._variable_dtype

    @property
    def should_cast_variables(self):
        """Keras 2's name: whether variables are cast to the compute dtype in `call`."""
        return self.is_mixed

    def get_config(self):
        return {"name": self._name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)

    def __eq__(self, other):
        return isinstance(other, Policy) and other.name == self.name

    def __hash__(self):
        return hash(("Policy", self._name))

    def __repr__(self):
        return f'<Policy "{self._name}">'


DTypePolicy = Policy  # Keras 3's name


def deserialize(config, custom_objects=None):
    """A policy from `{"class_name": "Policy" or "DTypePolicy", "config": {"name": ...}}`."""
    class_name = config.get("class_name") if isinstance(config, dict) else None
    if class_name not in _CONFIG_CLASS_NAMES or not isinstance(config.get("config"), dict):
        raise ValueError(
            "Expected a dtype policy config such as {'class_name': 'DTypePolicy', 'config': "
            f"{{'name': 'mixed_bfloat16'}}}}. Received: {config!r:.200}")
    return Policy(config["config"].get("name", "float32"))


def serialize(policy):
    """Keras 3's config of `policy`."""
    return {"module": "keras", "class_name": "DTypePolicy", "config": policy.get_config(),
            "registered_name": None}


def layer_config_value(policy):
    """What a layer config stores as `dtype`: the name of a plain policy, Keras 3's policy
    config for a mixed one."""
    return serialize(policy) if policy.is_mixed else policy.name


def get(identifier):
    """A policy from None (the global policy), a Policy, a name, a config or a dtype."""
    if identifier is None:
        return global_policy()
    if isinstance(identifier, Policy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return Policy(identifier)
    name = _dtype_name(identifier)
    if name is None:
        raise ValueError(
            "Cannot interpret `dtype`: expected a dtype policy, its name (such as "
            f"'mixed_bfloat16') or a dtype. Received: dtype={identifier!r}")
    return Policy(name)


def global_policy():
    """The policy layers get when created without `dtype=` (follows floatx until set)."""
    return Policy(_config.dtype_policy_name())


def set_global_policy(policy):
    """Sets the policy layers created from now on get by default; None goes back to
    following `floatx()`. Only floating-point policies are accepted."""
    if policy is None:
        _config.set_dtype_policy_name(None)
        return
    if not isinstance(policy, (Policy, str)):
        raise ValueError(
            "set_global_policy expects a Policy or the name of one (such as "
            f"'mixed_bfloat16'). Received: policy={policy!r}")
    policy = Policy(policy)
    if not jnp.issubdtype(jnp.dtype(policy.compute_dtype), jnp.floating):
        raise ValueError(
            "set_global_policy can only set floating-point policies, such as 'float32' "
            f"or 'mixed_float16'. Received: policy={policy.name!r}")
    _config.set_dtype_policy_name(policy.name)
