"""easynn.tree (Keras 3's keras.tree) against hand-written expected values.

The expected values follow Keras 3's documented rules (optree backend): dicts flatten in sorted
key order and pack back in their own key order, OrderedDicts keep insertion order, None is a
leaf, namedtuple paths are indices, list/tuple/deque/namedtuple classes are distinct kinds while
dict/OrderedDict/defaultdict match by keys.
"""

from __future__ import annotations

import os
import warnings
from collections import OrderedDict, defaultdict, deque, namedtuple

import numpy as np
import pytest
import torch

import easynn
from easynn import tree

Point = namedtuple("Point", ["x", "y"])
OtherPoint = namedtuple("OtherPoint", ["x", "y"])
Empty = namedtuple("Empty", [])


def strict_equal(a, b) -> bool:
    """Equal values, equal types and equal key order at every depth."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        if list(a) != list(b):
            return False
        if isinstance(a, defaultdict) and a.default_factory is not b.default_factory:
            return False
        return all(strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple, deque)):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    return a == b


def test_strict_equal_helper_sees_order_and_type():
    assert strict_equal({"a": 1, "b": 2}, {"a": 1, "b": 2})
    assert not strict_equal({"a": 1, "b": 2}, {"b": 2, "a": 1})
    assert not strict_equal([1], (1,))
    assert not strict_equal(Point(1, 2), OtherPoint(1, 2))


# ------------------------------------------------------------------ is_nested


@pytest.mark.parametrize("value", [1, "1234", b"12", bytearray(b"12"), np.ones((2, 3)), torch.ones(2), {1, 2},
                                   None, torch.Size([2, 3]), 2.5])
def test_is_nested_false_for_leaves(value):
    assert tree.is_nested(value) is False


@pytest.mark.parametrize("value", [(), [], deque(), Empty(), Point(1, 2), {}, {"a": 1}, OrderedDict(),
                                   defaultdict(list), [1, [2]]])
def test_is_nested_true_for_nodes(value):
    assert tree.is_nested(value) is True


def test_subclass_of_list_is_a_leaf_as_in_optree():
    class MyList(list):
        pass

    assert not tree.is_nested(MyList([1, 2]))
    assert tree.flatten([MyList([1, 2]), 3]) == [[1, 2], 3]


# ------------------------------------------------------------------ flatten / flatten_with_path


def test_flatten_basic_and_leaves():
    assert tree.flatten([[1, 2, 3], [4, [5], [[6]]]]) == [1, 2, 3, 4, 5, 6]
    assert tree.flatten(None) == [None]
    assert tree.flatten(1) == [1]
    assert tree.flatten("abc") == ["abc"]
    assert tree.flatten(()) == [] and tree.flatten({}) == [] and tree.flatten(Empty()) == []
    assert tree.flatten([None, (None,)]) == [None, None]


def test_flatten_dict_orders():
    assert tree.flatten({100: "world!", 6: "Hello"}) == ["Hello", "world!"]
    assert tree.flatten({"b": 2, "a": 1}) == [1, 2]
    assert tree.flatten(OrderedDict([("b", 2), ("a", 1)])) == [2, 1]
    assert tree.flatten(defaultdict(list, [("b", 2), ("a", 1)])) == [1, 2]
    # sorted at every depth, through lists
    assert tree.flatten({"b": [{"d": 40, "c": 30}], "a": 10}) == [10, 30, 40]


def test_flatten_namedtuple_deque_arrays_tensors():
    array, tensor = np.array([10]), torch.tensor([1.0, 2.0])
    flat = tree.flatten(({"b": [2, 3], "a": (1,)}, Point(y=9, x=8), deque([7]), array, tensor))
    assert flat[:6] == [1, 2, 3, 8, 9, 7]
    assert flat[6] is array and flat[7] is tensor


def test_flatten_struct_sequence():
    result = torch.max(torch.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1)
    values, indices = tree.flatten(result)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    doubled = tree.map_structure(lambda t: t * 2, result)
    assert type(doubled) is type(result) and doubled.values.tolist() == [10.0, 14.0]


def test_flatten_mixed_key_types_groups_by_type_name():
    assert tree.flatten({"b": "c", 2: "d", 1: "a"}) == ["a", "d", "c"]


def test_flatten_with_path():
    assert tree.flatten_with_path(1) == [((), 1)]
    assert tree.flatten_with_path([]) == []
    assert tree.flatten_with_path([{"foo": 42}]) == [((0, "foo"), 42)]
    assert tree.flatten_with_path(Point(y=2, x=1)) == [((0,), 1), ((1,), 2)]
    assert tree.flatten_with_path({"b": 2, "a": 1}) == [(("a",), 1), (("b",), 2)]
    assert tree.flatten_with_path(OrderedDict([("b", 2), ("a", 1)])) == [(("b",), 2), (("a",), 1)]
    assert tree.flatten_with_path(({"b": [2, 3], "a": (1,)}, None, Point(8, 9))) == [
        ((0, "a", 0), 1), ((0, "b", 0), 2), ((0, "b", 1), 3), ((1,), None), ((2, 0), 8), ((2, 1), 9)]


# ------------------------------------------------------------------ pack_sequence_as


def test_pack_sequence_as_simple_structures():
    assert tree.pack_sequence_as(10, [1]) == 1
    assert strict_equal(tree.pack_sequence_as((), []), ())
    assert strict_equal(tree.pack_sequence_as([10, 20], (1, 2)), [1, 2])
    assert strict_equal(tree.pack_sequence_as(deque([10, 20], maxlen=5), [1, 2]), deque([1, 2], maxlen=5))
    assert tree.pack_sequence_as(deque([10], maxlen=5), [1]).maxlen == 5
    assert strict_equal(tree.pack_sequence_as(Point(y=20, x=10), [1, 2]), Point(x=1, y=2))
    assert strict_equal(tree.pack_sequence_as(Empty(), []), Empty())
    assert strict_equal(tree.pack_sequence_as((("a", "b"), ("c", "d", "e"), "f"), [1, 2, 3, 4, 5, 6]),
                        ((1, 2), (3, 4, 5), 6))
    assert strict_equal(tree.pack_sequence_as([None, (None,)], [1, 2]), [1, (2,)])


def test_pack_sequence_as_dict_takes_sorted_order_keeps_own_key_order():
    packed = tree.pack_sequence_as({"key3": "", "key1": "", "key2": ""}, ["value1", "value2", "value3"])
    assert strict_equal(packed, {"key3": "value3", "key1": "value1", "key2": "value2"})
    nested = {"key3": {"c": ("alpha", "beta"), "a": "gamma"}, "key1": {"e": "val1", "d": "val2"}}
    packed = tree.pack_sequence_as(nested, ["val2", "val1", 3.0, 1.0, 2.0])
    assert strict_equal(packed, {"key3": {"c": (1.0, 2.0), "a": 3.0}, "key1": {"e": "val1", "d": "val2"}})


def test_pack_sequence_as_ordered_and_default_dicts():
    packed = tree.pack_sequence_as(OrderedDict([("b", 20), ("a", 10)]), [2, 1])
    assert strict_equal(packed, OrderedDict([("b", 2), ("a", 1)]))
    packed = tree.pack_sequence_as(defaultdict(list, [("b", 20), ("a", 10)]), [1, 2])
    assert strict_equal(packed, defaultdict(list, [("b", 2), ("a", 1)]))
    assert packed.default_factory is list


def test_pack_sequence_as_round_trips_flatten():
    structure = ({"b": [np.zeros(2), 3], "a": (None,)}, OrderedDict([("z", 1), ("y", Point(2, 3))]), "s")
    assert strict_equal(tree.pack_sequence_as(structure, tree.flatten(structure)), structure)


def test_pack_sequence_as_sequence_fn_gets_node_and_children():
    calls = []

    def sequence_fn(node, children):
        calls.append((type(node).__name__, list(children)))
        return tuple(children) if isinstance(node, list) else type(node)(children)

    assert tree.pack_sequence_as([[0, 0], (0,)], [1, 2, 3], sequence_fn=sequence_fn) == ((1, 2), (3,))
    assert calls == [("list", [1, 2]), ("tuple", [3]), ("list", [(1, 2), (3,)])]


def test_pack_sequence_as_errors():
    with pytest.raises(TypeError, match="iterable.*flat_sequence=1"):
        tree.pack_sequence_as([10, 20], 1)
    with pytest.raises(TypeError, match="iterable"):
        tree.pack_sequence_as(["a", "b"], "ab")
    with pytest.raises(ValueError, match="has 1 leaf.*0 items"):
        tree.pack_sequence_as(10, [])
    with pytest.raises(ValueError, match="has 2 leaf.*3 items"):
        tree.pack_sequence_as([10, 20], [1, 2, 3])
    with pytest.raises(ValueError, match="has 2 leaf.*1 items"):
        tree.pack_sequence_as([10, 20], [1])
    with pytest.raises(TypeError, match="sequence_fn"):
        tree.pack_sequence_as([1], [1], sequence_fn=3)


# ------------------------------------------------------------------ map_structure


def test_map_structure_one_structure():
    assert tree.map_structure(lambda v: v ** 2, [[1], [2], [3]]) == [[1], [4], [9]]
    assert strict_equal(tree.map_structure(lambda v: v * 2, Point(1, 2)), Point(2, 4))
    assert strict_equal(tree.map_structure(lambda v: v + 10, {"b": 2, "a": 1}), {"b": 12, "a": 11})
    assert strict_equal(tree.map_structure(lambda v: v + 10, OrderedDict([("b", 2), ("a", 1)])),
                        OrderedDict([("b", 12), ("a", 11)]))
    assert strict_equal(tree.map_structure(lambda v: v, deque([1], maxlen=3)), deque([1], maxlen=3))
    assert tree.map_structure(lambda v: v + 1, 1) == 2


def test_map_structure_visits_dict_values_in_sorted_order():
    seen = []
    tree.map_structure(seen.append, {"b": 1, "c": 2, "a": 0})
    assert seen == [0, 1, 2]


def test_map_structure_none_is_leaf():
    assert tree.map_structure(lambda v: "X", [1, None]) == ["X", "X"]
    seen = []
    out = tree.map_structure(lambda v: seen.append(v) or v * 2, {"a": None, "b": [None, 2]}, none_is_leaf=False)
    assert strict_equal(out, {"a": None, "b": [None, 4]}) and seen == [2]
    assert tree.map_structure(lambda x, y: x + y, [None, 1], [None, 2], none_is_leaf=False) == [None, 3]
    with pytest.raises(ValueError, match=r"at path \(0,\).*None \(an empty node"):
        tree.map_structure(lambda x, y: x, [None], [3], none_is_leaf=False)


def test_map_structure_several_structures():
    assert tree.map_structure(lambda x, y: x * y, [[1], [2]], [[3], [4]]) == [[3], [8]]
    assert strict_equal(tree.map_structure(lambda x, y: x + y, Point(y=2, x=1), Point(x=10, y=20)), Point(11, 22))
    assert tree.map_structure(lambda x, y, z: x + y + z, (1, 2), (10, 20), (100, 200)) == (111, 222)


def test_map_structure_dict_kinds_match_by_key_first_type_and_order_win():
    out = tree.map_structure(lambda x, y: x + y, {"a": 1, "b": 2}, OrderedDict([("b", 20), ("a", 10)]))
    assert strict_equal(out, {"a": 11, "b": 22})
    out = tree.map_structure(lambda x, y: x + y, OrderedDict([("b", 2), ("a", 1)]), {"a": 10, "b": 20})
    assert strict_equal(out, OrderedDict([("b", 22), ("a", 11)]))
    out = tree.map_structure(lambda x, y: x + y, defaultdict(int, [("b", 2), ("a", 1)]), {"a": 10, "b": 20})
    assert strict_equal(out, defaultdict(int, [("b", 22), ("a", 11)]))
    out = tree.map_structure(lambda x, y: x + y, OrderedDict([("b", 2), ("a", 1)]),
                             OrderedDict([("a", 10), ("b", 20)]))
    assert strict_equal(out, OrderedDict([("b", 22), ("a", 11)]))


@pytest.mark.parametrize("a, b, words", [
    ((), [], ["has a tuple", "has a list"]),
    ((), deque(), ["tuple", "deque"]),
    ((), Empty(), ["tuple", "namedtuple Empty"]),
    ([], deque(), ["list", "deque"]),
    (deque(), Empty(), ["deque", "namedtuple"]),
    (Point(1, 2), OtherPoint(1, 2), ["namedtuple Point", "namedtuple OtherPoint"]),
    ((1, 2), (1,), ["different number of items"]),
    ([1, 2], [1], ["different number of items"]),
    ({"a": 1, "b": 2}, {"a": 1}, ["dictionary key mismatch", "['a', 'b']", "['a']"]),
    (1, (), ["has a leaf of type int", "has a tuple"]),
    ([[1, 2]], [[1, [2]]], [r"at path (0, 1)", "leaf of type int", "has a list"]),
])
def test_map_structure_mismatch_errors(a, b, words):
    with pytest.raises(ValueError) as info:
        tree.map_structure(lambda x, y: None, a, b)
    message = str(info.value)
    assert "`structures[0]` and `structures[1]` don't have the same nested structure" in message
    assert f"structures[0]={a!r}" in message and f"structures[1]={b!r}" in message
    for word in words:
        assert word in message


def test_map_structure_third_structure_mismatch_is_named():
    with pytest.raises(ValueError, match=r"`structures\[0\]` and `structures\[2\]`"):
        tree.map_structure(lambda *v: None, [1], [2], (3,))


def test_map_structure_argument_errors():
    with pytest.raises(TypeError, match="callable"):
        tree.map_structure("bad", [1, 2])
    with pytest.raises(ValueError, match="at least one structure"):
        tree.map_structure(lambda v: v)


def test_map_structure_on_tensors_and_arrays():
    out = tree.map_structure(lambda t: t + 1, {"x": torch.zeros(2), "y": [np.ones(1)]})
    assert torch.equal(out["x"], torch.ones(2)) and np.array_equal(out["y"][0], np.array([2.0]))


def test_long_structures_are_truncated_in_messages():
    big = list(range(500))
    with pytest.raises(ValueError) as info:
        tree.map_structure(lambda x, y: None, big, big[:-1])
    assert len(str(info.value)) < 800 and "..." in str(info.value)


# ------------------------------------------------------------------ map_structure_up_to


def test_map_structure_up_to():
    assert tree.map_structure_up_to([None, None], len, [[1, 1], [2, 2, 2]]) == [2, 3]
    assert tree.map_structure_up_to([None, [None, None]], str, [[1, 1], [2, 2]]) == ["[1, 1]", ["2", "2"]]
    data = [[2, 4, 6, 8], [[1, 3, 5, 7, 9], [3, 5, 7]]]
    names = ["evens", ["odds", "primes"]]
    out = tree.map_structure_up_to(names, lambda name, sec: f"first_{len(sec)}_{name}", names, data)
    assert out == ["first_4_evens", ["first_5_odds", "first_3_primes"]]
    shallow = OtherPoint(x=2, y=3)
    deep = OtherPoint(x=Point(x=1, y=2), y=Point(x=2, y=3))
    out = tree.map_structure_up_to(shallow, lambda a, b: (a + b.x) * b.y, shallow, deep)
    assert strict_equal(out, OtherPoint(6, 15))


def test_map_structure_up_to_result_has_shallow_layout_and_dict_order():
    out = tree.map_structure_up_to(OrderedDict([("b", None), ("a", None)]), sum, {"a": [1, 2], "b": [3, 4]})
    assert strict_equal(out, OrderedDict([("b", 7), ("a", 3)]))


def test_map_structure_up_to_errors():
    with pytest.raises(ValueError, match=r"`shallow_structure` and `structures\[0\]`.*at path \(1,\)"):
        tree.map_structure_up_to([None, [None, None]], str, [[1, 1], 2])
    with pytest.raises(ValueError, match="has a tuple"):
        tree.map_structure_up_to([None], str, (1,))
    with pytest.raises(TypeError, match="callable"):
        tree.map_structure_up_to([None], 5, [1])
    with pytest.raises(ValueError, match="at least one structure"):
        tree.map_structure_up_to([None], str)


# ------------------------------------------------------------------ assert_same_structure / paths


def test_assert_same_structure_accepts_matching():
    tree.assert_same_structure([(0, 1)], [(2, 3)])
    tree.assert_same_structure(1, "leaf")
    tree.assert_same_structure(None, 3)  # None is a leaf
    tree.assert_same_structure(np.zeros(3), torch.zeros(1))  # arrays and tensors are leaves
    tree.assert_same_structure({"b": 2, "a": 1}, OrderedDict([("a", 10), ("b", 20)]))
    tree.assert_same_structure(Point(0, 1), Point(2, 3))
    tree.assert_same_structure(({"b": [2, 3], "a": (1,)}, Point(9, 8)), ({"a": (10,), "b": [20, 30]}, Point(1, 1)))


def test_assert_same_structure_rejects_same_named_namedtuple_classes():
    also_point = namedtuple("Point", ["x", "y"])
    with pytest.raises(ValueError, match="don't have the same nested structure"):
        tree.assert_same_structure(Point(0, 1), also_point(2, 3))


def test_assert_same_structure_message_names_both_structures():
    with pytest.raises(ValueError) as info:
        tree.assert_same_structure({"x": [1, 2]}, {"x": (1, 2)})
    assert str(info.value) == (
        "`a` and `b` don't have the same nested structure: at path ('x',), `a` has a list of 2 item(s) but `b` "
        "has a tuple of 2 item(s). Received: a={'x': [1, 2]}, b={'x': (1, 2)}"
    )


def test_assert_same_structure_check_types_is_deprecated_and_ignored():
    with pytest.warns(DeprecationWarning, match="check_types"):
        tree.assert_same_structure([1], [2.0], check_types=True)
    with pytest.warns(DeprecationWarning, match="check_types"), pytest.raises(ValueError):
        tree.assert_same_structure([1], (2,), check_types=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tree.assert_same_structure([1], [2])


def test_assert_same_paths():
    tree.assert_same_paths([0, 1], (2, 3))
    tree.assert_same_paths(Point(1, 2), OtherPoint(None, 20))
    tree.assert_same_paths({"b": None, "a": None}, OrderedDict([("a", 10), ("b", 20)]))
    with pytest.raises(ValueError) as info:
        tree.assert_same_paths({"a": 1, "c": [1]}, {"a": 1, "b": 2})
    assert str(info.value) == ("`a` and `b` don't have the same paths. Paths in `a` missing in `b`: [('c', 0)]. "
                               "Paths in `b` missing in `a`: [('b',)].")
    with pytest.raises(ValueError, match=r"missing in `a`: \[\(2,\)\]"):
        tree.assert_same_paths((1, 2), [1, 2, 3])


# ------------------------------------------------------------------ traverse


def test_traverse_top_down_and_bottom_up_orders():
    seen = []
    structure = [(1, 2), [3], {"a": 4}]
    assert tree.traverse(seen.append, structure) == structure
    assert seen == [[(1, 2), [3], {"a": 4}], (1, 2), 1, 2, [3], 3, {"a": 4}, 4]
    seen = []
    assert tree.traverse(seen.append, structure, top_down=False) == structure
    assert seen == [1, 2, (1, 2), 3, [3], 4, {"a": 4}, [(1, 2), [3], {"a": 4}]]


def test_traverse_replacements():
    # top-down: a replaced sub-tree is not entered
    seen = []

    def top(x):
        seen.append(x)
        return "X" if isinstance(x, tuple) else None

    assert tree.traverse(top, [(1, [2]), [3, (4, 5)]]) == ["X", [3, "X"]]
    assert seen == [[(1, [2]), [3, (4, 5)]], (1, [2]), [3, (4, 5)], 3, (4, 5)]
    # bottom-up: children first, then the parent sees the rebuilt node
    assert tree.traverse(lambda x: x + 10 if isinstance(x, int) else None, {"b": [2], "a": 1},
                         top_down=False) == {"b": [12], "a": 11}
    # MAP_TO_NONE puts a None in place (class or instance)
    assert tree.traverse(lambda x: tree.MAP_TO_NONE if isinstance(x, tuple) else None, [(1, 2), 3]) == [None, 3]
    assert tree.traverse(lambda x: tree.MAP_TO_NONE() if isinstance(x, tuple) else None, [(1,), 3],
                         top_down=False) == [None, 3]
    with pytest.raises(TypeError, match="callable"):
        tree.traverse("bad", [1])


def test_traverse_dicts_visit_sorted_keys_keep_key_order():
    seen = []
    out = tree.traverse(lambda x: seen.append(x) if isinstance(x, int) else None, {"b": 2, "a": 1})
    assert seen == [1, 2] and list(out) == ["b", "a"]


# ------------------------------------------------------------------ lists_to_tuples / map_shape_structure


def test_lists_to_tuples():
    assert strict_equal(tree.lists_to_tuples([1, 2, 3]), (1, 2, 3))
    assert strict_equal(tree.lists_to_tuples([[1], [2, 3]]), ((1,), (2, 3)))
    assert strict_equal(tree.lists_to_tuples(({"b": [2, 3], "a": (1,)}, Point([4], 5))),
                        ({"b": (2, 3), "a": (1,)}, Point((4,), 5)))


def test_map_shape_structure():
    seen = []

    def func(x):
        seen.append(x)
        return tuple(x) + (10,) if isinstance(x, (tuple, list)) else None

    assert strict_equal(tree.map_shape_structure(func, (1, 2, 3)), (1, 2, 3, 10))
    seen.clear()
    out = tree.map_shape_structure(func, {"a": [1, 2, None], "b": (5,), "c": "hi"})
    assert strict_equal(out, {"a": (1, 2, None, 10), "b": (5, 10), "c": None})
    assert seen == [[1, 2, None], (5,), "hi"]
    out = tree.map_shape_structure(func, [(None,), [(2, 3), "x"], ()])
    assert strict_equal(out, [(None, 10), [(2, 3, 10), None], (10,)])
    with pytest.raises(TypeError, match="callable"):
        tree.map_shape_structure(None, (1,))


# ------------------------------------------------------------------ register_tree_node_class


@tree.register_tree_node_class
class Box:
    def __init__(self, label, *items):
        self.label, self.items = label, list(items)

    def tree_flatten(self):
        return self.items, self.label, [f"item{i}" for i in range(len(self.items))]

    @classmethod
    def tree_unflatten(cls, aux_data, children):
        return cls(aux_data, *children)


def test_registered_class_is_a_node():
    box = Box("b", 1, [2, 3])
    assert tree.is_nested(box)
    assert tree.flatten({"k": box}) == [1, 2, 3]
    assert tree.flatten_with_path(box) == [(("item0",), 1), (("item1", 0), 2), (("item1", 1), 3)]
    out = tree.map_structure(lambda v: v * 10, box)
    assert type(out) is Box and out.label == "b" and out.items == [10, [20, 30]]
    packed = tree.pack_sequence_as(box, [7, 8, 9])
    assert packed.label == "b" and packed.items == [7, [8, 9]]
    tree.assert_same_structure(box, Box("b", 0, [0, 0]))
    with pytest.raises(ValueError, match="different aux data"):
        tree.assert_same_structure(box, Box("other", 0, [0, 0]))
    assert tree.register_tree_node_class(Box) is Box  # registering again is harmless


def test_register_tree_node_class_errors():
    with pytest.raises(TypeError, match="must be a class"):
        tree.register_tree_node_class(Box("b"))

    class NoFlatten:
        pass

    with pytest.raises(TypeError, match="tree_flatten and tree_unflatten"):
        tree.register_tree_node_class(NoFlatten)


# ------------------------------------------------------------------ exports


def test_exports_match_keras_tree():
    keras_tree = {"MAP_TO_NONE", "assert_same_paths", "assert_same_structure", "flatten", "flatten_with_path",
                  "is_nested", "lists_to_tuples", "map_shape_structure", "map_structure", "map_structure_up_to",
                  "pack_sequence_as", "traverse"}
    assert keras_tree <= set(tree.__all__)
    assert all(hasattr(easynn.tree, name) for name in tree.__all__)
    assert "tree" in easynn.__all__ and easynn.tree is tree


def test_os_stat_result_struct_sequence_round_trip():
    stat = os.stat(__file__)
    flat = tree.flatten(stat)
    assert len(flat) == len(tuple(stat))
    assert isinstance(tree.pack_sequence_as(stat, flat), os.stat_result)
