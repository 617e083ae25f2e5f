"""One kernel library in the process: the C kernels are one shared library inside the
package (mlxc/_core/lib/libmlxc_kernels.so) that every extension module links, so whichever
module runs a kernel, the process has one copy of the kernels, one thread pool and one
copy of their state.  (Each extension used to link its own static copy: running kernels
from 7 modules started 7 pools.)"""
import json
import os
import shutil
import subprocess
import sys
import sysconfig

import pytest

import mlxc
from helpers import CHILD_CWD, child_env

pytestmark = [
    pytest.mark.mlxc_only,
    pytest.mark.skipif(not sys.platform.startswith("linux"),
                       reason="reads /proc/self and ELF files"),
]

PKG = os.path.dirname(os.path.abspath(mlxc.__file__))

# Kernels reached from different extension modules (elementwise, matmul, reduce, fft,
# sort, fast, conv, random, the fused programs of mx.compile), each large enough to
# run on the pool; then the pool as every loaded extension module sees it.
_CHILD = r"""
import ctypes, json, os, sys
import mlxc.core as mx
from mlxc._core.cpu import _pool_workers

def threads():
    return len(os.listdir("/proc/self/task"))

before = threads()
a = mx.random.normal((1024, 1024))
x = mx.random.normal((2, 64, 64, 32))
w = mx.random.normal((32, 3, 3, 32))
gelu = mx.compile(lambda t: 0.5 * t * (1 + mx.erf(t * 0.7071067811865476)))
for r in (a + a, a @ a, mx.sum(a, axis=1), mx.fft.fft(a), mx.sort(a, axis=1),
          mx.fast.layer_norm(a, None, None, 1e-5), mx.conv2d(x, w), gelu(a)):
    mx.eval(r)
after = threads()

# The pool functions as each extension module's own symbol lookup finds them (the
# module first, then what it links): one address, inside the one kernel library.  A
# module that calls no kernel does not link the library (the linker drops it), and
# then has no such symbol at all.
exts = sorted(m.__file__ for m in list(sys.modules.values())
              if getattr(m, "__file__", None) and m.__name__.startswith("mlxc.")
              and m.__file__.endswith(".so"))
addr, workers = {}, {}
for f in exts:
    try:
        fn = ctypes.CDLL(f).mlxc_pool_workers
    except AttributeError:
        continue
    fn.restype = ctypes.c_int
    addr[f] = ctypes.cast(fn, ctypes.c_void_p).value
    workers[f] = fn()
maps = []
for line in open("/proc/self/maps"):
    p = line.split()
    if "mlxc_kernels" in line and len(p) >= 6:
        lo, hi = (int(v, 16) for v in p[0].split("-"))
        maps.append((p[5], lo, hi))
print(json.dumps({"before": before, "after": after, "workers": _pool_workers(),
                  "num_threads": mx.cpu_info()["num_threads"], "exts": exts,
                  "addr": addr, "ext_workers": workers, "maps": maps}))
"""


@pytest.fixture(scope="module")
def child():
    r = subprocess.run([sys.executable, "-c", _CHILD], env=child_env(MLXC_NUM_THREADS="4"),
                       cwd=CHILD_CWD, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout)


def test_one_pool_whichever_module_runs_kernels(child):
    assert child["num_threads"] == 4
    # the caller is one of the 4 threads: 3 workers, started once for every module
    assert child["workers"] == 3
    assert child["after"] - child["before"] == 3, child


def test_every_extension_reaches_the_same_kernels(child):
    assert len(child["addr"]) >= 10          # the modules the kernels above went through
    addrs = set(child["addr"].values())
    assert len(addrs) == 1, child["addr"]
    # every module's lookup calls the same pool: its workers, not a fresh copy's 0
    assert set(child["ext_workers"].values()) == {3}
    files = {m[0] for m in child["maps"]}
    assert len(files) == 1, files
    (lib,) = files
    assert os.path.dirname(lib) == os.path.join(PKG, "_core", "lib")
    (a,) = addrs
    assert any(lo <= a < hi for _, lo, hi in child["maps"])


def _dynamic(path):
    """(NEEDED libraries, RUNPATH/RPATH entries) of an ELF file, from readelf."""
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True,
                         check=True).stdout
    needed, paths = [], []
    for line in out.splitlines():
        if "(NEEDED)" in line:
            needed.append(line.split("[", 1)[1].rstrip("]"))
        elif "(RUNPATH)" in line or "(RPATH)" in line:
            paths += line.split("[", 1)[1].rstrip("]").split(":")
    return needed, paths


@pytest.mark.skipif(shutil.which("readelf") is None, reason="needs readelf (binutils)")
def test_extensions_find_the_library_relative_to_themselves():
    """No path of the build machine in any binary, so the installed package can move:
    each extension finds the library through $ORIGIN.  (The only absolute entries
    allowed are the ones Python's own link command adds to every extension.)"""
    python_rpaths = {a.split(",", 2)[2] for a in (sysconfig.get_config_var("LDSHARED") or "")
                     .split() if a.startswith("-Wl,-rpath,")}
    lib = os.path.join(PKG, "_core", "lib", "libmlxc_kernels.so")
    exts = [os.path.join(d, f) for d, _, fs in os.walk(PKG) for f in fs
            if f.endswith(".so") and f != "libmlxc_kernels.so"]
    linked = 0
    for f in exts:
        needed, paths = _dynamic(f)
        assert set(paths) - {p for p in paths if p.startswith("$ORIGIN")} <= python_rpaths, \
            (f, paths)
        if "libmlxc_kernels.so" not in needed:       # calls no kernel
            continue
        linked += 1
        rel = [p for p in paths if p.startswith("$ORIGIN")]
        assert any(os.path.isfile(os.path.join(os.path.dirname(f), p[len("$ORIGIN"):].lstrip("/"),
                                               "libmlxc_kernels.so")) for p in rel), (f, paths)
    assert linked >= 10
    needed, paths = _dynamic(lib)
    assert set(paths) <= python_rpaths, paths
