"""ccm(aes) cores (generic and accelerated) against cryptography's AESCCM,
under any split, with the kernel's IV and length rules and the rfc4309
helpers."""

from __future__ import annotations

import os

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESCCM
from hypothesis import given
from hypothesis import strategies as st

from ciphers.aead_accel import AccelCcm
from ciphers.aes import AesBlockCipher
from ciphers.ccm import (
    Ccm,
    ccm_format_adata,
    ccm_format_input,
    crypto_ccm_check_authsize,
    crypto_ccm_check_iv,
    crypto_rfc4309_check_authsize,
    rfc4309_iv,
    rfc4309_split_key,
)
from kmem import errno
from tests.test_ciphers.splits import pieces

EINVAL = -errno.EINVAL




def kernel_iv(nonce: bytes, counter_junk: bool = True) -> bytes:
    """The kernel's 16-byte CCM IV; the counter bytes hold junk on purpose
    (the implementation must zero them)."""
    tail = os.urandom(15 - len(nonce)) if counter_junk else bytes(15 - len(nonce))
    return bytes([14 - len(nonce)]) + nonce + tail


def new(key: bytes, iv: bytes, authsize: int, alen: int, plen: int, accel: bool,
        decrypt: bool = False):
    if accel:
        return AccelCcm.new(key, iv, authsize, alen, plen, decrypt=decrypt)
    return Ccm.new(AesBlockCipher(key), iv, authsize, alen, plen, decrypt=decrypt)


def encrypt(key: bytes, iv: bytes, authsize: int, ad: bytes, pt: bytes, accel: bool = False,
            ad_cuts: list[int] | None = None, pt_cuts: list[int] | None = None) -> bytes:
    ret, c = new(key, iv, authsize, len(ad), len(pt), accel)
    assert ret == 0
    for p in pieces(ad, ad_cuts or []):
        c.update_ad(p)
    out = np.empty(len(pt), dtype=np.uint8)
    pos = 0
    for p in pieces(pt, pt_cuts or []):
        c.update(p, out[pos:pos + len(p)])
        pos += len(p)
    return out.tobytes() + c.finalize()


def decrypt(key: bytes, iv: bytes, ad: bytes, ct: bytes, tag: bytes, accel: bool = False,
            ad_cuts: list[int] | None = None,
            ct_cuts: list[int] | None = None) -> tuple[bool, bytes]:
    ret, c = new(key, iv, len(tag), len(ad), len(ct), accel, decrypt=True)
    assert ret == 0
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
@pytest.mark.parametrize("nlen", range(7, 14))
@pytest.mark.parametrize("authsize", [4, 6, 8, 10, 12, 14, 16])
def test_ccm_matches_aesccm(nlen: int, authsize: int, accel: bool) -> None:
    key, nonce = os.urandom(16 + 8 * (nlen % 3)), os.urandom(nlen)
    ad, pt = os.urandom(nlen * 3), os.urandom(authsize * 37)
    ref = AESCCM(key, authsize).encrypt(nonce, pt, ad)
    iv = kernel_iv(nonce)
    assert encrypt(key, iv, authsize, ad, pt, accel) == ref
    ok, got = decrypt(key, iv, ad, ref[:len(pt)], ref[len(pt):], accel)
    assert ok and got == pt
    bad = bytes([ref[-1] ^ 4])
    assert not decrypt(key, iv, ad, ref[:len(pt)], ref[len(pt):-1] + bad, accel)[0]


@pytest.mark.parametrize("accel", [False, True], ids=["generic", "accel"])
@pytest.mark.parametrize(("adlen", "ptlen"), [(0, 0), (0, 1), (1, 0), (65279, 3), (65280, 17),
                                             (70000, 0), (5, 40000)])
def test_ccm_lengths_and_long_ad_encoding(adlen: int, ptlen: int, accel: bool) -> None:
    key, nonce = os.urandom(16), os.urandom(12)
    ad, pt = os.urandom(adlen), os.urandom(ptlen)
    ref = AESCCM(key, 16).encrypt(nonce, pt, ad)
    assert encrypt(key, kernel_iv(nonce), 16, ad, pt, accel) == ref
    ok, got = decrypt(key, kernel_iv(nonce), ad, ref[:ptlen], ref[ptlen:], accel)
    assert ok and got == pt


def test_ccm_format_adata() -> None:
    assert ccm_format_adata(1) == b"\x00\x01"
    assert ccm_format_adata(65279) == b"\xfe\xff"
    assert ccm_format_adata(65280) == b"\xff\xfe\x00\x00\xff\x00"


@given(ad=st.binary(max_size=60), pt=st.binary(max_size=300),
       ad_cuts=st.lists(st.integers(0, 60), max_size=4),
       pt_cuts=st.lists(st.integers(0, 300), max_size=5),
       accel=st.booleans(), authsize=st.sampled_from([4, 10, 16]))
def test_ccm_any_split_equals_one_call(ad: bytes, pt: bytes, ad_cuts: list[int],
                                       pt_cuts: list[int], accel: bool, authsize: int) -> None:
    key, nonce = os.urandom(16), os.urandom(11)
    iv = kernel_iv(nonce)
    whole = encrypt(key, iv, authsize, ad, pt, accel)
    assert whole == AESCCM(key, authsize).encrypt(nonce, pt, ad)
    assert encrypt(key, iv, authsize, ad, pt, accel, ad_cuts, pt_cuts) == whole
    ok, got = decrypt(key, iv, ad, whole[:len(pt)], whole[len(pt):], accel, ad_cuts, pt_cuts)
    assert ok and got == pt


def test_ccm_iv_checks() -> None:
    assert [lp for lp in range(256) if crypto_ccm_check_iv(bytes([lp]) + bytes(15)) == 0] == \
        list(range(1, 8))
    cipher = AesBlockCipher(bytes(16))
    for lp in (0, 8, 255):
        assert Ccm.new(cipher, bytes([lp]) + bytes(15), 16, 0, 0) == (EINVAL, None)
        assert AccelCcm.new(bytes(16), bytes([lp]) + bytes(15), 16, 0, 0) == (EINVAL, None)
        with pytest.raises(ValueError, match="EINVAL"):
            Ccm(cipher, bytes([lp]) + bytes(15), 16, 0, 0)
    with pytest.raises(ValueError, match="16 bytes"):
        crypto_ccm_check_iv(bytes(12))


def test_ccm_message_length_overflow_is_kernel_exact() -> None:
    # L = 2: set_msg_len refuses cryptlen > 65536 but, by its '>', accepts
    # exactly 65536 and encodes it as zero.
    cipher = AesBlockCipher(bytes(16))
    iv = bytes([1]) + bytes(15)
    assert Ccm.new(cipher, iv, 8, 0, 65537)[0] == -errno.EOVERFLOW
    assert AccelCcm.new(bytes(16), iv, 8, 0, 65537)[0] == -errno.EOVERFLOW
    ret, b0 = ccm_format_input(iv, 8, 0, 65536)
    assert ret == 0 and b0[-2:] == b"\x00\x00" and b0[0] == 1 | 8 * 3
    pt = os.urandom(65536)
    a = encrypt(bytes(16), iv, 8, b"", pt, accel=False)
    b = encrypt(bytes(16), iv, 8, b"", pt, accel=True)
    assert a == b
    ok, got = decrypt(bytes(16), iv, b"", a[:-8], a[-8:], accel=True)
    assert ok and got == pt
    # L = 4 and more: a u32 cryptlen always fits.
    assert ccm_format_input(bytes([3]) + bytes(15), 16, 1, 1 << 31)[0] == 0


def test_accel_ccm_long_pieces_in_place_match_aesccm() -> None:
    """The library-backed core feeds CBC-MAC a cache-sized chunk at a time
    and runs CTR in place through a scratch: pieces longer than a chunk,
    odd lengths and a long AD must still give AESCCM's bytes."""
    key, nonce = os.urandom(32), os.urandom(12)
    iv = kernel_iv(nonce)
    ad, pt = os.urandom(70001), os.urandom(3 * 65536 + 37)
    ref = AESCCM(key, 12).encrypt(nonce, pt, ad)
    ret, c = AccelCcm.new(key, iv, 12, len(ad), len(pt))
    assert ret == 0
    c.update_ad(ad[:65541])
    c.update_ad(ad[65541:])
    buf = np.frombuffer(bytearray(pt), dtype=np.uint8)
    for a, b in ((0, 65536 + 5), (65536 + 5, 65536 + 5), (65536 + 5, len(pt))):
        c.update(buf[a:b], buf[a:b])
    assert buf.tobytes() + c.finalize() == ref
    ret, d = AccelCcm.new(key, iv, 12, len(ad), len(pt), decrypt=True)
    d.update_ad(ad)
    d.update(buf, buf)
    assert d.verify(ref[-12:]) and buf.tobytes() == pt


def test_ccm_b0_flags() -> None:
    ret, b0 = ccm_format_input(bytes([2]) + b"N" * 12 + b"\xff\xff\xff", 10, 5, 0x010203)
    assert ret == 0
    assert b0 == bytes([2 | 8 * 4 | 64]) + b"N" * 12 + b"\x01\x02\x03"


def test_ccm_authsize_checks_and_rfc4309_helpers() -> None:
    assert [a for a in range(20) if crypto_ccm_check_authsize(a) == 0] == [4, 6, 8, 10, 12,
                                                                           14, 16]
    assert [a for a in range(20) if crypto_rfc4309_check_authsize(a) == 0] == [8, 12, 16]
    assert rfc4309_split_key(b"ab") == (EINVAL, b"", b"")
    key = os.urandom(16) + b"SLT"
    assert rfc4309_split_key(key) == (0, key[:16], b"SLT")
    assert rfc4309_iv(b"SLT", b"12345678") == b"\x03SLT12345678\x00\x00\x00\x00"
    with pytest.raises(ValueError):
        rfc4309_iv(b"SL", b"12345678")


def test_rfc4309_composition_matches_independent_aesccm() -> None:
    aes_key, salt, iv = os.urandom(16), os.urandom(3), os.urandom(8)
    spi_seq, pt = os.urandom(8), os.urandom(50)
    ret, k, s = rfc4309_split_key(aes_key + salt)
    assert ret == 0
    got = encrypt(k, rfc4309_iv(s, iv), 12, spi_seq, pt)
    assert got == AESCCM(aes_key, 12).encrypt(salt + iv, pt, spi_seq)


def test_ccm_misuse_is_rejected() -> None:
    cipher = AesBlockCipher(bytes(16))
    iv = bytes([3]) + bytes(15)
    ret, c = Ccm.new(cipher, iv, 8, 4, 2)
    assert ret == 0
    with pytest.raises(ValueError, match="more associated data"):
        c.update_ad(bytes(5))
    c.update_ad(bytes(3))
    with pytest.raises(ValueError, match="assoclen"):
        c.update(b"ab", np.empty(2, dtype=np.uint8))
    ret, c = Ccm.new(cipher, iv, 8, 0, 2)
    with pytest.raises(ValueError, match="more data"):
        c.update(b"abc", np.empty(3, dtype=np.uint8))
    c.update(b"a", np.empty(1, dtype=np.uint8))
    with pytest.raises(ValueError, match="cryptlen"):
        c.finalize()
    ret, c = Ccm.new(cipher, iv, 8, 0, 0, decrypt=True)
    with pytest.raises(ValueError, match="expected 8"):
        c.verify(bytes(16))
    with pytest.raises(ValueError, match="authsize"):
        Ccm.new(cipher, iv, 0, 0, 0)
    with pytest.raises(TypeError):
        Ccm.new(object(), iv, 8, 0, 0)  # type: ignore[arg-type]
    ret, a = AccelCcm.new(bytes(16), iv, 8, 0, 0, decrypt=True)
    with pytest.raises(ValueError, match="only verify"):
        a.finalize()
    with pytest.raises(ValueError, match="authsize"):
        AccelCcm.new(bytes(16), iv, 5, 0, 0)
