"""Node construction for the collectives (mx.distributed builds on this)."""
from mlxc._core.array cimport array, as_array, new_node
from mlxc._core.prims.distributed cimport Collective

from mlxc._core.prims.distributed import NAMES, collective_shape


def collective(x, int op, group):
    """The node of collective `op` (prims.distributed's codes) of x over group."""
    cdef array a = as_array(x)
    shape = collective_shape(op, a._shape, group.size())
    return new_node(a.dtype, shape, Collective(op, group), (a,))
