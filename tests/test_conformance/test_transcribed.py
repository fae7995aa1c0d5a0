"""The testmgr vectors transcribed from a real kernel tree
(testmgr_transcribed.json): complete for what they name, read back as a
tree's own arrays are, passed by every driver, and in the default run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from iovcrypto.tools.conformance import runner as R
from iovcrypto.tools.conformance import testmgr_transcribed as T
from iovcrypto.tools.conformance.command import conformance
from iovcrypto.tools.conformance.configs import DEFAULT_CIPHER_TESTVEC_CONFIGS
from iovcrypto.tools.conformance.testmgr import load_testmgr
from iovcrypto.tools.conformance.testmgr_transcribed import registered
from iovcrypto.tools.conformance.vectors import builtin_vectors

KERNEL = Path(__file__).parent / "fixtures" / "kernel"


@pytest.fixture(scope="module")
def tm():
    return T.load_transcribed()


def test_the_file_names_registered_algorithms_and_the_asked_vectors(tm) -> None:
    names = set(tm.suites)
    for world in ("sg", "iter"):
        assert names <= set(registered(world)), names - set(registered(world))
    essiv = tm.vectors("essiv(authenc(hmac(sha256),cbc(aes)),sha256)")
    assert len(essiv) == 7 and all(len(v.iv) == 16 for v in essiv)
    for h in ("sha1", "sha224", "sha256", "sha384", "sha512"):
        vecs = tm.vectors(f"authenc(hmac({h}),rfc3686(ctr(aes)))")
        assert len(vecs) == 7 and all(len(v.iv) == 8 for v in vecs), h
    assert sum(len(v) for v in tm.arrays.values()) >= 467


def test_transcription_reads_back_as_the_tree_reads(tmp_path: Path) -> None:
    tree = load_testmgr(str(KERNEL))
    names = {s.alg for s in tree.tested()}
    path = tmp_path / "t.json"
    path.write_text(T._dumps(T.transcribe(str(KERNEL), names)))
    json.loads(path.read_text())
    back = T.load_transcribed(str(path))
    assert set(back.suites) == names
    for name in names:
        a, b = tree.vectors(name), back.vectors(name)
        strip = [{k: v for k, v in vars(x).items() if k != "source"} for x in a]
        assert strip == [{k: v for k, v in vars(x).items() if k != "source"} for x in b], name


@pytest.mark.parametrize("world", ["sg", "iter"])
def test_every_transcribed_vector_passes_every_driver(tm, world: str) -> None:
    """One buffer layout, every driver of every algorithm in the file, in
    one world (the conformance run with ``--testmgr builtin`` takes every
    layout and the bridges)."""
    plan = R.Plan([DEFAULT_CIPHER_TESTVEC_CONFIGS[0]], faults=False, large=False,
                  discard=False, async_reuse=False)
    reg = registered(world)
    ran = 0
    for name in tm.suites:
        vecs = tm.vectors(name)
        for alg in reg[name]:
            res = R.run_target(R.Target(alg, world), vecs, plan, seed=1)
            assert not res.failures, [f.message for f in res.failures[:3]]
            assert res.stats.vectors == len(vecs)
            ran += 1
    assert ran > len(tm.suites)      # every algorithm, and the accelerated drivers too


def test_the_default_run_takes_the_sample(tm) -> None:
    for name, idx in T.SAMPLE.items():
        got = [v for v in builtin_vectors(name) if "transcribed" in v.source]
        want = tm.vectors(name)
        assert got == [want[i] for i in idx], name


def test_the_command_takes_builtin(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = CliRunner().invoke(conformance, [
        "--testmgr", "builtin", "--alg", "authenc(hmac(sha384),rfc3686(ctr(aes)))",
        "--api", "iter", "--configs", "default", "--fuzz", "0", "--no-progress",
        "--format", "json", "-o", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc["options"]["testmgr"].startswith("builtin: testmgr.h v7.2")
    vecs = {r["driver"]: r["vectors"] for r in doc["results"] if r["status"] != "skip"}
    assert vecs and set(vecs.values()) == {7}
