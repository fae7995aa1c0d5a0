"""authenc pieces: the rtattr key blob with the kernel's -EINVAL rules, the
incremental HMAC, and an authenc(hmac(shaN),cbc(aes)) composition built from
our cores checked against cryptography CBC + hmac."""

from __future__ import annotations

import hashlib
import hmac
import os
import struct

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from ciphers.aes import AesBlockCipher
from ciphers.authenc import (
    AUTHENC_HASHES,
    CRYPTO_AUTHENC_KEYA_PARAM,
    CryptoAuthencKeys,
    HmacKey,
    authenc_check_authsize,
    authenc_key_blob,
    crypto_authenc_extractkeys,
    crypto_authenc_setkey,
)
from ciphers.cbc import Cbc
from kmem import errno
from tests.test_ciphers.splits import pieces

EINVAL = -errno.EINVAL




def blob(rta_len: int, rta_type: int, payload: bytes, rest: bytes) -> bytes:
    return struct.pack("<HH", rta_len, rta_type) + payload + rest


def test_extractkeys_well_formed() -> None:
    authkey, enckey = os.urandom(20), os.urandom(16)
    key = authenc_key_blob(authkey, enckey)
    assert key[:8] == b"\x08\x00\x01\x00\x00\x00\x00\x10"
    ret, keys = crypto_authenc_extractkeys(key)
    assert ret == 0
    assert keys == CryptoAuthencKeys(authkey=authkey, enckey=enckey)
    assert keys.authkeylen == 20 and keys.enckeylen == 16


def test_extractkeys_edge_lengths() -> None:
    # Empty auth key; empty enc key; the enc key is always the *last* bytes.
    assert crypto_authenc_extractkeys(authenc_key_blob(b"", b"E" * 16)) == \
        (0, CryptoAuthencKeys(b"", b"E" * 16))
    assert crypto_authenc_extractkeys(authenc_key_blob(b"A" * 7, b"")) == \
        (0, CryptoAuthencKeys(b"A" * 7, b""))
    # keylen shorter than the buffer: bytes beyond keylen are not looked at.
    key = authenc_key_blob(b"A" * 4, b"E" * 16) + b"junk"
    assert crypto_authenc_extractkeys(key, len(key) - 4) == \
        (0, CryptoAuthencKeys(b"A" * 4, b"E" * 16))


@pytest.mark.parametrize(("key", "why"), [
    (b"", "shorter than an rtattr"),
    (b"\x08\x00\x01", "shorter than an rtattr"),
    (blob(3, 1, b"", b""), "rta_len < sizeof(rtattr)"),
    (blob(8, 1, b"\x00\x00\x00\x10", b"E" * 15), "fewer than enckeylen bytes left"),
    (blob(9, 1, b"\x00\x00\x00\x10", b"E" * 16), "rta_len > keylen"),
    (blob(8, 0, b"\x00\x00\x00\x10", b"E" * 16), "type UNSPEC"),
    (blob(8, 2, b"\x00\x00\x00\x10", b"E" * 16), "unknown type"),
    (blob(12, 1, b"\x00\x00\x00\x10\x00\x00\x00\x00", b"E" * 16), "payload longer than 4"),
    (blob(4, 1, b"", b"\x00\x00\x00\x10" + b"E" * 16), "payload shorter than 4"),
    (blob(8, 1, b"\xff\xff\xff\xff", b"E" * 64), "enckeylen huge"),
    (struct.pack(">HH", 8, 1) + b"\x00\x00\x00\x10" + b"E" * 16, "big-endian header"),
])
def test_extractkeys_rejects_malformed_blobs(key: bytes, why: str) -> None:
    assert crypto_authenc_extractkeys(key) == (EINVAL, None), why


def test_extractkeys_keylen_argument_is_checked() -> None:
    key = authenc_key_blob(b"A", b"E" * 16)
    with pytest.raises(ValueError, match="keylen"):
        crypto_authenc_extractkeys(key, len(key) + 1)
    with pytest.raises(ValueError, match="keylen"):
        crypto_authenc_extractkeys(key, -1)
    assert crypto_authenc_extractkeys(key, 7) == (EINVAL, None)
    assert CRYPTO_AUTHENC_KEYA_PARAM == 1


@given(st.binary(max_size=40))
def test_extractkeys_never_raises_on_junk(key: bytes) -> None:
    ret, keys = crypto_authenc_extractkeys(key)
    assert ret in (0, EINVAL)
    assert (keys is None) == (ret != 0)
    if keys is not None:
        assert len(key) - 8 == keys.authkeylen + keys.enckeylen


def test_setkey_checks_the_aes_key_length() -> None:
    for enclen, want in ((16, 0), (24, 0), (32, 0), (15, EINVAL), (0, EINVAL), (64, EINVAL)):
        ret, mac, enckey = crypto_authenc_setkey("sha256", authenc_key_blob(b"k" * 9,
                                                                            bytes(enclen)))
        assert ret == want
        assert (mac is None) == (ret != 0)
        if ret == 0:
            assert enckey == bytes(enclen)
    assert crypto_authenc_setkey("sha1", b"\x00")[0] == EINVAL


def test_authsize_rule() -> None:
    for name, (digest, _block) in AUTHENC_HASHES.items():
        ok = [a for a in range(0, 80) if authenc_check_authsize(name, a) == 0]
        assert ok == list(range(1, digest + 1))
    with pytest.raises(ValueError, match="hash_name"):
        authenc_check_authsize("md5", 16)


@pytest.mark.parametrize("name", ["sha1", "sha256", "sha512"])
@given(data=st.binary(max_size=600), cuts=st.lists(st.integers(0, 600), max_size=5),
       key=st.binary(max_size=200))
def test_hmac_any_split(name: str, data: bytes, cuts: list[int], key: bytes) -> None:
    hk = HmacKey(name, key)
    h = hk.new()
    for p in pieces(data, cuts):
        h.update(np.frombuffer(p, dtype=np.uint8))
    want = hmac.new(key, data, getattr(hashlib, name)).digest()
    assert h.final() == want and len(want) == hk.digestsize
    assert h.verify(want[:12]) and not h.verify(bytes(12))
    # The key context is reusable: a second request starts from scratch.
    h2 = hk.new()
    h2.update(data)
    assert h2.final() == want


def test_hmac_misuse() -> None:
    h = HmacKey("sha1", b"k").new()
    h.final()
    with pytest.raises(ValueError, match="finalized"):
        h.update(b"x")
    with pytest.raises(ValueError, match=r"1\.\.20"):
        h.verify(bytes(21))
    with pytest.raises(ValueError, match="hash_name"):
        HmacKey("sha3", b"k")


@pytest.mark.parametrize("name", ["sha1", "sha256", "sha512"])
@pytest.mark.parametrize(("adlen", "ptlen"), [(0, 0), (8, 16), (20, 64), (13, 4096)])
def test_authenc_composition_matches_reference(name: str, adlen: int, ptlen: int) -> None:
    # Encrypt as authenc does: CBC over the payload with req->iv, then
    # HMAC over dst AD ‖ ciphertext, tag = first authsize bytes.
    authkey, enckey, iv = os.urandom(33), os.urandom(16), os.urandom(16)
    ad, pt = os.urandom(adlen), os.urandom(ptlen)
    authsize = AUTHENC_HASHES[name][0] // 2
    ret, hk, ek = crypto_authenc_setkey(name, authenc_key_blob(authkey, enckey))
    assert ret == 0 and hk is not None
    ct = np.empty(ptlen, dtype=np.uint8)
    Cbc(AesBlockCipher(ek), iv).update(pt, ct)
    mac = hk.new()
    mac.update(ad)
    for p in pieces(ct.tobytes(), [3, 17, 100]):
        mac.update(p)
    tag = mac.final()[:authsize]
    ref_ct = Cipher(algorithms.AES(enckey), modes.CBC(iv)).encryptor().update(pt)
    ref_tag = hmac.new(authkey, ad + ref_ct, getattr(hashlib, name)).digest()[:authsize]
    assert ct.tobytes() == ref_ct and tag == ref_tag
    # Decrypt: MAC the source ciphertext first, then compare in constant time.
    check = hk.new()
    check.update(ad + ref_ct)
    assert check.verify(ref_tag)
    bad = hk.new()
    bad.update(ad + ref_ct + b"\x00")
    assert not bad.verify(ref_tag)
