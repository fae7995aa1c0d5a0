"""The library road (iovcrypto.tools.roads.lib_aead): an AEAD caller
holding iov_iters of every type feeds lib/crypto's incremental GCM/CCM;
results equal the reference, iterators advance by what was consumed and
produced, and a failed decryption leaves zeros and unmoved iterators."""

from __future__ import annotations

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM

from iovcrypto import ITER_DEST, ITER_SOURCE
from iovcrypto.tools.roads.lib_aead import lib_aead_crypt, lib_aead_setkey
from kmem import errno as E
from tests.test_iov_crypto.helpers import KINDS, build, get, put

AD, TAG = 20, 16
SEGS = [1, 15, 17, 100, 333, 4095, 64, 2000]


def _ref(name: str, key: bytes, iv: bytes, ad: bytes, p: bytes) -> bytes:
    if name == "gcm(aes)":
        return AESGCM(key).encrypt(iv, p, ad)
    return AESCCM(key, tag_length=TAG).encrypt(iv[1:15 - iv[0]], p, ad)


def _iv(name: str, rng: np.random.Generator) -> bytes:
    if name == "gcm(aes)":
        return rng.bytes(12)
    return bytes([3]) + rng.bytes(11) + bytes(4)


@pytest.mark.parametrize("name", ["gcm(aes)", "ccm(aes)"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [0, 1, 16, 4097, 9000])
def test_out_of_place_both_directions(name, kind, n):
    rng = np.random.default_rng(n)
    key, iv = rng.bytes(16), _iv(name, rng)
    ad, p = rng.bytes(AD), rng.bytes(n)
    ref = _ref(name, key, iv, ad, p)
    err, k = lib_aead_setkey(name, key, TAG)
    assert err == 0
    src = build(kind, AD + n, SEGS, source=True, seed=1)
    dst = build(kind, AD + n + TAG, SEGS[::-1], source=False, seed=2)
    try:
        put(src, 0, np.frombuffer(ad + p, np.uint8))
        assert lib_aead_crypt(name, k, iv, src.it, dst.it, AD, n, True) == 0
        assert get(dst, AD, n + TAG).tobytes() == ref
        assert src.it.count == 0 and dst.it.count == 0
    finally:
        src.free()
        dst.free()
    # Decrypt: src = AD ‖ ct ‖ tag, dst = AD ‖ pt.
    src = build(kind, AD + n + TAG, SEGS, source=True, seed=3)
    dst = build(kind, AD + n, SEGS, source=False, seed=4)
    try:
        put(src, 0, np.frombuffer(ad + ref, np.uint8))
        assert lib_aead_crypt(name, k, iv, src.it, dst.it, AD, n + TAG, False) == 0
        assert get(dst, AD, n).tobytes() == p
        assert src.it.count == 0 and dst.it.count == 0
    finally:
        src.free()
        dst.free()


@pytest.mark.parametrize("name", ["gcm(aes)", "ccm(aes)"])
@pytest.mark.parametrize("kind", ["kvec", "bvec", "folioq", "xarray", "ubuf"])
def test_in_place_one_iterator_and_bad_tag(name, kind):
    rng = np.random.default_rng(7)
    n = 5000
    key, iv = rng.bytes(32), _iv(name, rng)
    ad, p = rng.bytes(AD), rng.bytes(n)
    ref = _ref(name, key, iv, ad, p)
    err, k = lib_aead_setkey(name, key, TAG)
    assert err == 0
    lay = build(kind, AD + n + TAG, SEGS, source=True, seed=5)
    try:
        put(lay, 0, np.frombuffer(ad + p + bytes(TAG), np.uint8))
        it0 = lay.it.copy()
        assert lib_aead_crypt(name, k, iv, lay.it, lay.it, AD, n, True) == 0
        assert get(lay, AD, n + TAG).tobytes() == ref
        assert lay.it.count == 0
        # Tamper with the tag: -EBADMSG, zeros where the plaintext went,
        # the iterator where it was.
        lay.it = it0.copy()
        bad = bytearray(ref)
        bad[-1] ^= 1
        put(lay, AD, np.frombuffer(bytes(bad), np.uint8))
        assert lib_aead_crypt(name, k, iv, lay.it, lay.it, AD, n + TAG, False) == -E.EBADMSG
        assert not get(lay, AD, n).any()
        assert lay.it.count == it0.count and lay.it.iov_offset == it0.iov_offset
        # And the genuine one decrypts in place.
        put(lay, AD, np.frombuffer(ref, np.uint8))
        assert lib_aead_crypt(name, k, iv, lay.it, lay.it, AD, n + TAG, False) == 0
        assert get(lay, AD, n).tobytes() == p
    finally:
        lay.free()


def test_errors_leave_iterators_alone():
    err, k = lib_aead_setkey("ccm(aes)", bytes(16), TAG)
    assert err == 0
    assert lib_aead_setkey("gcm(aes)", bytes(16), 5) == (-E.EINVAL, None)
    src = build("kvec", 100, source=True)
    dst = build("kvec", 100, source=False)
    try:
        bad_iv = bytes([0]) + bytes(15)          # L' = 0: -EINVAL as crypto_ccm
        assert lib_aead_crypt("ccm(aes)", k, bad_iv, src.it, dst.it, 10, 50, True) == -E.EINVAL
        iv = bytes([3]) + bytes(15)
        assert lib_aead_crypt("ccm(aes)", k, iv, src.it, dst.it, 10, 8, False) == -E.EINVAL
        assert lib_aead_crypt("ccm(aes)", k, iv, src.it, dst.it, 10, 200, True) == -E.EINVAL
        assert src.it.count == 100 and dst.it.count == 100
    finally:
        src.free()
        dst.free()
    assert ITER_SOURCE != ITER_DEST


@pytest.mark.parametrize("layout", ["pages", "user", "fragmented", "folioq", "contiguous"])
def test_compare_library_road_equal_and_costed(layout):
    from iovcrypto.tools.compare import run_compare
    recs = run_compare(("gcm(aes)", "ccm(aes)", "cbc(aes)"), (layout,), size=5000, repeat=1)
    by = {r["alg"]: {p["path"]: p for p in r["paths"]} for r in recs}
    for alg in ("gcm(aes)", "ccm(aes)"):
        rec = next(r for r in recs if r["alg"] == alg)
        lib = by[alg]["f:lib"]
        assert lib["status"] == "ok" and not rec["mismatch"] and not rec["ledger"]
        assert lib["kernel"].startswith("v7.3")
        # The library road builds no descriptors and takes no pins.
        assert lib["counters"]["descriptor_bytes"] == 0 and lib["counters"]["pins"] == 0
        assert by[alg]["c:iter"]["status"] == "ok"
    assert by["cbc(aes)"]["f:lib"]["status"] == "n/a"
