"""JSON output, for scripts.  Its JSON Schema is ``checklist.schema.json``."""

from __future__ import annotations

import json
from importlib import resources

from iovcrypto.__about__ import __version__
from iovcrypto.tools.checklist.model import (
    SCHEMA_ID,
    FileReport,
    Finding,
    Group,
    Pair,
    Report,
)


def finding_dict(f: Finding, report: Report) -> dict:
    """One finding as a JSON object."""
    return {
        "id": f.id,
        "group": f.group,
        "pairs": list(f.pairs),
        "line": f.line,
        "column": f.column,
        "end_line": f.end_line,
        "end_column": f.end_column,
        "function": f.function,
        "scope": f.scope,
        "construct": f.construct,
        "name": f.name,
        "arguments": list(f.arguments),
        "text": f.text,
        "rule": f.rule,
        "category": f.entry.category,
        "kind": f.kind,
        "kind_label": report.catalogue.kind_label(f.kind),
        "replacement": f.replacement,
        "advised": bool(f.advice),
        "note": f.entry.note,
        "questions": list(f.entry.questions),
        "pages": f.entry.pages,
        "detail": f.detail,
        "recovered": f.recovered,
        "debug": f.debug,
    }


def group_dict(g: Group) -> dict:
    """One group as a JSON object."""
    return {
        "id": g.id,
        "table": g.table,
        "consumer": g.consumer,
        "members": list(g.members),
        "functions": list(g.functions),
        "iterator": g.iterator,
        "iterator_reason": g.iterator_reason,
        "road": g.road,
        "road_reason": g.road_reason,
        "synchronous": g.synchronous or None,
        "aead_layout": g.aead_layout,
        "questions": [{"key": q.key, "answer": q.answer or None} for q in g.questions],
        "effort": {"points": g.effort_points, "reason": g.effort_reason},
    }


def pair_dict(p: Pair) -> dict:
    """One acquire/release pair as a JSON object."""
    return {"id": p.id, "acquire": p.acquire, "release": p.release, "callback": p.callback,
            "owner": p.owner}


def _file(fr: FileReport, report: Report) -> dict:
    return {
        "path": fr.path,
        "root": fr.root,
        "language": fr.language,
        "status": fr.status,
        "message": fr.message,
        "findings": [finding_dict(f, report) for f in fr.findings],
        "skipped": [{"start_line": s.start_line, "end_line": s.end_line, "text": s.text}
                    for s in fr.skipped],
        "benign_skips": fr.benign_skips,
        "groups": [group_dict(g) for g in fr.groups],
        "pairs": [pair_dict(p) for p in fr.pairs],
    }


def report_dict(report: Report) -> dict:
    """The whole report as a JSON-ready dict (schema ``iovcrypto-checklist/2``)."""
    cat = report.catalogue
    return {
        "schema": SCHEMA_ID,
        "tool": {"name": "iovcrypto checklist", "version": __version__},
        "questions": {k: {"label": cat.question_labels[k], "text": t}
                      for k, t in cat.questions.items()},
        "files": [_file(fr, report) for fr in report.files],
        "python_root": report.python_root,
        "drivers": [{"module": d.module, "twin": d.twin, "status": d.status,
                     "legacy_findings": d.legacy_findings, "twin_findings": d.twin_findings,
                     "builds_on": list(d.builds_on), "twin_imports": list(d.twin_imports)}
                    for d in report.drivers],
        "api_modules": list(report.api_modules),
        "summary": report.summary(),
    }


def render_json(report: Report) -> str:
    """The report as indented JSON text."""
    return json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n"


def json_schema() -> dict:
    """The JSON Schema (draft 2020-12) of :func:`render_json`'s output."""
    text = resources.files(__package__).joinpath("checklist.schema.json").read_text("utf-8")
    return json.loads(text)
