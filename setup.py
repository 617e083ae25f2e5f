"""Build: cythonize mlxc/_core/*.pyx and link every kernels/*.c into each extension.

MLXC_DEBUG=1 builds with bounds checks on and -O0 -g (run the suite once under it).
MLXC_SANITIZE=1 adds AddressSanitizer/UndefinedBehaviorSanitizer (gcc/clang; load the
runtime with LD_PRELOAD, see tests/test_debug_builds.py).
No -march flags: SIMD levels are chosen at run time by the kernels.
"""
import glob
import os
import sys
from concurrent.futures import ThreadPoolExecutor

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_clib import build_clib
from setuptools.command.build_ext import build_ext
try:
    from setuptools.modified import newer_group
except ImportError:                      # setuptools < 69
    from setuptools._distutils.dep_util import newer_group


class build_clib_parallel(build_clib):
    """The kernel library: only objects older than their source or a kernel header are
    recompiled, one per CPU at a time (build_clib alone recompiles every source, one by
    one, when anything changed)."""

    def build_libraries(self, libraries):
        compile_all = self.compiler.compile

        def compile_stale(sources, output_dir=None, **kw):
            objects = self.compiler.object_filenames(sources, output_dir=output_dir)
            stale = [src for src, obj in zip(sources, objects)
                     if self.force or newer_group([src] + kernel_headers, obj, "newer")]
            with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
                for _ in pool.map(lambda src: compile_all([src], output_dir=output_dir, **kw),
                                  stale):
                    pass
            return objects

        self.compiler.compile = compile_stale
        try:
            super().build_libraries(libraries)
        finally:
            self.compiler.compile = compile_all


class build_ext_with_kernels(build_ext):
    """Build the kernel library first, so `build_ext --inplace` works on its own too.

    An extension is rebuilt when its source or any kernel file changed (it links the
    kernel library statically), but its object is recompiled only when the object is
    older than its source or than the headers the Cython code includes: a kernel change
    relinks every extension instead of recompiling all the generated C."""

    def run(self):
        self.run_command("build_clib")
        super().run()

    def build_extensions(self):
        compile_all = self.compiler.compile

        def compile_stale(sources, output_dir=None, **kw):
            objects = self.compiler.object_filenames(sources, output_dir=output_dir)
            stale = [src for src, obj in zip(sources, objects)
                     if self.force or newer_group([src] + api_headers, obj, "newer")]
            if stale:
                compile_all(stale, output_dir=output_dir, **kw)
            return objects

        self.compiler.compile = compile_stale     # once, before any parallel builds
        # An extension reaches the link only when it is out of date (a source or a kernel
        # file changed), so link it: the objects alone may be older than the .so when
        # only the kernel library changed.
        self.compiler._need_link = lambda objects, output_file: True
        super().build_extensions()

DEBUG = os.environ.get("MLXC_DEBUG", "0") not in ("", "0")

if sys.platform == "win32":
    cflags = ["/O2"] if not DEBUG else ["/Od", "/Zi"]
else:
    cflags = ["-O0", "-g"] if DEBUG else ["-O3"]
    cflags += ["-fno-math-errno", "-Wno-unused-function", "-Wno-unreachable-code"]
SANITIZE = os.environ.get("MLXC_SANITIZE", "0") not in ("", "0")
sanitize_flags = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"] if SANITIZE else []
if SANITIZE and not DEBUG:
    cflags = ["-O1" if f == "-O3" else f for f in cflags]   # ASan's usual level; quicker builds
cflags += sanitize_flags

# The kernels are compiled once into a static library that every extension links.
kernel_sources = sorted(glob.glob("kernels/*.c"))
# Every header the kernels include (ABI, internal macros, per-ISA implementation
# headers): a change to any of them rebuilds the kernels and relinks the extensions.
kernel_headers = sorted(glob.glob("kernels/*.h") + glob.glob("kernels/include/*.h"))
kernel_cflags = cflags + (["-std=c11"] if sys.platform != "win32" else [])
# The headers the extensions' own C includes (the Cython modules and kernels/lapack/*.c).
api_headers = sorted(glob.glob("kernels/include/*.h") + glob.glob("kernels/lapack/*.h"))



def openblas_settings():
    """Compile/link settings for the scipy-openblas32 wheel's LAPACK, from its own helpers.

    Its symbols carry a prefix (and possibly a suffix) that the wheel states in the Cflags
    of its pkg-config text.  At run time mlxc loads the library through the same wheel
    (mlxc/_core/openblas.py) before the extension, so the link needs no fixed path; the
    $ORIGIN rpath also finds it beside mlxc in site-packages.
    """
    import re
    import scipy_openblas32 as ob
    cflags = re.search(r"^Cflags:(.*)$", ob.get_pkg_config(), re.M).group(1)
    macros = dict(re.findall(r"-D(BLAS_SYMBOL_(?:PREFIX|SUFFIX))=(\S*)", cflags))
    rpath = [] if sys.platform == "win32" else ["$ORIGIN/../../../scipy_openblas32/lib"]
    return dict(
        include_dirs=["kernels/lapack", ob.get_include_dir()],
        define_macros=list(macros.items()),
        library_dirs=[ob.get_lib_dir()],
        libraries=[ob.get_library()],
        runtime_library_dirs=rpath,
        sources=sorted(glob.glob("kernels/lapack/*.c")),
        depends=sorted(glob.glob("kernels/lapack/*.h")),
    )


# Extensions that call LAPACK (only these link OpenBLAS).
LAPACK_EXTENSIONS = {"mlxc._core.prims.lapack"}


def extension(path):
    name = os.path.splitext(path)[0].replace(os.sep, ".")
    kw = dict(
        include_dirs=["kernels/include"],
        extra_compile_args=cflags,
        extra_link_args=sanitize_flags,
        libraries=[] if sys.platform == "win32" else ["m", "pthread"],  # kernels' thread pool
        # Relink when a kernel changes: the kernel library is linked statically.
        depends=kernel_sources + kernel_headers,
    )
    sources = [path]
    if name in LAPACK_EXTENSIONS:
        ob = openblas_settings()
        sources += ob.pop("sources")
        for key, val in ob.items():
            kw[key] = kw.get(key, []) + val
    return Extension(name, sources, **kw)


directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": True,   # negative indexing of tuples must keep working
    "initializedcheck": DEBUG,
    "cdivision": True,
    "embedsignature": True,
}

extensions = [
    extension(p)
    for p in sorted(glob.glob(os.path.join("mlxc", "_core", "**", "*.pyx"), recursive=True))
]

setup(
    cmdclass={"build_ext": build_ext_with_kernels, "build_clib": build_clib_parallel},
    libraries=[("mlxc_kernels", {
        "sources": kernel_sources,
        "include_dirs": ["kernels/include"],
        "cflags": kernel_cflags,
        "obj_deps": {"": kernel_headers},   # "": dependencies of every source
    })],
    ext_modules=cythonize(
        extensions,
        compiler_directives=directives,
        nthreads=os.cpu_count() or 1,
        quiet=True,
    ),
)
