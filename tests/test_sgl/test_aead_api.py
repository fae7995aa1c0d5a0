"""The scatterlist AEAD API plumbing and the AEAD skcipher_walks."""

import hashlib

import numpy as np
import pytest

import kmem
from ciphers.algapi import CRYPTO_TFM_NEED_KEY
from kmem import errno as E
from sgl import (
    SkcipherWalk,
    aead_request_alloc,
    aead_request_free,
    aead_request_set_ad,
    aead_request_set_callback,
    aead_request_set_crypt,
    crypto_aead_authsize,
    crypto_aead_decrypt,
    crypto_aead_driver_name,
    crypto_aead_encrypt,
    crypto_aead_get_flags,
    crypto_aead_ivsize,
    crypto_aead_maxauthsize,
    crypto_aead_setauthsize,
    crypto_aead_setkey,
    crypto_alloc_aead,
    crypto_alloc_skcipher,
    crypto_free_aead,
    crypto_has_aead,
    crypto_register_aead,
    crypto_unregister_aead,
    skcipher_walk_aead_decrypt,
    skcipher_walk_aead_encrypt,
    skcipher_walk_done,
)
from tests.test_sgl.layouts import build
from tests.test_sgl.toy_drivers import XorAead, xor_reference

KEY = bytes(range(16))


@pytest.fixture
def aead():
    low = XorAead(driver="xoraead-generic", priority=100)
    high = XorAead(driver="xoraead-fast", priority=200)
    assert crypto_register_aead(low) == 0 and crypto_register_aead(high) == 0
    tfm = crypto_alloc_aead("xoraead(toy)", 0, 0)
    yield tfm
    crypto_free_aead(tfm)
    crypto_unregister_aead(low)
    crypto_unregister_aead(high)


def test_alloc_defaults_and_lookup(aead):
    assert crypto_aead_driver_name(aead) == "xoraead-fast"
    assert crypto_aead_authsize(aead) == crypto_aead_maxauthsize(aead) == 16
    assert crypto_aead_ivsize(aead) == 12
    assert crypto_aead_get_flags(aead) & CRYPTO_TFM_NEED_KEY
    assert crypto_has_aead("xoraead-generic") and not crypto_has_aead("gcm(nothing)")
    assert crypto_alloc_aead("gcm(nothing)") == -E.ENOENT
    assert crypto_alloc_skcipher("xoraead(toy)") == -E.ENOENT      # wrong type


def test_setkey_and_setauthsize_rules(aead):
    assert crypto_aead_setkey(aead, b"short", 5) == -E.EINVAL      # the driver refuses
    assert crypto_aead_get_flags(aead) & CRYPTO_TFM_NEED_KEY
    assert crypto_aead_setkey(aead, KEY, 16) == 0
    assert not crypto_aead_get_flags(aead) & CRYPTO_TFM_NEED_KEY
    assert crypto_aead_setauthsize(aead, 0) == -E.EINVAL
    assert crypto_aead_setauthsize(aead, 17) == -E.EINVAL
    assert crypto_aead_setauthsize(aead, 6) == -E.EINVAL          # the driver refuses
    assert crypto_aead_authsize(aead) == 16
    assert crypto_aead_setauthsize(aead, 8) == 0
    assert crypto_aead_authsize(aead) == 8


def _run(tfm, src, dst, assoclen, cryptlen, enc=True):
    req = aead_request_alloc(tfm, kmem.GFP_KERNEL)
    aead_request_set_callback(req, 0, None, None)
    iv = bytearray(12)
    aead_request_set_crypt(req, src.sgl, dst.sgl, cryptlen, iv)
    aead_request_set_ad(req, assoclen)
    before = (req.assoclen, req.cryptlen, req.iv, req.src, req.dst)
    err = (crypto_aead_encrypt if enc else crypto_aead_decrypt)(req)
    assert (req.assoclen, req.cryptlen, req.iv, req.src, req.dst) == before
    aead_request_free(req)
    return err


def test_encrypt_decrypt_round_trip_layout(aead):
    assert crypto_aead_setkey(aead, KEY, 16) == 0
    ad_len, pt_len = 20, 1000
    src = build([("page", 13), ("kmalloc", 7), ("page", 500), ("vmalloc", 500)], chunk=3, seed=1)
    dst = build([("folio", ad_len + pt_len + 16)], seed=2, fill=False)
    flat = src.flat()
    assert _run(aead, src, dst, ad_len, pt_len) == 0
    out = dst.flat()
    ct = out[ad_len:ad_len + pt_len].tobytes()
    assert ct == xor_reference(flat[ad_len:].tobytes(), KEY)
    tag = hashlib.sha256(KEY + flat[:ad_len].tobytes() + ct).digest()[:16]
    assert out[ad_len + pt_len:].tobytes() == tag
    # Decrypt in place: cryptlen includes the tag.
    kmem.copy_views(kmem.page_views(dst.pieces[0][0], dst.pieces[0][1], ad_len, write=True),
                    [flat[:ad_len]])
    assert _run(aead, dst, dst, ad_len, pt_len + 16, enc=False) == 0
    assert np.array_equal(dst.flat()[ad_len:ad_len + pt_len], flat[ad_len:])
    src.free()
    dst.free()


def test_decrypt_errors(aead):
    lay = build([("page", 64)], seed=3)
    assert _run(aead, lay, lay, 0, 32) == -E.ENOKEY
    crypto_aead_setkey(aead, KEY, 16)
    assert _run(aead, lay, lay, 0, 15, enc=False) == -E.EINVAL     # cryptlen < authsize
    assert _run(aead, lay, lay, 8, 40, enc=False) == -E.EBADMSG
    lay.free()


def test_aead_walks_start_after_assoclen(aead):
    crypto_aead_setkey(aead, KEY, 16)
    lay = build([("page", 10), ("page", 30), ("page", 60)], seed=4)
    flat = lay.flat()
    req = aead_request_alloc(aead, kmem.GFP_KERNEL)
    aead_request_set_crypt(req, lay.sgl, lay.sgl, 70, bytearray(12))
    aead_request_set_ad(req, 14)
    for start, total in ((skcipher_walk_aead_encrypt, 70), (skcipher_walk_aead_decrypt, 54)):
        walk = SkcipherWalk()
        assert start(walk, req, False) == 0
        seen = []
        while walk.nbytes:
            seen.append(walk.src_view.copy())
            skcipher_walk_done(walk, 0)
        assert np.array_equal(np.concatenate(seen), flat[14:14 + total])
    aead_request_free(req)
    lay.free()
