"""Keras-style data-set loaders: ``mnist``, ``fashion_mnist`` and ``cifar10``.

Each module has ``load_data()`` returning ``(x_train, y_train), (x_test, y_test)`` as NumPy
arrays with Keras's shapes and dtypes. Files are downloaded once into ``~/.easynn/datasets``
(or ``$EASYNN_HOME/datasets``, or ``cache_dir=``), checked against their hash, and read with
loaders that never unpickle arbitrary objects. ``path=`` reads a local copy instead.
"""

from easynn.datasets import cifar10, fashion_mnist, mnist
from easynn.datasets._download import DownloadError, default_cache_dir, get_file

__all__ = ["DownloadError", "cifar10", "default_cache_dir", "fashion_mnist", "get_file", "mnist"]
