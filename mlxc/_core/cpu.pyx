"""What the CPU kernels run on: the SIMD level each family dispatches to and the
thread count (MLXC_CPU_ISA and MLXC_NUM_THREADS force them)."""

cdef extern from "mlxc_kernels.h" nogil:
    int mlxc_cpu_isa()
    const char *mlxc_isa_name(int isa)

cdef extern from "mlxc_threads.h" nogil:
    int mlxc_num_threads()
    int mlxc_pool_workers()

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


def _pool_workers():
    """Tests: the worker threads the kernels' one pool has started (kernels/threads.c)."""
    return mlxc_pool_workers()


_ISA_NAMES = ("scalar", "neon", "avx2", "avx512")


def _check_environment():
    """The kernels read MLXC_CPU_ISA / MLXC_NUM_THREADS in C, where a value they cannot use
    falls back to the default (the detected level; one thread per usable CPU). Say so here,
    once at import, instead of ignoring a typo silently."""
    import os
    import warnings
    s = os.environ.get("MLXC_CPU_ISA")
    if s and s not in _ISA_NAMES:           # (empty: unset, as the C side reads it)
        warnings.warn(f"MLXC_CPU_ISA={s!r} is not one of {', '.join(_ISA_NAMES)}: the kernels "
                      f"run at the detected level {mlxc_isa_name(mlxc_cpu_isa()).decode()!r}",
                      RuntimeWarning, stacklevel=2)
    t = os.environ.get("MLXC_NUM_THREADS")
    if t:
        try:
            ok = int(t) >= 1
        except ValueError:
            ok = False
        if not ok:
            warnings.warn(f"MLXC_NUM_THREADS={t!r} is not a positive integer: the kernels use "
                          f"{mlxc_num_threads()} threads (one per usable CPU)",
                          RuntimeWarning, stacklevel=2)


_check_environment()
