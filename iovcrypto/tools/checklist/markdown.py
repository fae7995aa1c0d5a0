"""Markdown conversion plans, for a patch cover letter or a tracking issue.

Per file: one section per group (a table followed from construction to its
consumer, across functions), in data-flow order, with the recommended
iterator type, the road, the AEAD layout check, the page pairs, the
questions (answered where the data flow can) and an effort estimate; then
the uses that belong to no group, per function.
"""

from __future__ import annotations

from iovcrypto.__about__ import __version__
from iovcrypto.tools.checklist.catalogue import KINDS
from iovcrypto.tools.checklist.model import FileReport, Finding, Group, Report, scope_label

ROADS = {
    "library": "lib/crypto library",
    "iov_iter": "iov_iter request API (proposed)",
    "bvec": "bio_vecs (bvecq) for descriptors",
    "scatterlist": "scatterlist, kept for now",
}


def _code(text: str) -> str:
    """Text safe inside a Markdown code span."""
    return text.replace("`", "'")


def _item(f: Finding, report: Report, show_function: bool = False) -> str:
    label = "debug print only" if f.debug else report.catalogue.kind_label(f.kind)
    where = f" in `{f.function}()`" if show_function and f.function else ""
    line = f"- [ ] line {f.line}{where}: `{_code(f.text)}` → {f.replacement} ({label})"
    extra = []
    if f.detail and f.construct in ("call", "same_file_call"):
        extra.append(f.detail)
    if f.pairs:
        extra.append(", ".join(f.pairs))
    if extra:
        line += " — " + "; ".join(extra)
    return line


def _question_keys(findings: list[Finding]) -> list[str]:
    keys: dict[str, None] = {}
    for f in findings:
        for q in f.entry.questions:
            keys.setdefault(q, None)
    return list(keys)


def _questions(findings: list[Finding], report: Report) -> list[str]:
    keys = _question_keys(findings)
    if not keys:
        return []
    labels = ", ".join(report.catalogue.question_labels[q] for q in keys)
    return ["", f"Questions to answer: {labels}."]


def _glossary(report: Report) -> list[str]:
    cat = report.catalogue
    keys = _question_keys(report.all_findings())
    for fr in report.files:
        for g in fr.groups:
            for q in g.questions:
                if q.key not in keys:
                    keys.append(q.key)
    if not keys:
        return []
    out = ["", "## Questions", ""]
    out += [f"- **{cat.question_labels[q]}**: {cat.questions[q]}" for q in keys]
    return out


def _group(g: Group, fr: FileReport, report: Report) -> list[str]:
    cat = report.catalogue
    members = [fr.finding(i) for i in g.members]
    head = f"### {g.id}: `{_code(g.table)}`"
    if g.consumer:
        c = fr.finding(g.consumer)
        head += f" → `{c.name}()` (line {c.line})"
    out = [head, ""]
    if len(g.functions) > 1:
        out.append(f"Across {', '.join(f'`{n}`' for n in g.functions)}.")
    out += [f"- Iterator: **{g.iterator}** — {g.iterator_reason}.",
            f"- Road: **{ROADS[g.road]}** — {g.road_reason}."]
    if g.aead_layout is not None:
        mark = {True: "holds", False: "does NOT hold", None: "unknown"}[g.aead_layout["holds"]]
        out.append(f"- AEAD layout ({mark}): {g.aead_layout['text']}.")
    out.append(f"- Effort: {g.effort_points} points — {g.effort_reason}.")
    out.append("")
    show = len(g.functions) > 1
    out += [_item(f, report, show) for f in members]
    pairs = [p for p in fr.pairs if p.acquire in g.members or p.release in g.members]
    if pairs:
        out += ["", "Page pairs:"]
        for p in pairs:
            a, r = fr.finding(p.acquire), fr.finding(p.release)
            cb = f", in the completion callback `{p.callback}()`" if p.callback else ""
            out.append(f"- {p.id}: `{_code(a.text)}` (line {a.line}) is released by "
                       f"`{_code(r.text)}` (line {r.line}{cb}). After the conversion: "
                       f"{p.owner}.")
    if g.questions:
        out += ["", "Questions:"]
        for q in g.questions:
            label = cat.question_labels[q.key]
            out.append(f"- {label}: {q.answer}." if q.answer else f"- {label}: open.")
    out.append("")
    return out


def _file(fr: FileReport, report: Report) -> list[str]:
    out = ["", f"## `{fr.path}`", ""]
    if fr.status != "ok":
        out.append(f"Not analysed: {fr.message}.")
    if fr.skipped:
        spans = ", ".join(
            (f"line {s.start_line}" if s.start_line == s.end_line
             else f"lines {s.start_line}–{s.end_line}") + f" (`{_code(s.text)}`)"
            for s in fr.skipped)
        out += [f"> The parser skipped what it could not place: {spans}.", ""]
    if fr.status == "ok" and not fr.findings:
        out.append("No scatterlist-side API found.")
    for g in fr.groups:
        out += _group(g, fr, report)
    rest = [f for f in fr.findings if f.group is None]
    scopes: dict[str, None] = {}
    for f in sorted(rest, key=Finding.sort_key):
        scopes.setdefault(scope_label(f), None)
    for scope in scopes:
        items = sorted((f for f in rest if scope_label(f) == scope), key=Finding.sort_key)
        out += [f"### Other uses in `{scope}`" if fr.groups else f"### `{scope}`", ""]
        out += [_item(f, report) for f in items]
        out += _questions(items, report)
        out.append("")
    return out


def _drivers(report: Report) -> list[str]:
    if report.python_root is None:
        return []
    out = ["", "## Legacy drivers of this project", ""]
    if not report.drivers:
        out.append("No legacy driver under `sgl/` calls the scatterlist API.")
    else:
        out += ["| legacy driver | iov_iter twin | status | scatterlist uses | left in twin |",
                "|---|---|---|---:|---:|"]
        for d in report.drivers:
            twin = f"`{d.twin}`" if d.twin else "—"
            uses = str(d.legacy_findings)
            if d.builds_on:
                uses += ", through " + ", ".join(f"`{m}`" for m in d.builds_on)
            left = str(d.twin_findings)
            if d.twin_imports:
                left += ", imports " + ", ".join(f"`{m}`" for m in d.twin_imports)
            out.append(f"| `{d.module}` | {twin} | {d.status} | {uses} | {left} |")
    if report.api_modules:
        names = ", ".join(f"`{m}`" for m in report.api_modules)
        out += ["", f"Scatterlist API modules (removed at the end, not converted): {names}."]
    return out


def _summary(report: Report) -> list[str]:
    cat = report.catalogue
    s = report.summary()
    out = ["", "## Summary", "", "| kind of change | items | points each |", "|---|---:|---:|"]
    for k in KINDS:
        out.append(f"| {cat.kind_label(k)} | {s['by_kind'][k]} | {cat.weights[k]} |")
    out += [f"| **total** | {s['findings']} | |", ""]

    def where(items: list[dict]) -> str:
        return ", ".join(f"`{i['function']}` in `{i['path']}`" for i in items) or "none"

    out.append(f"- Groups: {s['groups']}; page pairs: {s['pairs']}.")
    out.append(f"- Functions that touch page references: {where(s['functions_touching_pages'])}.")
    out.append(f"- Functions on a DMA path: {where(s['functions_on_dma_path'])}.")
    out.append(f"- Regions the parser skipped: {s['skipped_regions']}"
               + (f" (and {s['benign_skips']} harmless ones hidden: annotations and type "
                  "arguments such as container_of())" if s["benign_skips"] else "") + ".")
    if s["unreadable_files"]:
        out.append("- Files not read: " + ", ".join(f"`{p}`" for p in s["unreadable_files"])
                   + ".")
    e = s["effort"]
    out.append(f"- Estimated effort: {e['points']} points ≈ {e['hours']} h (size {e['size']}), "
               f"at {e['minutes_per_point']} min per point: the groups' estimates plus "
               f"{e['ungrouped_points']} points for uses outside any group (declarations and "
               "debug-only uses count nothing); a planning guide, not a measurement.")
    return out


def render_markdown(report: Report) -> str:
    """The report as Markdown: per file, one section per group, then a summary."""
    s = report.summary()
    out = ["# Scatterlist → iov_iter conversion checklist", "",
           f"`iovcrypto checklist` {__version__}: {s['files']} file(s), "
           f"{s['findings']} item(s) in {s['groups']} group(s)."]
    for fr in report.files:
        out += _file(fr, report)
    out += _drivers(report)
    out += _glossary(report)
    out += _summary(report)
    return "\n".join(out).replace("\n\n\n", "\n\n") + "\n"
