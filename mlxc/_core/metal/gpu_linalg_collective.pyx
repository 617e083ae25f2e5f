"""eval_gpu of the primitives MLX keeps off the GPU or that move no data there.

Lapack (prims/lapack.pyx): MLX runs no linalg decomposition on the GPU; its ops raise
"[linalg::<op>] This op is not yet supported on the GPU. Explicitly pass a CPU stream to
run it." (ops/lapack.pyx raises it when the op is built for the GPU; this covers nodes
made on the GPU some other way, e.g. by a transform's rule).

Collective (prims/distributed.pyx): in one process every collective is the identity, a
view of its input's buffer (no kernel, as views); larger groups raise as on the CPU.
"""
from mlxc._core.primitive cimport Primitive

from mlxc._core.prims.distributed import Collective
from mlxc._core.prims.lapack import Lapack, _PUBLIC


def gpu_unsupported_message(str op):
    return (f"[linalg::{op}] This op is not yet supported on the GPU. Explicitly pass a "
            f"CPU stream to run it.")


def lapack_gpu(prim, list inputs, list outputs):
    raise ValueError(gpu_unsupported_message(_PUBLIC[prim.op]))


def collective_gpu(Primitive prim, list inputs, list outputs):
    prim.eval_cpu(inputs, outputs)


def register(dict table):
    table[Lapack] = lapack_gpu
    table[Collective] = collective_gpu
