"""The `training_config` of a saved model: compile arguments (loss, metrics, optimizer
config) written so that Keras 2 and Keras 3 both read them, and read back into `compile()`
keyword arguments from a file by either.

Used by the HDF5 layout (`hdf5_format`, which re-exports these names) and by `.keras`
archives (`keras_archive`).
"""
from jkeras import losses, metrics, optimizers
from jkeras.serialization.object_registry import CustomObjectScope, get_registered_name

__all__ = ["serialize_compile_arg", "portable_optimizer_config", "training_config",
           "compile_args"]


def _portable_object(config, module):
    """A serialized loss or metric both Keras 2 and Keras 3 read: tagged with its module
    (Keras 3 needs it) and with `reduction="auto"` spelled as what it means."""
    if not isinstance(config, dict) or "class_name" not in config:
        return config
    name = config["class_name"]
    inner = dict(config.get("config") or {})
    if inner.get("reduction") == "auto":
        inner["reduction"] = "sum_over_batch_size"
    custom = ">" in name
    return {"module": None if custom else module, "class_name": name.split(">")[-1],
            "config": inner, "registered_name": name if custom else None}


def serialize_compile_arg(value, serialize, module):
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: serialize_compile_arg(v, serialize, module) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [serialize_compile_arg(v, serialize, module) for v in value]
    if isinstance(value, (int, float, str, bool)):
        return value
    return _portable_object(serialize(value), module)


def _is_nadam(class_name):
    return isinstance(class_name, str) and class_name.split(">")[-1].lower() == "nadam"


def portable_optimizer_config(class_name, config):
    """An optimizer config for a file: Nadam's `schedule_decay` (Keras 2 only) is left out
    when it is 1, the schedule Keras 3 and tf.keras 2.11+ always use, so they can read it."""
    config = dict(config)
    if _is_nadam(class_name) and config.get("schedule_decay") == 1.0:
        config.pop("schedule_decay")
    return config


def _optimizer_config_from_file(config):
    """A saved optimizer config with what its writer meant: a Nadam config without
    `schedule_decay` comes from Keras 3 or tf.keras 2.11+, whose schedule is 0.96**t."""
    if not isinstance(config, dict) or not _is_nadam(config.get("class_name")):
        return config
    inner = dict(config.get("config") or {})
    inner.setdefault("schedule_decay", 1.0)
    return {**config, "config": inner}


def training_config(model):
    """The `training_config` attribute: compile arguments as Keras 2 writes them."""
    opt = model.optimizer
    return {
        "loss": serialize_compile_arg(model.loss, losses.serialize, "keras.losses"),
        "metrics": serialize_compile_arg(getattr(model, "_compile_metrics", None),
                                          metrics.serialize, "keras.metrics"),
        "weighted_metrics": serialize_compile_arg(
            getattr(model, "_weighted_metrics", None), metrics.serialize, "keras.metrics"),
        "loss_weights": getattr(model, "loss_weights", None),
        "sample_weight_mode": getattr(model, "sample_weight_mode", None),
        "optimizer_config": {"class_name": get_registered_name(type(opt)),
                             "config": portable_optimizer_config(
                                 get_registered_name(type(opt)), opt.get_config())},
    }


def _deserialize_metric(entry, custom_objects):
    if isinstance(entry, dict) and entry.get("class_name") in (
            "MeanMetricWrapper", "MeanMetricWrapperV2"):
        inner = entry.get("config", {})
        name, fn = inner.get("name"), inner.get("fn")
        if isinstance(name, str) and name in ("accuracy", "acc", "crossentropy", "ce"):
            return name  # resolved against the loss, as Keras 2 did when compiling
        if isinstance(fn, str):
            return fn
    if isinstance(entry, dict):
        return metrics.deserialize(entry, custom_objects=custom_objects)
    return entry


def _map_nested(value, fn):
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _map_nested(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_nested(v, fn) for v in value]
    return fn(value) if value is not None else None


def compile_args(config, custom_objects=None):
    """`compile()` keyword arguments from a `training_config` (Keras 2 or Keras 3)."""
    with CustomObjectScope(custom_objects or {}):
        optimizer = optimizers.deserialize(
            _optimizer_config_from_file(config["optimizer_config"]),
            custom_objects=custom_objects)
        loss = _map_nested(config.get("loss"), lambda e: losses.deserialize(
            e, custom_objects=custom_objects) if isinstance(e, dict) else e)
        metrics_ = _map_nested(config.get("metrics"),
                               lambda e: _deserialize_metric(e, custom_objects))
        weighted = _map_nested(config.get("weighted_metrics"),
                               lambda e: _deserialize_metric(e, custom_objects))
    args = {"optimizer": optimizer, "loss": loss, "metrics": metrics_,
            "weighted_metrics": weighted, "loss_weights": config.get("loss_weights")}
    if config.get("sample_weight_mode") is not None:
        args["sample_weight_mode"] = config["sample_weight_mode"]
    return args
