"""Keras 3's ``keras.tree``: work on nested structures of lists, tuples and dicts.

A structure is a tree. Its **nodes** are, by exact type (a subclass is a leaf unless registered,
as in Keras 3's default optree backend):

* ``list``, ``tuple``, ``collections.deque``: children in order, paths ``0, 1, ...``;
* namedtuples (each class its own kind) and struct sequences (``torch.return_types.max``,
  ``os.stat_result``...): children in field order, paths are indices (not field names);
* ``dict`` and ``collections.defaultdict``: children in **sorted key order** (insertion order
  when the keys cannot be sorted), paths are the keys; packed back in the dict's own key order;
* ``collections.OrderedDict``: children in insertion order;
* classes given to ``register_tree_node_class``.

Everything else is a **leaf**: numbers, strings, bytes, sets, NumPy arrays, tensors, and
``None`` (only ``map_structure(..., none_is_leaf=False)`` treats ``None`` as an empty node).

Two structures match when each node of one faces a node of the same kind with the same number
of children in the other (``dict``, ``OrderedDict`` and ``defaultdict`` are one kind and match
by keys; ``list``, ``tuple``, ``deque`` and each namedtuple class are distinct kinds), and each
leaf faces a leaf. A mismatch raises ``ValueError`` naming the path and both structures.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

from easynn.tree import _nodes
from easynn.tree._nodes import Mismatch, as_node, match, mismatch_error, run_zip, short

__all__ = [
    "MAP_TO_NONE",
    "assert_same_paths",
    "assert_same_structure",
    "flatten",
    "flatten_with_path",
    "is_nested",
    "lists_to_tuples",
    "map_shape_structure",
    "map_structure",
    "map_structure_up_to",
    "pack_sequence_as",
    "register_tree_node_class",
    "traverse",
]


class MAP_TO_NONE:  # noqa: N801 (Keras's name)
    """Return this class (or an instance) from a ``traverse`` function to put ``None`` there.

    ``traverse`` reads ``None`` from the function as "keep going", so replacing a sub-tree by
    ``None`` needs this marker.
    """


def register_tree_node_class(cls: type) -> type:
    """Make instances of ``cls`` tree nodes (usable as a class decorator).

    ``cls`` defines ``tree_flatten(self)``, returning ``(children, aux_data)`` or
    ``(children, aux_data, path_entries)``, and a classmethod ``tree_unflatten(cls, aux_data,
    children)`` that builds an instance back. Two instances match when their ``aux_data`` are
    equal.

    Args:
        cls: the class to register (registering it again changes nothing).

    Returns:
        ``cls`` itself.

    Raises:
        TypeError: if ``cls`` is not a class or lacks ``tree_flatten`` / ``tree_unflatten``.

    Example:
        >>> @register_tree_node_class
        ... class Pair:
        ...     def __init__(self, first, second):
        ...         self.first, self.second = first, second
        ...     def tree_flatten(self):
        ...         return (self.first, self.second), None
        ...     @classmethod
        ...     def tree_unflatten(cls, aux_data, children):
        ...         return cls(*children)
        >>> flatten([Pair(1, 2), 3])
        [1, 2, 3]
    """
    if not isinstance(cls, type):
        raise TypeError(f"`cls` must be a class. Received: cls={cls!r}")
    missing = [name for name in ("tree_flatten", "tree_unflatten") if not callable(getattr(cls, name, None))]
    if missing:
        raise TypeError(f"`cls` must define {' and '.join(missing)} to be a tree node. Received: cls={cls.__name__}")
    _nodes.REGISTRY[cls] = None
    return cls


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def is_nested(structure: Any) -> bool:
    """Whether ``structure`` is a node (a list, tuple, dict... even empty) rather than a leaf.

    Args:
        structure: anything.

    Returns:
        ``True`` for a list, tuple, deque, namedtuple, dict (of any kind) or registered class.

    Example:
        >>> is_nested(42), is_nested({"foo": 42}), is_nested([]), is_nested("ab"), is_nested(None)
        (False, True, True, False, False)
    """
    return as_node(structure) is not None


def flatten(structure: Any) -> list:
    """The leaves of ``structure``, depth first (dict values in sorted key order).

    Args:
        structure: an arbitrarily nested structure; a leaf gives a one-item list.

    Returns:
        A new list of the leaves.

    Example:
        >>> flatten([[1, 2, 3], [4, [5], [[6]]]])
        [1, 2, 3, 4, 5, 6]
        >>> flatten({100: "world!", 6: "Hello"}), flatten(None)
        (['Hello', 'world!'], [None])
    """
    return [leaf for _, leaf in flatten_with_path(structure)]


def flatten_with_path(structure: Any) -> list[tuple[tuple, Any]]:
    """The leaves of ``structure`` with their paths, in ``flatten``'s order.

    A path is the tuple of indices (sequences, namedtuples) and keys (dicts) leading from the
    root to the leaf; a leaf at the root has the path ``()``.

    Args:
        structure: an arbitrarily nested structure.

    Returns:
        A list of ``(path, leaf)`` pairs.

    Example:
        >>> flatten_with_path([{"foo": 42}, (None,)])
        [((0, 'foo'), 42), ((1, 0), None)]
    """
    out: list = []

    def visit(value: Any, path: tuple) -> None:
        node = as_node(value)
        if node is None:
            out.append((path, value))
            return
        for key, child in zip(node.keys, node.children):
            visit(child, path + (key,))

    visit(structure, ())
    return out


def map_structure(func: Callable, *structures: Any, none_is_leaf: bool = True) -> Any:
    """``func`` applied to the leaves of ``structures``, in a structure like the first one.

    With several structures, ``func`` gets one leaf of each, taken at the same place; the
    structures must match (dicts of any kind match by key; the result has the first one's types
    and key order).

    Args:
        func: a callable taking as many arguments as there are structures.
        *structures: one or more structures with the same layout.
        none_is_leaf: if ``True`` (Keras's default) ``func`` is called on ``None`` leaves; if
            ``False``, ``None`` is an empty node: left as ``None`` without calling ``func``.

    Returns:
        A new structure with the first structure's layout and ``func``'s results as leaves.

    Raises:
        TypeError: if ``func`` is not callable.
        ValueError: if no structure is given, or the structures don't match.

    Example:
        >>> map_structure(lambda v: v ** 2, [[1], [2], [3]])
        [[1], [4], [9]]
        >>> map_structure(lambda x, y: x * y, {"b": 2, "a": 1}, {"a": 10, "b": 20})
        {'b': 40, 'a': 10}
        >>> map_structure(lambda v: v + 1, [1, None], none_is_leaf=False)
        [2, None]
    """
    if not callable(func):
        raise TypeError(f"`func` must be callable. Received: func={func!r}")
    if not structures:
        raise ValueError("map_structure() needs at least one structure. Received: no structures")
    names = ["structure"] if len(structures) == 1 else [f"structures[{i}]" for i in range(len(structures))]
    return run_zip(func, structures, names, none_is_leaf)


def map_structure_up_to(shallow_structure: Any, func: Callable, *structures: Any) -> Any:
    """``map_structure`` that stops at the leaves of ``shallow_structure``.

    Where ``shallow_structure`` has a leaf (``None`` included), ``func`` gets whatever
    ``structures`` hold there, nested or not; above that, ``structures`` must match
    ``shallow_structure``.

    Args:
        shallow_structure: a structure whose layout is a prefix of every structure's.
        func: a callable taking as many arguments as there are ``structures``.
        *structures: one or more structures at least as deep as ``shallow_structure``.

    Returns:
        A new structure with ``shallow_structure``'s layout.

    Raises:
        TypeError: if ``func`` is not callable.
        ValueError: if no structure is given, or one is shallower than ``shallow_structure``
            or differs from it above its leaves.

    Example:
        >>> map_structure_up_to([None, None], len, [[1, 1], [2, 2, 2]])
        [2, 3]
        >>> map_structure_up_to([None, [None, None]], str, [[1, 1], [2, 2]])
        ['[1, 1]', ['2', '2']]
    """
    if not callable(func):
        raise TypeError(f"`func` must be callable. Received: func={func!r}")
    if not structures:
        raise ValueError("map_structure_up_to() needs at least one structure. Received: no structures")

    def visit(shallow: Any, values: tuple, path: tuple) -> Any:
        node = as_node(shallow)
        if node is None:
            return func(*values)
        aligned = []
        for i, value in enumerate(values):
            names = ("shallow_structure", f"structures[{i}]")
            try:
                aligned.append(match(node, shallow, value, True, names))
            except Mismatch as error:
                raise mismatch_error(names, (shallow_structure, structures[i]), path, str(error)) from None
        return node.rebuild([visit(child, tuple(a[j] for a in aligned), path + (key,))
                             for j, (key, child) in enumerate(zip(node.keys, node.children))])

    return visit(shallow_structure, structures, ())


def assert_same_structure(a: Any, b: Any, check_types: bool | None = None) -> None:
    """Raise unless ``a`` and ``b`` are nested the same way (their leaves may differ).

    ``list``, ``tuple``, ``deque`` and each namedtuple class are different kinds of node (two
    namedtuple classes with the same name and fields differ too); ``dict``, ``OrderedDict``
    and ``defaultdict`` match when their keys do.

    Args:
        a, b: arbitrarily nested structures.
        check_types: deprecated in Keras 3 and without effect; passing it warns.

    Raises:
        ValueError: naming the first path where the structures differ, and both structures.

    Example:
        >>> assert_same_structure([(0, 1)], [(2, 3)])
        >>> assert_same_structure([0, 1], (2, 3))
        Traceback (most recent call last):
            ...
        ValueError: `a` and `b` don't have the same nested structure: at path (), `a` has a list of 2 item(s) but `b` has a tuple of 2 item(s). Received: a=[0, 1], b=(2, 3)
    """
    if check_types is not None:
        warnings.warn(
            "The `check_types` argument of assert_same_structure is deprecated (as in Keras 3) and has no "
            "effect; remove it. For a check that ignores the kind of sequence, use assert_same_paths.",
            DeprecationWarning, stacklevel=2,
        )
    run_zip(lambda *leaves: None, (a, b), ["a", "b"], True)


def assert_same_paths(a: Any, b: Any) -> None:
    """Raise unless ``a`` and ``b`` have the same set of leaf paths.

    Looser than ``assert_same_structure``: only the paths count, so a list, a tuple and a
    namedtuple of the same length match, as do dicts with the same keys.

    Args:
        a, b: arbitrarily nested structures.

    Raises:
        ValueError: listing the paths found in one structure only.

    Example:
        >>> assert_same_paths([0, 1], (2, 3))
        >>> assert_same_paths({"a": 1}, {"b": 1})
        Traceback (most recent call last):
            ...
        ValueError: `a` and `b` don't have the same paths. Paths in `a` missing in `b`: [('a',)]. Paths in `b` missing in `a`: [('b',)].
    """
    a_paths = {path for path, _ in flatten_with_path(a)}
    b_paths = {path for path, _ in flatten_with_path(b)}
    if a_paths == b_paths:
        return
    message = "`a` and `b` don't have the same paths."
    for name, other, only in (("a", "b", a_paths - b_paths), ("b", "a", b_paths - a_paths)):
        if only:
            message += f" Paths in `{name}` missing in `{other}`: {sorted(only, key=repr)}."
    raise ValueError(message)


def pack_sequence_as(structure: Any, flat_sequence: Any, sequence_fn: Callable | None = None) -> Any:
    """``flat_sequence`` put back into the layout of ``structure`` (the inverse of ``flatten``).

    Leaves are taken in ``flatten``'s order: dict values by sorted key (an ``OrderedDict`` by its
    own order), while each dict comes back with ``structure``'s key order. A leaf
    ``structure`` gives the single item of ``flat_sequence``.

    Args:
        structure: an arbitrarily nested structure (only its layout is used).
        flat_sequence: an iterable with as many items as ``structure`` has leaves.
        sequence_fn: optional ``sequence_fn(node, children)`` that builds each node from the
            original node and its packed children (in flattening order), instead of a node of
            the same type.

    Returns:
        A new structure like ``structure`` holding the items of ``flat_sequence``.

    Raises:
        TypeError: if ``flat_sequence`` is not an iterable of items (a string or a dict isn't).
        ValueError: if the number of items differs from the number of leaves.

    Example:
        >>> pack_sequence_as({"key3": "", "key1": "", "key2": ""}, ["value1", "value2", "value3"])
        {'key3': 'value3', 'key1': 'value1', 'key2': 'value2'}
        >>> pack_sequence_as((("a", "b"), ("c", "d", "e"), "f"), [1, 2, 3, 4, 5, 6])
        ((1, 2), (3, 4, 5), 6)
    """
    if isinstance(flat_sequence, (str, bytes, dict)) or not hasattr(flat_sequence, "__iter__"):
        raise TypeError(
            "`flat_sequence` must be an iterable (list, tuple...) of the leaves to pack. "
            f"Received: flat_sequence={short(flat_sequence)} of type {type(flat_sequence).__name__}"
        )
    if sequence_fn is not None and not callable(sequence_fn):
        raise TypeError(f"`sequence_fn` must be callable or None. Received: sequence_fn={sequence_fn!r}")
    items = list(flat_sequence)
    leaf_count = len(flatten_with_path(structure))
    if leaf_count != len(items):
        raise ValueError(
            f"Could not pack the sequence: `structure` has {leaf_count} leaf(s) but `flat_sequence` has "
            f"{len(items)} items. Received: structure={short(structure)}, flat_sequence={short(items)}"
        )
    position = iter(items)

    def build(value: Any) -> Any:
        node = as_node(value)
        if node is None:
            return next(position)
        children = [build(child) for child in node.children]
        return sequence_fn(value, children) if sequence_fn is not None else node.rebuild(children)

    return build(structure)


def traverse(func: Callable, structure: Any, top_down: bool = True) -> Any:
    """Apply ``func`` to every sub-tree of ``structure`` (nodes and leaves), depth first.

    Top-down (the default), ``func`` sees a node before its children: if it returns ``None``
    the traversal goes into the node, otherwise its result replaces the whole sub-tree.
    Bottom-up, ``func`` sees a node after its children were traversed; ``None`` keeps the
    sub-tree, anything else replaces it. Return ``MAP_TO_NONE`` to put ``None`` in place.

    Args:
        func: a callable taking one sub-tree.
        structure: the structure to traverse.
        top_down: visit parents before (``True``) or after (``False``) their children.

    Returns:
        The structure with the replacements made.

    Raises:
        TypeError: if ``func`` is not callable.

    Example:
        >>> seen = []
        >>> traverse(seen.append, [(1, 2), [3], {"a": 4}])
        [(1, 2), [3], {'a': 4}]
        >>> seen
        [[(1, 2), [3], {'a': 4}], (1, 2), 1, 2, [3], 3, {'a': 4}, 4]
        >>> traverse(lambda x: MAP_TO_NONE if isinstance(x, tuple) else None, [(1, 2), 3])
        [None, 3]
    """
    if not callable(func):
        raise TypeError(f"`func` must be callable. Received: func={func!r}")

    def finish(result: Any) -> Any:
        return None if result is MAP_TO_NONE or isinstance(result, MAP_TO_NONE) else result

    def into(value: Any) -> Any:
        node = as_node(value)
        if node is None:
            return value
        return node.rebuild([visit(child) for child in node.children])

    def visit(value: Any) -> Any:
        if top_down:
            result = func(value)
            return into(value) if result is None else finish(result)
        done = into(value)
        result = func(done)
        return done if result is None else finish(result)

    return visit(structure)


def lists_to_tuples(structure: Any) -> Any:
    """``structure`` with every list turned into a tuple, at every depth.

    Args:
        structure: an arbitrarily nested structure.

    Returns:
        A new structure with tuples where ``structure`` has lists.

    Example:
        >>> lists_to_tuples([[1], {"a": [2, 3]}])
        ((1,), {'a': (2, 3)})
    """
    return traverse(lambda value: tuple(value) if isinstance(value, list) else None, structure, top_down=False)


def _is_shape(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(v is None or isinstance(v, int) for v in value)


def map_shape_structure(func: Callable, structure: Any) -> Any:
    """``map_structure`` where lists and tuples of ints and ``None`` are shapes, passed whole to ``func``.

    Args:
        func: a callable taking one shape (or any other leaf).
        structure: an arbitrarily nested structure of shapes.

    Returns:
        The structure with ``func`` applied to each shape and leaf.

    Raises:
        TypeError: if ``func`` is not callable.

    Example:
        >>> map_shape_structure(lambda s: (None,) + tuple(s), {"a": [2, 3], "b": [(4,), (None, 5)]})
        {'a': (None, 2, 3), 'b': [(None, 4), (None, None, 5)]}
    """
    if not callable(func):
        raise TypeError(f"`func` must be callable. Received: func={func!r}")

    def visit(value: Any) -> Any:
        node = None if _is_shape(value) else as_node(value)
        if node is None:
            return func(value)
        return node.rebuild([visit(child) for child in node.children])

    return visit(structure)
