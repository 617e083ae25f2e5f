"""An emulated Metal device: compiles Metal Shading Language files as C++17 with the system
compiler (a stand-in <metal_stdlib> plus a source pre-pass) and runs their kernels on the CPU
with Metal's execution model (threadgroups of cooperative fibers, SIMD lanes in lockstep,
barrier and lane checks, poisoned threadgroup memory, lane-order permutations).

    lib = compile_library("metal/unary.metal")       # or compile_library(text=..., name=...)
    fn = lib.function("unary_exp_float32")
    fn.dispatch({0: x, 1: out, 2: struct.pack("I", n)}, grid=(n,), threadgroup=(256,))

Part of the test suite, not of the package (see README.md here).
"""
import ctypes
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import threading

import numpy as np

from .errors import MetalError
from .guard import Guarded
from . import prepass

__all__ = ["MetalError", "LANE_ORDERS", "compile_library", "Library", "Function",
           "compiler", "cache_dir"]

LANE_ORDERS = ("forward", "reverse", "shuffle")
MAX_BINDINGS = 32
SET_BYTES_LIMIT = 4096  # Metal's setBytes limit

_HERE = pathlib.Path(__file__).resolve().parent
_INCLUDE = _HERE / "include"
# Flags of the kernel build: wrapping integers and no contraction, as the tests compare bits.
# -O1: a quarter less compile time than -O2 for the same speed of a kernel here (measured;
# METAL_EMU_OPT overrides). -g1: line tables, so that a fault inside a kernel is reported at its
# .metal line (DWARF 4: binutils 2.40's addr2line misnames DWARF 5's #line files).
# -fsigned-char: MSL's char is signed (it is not on aarch64 Linux by default).
CXXFLAGS = ["-std=c++17", os.environ.get("METAL_EMU_OPT", "-O1"), "-g1", "-gdwarf-4",
            "-fstack-clash-protection", "-fPIC", "-shared", "-fwrapv", "-fsigned-char",
            "-fno-strict-aliasing", "-ffp-contract=off", "-fno-math-errno", "-Wno-attributes", "-w"]
_lock = threading.Lock()  # the runtime is one device: one dispatch at a time
_runtime = None
_loaded = {}  # content key -> Library
_memo = {}    # path and stat, or text -> Library


def compiler():
    """The C++ compiler used: $METAL_EMU_CXX, else g++, else clang++."""
    for c in (os.environ.get("METAL_EMU_CXX"), "g++", "clang++"):
        if c and shutil.which(c):
            return c
    raise MetalError("metal_emu: no C++ compiler (g++ or clang++) found")


def _cc():
    for c in (os.environ.get("METAL_EMU_CC"), "gcc", "clang", "cc"):
        if c and shutil.which(c):
            return c
    raise MetalError("metal_emu: no C compiler found")


def cache_dir():
    """Where compiled libraries live: $METAL_EMU_CACHE, else $XDG_CACHE_HOME/mlxc-metal-emu."""
    d = os.environ.get("METAL_EMU_CACHE")
    if not d:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        d = os.path.join(base, "mlxc-metal-emu")
    try:
        os.makedirs(d, exist_ok=True)
    except OSError:
        d = os.path.join(tempfile.gettempdir(), f"mlxc-metal-emu-{os.getuid()}")
        os.makedirs(d, exist_ok=True)
    return d


def _run(cmd, what):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise MetalError(f"{what} failed:\n{r.stderr.strip() or r.stdout.strip()}")
    return r.stdout


def _build(cmd_fn, out_path, what):
    """Compile into a private name, then rename: concurrent processes never see a partial file."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(out_path), suffix=".tmp.so")
    os.close(fd)
    try:
        _run(cmd_fn(tmp), what)
        os.replace(tmp, out_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _load_runtime():
    global _runtime
    if _runtime is not None:
        return _runtime
    src = _HERE / "runtime.c"
    h = hashlib.sha256()
    for p in (src, _INCLUDE / "emu_rt.h"):
        h.update(p.read_bytes())
    cc = _cc()
    # METAL_EMU_UCONTEXT=1 selects the portable context switch (what non-x86-64 machines use)
    flags = ["-O2", "-fPIC", "-shared"] + (["-DMETAL_EMU_UCONTEXT"]
                                           if os.environ.get("METAL_EMU_UCONTEXT") == "1" else [])
    h.update(" ".join([cc] + flags).encode())
    path = os.path.join(cache_dir(), f"runtime-{h.hexdigest()[:24]}.so")
    if not os.path.exists(path):
        _build(lambda out: [cc] + flags + ["-I", str(_INCLUDE), str(src), "-o", out], path,
               "compiling the metal_emu runtime")
    rt = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
    rt.emu_dispatch.restype = ctypes.c_int
    rt.emu_dispatch.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_uint32),
                                ctypes.POINTER(ctypes.c_uint32), ctypes.c_int,
                                ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_uint32),
                                ctypes.c_int, ctypes.c_uint64, ctypes.c_int]
    rt.emu_last_error.restype = ctypes.c_char_p
    rt.emu_bench_switch.argtypes = [ctypes.c_uint64]
    rt.emu_fault_location.restype = ctypes.c_char_p
    rt.emu_fault_location.argtypes = [ctypes.POINTER(ctypes.c_uint64)]
    rt.emu_fault_address.restype = ctypes.c_void_p
    rt.emu_set_atomic_yield.argtypes = [ctypes.c_int]
    _runtime = rt
    return rt


def _preprocess(path, display):
    """g++ -E over the .metal file with an empty <metal_stdlib> (user macros expanded, address
    spaces left for the pre-pass); line markers name `display`."""
    cmd = [compiler(), "-E", "-x", "c++", "-std=c++17", "-nostdinc", "-D__METAL_EMU_PASS1",
           "-D__METAL_VERSION__=310", "-DMETAL_EMU=1", "-I", str(_INCLUDE),
           "-I", str(pathlib.Path(path).parent), str(path)]
    out = _run(cmd, f"preprocessing {display}")
    if display != str(path):
        out = out.replace(f'"{path}"', json.dumps(display))
    return out


def compile_library(source=None, *, text=None, name=None):
    """Compile a .metal file (a path) or MSL `text` (named `name` in diagnostics). Compiled once
    per content: the cache is keyed by a hash of the preprocessed source and the emulator."""
    _load_runtime()
    if (source is None) == (text is None):
        raise MetalError("compile_library: give a path or text=..., not both")
    # in-process memo (skips even the preprocessor): a file by path and stat, a text by content
    if text is not None:
        memo = ("text", name, text)
    else:
        try:
            st = os.stat(str(source))
            memo = ("path", os.path.abspath(str(source)), st.st_mtime_ns, st.st_size)
        except OSError:
            memo = None
    if memo is not None and memo in _memo:
        return _memo[memo]
    lib = _compile(source, text, name)
    if memo is not None:
        _memo[memo] = lib
    return lib


def _compile(source, text, name):
    tmpdir = None
    try:
        if text is not None:
            display = name or "<text>.metal"
            if not display.endswith(".metal"):
                display += ".metal"
            tmpdir = tempfile.mkdtemp(prefix="metal-emu-src-")
            path = os.path.join(tmpdir, os.path.basename(display))
            with open(path, "w") as f:
                f.write(text)
        else:
            path = str(source)
            if not os.path.isfile(path):
                raise MetalError(f"compile_library: no such .metal file: {path!r}")
            display = path
        pre = _preprocess(path, display)
    finally:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
    h = hashlib.sha256(pre.encode())
    for p in (_INCLUDE / "metal_stdlib", _INCLUDE / "emu_rt.h", _HERE / "prepass.py"):
        h.update(p.read_bytes())
    cxx = compiler()
    h.update(" ".join([cxx] + CXXFLAGS).encode())
    key = h.hexdigest()[:32]
    if key in _loaded:
        return _loaded[key]
    d = cache_dir()
    so, meta_path = os.path.join(d, f"{key}.so"), os.path.join(d, f"{key}.json")
    if not (os.path.exists(so) and os.path.exists(meta_path)):
        cpp, entries, fibered = prepass.rewrite(pre)
        fd, cpp_path = tempfile.mkstemp(dir=d, suffix=".cpp")
        with os.fdopen(fd, "w") as f:
            f.write(cpp)
        try:
            _build(lambda out: [cxx] + CXXFLAGS + ["-I", str(_INCLUDE), "-include", "metal_stdlib",
                                                   cpp_path, "-o", out], so,
                   f"compiling {display}")
        finally:
            os.unlink(cpp_path)
        meta = {"display": display, "fibered": fibered,
                "entries": [[h_, sym, k, [list(p) for p in params]]
                            for h_, sym, k, params in entries]}
        fd, tmp = tempfile.mkstemp(dir=d, suffix=".json.tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(meta, f)
        os.replace(tmp, meta_path)
    with open(meta_path) as f:
        meta = json.load(f)
    lib = Library(so, meta)
    _loaded[key] = lib
    return lib


class Library:
    """A compiled .metal file: its kernels by host name."""

    def __init__(self, so_path, meta):
        self._dll = ctypes.CDLL(so_path)
        self.name = meta["display"]
        # the file calls barriers or SIMD collectives (informational: threads become fibers
        # at run time, when one is reached)
        self.fibered = meta["fibered"]
        self._entries = {h: (sym, k, params) for h, sym, k, params in meta["entries"]}
        self._order = [e[0] for e in meta["entries"]]

    def function_names(self):
        """Host names: explicit instantiations' [[host_name]]s, then plain kernels' names."""
        return list(self._order)

    def function(self, host_name):
        if host_name not in self._entries:
            raise MetalError(f"{self.name}: no kernel function named {host_name!r} "
                             f"(has {len(self._order)}: {', '.join(self._order[:8])}"
                             f"{', ...' if len(self._order) > 8 else ''})")
        sym, kname, params = self._entries[host_name]
        return Function(self, host_name, kname, getattr(self._dll, sym), params)

    def __repr__(self):
        return f"<metal_emu.Library {self.name} ({len(self._order)} functions)>"


def _dims(v, what, host):
    if isinstance(v, int):
        v = (v,)
    try:
        v = tuple(int(x) for x in v)
    except (TypeError, ValueError):
        raise MetalError(f"{host}: {what} must be a tuple of up to 3 ints, got {v!r}") from None
    if not 1 <= len(v) <= 3 or any(x < 0 for x in v):
        raise MetalError(f"{host}: {what} must be up to 3 non-negative ints, got {v!r}")
    return v + (1,) * (3 - len(v))


class Function:
    """One kernel (a host name) of a Library."""

    def __init__(self, lib, host_name, kernel_name, thunk, params):
        self.library = lib
        self.name = host_name
        self.kernel_name = kernel_name
        self._thunk = ctypes.cast(thunk, ctypes.c_void_p).value
        self.params = params  # [(kind, index, declaration)]

    def __repr__(self):
        return f"<metal_emu.Function {self.name} of {self.library.name}>"

    def dispatch(self, buffers, grid, threadgroup, *, threadgroup_memory=None,
                 lane_order="forward", seed=0, mode="threads", strict_shuffle=True,
                 guard=None, interleave_atomics=False):
        """Run the kernel. buffers: {index: numpy array | (address, nbytes) | bytes}; grid and
        threadgroup: up to 3 ints; mode "threads" (dispatchThreads: grid counts threads, partial
        last groups) or "groups" (dispatchThreadgroups). threadgroup_memory: {index: nbytes} for
        [[threadgroup(n)]] parameters. lane_order: "forward", "reverse" or "shuffle" (seeded).
        strict_shuffle=False makes a read from an inactive lane return poison (all 0xFF bytes)
        instead of failing. guard (default True; METAL_EMU_GUARD=0 turns it off): run on guarded
        copies of the buffers, so that an access past a buffer's end fails naming it.
        interleave_atomics: each atomic operation ends its thread's phase, so the group's other
        threads run between two atomics of one thread (a load-then-store loses updates)."""
        rt = _load_runtime()
        host = self.name
        if lane_order not in LANE_ORDERS:
            raise MetalError(f"{host}: lane_order must be one of {LANE_ORDERS}, got {lane_order!r}")
        if mode not in ("threads", "groups"):
            raise MetalError(f"{host}: mode must be 'threads' or 'groups', got {mode!r}")
        g = _dims(grid, "grid", host)
        t = _dims(threadgroup, "threadgroup", host)
        if any(x == 0 for x in t):
            raise MetalError(f"{host}: threadgroup size {t} has a zero dimension")
        if t[0] * t[1] * t[2] > 1024:
            raise MetalError(f"{host}: threadgroup size {t} = {t[0] * t[1] * t[2]} threads "
                             "exceeds Metal's limit of 1024")
        if any(x >= 2 ** 32 for x in g):
            raise MetalError(f"{host}: grid {g} does not fit 32-bit thread positions")
        keep = []
        spans = {}  # idx -> (address, nbytes, writable)
        for idx, v in (buffers or {}).items():
            if not isinstance(idx, int) or not 0 <= idx < MAX_BINDINGS:
                raise MetalError(f"{host}: buffer index {idx!r} is not in [0, {MAX_BINDINGS})")
            if isinstance(v, np.ndarray):
                if not v.flags.c_contiguous:
                    raise MetalError(f"{host}: buffer({idx}) is a non-contiguous array; pass a "
                                     "C-contiguous one (strides are the kernel's business)")
                keep.append(v)
                spans[idx] = (v.ctypes.data, v.nbytes, v.flags.writeable)
            elif isinstance(v, (bytes, bytearray, memoryview)):
                b = bytes(v)
                if len(b) > SET_BYTES_LIMIT:
                    raise MetalError(f"{host}: buffer({idx}) passes {len(b)} bytes inline; Metal's "
                                     f"setBytes allows at most {SET_BYTES_LIMIT}")
                cb = ctypes.create_string_buffer(b, max(len(b), 16))
                keep.append(cb)
                spans[idx] = (ctypes.addressof(cb), len(b), False)
            elif isinstance(v, tuple) and len(v) == 2:
                addr, nbytes = v
                if not isinstance(nbytes, int) or nbytes < 0:
                    raise MetalError(f"{host}: buffer({idx}) size {nbytes!r} is not a byte count")
                if addr is None or addr == 0:
                    if nbytes:
                        raise MetalError(f"{host}: buffer({idx}) has a null address")
                elif not isinstance(addr, int):
                    raise MetalError(f"{host}: buffer({idx}) address {addr!r} is not an int")
                spans[idx] = (addr or 0, nbytes, True)
            else:
                raise MetalError(f"{host}: buffer({idx}) must be a numpy array, (address, nbytes) "
                                 f"or bytes, got {type(v).__name__}")
        tgs = (ctypes.c_uint32 * MAX_BINDINGS)()
        for idx, n in (threadgroup_memory or {}).items():
            if not isinstance(idx, int) or not 0 <= idx < MAX_BINDINGS:
                raise MetalError(f"{host}: threadgroup_memory index {idx!r} is not in "
                                 f"[0, {MAX_BINDINGS})")
            if not isinstance(n, int) or n < 0:
                raise MetalError(f"{host}: threadgroup_memory[{idx}] = {n!r} is not a byte count")
            if n > 32768:
                raise MetalError(f"{host}: threadgroup_memory[{idx}] = {n} bytes exceeds 32 KiB")
            tgs[idx] = n
        for kind, idx, decl in self.params:
            if kind == "K_BUFFER" and idx not in spans:
                raise MetalError(f"{host}: parameter `{decl}` [[buffer({idx})]] is not bound")
            if kind == "K_TG" and not tgs[idx]:
                raise MetalError(f"{host}: parameter `{decl}` [[threadgroup({idx})]] has no "
                                 "threadgroup_memory length")
        order = LANE_ORDERS.index(lane_order)
        if guard is None:
            guard = os.environ.get("METAL_EMU_GUARD", "1") != "0"
        ptrs = (ctypes.c_void_p * MAX_BINDINGS)()
        guarded = None
        if guard:
            # zero-size buffers get an address whose every byte faults
            guarded = Guarded({i: (a if n else 0, n, w) for i, (a, n, w) in spans.items()})
            for idx, p in guarded.ptr.items():
                ptrs[idx] = p
        else:
            for idx, (a, n, w) in spans.items():
                if not n:
                    dummy = ctypes.create_string_buffer(16)  # an empty buffer has an address
                    keep.append(dummy)
                    a = ctypes.addressof(dummy)
                ptrs[idx] = a
        try:
            self._run(rt, g, t, mode, ptrs, tgs, order, seed, strict_shuffle, guarded,
                      interleave_atomics)
        finally:
            if guarded is not None:
                guarded.release()
        del keep

    def _run(self, rt, g, t, mode, ptrs, tgs, order, seed, strict_shuffle, guarded,
             interleave_atomics=False):
        host = self.name
        with _lock:
            rt.emu_set_atomic_yield(int(bool(interleave_atomics)))
            # threads start as plain calls and become fibers at their first barrier or
            # collective (METAL_EMU_FIBERS=1: fibers from the start, to compare)
            rc = rt.emu_dispatch(self._thunk, int(os.environ.get("METAL_EMU_FIBERS") == "1"),
                                 (ctypes.c_uint32 * 3)(*g), (ctypes.c_uint32 * 3)(*t),
                                 int(mode == "groups"), ptrs, tgs, order,
                                 int(seed) & (2 ** 64 - 1), int(bool(strict_shuffle)))
            if rc != 0:
                msg = rt.emu_last_error().decode(errors="replace")
                off = ctypes.c_uint64()
                lib = rt.emu_fault_location(ctypes.byref(off))
                if lib:
                    msg = f"{_source_line(lib.decode(), off.value)}{msg}"
                fault = rt.emu_fault_address()
                where = guarded.explain(fault) if guarded is not None and fault else None
                if where:
                    msg += f": {where}"
                if guarded is not None:
                    guarded.finish()
                raise MetalError(f"{host}: {msg}")
            if guarded is not None:
                bad = guarded.finish()
                if bad:
                    raise MetalError(f"{host}: the kernel {bad} (0xFF filler around the buffer "
                                     "changed)")


def _source_line(so, offset):
    """'file.metal:line: ' of an address in a compiled library (addr2line over its line
    tables), or '' when unknown."""
    tool = shutil.which("addr2line")
    if not tool or not offset:
        return ""
    r = subprocess.run([tool, "-e", so, "-i", hex(offset)], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        line = line.split(" (discriminator")[0].strip()
        if ".metal:" in line and not line.endswith(":?"):
            return line + ": "
    return ""


def bench_switch(n):
    """Run n fiber round trips (2n switches) (for measuring the runtime's switch cost)."""
    _load_runtime().emu_bench_switch(n)
