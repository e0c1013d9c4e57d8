"""Keras's preprocessing utilities: images, sequences and text (NumPy, outside the graph)."""
from jkeras.preprocessing import image, sequence, text
from jkeras.preprocessing.image import image_dataset_from_directory

__all__ = ["image", "sequence", "text", "image_dataset_from_directory"]
