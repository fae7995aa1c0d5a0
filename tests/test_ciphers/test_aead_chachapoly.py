"""rfc7539 / rfc7539esp cores (generic and accelerated) against
cryptography's ChaCha20Poly1305 and pycryptodome, under any split."""

from __future__ import annotations

import os

import numpy as np
import pytest
from Crypto.Cipher import ChaCha20_Poly1305 as PyChaChaPoly
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from hypothesis import given
from hypothesis import strategies as st

from ciphers.aead_accel import AccelChaChaPoly
from ciphers.chacha20poly1305 import (
    ChaChaPoly,
    chacha_iv,
    chachapoly_split_key,
    rfc7539esp_check_assoclen,
)
from kmem import errno
from tests.test_ciphers.splits import pieces

EINVAL = -errno.EINVAL




def cls_for(accel: bool) -> type:
    return AccelChaChaPoly if accel else ChaChaPoly


def encrypt(key: bytes, nonce: bytes, ad: bytes, pt: bytes, accel: bool = False,
            ad_cuts: list[int] | None = None, pt_cuts: list[int] | None = None) -> bytes:
    c = cls_for(accel)(key, nonce)
    for p in pieces(ad, ad_cuts or []):
        c.update_ad(p)
    out = np.empty(len(pt), dtype=np.uint8)
    pos = 0
    for p in pieces(pt, pt_cuts or []):
        c.update(p, out[pos:pos + len(p)])
        pos += len(p)
    return out.tobytes() + c.finalize()


def decrypt(key: bytes, nonce: bytes, ad: bytes, ct: bytes, tag: bytes, accel: bool = False,
            ad_cuts: list[int] | None = None,
            ct_cuts: list[int] | None = None) -> tuple[bool, bytes]:
    c = cls_for(accel)(key, nonce, decrypt=True)
    for p in pieces(ad, ad_cuts or []):
        c.update_ad(p)
    buf = np.frombuffer(bytearray(ct), dtype=np.uint8)
    pos = 0
    for p in pieces(ct, ct_cuts or []):
        view = buf[pos:pos + len(p)]
        c.update(view, view)
        pos += len(p)
    return c.verify(tag), buf.tobytes()


@pytest.mark.parametrize("accel", [False, True], ids=["generic", "accel"])
@pytest.mark.parametrize(("adlen", "ptlen"), [(0, 0), (0, 1), (12, 0), (16, 64), (20, 1000),
                                             (3, 70001), (300, 4096)])
def test_chachapoly_matches_cryptography(adlen: int, ptlen: int, accel: bool) -> None:
    key, nonce = os.urandom(32), os.urandom(12)
    ad, pt = os.urandom(adlen), os.urandom(ptlen)
    ref = ChaCha20Poly1305(key).encrypt(nonce, pt, ad)
    assert encrypt(key, nonce, ad, pt, accel) == ref
    ok, got = decrypt(key, nonce, ad, ref[:ptlen], ref[ptlen:], accel)
    assert ok and got == pt
    assert not decrypt(key, nonce, ad + b"x", ref[:ptlen], ref[ptlen:], accel)[0]


def test_chachapoly_matches_pycryptodome() -> None:
    key, nonce, ad, pt = os.urandom(32), os.urandom(12), os.urandom(9), os.urandom(333)
    c = PyChaChaPoly.new(key=key, nonce=nonce)
    c.update(ad)
    ct, tag = c.encrypt_and_digest(pt)
    assert encrypt(key, nonce, ad, pt) == ct + tag


def test_rfc8439_section_2_8_2_vector() -> None:
    key = bytes(range(0x80, 0xA0))
    nonce = bytes.fromhex("070000004041424344454647")
    ad = bytes.fromhex("50515253c0c1c2c3c4c5c6c7")
    pt = (b"Ladies and Gentlemen of the class of '99: If I could offer you only one "
          b"tip for the future, sunscreen would be it.")
    got = encrypt(key, nonce, ad, pt)
    assert got[-16:].hex() == "1ae10b594f09e26a7e902ecbd0600691"
    assert got[:16].hex() == "d31a8d34648e60db7b86afbc53ef7ec2"


@given(ad=st.binary(max_size=80), pt=st.binary(max_size=700),
       ad_cuts=st.lists(st.integers(0, 80), max_size=4),
       pt_cuts=st.lists(st.integers(0, 700), max_size=6), accel=st.booleans())
def test_chachapoly_any_split_equals_one_call(ad: bytes, pt: bytes, ad_cuts: list[int],
                                              pt_cuts: list[int], accel: bool) -> None:
    key, nonce = os.urandom(32), os.urandom(12)
    whole = encrypt(key, nonce, ad, pt, accel)
    assert whole == ChaCha20Poly1305(key).encrypt(nonce, pt, ad)
    assert encrypt(key, nonce, ad, pt, accel, ad_cuts, pt_cuts) == whole
    ok, got = decrypt(key, nonce, ad, whole[:len(pt)], whole[len(pt):], accel, ad_cuts,
                      pt_cuts)
    assert ok and got == pt


def test_rfc7539esp_composition_matches_independent_aead() -> None:
    # rfc7539esp: key = chacha key ‖ salt(4); nonce = salt ‖ iv(8); the
    # authenticated AD is assoclen - 8 bytes (the trailing IV copy is not).
    ckey, salt, iv = os.urandom(32), os.urandom(4), os.urandom(8)
    spi_seq, pt = os.urandom(8), os.urandom(123)
    ret, k, s = chachapoly_split_key(ckey + salt, 4)
    assert ret == 0 and k == ckey and s == salt
    ret, adlen = rfc7539esp_check_assoclen(len(spi_seq) + 8)
    assert ret == 0 and adlen == 8
    nonce = chacha_iv(1, s, iv)[4:]
    got = encrypt(k, nonce, (spi_seq + iv)[:adlen], pt)
    assert got == ChaCha20Poly1305(ckey).encrypt(salt + iv, pt, spi_seq)


def test_chachapoly_key_and_assoclen_rules() -> None:
    assert chachapoly_split_key(bytes(32), 0) == (0, bytes(32), b"")
    assert chachapoly_split_key(bytes(33), 0)[0] == EINVAL
    assert chachapoly_split_key(bytes(32), 4)[0] == EINVAL
    assert chachapoly_split_key(bytes(40), 4, 36)[0] == 0
    with pytest.raises(ValueError, match="saltlen"):
        chachapoly_split_key(bytes(34), 2)
    assert rfc7539esp_check_assoclen(7) == (EINVAL, 0)
    assert rfc7539esp_check_assoclen(8) == (0, 0)
    assert chacha_iv(0, b"", bytes(12)) == bytes(16)
    assert chacha_iv(1, b"SALT", b"12345678") == b"\x01\x00\x00\x00SALT12345678"
    with pytest.raises(ValueError):
        chacha_iv(1, b"SALT", b"1234")


def test_chachapoly_misuse_is_rejected() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        ChaChaPoly(bytes(31), bytes(12))
    with pytest.raises(ValueError, match="12 bytes"):
        ChaChaPoly(bytes(32), bytes(8))
    c = ChaChaPoly(bytes(32), bytes(12))
    c.update(b"x", np.empty(1, dtype=np.uint8))
    with pytest.raises(ValueError, match="before the data"):
        c.update_ad(b"x")
    tag = c.finalize()
    assert c.finalize() == tag and c.verify(tag)
    with pytest.raises(ValueError, match="finalized"):
        c.update(b"", np.empty(0, dtype=np.uint8))
    with pytest.raises(ValueError, match="16 bytes"):
        c.verify(bytes(12))
    a = AccelChaChaPoly(bytes(32), bytes(12))
    with pytest.raises(ValueError, match="12 bytes"):
        AccelChaChaPoly(bytes(32), bytes(13))
    assert a.verify(ChaCha20Poly1305(bytes(32)).encrypt(bytes(12), b"", b""))
