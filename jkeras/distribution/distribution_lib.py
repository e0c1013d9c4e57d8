"""Device meshes, layouts and the two distributions (data- and model-parallel).

A distribution answers three questions for the trainer: the mesh, the sharding of a batch
of a given shape (`get_data_layout`), and the sharding of a variable with a given path and
shape (`get_variable_layout`). Everything else (the collectives) is XLA's, from the
shardings of the jitted step's inputs.
"""
import contextlib
import os
import re

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jkeras import _config

__all__ = ["list_devices", "DeviceMesh", "TensorLayout", "LayoutMap", "Distribution",
           "DataParallel", "ModelParallel", "set_distribution", "distribution",
           "distribute_tensor", "initialize", "is_chief"]


def list_devices(device_type=None):
    """Every device of the job (all processes), as `"gpu:0"`-style names."""
    kind = device_type.lower() if device_type else None
    if kind == "gpu":
        kind = "gpu" if any(d.platform in ("gpu", "cuda", "rocm") for d in jax.devices()) \
            else kind
    devices = jax.devices(kind) if kind else jax.devices()
    return [f"{_platform(d)}:{d.id}" for d in devices]


def _platform(device):
    return "gpu" if device.platform in ("cuda", "rocm", "gpu") else device.platform


def _resolve_devices(devices):
    """Device objects for names (`"gpu:1"`), ids or device objects; clear errors."""
    every = {f"{_platform(d)}:{d.id}": d for d in jax.devices()}
    out = []
    for item in devices:
        if isinstance(item, str):
            name = item.lower().replace("cuda", "gpu")
            if name not in every:
                raise ValueError(
                    f"Device {item!r} does not exist. Available devices: "
                    f"{sorted(every)}")
            out.append(every[name])
        elif isinstance(item, (int, np.integer)):
            match = [d for d in jax.devices() if d.id == int(item)]
            if not match:
                raise ValueError(f"No device with id {item}. Available: {sorted(every)}")
            out.append(match[0])
        else:
            out.append(item)
    return out


class DeviceMesh:
    """A grid of devices with named axes: `DeviceMesh((2, 4), ["batch", "model"])`."""

    def __init__(self, shape, axis_names, devices=None):
        shape = tuple(int(s) for s in shape)
        axis_names = list(axis_names)
        if len(shape) != len(axis_names):
            raise ValueError(
                "`shape` and `axis_names` must have the same length. Received: "
                f"shape={shape}, axis_names={axis_names}")
        devices = _resolve_devices(devices if devices is not None else jax.devices())
        if int(np.prod(shape)) != len(devices):
            raise ValueError(
                f"A mesh of shape {shape} needs {int(np.prod(shape))} devices; "
                f"{len(devices)} were given.")
        self.shape = shape
        self.axis_names = axis_names
        self.devices = np.asarray(devices, dtype=object).reshape(shape)
        self._mesh = Mesh(self.devices, tuple(axis_names))

    @property
    def jax_mesh(self):
        return self._mesh

    def __repr__(self):
        return f"<DeviceMesh shape={self.shape} axis_names={self.axis_names}>"


class TensorLayout:
    """How an array's axes map onto mesh axes: a mesh axis name, or None (replicated)."""

    def __init__(self, axes, device_mesh=None):
        self.axes = tuple(axes)
        self.device_mesh = device_mesh

    def sharding(self, mesh=None):
        mesh = mesh or self.device_mesh
        if mesh is None:
            raise ValueError("This TensorLayout has no device mesh.")
        return NamedSharding(mesh.jax_mesh, PartitionSpec(*self.axes))

    def __repr__(self):
        return f"<TensorLayout axes={self.axes}>"


class LayoutMap:
    """Layouts for variables, keyed by regular expressions searched in variable paths
    (`"dense.*kernel"`); values are TensorLayouts or tuples of axis names."""

    def __init__(self, device_mesh):
        self.device_mesh = device_mesh
        self._layouts = {}

    def __setitem__(self, key, layout):
        if not isinstance(layout, TensorLayout):
            layout = TensorLayout(tuple(layout), self.device_mesh)
        elif layout.device_mesh is None:
            layout.device_mesh = self.device_mesh
        self._layouts[key] = layout

    def __getitem__(self, path):
        """The layout of the first key found in `path` (exact keys first), or None."""
        if path in self._layouts:
            return self._layouts[path]
        for key, layout in self._layouts.items():
            if re.search(key, path):
                return layout
        return None

    def __contains__(self, key):
        return key in self._layouts

    def __len__(self):
        return len(self._layouts)

    def __iter__(self):
        return iter(self._layouts)

    def get(self, path, default=None):
        layout = self[path]
        return default if layout is None else layout


class Distribution:
    """Base: a mesh, a batch axis, and layouts for data and variables."""

    def __init__(self, device_mesh, batch_dim_name, auto_shard_dataset=True):
        self.device_mesh = device_mesh
        self.batch_dim_name = batch_dim_name
        self.auto_shard_dataset = auto_shard_dataset

    @property
    def jax_mesh(self):
        return self.device_mesh.jax_mesh

    def batch_size_on_axis(self):
        return int(self.device_mesh.shape[self.device_mesh.axis_names.index(
            self.batch_dim_name)])

    def get_data_layout(self, data_shape):
        """Batches are split along their first axis over the batch axis of the mesh; a
        batch that does not divide evenly is replicated (computed whole on every device),
        so every sample still counts exactly once."""
        axes = [None] * len(data_shape)
        if data_shape and data_shape[0] is not None and \
                data_shape[0] % self.batch_size_on_axis() == 0:
            axes[0] = self.batch_dim_name
        return TensorLayout(axes, self.device_mesh)

    def get_variable_layout(self, path, shape):
        return TensorLayout([None] * len(shape), self.device_mesh)

    def replicated(self):
        return NamedSharding(self.jax_mesh, PartitionSpec())

    @contextlib.contextmanager
    def scope(self):
        """Models compiled and trained inside use this distribution."""
        previous = _config.get_distribution()
        set_distribution(self)
        try:
            yield self
        finally:
            set_distribution(previous)

    def distribute_dataset(self, dataset):
        return dataset


class DataParallel(Distribution):
    """Each batch split over the devices, variables and optimizer state replicated; XLA
    reduces the gradients inside the one jitted step."""

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True):
        if device_mesh is None:
            devices = devices if devices is not None else jax.devices()
            device_mesh = DeviceMesh((len(devices),), ["batch"], devices)
        super().__init__(device_mesh, device_mesh.axis_names[0], auto_shard_dataset)


class ModelParallel(Distribution):
    """Variables laid out by a `LayoutMap` (say Dense and Conv kernels over a "model" axis),
    the rest replicated; batches split over `batch_dim_name`."""

    def __init__(self, device_mesh=None, layout_map=None, batch_dim_name=None,
                 auto_shard_dataset=True, **kwargs):
        if layout_map is None:
            raise ValueError("ModelParallel needs a `layout_map`.")
        device_mesh = device_mesh or layout_map.device_mesh
        batch_dim_name = batch_dim_name or device_mesh.axis_names[0]
        if batch_dim_name not in device_mesh.axis_names:
            raise ValueError(
                f"`batch_dim_name` {batch_dim_name!r} is not an axis of the mesh "
                f"{device_mesh.axis_names}.")
        super().__init__(device_mesh, batch_dim_name, auto_shard_dataset)
        self.layout_map = layout_map

    def get_variable_layout(self, path, shape):
        layout = self.layout_map[path]
        if layout is None:
            return super().get_variable_layout(path, shape)
        if len(layout.axes) != len(shape):
            raise ValueError(
                f"The layout {layout.axes} for variable {path!r} has {len(layout.axes)} "
                f"axes, but the variable has shape {tuple(shape)}.")
        mesh = self.device_mesh
        for size, axis in zip(shape, layout.axes):
            if axis is not None and size % mesh.shape[mesh.axis_names.index(axis)]:
                raise ValueError(
                    f"Variable {path!r} of shape {tuple(shape)} cannot be sharded by "
                    f"{layout.axes}: dimension {size} does not divide by the "
                    f"{mesh.shape[mesh.axis_names.index(axis)]} devices of mesh axis "
                    f"{axis!r}.")
        return TensorLayout(layout.axes, mesh)


def is_chief():
    """Whether this process writes files and prints (process 0 of a multi-process job)."""
    return jax.process_index() == 0


def set_distribution(value):
    """Makes `value` (a Distribution, or None for one device) the global distribution."""
    if value is not None and not isinstance(value, Distribution):
        raise ValueError(f"Expected a Distribution or None. Received: {value!r}")
    _config.set_distribution(value)


def distribution():
    """The global distribution, or None."""
    return _config.get_distribution()


def distribute_tensor(tensor, layout):
    """`tensor` placed on the devices as `layout` says (a TensorLayout or a sharding)."""
    sharding = layout.sharding() if isinstance(layout, TensorLayout) else layout
    return jax.device_put(tensor, sharding)


_ENV = ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES",
        "KERAS_DISTRIBUTION_PROCESS_ID")


def initialize(job_addresses=None, num_processes=None, process_id=None):
    """Starts multi-process JAX (`jax.distributed.initialize`). Arguments default to the
    environment variables Keras 3 reads: KERAS_DISTRIBUTION_JOB_ADDRESSES (comma-separated,
    the first is the coordinator), KERAS_DISTRIBUTION_NUM_PROCESSES and
    KERAS_DISTRIBUTION_PROCESS_ID. With nothing given, JAX detects the cluster itself."""
    if job_addresses is None:
        job_addresses = os.environ.get(_ENV[0])
    if num_processes is None and os.environ.get(_ENV[1]):
        num_processes = int(os.environ[_ENV[1]])
    if process_id is None and os.environ.get(_ENV[2]):
        process_id = int(os.environ[_ENV[2]])
    coordinator = job_addresses.split(",")[0] if job_addresses else None
    if (jax.config.jax_platforms or os.environ.get("JAX_PLATFORMS", "")) == "cpu":
        # CPU processes reduce across each other through gloo.
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes,
                               process_id=process_id)
