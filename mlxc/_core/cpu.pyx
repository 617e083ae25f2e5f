"""What the CPU kernels run on: the SIMD level each family dispatches to and the
thread count (MLXC_CPU_ISA and MLXC_NUM_THREADS force them)."""

cdef extern from "mlxc_kernels.h" nogil:
    int mlxc_cpu_isa()
    const char *mlxc_isa_name(int isa)

cdef extern from "mlxc_threads.h" nogil:
    int mlxc_num_threads()

# Families with hand-written SIMD per level; the others are compiler-vectorized C.
_SIMD_FAMILIES = ("matmul", "unary", "binary", "reduce", "argreduce", "scan")
_PORTABLE_FAMILIES = ("select", "copy", "sort", "gather")


def cpu_info():
    """cpu_info() -> dict

    The SIMD level ('scalar', 'neon', 'avx2', 'avx512') the kernels run at, per
    family, and the size of the kernels' thread pool."""
    isa = mlxc_isa_name(mlxc_cpu_isa()).decode()
    families = {f: isa for f in _SIMD_FAMILIES}
    families.update({f: "portable C" for f in _PORTABLE_FAMILIES})
    return {"isa": isa, "num_threads": mlxc_num_threads(), "kernels": families}
