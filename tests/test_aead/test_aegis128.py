"""aegis128 (crypto/aegis128-core.c) in both worlds: the 24 vectors of
testmgr.h's aegis128_tv_template through the scatterlist and iov_iter
APIs, the core's indifference to how AD and text are split, the kernel's
key and authsize rules, and the wipe of dst after a failed tag check."""

from __future__ import annotations

import numpy as np
import pytest

from ciphers.aegis128 import Aegis128
from iovcrypto.tools.conformance.refs_aegis import aegis128_encrypt
from iovcrypto.tools.conformance.testmgr_vectors import AEGIS128
from kmem import errno as E
from tests.test_aead.helpers import alloc, iov_run, run

DRV = "aegis128-generic"
VECS = [tuple(bytes.fromhex(x) for x in row) for row in AEGIS128]


@pytest.mark.parametrize("vec", VECS, ids=[f"tv{i + 1}" for i in range(len(VECS))])
def test_testmgr_vectors_in_both_worlds(vec):
    key, iv, ad, pt, ct = vec
    authsize = len(ct) - len(pt)
    rng = np.random.default_rng(len(ad) * 131 + len(pt))
    alen = len(ad)
    for shape in ("inplace", "alias", "oop"):
        r = run(DRV, key, authsize, iv, ad + pt, alen, len(pt), False, shape, rng)
        assert r.ret == 0 and r.dst[alen:] == ct, shape
        r = run(DRV, key, authsize, iv, ad + ct, alen, len(ct), True, shape, rng)
        assert r.ret == 0 and r.dst[alen:alen + len(pt)] == pt, shape
    r = iov_run(DRV, key, authsize, iv, ad + pt, alen, len(pt), False,
                src_kind="bvec", dst_kind="kvec", rng=rng)
    assert r.ret == 0 and r.dst[alen:alen + len(ct)] == ct
    r = iov_run(DRV, key, authsize, iv, ad + ct, alen, len(ct), True,
                src_kind="folioq", dst_kind="same", rng=rng)
    assert r.ret == 0 and r.dst[alen:alen + len(pt)] == pt


def _one_shot(key, iv, ad, pt, decrypt=False):
    c = Aegis128(key, iv, decrypt=decrypt)
    c.update_ad(ad)
    out = bytearray(len(pt))
    c.update(pt, out)
    return bytes(out), c.finalize()


def _split(rng, data):
    cuts = sorted(int(x) for x in rng.integers(0, len(data) + 1, size=int(rng.integers(0, 6))))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)])]


def test_any_split_of_ad_and_text_gives_the_one_shot_result():
    rng = np.random.default_rng(17)
    for _ in range(40):
        key, iv = rng.bytes(16), rng.bytes(16)
        ad, pt = rng.bytes(int(rng.integers(0, 70))), rng.bytes(int(rng.integers(0, 90)))
        want_ct, want_tag = _one_shot(key, iv, ad, pt)
        assert want_ct + want_tag == aegis128_encrypt(key, iv, ad, pt, 16)
        for decrypt in (False, True):
            c = Aegis128(key, iv, decrypt=decrypt)
            for piece in _split(rng, ad):
                c.update_ad(piece)
            src = want_ct if decrypt else pt
            out = bytearray()
            for piece in _split(rng, src):
                buf = bytearray(len(piece))
                c.update(piece, buf)
                out += buf
            assert bytes(out) == (pt if decrypt else want_ct)
            assert c.finalize() == want_tag


def test_setkey_and_setauthsize_follow_the_kernel():
    from sgl import crypto_aead_setauthsize, crypto_aead_setkey, crypto_alloc_aead, crypto_free_aead
    tfm = crypto_alloc_aead("aegis128")
    assert tfm.alg.cra_driver_name == DRV and tfm.alg.cra_priority == 100
    assert tfm.alg.ivsize == 16 and tfm.alg.maxauthsize == 16 and tfm.alg.chunksize == 16
    for n in (0, 15, 17, 32):
        assert crypto_aead_setkey(tfm, bytes(n), n) == -E.EINVAL
    assert crypto_aead_setkey(tfm, bytes(16), 16) == 0
    assert [a for a in range(0, 20) if crypto_aead_setauthsize(tfm, a) == 0] == list(range(8, 17))
    crypto_free_aead(tfm)


def test_a_bad_tag_wipes_the_plaintext_in_both_worlds():
    key, iv, ad, pt, ct = VECS[19]            # 33 bytes of AD, 65 of text
    bad = bytearray(ad + ct)
    bad[-1] ^= 1
    rng = np.random.default_rng(3)
    alen, n = len(ad), len(pt)
    for shape in ("inplace", "oop"):
        r = run(DRV, key, 16, iv, bytes(bad), alen, len(ct), True, shape, rng)
        assert r.ret == -E.EBADMSG
        assert r.dst[alen:alen + n] == bytes(n), shape    # wiped, as the kernel does
    r = iov_run(DRV, key, 16, iv, bytes(bad), alen, len(ct), True,
                src_kind="kvec", dst_kind="kvec", rng=rng)
    assert r.ret == -E.EBADMSG and r.dst[alen:alen + n] == bytes(n)


def test_the_tfm_is_reusable_and_keyed_per_request():
    key, iv, ad, pt, ct = VECS[16]
    tfm = alloc(DRV, key, len(ct) - len(pt))
    rng = np.random.default_rng(5)
    for _ in range(2):
        r = run(tfm, None, len(ct) - len(pt), iv, ad + pt, len(ad), len(pt), False, "oop", rng)
        assert r.ret == 0 and r.dst[len(ad):] == ct
