"""SARIF 2.1.0 output, so that code-scanning tools can show the findings.

One run; one reporting descriptor (rule) per catalogue entry that produced a
result; one result per finding, with ``relatedLocations`` for its group's
consumer and the other end of its page pairs, and ``properties.group`` /
``properties.pairs`` (ids as in the JSON output).  Regions use 1-based lines and columns
counted in Unicode code points (``columnKind: unicodeCodePoints``).  Relative
paths are resolved against ``%SRCROOT%`` (the working directory) or, for the
project's own drivers, ``PYROOT`` (the project root); a path that leaves its
base (``../x.c``) is given as an absolute ``file:`` URI.  Skipped regions and
files that could not be read become tool execution notifications.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from iovcrypto.__about__ import __version__
from iovcrypto.tools.checklist.catalogue import Entry
from iovcrypto.tools.checklist.model import FileReport, Finding, Report

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"mechanical": "note", "restructure": "warning", "ownership": "warning",
          "dma": "warning"}


def _dir_uri(path: str) -> str:
    uri = Path(path).resolve().as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _artifact(fr: FileReport) -> dict:
    p = Path(fr.path)
    if p.is_absolute():
        return {"uri": p.as_uri()}
    if ".." in p.parts:
        # A path that leaves the base (``../x.c``) is no location under
        # %SRCROOT%: name the file absolutely instead.
        base = Path(fr.root) if fr.root else Path.cwd()
        return {"uri": (base / p).resolve().as_uri()}
    return {"uri": quote(p.as_posix()), "uriBaseId": "PYROOT" if fr.root else "%SRCROOT%"}


def _rule(entry: Entry, report: Report) -> dict:
    cat = report.catalogue
    label = cat.kind_label(entry.kind)
    questions = [cat.questions[q] for q in entry.questions]
    help_text = "\n".join([entry.note, *questions]).strip() or entry.replacement
    help_md = "\n".join([entry.note, "", *[f"- {q}" for q in questions]]).strip() \
        or entry.replacement
    return {
        "id": entry.id,
        "shortDescription": {"text": f"{', '.join(entry.names)} → {entry.replacement}"},
        "fullDescription": {"text": entry.note or f"Replace with {entry.replacement}."},
        "help": {"text": help_text, "markdown": help_md},
        "defaultConfiguration": {"level": _LEVEL[entry.kind]},
        "properties": {
            "category": entry.category,
            "kind": entry.kind,
            "questions": list(entry.questions),
            "tags": [label, entry.category],
        },
    }


def _region(line: int, col: int, end_line: int, end_col: int, snippet: str | None) -> dict:
    region: dict = {"startLine": line, "startColumn": col, "endLine": end_line,
                    "endColumn": max(end_col, 1)}
    if snippet:
        region["snippet"] = {"text": snippet}
    return region


def _related(f: Finding, fr: FileReport) -> list[dict]:
    """The consumer of the finding's group and the other end of each of its pairs."""
    out: list[tuple[Finding, str]] = []
    group = next((g for g in fr.groups if g.id == f.group), None)
    if group is not None and group.consumer and group.consumer != f.id:
        c = fr.finding(group.consumer)
        out.append((c, f"consumed by {c.name}() at line {c.line} ({group.id})"))
    for pid in f.pairs:
        p = next(p for p in fr.pairs if p.id == pid)
        if p.acquire == f.id:
            r = fr.finding(p.release)
            where = f" in the completion callback {p.callback}()" if p.callback else ""
            out.append((r, f"released at line {r.line}{where} ({pid})"))
        else:
            a = fr.finding(p.acquire)
            out.append((a, f"acquired at line {a.line} by {a.name}() ({pid})"))
    return [{"id": i, "message": {"text": text},
             "physicalLocation": {"artifactLocation": _artifact(fr),
                                  "region": _region(o.line, o.column, o.end_line,
                                                    o.end_column, None)}}
            for i, (o, text) in enumerate(out)]


def _result(f: Finding, fr: FileReport, index: int, report: Report) -> dict:
    label = report.catalogue.kind_label(f.kind)
    message = f"{f.text} → {f.replacement} ({label})"
    if f.detail:
        message += f"; {f.detail}"
    location: dict = {"physicalLocation": {
        "artifactLocation": _artifact(fr),
        # A snippet is the region's text; only one-line calls are shown as written.
        "region": _region(f.line, f.column, f.end_line, f.end_column,
                          f.text if f.end_line == f.line else None),
    }}
    if f.function:
        location["logicalLocations"] = [{"name": f.function, "kind": "function"}]
    result = {
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": "note" if f.debug else _LEVEL[f.kind],
        "message": {"text": message},
        "locations": [location],
        "properties": {"id": f.id, "construct": f.construct, "scope": f.scope,
                       "group": f.group, "pairs": list(f.pairs),
                       "questions": list(f.entry.questions), "recovered": f.recovered,
                       "debug": f.debug},
    }
    related = _related(f, fr)
    if related:
        result["relatedLocations"] = related
    return result


def _notifications(report: Report) -> list[dict]:
    out = []
    for fr in report.files:
        loc = {"physicalLocation": {"artifactLocation": _artifact(fr)}}
        if fr.status in ("binary", "unreadable"):
            out.append({"level": "warning", "message": {"text": f"{fr.path}: {fr.message}"},
                        "locations": [loc]})
        for s in fr.skipped:
            where = {"physicalLocation": {
                "artifactLocation": _artifact(fr),
                "region": {"startLine": s.start_line, "endLine": s.end_line}}}
            out.append({"level": "note",
                        "message": {"text": f"not parsed, skipped: {s.text}"},
                        "locations": [where]})
    return out


def sarif_dict(report: Report) -> dict:
    """The report as a SARIF 2.1.0 log (a JSON-ready dict)."""
    rules: list[dict] = []
    index: dict[str, int] = {}
    results = []
    for fr in report.files:
        for f in fr.findings:
            if f.rule not in index:
                index[f.rule] = len(rules)
                rules.append(_rule(f.entry, report))
            results.append(_result(f, fr, index[f.rule], report))
    bases = {"%SRCROOT%": {"uri": _dir_uri(".")}}
    if report.python_root:
        bases["PYROOT"] = {"uri": _dir_uri(report.python_root)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": "iovcrypto checklist",
                "version": __version__,
                # No informationUri: the project publishes no web page to point at.
                "rules": rules,
            }},
            "invocations": [{"executionSuccessful": True,
                             "toolExecutionNotifications": _notifications(report)}],
            "originalUriBaseIds": bases,
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def render_sarif(report: Report) -> str:
    """The report as SARIF 2.1.0 JSON text."""
    return json.dumps(sarif_dict(report), indent=2, ensure_ascii=False) + "\n"
