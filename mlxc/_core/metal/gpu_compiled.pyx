"""eval_gpu of Compiled (prims/compiled.pyx, the fused node of mx.compile).

The fused program is a CPU kernel (kernels/fused.c); on the GPU the node runs the
original subgraph it fused (its `sub` tape, rebuilt by Compiled.replay) with every node
on the GPU, so each step goes through its own eval_gpu and Metal kernel.  No step falls
back to the CPU: a step without a Metal kernel raises as it would uncompiled.  The
outputs take over the results' buffers (no copy), as Compiled.interpret does on the CPU.
"""
from mlxc._core.array cimport array, hooks, share_buffer

from mlxc._core.prims.compiled import Compiled


def compiled_gpu(prim, list inputs, list outputs):
    import mlxc.core as mx
    cdef array o, r
    cdef int i, k
    with mx.stream(mx.gpu):
        res = prim.replay(inputs)
    hooks().eval(res)
    for k in range(len(outputs)):
        o = <array>outputs[k]
        r = <array>res[k]
        share_buffer(o, r, r.offset)
        for i in range(o.ndim):
            o.strides[i] = r.strides[i]
        o.flags = r.flags


def register(dict table):
    table[Compiled] = compiled_gpu
