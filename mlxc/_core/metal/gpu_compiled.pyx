"""eval_gpu of Compiled (prims/compiled.pyx, the fused node of mx.compile).

The fused program is a CPU kernel (kernels/fused.c); on the GPU the node runs the
original subgraph it fused (Compiled.interpret: its `sub` tape replayed with every node
on the GPU), so each step goes through its own eval_gpu and Metal kernel.  No step falls
back to the CPU: a step without a Metal kernel raises as it would uncompiled.  The
outputs take over the results' buffers (no copy), as on the CPU.
"""
from mlxc._core.prims.compiled import Compiled


def compiled_gpu(prim, list inputs, list outputs):
    prim.interpret(inputs, outputs, 1)


def register(dict table):
    table[Compiled] = compiled_gpu
