"""The C that ``crypto/testmgr.h`` and ``testmgr.c`` are written in, read
far enough to take their tables: the preprocessor's conditionals and
macros, string and integer literals, and brace initialisers (designated
fields and file-scope byte arrays).  What is understood, and no more, is
listed in :mod:`iovcrypto.tools.conformance.testmgr`; anything else is a
:class:`TestmgrError` naming what could not be read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kmem import errno as E

__all__ = ["DEFAULT_DEFINES", "TestmgrError", "brace_items", "byte_arrays", "c_tokens",
           "designated_init", "parse_c_string", "preprocess"]

DEFAULT_DEFINES = {"__LITTLE_ENDIAN": 1234, "CONFIG_CRYPTO_SELFTESTS": 1}


class TestmgrError(ValueError):
    """The file is not what a testmgr.h/testmgr.c of some kernel looks like."""

    __test__ = False     # a pytest collection hint: not a test class


# Translation phases 2 and 3: line splices, comments.

def _strip_comments(text: str) -> str:
    text = text.replace("\\\r\n", "").replace("\\\n", "")
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise TestmgrError("unterminated comment")
            out.append(" " + "\n" * text.count("\n", i, j))
            i = j + 2
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        else:
            j = i
            while j < n and text[j] not in "\"'/":
                j += 1
            if j == i:
                j += 1
            out.append(text[i:j])
            i = j
    return "".join(out)


# Phase 4, the part that matters here: conditionals and object-like defines.

_PP_TOKEN = re.compile(r"\s*(defined\b|IS_ENABLED\b|\d+[uUlL]*|0[xX][0-9a-fA-F]+[uUlL]*|"
                       r"[A-Za-z_]\w*|&&|\|\||==|!=|<=|>=|[!()<>+\-*/])")


def _pp_eval(expr: str, defines: dict[str, object]) -> bool:
    toks: list[str] = []
    pos = 0
    expr = expr.strip()
    while pos < len(expr):
        m = _PP_TOKEN.match(expr, pos)
        if not m:
            raise TestmgrError(f"cannot evaluate #if {expr!r}")
        toks.append(m.group(1))
        pos = m.end()
    # defined X / defined(X) / IS_ENABLED(X) first, then names to values.
    out: list[str] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t in ("defined", "IS_ENABLED"):
            if i + 1 < len(toks) and toks[i + 1] == "(":
                name, i = toks[i + 2], i + 4
            else:
                name, i = toks[i + 1], i + 2
            out.append("1" if name in defines else "0")
            continue
        if re.fullmatch(r"[A-Za-z_]\w*", t):
            v = defines.get(t, 0)
            out.append(str(v) if isinstance(v, int) else "1")
        else:
            out.append(t.rstrip("uUlL") if t[0].isdigit() else t)
        i += 1
    py = " ".join(out).replace("&&", " and ").replace("||", " or ")
    py = re.sub(r"!(?!=)", " not ", py).replace("/", "//")
    py = re.sub(r"\b0[xX]([0-9a-fA-F]+)", lambda m: str(int(m.group(1), 16)), py)
    try:
        return bool(eval(py, {"__builtins__": {}}, {}))
    except Exception as e:
        raise TestmgrError(f"cannot evaluate #if {expr!r}") from e


def preprocess(text: str, defines: dict[str, object] | None = None) -> tuple[str, dict]:
    """Comments out, conditionals resolved; returns (text, defines), the
    dropped lines kept as empty lines so line numbers still match."""
    defs: dict[str, object] = dict(DEFAULT_DEFINES if defines is None else defines)
    # stack of (this branch active, some branch already taken, parent active)
    stack: list[tuple[bool, bool, bool]] = []
    active = True
    out: list[str] = []
    for lineno, line in enumerate(_strip_comments(text).split("\n"), 1):
        s = line.strip()
        if not s.startswith("#"):
            out.append(line if active else "")
            continue
        out.append("")
        m = re.match(r"#\s*(\w+)\s*(.*)", s)
        if not m:
            continue
        d, rest = m.group(1), m.group(2).strip()
        try:
            if d in ("if", "ifdef", "ifndef"):
                if d == "if":
                    cond = active and _pp_eval(rest, defs)
                else:
                    cond = active and ((rest.split()[0] in defs) == (d == "ifdef"))
                stack.append((cond, cond, active))
                active = cond
            elif d == "elif":
                _, taken, parent = stack.pop()
                cond = parent and not taken and _pp_eval(rest, defs)
                stack.append((cond, taken or cond, parent))
                active = cond
            elif d == "else":
                _, taken, parent = stack.pop()
                cond = parent and not taken
                stack.append((cond, True, parent))
                active = cond
            elif d == "endif":
                stack.pop()
                active = stack[-1][0] if stack else True
            elif active and d == "define":
                fm = re.match(r"([A-Za-z_]\w*)\(([^)]*)\)\s*(.*)", rest)
                dm = re.match(r"([A-Za-z_]\w*)\s*(.*)", rest)
                if fm:
                    params = tuple(p.strip() for p in fm.group(2).split(",") if p.strip())
                    defs[fm.group(1)] = _Macro(params, fm.group(3).strip())
                elif dm:
                    val = dm.group(2).strip()
                    try:
                        defs[dm.group(1)] = _int_literal(val)
                    except ValueError:
                        defs[dm.group(1)] = val
            elif active and d == "undef":
                defs.pop(rest.split()[0], None)
        except IndexError:
            raise TestmgrError(f"line {lineno}: unbalanced #{d}") from None
    if stack:
        raise TestmgrError("#if without #endif")
    return "\n".join(out), defs


@dataclass(frozen=True)
class _Macro:
    """A function-like ``#define NAME(params) body`` (testmgr.h builds the
    authenc key headers with one: ``AUTHENC_KEY_HEADER("\\x00\\x00\\x00\\x10")``)."""

    params: tuple[str, ...]
    body: str


def _int_literal(s: str) -> int:
    s = s.strip().rstrip("uUlL")
    if re.fullmatch(r"0[xX][0-9a-fA-F]+", s):
        return int(s, 16)
    if re.fullmatch(r"0[0-7]*", s):
        return int(s, 8)
    if re.fullmatch(r"[1-9]\d*", s):
        return int(s)
    raise ValueError(s)


# String literals.

_SIMPLE_ESC = {"n": 10, "t": 9, "r": 13, "a": 7, "b": 8, "f": 12, "v": 11, "\\": 92,
               "'": 39, '"': 34, "?": 63}


def parse_c_string(body: str) -> bytes:
    """The bytes of one C string literal's body (between the quotes)."""
    out = bytearray()
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c != "\\":
            j = body.find("\\", i)
            j = n if j < 0 else j
            out += body[i:j].encode("utf-8")
            i = j
            continue
        if i + 1 >= n:
            raise TestmgrError("string literal ends in a backslash")
        e = body[i + 1]
        if e == "x":
            m = re.match(r"[0-9a-fA-F]+", body[i + 2:])
            if not m:
                raise TestmgrError(r"\x with no hex digits")
            v = int(m.group(0), 16)
            if v > 0xFF:
                raise TestmgrError(f"hex escape \\x{m.group(0)} out of range")
            out.append(v)
            i += 2 + m.end()
        elif e in "01234567":
            m = re.match(r"[0-7]{1,3}", body[i + 1:])
            out.append(int(m.group(0), 8) & 0xFF)
            i += 1 + m.end()
        elif e in _SIMPLE_ESC:
            out.append(_SIMPLE_ESC[e])
            i += 2
        else:
            raise TestmgrError(f"unknown escape \\{e}")
    return bytes(out)


# Tokens of the initialisers.

_TOKEN = re.compile(r'\s*(?:"((?:[^"\\\n]|\\.)*)"|'
                    r"'((?:[^'\\\n]|\\.)*)'|"
                    r"(0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*)|"
                    r"([A-Za-z_]\w*)|"
                    r"(\S))", re.S)


@dataclass
class _Tok:
    kind: str      # str, chr, int, name, punct
    value: object
    pos: int


def c_tokens(text: str, start: int, end: int) -> list[_Tok]:
    out = []
    pos = start
    while pos < end:
        m = _TOKEN.match(text, pos, end)
        if not m or m.end() == pos:
            break
        pos = m.end()
        if m.group(1) is not None:
            out.append(_Tok("str", parse_c_string(m.group(1)), m.start(1)))
        elif m.group(2) is not None:
            b = parse_c_string(m.group(2))
            out.append(_Tok("int", b[0] if b else 0, m.start(2)))
        elif m.group(3) is not None:
            out.append(_Tok("int", _int_literal(m.group(3)), m.start(3)))
        elif m.group(4) is not None:
            out.append(_Tok("name", m.group(4), m.start(4)))
        elif m.group(5) is not None:
            out.append(_Tok("punct", m.group(5), m.start(5)))
    return out


def _expand(toks: list[_Tok], defs: dict[str, object], depth: int = 0) -> list[_Tok]:
    """Macro names replaced by their bodies (object-like ones whose value
    is not a plain integer, and function-like ones with their arguments)."""
    if depth > 16:
        raise TestmgrError("macro expansion too deep")
    out: list[_Tok] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        m = defs.get(str(t.value)) if t.kind == "name" else None
        if isinstance(m, _Macro) and i + 1 < len(toks) and toks[i + 1].value == "(":
            args: list[list[_Tok]] = [[]]
            depth_p, j = 0, i + 2
            while j < len(toks):
                v = toks[j].value if toks[j].kind == "punct" else None
                if v == "(":
                    depth_p += 1
                elif v == ")":
                    if depth_p == 0:
                        break
                    depth_p -= 1
                elif v == "," and depth_p == 0:
                    args.append([])
                    j += 1
                    continue
                args[-1].append(toks[j])
                j += 1
            else:
                raise TestmgrError(f"unterminated call of macro {t.value}")
            if args == [[]]:
                args = []
            if len(args) != len(m.params):
                raise TestmgrError(f"macro {t.value} takes {len(m.params)} arguments")
            sub = dict(zip(m.params, args))
            body: list[_Tok] = []
            for bt in c_tokens(m.body, 0, len(m.body)):
                body += sub.get(str(bt.value), [bt]) if bt.kind == "name" else [bt]
            out += _expand(body, defs, depth + 1)
            i = j + 1
            continue
        if isinstance(m, bytes):
            out.append(_Tok("str", m, t.pos))
        elif isinstance(m, str) and m:
            out += _expand(c_tokens(m, 0, len(m)), defs, depth + 1)
        else:
            out.append(t)
        i += 1
    return out


def _value(toks: list[_Tok], defs: dict[str, object]) -> object:
    """A designated initialiser's value: bytes (adjacent literals
    concatenated), an int, or None for NULL."""
    toks = _expand(toks, defs)
    if toks and all(t.kind == "str" for t in toks):
        return b"".join(t.value for t in toks)  # type: ignore[misc]
    if len(toks) == 1 and toks[0].kind == "name" and toks[0].value == "NULL":
        return None
    parts = []
    for t in toks:
        if t.kind == "int":
            parts.append(str(t.value))
        elif t.kind == "name":
            name = str(t.value)
            if name in ("true", "false"):
                parts.append("1" if name == "true" else "0")
            elif isinstance(defs.get(name), int):
                parts.append(str(defs[name]))
            elif isinstance(getattr(E, name, None), int) and name.startswith("E"):
                parts.append(str(getattr(E, name)))
            else:
                raise TestmgrError(f"unknown name {name} in an initialiser")
        elif t.kind == "punct" and t.value in "+-*/()~|&":
            parts.append("//" if t.value == "/" else str(t.value))
        else:
            raise TestmgrError(f"unexpected {t.value!r} in an initialiser")
    expr = " ".join(parts)
    try:
        return int(eval(expr, {"__builtins__": {}}, {}))
    except Exception as e:
        raise TestmgrError(f"cannot evaluate {expr!r}") from e


def brace_items(toks: list[_Tok], i: int) -> tuple[list[list[_Tok]], int]:
    """The comma-separated items of the brace group opening at toks[i];
    returns them and the index after the closing brace."""
    assert toks[i].value == "{"
    items: list[list[_Tok]] = []
    cur: list[_Tok] = []
    depth = 0
    i += 1
    while i < len(toks):
        t = toks[i]
        if t.kind == "punct" and t.value in "{(":
            depth += 1
        elif t.kind == "punct" and t.value in ")}":
            if depth == 0:
                if cur:
                    items.append(cur)
                return items, i + 1
            depth -= 1
        elif t.kind == "punct" and t.value == "," and depth == 0:
            items.append(cur)
            cur = []
            i += 1
            continue
        cur.append(t)
        i += 1
    raise TestmgrError("unbalanced braces")


def designated_init(item: list[_Tok], defs: dict) -> dict[str, object]:
    """``{ .key = ..., .klen = 16, ... }`` as a dict."""
    if not item or item[0].value != "{":
        raise TestmgrError("a vector is not a brace-enclosed initialiser")
    fields, _ = brace_items(item, 0)
    out: dict[str, object] = {}
    for f in fields:
        if len(f) < 3 or f[0].value != "." or f[1].kind != "name" or f[2].value != "=":
            raise TestmgrError("a vector field is not a designated initialiser")
        out[str(f[1].value)] = _value(f[3:], defs)
    return out


# File-scope byte arrays a vector may point at (``.ptext = zeroed_string``,
# GCM's all-zero plaintexts): static storage, so what is not initialised is 0.
_BYTES_DECL = re.compile(r"\bstatic\s+const\s+(?:unsigned\s+)?(?:char|u8)\s+(\w+)\s*"
                         r"\[\s*([^\]]*)\]\s*(=|;)")


def byte_arrays(src: str, defs: dict[str, object]) -> dict[str, object]:
    """``defs`` plus each ``static const char/u8 name[N]`` of the file as
    its bytes (zeroes, range designators ``[a ... b] = v``, integer lists
    or a string literal)."""
    out = dict(defs)
    for m in _BYTES_DECL.finditer(src):
        name, size = m.group(1), m.group(2).strip()
        try:
            n = _value(c_tokens(size, 0, len(size)), out) if size else None
            if m.group(3) == ";":
                data = bytearray(n if isinstance(n, int) else 0)
            else:
                end = src.find(";", m.end())
                toks = c_tokens(src, m.end(), end)
                data = _byte_init(toks, out, n if isinstance(n, int) else None)
        except TestmgrError:
            continue        # not one a vector can use; the vector will say so
        out[name] = bytes(data)
    return out


def _byte_init(toks: list[_Tok], defs: dict, n: int | None) -> bytearray:
    if toks and all(t.kind == "str" for t in toks):
        data = bytearray(b"".join(t.value for t in toks) + b"\0")  # type: ignore[misc]
        return data if n is None else data[:n].ljust(n, b"\0")
    if not toks or toks[0].value != "{":
        raise TestmgrError("not a byte array initialiser")
    data = bytearray(n or 0)
    pos = 0
    for item in brace_items(toks, 0)[0]:
        if item and item[0].value == "[":
            close = next(k for k, t in enumerate(item) if t.value == "]")
            inner = item[1:close]
            dots = [k for k, t in enumerate(inner) if t.value == "."]
            lo = _value(inner[:dots[0]] if dots else inner, defs)
            hi = _value(inner[dots[-1] + 1:], defs) if dots else lo
            v = _value(item[close + 2:], defs)
            assert isinstance(lo, int) and isinstance(hi, int) and isinstance(v, int)
            if n is None and hi >= len(data):
                data.extend(bytes(hi + 1 - len(data)))
            data[lo:hi + 1] = bytes([v & 0xFF]) * (hi + 1 - lo)
            pos = hi + 1
        else:
            v = _value(item, defs)
            if not isinstance(v, int):
                raise TestmgrError("not a byte array initialiser")
            if pos >= len(data):
                data.append(0)
            data[pos] = v & 0xFF
            pos += 1
    return data
