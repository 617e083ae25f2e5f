"""Tests for mlxc.utils (the tree helpers of mlx.utils).

Every expectation here was checked against mlx.utils 0.32.4. The helpers are
generic over leaves, so plain Python values stand in for arrays.
"""

from collections import OrderedDict, namedtuple

import pytest

from mlxc.utils import (
    tree_flatten,
    tree_map,
    tree_map_with_path,
    tree_merge,
    tree_reduce,
    tree_unflatten,
)

Point = namedtuple("Point", ["x", "y"])


# --- tree_flatten ---------------------------------------------------------


def test_flatten_nested_lists():
    assert tree_flatten([[[0]]]) == [("0.0.0", 0)]


def test_flatten_prefix_drops_first_character():
    assert tree_flatten([[[0]]], prefix=".hello") == [("hello.0.0.0", 0)]
    assert tree_flatten({"a": 1}, prefix="xy") == [("y.a", 1)]


def test_flatten_model_like_keys():
    params = {
        "layers": [{"weight": 1, "bias": 2}, {"weight": 3, "bias": 4}],
        "head": {"w": 5},
    }
    assert tree_flatten(params) == [
        ("layers.0.weight", 1),
        ("layers.0.bias", 2),
        ("layers.1.weight", 3),
        ("layers.1.bias", 4),
        ("head.w", 5),
    ]


def test_flatten_into_dict_destination():
    assert tree_flatten({"a": {"b": 1}}, destination={}) == {"a.b": 1}


def test_flatten_appends_to_given_destination():
    dest = [("z", 0)]
    out = tree_flatten([1, 2], destination=dest)
    assert out is dest
    assert dest == [("z", 0), ("0", 1), ("1", 2)]
    ddest = {"q": 9}
    assert tree_flatten({"r": 1}, destination=ddest) is ddest
    assert ddest == {"q": 9, "r": 1}


def test_flatten_bad_destination():
    with pytest.raises(ValueError, match="Destination should be either"):
        tree_flatten([1], destination=(1,))
    with pytest.raises(ValueError):
        tree_flatten([1], destination="x")


def test_flatten_leaf_at_root():
    assert tree_flatten(5) == [("", 5)]
    assert tree_flatten(None) == [("", None)]
    assert tree_flatten("abc") == [("", "abc")]


def test_flatten_empty_containers_vanish():
    assert tree_flatten([]) == []
    assert tree_flatten({}) == []
    assert tree_flatten({"a": [], "b": {}, "c": (), "d": 1}) == [("d", 1)]


def test_flatten_tuples_and_namedtuples():
    assert tree_flatten((1, (2, 3))) == [("0", 1), ("1.0", 2), ("1.1", 3)]
    assert tree_flatten(Point(1, 2)) == [("0", 1), ("1", 2)]


def test_flatten_non_string_dict_keys():
    assert tree_flatten({1: "a", (2, 3): "b"}) == [("1", "a"), ("(2, 3)", "b")]


def test_flatten_is_leaf():
    tree = {"a": [1, 2], "b": (3, [4])}
    out = tree_flatten(tree, is_leaf=lambda x: isinstance(x, list))
    assert out == [("a", [1, 2]), ("b.0", 3), ("b.1", [4])]
    # is_leaf matching the root gives a single entry with an empty key.
    assert tree_flatten(tree, is_leaf=lambda x: isinstance(x, dict)) == [("", tree)]


def test_flatten_is_leaf_sees_nodes_in_preorder():
    seen = []

    def is_leaf(x):
        seen.append(x)
        return False

    tree = {"a": [1, {"b": 2}], "c": 3}
    tree_flatten(tree, is_leaf=is_leaf)
    assert seen == [tree, [1, {"b": 2}], 1, {"b": 2}, 2, 3]


def test_flatten_other_iterables_are_leaves():
    s = {1, 2}
    r = range(3)
    assert tree_flatten([s, r]) == [("0", s), ("1", r)]


def test_flatten_ordered_dict():
    tree = OrderedDict([("z", 1), ("a", 2)])
    assert tree_flatten(tree) == [("z", 1), ("a", 2)]


def test_flatten_deep_tree():
    tree = 0
    for _ in range(50):
        tree = [tree]
    assert tree_flatten(tree) == [(".".join(["0"] * 50), 0)]


# --- tree_unflatten -------------------------------------------------------


def test_unflatten_dict():
    assert tree_unflatten([("hello.world", 42)]) == {"hello": {"world": 42}}
    assert tree_unflatten({"hello.world": 42}) == {"hello": {"world": 42}}


def test_unflatten_lists_from_integer_keys():
    flat = [("0.0.0", 0)]
    assert tree_unflatten(flat) == [[[0]]]
    flat = [("layers.0.weight", 1), ("layers.1.weight", 2), ("head", 3)]
    assert tree_unflatten(flat) == {
        "layers": [{"weight": 1}, {"weight": 2}],
        "head": 3,
    }


def test_unflatten_roundtrip():
    tree = {
        "layers": [{"weight": 1, "bias": 2}, {"weight": 3, "bias": 4}],
        "head": {"w": 5, "extra": [6, 7, [8]]},
    }
    assert tree_unflatten(tree_flatten(tree)) == tree
    assert tree_unflatten(tree_flatten(tree, destination={})) == tree


def test_unflatten_tuples_come_back_as_lists():
    assert tree_unflatten(tree_flatten((1, (2, 3)))) == [1, [2, 3]]


def test_unflatten_sorts_indices():
    assert tree_unflatten([("2", "c"), ("0", "a"), ("1", "b")]) == ["a", "b", "c"]
    assert tree_unflatten([("10", "k"), ("9", "j")]) == [{}] * 9 + ["j", "k"]


def test_unflatten_fills_gaps_with_empty_dicts():
    assert tree_unflatten([("0", "a"), ("3", "d")]) == ["a", {}, {}, "d"]
    assert tree_unflatten([("2", 1)]) == [{}, {}, 1]


def test_unflatten_mixed_keys_make_a_dict():
    assert tree_unflatten([("0", "a"), ("x", "b")]) == {"0": "a", "x": "b"}


def test_unflatten_leading_zero_collision_makes_a_dict():
    assert tree_unflatten([("01", "a"), ("1", "b")]) == {"01": "a", "1": "b"}


def test_unflatten_leading_zero_alone_is_an_index():
    assert tree_unflatten([("00", "a"), ("01", "b")]) == ["a", "b"]


def test_unflatten_negative_index():
    assert tree_unflatten([("-1", "a"), ("0", "b")]) == ["a", "b"]


def test_unflatten_single_empty_key_is_leaf():
    assert tree_unflatten([("", 5)]) == 5
    assert tree_unflatten({"": "v"}) == "v"


def test_unflatten_single_entry():
    assert tree_unflatten([("a", 1)]) == {"a": 1}
    assert tree_unflatten([("0", 1)]) == [1]


def test_unflatten_empty():
    assert tree_unflatten([]) == []
    assert tree_unflatten({}) == []


def test_unflatten_empty_key_among_others():
    assert tree_unflatten([("", 1), ("a", 2)]) == {"": 1, "a": 2}


def test_unflatten_trailing_dot():
    # "a." alone under "a" is the leaf itself; next to "a.x" it is the "" key.
    assert tree_unflatten([("a.", 1), ("b", 2)]) == {"a": 1, "b": 2}
    assert tree_unflatten([("a.", 1), ("a.x", 2)]) == {"a": {"": 1, "x": 2}}


def test_unflatten_dict_key_order_is_first_seen():
    out = tree_unflatten([("b.x", 1), ("a", 2), ("b.y", 3)])
    assert list(out) == ["b", "a"]
    assert list(out["b"]) == ["x", "y"]


def test_unflatten_accepts_list_pairs():
    assert tree_unflatten([["a.b", 1], ["a.c", 2]]) == {"a": {"b": 1, "c": 2}}


@pytest.mark.mlxc_only
def test_unflatten_duplicate_keys_raise():
    # MLX hits RecursionError here; mlxc raises a ValueError that says why.
    with pytest.raises(ValueError, match="more than once"):
        tree_unflatten([("a.b", 1), ("a.b", 2)])
    with pytest.raises(ValueError, match="more than once"):
        tree_unflatten([("0", 1), ("0.", 2)])


def test_unflatten_rejects_non_sized():
    with pytest.raises(TypeError):
        tree_unflatten(iter([("a", 1)]))


# --- tree_map -------------------------------------------------------------


def test_map_basic():
    tree = {"a": [1, 2, (3, 4)], "b": {"c": 5}}
    assert tree_map(lambda x: x * 10, tree) == {
        "a": [10, 20, (30, 40)],
        "b": {"c": 50},
    }


def test_map_preserves_sequence_types():
    out = tree_map(lambda x: x + 1, ([1], (2,), Point(3, 4)))
    assert type(out) is tuple
    assert out == ([2], (3,), Point(4, 5))
    assert type(out[2]) is Point


def test_map_dict_subclass_becomes_dict():
    out = tree_map(lambda x: x, OrderedDict([("b", 1), ("a", 2)]))
    assert type(out) is dict
    assert list(out) == ["b", "a"]


def test_map_leaf_root():
    assert tree_map(lambda x: x * 2, 3) == 6
    assert tree_map(lambda x: (x,), None) == (None,)


def test_map_with_rest():
    tree = {"a": [1, 2], "b": 3}
    other = {"a": [10, 20], "b": 30, "extra": 99}
    third = {"a": (100, 200, 300), "b": 300}
    out = tree_map(lambda x, y, z: x + y + z, tree, other, third)
    assert out == {"a": [111, 222], "b": 333}


def test_map_rest_leaf_may_be_subtree():
    out = tree_map(lambda x, y: (x, y), [1, 2], [[5, 6], {"k": 7}])
    assert out == [(1, [5, 6]), (2, {"k": 7})]


def test_map_rest_missing_key():
    with pytest.raises(KeyError):
        tree_map(lambda x, y: x, {"a": 1}, {"b": 2})
    with pytest.raises(IndexError):
        tree_map(lambda x, y: x, [1, 2], [1])


def test_map_is_leaf():
    tree = {"a": [1, 2], "b": [[3], 4]}
    out = tree_map(len, tree, is_leaf=lambda x: isinstance(x, list))
    assert out == {"a": 2, "b": 2}


def test_map_is_leaf_with_rest():
    out = tree_map(
        lambda x, y: (x, y),
        {"a": (1, 2)},
        {"a": "A"},
        is_leaf=lambda x: isinstance(x, tuple),
    )
    assert out == {"a": ((1, 2), "A")}


def test_map_empty():
    assert tree_map(lambda x: x, []) == []
    assert tree_map(lambda x: x, {}) == {}
    assert tree_map(lambda x: x, ()) == ()


def test_map_does_not_mutate():
    tree = {"a": [1, 2]}
    out = tree_map(lambda x: x + 1, tree)
    assert tree == {"a": [1, 2]}
    assert out["a"] is not tree["a"]


# --- tree_map_with_path ---------------------------------------------------


def test_map_with_path_paths():
    paths = []
    tree = {"model": [{"w": 0, "b": 1}, {"w": 0, "b": 1}]}
    tree_map_with_path(lambda p, _: paths.append(p), tree)
    assert paths == ["model.0.w", "model.0.b", "model.1.w", "model.1.b"]


def test_map_with_path_values():
    tree = {"a": [1, (2, 3)], "b": 4}
    out = tree_map_with_path(lambda p, x: f"{p}={x}", tree)
    assert out == {"a": ["a.0=1", ("a.1.0=2", "a.1.1=3")], "b": "b=4"}


def test_map_with_path_root_leaf_gets_none():
    assert tree_map_with_path(lambda p, x: (p, x), 7) == (None, 7)


def test_map_with_path_prefix():
    out = tree_map_with_path(lambda p, x: p, {"a": [1]}, path="root")
    assert out == {"a": ["root.a.0"]}
    assert tree_map_with_path(lambda p, x: p, 1, path="root") == "root"
    # An empty path adds nothing.
    assert tree_map_with_path(lambda p, x: p, [1], path="") == ["0"]


def test_map_with_path_rest_and_is_leaf():
    out = tree_map_with_path(
        lambda p, x, y: (p, x, y),
        {"a": [1, 2], "b": [3]},
        {"a": [10, 20], "b": "B"},
        is_leaf=lambda x: isinstance(x, list) and len(x) == 1,
    )
    assert out == {"a": [("a.0", 1, 10), ("a.1", 2, 20)], "b": ("b", [3], "B")}


def test_map_with_path_namedtuple():
    out = tree_map_with_path(lambda p, x: p, Point(1, 2))
    assert out == Point("0", "1")
    assert type(out) is Point


# --- tree_reduce ----------------------------------------------------------


def test_reduce_sum():
    tree = {"a": [1, 2, 3], "b": [4, 5]}
    assert tree_reduce(lambda acc, x: acc + x, tree, 0) == 15


def test_reduce_without_initializer_uses_first_leaf():
    calls = []

    def fn(acc, x):
        calls.append((acc, x))
        return acc + x

    assert tree_reduce(fn, [1, (2, 3)]) == 6
    assert calls == [(1, 2), (3, 3)]


def test_reduce_order():
    tree = {"b": [1, 2], "a": ("x", {"c": 3})}
    assert tree_reduce(lambda acc, x: acc + [x], tree, []) == [1, 2, "x", 3]


def test_reduce_leaf_root():
    assert tree_reduce(lambda a, b: a + b, 5) == 5
    assert tree_reduce(lambda a, b: a + b, 5, 10) == 15


def test_reduce_empty_tree():
    assert tree_reduce(lambda a, b: a + b, []) is None
    assert tree_reduce(lambda a, b: a + b, {}, 3) == 3


def test_reduce_is_leaf():
    tree = {"a": [1, 2], "b": [3]}
    out = tree_reduce(
        lambda acc, x: acc + len(x), tree, 0, is_leaf=lambda x: isinstance(x, list)
    )
    assert out == 3
    # Without an initializer the first leaf itself starts the accumulator.
    out = tree_reduce(
        lambda acc, x: acc + x, tree, is_leaf=lambda x: isinstance(x, list)
    )
    assert out == [1, 2, 3]


def test_reduce_none_initializer_restarts_on_none_accumulator():
    # A None accumulator means "nothing yet", so the next leaf takes its place.
    out = tree_reduce(lambda acc, x: None if x == 2 else acc + x, [1, 2, 3, 4])
    assert out == 7


def test_reduce_max():
    assert tree_reduce(max, {"a": [3, 9], "b": (4,)}) == 9


# --- tree_merge -----------------------------------------------------------


def test_merge_disjoint_dicts():
    out = tree_merge({"a": 1, "c": {"x": 1}}, {"b": 2, "c": {"y": 2}})
    assert out == {"a": 1, "b": 2, "c": {"x": 1, "y": 2}}


def test_merge_lists_positionally():
    assert tree_merge([1, {}, 3], [{}, 2]) == [1, 2, 3]
    assert tree_merge([None, 2], [1]) == [1, 2]


def test_merge_keeps_type_of_first():
    out = tree_merge((1, None), [None, 2])
    assert type(out) is tuple and out == (1, 2)
    out = tree_merge(Point(1, None), (None, 2))
    assert type(out) is Point and out == Point(1, 2)


def test_merge_with_none_and_empty():
    assert tree_merge(None, {"a": 1}) == {"a": 1}
    assert tree_merge({"a": 1}, None) == {"a": 1}
    assert tree_merge([], [1, 2]) == [1, 2]
    assert tree_merge({"a": 1}, []) == {"a": 1}
    assert tree_merge(5, {}) == 5


def test_merge_two_empties():
    assert tree_merge([], []) == []
    assert tree_merge({}, {}) == {}
    assert tree_merge((), ()) == ()


def test_merge_empties_of_different_types():
    with pytest.raises(ValueError, match="Cannot merge list with dict"):
        tree_merge([], {})
    with pytest.raises(ValueError, match="Cannot merge tuple with list"):
        tree_merge((), [])


def test_merge_conflict_needs_merge_fn():
    with pytest.raises(ValueError, match="no merge function was provided"):
        tree_merge({"a": 1}, {"a": 2})
    assert tree_merge({"a": 1}, {"a": 2}, lambda x, y: x + y) == {"a": 3}


def test_merge_structure_mismatch_goes_to_merge_fn():
    out = tree_merge({"a": [1]}, {"a": {"k": 2}}, lambda x, y: ("both", x, y))
    assert out == {"a": ("both", [1], {"k": 2})}


def test_merge_two_nones():
    with pytest.raises(ValueError):
        tree_merge(None, None)
    assert tree_merge(None, None, lambda x, y: "merged") == "merged"


def test_merge_flatten_roundtrip_split_model():
    left = tree_unflatten([("layers.0.w", 1), ("layers.1.b", 4)])
    right = tree_unflatten([("layers.0.b", 2), ("layers.1.w", 3)])
    merged = tree_merge(left, right)
    assert merged == {"layers": [{"w": 1, "b": 2}, {"w": 3, "b": 4}]}
