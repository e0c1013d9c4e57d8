"""Reads the pickled batches of the CIFAR-10 and CIFAR-100 python archives."""
import numpy as np

from jkeras.datasets._fetch import RestrictedUnpickler

__all__ = ["load_batch"]


def load_batch(fpath, label_key="labels"):
    """`(data, labels)` of one CIFAR batch file: uint8 data of shape (N, 3, 32, 32) and
    the labels under `label_key` ('labels', 'fine_labels' or 'coarse_labels')."""
    with open(fpath, "rb") as f:
        raw = RestrictedUnpickler(f, encoding="bytes").load()
    batch = {(k.decode("utf8") if isinstance(k, bytes) else k): v for k, v in raw.items()}
    data = np.asarray(batch["data"], dtype=np.uint8)
    return data.reshape(data.shape[0], 3, 32, 32), batch[label_key]
