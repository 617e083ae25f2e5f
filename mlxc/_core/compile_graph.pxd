# The tape of a compiled trace (see compile_graph.pyx).

cdef class Step:
    cdef public object prim       # the Primitive
    cdef public list refs         # input value refs
    cdef public list dtypes       # output dtype codes
    cdef public list shapes       # output shapes as traced
    cdef public list in_shapes    # input shapes as traced
