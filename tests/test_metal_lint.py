"""Address-space lint of every .metal file (the repo's metal/ and the emulator's samples) with
clang's C++ for OpenCL 2021 mode, which sees the address spaces the emulator erases; and
negative cases that it must reject."""
import pathlib

import pytest

from metal_emu import lint

ROOT = pathlib.Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "metal").rglob("*.metal")) + sorted(
    (ROOT / "tests" / "metal_emu" / "samples").glob("*.metal"))

pytestmark = pytest.mark.skipif(
    lint.clang() is None,
    reason="clang not found: the address-space lint needs clang >= 14 (apt-get install clang; "
           ".ci/run installs it)")


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_lint_clean(path):
    problems = lint.lint_file(path)
    assert problems == [], "\n".join(problems)


def test_samples_found():
    assert any(p.name == "reduce.metal" for p in FILES)


HEAD = "#include <metal_stdlib>\nusing namespace metal;\n"


def lint_text(body, name):
    return lint.lint_file(text=HEAD + body, name=name)


def test_device_pointer_passed_as_threadgroup():
    problems = lint_text("""
void fill(threadgroup float* t, uint i) { t[i] = 0.0f; }
kernel void k(device float* x [[buffer(0)]], uint i [[thread_position_in_grid]]) {
  fill(x, i);
}""", "dev_as_tg")
    assert len(problems) == 1 and problems[0].startswith("dev_as_tg.metal:6:")
    assert "no matching function" in problems[0]


def test_threadgroup_array_assigned_to_device_pointer():
    problems = lint_text("""
kernel void k(device float* x [[buffer(0)]], uint i [[thread_position_in_grid]]) {
  threadgroup float t[32];
  device float* p = t;
  p[i] = x[i];
}""", "tg_as_dev")
    assert len(problems) == 1 and problems[0].startswith("tg_as_dev.metal:6:")


def test_write_through_constant():
    problems = lint_text("""
kernel void k(constant float* c [[buffer(0)]], uint i [[thread_position_in_grid]]) {
  c[i] = 1.0f;
}""", "write_constant")
    assert len(problems) == 1 and problems[0].startswith("write_constant.metal:5:")
    assert "not assignable" in problems[0]


def test_double_rejected():
    problems = lint_text("""
kernel void k(device float* x [[buffer(0)]], uint i [[thread_position_in_grid]]) {
  double y = x[i];
  x[i] = float(y * 2);
}""", "uses_double")
    assert problems and all("double" in p for p in problems)
    assert problems[0].startswith("uses_double.metal:5:")


def test_unqualified_pointer_parameter():
    problems = lint_text("""
kernel void k(float* x [[buffer(0)]], uint i [[thread_position_in_grid]]) { x[i] = 0.0f; }
""", "unqualified")
    assert len(problems) == 1 and "names no address space" in problems[0]
    assert problems[0].startswith("unqualified.metal:4")


def test_clean_text_passes():
    assert lint_text("""
void fill(threadgroup float* t, uint i) { t[i] = 0.0f; }
kernel void k(device float* x [[buffer(0)]], constant uint& n [[buffer(1)]],
              uint i [[thread_position_in_grid]], uint l [[thread_position_in_threadgroup]]) {
  threadgroup float t[32];
  fill(t, l);
  threadgroup_barrier(mem_flags::mem_threadgroup);
  if (i < n) x[i] = t[l] + 1.0h;
}""", "clean") == []
