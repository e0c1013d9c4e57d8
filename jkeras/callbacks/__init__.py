"""Callbacks: hooks the host-side training loop calls around epochs and batches.

One module per family, as Keras keeps them: the `Callback` base (`callback`), the list
that calls them (`callback_list`), lazy logs (`logs`), `History`, `ProgbarLogger`,
stopping (`early_stopping`), `ModelCheckpoint`, the learning rate, logging to a file or a
server (`remote_logging`), `LambdaCallback`, `BackupAndRestore`; `TensorBoard` lives in
`jkeras.tensorboard`. Every name is importable from `jkeras.callbacks` as in Keras.
"""
from jkeras.callbacks.callback import Callback
from jkeras.callbacks.logs import LazyLogs, alias_of, lookup
from jkeras.callbacks.history import BaseLogger, History
from jkeras.callbacks.progbar_logger import ProgbarLogger
from jkeras.callbacks.callback_list import CallbackList, _overrides  # noqa: F401 (the loop)
from jkeras.callbacks.monitor import monitor_mode
from jkeras.callbacks.early_stopping import EarlyStopping, TerminateOnNaN
from jkeras.callbacks.model_checkpoint import ModelCheckpoint
from jkeras.callbacks.learning_rate import LearningRateScheduler, ReduceLROnPlateau
from jkeras.callbacks.remote_logging import CSVLogger, RemoteMonitor
from jkeras.callbacks.lambda_callback import LambdaCallback
from jkeras.callbacks.backup_and_restore import (  # noqa: F401 (the backup file helpers)
    BackupAndRestore, pack_training_state, unpack_training_state, write_atomically)
from jkeras.callbacks.tensorboard import TensorBoard

__all__ = [
    "Callback", "CallbackList", "BaseLogger", "History", "ProgbarLogger", "TerminateOnNaN",
    "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler", "ReduceLROnPlateau",
    "CSVLogger", "RemoteMonitor", "LambdaCallback", "BackupAndRestore", "TensorBoard",
    "LazyLogs", "alias_of", "lookup", "monitor_mode",
]
