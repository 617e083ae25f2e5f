"""Source pre-pass of the emulated Metal device: rewrites preprocessed MSL into C++17 that the
stand-in <metal_stdlib> compiles.

Input is the output of `g++ -E` over the .metal file (user macros expanded, comments gone, line
markers kept so that every diagnostic still names a .metal line). What no header can do:

* `threadgroup T name[N];` at kernel scope -> a reference into the per-group arena;
* `1.0h` half literals -> `((half)(1.0))`;
* `kernel` / `[[kernel]]` and the parameter attributes `[[buffer(n)]]`, `[[threadgroup(n)]]`,
  `[[thread_position_in_grid]]`... -> erased, recorded per kernel;
* explicit instantiations `template [[host_name("x")]] [[kernel]] ...;` -> recorded, removed;
* one `extern "C"` thunk per host name that calls the kernel with its bound arguments.

Every rewrite keeps the number of newlines, so line markers stay right.
"""
import re

from .errors import MetalError

# parameter attribute -> the shim's binding kind (see __emu::arg in the stand-in header)
BUILTINS = {
    "thread_position_in_grid": "K_TPIG",
    "thread_position_in_threadgroup": "K_TPITG",
    "threadgroup_position_in_grid": "K_TGPIG",
    "threads_per_threadgroup": "K_TPTG",
    "dispatch_threads_per_threadgroup": "K_DTPTG",
    "threadgroups_per_grid": "K_TGPG",
    "threads_per_grid": "K_TPG",
    "grid_size": "K_TPG",
    "thread_index_in_threadgroup": "K_TID",
    "thread_index_in_simdgroup": "K_LANE",
    "simdgroup_index_in_threadgroup": "K_SIMD",
    "threads_per_simdgroup": "K_SIMD_WIDTH",
    "thread_execution_width": "K_SIMD_WIDTH",
    "simdgroups_per_threadgroup": "K_SIMDS_PER_TG",
    "dispatch_simdgroups_per_threadgroup": "K_SIMDS_PER_TG",
}

# calls that make threads wait for each other: a file with none runs without fibers
COLLECTIVE_RE = re.compile(
    r"\b(?:threadgroup_barrier|simdgroup_barrier|simd_(?:sum|product|max|min|and|or|xor|"
    r"shuffle\w*|broadcast\w*|prefix_\w+|ballot|all|any|is_first|active_threads_mask))\s*\(")

_MARKER_RE = re.compile(r'^#\s*(\d+)\s+"((?:[^"\\]|\\.)*)"[^\n]*$', re.M)
_HALF_RE = re.compile(r"(?<![\w.])((?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)[hH](?!\w)")
_ATTR_RE = re.compile(r"\[\[(.*?)\]\]", re.S)


class Locator:
    """Maps an offset of the preprocessed text to (file, line) through its line markers."""

    def __init__(self, text):
        self.marks = []  # (offset of the line after the marker, file, line number of that line)
        for m in _MARKER_RE.finditer(text):
            self.marks.append((m.end() + 1, m.group(2), int(m.group(1))))
        self.text = text

    def __call__(self, offset):
        best = None
        for start, f, ln in self.marks:
            if start > offset:
                break
            best = (start, f, ln)
        if best is None:
            return "<source>", self.text.count("\n", 0, offset) + 1
        start, f, ln = best
        return f, ln + self.text.count("\n", start, offset)


def _blank(s):
    """Same newlines as s, nothing else (keeps line numbers)."""
    return "\n" * s.count("\n")


def _spaces(s):
    return re.sub(r"[^\n]", " ", s)


def _code_mask(text):
    """A copy of text with string/char literals and line markers replaced by spaces, so that
    regexes only see code (offsets are unchanged)."""
    out = list(text)
    i, n = 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start and c == "#":
            j = text.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = " "
            i = j
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            for k in range(i + 1, min(j, n)):
                if text[k] != "\n":
                    out[k] = " "
            i = j + 1
            at_line_start = False
            continue
        at_line_start = c == "\n" or (at_line_start and c in " \t")
        i += 1
    return "".join(out)


def _match_close(code, i, open_c, close_c):
    """Index of the bracket closing code[i] (== open_c)."""
    depth = 0
    for j in range(i, len(code)):
        if code[j] == open_c:
            depth += 1
        elif code[j] == close_c:
            depth -= 1
            if depth == 0:
                return j
    raise ValueError("unbalanced")


def _strip_brackets(decl):
    """decl with the contents of its [...] (array sizes, which may hold '*' or '(') removed:
    what is left tells a pointer or reference declaration from an array."""
    prev = None
    while prev != decl:
        prev, decl = decl, re.sub(r"\[[^\[\]]*\]", "", decl)
    return decl


def _split_top(s, sep=","):
    parts, depth, cur = [], 0, []
    for c in s:
        if c in "([{<":
            depth += 1
        elif c in ")]}>":
            depth -= 1
        if c == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    parts.append("".join(cur))
    return parts


def _host_name(s):
    """The string of a [[host_name("...")]] attribute (adjacent literals joined), or None."""
    m = re.search(r'host_name\s*\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\)', s)
    if not m:
        return None
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)))


class Kernel:
    def __init__(self, name, params, is_template, loc):
        self.name = name
        self.params = params  # [(kind, index, decl)]
        self.is_template = is_template
        self.loc = loc


def _parse_params(ptext, where):
    params = []
    if not ptext.strip() or ptext.strip() == "void":
        return params
    for p in _split_top(ptext):
        attrs = _ATTR_RE.findall(p)
        decl = _ATTR_RE.sub("", p).strip()
        kind = index = None
        for a in attrs:
            a = a.strip()
            m = re.fullmatch(r"(buffer|threadgroup)\s*\(\s*(\d+)\s*\)", a)
            if m:
                kind = "K_BUFFER" if m.group(1) == "buffer" else "K_TG"
                index = int(m.group(2))
            elif a in BUILTINS:
                kind, index = BUILTINS[a], 0
            else:
                raise MetalError(f"{where}: kernel parameter attribute [[{a}]] is not emulated")
        if kind is None:
            raise MetalError(f"{where}: kernel parameter {decl!r} has no [[buffer(n)]], "
                             "[[threadgroup(n)]] or built-in attribute")
        params.append((kind, index, " ".join(decl.split())))
    return params


def rewrite(text, lint=False):
    """Returns (C++ text, [(host_name, thunk_symbol, kernel_name, [(kind, index, decl)])],
    fibered). With lint=True, returns (C++-for-OpenCL text for the address-space lint,
    {kernel name: Kernel}): instantiations become functions that take the instance's address,
    threadgroup declarations become __local references, and no thunks are written."""
    loc = Locator(text)
    code = _code_mask(text)
    edits = []  # (start, end, replacement)

    def where(off):
        f, ln = loc(off)
        return f"{f}:{ln}"

    # explicit instantiations carrying [[host_name]]
    insts = []
    for m in re.finditer(r"\btemplate\s*\[\[", code):
        start = m.start()
        end = start
        depth = 0
        while end < len(code):
            c = code[end]
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            elif c == ";" and depth == 0:
                break
            end += 1
        stmt = text[start:end]
        host = _host_name(stmt)
        if host is None:
            continue
        body = _ATTR_RE.sub(" ", _code_mask(stmt))
        body = re.sub(r"^\s*template\b", "", body).strip()
        params_text = None
        if body.endswith(")"):
            depth = 0
            for j in range(len(body) - 1, -1, -1):
                if body[j] == ")":
                    depth += 1
                elif body[j] == "(":
                    depth -= 1
                    if depth == 0:
                        break
            params_text = body[j + 1:-1]
            body = body[:j].rstrip()
        # drop decltype(...) so that the declarator is what is left at the end
        while True:
            dm = re.search(r"\bdecltype\s*\(", body)
            if not dm:
                break
            close = _match_close(body, dm.end() - 1, "(", ")")
            body = body[:dm.start()] + body[close + 1:]
        body = body.rstrip()
        targs = ""
        if body.endswith(">"):
            depth = 0
            for j in range(len(body) - 1, -1, -1):
                if body[j] == ">":
                    depth += 1
                elif body[j] == "<":
                    depth -= 1
                    if depth == 0:
                        break
            targs = body[j:]
            body = body[:j].rstrip()
        nm = re.search(r"([A-Za-z_]\w*(?:\s*::\s*[A-Za-z_]\w*)*)$", body)
        if not nm:
            raise MetalError(f"{where(start)}: cannot read the instantiated kernel's name")
        insts.append((host, re.sub(r"\s+", "", nm.group(1)), " ".join(targs.split()),
                      params_text, start))
        if lint:
            qual = re.sub(r"\s+", "", nm.group(1))
            if targs:
                take = f"&{qual}{targs}"
            elif params_text is not None:
                types = [re.sub(r"\b[A-Za-z_]\w*\s*$", "", " ".join(p.split())).strip()
                         for p in _split_top(params_text)]
                take = f"static_cast<void (*)({', '.join(types)})>(&{qual})"
            else:
                take = f"&{qual}"
            rep = f"void __lint_inst{len(insts)}() {{ (void){take}; }}"
            edits.append((start, end + 1, rep + _blank(text[start:end + 1])))
        else:
            edits.append((start, end + 1, _blank(text[start:end + 1])))

    inst_spans = [(s, e) for s, e, _ in edits]

    def in_inst(off):
        return any(s <= off < e for s, e in inst_spans)

    # kernel definitions / declarations
    kernels = {}
    for m in re.finditer(r"(\bkernel\b|\[\[\s*kernel\s*\]\])(\s*(?:\[\[.*?\]\]\s*)*)\s*void\s+"
                         r"([A-Za-z_]\w*)\s*\(", code, re.S):
        if in_inst(m.start()):
            continue
        name = m.group(3)
        popen = m.end() - 1
        pclose = _match_close(code, popen, "(", ")")
        w = where(m.start())
        params = _parse_params(code[popen + 1:pclose], f"{w}: kernel {name}")
        before = code[max(0, m.start() - 2000):m.start()]
        is_template = re.search(r"template\s*<[^;{}]*>\s*(?:\[\[.*?\]\]\s*)*$", before, re.S) is not None
        own_host = _host_name(m.group(2))
        edits.append((m.start(1), m.end(1), _spaces(text[m.start(1):m.end(1)])))
        edits.append((m.start(2), m.end(2), _spaces(text[m.start(2):m.end(2)])))
        for am in _ATTR_RE.finditer(code, popen, pclose):
            edits.append((am.start(), am.end(), _spaces(text[am.start():am.end()])))
        k = kernels.get(name)
        if k is None or (k.is_template and not params):
            kernels[name] = Kernel(name, params, is_template, w)
            kernels[name].offset = m.start()
        if own_host and not is_template:
            kernels[name].host = own_host

    # threadgroup declarations at statement start -> arena references
    ntg = 0
    for m in re.finditer(r"\bthreadgroup\b", code):
        j = m.start() - 1
        while j >= 0 and code[j] in " \t\n":
            j -= 1
        decl_start = m.start()
        if j >= 0 and code[j] not in ";{}":
            if code[j] in "(,<":
                continue  # a parameter or a template argument: the keyword is erased
            # something else precedes: only alignas(...) / [[...]] may (then it is dropped:
            # arena declarations are 16-byte aligned at least)
            k = max(code.rfind(";", 0, m.start()), code.rfind("{", 0, m.start()),
                    code.rfind("}", 0, m.start()))
            lead = code[k + 1:m.start()]
            if not re.fullmatch(r"\s*(?:(?:alignas\s*\([^()]*\)|\[\[.*?\]\])\s*)+", lead, re.S):
                continue
            decl_start = k + 1
        end = m.end()
        depth = 0
        while end < len(code) and not (code[end] == ";" and depth == 0):
            if code[end] in "({":
                if depth == 0 and code[end] == "{":
                    break
                depth += 1
            elif code[end] in ")}":
                depth -= 1
            end += 1
        if end >= len(code) or code[end] != ";":
            head = code[m.end():end]
            if "=" in head and not re.search(r"[*&(]", head):
                raise MetalError(f"{where(m.start())}: a threadgroup variable cannot have an "
                                 "initializer (MSL; METAL.md rule 2)")
            continue
        decl = code[m.end():end]
        if re.search(r"[*&(]", _strip_brackets(decl)):
            continue  # a pointer or reference: the keyword is simply erased by the header
        if "=" in decl:
            raise MetalError(f"{where(m.start())}: a threadgroup variable cannot have an "
                             "initializer (MSL; METAL.md rule 2)")
        if len(_split_top(decl)) > 1:
            raise MetalError(f"{where(m.start())}: one threadgroup declaration per statement "
                             "(METAL.md rule 2)")
        dm = re.fullmatch(r"\s*(.*?)\s*\b([A-Za-z_]\w*)\s*((?:\[[^\]]*\]\s*)*)", decl, re.S)
        if not dm or not dm.group(1).strip():
            raise MetalError(f"{where(m.start())}: cannot read threadgroup declaration {decl.strip()!r}")
        ttype, tname, dims = " ".join(dm.group(1).split()), dm.group(2), " ".join(dm.group(3).split())
        ntg += 1
        t = f"__emu_tg_t{ntg}"
        if lint:
            rep = f"typedef {ttype} {t}{dims}; __local {t} &{tname} = *(__local {t} *)__lint_local()"
        else:
            rep = (f"typedef {ttype} {t}{dims}; {t} &{tname} = *reinterpret_cast<{t} *>("
                   f"emu_tg_alloc(sizeof({t}), alignof({t}) > 16 ? alignof({t}) : 16, __LINE__, "
                   f"__FILE__))")
        edits.append((decl_start, end, rep + _blank(text[decl_start:end])))

    # half literals
    for m in _HALF_RE.finditer(code):
        edits.append((m.start(), m.end(), f"((half)({m.group(1)}))"))

    edits.sort()
    out, pos = [], 0
    for s, e, r in edits:
        if s < pos:
            continue  # nested in an earlier edit (e.g. a literal inside a removed instantiation)
        out.append(text[pos:s])
        out.append(r)
        pos = e
    out.append(text[pos:])
    body = "".join(out)

    if lint:
        return body, kernels
    fibered = COLLECTIVE_RE.search(code) is not None

    # one thunk per host name
    entries, thunks, seen = [], [], {}

    def add(host, kname, targs, params_text, off):
        k = kernels.get(kname.split("::")[-1])
        w = where(off)
        if k is None:
            raise MetalError(f"{w}: host_name {host!r} instantiates {kname}, which is not a "
                             "kernel defined in this file")
        if host in seen:
            raise MetalError(f"{w}: host_name {host!r} is defined twice (first at {seen[host]})")
        seen[host] = w
        sym = f"__emu_k{len(entries)}"
        if "::" not in kname:
            kname = "::" + kname  # not metal::divide & co, which `using namespace metal` brings in
        if targs or not k.is_template:
            fexpr = f"{kname}{targs}"
            ftype = f"decltype(&{fexpr})"
        else:
            if params_text is None:
                raise MetalError(f"{w}: instantiation {host!r} names neither template arguments "
                                 "nor parameters")
            types = []
            for p in _split_top(_ATTR_RE.sub(" ", params_text)):
                p = " ".join(p.split())
                types.append(re.sub(r"\b[A-Za-z_]\w*\s*$", "", p).strip())
            ftype = f"void (*)({', '.join(types)})"
            fexpr = f"static_cast<{ftype}>(&{kname})"
        args = ", ".join(f"__emu::arg<__emu::sig<__F>::arg<{i}>, __emu::{kind}, {idx}>()"
                         for i, (kind, idx, _) in enumerate(k.params))
        f, ln = loc(off)
        thunks.append(f'#line {ln} "{f}"\nextern "C" void {sym}(void) {{ typedef {ftype} __F; '
                      f'({fexpr})({args}); }}\n')
        entries.append((host, sym, k.name, k.params))

    instantiated = set()
    for host, kname, targs, params_text, off in insts:
        add(host, kname, targs, params_text, off)
        instantiated.add(kname.split("::")[-1])
    for k in kernels.values():
        if not k.is_template and k.name not in instantiated:
            add(getattr(k, "host", k.name), k.name, "", None, k.offset)
    return body + "\n" + "".join(thunks), entries, fibered
