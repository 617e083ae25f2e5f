"""Collectives (all_sum, all_max, all_min, all_gather, sum_scatter): one primitive
parameterized by op code and group.

In one process (a group of size one) every collective is the identity: eval shares the
input's buffer.  Larger groups need a multi-process backend (MPI, per the design), which
this build does not have; eval then raises.  The transform rules are the collectives'
own (written for any group size), so grad/vjp/jvp/vmap go through them as in MLX.
"""
from mlxc._core.array cimport array, share_buffer
from mlxc._core.primitive cimport Primitive

NAMES = ("all_sum", "all_max", "all_min", "all_gather", "sum_scatter")


cdef class Collective(Primitive):
    def __init__(self, int op, group):
        self.op = op
        self.group = group

    cpdef str name(self):
        return NAMES[self.op]

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        cdef array a = <array>inputs[0]
        cdef array out = <array>outputs[0]
        cdef int i
        if self.group.size() != 1:
            raise RuntimeError(f"[{self.name()}] No distributed backend is available to "
                               f"communicate over a group of size {self.group.size()}.")
        share_buffer(out, a, a.offset)
        for i in range(out.ndim):
            out.strides[i] = a.strides[i]
        out.flags = a.flags
        return 0

    cpdef bint is_equivalent(self, Primitive other):
        return (type(other) is Collective and (<Collective>other).op == self.op
                and (<Collective>other).group is self.group)

    cpdef list output_shapes(self, list inputs):
        return [collective_shape(self.op, tuple(inputs[0].shape), self.group.size())]

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        # Rank r's input reaches every rank's output: its cotangent sums theirs.
        import mlxc.core as mx
        D = mx.distributed
        g, x, out = cotangents[0], primals[0], outputs[0]
        if self.op == ALL_SUM:
            return [D.all_sum(g, group=self.group)]
        if self.op == ALL_GATHER:
            return [D.sum_scatter(g, group=self.group)]
        if self.op == SUM_SCATTER:
            return [D.all_gather(g, group=self.group)]
        # all_max / all_min: the cotangent flows to the ranks that hold the extremum.
        return [mx.where(_selected(x, out), D.all_sum(g, group=self.group), mx.zeros_like(g))]

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        import mlxc.core as mx
        D = mx.distributed
        t, x, out = tangents[0], primals[0], outputs[0]
        if self.op in (ALL_SUM, ALL_GATHER, SUM_SCATTER):    # linear: the op of the tangent
            return [_call(self.op, t, self.group)]
        return [D.all_sum(mx.where(_selected(x, out), t, mx.zeros_like(t)), group=self.group)]

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        import mlxc.core as mx
        x, ax = inputs[0], axes[0]
        if ax < 0:
            return [_call(self.op, x, self.group)], [-1]
        if self.op in (ALL_SUM, ALL_MAX, ALL_MIN) or self.group.size() == 1:
            return [_call(self.op, x, self.group)], [ax]    # elementwise over the ranks
        # all_gather / sum_scatter work on the example's axis 0: the batch goes to axis 1
        # (a 0-d example gets its axis 0 from expand_dims).
        x = mx.expand_dims(x, 0) if x.ndim == 1 else mx.moveaxis(x, ax, 1)
        return [_call(self.op, x, self.group)], [1]


def _selected(x, out):
    """Where x is the reduced value (NaN included, which max/min propagate)."""
    import mlxc.core as mx
    return mx.logical_or(x == out, mx.logical_and(mx.isnan(x), mx.isnan(out))) \
        if mx.issubdtype(x.dtype, mx.inexact) else x == out


def _call(int op, x, group):
    import mlxc.core as mx
    return getattr(mx.distributed, NAMES[op])(x, group=group)


def collective_shape(int op, tuple shape, int n):
    """The output shape of collective op on an input of shape `shape` over n ranks."""
    if n == 1:
        return shape            # one process: the identity, whatever the shape
    if op == ALL_GATHER:
        return (n,) if not shape else (shape[0] * n,) + shape[1:]
    if op == SUM_SCATTER:
        if not shape or shape[0] % n:
            raise ValueError(f"[sum_scatter] The first axis ({shape[0] if shape else 'none'}) "
                             f"must be divisible by the group size {n}.")
        return (shape[0] // n,) + shape[1:]
    return shape
