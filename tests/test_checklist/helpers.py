"""Shared paths and small helpers for the checklist tests."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
C_FIXTURES = FIXTURES / "c"
PYTREE = FIXTURES / "pytree"
GARBAGE = FIXTURES / "unparsable" / "garbage.c"
SARIF_SUBSET_SCHEMA = HERE / "sarif-2.1.0-subset.schema.json"


def rows(report) -> list[tuple[int, str, str, str]]:
    """(line, function or scope, text, rule) for every finding of a FileReport."""
    return [(f.line, f.function or f.scope, f.text, f.rule) for f in report.findings]
