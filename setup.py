"""Build: kernels/*.c into one shared library, mlxc/_core/lib/libmlxc_kernels.so, and
mlxc/_core/**/*.pyx cythonized into extensions that link it (see build_ext_with_kernels).

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
from setuptools.command.build_ext import build_ext
try:
    from setuptools.modified import newer_group
except ImportError:                      # setuptools < 69
    from setuptools._distutils.dep_util import newer_group


def compile_stale(compiler, compile_all, sources, newer_than, force, parallel,
                  output_dir=None, **kw):
    """Compile only the sources whose object is older than the source or one of
    `newer_than`, `parallel` at a time; return every object (stale or not)."""
    objects = compiler.object_filenames(sources, output_dir=output_dir)
    stale = [src for src, obj in zip(sources, objects)
             if force or newer_group([src] + newer_than, obj, "newer")]
    if parallel == 1:
        if stale:
            compile_all(stale, output_dir=output_dir, **kw)
        return objects
    with ThreadPoolExecutor(parallel) as pool:
        for _ in pool.map(lambda src: compile_all([src], output_dir=output_dir, **kw), stale):
            pass
    return objects


class build_ext_with_kernels(build_ext):
    """Build the kernel library first, then the extensions that link it.

    The kernels are one shared library inside the package (mlxc/_core/lib/libmlxc_kernels.so,
    .dylib on macOS) that every extension links with a relative rpath ($ORIGIN /
    @loader_path), so the process holds one copy of the kernels, one thread pool and one
    copy of their state (SIMD level, FFT plans) while calls stay direct.  Kernel objects
    are recompiled only when older than their source or a kernel header, one per CPU at a
    time; the library is relinked when an object is newer than it.  A kernel change
    relinks no extension: only the ABI headers (api_headers) and setup.py (link flags)
    make extensions out of date, and an out-of-date extension's object is recompiled only
    when older than its source or an ABI header (otherwise just relinked).
    On Windows (no exported-symbol list kept for a DLL) the kernel objects are linked
    into each extension instead, as a static library would be."""

    def finalize_options(self):
        super().finalize_options()
        # pip passes no -j: build the extensions side by side, one per CPU, unless told
        # otherwise (the wheel build was one extension at a time)
        if self.parallel is None:
            self.parallel = os.cpu_count() or 1

    def build_extensions(self):
        compile_all = self.compiler.compile
        self.link_kernels(self.compile_kernels(compile_all))

        def compile_ext(sources, output_dir=None, **kw):
            return compile_stale(self.compiler, compile_all, sources, api_headers,
                                 self.force, 1, output_dir=output_dir, **kw)

        self.compiler.compile = compile_ext     # once, before any parallel builds
        # An extension reaches the link only when it is out of date, so link it: its
        # objects alone may be older than the .so when only setup.py changed.
        self.compiler._need_link = lambda objects, output_file: True
        try:
            super().build_extensions()
        finally:
            self.compiler.compile = compile_all

    def compile_kernels(self, compile_all):
        return compile_stale(self.compiler, compile_all, kernel_sources, kernel_headers,
                             self.force, os.cpu_count() or 1, output_dir=self.build_temp,
                             include_dirs=["kernels/include"], extra_postargs=kernel_cflags,
                             debug=self.debug)

    def kernel_lib(self):
        """The library's path in build_lib (setuptools builds there even for --inplace,
        then copies into the source tree) and in the source tree."""
        name = self.compiler.library_filename(KERNEL_LIB, lib_type="shared")
        package_dir = self.get_finalized_command("build_py").get_package_dir(KERNEL_PACKAGE)
        return (os.path.join(self.build_lib, *KERNEL_PACKAGE.split("."), KERNEL_DIR, name),
                os.path.join(package_dir, KERNEL_DIR, name))

    def copy_extensions_to_source(self):
        super().copy_extensions_to_source()
        if sys.platform != "win32":
            self.mkpath(os.path.dirname(self.kernel_lib()[1]))
            self.copy_file(*self.kernel_lib(), level=self.verbose)

    def _get_output_mapping(self):                  # editable installs copy these
        yield from super()._get_output_mapping()
        if self.inplace and sys.platform != "win32":
            yield self.kernel_lib()

    def get_outputs(self):
        outputs = super().get_outputs()
        if not self.inplace and sys.platform != "win32":
            outputs.append(self.kernel_lib()[0])
        return outputs

    def link_kernels(self, objects):
        if sys.platform == "win32":
            for ext in self.extensions:
                ext.extra_objects = list(objects) + list(ext.extra_objects or [])
            return
        lib = self.kernel_lib()[0]
        lib_dir = os.path.dirname(lib)
        if self.force or newer_group(objects, lib, "newer"):
            os.makedirs(lib_dir, exist_ok=True)
            linker_so = self.compiler.linker_so
            if sys.platform == "darwin":       # LDSHARED makes a bundle; a linkable library
                self.compiler.linker_so = ["-dynamiclib" if a == "-bundle" else a
                                           for a in linker_so]
            try:
                self.compiler.link_shared_object(
                    objects, lib, libraries=["m", "pthread"],
                    extra_postargs=sanitize_flags + kernel_lib_link_args())
            finally:
                self.compiler.linker_so = linker_so
        for ext in self.extensions:
            ext_dir = os.path.dirname(ext.name.replace(".", "/"))
            rel = os.path.relpath(os.path.join(KERNEL_PACKAGE.replace(".", "/"), KERNEL_DIR),
                                  ext_dir)
            ext.library_dirs = [lib_dir] + list(ext.library_dirs or [])
            ext.libraries = [KERNEL_LIB] + list(ext.libraries or [])
            ext.extra_link_args = list(ext.extra_link_args or []) + rpath_args(rel)


DEBUG = os.environ.get("MLXC_DEBUG", "0") not in ("", "0")

if sys.platform == "win32":
    cflags = ["/O2"] if not DEBUG else ["/Od", "/Zi"]
else:
    cflags = ["-O0", "-g"] if DEBUG else ["-O3"]
    cflags += ["-fno-math-errno", "-Wno-unused-function", "-Wno-unreachable-code"]
SANITIZE = os.environ.get("MLXC_SANITIZE", "0") not in ("", "0")
sanitize_flags = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"] if SANITIZE else []
if SANITIZE and not DEBUG:
    # ASan's usual level.  With MLXC_DEBUG=1 the build stays at -O0: under ASan/UBSan
    # gcc compiles the large Cython modules about 7x faster at -O0 than at -O1, far
    # more than the subset run loses (the CI build is both)
    cflags = ["-O1" if f == "-O3" else f for f in cflags]
cflags += sanitize_flags

# The kernels: compiled once into the shared library every extension links.
kernel_sources = sorted(glob.glob("kernels/*.c"))
# Every header the kernels include (ABI, internal macros, per-ISA implementation
# headers): a change to any of them recompiles every kernel.
kernel_headers = sorted(glob.glob("kernels/*.h") + glob.glob("kernels/include/*.h"))
kernel_cflags = cflags + (["-std=c11"] if sys.platform != "win32" else [])
# The headers the extensions' own C includes (the Cython modules and kernels/lapack/*.c):
# a change recompiles the extensions.
api_headers = sorted(glob.glob("kernels/include/*.h") + glob.glob("kernels/lapack/*.h"))

# The kernel library: its name and the package it lives in (see build_ext_with_kernels).
KERNEL_LIB = "mlxc_kernels"
KERNEL_PACKAGE = "mlxc._core"
# ... in a plain directory of that package: beside the extension modules, a file named
# lib*.so would look like an importable module to pkgutil/importlib.
KERNEL_DIR = "lib"


def kernel_lib_link_args():
    """-Bsymbolic: the library's calls to its own functions (mlxc_parallel_for, the vector
    math, ...) bind inside it at link time, direct calls instead of PLT stubs, and no
    other library's symbol of the same name can replace them."""
    if sys.platform == "darwin":
        return ["-install_name", "@rpath/" + "lib%s.dylib" % KERNEL_LIB]
    return ["-Wl,-soname,lib%s.so" % KERNEL_LIB, "-Wl,-Bsymbolic"]


def rpath_args(rel):
    """Find the kernel library relative to the extension itself, so the installed
    package works wherever it is moved (no absolute path in any binary)."""
    origin = "@loader_path" if sys.platform == "darwin" else "$ORIGIN"
    return ["-Wl,-rpath," + (origin if rel == "." else origin + "/" + rel)]



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
        libraries=[] if sys.platform == "win32" else ["m", "pthread"],
        # Out of date when the kernel ABI or the link flags change, not when a kernel
        # does: the kernels are a shared library (on Windows, linked in: every kernel).
        depends=api_headers + ["setup.py"]
        + (kernel_sources + kernel_headers if sys.platform == "win32" else []),
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
    cmdclass={"build_ext": build_ext_with_kernels},
    ext_modules=cythonize(
        extensions,
        compiler_directives=directives,
        nthreads=os.cpu_count() or 1,
        quiet=True,
    ),
)
