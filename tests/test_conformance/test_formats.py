"""The command's output formats: KTAP v1 checked by a small parser of the
grammar KUnit's tooling accepts, JSON against its schema, the text table,
and the exit statuses."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
from click.testing import CliRunner

from iovcrypto.tools.conformance import runner as R
from iovcrypto.tools.conformance.buffers import ITER_REALISATIONS
from iovcrypto.tools.conformance.command import conformance
from iovcrypto.tools.conformance.report import JSON_SCHEMA
from iovcrypto.tools.conformance.session import Options, run

from .planted import PlantedCbc, planted

SMALL = ["--no-progress", "--random-vectors", "1", "--vectors", "1", "--random-configs", "1",
         "--fuzz", "2"]

_RESULT = re.compile(r"^(ok|not ok) (\d+)( [^#]*?)?( # (SKIP|TODO)( .*)?)?$")


def parse_ktap(text: str) -> list[dict]:
    """A strict KTAP v1 parser: version line, plan, results numbered 1..N
    matching the plan, nested subtests indented by 4 more spaces and opened
    by their own version line, ``#`` diagnostics anywhere.  Raises
    AssertionError on a grammar violation; returns the top-level tests."""
    lines = text.rstrip("\n").split("\n")
    pos = 0

    def block(indent: str) -> list[dict]:
        nonlocal pos
        assert lines[pos] == indent + "KTAP version 1", (pos, lines[pos])
        pos += 1
        while lines[pos].startswith(indent + "# "):
            pos += 1
        m = re.fullmatch(re.escape(indent) + r"1\.\.(\d+)", lines[pos])
        assert m, (pos, lines[pos])
        plan = int(m.group(1))
        pos += 1
        tests: list[dict] = []
        subs: list[dict] | None = None
        while pos < len(lines) and lines[pos].startswith(indent):
            line = lines[pos][len(indent):]
            if line.startswith("    KTAP version 1"):
                subs = block(indent + "    ")
                continue
            if line.startswith("#") or not line:
                pos += 1
                continue
            r = _RESULT.match(line)
            assert r, (pos, lines[pos])
            assert int(r.group(2)) == len(tests) + 1, (pos, lines[pos])
            tests.append({"ok": r.group(1) == "ok", "name": (r.group(3) or "").strip(),
                          "directive": r.group(5), "subtests": subs or []})
            subs = None
            pos += 1
        assert len(tests) == plan, (plan, len(tests))
        return tests

    top = block("")
    while pos < len(lines):
        assert lines[pos].startswith("#"), (pos, lines[pos])
        pos += 1
    return top


def test_ktap_parser_rejects_bad_grammar() -> None:
    with pytest.raises(AssertionError):
        parse_ktap("KTAP version 1\n1..2\nok 1 a\n")
    with pytest.raises(AssertionError):
        parse_ktap("KTAP version 1\n1..1\nok 2 a\n")
    assert parse_ktap("KTAP version 1\n1..1\n    KTAP version 1\n    1..1\n    ok 1 x # SKIP y\n"
                      "ok 1 a\n")[0]["subtests"][0]["directive"] == "SKIP"


def test_ktap_output_is_valid_and_reports_failures() -> None:
    with planted(PlantedCbc("cbc-aes-planted-ktap", fault="flip")):
        res = CliRunner().invoke(conformance, [*SMALL, "--alg", "cbc(aes)", "--api", "sg",
                                               "--format", "ktap"])
    assert res.exit_code == 1
    tests = parse_ktap(res.output)
    assert [t["name"] for t in tests] == ["cbc(aes)"]
    assert not tests[0]["ok"]
    subs = {s["name"]: s["ok"] for s in tests[0]["subtests"]}
    assert subs["cbc-aes-planted-ktap sg"] is False
    assert subs["cbc(aes-generic) sg"] is True and subs["cbc-aes-openssl sg fuzz"] is True
    assert "    # alg: skcipher: cbc-aes-planted-ktap encryption test failed (wrong result)" \
        in res.output


def test_json_output_matches_its_schema(tmp_path) -> None:
    out = tmp_path / "r.json"
    res = CliRunner().invoke(conformance, [*SMALL, "--alg", "ctr(aes)", "--format", "json",
                                           "--output", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, JSON_SCHEMA)
    assert doc["passed"] and doc["totals"]["failures"] == 0
    apis = {r["api"] for r in doc["results"]}
    assert {"sg", "iter"} <= apis
    iter_rows = [r for r in doc["results"] if r["api"] == "iter" and r["kind"] == "vectors"]
    # Every iov_iter type and memory kind is exercised by default, and a
    # DISCARD dst with the forms the API refuses.
    reals = iter_rows[0]["realisations"]
    assert len([r for r in reals if " -> " not in r and ":" not in r]) == \
        len(ITER_REALISATIONS) == 10
    assert any(r.endswith(" -> ITER_DISCARD") for r in reals)
    assert {"DISCARD src: refused", "one DISCARD iov_iter in place: refused"} <= set(reals)
    assert iter_rows[0]["configs"] == 11          # nine defaults, one random, the large one


def test_text_table_and_summary() -> None:
    res = CliRunner().invoke(conformance, [*SMALL, "--alg", "ecb(aes)", "--api", "sg"])
    assert res.exit_code == 0
    lines = res.output.splitlines()
    assert lines[0].split()[:4] == ["driver", "api", "kind", "vecs"]
    # Rows grouped under their algorithm, an 80-column terminal's width.
    at = lines.index("ecb(aes)")
    assert lines[at + 1].split()[:2] in (["ecb(aes-generic)", "sg"], ["ecb-aes-openssl", "sg"])
    assert max(len(line) for line in lines[:-1]) <= 80, res.output
    assert all(line == line.rstrip() for line in lines)
    assert lines[-1].startswith("PASSED:") and "(seed 1)" in lines[-1]


def test_missing_bridges_are_a_notice_not_a_failure(monkeypatch) -> None:
    monkeypatch.setattr(R, "bridge_module", lambda: None)
    res = CliRunner().invoke(conformance, [*SMALL, "--api", "bridge"])
    assert res.exit_code == 3          # nothing was checked: not a pass either
    assert "NOTHING CHECKED" in res.output
    assert "notice: shims.bridge is not available yet: the bridge API is skipped" in res.output


def test_jobs_do_not_change_results() -> None:
    base = dict(alg="cts(cbc(aes))", random_vectors=1, corpus_limit=1, random_configs=1,
                fuzz=2, seed=5)
    one = run(Options(jobs=1, **base))
    two = run(Options(jobs=2, **base))
    key = [(k, r.target.driver, r.target.api, r.stats.checks, sorted(r.stats.configs))
           for k, r in one.results]
    assert key == [(k, r.target.driver, r.target.api, r.stats.checks, sorted(r.stats.configs))
                   for k, r in two.results]
    assert one.passed and two.passed
