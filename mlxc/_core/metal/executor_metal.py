"""The Metal executor (macOS): pyobjc-framework-metal compiles metal/ sources at first
use (newLibraryWithSource:options:error:) and runs them on the system's default device.

Buffers: mlxc's allocator memory is wrapped without a copy (newBufferWithBytesNoCopy)
when its address and length are page-aligned; otherwise the bytes are copied into a
shared MTLBuffer and copied back after the command buffer completes.  Each dispatch is
committed and waited for, in the order eval runs nodes.

UNTESTED: this file cannot run on the Linux machines mlxc is developed on (no Metal, no
pyobjc); it is written against Apple's documented API and pyobjc's naming rules, and the
emulated executor runs the same kernels through the same interface.  See metal/README.md.
"""
import ctypes
import os
import platform


def inline_includes(path, seen=None):
    """The source with its `#include "file"` lines (files beside it) replaced by their
    text: newLibraryWithSource has no file system to search."""
    import re
    seen = set() if seen is None else seen
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r'\s*#\s*include\s*"([^"]+)"', line)
            if m:
                inc = os.path.join(os.path.dirname(path), m.group(1))
                if inc not in seen:             # the headers are #pragma once
                    seen.add(inc)
                    out.append(inline_includes(inc, seen))
                continue
            out.append(line.replace("#pragma once", "") if line.startswith("#pragma once")
                       else line)
    return "".join(out)


def metal_present():
    try:
        import Metal
    except ImportError:
        return False
    return Metal.MTLCreateSystemDefaultDevice() is not None


class MetalExecutor:
    name = "metal"

    def __init__(self):
        import Metal
        self._mtl = Metal
        self.device = Metal.MTLCreateSystemDefaultDevice()
        if self.device is None:
            raise RuntimeError("[metal] no Metal device.")
        self.queue = self.device.newCommandQueue()
        self._libraries = {}
        self._page = os.sysconf("SC_PAGE_SIZE")

    def function(self, path, host_name):
        lib = self._libraries.get(path)
        if lib is None:
            source = inline_includes(path)
            options = self._mtl.MTLCompileOptions.new()
            # Precise math: the kernels' results are compared with the CPU's libm-grade
            # ones (fast math changes pow/exp/log accuracy and NaN/inf handling).
            if hasattr(options, "setMathMode_"):
                options.setMathMode_(self._mtl.MTLMathModeSafe)
            else:
                options.setFastMathEnabled_(False)
            lib, err = self.device.newLibraryWithSource_options_error_(source, options, None)
            if lib is None:
                raise RuntimeError(f"[metal] compiling {os.path.basename(path)} failed: {err}")
            self._libraries[path] = lib
        fn = lib.newFunctionWithName_(host_name)
        if fn is None:
            raise RuntimeError(f"[metal] {os.path.basename(path)} has no kernel {host_name!r}.")
        pipeline, err = self.device.newComputePipelineStateWithFunction_error_(fn, None)
        if pipeline is None:
            raise RuntimeError(f"[metal] pipeline {host_name!r}: {err}")
        return pipeline

    def _wrap(self, address, nbytes, copies):
        """An MTLBuffer over [address, address + nbytes)."""
        Metal = self._mtl
        shared = Metal.MTLResourceStorageModeShared
        length = max(nbytes, 1)
        if address % self._page == 0 and length % self._page == 0:
            view = (ctypes.c_char * length).from_address(address)
            buf = self.device.newBufferWithBytesNoCopy_length_options_deallocator_(
                view, length, shared, None)
            if buf is not None:
                return buf
        buf = self.device.newBufferWithLength_options_(length, shared)
        ctypes.memmove(self._contents(buf, length), address, nbytes)
        copies.append((buf, address, nbytes))
        return buf

    @staticmethod
    def _contents(buf, length):
        mv = buf.contents().as_buffer(length)
        return ctypes.addressof(ctypes.c_char.from_buffer(mv))

    def dispatch(self, pipeline, buffers, grid, threadgroup, threadgroup_memory, groups):
        Metal = self._mtl
        if threadgroup[0] * threadgroup[1] * threadgroup[2] > pipeline.maxTotalThreadsPerThreadgroup():
            raise RuntimeError("[metal] threadgroup larger than the pipeline allows.")
        copies = []
        cb = self.queue.commandBuffer()
        enc = cb.computeCommandEncoder()
        enc.setComputePipelineState_(pipeline)
        for index, b in buffers.items():
            if isinstance(b, (bytes, bytearray)):
                enc.setBytes_length_atIndex_(bytes(b), len(b), index)
            else:
                enc.setBuffer_offset_atIndex_(self._wrap(b[0], b[1], copies), 0, index)
        for index, nbytes in (threadgroup_memory or {}).items():
            enc.setThreadgroupMemoryLength_atIndex_(nbytes, index)
        g = Metal.MTLSizeMake(*grid)
        t = Metal.MTLSizeMake(*threadgroup)
        if groups:
            enc.dispatchThreadgroups_threadsPerThreadgroup_(g, t)
        else:
            enc.dispatchThreads_threadsPerThreadgroup_(g, t)
        enc.endEncoding()
        cb.commit()
        cb.waitUntilCompleted()
        if cb.error() is not None:
            raise RuntimeError(f"[metal] command buffer failed: {cb.error()}")
        for buf, address, nbytes in copies:      # copied buffers: bring results back
            ctypes.memmove(address, self._contents(buf, max(nbytes, 1)), nbytes)

    def synchronize(self):
        pass

    def device_info(self):
        d = self.device
        return {"device_name": str(d.name()), "architecture": platform.machine(),
                "emulated": False,
                "max_buffer_length": int(d.maxBufferLength()),
                "max_recommended_working_set_size": int(d.recommendedMaxWorkingSetSize()),
                "memory_size": int(d.recommendedMaxWorkingSetSize()),
                "threadgroup_memory_size": int(d.maxThreadgroupMemoryLength()),
                "max_threads_per_threadgroup": int(d.maxThreadsPerThreadgroup().width),
                "simd_width": 32}
