"""Buffers for array data: 64-byte aligned, recycled through a size-class cache.

Small sizes round up to a power of two, large ones to whole pages, so a freed
buffer can serve the next request of the same class without a fresh page fault.
Statistics follow MLX's memory API (active, peak, cache, limits).
"""
from libc.stdlib cimport free, malloc
from libc.string cimport memset

cdef extern from "stdlib.h" nogil:
    int posix_memalign(void **memptr, size_t alignment, size_t size)

cdef extern from *:
    """
    #if defined(__linux__)
    #include <sys/mman.h>
    #endif
    /* Ask for transparent huge pages where the OS has them (Linux); advice only. */
    static void mlxc_advise_huge(void *p, size_t n)
    {
    #if defined(__linux__) && defined(MADV_HUGEPAGE)
        madvise(p, n, MADV_HUGEPAGE);
    #else
        (void)p; (void)n;
    #endif
    }
    """
    void mlxc_advise_huge(void *p, size_t n) nogil

DEF ALIGN = 64
DEF PAGE = 16384
DEF NSMALL = 9          # small classes 64, 128, ..., 16384 bytes
DEF SMALL_SLOTS = 256   # cached buffers kept per small class
# Buffers this big start on a 2 MiB boundary and ask for transparent huge pages:
# random access into them (gather) then misses the TLB far less, and a fresh
# buffer faults in 2 MiB at a time instead of 4 KiB.
DEF HUGE = 2097152

cdef size_t active_bytes = 0
cdef size_t peak_bytes = 0
cdef size_t cache_bytes = 0
cdef size_t cache_limit = <size_t>-1
cdef size_t memory_limit = 0       # 0: unset (guideline only, as in MLX)

# Small classes: fixed stacks of pointers.  Large classes: dict capacity -> list of pointers.
cdef void *small_cache[NSMALL][SMALL_SLOTS]
cdef int small_count[NSMALL]
cdef dict large_cache = {}


cdef inline size_t class_size(size_t n, int *cls) noexcept nogil:
    cdef size_t c = ALIGN
    cdef int k = 0
    if n <= PAGE:
        while c < n:
            c <<= 1
            k += 1
        cls[0] = k
        return c
    cls[0] = -1
    return (n + PAGE - 1) // PAGE * PAGE


cdef void *raw_alloc(size_t cap) noexcept nogil:
    cdef void *p = NULL
    if posix_memalign(&p, HUGE if cap >= HUGE else ALIGN, cap) != 0:
        return NULL
    if cap >= HUGE:
        mlxc_advise_huge(p, cap)   # failure (no THP) is harmless
    return p


cdef void trim_cache(size_t limit):
    """Free cached buffers until the cache holds at most limit bytes."""
    global cache_bytes
    cdef int k
    cdef size_t cap
    for k in range(NSMALL - 1, -1, -1):
        cap = <size_t>ALIGN << k
        while small_count[k] > 0 and cache_bytes > limit:
            small_count[k] -= 1
            free(small_cache[k][small_count[k]])
            cache_bytes -= cap
    for cap in sorted(large_cache, reverse=True):
        lst = large_cache[cap]
        while lst and cache_bytes > limit:
            free(<void *><size_t>lst.pop())
            cache_bytes -= cap
        if not lst:
            del large_cache[cap]


cdef Buffer new_buffer(size_t nbytes):
    global active_bytes, peak_bytes, cache_bytes
    cdef int cls
    cdef size_t cap = class_size(nbytes, &cls)
    cdef void *p = NULL
    if cls >= 0:
        if small_count[cls] > 0:
            small_count[cls] -= 1
            p = small_cache[cls][small_count[cls]]
            cache_bytes -= cap
    else:
        lst = large_cache.get(cap)
        if lst:
            p = <void *><size_t>lst.pop()
            cache_bytes -= cap
    if p == NULL:
        if memory_limit and active_bytes + cache_bytes + cap > memory_limit:
            trim_cache(0)
        p = raw_alloc(cap)
        if p == NULL:
            trim_cache(0)
            p = raw_alloc(cap)
            if p == NULL:
                raise MemoryError(f"[malloc] Unable to allocate {nbytes} bytes.")
    cdef Buffer b = Buffer.__new__(Buffer)
    b.ptr = p
    b.nbytes = nbytes
    b.capacity = cap
    active_bytes += cap
    if active_bytes > peak_bytes:
        peak_bytes = active_bytes
    return b


cdef Buffer wrap_external(void *ptr, size_t nbytes, object owner, bint readonly):
    """A Buffer over memory that `owner` keeps alive (zero-copy imports); dropping the
    Buffer drops owner, whose own cleanup releases the memory."""
    cdef Buffer b = Buffer.__new__(Buffer)
    b.ptr = ptr
    b.nbytes = nbytes
    b.capacity = nbytes
    b.owner = owner
    b.readonly = readonly
    return b


cdef class Buffer:
    """A block of array data.  Returned to the cache when the last array using it dies."""

    def __dealloc__(self):
        global active_bytes, cache_bytes
        cdef int cls
        if self.ptr == NULL or self.owner is not None:
            self.ptr = NULL      # borrowed memory: the owner (cleared after this) frees it
            return
        active_bytes -= self.capacity
        class_size(self.capacity, &cls)
        if cache_bytes + self.capacity <= cache_limit:
            if cls >= 0 and small_count[cls] < SMALL_SLOTS:
                small_cache[cls][small_count[cls]] = self.ptr
                small_count[cls] += 1
                cache_bytes += self.capacity
                self.ptr = NULL
                return
            if cls < 0:
                large_cache.setdefault(self.capacity, []).append(<size_t>self.ptr)
                cache_bytes += self.capacity
                self.ptr = NULL
                return
        free(self.ptr)
        self.ptr = NULL


def get_active_memory():
    """get_active_memory() -> int

    The bytes held by live arrays, not counting the cache."""
    return active_bytes


def get_peak_memory():
    """get_peak_memory() -> int

    The largest active memory since the start or the last reset_peak_memory()."""
    return peak_bytes


def reset_peak_memory():
    """reset_peak_memory() -> None

    Reset the peak memory to zero."""
    global peak_bytes
    peak_bytes = 0


def get_cache_memory():
    """get_cache_memory() -> int

    The bytes of freed buffers kept for reuse."""
    return cache_bytes


def clear_cache():
    """clear_cache() -> None

    Free every cached buffer."""
    trim_cache(0)


def set_cache_limit(limit):
    """set_cache_limit(limit: int) -> int

    Set the most bytes the cache may hold; returns the previous limit."""
    global cache_limit
    limit = int(limit)
    if limit < 0:
        raise ValueError(f"[set_cache_limit] The limit must be non-negative, got {limit}.")
    prev = cache_limit
    cache_limit = limit
    trim_cache(cache_limit)
    return prev if prev != <size_t>-1 else get_memory_limit_default()


def set_memory_limit(limit):
    """set_memory_limit(limit: int) -> int

    Set a guideline for the most bytes arrays may use; past it the cache is freed
    before new memory is requested.  Returns the previous limit."""
    global memory_limit
    limit = int(limit)
    if limit < 0:
        raise ValueError(f"[set_memory_limit] The limit must be non-negative, got {limit}.")
    prev = memory_limit if memory_limit else get_memory_limit_default()
    memory_limit = limit
    return prev


def get_memory_limit():
    """get_memory_limit() -> int

    The memory limit guideline in bytes (by default the machine's memory)."""
    return memory_limit if memory_limit else get_memory_limit_default()


def set_wired_limit(limit):
    """set_wired_limit(limit: int) -> int

    Wired memory exists only on Apple GPUs; accepted and ignored on the CPU, returns 0."""
    limit = int(limit)
    if limit < 0:
        raise ValueError(f"[set_wired_limit] The limit must be non-negative, got {limit}.")
    return 0


def get_memory_limit_default():
    try:
        import os
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1 << 34
