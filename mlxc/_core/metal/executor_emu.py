"""The emulated executor: runs metal/ kernels on the CPU through the test suite's
emulated Metal device (tests/metal_emu, imported as metal_emu).  Not shipped: the package
only imports it when MLXC_METAL_EMULATE=1 asks for it."""
import platform


class EmulatedExecutor:
    name = "emulated"

    def __init__(self):
        try:
            import metal_emu
        except ImportError as e:
            raise RuntimeError(
                "MLXC_METAL_EMULATE=1 asks for the emulated Metal device, but `import "
                "metal_emu` failed: the emulator is part of mlxc's test suite, not of the "
                "package; put the test suite's tests/ directory on sys.path (tests/conftest.py "
                f"does) or unset MLXC_METAL_EMULATE. ({e})") from None
        self._emu = metal_emu
        self._libraries = {}          # source path -> compiled library

    def function(self, path, host_name):
        lib = self._libraries.get(path)
        if lib is None:
            lib = self._libraries[path] = self._emu.compile_library(path)
        return lib.function(host_name)

    def dispatch(self, fn, buffers, grid, threadgroup, threadgroup_memory, groups):
        """buffers: {index: (address, nbytes) | bytes}."""
        try:
            fn.dispatch(buffers, grid, threadgroup, threadgroup_memory=threadgroup_memory,
                        lane_order=lane_order, seed=seed, mode="groups" if groups else "threads",
                        interleave_atomics=interleave_atomics)
        except self._emu.MetalError as e:
            raise RuntimeError(f"[metal] {e}") from None

    def synchronize(self):
        pass                           # every dispatch has finished when it returns

    def device_info(self):
        return {"device_name": "mlxc emulated Metal device (CPU, tests/metal_emu)",
                "architecture": "emulated-" + platform.machine(), "emulated": True,
                "max_threads_per_threadgroup": 1024, "threadgroup_memory_size": 32768,
                "simd_width": 32, "max_buffer_length": 1 << 40, "memory_size": 0,
                "max_recommended_working_set_size": 0, "resource_limit": 0}


# Lane order and seed of every emulated dispatch: tests set them (through set_lane_order)
# to show that results do not depend on the order threads run in.
lane_order = "forward"
seed = 0
# Tests of kernels with atomics turn this on: each atomic operation then ends its thread's
# phase, so other threads interleave between a thread's atomics (lost updates show).
interleave_atomics = False


def set_lane_order(order, s=0):
    global lane_order, seed
    lane_order, seed = order, s


def set_interleave_atomics(on):
    global interleave_atomics
    before, interleave_atomics = interleave_atomics, bool(on)
    return before
