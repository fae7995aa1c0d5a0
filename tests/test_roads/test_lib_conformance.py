"""The library road under the conformance harness (``--api lib``): the
same vectors, configurations, realisations and checks as the request APIs,
and each check able to fail when its bug is planted in the caller."""

from __future__ import annotations

from click.testing import CliRunner

from iovcrypto.tools.conformance.command import conformance
from iovcrypto.tools.roads import lib_aead

FAST = ["--no-progress", "--random-vectors", "1", "--vectors", "2", "--random-configs", "1",
        "--fuzz", "0"]


def _run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(conformance, [*FAST, *args], catch_exceptions=False)
    return res.exit_code, res.output


def test_library_road_passes_the_default_run():
    code, out = _run("--api", "lib")
    assert code == 0, out
    assert "lib-aes-gcm" in out and "lib-aes-ccm" in out and "PASSED" in out


def test_planted_no_zeroing_is_caught(monkeypatch):
    monkeypatch.setattr(lib_aead, "_zero", lambda data, progress, len, priv, priv2: 0)
    code, out = _run("--api", "lib", "--alg", "gcm(aes)")
    assert code == 1
    assert "leaked unauthenticated plaintext" in out


def test_planted_iterator_left_moved_on_error_is_caught(monkeypatch):
    real = lib_aead.iov_iter_revert
    monkeypatch.setattr(lib_aead, "iov_iter_revert",
                        lambda i, n: real(i, max(0, n - 1)))
    code, out = _run("--api", "lib")
    assert code == 1
    assert "misplaced (moved although the call failed)" in out


def test_planted_wrong_step_is_a_wrong_result(monkeypatch):
    real = lib_aead.aes_gcm_encrypt_update

    def flip(ctx, dst, src, len):
        real(ctx, dst, src, len)
        if len:
            dst[0] ^= 1
    monkeypatch.setattr(lib_aead, "aes_gcm_encrypt_update", flip)
    code, out = _run("--api", "lib", "--alg", "gcm(aes)")
    assert code == 1
    assert "encryption test failed (wrong result)" in out
