"""Batch iterators over image files: `DirectoryIterator` (one subfolder per class) and
`DataFrameIterator` (file names and labels in a pandas DataFrame)."""
import os
import warnings

import numpy as np

from jkeras import _config
from jkeras.preprocessing.image.files import img_to_array, load_img, resolve_format
from jkeras.preprocessing.image.iterator import Iterator

__all__ = ["DirectoryIterator", "DataFrameIterator"]


class _FilesIteratorMixin:
    """Shared by the directory and dataframe iterators: loads files into a batch."""

    def _set_processing_attrs(self, image_data_generator, target_size, color_mode,
                              data_format, save_to_dir, save_prefix, save_format, subset,
                              interpolation, keep_aspect_ratio):
        self.image_data_generator = image_data_generator
        self.target_size = tuple(target_size)
        self.keep_aspect_ratio = keep_aspect_ratio
        channels = {"rgb": 3, "rgba": 4, "grayscale": 1}.get(color_mode)
        if channels is None:
            raise ValueError(
                "Expected color_mode to be 'rgb', 'rgba' or 'grayscale'. "
                f"Received: color_mode={color_mode!r}")
        self.color_mode = color_mode
        self.data_format = data_format
        if data_format == "channels_last":
            self.image_shape = self.target_size + (channels,)
        else:
            self.image_shape = (channels,) + self.target_size
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        self.interpolation = interpolation
        if subset is None:
            self.split = None
        else:
            fraction = image_data_generator._validation_split if image_data_generator else 0
            if subset == "validation":
                self.split = (0, fraction)
            elif subset == "training":
                self.split = (fraction, 1)
            else:
                raise ValueError(
                    "Expected subset to be 'training' or 'validation'. "
                    f"Received: subset={subset!r}")
        self.subset = subset

    def _get_batches_of_transformed_samples(self, index_array):
        rng = self._rng
        gen = self.image_data_generator
        batch_x = np.zeros((len(index_array),) + self.image_shape, dtype=self.dtype)
        paths = self.filepaths
        for i, j in enumerate(index_array):
            img = load_img(paths[j], color_mode=self.color_mode, target_size=self.target_size,
                           interpolation=self.interpolation,
                           keep_aspect_ratio=self.keep_aspect_ratio)
            x = img_to_array(img, data_format=self.data_format, dtype=self.dtype)
            img.close()
            if gen:
                x = gen.apply_transform(x, gen.get_random_transform(x.shape, rng))
                x = gen.standardize(np.array(x, dtype=self.dtype))
            batch_x[i] = x
        if self.save_to_dir:
            self._save_batch(batch_x, index_array, rng, 10_000_000)
        mode = self.class_mode
        if mode == "input":
            batch_y = batch_x.copy()
        elif mode in ("binary", "sparse"):
            batch_y = np.asarray([self.classes[j] for j in index_array], dtype=self.dtype)
        elif mode == "categorical":
            batch_y = np.zeros((len(batch_x), len(self.class_indices)), dtype=self.dtype)
            for i, j in enumerate(index_array):
                batch_y[i, self.classes[j]] = 1.0
        elif mode == "multi_output":
            batch_y = [output[index_array] for output in self.labels]
        elif mode == "raw":
            batch_y = self.labels[index_array]
        else:
            return batch_x
        if self.sample_weight is None:
            return batch_x, batch_y
        return batch_x, batch_y, self.sample_weight[index_array]


def walk_image_files(directory, formats, follow_links):
    """(root, name) of the files under `directory` with an allowed extension, sorted."""
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links),
                                 key=lambda item: item[0]):
        for name in sorted(files):
            if name.lower().endswith(formats):
                yield root, name


def list_class_files(class_dir, formats, split, follow_links):
    """Paths relative to the class folder's parent, optionally a (start, stop) fraction."""
    found = list(walk_image_files(class_dir, formats, follow_links))
    if split:
        found = found[int(split[0] * len(found)):int(split[1] * len(found))]
    label = os.path.basename(class_dir)
    return [os.path.join(label, os.path.relpath(os.path.join(root, name), class_dir))
            for root, name in found]


class DirectoryIterator(_FilesIteratorMixin, Iterator):
    """Batches of augmented images read from `directory/<class_name>/<image files>`.

    Class names are the sub-folders (sorted) unless `classes` lists them; attributes
    `class_indices`, `classes` (per sample), `filenames` (relative) and `filepaths`.
    """

    allowed_class_modes = {"categorical", "binary", "sparse", "input", None}

    def __init__(self, directory, image_data_generator, target_size=(256, 256),
                 color_mode="rgb", classes=None, class_mode="categorical", batch_size=32,
                 shuffle=True, seed=None, data_format=None, save_to_dir=None,
                 save_prefix="", save_format="png", follow_links=False, subset=None,
                 interpolation="nearest", keep_aspect_ratio=False, dtype=None):
        data_format = resolve_format(data_format)
        self.dtype = dtype or _config.floatx()
        self._set_processing_attrs(image_data_generator, target_size, color_mode,
                                   data_format, save_to_dir, save_prefix, save_format,
                                   subset, interpolation, keep_aspect_ratio)
        if class_mode not in self.allowed_class_modes:
            raise ValueError(
                f"Expected class_mode to be one of {sorted(map(str, self.allowed_class_modes))}"
                f". Received: class_mode={class_mode!r}")
        self.directory = directory
        self.class_mode = class_mode
        if not classes:
            classes = [d for d in sorted(os.listdir(directory))
                       if os.path.isdir(os.path.join(directory, d))]
        self.num_classes = len(classes)
        self.class_indices = {name: i for i, name in enumerate(classes)}
        self.filenames = []
        labels = []
        for name in classes:
            files = list_class_files(os.path.join(directory, name), self.white_list_formats,
                                      self.split, follow_links)
            self.filenames += files
            labels += [self.class_indices[name]] * len(files)
        self.samples = len(self.filenames)
        self.classes = np.asarray(labels, dtype="int32")
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        self._filepaths = [os.path.join(directory, f) for f in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed)

    @property
    def filepaths(self):
        return self._filepaths

    @property
    def labels(self):
        return self.classes

    @property
    def sample_weight(self):
        return None


class DataFrameIterator(_FilesIteratorMixin, Iterator):
    """Batches of augmented images whose file names (and labels) are columns of a table.

    `dataframe` is a pandas DataFrame (anything indexable by column name works):
    `x_col` holds file names (joined to `directory` if given), `y_col` the labels.
    """

    allowed_class_modes = {"binary", "categorical", "input", "multi_output", "raw",
                           "sparse", None}

    def __init__(self, dataframe, directory=None, image_data_generator=None,
                 x_col="filename", y_col="class", weight_col=None, target_size=(256, 256),
                 color_mode="rgb", classes=None, class_mode="categorical", batch_size=32,
                 shuffle=True, seed=None, data_format="channels_last", save_to_dir=None,
                 save_prefix="", save_format="png", subset=None, interpolation="nearest",
                 keep_aspect_ratio=False, dtype="float32", validate_filenames=True):
        data_format = resolve_format(data_format)
        self._set_processing_attrs(image_data_generator, target_size, color_mode,
                                   data_format, save_to_dir, save_prefix, save_format,
                                   subset, interpolation, keep_aspect_ratio)
        if class_mode not in self.allowed_class_modes:
            raise ValueError(
                f"Expected class_mode to be one of {sorted(map(str, self.allowed_class_modes))}"
                f". Received: class_mode={class_mode!r}")
        if class_mode == "multi_output" and not isinstance(y_col, list):
            raise TypeError(
                "Expected y_col to be a list for class_mode='multi_output'. "
                f"Received: y_col={y_col!r}")
        self.directory = directory or ""
        self.class_mode = class_mode
        self.dtype = dtype
        rows = self._read_rows(dataframe, x_col, y_col, weight_col, class_mode)
        if validate_filenames:
            rows = self._keep_valid_files(rows, x_col)
        labelled = class_mode not in ("input", "multi_output", "raw", None)
        if labelled:
            rows, classes = self._filter_classes(rows, classes, class_mode)
            self.class_indices = {name: i for i, name in enumerate(classes)}
        elif classes:
            warnings.warn(f"classes is ignored with class_mode={class_mode!r}.")
        if self.split:
            rows = rows[int(self.split[0] * len(rows)):int(self.split[1] * len(rows))]
        if labelled:
            self.classes = [[self.class_indices[v] for v in r["y"]]
                            if isinstance(r["y"], (list, tuple)) else self.class_indices[r["y"]]
                            for r in rows]
        self.filenames = [r["x"] for r in rows]
        self._sample_weight = (np.asarray([r["w"] for r in rows])
                               if weight_col else None)
        if class_mode == "multi_output":
            self._targets = [np.array([r["y"][k] for r in rows]) for k in range(len(y_col))]
        elif class_mode == "raw":
            self._targets = np.array([r["y"] for r in rows])
        self.samples = len(self.filenames)
        checked = "validated" if validate_filenames else "non-validated"
        if labelled:
            print(f"Found {self.samples} {checked} image filenames belonging to "
                  f"{len(self.class_indices)} classes.")
        else:
            print(f"Found {self.samples} {checked} image filenames.")
        self._filepaths = [os.path.join(self.directory, f) for f in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed)

    @staticmethod
    def _read_rows(df, x_col, y_col, weight_col, class_mode):
        filenames = list(df[x_col])
        if not all(isinstance(f, str) for f in filenames):
            raise TypeError(f"Expected strings in column x_col={x_col!r}.")
        if class_mode is None or class_mode == "input":
            labels = [None] * len(filenames)
        elif class_mode == "multi_output":
            labels = list(zip(*[list(df[c]) for c in y_col]))
        else:
            labels = list(df[y_col])
        if class_mode in ("binary", "sparse") and not all(isinstance(v, str) for v in labels):
            raise TypeError(
                f"Expected string labels in column y_col={y_col!r} for "
                f"class_mode={class_mode!r}.")
        if class_mode == "categorical" and not all(
                isinstance(v, (str, list, tuple)) for v in labels):
            raise TypeError(
                f"Expected string, list or tuple labels in column y_col={y_col!r} for "
                "class_mode='categorical'.")
        weights = [None] * len(filenames)
        if weight_col:
            weights = np.asarray(list(df[weight_col]))
            if not np.issubdtype(weights.dtype, np.number):
                raise TypeError(f"Expected numbers in column weight_col={weight_col!r}.")
            weights = list(weights)
        return [{"x": f, "y": v, "w": w} for f, v, w in zip(filenames, labels, weights)]

    def _keep_valid_files(self, rows, x_col):
        def valid(name):
            path = os.path.join(self.directory, name)
            return name.lower().endswith(self.white_list_formats) and os.path.isfile(path)

        kept = [r for r in rows if valid(r["x"])]
        if len(kept) != len(rows):
            warnings.warn(f"Found {len(rows) - len(kept)} invalid image filename(s) in "
                          f"x_col={x_col!r}; they will be ignored.")
        return kept

    @staticmethod
    def _filter_classes(rows, classes, class_mode):
        if class_mode == "binary":
            count = len(set(classes)) if classes else len({r["y"] for r in rows})
            if count != 2:
                raise ValueError(
                    f"Expected 2 classes for class_mode='binary'. Received: {count} classes")
        if classes:
            classes = list(dict.fromkeys(classes))
            allowed = set(classes)
            kept = []
            for r in rows:
                y = r["y"]
                if isinstance(y, (list, tuple)):
                    y = [v for v in y if v in allowed] or None
                elif y not in allowed:
                    y = None
                if y is not None:
                    kept.append(dict(r, y=y))
            return kept, classes
        found = set()
        for r in rows:
            found.update(r["y"] if isinstance(r["y"], (list, tuple)) else [r["y"]])
        return rows, sorted(found)

    @property
    def filepaths(self):
        return self._filepaths

    @property
    def labels(self):
        if self.class_mode in ("multi_output", "raw"):
            return self._targets
        return self.classes

    @property
    def sample_weight(self):
        return self._sample_weight
