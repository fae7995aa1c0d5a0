"""``iovcrypto compare``: equal outputs asserted, costs reported, formats."""

from __future__ import annotations

import builtins
import json

import pytest
from click.testing import CliRunner

import sgl
from iovcrypto import skcipher as isk
from iovcrypto.tools import compare as cmp
from iovcrypto.tools import compare_render
from iovcrypto.tools.cli import cli
from shims import bridge
from tests.test_sgl.toy_drivers import XorSkcipher
from tests.test_shims.toy_iter_drivers import IterXorSkcipher


def run(*args: str):
    return CliRunner().invoke(cli, ["compare", *args])


def have(name: str) -> bool:
    return bool(cmp._natives("sg", "skcipher", name) or cmp._natives("sg", "aead", name))


@pytest.fixture
def toy_pair(request):
    """xor(toy) in both worlds; the iov_iter one flips a byte if asked."""
    flip = getattr(request, "param", None)
    sgd, itd = XorSkcipher(driver="xor-toy-sg"), IterXorSkcipher(flip=flip)
    assert sgl.crypto_register_skcipher(sgd) == 0
    assert isk.crypto_register_skcipher(itd) == 0
    yield
    sgl.crypto_unregister_skcipher(sgd)
    isk.crypto_unregister_skcipher(itd)


def test_toy_algorithm_all_paths_equal(toy_pair):
    res = run("--alg", "xor(toy)", "--layout", "all", "--size", "5000", "--repeat", "2",
              "--format", "json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["ok"] is True
    assert {r["layout"] for r in doc["results"]} == set(cmp.LAYOUTS)
    for r in doc["results"]:
        # The toy takes any length, so the 5000 bytes asked for are what ran.
        assert r["mismatch"] == [] and r["ledger"] == [] and r["size"] == 5000
        by = {p["path"]: p for p in r["paths"]}
        # f:lib serves only the AEADs lib/crypto has (gcm, ccm).
        assert all(p["status"] == "ok" for k, p in by.items() if k != "f:lib")
        assert by["f:lib"]["status"] == "n/a"
        assert by["d:sg>it"]["driver"] == "bridge(xor-toy-iter)"
        assert by["e:it>sg"]["driver"] == "bridge(xor-toy-sg)"
        # Only the extraction path and the iov_iter->sg bridge pin, and only
        # for user memory; scatterlist descriptors are built only there.
        for name, p in by.items():
            pins = p["counters"].get("pins", 0)
            assert (pins > 0) == (r["layout"] == "user" and name in ("a:extract", "e:it>sg"))
        assert by["a:extract"]["counters"]["descriptor_bytes"] > 0
        assert by["b:sg"]["counters"]["descriptor_bytes"] == 0
        assert by["c:iter"]["counters"]["descriptor_bytes"] == 0
    assert bridge.registered_bridges() == []          # compare cleaned up


@pytest.mark.parametrize("toy_pair", [3], indirect=True)
def test_planted_difference_is_detected(toy_pair):
    res = run("--alg", "xor(toy)", "--layout", "pages", "--size", "4096", "--repeat", "1",
              "--format", "json")
    assert res.exit_code == 1
    assert "MISMATCH xor(toy) [pages]" in res.stderr
    (r,) = json.loads(res.stdout)["results"]
    assert r["reference"] == "a:extract"
    # Every path through the faulty iov_iter driver differs; the others agree.
    assert r["mismatch"] == ["c:iter", "d:sg>it"]
    text = run("--alg", "xor(toy)", "--layout", "pages", "--size", "4096", "--repeat", "1")
    assert text.exit_code == 1 and "DIFF" in text.stdout


def test_text_fits_80_columns_and_markdown(toy_pair):
    res = run("--alg", "xor(toy)", "--layout", "user", "--size", "4096", "--repeat", "1")
    assert res.exit_code == 0
    lines = res.stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    assert any(line.startswith("path") and "µs/op" in line for line in lines)
    md = run("--alg", "xor(toy)", "--layout", "user", "--size", "4096", "--repeat", "1",
             "--format", "markdown")
    assert md.exit_code == 0
    assert "| path | µs/op |" in md.stdout and "| b:sg |" in md.stdout


def test_no_match_is_an_error():
    res = run("--alg", "no-such-alg*")
    assert res.exit_code != 0 and "no algorithm matches" in res.output


def test_plot_without_matplotlib_says_so(toy_pair, monkeypatch, tmp_path):
    real_import = builtins.__import__

    def fake(name, *a, **k):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("no matplotlib")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    res = run("--alg", "xor(toy)", "--plot", str(tmp_path / "x.png"))
    assert res.exit_code == 1 and "needs matplotlib" in res.output
    assert not (tmp_path / "x.png").exists()


def test_plot_with_matplotlib(toy_pair, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "cost.png"
    res = run("--alg", "xor(toy)", "--layout", "pages", "--size", "4096", "--repeat", "1",
              "--plot", str(out))
    assert res.exit_code == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("alg", ("cbc(aes)", "gcm(aes)"))
def test_real_algorithms_every_path_agrees(alg):
    if not have(alg):
        pytest.skip(f"{alg} is not registered")
    records = cmp.run_compare((alg,), ("pages", "user"), 4096, 1, 0)
    for r in records:
        assert r["mismatch"] == [] and r["ledger"] == [] and r["errors"] == []
        ran = [p["path"] for p in r["paths"] if p["status"] == "ok"]
        assert "a:extract" in ran and "b:sg" in ran


def test_algorithm_in_one_world_only_runs_what_can_run():
    drv = IterXorSkcipher(name="onlyiter(toy)", driver="onlyiter-toy-iter")
    assert isk.crypto_register_skcipher(drv) == 0
    try:
        (r,) = cmp.run_compare(("onlyiter(toy)",), ("pages",), 4096, 1, 0)
    finally:
        isk.crypto_unregister_skcipher(drv)
    status = {p["path"]: p["status"] for p in r["paths"]}
    assert status == {"a:extract": "n/a", "b:sg": "n/a", "c:iter": "ok", "d:sg>it": "ok",
                      "e:it>sg": "n/a", "f:lib": "n/a"}
    assert not compare_render.failed([r])
    assert "n/a" in compare_render.render_text([r])
