"""Helpers for Python trees (nested lists, tuples and dicts), as ``mlx.utils``.

A *tree* is any nesting of ``list``, ``tuple`` and ``dict``; everything else is
a leaf. The functions here never look inside leaves, so this module does not
import the array engine and works with any leaf type.

Flattened keys join the path with dots: list and tuple positions become their
index, dict entries their key, e.g. ``"layers.0.weight"``.
"""

from collections import defaultdict
from itertools import zip_longest
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

__all__ = [
    "tree_map",
    "tree_map_with_path",
    "tree_flatten",
    "tree_unflatten",
    "tree_reduce",
    "tree_merge",
]


def _is_sequence(node):
    return isinstance(node, (list, tuple))


def _rebuild_sequence(template, children):
    """A sequence of the same type as ``template`` holding ``children``.

    Named tuples take their fields positionally, other sequence types take one
    iterable.
    """
    kind = type(template)
    if hasattr(template, "_fields"):
        return kind(*children)
    return kind(children)


def tree_map(
    fn: Callable, tree: Any, *rest: Any, is_leaf: Optional[Callable] = None
) -> Any:
    """Applies ``fn`` to the leaves of the Python tree ``tree`` and
    returns a new collection with the results.

    If ``rest`` is provided, every item is assumed to be a superset of ``tree``
    and the corresponding leaves are provided as extra positional arguments to
    ``fn``.

    Args:
        fn (callable): The function that processes the leaves of the tree.
        tree (Any): The main Python tree that will be iterated upon.
        rest (tuple[Any]): Extra trees to be iterated together with ``tree``.
        is_leaf (callable, optional): An optional callable that returns ``True``
           if the passed object is considered a leaf or ``False`` otherwise.

    Returns:
        A Python tree with the new values returned by ``fn``.
    """
    if is_leaf is not None and is_leaf(tree):
        return fn(tree, *rest)
    if _is_sequence(tree):
        mapped = (
            tree_map(fn, child, *[other[i] for other in rest], is_leaf=is_leaf)
            for i, child in enumerate(tree)
        )
        return _rebuild_sequence(tree, mapped)
    if isinstance(tree, dict):
        out = {}
        for key, child in tree.items():
            out[key] = tree_map(
                fn, child, *[other[key] for other in rest], is_leaf=is_leaf
            )
        return out
    return fn(tree, *rest)


def tree_map_with_path(
    fn: Callable,
    tree: Any,
    *rest: Any,
    is_leaf: Optional[Callable] = None,
    path: Optional[Any] = None,
) -> Any:
    """Applies ``fn`` to the path and leaves of the Python tree ``tree`` and
    returns a new collection with the results.

    This function is the same :func:`tree_map` but the ``fn`` takes the path as
    the first argument followed by the remaining tree nodes.

    Args:
        fn (callable): The function that processes the leaves of the tree.
        tree (Any): The main Python tree that will be iterated upon.
        rest (tuple[Any]): Extra trees to be iterated together with ``tree``.
        is_leaf (Optional[Callable]): An optional callable that returns ``True``
           if the passed object is considered a leaf or ``False`` otherwise.
        path (Optional[Any]): Prefix will be added to the result.

    Returns:
        A Python tree with the new values returned by ``fn``.
    """
    if is_leaf is not None and is_leaf(tree):
        return fn(path, tree, *rest)

    def child_path(name):
        # A falsy path (None or "") means "at the root": no leading dot.
        return f"{path}.{name}" if path else f"{name}"

    if _is_sequence(tree):
        mapped = (
            tree_map_with_path(
                fn,
                child,
                *[other[i] for other in rest],
                is_leaf=is_leaf,
                path=child_path(i),
            )
            for i, child in enumerate(tree)
        )
        return _rebuild_sequence(tree, mapped)
    if isinstance(tree, dict):
        out = {}
        for key, child in tree.items():
            out[key] = tree_map_with_path(
                fn,
                child,
                *[other[key] for other in rest],
                is_leaf=is_leaf,
                path=child_path(key),
            )
        return out
    return fn(path, tree, *rest)


def tree_flatten(
    tree: Any,
    prefix: str = "",
    is_leaf: Optional[Callable] = None,
    destination: Optional[Union[List[Tuple[str, Any]], Dict[str, Any]]] = None,
) -> Union[List[Tuple[str, Any]], Dict[str, Any]]:
    """Flattens a Python tree to a list of key, value tuples.

    The keys are using the dot notation to define trees of arbitrary depth and
    complexity.

    .. code-block:: python

        print(tree_flatten([[[0]]]))
        # [("0.0.0", 0)]

        print(tree_flatten([[[0]]], prefix=".hello"))
        # [("hello.0.0.0", 0)]

        tree_flatten({"a": {"b": 1}}, destination={})
        {"a.b": 1}

    Args:
        tree (Any): The Python tree to be flattened.
        prefix (str): A prefix to use for the keys. The first character is
            always discarded.
        is_leaf (callable): An optional callable that returns True if the
            passed object is considered a leaf or False otherwise.
        destination (list or dict, optional): A list or dictionary to store the
            flattened tree. If None an empty list will be used. Default: ``None``.

    Returns:
        Union[List[Tuple[str, Any]], Dict[str, Any]]: The flat representation of
            the Python tree.
    """
    if destination is None:
        destination = []
    if isinstance(destination, list):
        emit = destination.append
    elif isinstance(destination, dict):
        emit = lambda pair: destination.__setitem__(pair[0], pair[1])  # noqa: E731
    else:
        raise ValueError("Destination should be either a list or a dictionary or None")

    # Iterative depth-first walk in the order a recursive walk would visit;
    # the stack holds (key-so-far, node), children pushed in reverse.
    stack = [(prefix, tree)]
    while stack:
        key, node = stack.pop()
        if is_leaf is not None and is_leaf(node):
            emit((key[1:], node))
        elif _is_sequence(node):
            stack.extend(
                (f"{key}.{i}", child) for i, child in reversed(list(enumerate(node)))
            )
        elif isinstance(node, dict):
            stack.extend(
                (f"{key}.{name}", child)
                for name, child in reversed(list(node.items()))
            )
        else:
            emit((key[1:], node))
    return destination


def _as_index(name):
    """``int(name)`` or None when ``name`` does not parse as an integer."""
    try:
        return int(name)
    except ValueError:
        return None


def tree_unflatten(tree: Union[List[Tuple[str, Any]], Dict[str, Any]]) -> Any:
    """Recreate a Python tree from its flat representation.

    .. code-block:: python

        d = tree_unflatten([("hello.world", 42)])
        print(d)
        # {"hello": {"world": 42}}

        d = tree_unflatten({"hello.world": 42})
        print(d)
        # {"hello": {"world": 42}}

    Args:
        tree (list[tuple[str, Any]] or dict[str, Any]): The flat representation of a
           Python tree. For instance as returned by :meth:`tree_flatten`.

    Returns:
        A Python tree.
    """
    pairs = tree.items() if isinstance(tree, dict) else tree

    # A single pair with an empty key is a bare leaf, not a tree.
    if len(pairs) == 1:
        (only_key, only_value), = pairs
        if only_key == "":
            return only_value

    # Several pairs whose keys are used up name the same place twice (a key
    # given twice, or "a" next to "a."). MLX recurses forever here; say why.
    if len(pairs) > 1 and all(key == "" for key, _ in pairs):
        raise ValueError(
            "tree_unflatten: the same key appears more than once "
            "(keys equal up to a trailing '.' count as the same)"
        )

    # Group the pairs by the first component of their key, keeping the rest.
    groups = defaultdict(list)
    for key, value in pairs:
        head, _, tail = key.partition(".")
        groups[head].append((tail, value))

    # The level is a list when every head is an integer and no two heads name
    # the same integer ("1" and "01" would).
    by_index = {}
    for head in groups:
        index = _as_index(head)
        if index is None:
            by_index = None
            break
        by_index[index] = head
    if by_index is not None and len(by_index) == len(groups):
        result = []
        for index in sorted(by_index):
            # Positions that no key names are filled with empty dicts.
            while len(result) < index:
                result.append({})
            result.append(tree_unflatten(groups[by_index[index]]))
        return result

    return {head: tree_unflatten(sub) for head, sub in groups.items()}


def tree_reduce(fn, tree, initializer=None, is_leaf=None):
    """Applies a reduction to the leaves of a Python tree.

    This function reduces Python trees into an accumulated result by applying
    the provided function ``fn`` to the leaves of the tree.

    Example:
        >>> tree = {"a": [1, 2, 3], "b": [4, 5]}
        >>> tree_reduce(lambda acc, x: acc + x, tree, 0)
        15

    Args:
        fn (callable): The reducer function that takes two arguments (accumulator,
            current value) and returns the updated accumulator.
        tree (Any): The Python tree to reduce. It can be any nested combination of
            lists, tuples, or dictionaries.
        initializer (Any, optional): The initial value to start the reduction. If
            not provided, the first leaf value is used.
        is_leaf (callable, optional): A function to determine if an object is a
            leaf, returning ``True`` for leaf nodes and ``False`` otherwise.

    Returns:
        Any: The accumulated value.
    """

    def fold(acc, leaf):
        # While the accumulator is None, the leaf starts the reduction.
        return leaf if acc is None else fn(acc, leaf)

    if is_leaf is not None and is_leaf(tree):
        return fold(initializer, tree)
    if _is_sequence(tree):
        children = tree
    elif isinstance(tree, dict):
        children = tree.values()
    else:
        return fold(initializer, tree)

    acc = initializer
    for child in children:
        acc = tree_reduce(fn, child, acc, is_leaf)
    return acc


def _is_empty_tree(node):
    return isinstance(node, (dict, list, tuple)) and len(node) == 0


def tree_merge(tree_a, tree_b, merge_fn=None):
    """Merge two Python trees in one containing the values of both. It can be
    thought of as a deep dict.update method. Empty containers are treated as
    empty subtrees.

    Args:
        tree_a (Any): The first Python tree.
        tree_b (Any): The second Python tree.
        merge_fn (callable, optional): A function to merge leaves.

    Returns:
        The Python tree containing the values of both ``tree_a`` and
        ``tree_b``.
    """
    a_empty = _is_empty_tree(tree_a)
    b_empty = _is_empty_tree(tree_b)
    if a_empty and b_empty:
        if type(tree_a) is not type(tree_b):
            raise ValueError(
                f"Cannot merge {type(tree_a).__name__} with {type(tree_b).__name__}"
            )
        return type(tree_a)()

    # None and empty containers are both "nothing here".
    a = None if a_empty else tree_a
    b = None if b_empty else tree_b
    if a is None and b is not None:
        return b
    if b is None and a is not None:
        return a

    if _is_sequence(a) and _is_sequence(b):
        merged = (tree_merge(x, y, merge_fn) for x, y in zip_longest(a, b))
        return _rebuild_sequence(a, merged)
    if isinstance(a, dict) and isinstance(b, dict):
        return {
            key: tree_merge(a.get(key), b.get(key), merge_fn)
            for key in set(a) | set(b)
        }
    if merge_fn is None:
        raise ValueError(
            "Trees contain elements at the same locations but no merge "
            "function was provided"
        )
    return merge_fn(a, b)
