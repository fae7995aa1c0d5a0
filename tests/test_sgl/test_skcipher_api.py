"""The scatterlist skcipher API plumbing, with a test-only XOR driver."""

import numpy as np
import pytest

import kmem
from ciphers.algapi import CRYPTO_ALG_ASYNC, CRYPTO_TFM_NEED_KEY, CRYPTO_TFM_REQ_MAY_SLEEP
from kmem import errno as E
from sgl import (
    IS_ERR,
    PTR_ERR,
    SYNC_SKCIPHER_REQUEST_ON_STACK,
    CryptoWait,
    crypto_alloc_skcipher,
    crypto_alloc_sync_skcipher,
    crypto_free_skcipher,
    crypto_has_skcipher,
    crypto_register_skcipher,
    crypto_register_skciphers,
    crypto_req_done,
    crypto_skcipher_alignmask,
    crypto_skcipher_blocksize,
    crypto_skcipher_chunksize,
    crypto_skcipher_decrypt,
    crypto_skcipher_driver_name,
    crypto_skcipher_encrypt,
    crypto_skcipher_get_flags,
    crypto_skcipher_ivsize,
    crypto_skcipher_max_keysize,
    crypto_skcipher_min_keysize,
    crypto_skcipher_reqtfm,
    crypto_skcipher_setkey,
    crypto_unregister_skcipher,
    crypto_unregister_skciphers,
    crypto_wait_req,
    skcipher_request_alloc,
    skcipher_request_free,
    skcipher_request_set_callback,
    skcipher_request_set_crypt,
)
from tests.test_sgl.layouts import build
from tests.test_sgl.toy_drivers import XorSkcipher, xor_reference


@pytest.fixture
def drivers():
    low = XorSkcipher(driver="xor-toy-generic", priority=100)
    high = XorSkcipher(driver="xor-toy-fast", priority=300, alignmask=3)
    assert crypto_register_skciphers([low, high]) == 0
    yield low, high
    crypto_unregister_skciphers([low, high])


def _req(tfm, lay_src, lay_dst, n, iv):
    req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    skcipher_request_set_callback(req, CRYPTO_TFM_REQ_MAY_SLEEP, None, None)
    skcipher_request_set_crypt(req, lay_src.sgl, lay_dst.sgl, n, iv)
    return req


def test_priority_selection_and_driver_name_lookup(drivers):
    low, high = drivers
    tfm = crypto_alloc_skcipher("xor(toy)", 0, 0)
    assert crypto_skcipher_driver_name(tfm) == "xor-toy-fast" and tfm.impl is high
    tfm2 = crypto_alloc_skcipher("xor-toy-generic", 0, 0)
    assert crypto_skcipher_driver_name(tfm2) == "xor-toy-generic"
    assert (crypto_skcipher_ivsize(tfm), crypto_skcipher_blocksize(tfm),
            crypto_skcipher_chunksize(tfm), crypto_skcipher_min_keysize(tfm),
            crypto_skcipher_max_keysize(tfm), crypto_skcipher_alignmask(tfm)) == (16, 16, 16, 1,
                                                                                   32, 3)
    assert high.inits == 1
    crypto_free_skcipher(tfm)
    crypto_free_skcipher(tfm2)
    assert high.exits == 1 and low.exits == 1
    assert crypto_has_skcipher("xor(toy)") and not crypto_has_skcipher("nope(toy)")


def test_enoent_and_err_ptr(drivers):
    tfm = crypto_alloc_skcipher("cbc(nothing)", 0, 0)
    assert IS_ERR(tfm) and PTR_ERR(tfm) == -E.ENOENT
    crypto_free_skcipher(tfm)                   # ERR_PTR tolerated
    crypto_free_skcipher(None)
    with kmem.fail_allocations(times=1):
        assert crypto_alloc_skcipher("xor(toy)") == -E.ENOMEM


def test_need_key_enokey_and_key_length_checks(drivers):
    low, _ = drivers
    tfm = crypto_alloc_skcipher("xor-toy-generic")
    assert crypto_skcipher_get_flags(tfm) & CRYPTO_TFM_NEED_KEY
    lay = build([("page", 64)], seed=1)
    req = _req(tfm, lay, lay, 64, bytearray(16))
    assert crypto_skcipher_encrypt(req) == -E.ENOKEY
    assert crypto_skcipher_decrypt(req) == -E.ENOKEY
    assert "encrypt" not in low.calls
    calls = len(low.calls)
    assert crypto_skcipher_setkey(tfm, b"", 0) == -E.EINVAL
    assert crypto_skcipher_setkey(tfm, b"k" * 33, 33) == -E.EINVAL
    assert len(low.calls) == calls              # rejected before the driver saw it
    assert crypto_skcipher_setkey(tfm, b"k" * 16, 16) == 0
    assert not crypto_skcipher_get_flags(tfm) & CRYPTO_TFM_NEED_KEY
    assert crypto_skcipher_encrypt(req) == 0
    # A failed setkey (the driver refuses) leaves the tfm needing a key.
    assert crypto_skcipher_setkey(tfm, b"\xff" * 16, 16) == -E.EINVAL
    assert crypto_skcipher_get_flags(tfm) & CRYPTO_TFM_NEED_KEY
    assert crypto_skcipher_encrypt(req) == -E.ENOKEY
    skcipher_request_free(req)
    crypto_free_skcipher(tfm)
    lay.free()


def test_encrypt_decrypt_and_fields_untouched(drivers):
    tfm = crypto_alloc_skcipher("xor(toy)")
    key = bytes(range(1, 17))
    assert crypto_skcipher_setkey(tfm, key, 16) == 0
    src = build([("page", 100), ("kmalloc", 60), ("vmalloc", 5000)], chunk=3, seed=2)
    dst = build([("folio", 5160)], seed=3, fill=False)
    plain = src.flat().tobytes()
    iv = np.zeros(16, np.uint8)
    req = _req(tfm, src, dst, 5152, iv)
    fields = (req.cryptlen, req.iv, req.src, req.dst, req.base.flags, req.base.tfm)
    assert crypto_skcipher_encrypt(req) == 0
    assert (req.cryptlen, req.iv, req.src, req.dst, req.base.flags, req.base.tfm) == fields
    ct = dst.flat()[:5152].tobytes()
    assert ct == xor_reference(plain[:5152], key)
    assert bytes(iv) == ct[-16:]                 # next IV = last ciphertext block
    assert crypto_skcipher_reqtfm(req) is tfm
    # Decrypt in place (src == dst).
    skcipher_request_set_crypt(req, dst.sgl, dst.sgl, 5152, iv)
    assert crypto_skcipher_decrypt(req) == 0
    assert dst.flat()[:5152].tobytes() == plain[:5152]
    skcipher_request_free(req)
    crypto_free_skcipher(tfm)
    src.free()
    dst.free()


def test_request_argument_checks(drivers):
    tfm = crypto_alloc_skcipher("xor(toy)")
    req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    with pytest.raises(TypeError, match="writable"):
        skcipher_request_set_crypt(req, None, None, 0, b"0" * 16)
    with pytest.raises(ValueError):
        skcipher_request_set_crypt(req, None, None, -1, None)
    with kmem.fail_allocations(times=1):
        assert skcipher_request_alloc(tfm, kmem.GFP_KERNEL) is None
    skcipher_request_free(req)
    crypto_free_skcipher(tfm)


def test_sync_and_async_selection():
    sync = XorSkcipher(driver="xor-sync", priority=100)
    asyn = XorSkcipher(driver="xor-async", priority=500, flags=CRYPTO_ALG_ASYNC)
    assert crypto_register_skcipher(sync) == 0
    assert crypto_register_skcipher(asyn) == 0
    assert crypto_register_skcipher(asyn) == -E.EEXIST
    tfm = crypto_alloc_skcipher("xor(toy)")
    assert crypto_skcipher_driver_name(tfm) == "xor-async"
    crypto_skcipher_setkey(tfm, b"k", 1)
    req = SYNC_SKCIPHER_REQUEST_ON_STACK(tfm)
    assert crypto_skcipher_encrypt(req) == -E.EAGAIN
    crypto_free_skcipher(tfm)
    stfm = crypto_alloc_sync_skcipher("xor(toy)")
    assert crypto_skcipher_driver_name(stfm) == "xor-sync"
    crypto_free_skcipher(stfm)
    crypto_unregister_skcipher(sync)
    crypto_unregister_skcipher(asyn)
    assert crypto_alloc_skcipher("xor(toy)") == -E.ENOENT


def test_crypto_wait_helpers():
    wait = CryptoWait()
    assert crypto_wait_req(0, wait) == 0
    crypto_req_done(wait, -E.EINPROGRESS)
    assert not wait.completed
    crypto_req_done(wait, -E.EBADMSG)
    assert crypto_wait_req(-E.EINPROGRESS, wait) == -E.EBADMSG
    with pytest.raises(kmem.KernelBug):
        crypto_wait_req(-E.EBUSY, CryptoWait())


def test_wrong_type_driver_rejected():
    from sgl import crypto_register_aead
    from tests.test_sgl.toy_drivers import XorAead
    drv = XorSkcipher(driver="xor-wrong")
    drv.alg.type = "aead"
    assert crypto_register_skcipher(drv) == -E.EINVAL
    assert crypto_register_aead(XorSkcipher(driver="xor-wrong2")) == -E.EINVAL
    with pytest.raises(TypeError):
        crypto_register_skcipher(object())
    assert XorAead  # the AEAD twin is exercised in test_aead_api


def test_use_after_free_and_misuse(drivers):
    tfm = crypto_alloc_skcipher("xor(toy)")
    crypto_skcipher_setkey(tfm, b"k", 1)
    req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    skcipher_request_set_crypt(req, None, None, 0, None)
    crypto_free_skcipher(tfm)
    with kmem.expect_violations("use-after-free"):
        crypto_skcipher_encrypt(req)
    with kmem.expect_violations("double-free"):
        crypto_free_skcipher(tfm)
    with pytest.raises(TypeError):
        crypto_skcipher_encrypt("req")
    skcipher_request_free(req)
