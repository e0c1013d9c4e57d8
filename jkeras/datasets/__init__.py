"""Small standard datasets, downloaded once into `~/.keras/datasets` (Keras's files)."""
from jkeras.datasets import boston_housing
from jkeras.datasets import cifar10
from jkeras.datasets import cifar100
from jkeras.datasets import fashion_mnist
from jkeras.datasets import imdb
from jkeras.datasets import mnist
from jkeras.datasets import reuters

__all__ = ["boston_housing", "cifar10", "cifar100", "fashion_mnist", "imdb", "mnist",
           "reuters"]
