"""Guarded copies of a dispatch's buffers: each buffer (or group of overlapping ones, so that
aliasing survives) is copied into a fresh mapping whose end touches an inaccessible page, with
0xFF filler around it. A kernel reading or writing past the end (a missing `gid < n` guard in a
partial group, a wrong offset) faults or leaves the filler changed, and the dispatch fails
naming the buffer, instead of silently touching whatever followed it in the process. Results
are copied back after the dispatch."""
import ctypes
import mmap

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                       ctypes.c_long]
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
PAGE = mmap.PAGESIZE
PROT_NONE = 0
_MAP_FAILED = ctypes.c_void_p(-1).value
_FF = b"\xff" * (2 * PAGE)  # the filler, to compare with


# Mappings are reused (mmap, mprotect and munmap per dispatch cost more than small kernels):
# free mappings by size, their guard pages already in place, up to _POOL_MAX bytes in all.
_pool = {}
_pool_bytes = 0
_POOL_MAX = 256 << 20


def _take(total):
    global _pool_bytes
    free = _pool.get(total)
    if free:
        _pool_bytes -= total
        return free.pop()
    base = _libc.mmap(None, total, mmap.PROT_READ | mmap.PROT_WRITE,
                      mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
    if base in (None, _MAP_FAILED):
        raise MemoryError("metal_emu: cannot map a guarded buffer")
    _libc.mprotect(base, PAGE, PROT_NONE)
    _libc.mprotect(base + total - PAGE, PAGE, PROT_NONE)
    return base


def _give(base, total):
    global _pool_bytes
    if _pool_bytes + total <= _POOL_MAX:
        _pool.setdefault(total, []).append(base)
        _pool_bytes += total
    else:
        _libc.munmap(base, total)


class _Cluster:
    """Overlapping buffers [lo, hi) and their guarded copy."""

    def __init__(self, lo, hi, members):
        self.lo, self.hi, self.members = lo, hi, members  # members: [(idx, addr, n, writable)]
        size = hi - lo
        self.mid = (size + 64 + PAGE - 1) // PAGE * PAGE
        self.total = self.mid + 2 * PAGE
        base = _take(self.total)
        self.base = base
        self.guard = base + PAGE + self.mid  # the inaccessible page after the data
        # keep the original address's alignment modulo 64
        self.start = ((self.guard - size - lo % 64) & ~63) + lo % 64
        ctypes.memset(base + PAGE, 0xFF, self.start - base - PAGE)  # filler before,
        ctypes.memset(self.start + size, 0xFF, self.guard - self.start - size)  # and after
        if size:
            ctypes.memmove(self.start, lo, size)

    def address(self, addr):
        return self.start + (addr - self.lo)

    def filler_intact(self):
        nb = self.start - self.base - PAGE
        end = self.start + self.hi - self.lo
        na = self.guard - end
        return (ctypes.string_at(self.base + PAGE, nb) == _FF[:nb],
                ctypes.string_at(end, na) == _FF[:na])

    def copy_back(self):
        if any(w for _, _, _, w in self.members) and self.hi > self.lo:
            ctypes.memmove(self.lo, self.start, self.hi - self.lo)

    def release(self):
        _give(self.base, self.total)

    def describe(self, at_end):
        idx, addr, n, _ = (max if at_end else min)(
            self.members, key=lambda m: m[1] + m[2] if at_end else m[1])
        return f"buffer({idx}) ({n} bytes)"


class Guarded:
    """spans: {idx: (address, nbytes, writable)} -> guarded addresses in .ptr."""

    def __init__(self, spans):
        items = sorted((a, a + n, idx, n, w) for idx, (a, n, w) in spans.items())
        self.clusters, self.ptr = [], {}
        try:
            cur = None
            for lo, hi, idx, n, w in items:
                if cur and lo < cur[1]:
                    cur[1] = max(cur[1], hi)
                    cur[2].append((idx, lo, n, w))
                else:
                    if cur:
                        self.clusters.append(_Cluster(*cur))
                    cur = [lo, hi, [(idx, lo, n, w)]]
            if cur:
                self.clusters.append(_Cluster(*cur))
            for c in self.clusters:
                for idx, addr, _, _ in c.members:
                    self.ptr[idx] = c.address(addr)
        except BaseException:
            self.release()
            raise

    def finish(self):
        """Copy results back; returns a message if a kernel wrote outside a buffer."""
        problems = []
        for c in self.clusters:
            ok_before, ok_after = c.filler_intact()
            if not ok_after:
                problems.append(f"wrote past the end of {c.describe(True)}")
            if not ok_before:
                problems.append(f"wrote before the start of {c.describe(False)}")
            c.copy_back()
        return "; ".join(problems) or None

    def explain(self, fault_addr):
        """Which buffer a fault address is next to, if any."""
        for c in self.clusters:
            if c.guard <= fault_addr < c.guard + PAGE:
                return f"just past the end of {c.describe(True)}"
            if c.base <= fault_addr < c.base + PAGE:
                return f"just before the start of {c.describe(False)}"
        return None

    def release(self):
        for c in self.clusters:
            c.release()
        self.clusters = []
