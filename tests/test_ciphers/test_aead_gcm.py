"""gcm(aes) cores (generic and accelerated) against cryptography and
pycryptodome, under any split, plus the rfc4106/rfc4543 helpers."""

from __future__ import annotations

import os

import numpy as np
import pytest
from Crypto.Cipher import AES as PyAES
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from ciphers.aead_accel import AccelGcm, AccelGcmKey
from ciphers.gcm import (
    Gcm,
    GcmKey,
    crypto_gcm_check_authsize,
    crypto_ipsec_check_assoclen,
    crypto_rfc4106_check_authsize,
    crypto_rfc4543_check_authsize,
    rfc4106_nonce,
    rfc4106_split_key,
)
from kmem import errno
from tests.test_ciphers.splits import pieces

EINVAL = -errno.EINVAL




def make(key: bytes, iv: bytes, accel: bool, decrypt: bool = False):
    if accel:
        return AccelGcm(AccelGcmKey(key), iv, decrypt=decrypt)
    return Gcm(GcmKey(key), iv, decrypt=decrypt)


def encrypt(key: bytes, iv: bytes, ad: bytes, pt: bytes, accel: bool = False,
            ad_cuts: list[int] | None = None, pt_cuts: list[int] | None = None) -> bytes:
    g = make(key, iv, accel)
    for p in pieces(ad, ad_cuts or []):
        g.update_ad(p)
    out = np.empty(len(pt), dtype=np.uint8)
    pos = 0
    for p in pieces(pt, pt_cuts or []):
        g.update(p, out[pos:pos + len(p)])
        pos += len(p)
    return out.tobytes() + g.finalize()


def decrypt(key: bytes, iv: bytes, ad: bytes, ct: bytes, tag: bytes, accel: bool = False,
            ad_cuts: list[int] | None = None,
            ct_cuts: list[int] | None = None) -> tuple[bool, bytes]:
    g = make(key, iv, accel, decrypt=True)
    for p in pieces(ad, ad_cuts or []):
        g.update_ad(p)
    buf = np.frombuffer(bytearray(ct), dtype=np.uint8)
    pos = 0
    for p in pieces(ct, ct_cuts or []):
        view = buf[pos:pos + len(p)]
        g.update(view, view)  # in place, piece by piece
        pos += len(p)
    return g.verify(tag), buf.tobytes()


@pytest.mark.parametrize("accel", [False, True], ids=["generic", "accel"])
@pytest.mark.parametrize("keylen", [16, 24, 32])
@pytest.mark.parametrize(("adlen", "ptlen"), [(0, 0), (0, 1), (13, 0), (16, 16), (20, 1000),
                                             (3, 65536 + 5), (1500, 4096)])
def test_gcm_matches_aesgcm(keylen: int, adlen: int, ptlen: int, accel: bool) -> None:
    key, iv = os.urandom(keylen), os.urandom(12)
    ad, pt = os.urandom(adlen), os.urandom(ptlen)
    ref = AESGCM(key).encrypt(iv, pt, ad)
    assert encrypt(key, iv, ad, pt, accel) == ref
    ok, got = decrypt(key, iv, ad, ref[:ptlen], ref[ptlen:], accel)
    assert ok and got == pt
    bad = bytearray(ref)
    bad[-1] ^= 1
    assert not decrypt(key, iv, ad, bytes(bad[:ptlen]), bytes(bad[ptlen:]), accel)[0]
    if ptlen:
        assert not decrypt(key, iv, ad, bytes([ref[0] ^ 0x80]) + ref[1:ptlen],
                           ref[ptlen:], accel)[0]


@pytest.mark.parametrize("accel", [False, True], ids=["generic", "accel"])
@pytest.mark.parametrize("taglen", [4, 8, 12, 13, 14, 15, 16])
def test_gcm_truncated_tags_match_pycryptodome(taglen: int, accel: bool) -> None:
    key, iv, ad, pt = os.urandom(16), os.urandom(12), os.urandom(21), os.urandom(77)
    ct, tag = _pyc(key, iv, ad, pt, taglen)
    got = encrypt(key, iv, ad, pt, accel)
    assert got[:len(pt)] == ct and got[len(pt):len(pt) + taglen] == tag
    ok, plain = decrypt(key, iv, ad, ct, tag, accel)
    assert ok and plain == pt
    assert not decrypt(key, iv, ad, ct, bytes([tag[0] ^ 1]) + tag[1:], accel)[0]


def _pyc(key: bytes, iv: bytes, ad: bytes, pt: bytes, taglen: int) -> tuple[bytes, bytes]:
    c = PyAES.new(key, PyAES.MODE_GCM, nonce=iv, mac_len=taglen)
    c.update(ad)
    return c.encrypt_and_digest(pt)


@given(ad=st.binary(max_size=80), pt=st.binary(max_size=700),
       ad_cuts=st.lists(st.integers(0, 80), max_size=4),
       pt_cuts=st.lists(st.integers(0, 700), max_size=6), accel=st.booleans())
def test_gcm_any_split_equals_one_call(ad: bytes, pt: bytes, ad_cuts: list[int],
                                       pt_cuts: list[int], accel: bool) -> None:
    key, iv = os.urandom(16), os.urandom(12)
    whole = encrypt(key, iv, ad, pt, accel)
    assert encrypt(key, iv, ad, pt, accel, ad_cuts, pt_cuts) == whole
    ok, got = decrypt(key, iv, ad, whole[:len(pt)], whole[len(pt):], accel, ad_cuts, pt_cuts)
    assert ok and got == pt
    assert whole == AESGCM(key).encrypt(iv, pt, ad)


def test_gcm_generic_and_accel_agree_on_large_split_input() -> None:
    key, iv, ad, pt = os.urandom(32), os.urandom(12), os.urandom(33), os.urandom(300_001)
    cuts = [1, 17, 4096, 4097, 100_000, 250_000]
    assert encrypt(key, iv, ad, pt, False, [5], cuts) == encrypt(key, iv, ad, pt, True, [7], cuts)


def test_gcm_key_reused_across_requests() -> None:
    key = os.urandom(16)
    gk = GcmKey(key)
    for n in (0, 5, 5000, 3):
        iv, pt = os.urandom(12), os.urandom(n)
        g = Gcm(gk, iv)
        out = np.empty(n, dtype=np.uint8)
        g.update(pt, out)
        assert out.tobytes() + g.finalize() == AESGCM(key).encrypt(iv, pt, None)


def test_gcm_finalize_is_idempotent_and_verify_any_prefix() -> None:
    key, iv = os.urandom(16), os.urandom(12)
    ref = AESGCM(key).encrypt(iv, b"", b"ad")
    g = Gcm(GcmKey(key), iv, decrypt=True)
    g.update_ad(b"ad")
    assert g.finalize() == g.finalize() == ref
    assert g.verify(ref[:1]) and g.verify(ref) and not g.verify(bytes(16))


def test_gcm_misuse_is_rejected() -> None:
    gk = GcmKey(bytes(16))
    with pytest.raises(ValueError, match="12 bytes"):
        Gcm(gk, bytes(16))
    with pytest.raises(TypeError):
        Gcm(object(), bytes(12))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="16, 24 or 32"):
        GcmKey(bytes(20))
    g = Gcm(gk, bytes(12))
    g.update(b"ab", np.empty(2, dtype=np.uint8))
    with pytest.raises(ValueError, match="before the data"):
        g.update_ad(b"x")
    with pytest.raises(ValueError, match="differs"):
        g.update(b"ab", np.empty(3, dtype=np.uint8))
    with pytest.raises(TypeError, match="read-only"):
        g.update(b"ab", np.frombuffer(b"xy", dtype=np.uint8))
    g.finalize()
    with pytest.raises(ValueError, match="finalized"):
        g.update(b"", np.empty(0, dtype=np.uint8))
    with pytest.raises(ValueError, match=r"1\.\.16"):
        g.verify(bytes(17))
    a = AccelGcm(AccelGcmKey(bytes(16)), bytes(12), decrypt=True)
    with pytest.raises(ValueError, match="only verify"):
        a.finalize()
    with pytest.raises(ValueError, match=r"4\.\.16"):
        a.verify(bytes(3))
    with pytest.raises(ValueError, match="not a decryption"):
        AccelGcm(AccelGcmKey(bytes(16)), bytes(12)).verify(bytes(16))


def test_gcm_authsize_and_assoclen_checks() -> None:
    assert [a for a in range(0, 20) if crypto_gcm_check_authsize(a) == 0] == \
        [4, 8, 12, 13, 14, 15, 16]
    assert [a for a in range(0, 20) if crypto_rfc4106_check_authsize(a) == 0] == [8, 12, 16]
    assert [a for a in range(0, 20) if crypto_rfc4543_check_authsize(a) == 0] == [16]
    assert crypto_gcm_check_authsize(0) == EINVAL
    assert [a for a in range(0, 64) if crypto_ipsec_check_assoclen(a) == 0] == [16, 20]
    assert crypto_ipsec_check_assoclen(24) == EINVAL


def test_rfc4106_key_split_and_nonce() -> None:
    assert rfc4106_split_key(b"abc") == (EINVAL, b"", b"")
    assert rfc4106_split_key(bytes(20), 3)[0] == EINVAL
    key = os.urandom(16) + b"SALT"
    assert rfc4106_split_key(key) == (0, key[:16], b"SALT")
    assert rfc4106_split_key(b"SALT") == (0, b"", b"SALT")
    with pytest.raises(ValueError, match="keylen"):
        rfc4106_split_key(bytes(8), 9)
    assert rfc4106_nonce(b"SALT", b"12345678") == b"SALT12345678"
    with pytest.raises(ValueError):
        rfc4106_nonce(b"SAL", b"12345678")


def test_rfc4106_composition_matches_independent_aesgcm() -> None:
    # ESP: AD = SPI ‖ seq ‖ IV copy; GHASH covers AD without the IV copy.
    aes_key, salt, iv = os.urandom(16), os.urandom(4), os.urandom(8)
    spi_seq, pt = os.urandom(8), os.urandom(100)
    ret, k, s = rfc4106_split_key(aes_key + salt)
    assert ret == 0
    got = encrypt(k, rfc4106_nonce(s, iv), spi_seq, pt)
    assert got == AESGCM(aes_key).encrypt(salt + iv, pt, spi_seq)


def test_rfc4543_gmac_composition_matches_independent_aesgcm() -> None:
    # GMAC: all of the AD (IV copy included) and the plaintext are hashed,
    # nothing is encrypted: the tag is that of an empty message.
    aes_key, salt, iv = os.urandom(16), os.urandom(4), os.urandom(8)
    ad, pt = os.urandom(8) + iv, os.urandom(61)
    g = Gcm(GcmKey(aes_key), rfc4106_nonce(salt, iv))
    g.update_ad(ad)
    g.update_ad(pt)
    assert g.finalize() == AESGCM(aes_key).encrypt(salt + iv, b"", ad + pt)
