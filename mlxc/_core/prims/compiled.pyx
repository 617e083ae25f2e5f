"""Compiled: a fused chain of elementwise nodes, run as one tiled program (mlxc_fused).

mx.compile's planner (compile_graph.fuse) turns a connected group of Unary, Binary,
Select, Copy (casts, materialized broadcasts), Broadcast and StopGradient nodes of one
output shape into one Compiled node.  Its program is an array of mlxc_fused_instr over
registers (inputs first, then one per instruction); Broadcast and StopGradient are
register aliases.  The original nodes are kept as a small tape (`sub`), so vjp, jvp and
vmap are those of the original graph (transforms of compiled functions stay exact), and
eval falls back to running them one by one when the fused plan does not fit the call
(a shapeless call whose outputs no longer share one shape).
"""
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

from mlxc._core.array cimport (alloc_output, array, hooks, new_node, new_nodes,
                               set_node_device, share_buffer)
from mlxc._core.layout cimport broadcast_strides, collapse
from mlxc._core.primitive cimport Primitive, check_status

cdef extern from "mlxc_fused.h" nogil:
    enum:
        MLXC_FK_UNARY, MLXC_FK_BINARY, MLXC_FK_SELECT, MLXC_FK_CAST, MLXC_FK_REDUCE
        MLXC_FL_SCALAR, MLXC_FL_ROW, MLXC_FL_COL, MLXC_FL_FULL
        MLXC_FUSED_ROW_MAX
    ctypedef struct mlxc_fused_instr:
        int kind
        int op
        int dtype
        int dst
        int src[3]
    ctypedef struct mlxc_fused_cache:
        pass
    void mlxc_fused_cache_clear(mlxc_fused_cache *cache)
    int mlxc_fused(int ninstr, const mlxc_fused_instr *code, int nregs, const int *reg_dtype,
                   int ninputs, const void *const *in_data, const int64_t *const *in_strides,
                   int noutputs, void *const *out_data, const int *out_reg,
                   int ndim, const int64_t *shape, mlxc_fused_cache *cache)
    int mlxc_fused_supported(int kind, int op, int dtype, int dtype_out)
    int mlxc_fused_rows(int ninstr, const mlxc_fused_instr *code, int nregs,
                        const int *reg_dtype, const int *reg_level, int ninputs,
                        const void *const *in_data, const int64_t *const *in_strides,
                        int noutputs, void *const *out_data, const int *out_reg,
                        const int *out_level, int ndim, const int64_t *shape, int a0)

FK_UNARY = MLXC_FK_UNARY
FK_BINARY = MLXC_FK_BINARY
FK_SELECT = MLXC_FK_SELECT
FK_CAST = MLXC_FK_CAST
FK_REDUCE = MLXC_FK_REDUCE
FL_SCALAR = MLXC_FL_SCALAR
FL_ROW = MLXC_FL_ROW
FL_COL = MLXC_FL_COL
FL_FULL = MLXC_FL_FULL
ROW_MAX = MLXC_FUSED_ROW_MAX

# Below this many elements the program runs without releasing the GIL.
cdef enum:
    NOGIL_SIZE = 16384


def supported(int kind, int op, int dtype, int dtype_out):
    """The fused executor has the kernel of this instruction."""
    return mlxc_fused_supported(kind, op, dtype, dtype_out) != 0


cdef struct Operands:
    int64_t *mem            # the shape (width), then each input's strides (width each)
    int64_t **strides       # strides[k] = mem + (k + 1) * width
    const void **in_data
    void **out_data


cdef int operands_alloc(Operands *p, list inputs, list outputs, int width) except -1:
    """The kernels' operand tables for inputs/outputs over a domain of `width` dims; the
    outputs are allocated and their data pointers set.  operands_free releases them."""
    cdef int n_in = len(inputs), k
    cdef array o
    p.mem = <int64_t *>malloc((n_in + 1) * width * sizeof(int64_t))
    p.strides = <int64_t **>malloc((n_in + 1) * sizeof(int64_t *))
    p.in_data = <const void **>malloc((n_in + 1) * sizeof(void *))
    p.out_data = <void **>malloc((len(outputs) + 1) * sizeof(void *))
    if p.mem == NULL or p.strides == NULL or p.in_data == NULL or p.out_data == NULL:
        operands_free(p)
        raise MemoryError()
    for k in range(n_in):
        p.strides[k] = p.mem + (k + 1) * width
        p.in_data[k] = (<array>inputs[k]).data()
    for k in range(len(outputs)):
        o = <array>outputs[k]
        alloc_output(o)
        p.out_data[k] = o.data()
    return 0


cdef void operands_free(Operands *p) noexcept:
    free(p.mem)
    free(p.strides)
    free(p.in_data)
    free(p.out_data)
    p.mem = NULL
    p.strides = NULL
    p.in_data = NULL
    p.out_data = NULL


cdef class Compiled(Primitive):
    cdef mlxc_fused_instr *code
    cdef int ninstr
    cdef int nregs
    cdef int *reg_dtype
    cdef int ninputs
    cdef int noutputs
    cdef int *out_reg
    cdef mlxc_fused_cache cache     # the resolved kernels of the last run (kernels/fused.c)
    cdef readonly list sub          # the original steps (compile_graph.Step), local refs
    cdef readonly list sub_outputs  # refs of the outputs in sub
    cdef readonly str label
    # row programs (mlxc_fused_rows): a reduction with its prologue and epilogue
    cdef readonly bint rows
    cdef int *reg_level
    cdef int *out_level
    cdef int a0
    cdef tuple domain               # the traced domain shape
    cdef list traced_in             # the traced input shapes (others run the original nodes)
    cdef list in_level
    cdef list reduce_in             # inputs a reduction reads directly

    def __dealloc__(self):
        mlxc_fused_cache_clear(&self.cache)
        free(self.code)
        free(self.reg_dtype)
        free(self.out_reg)
        free(self.reg_level)
        free(self.out_level)

    @staticmethod
    def create(list instrs, list reg_dtypes, int ninputs, list out_regs, list sub,
               list sub_outputs, str label):
        """instrs: (kind, op, dtype, dst, srcs) tuples."""
        cdef Compiled c = Compiled.__new__(Compiled)
        cdef int i, k
        c.ninstr = len(instrs)
        c.nregs = len(reg_dtypes)
        c.ninputs = ninputs
        c.noutputs = len(out_regs)
        c.code = <mlxc_fused_instr *>malloc(max(c.ninstr, 1) * sizeof(mlxc_fused_instr))
        c.reg_dtype = <int *>malloc(max(c.nregs, 1) * sizeof(int))
        c.out_reg = <int *>malloc(max(c.noutputs, 1) * sizeof(int))
        if c.code == NULL or c.reg_dtype == NULL or c.out_reg == NULL:
            raise MemoryError()
        for i, (kind, op, dt, dst, srcs) in enumerate(instrs):
            c.code[i].kind = kind
            c.code[i].op = op
            c.code[i].dtype = dt
            c.code[i].dst = dst
            for k in range(3):
                c.code[i].src[k] = srcs[k] if k < len(srcs) else 0
        for i in range(c.nregs):
            c.reg_dtype[i] = reg_dtypes[i]
        for i in range(c.noutputs):
            c.out_reg[i] = out_regs[i]
        c.sub = sub
        c.sub_outputs = sub_outputs
        c.label = label
        return c

    @staticmethod
    def create_rows(list instrs, list reg_dtypes, list reg_levels, int ninputs,
                    list out_regs, list out_levels, list sub, list sub_outputs, str label,
                    tuple domain, int a0, list traced_in):
        """A row program over domain split at a0 (see mlxc_fused.h)."""
        cdef Compiled c = Compiled.create(instrs, reg_dtypes, ninputs, out_regs, sub,
                                          sub_outputs, label)
        cdef int i
        c.rows = True
        c.reg_level = <int *>malloc(max(c.nregs, 1) * sizeof(int))
        c.out_level = <int *>malloc(max(c.noutputs, 1) * sizeof(int))
        if c.reg_level == NULL or c.out_level == NULL:
            raise MemoryError()
        for i in range(c.nregs):
            c.reg_level[i] = reg_levels[i]
        for i in range(c.noutputs):
            c.out_level[i] = out_levels[i]
        c.a0 = a0
        c.domain = domain
        c.traced_in = traced_in
        c.in_level = reg_levels[:ninputs]
        c.reduce_in = sorted({s[0] for (k, _, _, _, s) in instrs
                              if k == MLXC_FK_REDUCE and s[0] < ninputs})
        return c

    # ---------------------------------------------------------------- eval

    cdef int eval_cpu(self, list inputs, list outputs) except -1:
        if self.rows:
            return self.eval_rows(inputs, outputs)
        cdef array out0 = <array>outputs[0]
        cdef array x, o
        cdef int k, d, nd = out0.ndim, st
        cdef int n_in = self.ninputs
        for o in outputs:
            if o._shape != out0._shape:
                return self.interpret(inputs, outputs, 0)
        for x in inputs:
            if x.ndim > nd:
                return self.interpret(inputs, outputs, 0)
            for d in range(x.ndim):
                if x.dims[d] != 1 and x.dims[d] != out0.dims[nd - x.ndim + d]:
                    return self.interpret(inputs, outputs, 0)
        cdef int width = max(nd, 1)
        cdef Operands p
        operands_alloc(&p, inputs, outputs, width)
        cdef int64_t *shape = p.mem
        cdef int64_t size = out0.size
        try:
            for d in range(nd):
                shape[d] = out0.dims[d]
            for k in range(n_in):
                broadcast_strides(<array>inputs[k], out0, p.strides[k])
            nd = collapse(nd, shape, p.strides, n_in)
            if nd == 0:
                nd = 1
                shape[0] = 1
                for k in range(n_in):
                    p.strides[k][0] = 0
            if size < NOGIL_SIZE:
                st = mlxc_fused(self.ninstr, self.code, self.nregs, self.reg_dtype, n_in,
                                p.in_data, <const int64_t *const *>p.strides, self.noutputs,
                                p.out_data, self.out_reg, nd, shape, &self.cache)
            else:
                with nogil:
                    st = mlxc_fused(self.ninstr, self.code, self.nregs, self.reg_dtype, n_in,
                                    p.in_data, <const int64_t *const *>p.strides,
                                    self.noutputs, p.out_data, self.out_reg, nd, shape,
                                    &self.cache)
            check_status(st, "Compiled")
        finally:
            operands_free(&p)
        return 0

    cdef int eval_rows(self, list inputs, list outputs) except -1:
        cdef array x, o
        cdef int k, d, nd = len(self.domain), a0 = self.a0, n_in = self.ninputs, lv, st
        cdef int64_t want, size = 1, L = 1
        for k in range(n_in):
            if (<array>inputs[k])._shape != self.traced_in[k]:
                return self.interpret(inputs, outputs, 0)     # a shapeless call, new shapes
        for d in range(nd):
            size *= self.domain[d]
            if d >= a0:
                L *= self.domain[d]
        if size == 0 or L > MLXC_FUSED_ROW_MAX:
            return self.interpret(inputs, outputs, 0)
        # a reduction of an input reads it as the unfused one would only when the
        # reduced dims are contiguous (else mlxc_reduce may sum columns in another order)
        for k in self.reduce_in:
            x = <array>inputs[k]
            want = 1
            for d in range(nd - 1, a0 - 1, -1):
                if x.dims[d] != 1 and x.strides[d] != want:
                    return self.interpret(inputs, outputs, 0)
                want *= x.dims[d]
        cdef Operands p
        operands_alloc(&p, inputs, outputs, nd)
        cdef int64_t *shape = p.mem
        try:
            for d in range(nd):
                shape[d] = self.domain[d]
            for k in range(n_in):
                x = <array>inputs[k]
                lv = self.in_level[k]
                for d in range(nd):
                    p.strides[k][d] = 0
                if lv == MLXC_FL_ROW:
                    # (rows...) or (rows..., 1, ...): its first a0 dims are the rows
                    for d in range(a0):
                        if x.dims[d] != 1:
                            p.strides[k][d] = x.strides[d]
                elif lv != MLXC_FL_SCALAR:
                    # COL and FULL broadcast as numpy does (aligned at the right)
                    for d in range(x.ndim):
                        if x.dims[d] != 1:
                            p.strides[k][nd - x.ndim + d] = x.strides[d]
            if size < NOGIL_SIZE:
                st = mlxc_fused_rows(self.ninstr, self.code, self.nregs, self.reg_dtype,
                                     self.reg_level, n_in, p.in_data,
                                     <const int64_t *const *>p.strides, self.noutputs,
                                     p.out_data, self.out_reg, self.out_level, nd, shape, a0)
            else:
                with nogil:
                    st = mlxc_fused_rows(self.ninstr, self.code, self.nregs, self.reg_dtype,
                                         self.reg_level, n_in, p.in_data,
                                         <const int64_t *const *>p.strides, self.noutputs,
                                         p.out_data, self.out_reg, self.out_level, nd, shape,
                                         a0)
            check_status(st, "Compiled")
        finally:
            operands_free(&p)
        return 0

    cpdef int interpret(self, list inputs, list outputs, int device) except -1:
        """Run the original nodes rebuilt on device (0 cpu, 1 gpu; eval runs each through
        its eval_cpu or eval_gpu) and take over their results: the CPU's fallback when the
        fused program cannot run, and the node's eval_gpu (metal/gpu_compiled.pyx)."""
        cdef int saved = set_node_device(device, -1)
        try:
            res = self.replay(inputs)
        finally:
            set_node_device(saved, -1)
        cdef array o, r
        cdef int i
        hooks().eval(res)
        for k in range(len(outputs)):
            o = <array>outputs[k]
            r = <array>res[k]
            share_buffer(o, r, r.offset)
            for i in range(o.ndim):
                o.strides[i] = r.strides[i]
            o.flags = r.flags
        return 0

    cpdef list replay(self, list inputs):
        """The original nodes rebuilt on inputs (lazy): the Compiled node's outputs."""
        cdef list vals = list(inputs)
        for step in self.sub:
            ins = tuple([vals[r] for r in step.refs])
            shapes = step.new_shapes(ins)
            if len(step.dtypes) == 1:
                vals.append(new_node(step.dtypes[0], tuple(shapes[0]),
                                     <Primitive>step.prim, ins))
            else:
                vals.extend(new_nodes(list(step.dtypes), [tuple(s) for s in shapes],
                                      <Primitive>step.prim, ins))
        return [vals[r] for r in self.sub_outputs]

    def infer_shapes(self, list in_shapes):
        """Output shapes for new input shapes (shapeless calls)."""
        cdef list shapes = [tuple(s) for s in in_shapes]
        for step in self.sub:
            shapes.extend(step.shapes_for([shapes[r] for r in step.refs]))
        return [shapes[r] for r in self.sub_outputs]

    # ---------------------------------------------------------------- transforms

    cpdef list vjp(self, list primals, list cotangents, list argnums, list outputs):
        return _vjp_rule(self, primals, cotangents, argnums)

    cpdef list jvp(self, list primals, list tangents, list argnums, list outputs):
        return _jvp_rule(self, primals, tangents, argnums)

    cpdef tuple vmap(self, list inputs, list axes, list outputs):
        return _vmap_rule(self, inputs, axes)

    cpdef bint is_equivalent(self, Primitive other):
        return other is self

    cpdef str name(self):
        return "Compiled"

    def __repr__(self):
        return f"Compiled({self.label})"


# Transform rules: the original nodes' (Cython allows no closures in cpdef methods).

def _vjp_rule(Compiled c, list primals, list cotangents, list argnums):
    from mlxc._core.transforms import vjp
    _, grads = vjp(lambda *xs: c.replay(list(xs)), primals, cotangents)
    return [grads[i] for i in argnums]


def _jvp_rule(Compiled c, list primals, list tangents, list argnums):
    import mlxc.core as mx
    from mlxc._core.transforms import jvp
    full = [mx.zeros(p.shape, p.dtype) for p in primals]
    for i, t in zip(argnums, tangents):
        full[i] = t
    _, tans = jvp(lambda *xs: c.replay(list(xs)), primals, full)
    return tans


def _vmap_rule(Compiled c, list inputs, list axes):
    from mlxc._core.transforms import vmap
    in_axes = tuple(None if a is None or a < 0 else a for a in axes)
    outs = vmap(lambda *xs: tuple(c.replay(list(xs))), in_axes=in_axes, out_axes=0)(*inputs)
    return list(outs), [0] * len(outs)
