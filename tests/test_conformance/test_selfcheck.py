"""The harness can fail: each planted fault is reported with testmgr's
message and a non-zero exit status; the same driver without a fault
passes (issue 7 item 5)."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from iovcrypto.tools.conformance.command import conformance

from .planted import PlantedCbc, PlantedGcm, planted

FAST = ["--no-progress", "--random-vectors", "1", "--vectors", "1", "--random-configs", "1",
        "--fuzz", "0"]


def _run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(conformance, [*FAST, *args], catch_exceptions=False)
    return res.exit_code, res.output


def test_correct_planted_drivers_pass() -> None:
    with planted(PlantedCbc("cbc-aes-planted-ok"), PlantedGcm("gcm-aes-planted-ok"),
                 PlantedCbc("cbc-aes-planted-ok-iter", world="iter")):
        code, out = _run("--driver", "*planted-ok*", "--api", "all")
    assert code == 0, out
    assert "PASSED" in out and "cbc-aes-planted-ok-iter" in out and "gcm-aes-planted-ok" in out


@pytest.mark.parametrize("offset", [0, 17])
def test_flipped_bit_is_a_wrong_result(offset: int) -> None:
    with planted(PlantedCbc("cbc-aes-planted-flip", fault="flip", offset=offset)):
        code, out = _run("--driver", "cbc-aes-planted-flip", "--api", "sg")
    assert code == 1
    # The first vector is SP 800-38A F.2.1 (32 bytes): both bytes are inside it.
    line = 'alg: skcipher: cbc-aes-planted-flip encryption test failed (wrong result) ' \
           'on test vector 0, cfg="in-place (one sglist)"'
    assert line in out.splitlines()
    # The run's own non-default options are repeated, once per failing run.
    repro = ("reproduce: iovcrypto conformance --driver 'cbc-aes-planted-flip' --api sg "
             "--random-configs 1 --vectors 1 --random-vectors 1 --fuzz 0 --seed 1")
    assert out.count(repro) == 1, out


def test_flipped_bit_in_the_iov_iter_world() -> None:
    with planted(PlantedCbc("cbc-aes-planted-flip-iter", world="iter", fault="flip")):
        code, out = _run("--driver", "cbc-aes-planted-flip-iter", "--api", "iter")
    assert code == 1
    assert re.search(r'^alg: skcipher: cbc-aes-planted-flip-iter encryption test failed '
                     r'\(wrong result\) on test vector 0, cfg="in-place \(one sglist\)" '
                     r'\[iter: ITER_\w+/\w+\]$', out, re.M), out


def test_wrong_output_iv() -> None:
    with planted(PlantedCbc("cbc-aes-planted-iv", fault="iv")):
        code, out = _run("--driver", "cbc-aes-planted-iv", "--api", "sg")
    assert code == 1
    assert 'alg: skcipher: cbc-aes-planted-iv encryption test failed (wrong output IV) on test ' \
           'vector 0, cfg="in-place (one sglist)"' in out


def test_write_past_the_end_is_an_overrun() -> None:
    with planted(PlantedCbc("cbc-aes-planted-overrun", fault="overrun")):
        res = CliRunner().invoke(conformance, [
            "--no-progress", "--random-vectors", "1", "--vectors", "1", "--fuzz", "0",
            "--driver", "cbc-aes-planted-overrun", "--api", "sg", "--configs", "default"])
        code, out = res.exit_code, res.output
    assert code == 1
    # In place the entry is followed by poison too; the first check to see
    # it is the output check.
    assert 'alg: skcipher: cbc-aes-planted-overrun encryption overran dst buffer on test ' \
           'vector 0, cfg="in-place (one sglist)"' in out


def test_leaked_pin_is_a_ledger_failure() -> None:
    with planted(PlantedCbc("cbc-aes-planted-pin", fault="pin")):
        code, out = _run("--driver", "cbc-aes-planted-pin", "--api", "sg")
    assert code == 1
    assert re.search(r'^alg: skcipher: cbc-aes-planted-pin encryption left sanitizer records '
                     r'on test vector 0, cfg="in-place \(one sglist\)": \[pin-leak\]', out, re.M)


def test_tag_check_that_accepts_everything() -> None:
    with planted(PlantedGcm("gcm-aes-planted-accept", fault="accept")):
        code, out = _run("--driver", "gcm-aes-planted-accept", "--api", "sg")
    assert code == 1
    # Built-in vector 4 is GCM test case 4 with a flipped tag bit.
    assert 'alg: aead: gcm-aes-planted-accept decryption unexpectedly succeeded on test vector ' \
           '4; expected_error=-74, cfg="in-place (one sglist)"' in out


def test_aead_flip_and_json_failure_record() -> None:
    with planted(PlantedGcm("gcm-aes-planted-flip", fault="flip", offset=3)):
        code, out = _run("--driver", "gcm-aes-planted-flip", "--api", "sg", "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert not doc["passed"]
    first = doc["failures"][0]
    assert first["message"] == ('alg: aead: gcm-aes-planted-flip encryption test failed (wrong '
                                'result) on test vector 0, cfg="in-place (one sglist)"')
    assert first["vector"] == "0" and first["op"] == "encryption" and first["seed"] == 1


def test_fuzzing_against_the_generic_twin_catches_a_flip() -> None:
    # A planted "accelerated" cbc(aes) in the sg world is compared with
    # cbc(aes-generic) when fuzzing is on.
    with planted(PlantedCbc("cbc-aes-planted-fuzz", fault="flip", offset=5)):
        res = CliRunner().invoke(conformance, [
            "--no-progress", "--driver", "cbc-aes-planted-fuzz", "--api", "sg",
            "--vectors", "0", "--random-vectors", "0", "--configs", "random",
            "--random-configs", "0", "--fuzz", "6"])
    assert res.exit_code == 1
    assert re.search(r'^alg: skcipher: cbc-aes-planted-fuzz (en|de)cryption test failed \(wrong '
                     r'result\) on test vector "random: len=\d+ klen=\d+", cfg="random:',
                     res.output, re.M), res.output
