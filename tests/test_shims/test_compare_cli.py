"""``iovcrypto compare`` says what it measured: the columns explained, the
size it really ran, a schema in its JSON, its errors as one-liners before
any work, an output file, and a plot a person can read."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from iovcrypto.tools import compare as cmp
from iovcrypto.tools import compare_render
from iovcrypto.tools.cli import cli

ONE = ["--layout", "pages", "--repeat", "1", "--no-progress"]


def run(*args: str):
    return CliRunner().invoke(cli, ["compare", *args])


def test_columns_are_explained_and_lines_have_no_trailing_space():
    res = run("--alg", "cbc(aes)", *ONE, "--size", "4096")
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert all(line == line.rstrip() for line in lines)
    for head, _, meaning in compare_render.COLUMNS[1:]:
        assert f"{head:10} {meaning}" in lines, head
    md = run("--alg", "cbc(aes)", *ONE, "--format", "markdown")
    assert "- `descB`: bytes allocated for descriptors" in md.stdout


def test_json_has_a_schema_and_the_size_really_run(tmp_path):
    out = tmp_path / "c.json"
    res = run("--alg", "cbc(aes)", "--alg", "cts(cbc(aes))", *ONE, "--size", "17",
              "--format", "json", "-o", str(out))
    assert res.exit_code == 0, res.output
    assert res.stdout == ""
    doc = json.loads(out.read_text())
    assert doc["schema"] == "iovcrypto-compare/1"
    assert doc["columns"]["bytes_copied"].startswith("bytes those copies moved")
    sizes = {r["alg"]: (r["size_requested"], r["size"]) for r in doc["results"]}
    # CBC takes whole blocks; CTS steals and takes the 17 bytes as asked.
    assert sizes == {"cbc(aes)": (17, 16), "cts(cbc(aes))": (17, 17)}
    small = json.loads(run("--alg", "cbc(aes)", *ONE, "--size", "15", "--format",
                           "json").stdout)
    assert small["results"][0]["size"] == 16          # one block at least, and said so
    text = run("--alg", "cbc(aes)", *ONE, "--size", "15")
    assert "16 B (asked 15: whole blocks)" in text.stdout


@pytest.mark.parametrize("args, says", [
    (["--seed", "-1"], "Invalid value for '--seed'"),
    (["--plot", "/nonexistent/dir/x.png"], "does not exist or is not writable"),
    (["--plot", "x.txt"], "the plot is written as .png, .pdf, .svg"),
    (["-o", "/nonexistent/dir/x.json"], "Invalid value for '--output'"),
])
def test_bad_options_are_one_line_errors_before_any_work(args, says, monkeypatch):
    ran = []
    monkeypatch.setattr(cmp, "run_compare", lambda *a, **k: ran.append(1) or [])
    res = run("--alg", "cbc(aes)", *args)
    assert res.exit_code == 2 and not ran
    assert says in res.output and "Traceback" not in res.output


def test_progress_is_one_bar_on_stderr():
    res = run("--alg", "cbc(aes)", "--layout", "all", "--repeat", "1", "--progress",
              "--format", "json")
    assert res.exit_code == 0
    assert json.loads(res.stdout)["schema"] == "iovcrypto-compare/1"
    assert "compare" in res.stderr and "[1/5]" not in res.stderr


def test_plot_is_small_multiples_by_family(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    import matplotlib.figure

    saved = []
    real = matplotlib.figure.Figure.savefig
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig",
                        lambda fig, *a, **k: saved.append(fig) or real(fig, *a, **k))
    out = tmp_path / "cost.png"
    res = run("--alg", "gcm(aes)", "--alg", "rfc4106(gcm(aes))", "--alg", "cbc(aes)",
              *ONE, "--size", "4096", "--plot", str(out))
    assert res.exit_code == 0, res.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (fig,) = saved
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()]
    # Sorted by family, one panel per algorithm, units on every axis.
    assert titles == ["cbc · cbc(aes) · 4096 B", "gcm · gcm(aes) · 4096 B",
                      "gcm · rfc4106(gcm(aes)) · 4096 B"]
    labels = {ax.get_ylabel() for ax in fig.axes if ax.get_visible()}
    assert labels == {"µs per operation (median)", "bytes copied per operation"}
    w, h = fig.get_size_inches()
    assert w <= 16 and h <= 12


def test_an_authenc_over_single_des_gets_a_key():
    """compare finds the key an authenc instance's child takes: single DES
    wants 8 bytes (the default run failed on it with "no key length
    accepted", and run_all's bytes-copied row with it)."""
    res = run("--alg", "authenc(hmac(sha1),cbc(des))", *ONE, "--format", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["results"]
