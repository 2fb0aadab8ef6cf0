"""The callback interface (``Callback``, ``CallbackList``, ``History``, ``LazyLogs``).

Defined in ``easynn/training/callbacks_base.py``, next to the loop that calls the hooks; this
module keeps the ``easynn.callbacks.base`` import path that user code and older tests use.
"""

from easynn.training.callbacks_base import Callback, CallbackList, History, LazyLogs

__all__ = ["Callback", "CallbackList", "History", "LazyLogs"]
