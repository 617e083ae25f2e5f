"""Address-space lint of MSL files: clang's C++ for OpenCL 2021 mode type-checks the address
spaces the emulator erases (device -> __global, constant -> __constant, threadgroup -> __local,
thread -> __private) and rejects double. Kernel parameters are checked here: a pointer or
reference parameter must name its address space.

    problems = lint_file("metal/unary.metal")   # [] when clean; else "file:line: error: ..."
"""
import os
import re
import shutil
import subprocess
import tempfile

from . import _preprocess, prepass
from .errors import MetalError

_PRELUDE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lint_include")
FLAGS = ["-x", "clcpp", "-cl-std=clc++2021", "-fsyntax-only", "-cl-no-stdinc",
         "-Xclang", "-cl-ext=-cl_khr_fp64,-__opencl_c_fp64", "-Wno-unknown-attributes",
         "-ferror-limit=50", "-fno-color-diagnostics"]
_SPACES = re.compile(r"\b(device|constant|threadgroup|thread)\b")


def clang():
    """Path of a clang that has C++ for OpenCL 2021 (clang >= 14), or None."""
    names = [os.environ.get("METAL_EMU_CLANG"), "clang"] + [f"clang-{v}" for v in range(20, 13, -1)]
    for n in names:
        if n and shutil.which(n):
            return shutil.which(n)
    return None


def lint_file(path=None, *, text=None, name=None):
    """Lint a .metal file (or MSL `text` named `name`); returns a list of problems, each
    "file:line: ..."."""
    cl = clang()
    if cl is None:
        raise MetalError("metal_emu.lint: clang not found (apt-get install clang)")
    tmpdir = tempfile.mkdtemp(prefix="metal-lint-")
    try:
        if text is not None:
            display = name or "<text>.metal"
            if not display.endswith(".metal"):
                display += ".metal"
            path = os.path.join(tmpdir, os.path.basename(display))
            with open(path, "w") as f:
                f.write(text)
        else:
            path = str(path)
            display = path
        pre = _preprocess(path, display)
        problems = []
        try:
            body, kernels = prepass.rewrite(pre, lint=True)
        except MetalError as e:
            return [str(e)]
        for k in kernels.values():
            for kind, idx, decl in k.params:
                if ("*" in decl or "&" in decl) and not _SPACES.search(decl):
                    problems.append(f"{k.loc}: error: kernel {k.name}: pointer/reference parameter "
                                    f"`{decl}` names no address space (device, constant, "
                                    "threadgroup)")
        src = os.path.join(tmpdir, "lint.clcpp")
        with open(src, "w") as f:
            f.write(body)
        r = subprocess.run([cl] + FLAGS + ["-I", _PRELUDE_DIR, "-include", "metal_lint.h", src],
                           capture_output=True, text=True)
        for line in (r.stderr + r.stdout).splitlines():
            if ": error:" in line or ": fatal error:" in line:
                problems.append(line.strip())
        if r.returncode != 0 and not problems:
            problems.append(f"{display}: clang failed: {r.stderr.strip()[:500]}")
        return problems
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
