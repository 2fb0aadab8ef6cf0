"""``Config``: Keras 3's dict-like container of named values, read and written as attributes.

Keras's ``keras.utils.Config``: values are set and read as attributes (``config.seed = 1``) or
items (``config["seed"]``); the whole config can be frozen against changes, copied into a plain
dict, or written as JSON. It behaves like a (mutable) mapping: ``keys``/``values``/``items``/
``get``/``pop``/``update``, ``len``, ``in``, ``del``; iterating yields the keys in sorted order.

Example:
    >>> config = Config(learning_rate=0.1, momentum=0.9)
    >>> config.seed = 123
    >>> config["seed"], config.learning_rate, sorted(config)
    (123, 0.1, ['learning_rate', 'momentum', 'seed'])
"""

from __future__ import annotations

import copy
import difflib
import json
from typing import Any, Iterator

__all__ = ["Config"]


class Config:
    """A dict-like container for named values, with attribute access, freezing and JSON export.

    Args:
        **kwargs: the initial entries.

    Returns:
        A mutable ``Config`` (until ``freeze()``).

    Raises:
        ValueError: when a frozen config is changed (setting an attribute or item, ``del``,
            ``pop``, ``update``).
        AttributeError: when reading an attribute that is not an entry (the message suggests the
            closest entry name), or assigning to the name of one of ``Config``'s own methods or
            properties (``config.keys = ...``): use ``config["keys"] = ...`` for such names.

    Example:
        >>> config = Config(optimizer="adam")
        >>> config.freeze()
        >>> config.frozen
        True
        >>> config.optimizer = "sgd"
        Traceback (most recent call last):
            ...
        ValueError: Cannot mutate attribute(s) because the config is frozen.
        >>> config.unfreeze()
        >>> config.optimizer = "sgd"
        >>> config.to_json(), config.as_dict()
        ('{"optimizer": "sgd"}', {'optimizer': 'sgd'})
    """

    def __init__(self, **kwargs: Any) -> None:
        object.__setattr__(self, "_config", dict(kwargs))
        object.__setattr__(self, "_frozen", False)

    # freezing ----------------------------------------------------------------
    @property
    def frozen(self) -> bool:
        """Whether the config is frozen (no entry may be added, changed or removed)."""
        return self._frozen

    def freeze(self) -> None:
        """Freeze the config: any later modification raises ``ValueError``."""
        object.__setattr__(self, "_frozen", True)

    def unfreeze(self) -> None:
        """Allow modifications again."""
        object.__setattr__(self, "_frozen", False)

    def _raise_if_frozen(self) -> None:
        if self._frozen:
            raise ValueError("Cannot mutate attribute(s) because the config is frozen.")

    # conversions ---------------------------------------------------------------
    def as_dict(self) -> dict:
        """A shallow copy of the entries as a plain ``dict``."""
        return copy.copy(self._config)

    def to_json(self) -> str:
        """The entries as a JSON string (``json.dumps``; values must be JSON-serializable)."""
        return json.dumps(self._config)

    # the mapping interface -----------------------------------------------------
    def keys(self):
        return self._config.keys()

    def values(self):
        return self._config.values()

    def items(self):
        return self._config.items()

    def get(self, keyname: str, value: Any = None) -> Any:
        return self._config.get(keyname, value)

    def pop(self, *args: Any) -> Any:
        self._raise_if_frozen()
        return self._config.pop(*args)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._raise_if_frozen()
        self._config.update(*args, **kwargs)

    def __getitem__(self, key: str) -> Any:
        return self._config[key]

    def __setitem__(self, key: str, item: Any) -> None:
        self._raise_if_frozen()
        self._config[key] = item

    def __delitem__(self, key: str) -> None:
        self._raise_if_frozen()
        del self._config[key]

    def __contains__(self, item: object) -> bool:
        return item in self._config

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._config))  # Keras iterates in sorted key order

    def __len__(self) -> int:
        return len(self._config)

    def __repr__(self) -> str:
        return f"<Config {self._config}>"

    # attribute access ----------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        # Called only when normal lookup fails: the name is an entry or unknown.
        config = self.__dict__.get("_config")
        if config is None:  # during copy/pickle, before __init__ has run
            raise AttributeError(name)
        if name in config:
            return config[name]
        message = f"Unknown attribute: '{name}'."
        close = difflib.get_close_matches(name, list(config), n=1, cutoff=0.7)
        if close:
            message += f" Did you mean '{close[0]}'?"
        raise AttributeError(message)

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(type(self), name):
            raise AttributeError(
                f"'{name}' is an attribute of Config itself and cannot be set as an entry by attribute; "
                f"use config[{name!r}] = ... instead."
            )
        self._raise_if_frozen()
        self._config[name] = value

    def __delattr__(self, name: str) -> None:
        if name not in self._config:
            raise AttributeError(f"Unknown attribute: '{name}'.")
        self.__delitem__(name)

    def __getstate__(self) -> dict:
        return {"_config": self._config, "_frozen": self._frozen}

    def __setstate__(self, state: dict) -> None:
        object.__setattr__(self, "_config", dict(state["_config"]))  # copy.copy: a new dict, shared values
        object.__setattr__(self, "_frozen", state["_frozen"])
