"""eval_gpu of RandomBits and MLXMath (metal/random.metal) and FP8 (metal/fp8.metal): the
same bits as the CPU kernels (kernels/random.c, kernels/fp8.c)."""
from libc.stdint cimport int64_t

from mlxc._core.array cimport ROW_CONTIG, alloc_output, array, new_empty
from mlxc._core.prims.elementwise cimport FP8
from mlxc._core.prims.random cimport MLXMath, RandomBits
from mlxc._core.metal.gpu_eval cimport (dtype_suffix, gpu_copy_into, i32, input_binding,
                                        layout_meta, output_binding, u32)

from struct import pack as _pack

from mlxc._core.metal.dispatch import dispatch, threads_1d

cdef enum:
    UINT8 = 1
    UINT32 = 3
    FLOAT32 = 11

_FP8_FLOATS = (9, 10, 11)       # float16, bfloat16, float32 (float64: not on the GPU)


def random_bits_gpu(RandomBits prim, list inputs, list outputs):
    """One thread per threefry counter of each key's block."""
    cdef array key = <array>inputs[0]
    cdef array out = <array>outputs[0]
    cdef int64_t nkeys = key.size // 2, per_key, half
    alloc_output(out)
    if nkeys == 0 or out.size == 0:
        return
    if key.dtype != UINT32:
        raise TypeError(f"[{prim.name()}] the key must be uint32.")
    per_key = out.size // nkeys
    half = per_key // 2
    if not (key.flags & ROW_CONTIG):
        # a strided key (a transposed batch of keys under vmap): gather it on the GPU
        k = new_empty(UINT32, key._shape)
        gpu_copy_into(key, k, prim.name())
        key = <array>k
    kbuf, koff = input_binding(key)
    u32(per_key)
    u32(koff + key.size)
    total = nkeys * (per_key - half)
    u32(total)
    params = _pack("<ffiiIIIIi", prim.low, prim.range, prim.ilow, prim.ihigh, per_key, half,
                   per_key - half, koff, prim.mode)
    grid, tg = threads_1d(total)
    dispatch("random.metal", "random_bits_g",
             {0: kbuf, 1: output_binding(out), 2: params, 3: _pack("<Q", total)}, grid, tg)


def mlx_math_gpu(MLXMath prim, list inputs, list outputs):
    cdef array x = <array>inputs[0]
    cdef array out = <array>outputs[0]
    cdef int nd
    cdef int64_t n = out.size
    if x.dtype != FLOAT32 or out.dtype != FLOAT32:
        raise TypeError(f"[{prim.name()}] takes and gives float32.")
    alloc_output(out)
    if n == 0:
        return
    src, off = input_binding(x)
    meta = layout_meta(out, [x], [off], &nd)
    grid, tg = threads_1d(n)
    dispatch("random.metal", "mlx_math_g", {0: src, 1: output_binding(out), 2: meta,
                                            3: i32(nd), 4: i32(prim.func), 5: u32(n)}, grid, tg)


def fp8_gpu(FP8 prim, list inputs, list outputs):
    cdef array a = <array>inputs[0]
    cdef array out = <array>outputs[0]
    cdef int nd, fdt = a.dtype if prim.to else out.dtype
    cdef int64_t n = out.size
    cdef str sfx = dtype_suffix(fdt, prim.name())
    if fdt not in _FP8_FLOATS or (out.dtype if prim.to else a.dtype) != UINT8:
        raise TypeError(f"[{prim.name()}] converts between float8 codes (uint8) and "
                        f"float16/bfloat16/float32.")
    alloc_output(out)
    if n == 0:
        return
    src, off = input_binding(a)
    meta = layout_meta(out, [a], [off], &nd)
    grid, tg = threads_1d(n)
    dispatch("fp8.metal", ("to_fp8_g_" if prim.to else "from_fp8_g_") + sfx,
             {0: src, 1: output_binding(out), 2: meta, 3: i32(nd), 4: u32(n)}, grid, tg)


def register(dict table):
    table[RandomBits] = random_bits_gpu
    table[MLXMath] = mlx_math_gpu
    table[FP8] = fp8_gpu
