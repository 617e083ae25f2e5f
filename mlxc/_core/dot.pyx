"""export_to_dot: the graph behind some arrays as Graphviz DOT, in MLX's layout.

Arrays are named A, B, ... in the order they are first met (names given as keyword
arguments take their slot first); each primitive is a rectangle with an edge from each
input array and an edge to each output array; arrays with no primitive (data, not yet
part of a computation) rank as sources, arrays nothing in the graph reads as sinks.
"""
from mlxc._core.array cimport array, node_outputs

from mlxc._core.export import _letters, post_order


def _flatten_arrays(tree):
    from mlxc.utils import tree_flatten
    leaves = [v for _, v in tree_flatten(tree)]
    for v in leaves:
        if not isinstance(v, array):
            raise ValueError("[tree_flatten] The argument should contain only arrays")
    return leaves


def export_to_dot(file, *args, **kwargs):
    """export_to_dot(file: object, *args, **kwargs) -> None

    Export a graph to DOT format for visualization.

    A variable number of output arrays can be provided for exporting
    The graph exported will recursively include all unevaluated inputs of
    the provided outputs.

    Args:
        file (str): The file path to export to.
        *args (array): The output arrays.
        **kwargs (dict[str, array]): Provide some names for arrays in the
          graph to make the result easier to parse.

    Example:
      >>> a = mx.array(1) + mx.array(2)
      >>> mx.export_to_dot("graph.dot", a)
      >>> x = mx.array(1)
      >>> y = mx.array(2)
      >>> mx.export_to_dot("graph.dot", x + y, x=x, y=y)
    """
    cdef array node
    if not (isinstance(file, str) or hasattr(file, "write")):
        raise ValueError("[export_to_dot] Accepts file-like objects or strings to be used as "
                         "filenames.")
    outputs = _flatten_arrays(list(args))
    names = {}
    for k, v in kwargs.items():
        if not isinstance(v, array):
            raise ValueError("[tree_flatten] The argument should contain only arrays")
        names[id(v)] = k

    def name(x):
        if id(x) not in names:
            names[id(x)] = _letters(len(names))
        return names[id(x)]

    order = post_order(outputs, set(), True)
    read = set()
    for n in order:
        node = <array>n
        if node.primitive is not None:
            read.update(id(x) for x in node.inputs)
    lines = ["digraph {"]
    for n in order:
        node = <array>n
        if node.primitive is None:
            lines.append(f'{{ rank=source; "{name(node)}"; }}')
            continue
        outs = node_outputs(node)
        nid = id(outs[0])
        lines.append(f'{{ {nid} [label ="{node.primitive.name()}", shape=rectangle]; }}')
        for x in node.inputs:
            lines.append(f'"{name(x)}" -> {nid}')
        for o in outs:
            rank = "" if id(o) in read else "rank=sink; "
            lines.append(f'{{ {rank}"{name(o)}"; }}')
            lines.append(f'{nid} -> "{name(o)}"')
    text = "\n".join(lines) + "\n}"
    if isinstance(file, str):
        with open(file, "w") as f:
            f.write(text)
    else:
        file.write(text)
