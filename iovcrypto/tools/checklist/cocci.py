"""``--format cocci``: a semantic patch (Coccinelle) for what needs no judgement.

Two kinds of rule, and only where the tool is certain:

- ``scatterwalk_map_and_copy(buf, sg, start, n, 0|1)`` with a literal
  direction becomes ``memcpy_from_sglist(buf, sg, start, n)`` /
  ``memcpy_to_sglist(sg, start, buf, n)`` (kernel functions since v6.15,
  the same semantics, still on scatterlists).
- A whole group becomes a bio_vec array behind two iov_iters and the
  proposed ``skcipher_request_set_iter()`` / ``aead_request_set_iter()``
  when everything about it is known: one function, a local table used
  in place (src == dst), every entry at a literal index and built with
  ``sg_set_page()`` (a whole bio_vec is reused as it is, otherwise
  ``bvec_set_page()``) or ``sg_set_buf()`` of kernel memory
  (``bvec_set_virt()``, the same virt_to_page() rule), a synchronous wait
  (so the locals outlive the request), the AEAD layout checked, and no
  other use of the table.  The iterators count the bytes of the entries.

Everything else (alignment loops, pages, DMA, asynchronous requests, the
library road) stays in the checklist: the rewrite depends on decisions a
semantic patch cannot make.
"""

from __future__ import annotations

import re
from pathlib import Path

from iovcrypto.__about__ import __version__
from iovcrypto.tools.checklist.model import FileReport, Finding, Group, Report

_SETTERS = {"skcipher_request_set_crypt": "skcipher_request_set_iter",
            "aead_request_set_crypt": "aead_request_set_iter"}
_KEYWORDS = {"sizeof", "struct", "NULL", "true", "false", "unsigned", "int", "char", "void",
             "const", "ITER_SOURCE", "ITER_DEST", "scatterlist", "bio_vec", "iov_iter"}
_IDENT = re.compile(r"\b[A-Za-z_]\w*\b(?!\s*\()")

_MAP_AND_COPY = """\
// scatterwalk_map_and_copy() with a literal direction is memcpy_from_sglist()
// (out = 0) or memcpy_to_sglist() (out = 1), kernel functions since v6.15.
@map_and_copy_from@
expression E_buf, E_sg, E_start, E_len;
@@
- scatterwalk_map_and_copy(E_buf, E_sg, E_start, E_len, 0)
+ memcpy_from_sglist(E_buf, E_sg, E_start, E_len)

@map_and_copy_to@
expression E_buf, E_sg, E_start, E_len;
@@
- scatterwalk_map_and_copy(E_buf, E_sg, E_start, E_len, 1)
+ memcpy_to_sglist(E_sg, E_start, E_buf, E_len)
"""


def _source_lines(fr: FileReport) -> list[str] | None:
    path = Path(fr.root) / fr.path if fr.root else Path(fr.path)
    try:
        return path.read_text("utf-8", "replace").splitlines()
    except OSError:
        return None


def _statement(f: Finding, lines: list[str]) -> bool:
    """True when the call is a whole expression statement on its line."""
    if f.line != f.end_line or f.line > len(lines):
        return False
    line = lines[f.line - 1]
    return line[f.column - 1:].startswith(f"{f.name}(") and \
        line[:f.column - 1].strip() == "" and line.rstrip().endswith(");")


def _table_ref(arg: str, name: str) -> str | None:
    """``sg``/``&sg`` → how the bio_vec array is named after the rewrite."""
    if arg == name:
        return name
    if arg == f"&{name}":
        return f"&{name}"
    return None


def group_rules(g: Group, fr: FileReport, lines: list[str]) -> str | None:
    """The semantic patch of one group, or None when the tool is not certain."""
    if len(g.functions) != 1 or not g.synchronous or g.iterator != "BVEC" \
            or g.road != "iov_iter" or g.consumer is None:
        return None
    if g.aead_layout is not None and g.aead_layout["holds"] is not True:
        return None
    members = [fr.finding(i) for i in g.members]
    consumer = fr.finding(g.consumer)
    if consumer.name not in _SETTERS or len(consumer.arguments) != 5:
        return None
    decls = [f for f in members if f.construct == "declaration"]
    if len(decls) != 1 or decls[0].function != consumer.function:
        return None
    decl = decls[0]
    name = decl.name
    m = re.fullmatch(rf"struct scatterlist {re.escape(name)}(\[(\w+)\])?", decl.text)
    if m is None or decl.line > len(lines) or not re.fullmatch(
            rf"\s*{re.escape(decl.text)};\s*", lines[decl.line - 1]):
        return None
    array = m.group(1) is not None
    src, dst = consumer.arguments[1], consumer.arguments[2]
    ref = _table_ref(src, name)
    if ref is None or src != dst:
        return None
    edits: list[tuple[Finding, list[str]]] = []
    lengths: list[str] = []
    for f in members:
        if f is decl or f is consumer:
            continue
        if f.construct != "call" or f.debug or not _statement(f, lines):
            return None
        if f.name == "aead_request_set_ad":
            continue
        if f.name in ("sg_init_table", "sg_mark_end"):
            edits.append((f, []))
            continue
        if f.name not in ("sg_set_page", "sg_set_buf") or f.rule != f.name:
            return None
        target = f.arguments[0]
        if array:
            em = re.fullmatch(rf"&{re.escape(name)}\[(\d+)\]", target)
            if em is None:
                return None
            slot = f"{name}[{em.group(1)}]"
        elif target != f"&{name}":
            return None
        else:
            slot = name
        if f.name == "sg_set_page":
            page, length, offset = f.arguments[1:4]
            bm = re.fullmatch(r"(.+?)(\.|->)bv_page", page)
            if bm and length == f"{bm[1]}{bm[2]}bv_len" and offset == f"{bm[1]}{bm[2]}bv_offset":
                new = [f"{slot} = {'*' if bm[2] == '->' else ''}{bm[1]};"]
            else:
                new = [f"bvec_set_page(&{slot}, {page}, {length}, {offset});"]
        else:
            buf, length = f.arguments[1:3]
            new = [f"bvec_set_virt(&{slot}, {buf}, {length});"]
        lengths.append(length)
        edits.append((f, new))
    if not lengths:
        return None
    count = " + ".join(lengths) if len(lengths) == 1 else \
        " + ".join(f"({x})" if re.search(r"[^\w.>\-\[\]]", x) else x for x in lengths)
    entries = len(lengths)
    it_src, it_dst = f"{name}_src", f"{name}_dst"
    req, _, _, cryptlen, iv = consumer.arguments
    new_consumer = [f"iov_iter_bvec(&{it_src}, ITER_SOURCE, {ref}, {entries}, {count});",
                    f"iov_iter_bvec(&{it_dst}, ITER_DEST, {ref}, {entries}, {count});",
                    f"{_SETTERS[consumer.name]}({req}, &{it_src}, &{it_dst}, {cryptlen}, {iv});"]
    edits.append((consumer, new_consumer))
    rule = f"{Path(fr.path).stem}_{g.id}".replace("-", "_")
    rule = re.sub(r"\W", "_", rule)
    texts = [decl.text, *(f.text for f, _ in edits), *(x for _, n in edits for x in n)]
    symbols = sorted({w for t in texts for w in _IDENT.findall(t)} - _KEYWORDS
                     - {consumer.function or ""})
    sym = f"symbol {', '.join(symbols)};\n" if symbols else ""
    out = [f"// {fr.path}: {g.id} ({g.table}) becomes a bio_vec array behind two "
           f"iov_iters and {_SETTERS[consumer.name]}() (proposed iov_iter crypto API); "
           f"{g.synchronous}.",
           f"@{rule}@", f"identifier F = {{{consumer.function}}};", sym.rstrip("\n"), "@@",
           "F(...) {", "...", f"- {decl.text};",
           f"+ struct bio_vec {decl.text[len('struct scatterlist '):]};",
           f"+ struct iov_iter {it_src};", f"+ struct iov_iter {it_dst};", "...", "}", ""]
    for i, (f, new) in enumerate(edits):
        out += [f"@{rule}_{i} depends on {rule}@", f"identifier {rule}.F;", sym.rstrip("\n"),
                "@@", "F(...) {", "<...", f"- {f.text};", *(f"+ {x}" for x in new), "...>",
                "}", ""]
    return "\n".join(line for line in out if line != "")


def render_cocci(report: Report) -> str:
    """The report's certain rewrites as one .cocci file for spatch."""
    head = [f"// Semantic patch from `iovcrypto checklist` {__version__} (--format cocci).",
            "// Apply: spatch --sp-file THIS.cocci --in-place FILE.c",
            "// skcipher_request_set_iter() and aead_request_set_iter() are the proposed",
            "// iov_iter crypto API, not (yet) kernel functions; every other name is the",
            "// kernel's.  Only rewrites the tool is certain of are here; the rest of",
            "// each group stays in the checklist.", ""]
    body: list[str] = []
    if any(f.rule == "scatterwalk_map_and_copy" and len(f.arguments) == 5
           and f.arguments[4] in ("0", "1") and f.scope == "function"
           for f in report.all_findings()):
        body.append(_MAP_AND_COPY)
    for fr in report.files:
        if fr.language != "c" or fr.status != "ok" or not fr.groups:
            continue
        lines = _source_lines(fr)
        if lines is None:
            continue
        for g in fr.groups:
            rules = group_rules(g, fr, lines)
            if rules:
                body.append(rules + "\n")
    if not body:
        head.append("// Nothing the tool is certain of: see the checklist.")
    return "\n".join(head + body) + ("\n" if body else "")
