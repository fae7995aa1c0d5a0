"""Test vectors from the user's own kernel tree: ``crypto/testmgr.h``
(the ``cipher_testvec`` and ``aead_testvec`` arrays) and, beside it,
``crypto/testmgr.c`` (``alg_test_descs[]``: which array tests which
algorithm), read at run time.  The project ships neither file.

What is understood of C, and no more:

- comments (outside string literals) and backslash-newline;
- the conditional directives ``#if``/``#ifdef``/``#ifndef``/``#elif``/
  ``#else``/``#endif`` over ``defined``, ``IS_ENABLED``, integers,
  ``! && || == != < > <= >=`` and parentheses; ``#define NAME value``,
  function-like ``#define NAME(a, b) body`` (expanded inside vector
  fields) and ``#undef``.  The machine is little-endian: ``__LITTLE_ENDIAN`` is
  defined, ``__BIG_ENDIAN`` is not (the authenc keys' rtattr header has
  one branch per byte order).  ``CONFIG_CRYPTO_SELFTESTS`` is set: since
  v6.16 testmgr.c compiles its tables only under it (older kernels instead
  drop them under ``CONFIG_CRYPTO_MANAGER_DISABLE_TESTS``, left unset).
  No other ``CONFIG_`` option is set unless the caller defines it;
- string literals with every C escape (``\\x`` takes all the hex digits
  that follow, as in C), adjacent literals concatenated;
- integer expressions for lengths and errors (``8 + 20 + 16``, no shifts,
  ``-EINVAL``, ``#define``d names, ``true``/``false``).

A vector's byte fields are cut (or zero-extended, as C reads the
literal's terminating NUL) to its length fields: ``klen``, ``len``;
``alen``, ``plen``, ``clen`` for an AEAD, whose tag length is
``clen - plen``.  Kept: ``setkey_error``, ``setauthsize_error``,
``crypt_error``, ``novrfy``, ``wk``, ``iv_out``, ``generates_iv``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from iovcrypto.tools.conformance.cparse import (
    TestmgrError,
    brace_items,
    byte_arrays,
    c_tokens,
    designated_init,
    parse_c_string,
    preprocess,
)
from iovcrypto.tools.conformance.vectors import AeadVec, CipherVec, Vector

__all__ = ["TestmgrError", "TestmgrSuite", "TestmgrVectors", "find_testmgr",
           "load_testmgr", "parse_c_string", "preprocess"]


_ARRAY = re.compile(r"\bstruct\s+(cipher_testvec|aead_testvec)\s+(\w+)\s*\[[^\]]*\]\s*=\s*\{")


def _fit(b: object, n: int | None) -> bytes:
    """A field of ``n`` bytes from a literal: C reads the literal's NUL
    (and, past it, whatever follows; zeroes here)."""
    data = b if isinstance(b, bytes) else b""
    if n is None:
        return data
    return data[:n].ljust(n, b"\0")


def _int(d: dict, name: str, where: str) -> int:
    """An integer field; an omitted one is 0, as in a C initialiser."""
    v = d.get(name, 0)
    if not isinstance(v, int):
        raise TestmgrError(f"{where}: .{name} is not an integer")
    return v


def _cipher_vec(d: dict, where: str) -> CipherVec:
    n = _int(d, "len", where)
    klen = d.get("klen")
    iv = d.get("iv")
    iv_out = d.get("iv_out")
    return CipherVec(key=_fit(d.get("key"), klen if isinstance(klen, int) else None),
                     iv=iv if isinstance(iv, bytes) else None,
                     ptext=_fit(d.get("ptext"), n), ctext=_fit(d.get("ctext"), n),
                     iv_out=iv_out if isinstance(iv_out, bytes) else None,
                     setkey_error=int(d.get("setkey_error") or 0),
                     crypt_error=int(d.get("crypt_error") or 0),
                     wk=bool(d.get("wk")), generates_iv=bool(d.get("generates_iv")),
                     source=where)


def _aead_vec(d: dict, where: str) -> AeadVec:
    plen, clen, alen = _int(d, "plen", where), _int(d, "clen", where), _int(d, "alen", where)
    if clen < plen:
        raise TestmgrError(f"{where}: .clen {clen} < .plen {plen}")
    klen = d.get("klen")
    iv = d.get("iv")
    return AeadVec(key=_fit(d.get("key"), klen if isinstance(klen, int) else None),
                   iv=iv if isinstance(iv, bytes) else None,
                   assoc=_fit(d.get("assoc"), alen), ptext=_fit(d.get("ptext"), plen),
                   ctext=_fit(d.get("ctext"), clen), novrfy=bool(d.get("novrfy")),
                   setkey_error=int(d.get("setkey_error") or 0),
                   setauthsize_error=int(d.get("setauthsize_error") or 0),
                   crypt_error=int(d.get("crypt_error") or 0), wk=bool(d.get("wk")),
                   source=where)


def parse_testmgr_h(text: str, defines: dict | None = None,
                    wanted: set[str] | None = None) -> tuple[dict[str, list[Vector]],
                                                            dict[str, str]]:
    """The cipher and AEAD arrays of a testmgr.h: ({array: vectors},
    {array: why it could not be read})."""
    src, defs = preprocess(text, defines)
    defs = byte_arrays(src, defs)
    arrays: dict[str, list[Vector]] = {}
    bad: dict[str, str] = {}
    for m in _ARRAY.finditer(src):
        kind, name = m.group(1), m.group(2)
        if wanted is not None and name not in wanted:
            continue
        end = _closing_brace(src, m.end() - 1)
        try:
            toks = c_tokens(src, m.end() - 1, end + 1)
            items, _ = brace_items(toks, 0)
            make = _cipher_vec if kind == "cipher_testvec" else _aead_vec
            arrays[name] = [make(designated_init(it, defs), f"testmgr.h {name}[{i}]")
                            for i, it in enumerate(items)]
        except TestmgrError as e:
            bad[name] = str(e)
    return arrays, bad


def _closing_brace(src: str, i: int) -> int:
    """Index of the brace closing the one at ``src[i]`` (strings skipped)."""
    depth = 0
    n = len(src)
    while i < n:
        c = src[i]
        if c == '"':
            i += 1
            while i < n and src[i] != '"':
                i += 2 if src[i] == "\\" else 1
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise TestmgrError("unbalanced braces")


# testmgr.c: alg_test_descs[].

@dataclass
class TestmgrSuite:
    """One ``struct alg_test_desc`` of a skcipher or AEAD test."""

    __test__ = False

    alg: str
    test: str                      # alg_test_skcipher, alg_test_aead, alg_test_null, ...
    kind: str | None               # "cipher", "aead" or None (no vectors)
    array: str | None
    generic_driver: str | None = None


_DESC_ARRAY = re.compile(r"\balg_test_descs\s*\[\s*\]\s*=\s*\{")
_FIELD = re.compile(r"\.(alg|generic_driver)\s*=\s*\"([^\"]*)\"|\.test\s*=\s*(\w+)|"
                    r"\.(cipher|aead)\s*=\s*(?:\{\s*)?(?:_{2,4}VECS\s*\(\s*(\w+)\s*\)|"
                    r"\.vecs\s*=\s*(\w+))")


def parse_alg_test_descs(text: str, defines: dict | None = None) -> list[TestmgrSuite]:
    """Every entry of ``alg_test_descs[]`` (the cipher and AEAD suites
    named; other kinds with ``kind`` None)."""
    src, _ = preprocess(text, defines)
    m = _DESC_ARRAY.search(src)
    if not m:
        raise TestmgrError("no alg_test_descs[] in testmgr.c")
    body = src[m.end() - 1:_closing_brace(src, m.end() - 1) + 1]
    out: list[TestmgrSuite] = []
    # Entries are "{ ... }" at depth 1 of the array.
    depth, start = 0, None
    i = 0
    while i < len(body):
        c = body[i]
        if c == '"':
            i = body.index('"', i + 1) + 1
            continue
        if c == "{":
            depth += 1
            if depth == 2:
                start = i
        elif c == "}":
            if depth == 2 and start is not None:
                out.append(_desc(body[start:i + 1]))
            depth -= 1
        i += 1
    return [d for d in out if d.alg]


def _desc(entry: str) -> TestmgrSuite:
    alg = test = gen = kind = array = None
    for f in _FIELD.finditer(entry):
        if f.group(1) == "alg":
            alg = f.group(2)
        elif f.group(1) == "generic_driver":
            gen = f.group(2)
        elif f.group(3):
            test = f.group(3)
        elif f.group(4):
            kind, array = f.group(4), f.group(5) or f.group(6)
    return TestmgrSuite(alg or "", test or "", kind, array, gen)


# The whole thing.

@dataclass
class TestmgrVectors:
    """What a kernel's testmgr gives the conformance run."""

    __test__ = False

    path: str
    suites: dict[str, TestmgrSuite]
    arrays: dict[str, list[Vector]]
    unreadable: dict[str, str] = field(default_factory=dict)

    def vectors(self, cra_name: str) -> list[Vector] | None:
        """The vectors testmgr runs for ``cra_name``; None when it has no
        cipher/AEAD suite for it."""
        s = self.suites.get(cra_name)
        if s is None or s.array is None or s.array not in self.arrays:
            return None
        return list(self.arrays[s.array])

    def tested(self) -> Iterator[TestmgrSuite]:
        """The skcipher and AEAD algorithms testmgr tests with vectors."""
        for s in self.suites.values():
            if s.kind in ("cipher", "aead") and s.test in ("alg_test_skcipher",
                                                           "alg_test_aead"):
                yield s


def find_testmgr(path: str) -> tuple[str, str]:
    """(testmgr.h, testmgr.c) from the file, its directory, or a kernel tree."""
    cands = []
    if os.path.isdir(path):
        cands = [os.path.join(path, "crypto"), path]
    else:
        cands = [os.path.dirname(os.path.abspath(path))]
        if not os.path.isfile(path):
            raise TestmgrError(f"{path}: no such file or directory")
    for d in cands:
        h, c = os.path.join(d, "testmgr.h"), os.path.join(d, "testmgr.c")
        if os.path.isfile(h) and os.path.isfile(c):
            return h, c
    raise TestmgrError(f"{path}: no crypto/testmgr.h with testmgr.c beside it")


def load_testmgr(path: str, defines: dict | None = None) -> TestmgrVectors:
    """Read and parse a kernel's testmgr.h and testmgr.c."""
    h, c = find_testmgr(path)
    with open(c, encoding="utf-8", errors="replace") as f:
        descs = parse_alg_test_descs(f.read(), defines)
    suites = {d.alg: d for d in descs}
    wanted = {d.array for d in descs if d.array and d.kind in ("cipher", "aead")}
    with open(h, encoding="utf-8", errors="replace") as f:
        arrays, bad = parse_testmgr_h(f.read(), defines, wanted)
    return TestmgrVectors(h, suites, arrays, bad)
