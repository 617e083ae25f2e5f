# Aligned buffers with a size-class cache and memory statistics.

cdef class Buffer:
    cdef void *ptr          # 64-byte aligned data, never NULL (even for 0 bytes)
    cdef size_t nbytes      # bytes requested
    cdef size_t capacity    # bytes of the size class actually held

cdef Buffer new_buffer(size_t nbytes)     # raises MemoryError
