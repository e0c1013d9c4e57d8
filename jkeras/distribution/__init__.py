"""`keras.distribution`: training over several devices (and hosts) with the same `fit`.

Keras 3's names and meanings: a `DeviceMesh` names the axes of a grid of devices, a
`TensorLayout` says how an array's axes map onto mesh axes, a `LayoutMap` picks layouts for
variables by path, and a `Distribution` (`DataParallel`, `ModelParallel`) tells the trainer
how to lay out the train state and the batches. The trainer then runs one jitted step whose
inputs carry these shardings; XLA inserts the collectives. See docs/DISTRIBUTION.md.
"""
from jkeras.distribution.distribution_lib import (DataParallel, DeviceMesh, Distribution,
                                                  LayoutMap, ModelParallel, TensorLayout,
                                                  distribute_tensor, distribution,
                                                  initialize, is_chief, list_devices,
                                                  set_distribution)

__all__ = ["DataParallel", "DeviceMesh", "Distribution", "LayoutMap", "ModelParallel",
           "TensorLayout", "distribute_tensor", "distribution", "initialize", "is_chief",
           "list_devices",
           "set_distribution"]
