"""The command says the truth: its exit statuses, the reproduce line that
runs as printed, errors on stderr, contradictory options refused, the
output file opened before the run, the progress bar kept off stdout."""

from __future__ import annotations

import inspect
import shlex

from click.testing import CliRunner

from iovcrypto.tools.conformance import runner as R
from iovcrypto.tools.conformance.command import EXIT_NOTHING, conformance

from .planted import PlantedCbc, planted

FAST = ["--no-progress", "--random-vectors", "1", "--vectors", "1", "--random-configs", "1",
        "--fuzz", "0"]


def _invoke(*args: str):
    # click 8.1 mixes stderr into the output unless told not to; 8.2 keeps both.
    kw = {"mix_stderr": False} if "mix_stderr" in inspect.signature(CliRunner).parameters else {}
    return CliRunner(**kw).invoke(conformance, list(args), catch_exceptions=False)


def test_a_bridge_failures_reproduce_line_runs_as_printed() -> None:
    with planted(PlantedCbc("cbc-aes-planted-bridge", fault="flip")):
        first = _invoke(*FAST, "--configs", "random", "--driver", "*planted-bridge*",
                        "--api", "bridge-iter")
        assert first.exit_code == 1, first.stdout + first.stderr
        repro = [line.split("reproduce: ", 1)[1] for line in first.stdout.splitlines()
                 if "reproduce: " in line]
        # One line per failing run, however many failures it had.
        assert len(repro) == 1, first.stdout
        argv = shlex.split(repro[0])
        assert argv[:2] == ["iovcrypto", "conformance"]
        assert "--api bridge-iter" in repro[0] and "--configs random" in repro[0]
        again = _invoke("--no-progress", *argv[2:])
    assert again.exit_code == 1, again.stdout + again.stderr
    fails = [line for line in first.stdout.splitlines() if line.startswith("alg: ")]
    assert fails and fails == [line for line in again.stdout.splitlines()
                               if line.startswith("alg: ")]


def test_nothing_selected_is_an_error_with_close_matches() -> None:
    res = _invoke(*FAST, "--alg", "cbc(aes", "--fuzz", "0")
    assert res.exit_code == EXIT_NOTHING == 3
    assert res.stdout == ""
    assert "error: nothing selected" in res.stderr and "cbc(aes)" in res.stderr
    assert "PASSED" not in res.stderr
    contradictory = _invoke(*FAST, "--alg", "gcm(aes)", "--driver", "cbc-aes-openssl",
                            "--format", "json")
    assert contradictory.exit_code == EXIT_NOTHING and contradictory.stdout == ""


def test_a_run_that_checks_nothing_does_not_pass() -> None:
    res = _invoke("--no-progress", "--alg", "ecb(aes)", "--api", "sg", "--configs", "random",
                  "--random-configs", "0", "--fuzz", "0")
    assert res.exit_code == EXIT_NOTHING, res.stdout
    assert res.stdout.splitlines()[-1].startswith("NOTHING CHECKED: ")
    assert "PASSED" not in res.stdout


def test_contradictory_options_are_usage_errors() -> None:
    for args in (["--full-corpus", "--vectors", "3"],
                 ["--configs", "default", "--random-configs", "3"]):
        res = _invoke(*args)
        assert res.exit_code == 2, args
        assert "Error:" in res.stderr and res.stdout == ""


def test_alg_is_repeatable() -> None:
    res = _invoke(*FAST, "--alg", "ecb(aes)", "--alg", "ctr(aes)", "--api", "sg")
    assert res.exit_code == 0, res.stdout
    lines = res.stdout.splitlines()
    assert "ecb(aes)" in lines and "ctr(aes)" in lines


def test_output_file_is_opened_before_the_run(tmp_path, monkeypatch) -> None:
    ran = []
    monkeypatch.setattr("iovcrypto.tools.conformance.command.run",
                        lambda *a, **k: ran.append(1))
    res = _invoke(*FAST, "-o", str(tmp_path / "no" / "such" / "x.json"))
    assert res.exit_code == 2 and not ran
    assert "x.json" in res.stderr and "Traceback" not in res.stderr


def test_progress_goes_to_stderr_and_the_report_starts_clean() -> None:
    res = _invoke("--progress", "--random-vectors", "1", "--vectors", "1", "--fuzz", "0",
                  "--random-configs", "1", "--alg", "ecb(aes)", "--api", "sg",
                  "--format", "ktap")
    assert res.exit_code == 0
    assert res.stdout.startswith("KTAP version 1\n")
    assert "conformance" in res.stderr


def test_the_failure_cap_is_reported(monkeypatch) -> None:
    monkeypatch.setattr(R, "MAX_FAILURES_PER_TARGET", 2)
    monkeypatch.setattr("iovcrypto.tools.conformance.report.MAX_FAILURES_PER_TARGET", 2)
    with planted(PlantedCbc("cbc-aes-planted-cap", fault="flip")):
        res = _invoke(*FAST, "--driver", "cbc-aes-planted-cap", "--api", "sg")
    assert res.exit_code == 1
    assert "(stopped after 2 failures: later vectors of cbc-aes-planted-cap (sg) were not run)" \
        in res.stdout


def test_more_random_configs_add_a_request_of_several_mib(monkeypatch) -> None:
    """Item 1 of the conformance issue: sizes up to several MiB.  The
    default run has one request past the 1 MiB window; scaling
    --random-configs adds one that crosses three of them."""
    from iovcrypto.tools.conformance import passes

    seen: list[tuple[int, bool]] = []
    real = passes._run_large_len

    def spy(ctx, tfm, plan, seed, n):
        ok = real(ctx, tfm, plan, seed, n)
        seen.append((n, ok))
        return ok

    monkeypatch.setattr(passes, "_run_large_len", spy)
    base = ["--no-progress", "--alg", "ctr(aes)", "--driver", "ctr-aes-openssl", "--api", "iter"]
    assert _invoke(*base).exit_code == 0
    assert [n for n, _ in seen] == [passes.LARGE_LEN]
    seen.clear()
    assert _invoke(*base, "--random-configs", "3").exit_code == 0
    assert seen == [(passes.LARGE_LEN, True), (passes.HUGE_LEN, True)]
    assert passes.HUGE_LEN > 3 << 20
