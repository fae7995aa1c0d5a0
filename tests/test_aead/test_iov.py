"""The converted AEAD drivers (iovcrypto/{gcm,ccm,chacha20poly1305,authenc}.py)
through the iov_iter AEAD API over every iterator type (KVEC, BVEC,
FOLIOQ, XARRAY, UBUF, IOVEC; DISCARD as a destination; one iterator in
place; two iterators over the same memory), against the legacy drivers
through the scatterlist API on the same bytes, and the iov_iter API's
contract (DESIGN §7): iterators advanced on success, where they were on
any error, the plaintext area of dst zeroed on -EBADMSG."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kmem import errno as E
from tests.test_aead.helpers import (
    AUTHSIZES,
    ESP,
    IOV_KINDS,
    MARK,
    NAMES,
    drivers,
    iov_run,
    rand_ad,
    rand_iv,
    rand_key,
    rand_text,
    reference_encrypt,
    run,
)

DST_KINDS = (*IOV_KINDS, "same", "copy", "discard")
SGL_SHAPE = {"same": "inplace", "copy": "alias"}


def _sgl_shape(dst_kind: str) -> str:
    return SGL_SHAPE.get(dst_kind, "oop")


def _moved_ok(r, dst_kind: str, src_n: int, dst_n: int) -> bool:
    if dst_kind == "same":
        return r.moved == (max(src_n, dst_n),) * 2
    return r.moved == (src_n, dst_n)


@pytest.mark.parametrize("name", NAMES)
@given(seed=st.integers(0, 2**32 - 1), src_kind=st.sampled_from(IOV_KINDS),
       dst_kind=st.sampled_from(DST_KINDS), which=st.sampled_from([0, 1]),
       empty=st.sampled_from(["none", "ad", "text", "both"]))
def test_converted_equals_legacy(name, seed, src_kind, dst_kind, which, empty):
    rng = np.random.default_rng(seed)
    drv = drivers(name)[which]
    key, iv = rand_key(name, rng), rand_iv(name, rng)
    minimal = 8 if name in ESP and not name.startswith("rfc7539esp") else 0
    ad = rand_ad(name, iv, rng, minimal if empty in ("ad", "both") else None)
    pt = b"" if empty in ("text", "both") else rand_text(name, rng, 5000)
    authsize = int(rng.choice(AUTHSIZES[name]))
    shape = _sgl_shape(dst_kind)
    a, n = len(ad), len(pt)
    # Encryption.
    legacy = run(drv, key, authsize, iv, ad + pt, a, n, False, shape, rng)
    conv = iov_run(drv, key, authsize, iv, ad + pt, a, n, False, src_kind=src_kind,
                   dst_kind=dst_kind, rng=rng)
    assert legacy.ret == conv.ret == 0
    ct = legacy.dst[a:]
    assert ct == reference_encrypt(name, key, authsize, iv, ad, pt)
    if dst_kind != "discard":
        assert conv.dst == legacy.dst
    assert conv.iv == legacy.iv
    assert _moved_ok(conv, dst_kind, a + n, a + n + authsize)
    # Decryption, then with one tag bit flipped.
    bad = bytearray(ct)
    bad[-1] ^= 4
    for blob, want in ((ct, 0), (bytes(bad), -E.EBADMSG)):
        legacy = run(drv, key, authsize, iv, ad + blob, a, len(blob), True, shape, rng)
        conv = iov_run(drv, key, authsize, iv, ad + blob, a, len(blob), True,
                       src_kind=src_kind, dst_kind=dst_kind, rng=rng)
        assert legacy.ret == conv.ret == want
        if want == 0:
            assert legacy.dst[a:a + n] == pt
            if dst_kind != "discard":
                assert conv.dst == legacy.dst
            assert _moved_ok(conv, dst_kind, a + len(blob), a + n)
        else:
            assert conv.moved == (0, 0)
            if dst_kind != "discard":
                # No unauthenticated plaintext: the area is zeroed; the rest
                # is what the legacy driver left.
                assert conv.dst[a:a + n] == bytes(n)
                assert conv.dst[:a] == legacy.dst[:a]
                assert conv.dst[a + n:] == legacy.dst[a + n:]


@pytest.mark.parametrize("src_kind", IOV_KINDS)
def test_every_iterator_type_with_empties(src_kind):
    rng = np.random.default_rng(len(src_kind))
    k = 0
    for name in NAMES:
        for empty in ("none", "ad", "text", "both"):
            drv = drivers(name)[k % 2]
            dst_kind = DST_KINDS[k % len(DST_KINDS)]
            k += 1
            key, iv = rand_key(name, rng), rand_iv(name, rng)
            minimal = 8 if name in ESP and not name.startswith("rfc7539esp") else 0
            ad = rand_ad(name, iv, rng, minimal if empty in ("ad", "both") else None)
            pt = b"" if empty in ("text", "both") else rand_text(name, rng, 9000)
            authsize = max(AUTHSIZES[name])
            ref = reference_encrypt(name, key, authsize, iv, ad, pt)
            e = iov_run(drv, key, authsize, iv, ad + pt, len(ad), len(pt), False,
                        src_kind=src_kind, dst_kind=dst_kind, rng=rng)
            assert e.ret == 0
            if dst_kind != "discard":
                assert e.dst[len(ad):] == ref, (drv, dst_kind)
            d = iov_run(drv, key, authsize, iv, ad + ref, len(ad), len(ref), True,
                        src_kind=src_kind, dst_kind=dst_kind, rng=rng)
            assert d.ret == 0
            if dst_kind != "discard":
                assert d.dst[len(ad):len(ad) + len(pt)] == pt


@pytest.mark.parametrize("name", NAMES)
def test_dst_ad_area_as_the_legacy_driver_leaves_it(name):
    rng = np.random.default_rng(9)
    key, iv = rand_key(name, rng), rand_iv(name, rng)
    ad, pt = rand_ad(name, iv, rng, 12 if name in ESP else 20), rand_text(name, rng, 300)
    marks = bytes([MARK]) * len(ad)
    for drv in drivers(name):
        e = iov_run(drv, key, 16, iv, ad + pt, len(ad), len(pt), False, src_kind="bvec",
                    dst_kind="kvec", rng=rng)
        copied = name.startswith(("authenc", "rfc4543"))
        assert e.ret == 0 and e.dst[:len(ad)] == (ad if copied else marks)


def _errs(name: str, rng: np.random.Generator):
    """(description, key, authsize, iv, src, assoclen, cryptlen, decrypt, errno)."""
    key, iv = rand_key(name, rng), rand_iv(name, rng)
    ad = rand_ad(name, iv, rng, 8 if name in ESP else 16)
    pt = bytes(range(48))
    out = [("short", key, 16, iv, ad + bytes(15), len(ad), 15, True, -E.EINVAL)]
    if name in ESP and not name.startswith("rfc7539esp"):
        out.append(("assoclen", key, 16, iv, bytes(12) + pt, 12, len(pt), False, -E.EINVAL))
    if name.startswith("rfc7539esp"):
        out.append(("assoclen", key, 16, iv, bytes(4) + pt, 4, len(pt), False, -E.EINVAL))
    if name == "ccm(aes)":
        out.append(("lprime", key, 16, b"\x00" + iv[1:], ad + pt, len(ad), len(pt), False,
                    -E.EINVAL))
    if name.startswith("authenc"):
        out.append(("partial", key, 16, iv, ad + pt[:40], len(ad), 40, False, -E.EINVAL))
    return out


@pytest.mark.parametrize("name", NAMES)
def test_errors_leave_the_iterators_where_they_were(name):
    rng = np.random.default_rng(10)
    for what, key, authsize, iv, src, a, clen, dec, want in _errs(name, rng):
        for drv in drivers(name):
            r = iov_run(drv, key, authsize, iv, src, a, clen, dec, src_kind="iovec",
                        dst_kind="folioq", rng=rng, dst_len=len(src) + 16)
            assert r.ret == want, (drv, what)
            assert r.moved == (0, 0)
            assert r.src == src


def test_too_short_iterators_and_no_key():
    from iovcrypto import (
        ITER_DEST,
        aead_request_alloc,
        aead_request_free,
        aead_request_set_ad,
        aead_request_set_iter,
        crypto_aead_encrypt,
        crypto_aead_setkey,
        crypto_alloc_aead,
        crypto_free_aead,
    )
    from tests.test_aead.helpers import iov_layout
    rng = np.random.default_rng(11)
    for drv in drivers("gcm(aes)"):
        tfm = crypto_alloc_aead(drv)
        lay = iov_layout("kvec", 64, 0, ITER_DEST, rng)
        req = aead_request_alloc(tfm, 0)
        aead_request_set_iter(req, lay.it, lay.it, 40, bytearray(12))
        aead_request_set_ad(req, 16)
        assert crypto_aead_encrypt(req) == -E.ENOKEY
        assert crypto_aead_setkey(tfm, bytes(16), 16) == 0
        assert crypto_aead_encrypt(req) == -E.EINVAL     # 16 + 40 + 16 > 64
        aead_request_set_iter(req, lay.it, lay.it, 32, bytearray(12))
        assert crypto_aead_encrypt(req) == 0 and lay.it.count == 0
        aead_request_free(req)
        lay.free()
        crypto_free_aead(tfm)


@pytest.mark.parametrize("name", ["rfc4543(gcm(aes))", "authenc(hmac(sha256),cbc(aes))"])
@pytest.mark.parametrize("dst_kind", ["same", "copy", "bvec"])
def test_no_src_to_dst_copy_when_both_describe_the_same_memory(name, dst_kind, monkeypatch):
    """A template that copies src -> dst out of place (rfc4543's AD and
    payload, authenc's AD) skips it for two iterators over the same memory
    from the same place, as for one iterator passed twice."""
    from iovcrypto.aead_template import AeadTemplateDriver
    calls = []
    real = AeadTemplateDriver.copy_prefix

    def spy(self, req, nbytes):
        calls.append(nbytes)
        return real(self, req, nbytes)
    monkeypatch.setattr(AeadTemplateDriver, "copy_prefix", spy)
    rng = np.random.default_rng(3)
    drv = drivers(name)[0]
    key, iv = rand_key(name, rng), rand_iv(name, rng)
    ad = rand_ad(name, iv, rng, None)
    pt = rand_text(name, rng, 3000)
    r = iov_run(drv, key, 16, iv, ad + pt, len(ad), len(pt), False, src_kind="bvec",
                dst_kind=dst_kind, rng=rng)
    assert r.ret == 0
    assert bool(calls) == (dst_kind == "bvec")
