# Aligned buffers with a size-class cache and memory statistics.

cdef class Buffer:
    cdef void *ptr          # 64-byte aligned data, never NULL (even for 0 bytes)
    cdef size_t nbytes      # bytes requested
    cdef size_t capacity    # bytes of the size class actually held
    cdef object owner       # not None: the memory belongs to this object (a DLPack import),
                            # it is neither counted, cached, freed nor donated by mlxc
    cdef bint readonly      # the owner lent the memory read-only

cdef Buffer new_buffer(size_t nbytes)     # raises MemoryError
cdef Buffer wrap_external(void *ptr, size_t nbytes, object owner, bint readonly)
