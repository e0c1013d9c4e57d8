"""Keras 2's `multi_gpu_model`: the same model, trained with each batch split over devices.

Keras 2 built N copies of the model, one per GPU, and merged their outputs on the CPU.
Here the returned model shares every layer (so every weight) with the original and carries
a `DataParallel` distribution over the chosen devices: its `fit` runs one jitted step per
batch with the batch split over them, and the original model sees the trained weights.
"""
import jax

from jkeras.distribution.distribution_lib import DataParallel

__all__ = ["multi_gpu_model"]


def _available(kind):
    devices = [d for d in jax.devices() if d.platform != "cpu"] if kind == "gpu" else []
    return devices or jax.devices()


def multi_gpu_model(model, gpus=None, cpu_merge=True, cpu_relocation=False):
    """A model sharing `model`'s weights whose training splits each batch over `gpus`
    devices (an int, or a list of device ids). `cpu_merge` and `cpu_relocation` are
    accepted for Keras 2 scripts; the merge happens inside the step."""
    from jkeras.engine.functional import Functional
    from jkeras.engine.input_layer import Input
    from jkeras.engine.model import Model
    devices = _available("gpu")
    if gpus is None:
        gpus = len(devices)
    ids = list(range(gpus)) if isinstance(gpus, int) else list(gpus)
    if len(ids) <= 1:
        raise ValueError(
            "For multi-gpu usage to be effective, call `multi_gpu_model` with `gpus >= 2`. "
            f"Received: `gpus={gpus}`")
    available = {i: d for i, d in enumerate(devices)}
    missing = [i for i in ids if i not in available]
    if missing:
        raise ValueError(
            f"To call `multi_gpu_model` with `gpus={gpus}`, we expect the following devices "
            f"to be available: {[f'/gpu:{i}' for i in ids]}. However this machine only "
            f"has: {[f'{d.platform}:{d.id}' for d in devices]}. Try reducing `gpus`.")
    if not model.built:
        raise ValueError(
            f"Model {model.name} must be built (called on data or given an input shape) "
            "before multi_gpu_model can split its batches.")
    if isinstance(model, Functional) and model.inputs:
        inputs = [Input(batch_shape=t.shape, dtype=t.dtype) for t in model.inputs]
    else:
        shape = model._build_input_shape
        inputs = [Input(batch_shape=tuple(shape))]
    outputs = model(inputs if len(inputs) > 1 else inputs[0])
    parallel = Model(inputs if len(inputs) > 1 else inputs[0], outputs,
                     name=f"{model.name}_multi_gpu")
    parallel._distribution = DataParallel(devices=[available[i] for i in ids])
    return parallel
