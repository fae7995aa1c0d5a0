"""Markdown checklists, for a patch cover letter or a tracking issue."""

from __future__ import annotations

from iovcrypto.__about__ import __version__
from iovcrypto.tools.checklist.catalogue import KINDS
from iovcrypto.tools.checklist.model import FileReport, Finding, Report, scope_label


def _code(text: str) -> str:
    """Text safe inside a Markdown code span."""
    return text.replace("`", "'")


def _item(f: Finding, report: Report) -> str:
    label = report.catalogue.kind_label(f.kind)
    line = f"- [ ] line {f.line}: {f.text} → {f.entry.replacement} ({label})"
    if f.detail and f.construct == "call":
        line += f" — {f.detail}"
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
    if not keys:
        return []
    out = ["", "## Questions", ""]
    out += [f"- **{cat.question_labels[q]}**: {cat.questions[q]}" for q in keys]
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
    for scope in fr.functions():
        items = sorted((f for f in fr.findings if scope_label(f) == scope),
                       key=Finding.sort_key)
        out += [f"### `{scope}`", ""]
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

    out.append(f"- Functions that touch page references: {where(s['functions_touching_pages'])}.")
    out.append(f"- Functions on a DMA path: {where(s['functions_on_dma_path'])}.")
    out.append(f"- Regions the parser skipped: {s['skipped_regions']}.")
    if s["unreadable_files"]:
        out.append("- Files not read: " + ", ".join(f"`{p}`" for p in s["unreadable_files"])
                   + ".")
    e = s["effort"]
    out.append(f"- Estimated effort: {e['points']} points ≈ {e['hours']} h (size {e['size']}), "
               f"at {e['minutes_per_point']} min per point; a planning guide, not a "
               "measurement.")
    return out


def render_markdown(report: Report) -> str:
    """The report as a Markdown checklist (per file, per function, then a summary)."""
    s = report.summary()
    out = ["# Scatterlist → iov_iter conversion checklist", "",
           f"`iovcrypto checklist` {__version__}: {s['files']} file(s), "
           f"{s['findings']} item(s)."]
    for fr in report.files:
        out += _file(fr, report)
    out += _drivers(report)
    out += _glossary(report)
    out += _summary(report)
    return "\n".join(out).replace("\n\n\n", "\n\n") + "\n"
