# mx.fast primitives: fused norms, rope and attention (kernels/fast_norm.c, rope.c,
# attention.c).  One class parameterized by op code; the transform rules are in
# prims/fast_rules.py.
from mlxc._core.primitive cimport Primitive

cdef class Fast(Primitive):
    cdef readonly int op            # RMS_NORM, LAYER_NORM, ROPE, SDPA
    cdef readonly tuple params      # per op, see prims/fast.pyx

cdef class SdpaVjp(Primitive):     # attention's fused vjp (kernels/attention_vjp.c)
    cdef readonly tuple params      # (scale, mask_kind, has_sinks, want_ds)

cdef Fast fast_prim(int op, tuple params)
