"""What the CPU kernels run on: the SIMD level each family dispatches to and the
thread count (MLXC_CPU_ISA and MLXC_NUM_THREADS force them)."""

cdef extern from "mlxc_kernels.h" nogil:
    int mlxc_cpu_isa()
    const char *mlxc_isa_name(int isa)

cdef extern from "mlxc_threads.h" nogil:
    int mlxc_num_threads()
    int mlxc_pool_workers()

cdef extern from "mlxc_cpu.h" nogil:
    int mlxc_isa_pick(unsigned levels)
    const unsigned mlxc_levels_matmul, mlxc_levels_unary, mlxc_levels_binary
    const unsigned mlxc_levels_reduce, mlxc_levels_argreduce, mlxc_levels_scan
    const unsigned mlxc_levels_copy, mlxc_levels_cast, mlxc_levels_select
    const unsigned mlxc_levels_sort, mlxc_levels_gather, mlxc_levels_fft
    const unsigned mlxc_levels_conv, mlxc_levels_random, mlxc_levels_fast
    const unsigned mlxc_levels_quant


cdef dict _family_levels():
    # each family's mask of the levels it has code for, as its dispatch uses it
    return {"matmul": mlxc_levels_matmul, "unary": mlxc_levels_unary,
            "binary": mlxc_levels_binary, "reduce": mlxc_levels_reduce,
            "argreduce": mlxc_levels_argreduce, "scan": mlxc_levels_scan,
            "copy": mlxc_levels_copy, "cast": mlxc_levels_cast,
            "select": mlxc_levels_select, "sort": mlxc_levels_sort,
            "gather": mlxc_levels_gather, "fft": mlxc_levels_fft, "conv": mlxc_levels_conv,
            "random": mlxc_levels_random, "fast": mlxc_levels_fast,
            "quant": mlxc_levels_quant}


def cpu_info():
    """cpu_info() -> dict

    The SIMD level ('scalar', 'neon', 'avx2', 'avx512') the kernels run at and, per
    family, the level of the code that family dispatches to: the highest level it has
    hand-written or per-level compiled code for that the level in force allows ('scalar'
    for portable C).  MLXC_CPU_ISA forces a lower level.  Also the size of the kernels'
    thread pool."""
    isa = mlxc_isa_name(mlxc_cpu_isa()).decode()
    families = {f: mlxc_isa_name(mlxc_isa_pick(m)).decode()
                for f, m in _family_levels().items()}
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
