"""The iov_iter skcipher API plumbing (a test-only XOR driver on the
iov_iter walk) and the iterator contract of DESIGN §7 over every
iterator type."""

import numpy as np
import pytest

import kmem
import sgl
from ciphers.algapi import CRYPTO_ALG_ASYNC, CRYPTO_TFM_NEED_KEY, CRYPTO_TFM_REQ_MAY_SLEEP
from iovcrypto import (
    IS_ERR,
    ITER_DEST,
    ITER_SOURCE,
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
    crypto_skcipher_decrypt,
    crypto_skcipher_driver_name,
    crypto_skcipher_encrypt,
    crypto_skcipher_get_flags,
    crypto_skcipher_ivsize,
    crypto_skcipher_setkey,
    crypto_unregister_skcipher,
    crypto_unregister_skciphers,
    crypto_wait_req,
    iov_iter,
    iov_iter_advance,
    iov_iter_discard,
    iov_iter_ubuf,
    skcipher_request_alloc,
    skcipher_request_free,
    skcipher_request_set_callback,
    skcipher_request_set_iter,
)
from kmem import errno as E
from tests.test_iov_crypto.helpers import KINDS, build, fill, get, position
from tests.test_iov_crypto.toy_drivers import XorSkcipher, xor_reference

KEY = b"0123456789abcdef"


@pytest.fixture
def drivers():
    low = XorSkcipher(driver="xor-toy-generic", priority=100)
    high = XorSkcipher(driver="xor-toy-fast", priority=300, alignmask=3)
    assert crypto_register_skciphers([low, high]) == 0
    yield low, high
    crypto_unregister_skciphers([low, high])


@pytest.fixture
def tfm(drivers):
    t = crypto_alloc_skcipher("xor-toy-generic")
    assert crypto_skcipher_setkey(t, KEY, len(KEY)) == 0
    yield t
    crypto_free_skcipher(t)


def _req(tfm, src, dst, n, iv):
    req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    skcipher_request_set_callback(req, CRYPTO_TFM_REQ_MAY_SLEEP, None, None)
    skcipher_request_set_iter(req, src, dst, n, iv)
    return req


def _advanced(it, n):
    c = it.copy()
    iov_iter_advance(c, n)
    return position(c)


def test_priority_selection_and_driver_name_lookup(drivers):
    low, high = drivers
    tfm = crypto_alloc_skcipher("xor(toy)", 0, 0)
    assert crypto_skcipher_driver_name(tfm) == "xor-toy-fast" and tfm.impl is high
    tfm2 = crypto_alloc_skcipher("xor-toy-generic", 0, 0)
    assert crypto_skcipher_driver_name(tfm2) == "xor-toy-generic"
    assert (crypto_skcipher_ivsize(tfm), crypto_skcipher_blocksize(tfm),
            crypto_skcipher_alignmask(tfm)) == (16, 16, 3)
    assert high.inits == 1
    crypto_free_skcipher(tfm)
    crypto_free_skcipher(tfm2)
    assert high.exits == 1 and low.exits == 1


def test_worlds_have_separate_registries(drivers):
    assert crypto_has_skcipher("xor(toy)")
    assert not sgl.crypto_has_skcipher("xor(toy)")
    assert PTR_ERR(sgl.crypto_alloc_skcipher("xor(toy)")) == -E.ENOENT
    other = XorSkcipher(driver="xor-toy-sgl")
    assert sgl.crypto_register_skcipher(other) == 0
    try:
        t = sgl.crypto_alloc_skcipher("xor-toy-sgl")
        with pytest.raises(TypeError):
            skcipher_request_alloc(t, kmem.GFP_KERNEL)   # an sgl tfm, an iov request
        sgl.crypto_free_skcipher(t)
    finally:
        sgl.crypto_unregister_skcipher(other)


def test_enoent_and_err_ptr(drivers):
    tfm = crypto_alloc_skcipher("cbc(nothing)", 0, 0)
    assert IS_ERR(tfm) and PTR_ERR(tfm) == -E.ENOENT
    crypto_free_skcipher(tfm)          # ERR_PTR tolerated
    crypto_free_skcipher(None)


def test_register_errors(drivers):
    dup = XorSkcipher(driver="xor-toy-generic")
    assert crypto_register_skcipher(dup) == -E.EEXIST
    wrong = XorSkcipher(driver="xor-toy-odd")
    wrong.alg.type = "aead"
    assert crypto_register_skcipher(wrong) == -E.EINVAL
    with pytest.raises(TypeError):
        crypto_register_skcipher(object())
    assert crypto_unregister_skcipher(XorSkcipher(driver="never")) == -E.ENOENT


def test_setkey_rules_and_enokey(drivers):
    tfm = crypto_alloc_skcipher("xor-toy-generic")
    assert crypto_skcipher_get_flags(tfm) & CRYPTO_TFM_NEED_KEY
    src, dst = build("kvec", 32), build("bvec", 32, source=False)
    before = position(src.it), position(dst.it)
    req = _req(tfm, src.it, dst.it, 32, bytearray(16))
    assert crypto_skcipher_encrypt(req) == -E.ENOKEY
    assert (position(src.it), position(dst.it)) == before
    assert crypto_skcipher_setkey(tfm, b"", 0) == -E.EINVAL            # below min_keysize
    assert crypto_skcipher_setkey(tfm, b"x" * 33, 33) == -E.EINVAL     # above max_keysize
    assert crypto_skcipher_setkey(tfm, KEY, 16) == 0
    assert not crypto_skcipher_get_flags(tfm) & CRYPTO_TFM_NEED_KEY
    assert crypto_skcipher_setkey(tfm, b"\xff" * 16, 16) == -E.EINVAL  # the driver refuses
    assert crypto_skcipher_get_flags(tfm) & CRYPTO_TFM_NEED_KEY
    assert crypto_skcipher_decrypt(req) == -E.ENOKEY
    assert (position(src.it), position(dst.it)) == before
    skcipher_request_free(req)
    crypto_free_skcipher(tfm)
    src.free()
    dst.free()


@pytest.mark.parametrize("skind", KINDS)
@pytest.mark.parametrize("dkind", ["kvec", "bvec", "folioq", "ubuf"])
def test_success_advances_both_by_cryptlen(tfm, skind, dkind):
    rng = np.random.default_rng(7)
    n = 3 * 4096 + 48
    src = build(skind, n + 40, [1, 15, 700, 5000, 33, 9000], seed=1, start=123)
    dst = build(dkind, n + 7, [4097, 19, 8000], source=False, seed=2, start=4000)
    data = fill(src, rng)
    want_src, want_dst = _advanced(src.it, n), _advanced(dst.it, n)
    iv = bytearray(16)
    req = _req(tfm, src.it, dst.it, n, iv)
    assert crypto_skcipher_encrypt(req) == 0
    assert get(dst, 0, n).tobytes() == xor_reference(data[:n].tobytes(), KEY)
    assert (position(src.it), position(dst.it)) == (want_src, want_dst)
    assert (src.it.count, dst.it.count) == (40, 7)
    assert bytes(iv) == get(dst, n - 16, 16).tobytes()       # CBC-like next IV
    assert req.src is src.it and req.dst is dst.it and req.cryptlen == n
    skcipher_request_free(req)
    src.free()
    dst.free()


@pytest.mark.parametrize("kind", KINDS)
def test_errors_leave_iterators_where_they_were(tfm, kind):
    src = build(kind, 100, [3, 50, 47], seed=3)
    dst = build(kind, 100, [60, 40], source=False, seed=4)
    iov_iter_advance(src.it, 2)              # not at the start of the layout
    before = position(src.it), position(dst.it)
    iv = bytearray(16)
    # Not whole blocks: the walk's -EINVAL after some steps were processed.
    req = _req(tfm, src.it, dst.it, 90, iv)
    assert crypto_skcipher_encrypt(req) == -E.EINVAL
    assert (position(src.it), position(dst.it)) == before
    # Longer than the iterators: -EINVAL before the driver runs.
    calls = len(tfm.impl.calls)
    skcipher_request_set_iter(req, src.it, dst.it, 112, iv)
    assert crypto_skcipher_encrypt(req) == -E.EINVAL
    assert len(tfm.impl.calls) == calls
    # A driver error after a complete walk.
    tfm.impl.fail_with = -E.EIO
    skcipher_request_set_iter(req, src.it, dst.it, 96, iv)
    assert crypto_skcipher_decrypt(req) == -E.EIO
    tfm.impl.fail_with = 0
    assert (position(src.it), position(dst.it)) == before
    skcipher_request_free(req)
    src.free()
    dst.free()


def test_cryptlen_zero(tfm):
    src, dst = build("iovec", 16), build("iovec", 16, source=False)
    before = position(src.it), position(dst.it)
    req = _req(tfm, src.it, dst.it, 0, bytearray(16))
    assert crypto_skcipher_encrypt(req) == 0
    assert (position(src.it), position(dst.it)) == before
    skcipher_request_set_iter(req, None, None, 0, None)
    assert crypto_skcipher_encrypt(req) == 0
    skcipher_request_free(req)
    src.free()
    dst.free()


@pytest.mark.parametrize("kind", KINDS)
def test_in_place_with_one_iterator_advances_once(tfm, kind):
    rng = np.random.default_rng(5)
    lay = build(kind, 4096 + 64, [10, 4000, 150], seed=6, start=77, source=False)
    data = fill(lay, rng)
    want = _advanced(lay.it, 4096)
    req = _req(tfm, lay.it, lay.it, 4096, bytearray(16))
    assert crypto_skcipher_encrypt(req) == 0
    assert position(lay.it) == want
    assert get(lay, 0, 4096).tobytes() == xor_reference(data[:4096].tobytes(), KEY)
    assert all(not slow or n == 16 for n, _, slow in tfm.impl.steps)
    skcipher_request_free(req)
    lay.free()


def test_discard_destination_and_source(tfm):
    src = build("bvec", 64)
    sink = iov_iter()
    iov_iter_discard(sink, ITER_DEST, 100)
    req = _req(tfm, src.it, sink, 64, bytearray(16))
    assert crypto_skcipher_encrypt(req) == 0
    assert sink.count == 36 and src.it.count == 0
    sink2 = iov_iter()
    iov_iter_discard(sink2, ITER_DEST, 64)
    dst = build("kvec", 64, source=False)
    skcipher_request_set_iter(req, sink2, dst.it, 64, bytearray(16))
    with kmem.expect_violations("warn"):                 # a sink is ITER_DEST, not a src
        assert crypto_skcipher_encrypt(req) == -E.EINVAL
    assert sink2.count == 64 and dst.it.count == 64
    skcipher_request_free(req)
    src.free()
    dst.free()


def test_user_fault_is_efault_and_unmoves(tfm):
    mm = kmem.current_mm()
    base = mm.mmap(2 * kmem.PAGE_SIZE)
    assert mm.munmap(base + kmem.PAGE_SIZE, kmem.PAGE_SIZE) == 0
    src = iov_iter()
    iov_iter_ubuf(src, ITER_SOURCE, base + 64, 2 * kmem.PAGE_SIZE - 128)
    dst = build("kvec", 8192, source=False)
    before = position(src), position(dst.it)
    req = _req(tfm, src, dst.it, 4096, bytearray(16))
    assert crypto_skcipher_encrypt(req) == -E.EFAULT
    assert (position(src), position(dst.it)) == before
    skcipher_request_free(req)
    mm.munmap(base, kmem.PAGE_SIZE)
    dst.free()


def test_misaligned_iv_address_is_bounced_and_copied_back(drivers):
    tfm = crypto_alloc_skcipher("xor-toy-fast")            # alignmask 3
    assert crypto_skcipher_setkey(tfm, KEY, 16) == 0
    buf = kmem.kmalloc(64, kmem.GFP_KERNEL)
    iv_addr = buf + 1
    src, dst = build("kvec", 64), build("kvec", 64, source=False)
    req = _req(tfm, src.it, dst.it, 64, iv_addr)
    assert crypto_skcipher_encrypt(req) == 0
    assert kmem.read_virt(iv_addr, 16) == get(dst, 48, 16).tobytes()
    skcipher_request_free(req)
    kmem.kfree(buf)
    crypto_free_skcipher(tfm)
    src.free()
    dst.free()


def test_on_stack_request_and_async(drivers):
    adrv = XorSkcipher(name="xor(toy)", driver="xor-toy-async", priority=50,
                       flags=CRYPTO_ALG_ASYNC)
    assert crypto_register_skcipher(adrv) == 0
    tfm = crypto_alloc_skcipher("xor-toy-async")
    crypto_skcipher_setkey(tfm, KEY, 16)
    src, dst = build("kvec", 32), build("kvec", 32, source=False)
    req = SYNC_SKCIPHER_REQUEST_ON_STACK(tfm)
    skcipher_request_set_iter(req, src.it, dst.it, 32, bytearray(16))
    assert crypto_skcipher_encrypt(req) == -E.EAGAIN
    assert src.it.count == 32
    assert IS_ERR(crypto_alloc_sync_skcipher("xor-toy-async"))
    crypto_free_skcipher(tfm)
    crypto_unregister_skcipher(adrv)
    src.free()
    dst.free()


class _AsyncXor(XorSkcipher):
    """Completes through the callback and returns -EINPROGRESS."""

    def encrypt(self, req):
        err = super().encrypt(req)
        req.base.complete(req.base.data, err)
        return -E.EINPROGRESS


def test_async_completion_applies_the_contract():
    drv = _AsyncXor(driver="xor-toy-inprogress", flags=CRYPTO_ALG_ASYNC)
    assert crypto_register_skcipher(drv) == 0
    tfm = crypto_alloc_skcipher("xor-toy-inprogress")
    crypto_skcipher_setkey(tfm, KEY, 16)
    src, dst = build("bvec", 48), build("bvec", 48, source=False)
    wait = CryptoWait()
    req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    skcipher_request_set_callback(req, 0, crypto_req_done, wait)
    skcipher_request_set_iter(req, src.it, dst.it, 32, bytearray(16))
    assert crypto_wait_req(crypto_skcipher_encrypt(req), wait) == 0
    assert (src.it.count, dst.it.count) == (16, 16)
    assert req.base.complete is crypto_req_done
    skcipher_request_free(req)
    crypto_free_skcipher(tfm)
    crypto_unregister_skcipher(drv)
    src.free()
    dst.free()


class _MovingXor(XorSkcipher):
    """A careless driver: moves the iterators it finds in the request (by
    ``move`` bytes, after its walk), then returns ``fail_with``; it also
    notes what the request held while it ran."""

    move = 5

    def encrypt(self, req):
        self.held = (req.src, req.dst)
        self.held_pos = (position(req.src), position(req.dst))
        err = super().encrypt(req)
        iov_iter_advance(req.src, self.move)
        if req.dst is not req.src:
            iov_iter_advance(req.dst, self.move)
        return err


@pytest.mark.parametrize("kind", ["kvec", "bvec", "ubuf", "folioq"])
@pytest.mark.parametrize("fail", [0, -E.EIO])
def test_driver_moving_its_iterators_never_moves_the_callers(kind, fail):
    """The driver is handed private copies (at the callers' positions):
    whatever it does to them, the caller's iterators end advanced by
    exactly cryptlen on success and where they were on an error, and the
    request holds the caller's again once the call returns."""
    drv = _MovingXor(driver="xor-toy-moving")
    drv.fail_with = fail
    assert crypto_register_skcipher(drv) == 0
    tfm = crypto_alloc_skcipher("xor-toy-moving")
    crypto_skcipher_setkey(tfm, KEY, 16)
    src, dst = build(kind, 100, [3, 50, 47], seed=3), build(kind, 100, source=False, seed=4)
    start = (position(src.it), position(dst.it))
    want = (_advanced(src.it, 64), _advanced(dst.it, 64)) if not fail else start
    req = _req(tfm, src.it, dst.it, 64, bytearray(16))
    assert crypto_skcipher_encrypt(req) == fail
    assert drv.held[0] is not src.it and drv.held[1] is not dst.it
    assert drv.held_pos == start
    assert (position(src.it), position(dst.it)) == want
    assert req.src is src.it and req.dst is dst.it
    # In place with one object: one copy, handed as both.
    inplace = build(kind, 100, source=False, seed=5)
    want = _advanced(inplace.it, 64) if not fail else position(inplace.it)
    skcipher_request_set_iter(req, inplace.it, inplace.it, 64, bytearray(16))
    assert crypto_skcipher_encrypt(req) == fail
    assert drv.held[0] is drv.held[1] and drv.held[0] is not inplace.it
    assert position(inplace.it) == want
    assert req.src is inplace.it and req.dst is inplace.it
    skcipher_request_free(req)
    crypto_free_skcipher(tfm)
    crypto_unregister_skcipher(drv)
    for b in (src, dst, inplace):
        b.free()


def test_a_raising_driver_leaves_the_request_and_iterators_alone(tfm, drivers):
    low, _high = drivers
    src, dst = build("kvec", 64), build("kvec", 64, source=False)
    req = _req(tfm, src.it, dst.it, 32, bytearray(16))

    def boom(req):
        iov_iter_advance(req.src, 8)
        raise kmem.KernelBug("driver bug")
    low.encrypt = boom
    with pytest.raises(kmem.KernelBug):
        crypto_skcipher_encrypt(req)
    assert req.src is src.it and req.dst is dst.it and src.it.count == 64
    skcipher_request_free(req)
    src.free()
    dst.free()


class _LaterXor(XorSkcipher):
    """Asynchronous: queues the request and returns -EINPROGRESS; the test
    completes it (``finish``), after moving the request's iterators."""

    def encrypt(self, req):
        self.queued = req
        self.held = (req.src, req.dst)
        return -E.EINPROGRESS

    def finish(self, fail=0):
        req = self.queued
        err = XorSkcipher.encrypt(self, req) or fail
        iov_iter_advance(req.src, 3)
        req.base.complete(req.base.data, err)


@pytest.mark.parametrize("fail", [0, -E.EIO])
def test_async_request_keeps_the_copies_until_its_completion(fail):
    drv = _LaterXor(driver="xor-toy-later", flags=CRYPTO_ALG_ASYNC)
    assert crypto_register_skcipher(drv) == 0
    tfm = crypto_alloc_skcipher("xor-toy-later")
    crypto_skcipher_setkey(tfm, KEY, 16)
    src, dst = build("bvec", 48), build("bvec", 48, source=False)
    start = (position(src.it), position(dst.it))
    want = (_advanced(src.it, 32), _advanced(dst.it, 32)) if not fail else start
    seen = []

    def done(data, err):
        seen.append((err, req.src is src.it and req.dst is dst.it,
                     (position(src.it), position(dst.it))))
    req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    skcipher_request_set_callback(req, 0, done, None)
    skcipher_request_set_iter(req, src.it, dst.it, 32, bytearray(16))
    assert crypto_skcipher_encrypt(req) == -E.EINPROGRESS
    # Until the completion: the driver's copies in the request, the
    # caller's iterators where they were.
    assert req.src is drv.held[0] is not src.it and req.dst is drv.held[1] is not dst.it
    assert (position(src.it), position(dst.it)) == start
    drv.finish(fail)
    assert seen == [(fail, True, want)]
    assert req.base.complete is done
    skcipher_request_free(req)
    crypto_free_skcipher(tfm)
    crypto_unregister_skcipher(drv)
    src.free()
    dst.free()


def test_type_errors(tfm):
    req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    with pytest.raises(TypeError):
        skcipher_request_set_iter(req, [1, 2], None, 0, None)
    with pytest.raises(TypeError):
        skcipher_request_set_iter(req, None, None, 0, b"immutable iv")
    with pytest.raises(ValueError):
        skcipher_request_set_iter(req, None, None, -1, None)
    with pytest.raises(TypeError):
        crypto_skcipher_encrypt(object())
    skcipher_request_free(req)
