"""Shared paths and small helpers for the checklist tests."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
C_FIXTURES = FIXTURES / "c"
PYTREE = FIXTURES / "pytree"
GARBAGE = FIXTURES / "unparsable" / "garbage.c"
SARIF_SUBSET_SCHEMA = HERE / "sarif-2.1.0-subset.schema.json"


# The constructs the reader has always reported (calls of catalogued names and
# struct declarations): the recall tests compare exactly these, so that the
# data flow's additions (field reads and writes, references, page acquire and
# release sites, same-file calls that pass a table) cannot hide a lost call.
RECALL = ("call", "declaration", "acquire", "release")


def rows(report) -> list[tuple[int, str, str, str]]:
    """(line, function or scope, text, rule) for every catalogued call and declaration."""
    return [(f.line, f.function or f.scope, f.text, f.rule) for f in report.findings
            if f.construct in RECALL and not f.rule.startswith("page_")]


def all_rows(report) -> list[tuple[int, str, str, str, str]]:
    """(line, function or scope, text, rule, construct) for every finding."""
    return [(f.line, f.function or f.scope, f.text, f.rule, f.construct)
            for f in report.findings]

FLOW = FIXTURES / "flow"
COCCI_EXPECTED = FIXTURES / "cocci_expected"
