"""The node model behind ``easynn.tree``: which values are nodes, their children, and matching.

``as_node(value)`` says what a value is: ``None`` for a leaf, else a ``Node`` with the children in
flattening order, their path entries, and a function that rebuilds the same kind of node from new
children. ``zip_map`` walks several structures at once and raises a ``ValueError`` naming the
first path where they differ.
"""

from __future__ import annotations

import collections
from typing import Any, Callable, NamedTuple

# ---------------------------------------------------------------------------------------------
# Nodes
# ---------------------------------------------------------------------------------------------

DICT_KIND = "dict"  # dict, OrderedDict and defaultdict are one kind when structures are compared
REGISTRY: dict[type, None] = {}  # classes given to register_tree_node_class


class Node(NamedTuple):
    kind: Any  # what another structure's node must equal to match (a type, or DICT_KIND)
    keys: list  # the children's path entries, in flattening order
    children: list
    rebuild: Callable[[list], Any]  # the same node with new children (given in flattening order)
    aux: Any = None  # registered classes: metadata that must be equal for two nodes to match


def _sorted_keys(mapping: dict) -> list:
    keys = list(mapping)
    try:
        return sorted(keys)
    except TypeError:  # mixed key types: group by type name, then insertion order if still unsortable
        try:
            return sorted(keys, key=lambda k: (type(k).__qualname__, k))
        except TypeError:
            return keys


def _is_namedtuple_type(cls: type) -> bool:
    return issubclass(cls, tuple) and isinstance(getattr(cls, "_fields", None), tuple) and hasattr(cls, "_make")


def _is_structseq_type(cls: type) -> bool:
    return issubclass(cls, tuple) and all(
        hasattr(cls, name) for name in ("n_sequence_fields", "n_fields", "n_unnamed_fields"))


def _dict_node(value: dict) -> Node:
    cls = type(value)
    keys = list(value) if cls is collections.OrderedDict else _sorted_keys(value)
    original_order = list(value)

    def rebuild(children: list) -> Any:
        by_key = dict(zip(keys, children))
        items = [(k, by_key[k]) for k in original_order]
        if cls is collections.defaultdict:
            return collections.defaultdict(value.default_factory, items)
        return cls(items)

    return Node(DICT_KIND, keys, [value[k] for k in keys], rebuild)


def as_node(value: Any, none_is_leaf: bool = True) -> Node | None:
    """The node ``value`` is, or ``None`` for a leaf."""
    cls = type(value)
    if value is None:
        return None if none_is_leaf else Node(type(None), [], [], lambda children: None)
    if cls is list or cls is tuple:
        return Node(cls, list(range(len(value))), list(value), cls)
    if cls is dict or cls is collections.OrderedDict or cls is collections.defaultdict:
        return _dict_node(value)
    if cls is collections.deque:
        return Node(cls, list(range(len(value))), list(value),
                     lambda children: collections.deque(children, maxlen=value.maxlen))
    if cls in REGISTRY:
        flat = value.tree_flatten()
        children, aux = list(flat[0]), flat[1]
        keys = list(flat[2]) if len(flat) > 2 and flat[2] is not None else list(range(len(children)))
        return Node(cls, keys, children, lambda new: cls.tree_unflatten(aux, new), aux)
    if _is_namedtuple_type(cls):
        return Node(cls, list(range(len(value))), list(value), lambda children: cls(*children))
    if _is_structseq_type(cls):
        return Node(cls, list(range(len(value))), list(value), cls)
    return None


# ---------------------------------------------------------------------------------------------
# Matching two structures
# ---------------------------------------------------------------------------------------------


def short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def describe(value: Any, node: Node | None) -> str:
    cls = type(value)
    if node is None:
        return f"a leaf of type {cls.__name__}"
    if node.kind == DICT_KIND:
        return f"a {cls.__name__} with keys {node.keys}"
    if _is_namedtuple_type(cls):
        return f"a namedtuple {cls.__name__} of {len(node.children)} fields"
    if value is None:
        return "None (an empty node, none_is_leaf=False)"
    return f"a {cls.__name__} of {len(node.children)} item(s)"


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # e.g. arrays in aux data: fall back on identity
        return a is b


class Mismatch(ValueError):
    pass


def match(node: Node, first: Any, other: Any, none_is_leaf: bool, names: tuple[str, str]) -> list:
    """``other``'s children aligned with ``node``'s (the node of ``first``), or raise Mismatch."""
    a, b = (f"`{name}`" for name in names)
    other_node = as_node(other, none_is_leaf)
    if other_node is None or other_node.kind != node.kind:
        raise Mismatch(f"{a} has {describe(first, node)} but {b} has {describe(other, other_node)}")
    if node.kind == DICT_KIND:
        if set(node.keys) != set(other_node.keys):
            raise Mismatch(f"dictionary key mismatch: {a} has keys {node.keys}, {b} has keys {other_node.keys}")
        return [other[k] for k in node.keys]
    if len(node.children) != len(other_node.children):
        raise Mismatch(f"{a} has {describe(first, node)} but {b} has {describe(other, other_node)} "
                       "(a different number of items)")
    if not _equal(node.aux, other_node.aux):
        raise Mismatch(f"the {type(first).__name__} nodes have different aux data: "
                       f"{short(node.aux)} in {a}, {short(other_node.aux)} in {b}")
    return other_node.children


def leaf_check(first: Any, other: Any, none_is_leaf: bool, names: tuple[str, str]) -> None:
    other_node = as_node(other, none_is_leaf)
    if other_node is not None:
        raise Mismatch(f"`{names[0]}` has {describe(first, None)} but `{names[1]}` has "
                       f"{describe(other, other_node)}")


def mismatch_error(names: tuple[str, str], tops: tuple[Any, Any], path: tuple, detail: str) -> ValueError:
    return ValueError(
        f"`{names[0]}` and `{names[1]}` don't have the same nested structure: at path {path}, {detail}. "
        f"Received: {names[0]}={short(tops[0])}, {names[1]}={short(tops[1])}"
    )


def zip_map(func: Callable, structures: tuple, names: list[str], none_is_leaf: bool, path: tuple = ()) -> Any:
    """``func`` over the leaves of ``structures`` (all with the first one's layout)."""
    first = structures[0]
    node = as_node(first, none_is_leaf)
    aligned = []
    for i, other in enumerate(structures[1:], start=1):
        try:
            if node is None:
                leaf_check(first, other, none_is_leaf, (names[0], names[i]))
            else:
                aligned.append(match(node, first, other, none_is_leaf, (names[0], names[i])))
        except Mismatch as error:
            raise Located(names[0], names[i], path, str(error)) from None
    if node is None:
        return func(*structures)
    children = [
        zip_map(func, (child, *(others[j] for others in aligned)), names, none_is_leaf, path + (key,))
        for j, (key, child) in enumerate(zip(node.keys, node.children))
    ]
    return node.rebuild(children)


class Located(Exception):
    """A mismatch with where it happened; turned into a ValueError naming the whole structures."""

    def __init__(self, first_name: str, other_name: str, path: tuple, detail: str) -> None:
        super().__init__(detail)
        self.names, self.path, self.detail = (first_name, other_name), path, detail


def run_zip(func: Callable, structures: tuple, names: list[str], none_is_leaf: bool) -> Any:
    try:
        return zip_map(func, structures, names, none_is_leaf)
    except Located as error:
        tops = (structures[names.index(error.names[0])], structures[names.index(error.names[1])])
        raise mismatch_error(error.names, tops, error.path, error.detail) from None
