"""The iov_iter AEAD API plumbing (a test-only AEAD on the iov_iter walk and
the positional helpers) and the iterator contract of DESIGN §7: advance
amounts, unmoved on error, -EBADMSG zeroing the plaintext area."""

import hashlib

import numpy as np
import pytest

import kmem
from iovcrypto import (
    ITER_DEST,
    ITER_SOURCE,
    SKCIPHER_WALK_DIFF,
    SkcipherWalk,
    aead_request_alloc,
    aead_request_free,
    aead_request_set_ad,
    aead_request_set_callback,
    aead_request_set_iter,
    bio_vec,
    crypto_aead_authsize,
    crypto_aead_decrypt,
    crypto_aead_driver_name,
    crypto_aead_encrypt,
    crypto_aead_ivsize,
    crypto_aead_maxauthsize,
    crypto_aead_setauthsize,
    crypto_aead_setkey,
    crypto_alloc_aead,
    crypto_free_aead,
    crypto_has_aead,
    crypto_register_aead,
    crypto_unregister_aead,
    iov_iter,
    iov_iter_advance,
    iov_iter_bvec,
    iov_iter_discard,
    iov_iter_ubuf,
    iter_map_and_copy,
    iter_pcopy,
    iter_pcopy_from,
    iter_pcopy_to,
    iter_pviews,
    iter_pzero,
    skcipher_walk_abort,
    skcipher_walk_aead_decrypt,
    skcipher_walk_aead_encrypt,
)
from kmem import errno as E
from kmem.access import page_views
from tests.test_iov_crypto.helpers import KINDS, build, fill, get, position, put
from tests.test_iov_crypto.toy_drivers import XorAead, xor_reference

KEY = b"aead-key-16bytes"


@pytest.fixture
def drv():
    low = XorAead(driver="xoraead-toy-generic", priority=100)
    high = XorAead(driver="xoraead-toy-fast", priority=200)
    assert crypto_register_aead(low) == 0 and crypto_register_aead(high) == 0
    yield low
    crypto_unregister_aead(low)
    crypto_unregister_aead(high)


@pytest.fixture
def tfm(drv):
    t = crypto_alloc_aead("xoraead-toy-generic")
    assert crypto_aead_setkey(t, KEY, len(KEY)) == 0
    yield t
    crypto_free_aead(t)


def _tag(ad: bytes, ct: bytes, n: int) -> bytes:
    return hashlib.sha256(KEY + ad + ct).digest()[:n]


def _req(tfm, src, dst, assoclen, cryptlen):
    req = aead_request_alloc(tfm, kmem.GFP_KERNEL)
    aead_request_set_callback(req, 0, None, None)
    aead_request_set_iter(req, src, dst, cryptlen, bytearray(12))
    aead_request_set_ad(req, assoclen)
    return req


def _moved(it, n):
    c = it.copy()
    iov_iter_advance(c, n)
    return position(c)


def test_lookup_priority_and_authsize_rules(drv):
    assert crypto_has_aead("xoraead(toy)")
    t = crypto_alloc_aead("xoraead(toy)")
    assert crypto_aead_driver_name(t) == "xoraead-toy-fast"
    assert (crypto_aead_ivsize(t), crypto_aead_authsize(t), crypto_aead_maxauthsize(t)) == \
        (12, 16, 16)
    assert crypto_aead_setauthsize(t, 0) == -E.EINVAL          # 0 with maxauthsize 16
    assert crypto_aead_setauthsize(t, 17) == -E.EINVAL         # above the maximum
    assert crypto_aead_setauthsize(t, 6) == -E.EINVAL          # the driver refuses
    assert crypto_aead_authsize(t) == 16
    assert crypto_aead_setauthsize(t, 8) == 0 and crypto_aead_authsize(t) == 8
    assert crypto_aead_setkey(t, b"short", 5) == -E.EINVAL
    crypto_free_aead(t)
    assert crypto_alloc_aead("gcm(nothing)") == -E.ENOENT


def test_enokey_and_short_decrypt_leave_iterators(drv):
    t = crypto_alloc_aead("xoraead-toy-generic")
    src, dst = build("kvec", 40), build("bvec", 40, source=False)
    before = position(src.it), position(dst.it)
    req = _req(t, src.it, dst.it, 8, 10)
    assert crypto_aead_encrypt(req) == -E.ENOKEY
    assert crypto_aead_setkey(t, KEY, 16) == 0
    aead_request_set_iter(req, src.it, dst.it, 15, bytearray(12))    # < authsize 16
    assert crypto_aead_decrypt(req) == -E.EINVAL
    assert (position(src.it), position(dst.it)) == before
    aead_request_free(req)
    crypto_free_aead(t)
    src.free()
    dst.free()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("assoclen", "textlen"), [(0, 0), (0, 100), (20, 0), (13, 5000)])
def test_roundtrip_advances_and_tag(tfm, kind, assoclen, textlen):
    rng = np.random.default_rng(assoclen + textlen)
    auth = crypto_aead_authsize(tfm)
    src = build(kind, assoclen + textlen + 9, [5, 1, 3000, 7, 4096], seed=1, start=3000)
    dst = build(kind, assoclen + textlen + auth + 4, [2, 999, 33], source=False, seed=2,
                start=10)
    data = fill(src, rng)
    want_s, want_d = _moved(src.it, assoclen + textlen), _moved(dst.it,
                                                                 assoclen + textlen + auth)
    req = _req(tfm, src.it, dst.it, assoclen, textlen)
    assert crypto_aead_encrypt(req) == 0
    assert (position(src.it), position(dst.it)) == (want_s, want_d)
    ad, pt = data[:assoclen].tobytes(), data[assoclen:assoclen + textlen].tobytes()
    ct = xor_reference(pt, KEY)
    out = get(dst, assoclen, textlen + auth).tobytes()
    assert out == ct + _tag(ad, ct, auth)
    assert (req.assoclen, req.cryptlen) == (assoclen, textlen)
    # Decrypt out of place from the ciphertext (AD copied in front).
    c = build(kind, assoclen + textlen + auth, [17, 4000], seed=3)
    put(c, 0, data[:assoclen])
    put(c, assoclen, np.frombuffer(out, np.uint8))
    p = build("kvec", assoclen + textlen + 2, [3, 100], source=False, seed=4)
    want_c, want_p = _moved(c.it, assoclen + textlen + auth), _moved(p.it, assoclen + textlen)
    aead_request_set_iter(req, c.it, p.it, textlen + auth, bytearray(12))
    assert crypto_aead_decrypt(req) == 0
    assert get(p, assoclen, textlen).tobytes() == pt
    assert (position(c.it), position(p.it)) == (want_c, want_p)
    aead_request_free(req)
    for lay in (src, dst, c, p):
        lay.free()


@pytest.mark.parametrize("kind", KINDS)
def test_ebadmsg_zeroes_plaintext_and_unmoves(tfm, kind):
    auth = crypto_aead_authsize(tfm)
    ad, n = 11, 300
    c = build(kind, ad + n + auth, [1, 50, 2000], seed=5)
    data = fill(c, np.random.default_rng(9))      # garbage: the tag will not match
    p = build(kind, ad + n + 5, [7, 60], source=False, seed=6)
    fill(p, np.random.default_rng(10))
    p_before = get(p, 0, p.count).copy()
    before = position(c.it), position(p.it)
    req = _req(tfm, c.it, p.it, ad, n + auth)
    assert crypto_aead_decrypt(req) == -E.EBADMSG
    assert (position(c.it), position(p.it)) == before
    out = get(p, 0, p.count)
    assert not out[ad:ad + n].any()                       # no unauthenticated plaintext
    assert out[:ad].tobytes() == p_before[:ad].tobytes()  # AD space untouched
    assert out[ad + n:].tobytes() == p_before[ad + n:].tobytes()
    assert get(c, 0, c.count).tobytes() == data.tobytes()
    aead_request_free(req)
    c.free()
    p.free()


def test_in_place_one_iterator(tfm):
    auth = crypto_aead_authsize(tfm)
    lay = build("bvec", 16 + 200 + auth, [16, 3, 197, 16], source=False)  # one iterator: ITER_DEST
    data = fill(lay, np.random.default_rng(2))
    req = _req(tfm, lay.it, lay.it, 16, 200)
    assert crypto_aead_encrypt(req) == 0
    assert lay.it.count == 0
    ct = get(lay, 16, 200).tobytes()
    assert ct == xor_reference(data[16:216].tobytes(), KEY)
    assert get(lay, 216, auth).tobytes() == _tag(data[:16].tobytes(), ct, auth)
    aead_request_free(req)
    lay.free()


def test_iterators_too_short(tfm):
    auth = crypto_aead_authsize(tfm)
    src = build("kvec", 40)
    dst = build("kvec", 40 + auth - 1, source=False)
    req = _req(tfm, src.it, dst.it, 8, 32)
    assert crypto_aead_encrypt(req) == -E.EINVAL          # no room for the tag
    assert src.it.count == 40 and dst.it.count == 40 + auth - 1
    aead_request_free(req)
    src.free()
    dst.free()


def test_aead_walk_starts_after_assoclen(tfm):
    src = build("iovec", 64, [10, 54])
    dst = build("kvec", 64 + 16, source=False)
    data = fill(src, np.random.default_rng(4))
    req = _req(tfm, src.it, dst.it, 24, 40)
    walk = SkcipherWalk()
    assert skcipher_walk_aead_encrypt(walk, req, False) == 0
    assert walk.total == 40
    assert walk.src_view.tobytes() == data[24:24 + walk.nbytes].tobytes()
    walk2 = SkcipherWalk()
    aead_request_set_iter(req, src.it, dst.it, 40, bytearray(12))
    assert skcipher_walk_aead_decrypt(walk2, req, False) == 0 and walk2.total == 24
    skcipher_walk_abort(walk)
    skcipher_walk_abort(walk2)
    aead_request_set_iter(req, src.it, dst.it, 4, bytearray(12))
    with kmem.expect_violations("warn"):
        assert skcipher_walk_aead_decrypt(SkcipherWalk(), req, False) == -E.EINVAL
    assert src.it.count == 64
    aead_request_free(req)
    src.free()
    dst.free()


def test_aead_walk_places_src_after_the_ad_it_skips(tfm):
    # src: AD and text in one bio_vec, the text assoclen bytes in; dst: its
    # AD elsewhere and its text where src's AD lies.  Out of place: the
    # walk must locate src's text past the AD, not at the bio_vec's start.
    s, n = 32, 48
    p, q = kmem.alloc_page(kmem.GFP_KERNEL), kmem.alloc_page(kmem.GFP_KERNEL)
    page = page_views(p, 0, kmem.PAGE_SIZE, write=True)[0]
    page[:] = np.arange(kmem.PAGE_SIZE) % 251
    src, dst = iov_iter(), iov_iter()
    iov_iter_bvec(src, ITER_SOURCE, [bio_vec(p, s + n, 0)], 1, s + n)
    iov_iter_bvec(dst, ITER_DEST, [bio_vec(q, s, 0), bio_vec(p, n, 0)], 2, s + n)
    req = _req(tfm, src, dst, s, n)
    walk = SkcipherWalk()
    assert skcipher_walk_aead_encrypt(walk, req, False) == 0
    assert walk.flags & SKCIPHER_WALK_DIFF
    assert walk.src_view.tobytes() == page[s:s + walk.nbytes].tobytes()
    skcipher_walk_abort(walk)
    aead_request_free(req)
    kmem.__free_page(p)
    kmem.__free_page(q)


@pytest.mark.parametrize("kind", KINDS)
def test_positional_helpers_leave_the_iterator(kind):
    lay = build(kind, 5000, [1, 2, 3, 4000, 994], seed=8, start=4090)
    data = fill(lay, np.random.default_rng(8))
    iov_iter_advance(lay.it, 3)
    pos = position(lay.it)
    buf = bytearray(100)
    assert iter_pcopy_from(buf, lay.it, 10, 100) == 100
    assert bytes(buf) == data[13:113].tobytes()
    views, got = iter_pviews(lay.it, 0, 4997)
    assert got == 4997 and np.concatenate(views).tobytes() == data[3:].tobytes()
    assert iter_pcopy_to(lay.it, 4990, b"\x01" * 7, 7) == 7
    assert get(lay, 4993, 7).tobytes() == b"\x01" * 7
    assert iter_pzero(lay.it, 0, 5) == 5 and not get(lay, 3, 5).any()
    assert iter_pcopy_from(buf, lay.it, 4990, 100) == 7          # short at count
    assert iter_pcopy_from(buf, lay.it, 6000, 1) == 0
    assert iter_map_and_copy(bytearray(b"zz"), lay.it, 100, 2, 1) == 2
    assert get(lay, 103, 2).tobytes() == b"zz"
    assert position(lay.it) == pos
    lay.free()


def test_iter_pcopy_between_iterators_and_in_place():
    a = build("bvec", 300, [100, 200])
    b = build("kvec", 300, [7, 293], source=False)
    data = fill(a, np.random.default_rng(1))
    assert iter_pcopy(b.it, 5, a.it, 20, 250) == 250
    assert get(b, 5, 250).tobytes() == data[20:270].tobytes()
    same = a.it.copy()
    assert iter_pcopy(same, 0, a.it, 0, 300) == 300                 # in place: no change
    assert get(a, 0, 300).tobytes() == data.tobytes()
    sink = iov_iter()
    iov_iter_discard(sink, ITER_DEST, 10)
    assert iter_pcopy_to(sink, 0, b"abc", 3) == 3
    assert iter_pviews(sink, 0, 3) == ([], 0)
    assert a.it.count == 300 and b.it.count == 300
    a.free()
    b.free()


def test_walk_on_user_memory_fault_in_ad_region(tfm):
    mm = kmem.current_mm()
    base = mm.mmap(2 * kmem.PAGE_SIZE)
    mm.munmap(base, kmem.PAGE_SIZE)                 # the AD page is gone
    src = iov_iter()
    iov_iter_ubuf(src, ITER_SOURCE, base + kmem.PAGE_SIZE - 8, 8 + 64)
    dst = build("kvec", 8 + 64 + 16, source=False)
    req = _req(tfm, src, dst.it, 8, 64)
    before = position(src), position(dst.it)
    assert crypto_aead_encrypt(req) == -E.EFAULT
    assert (position(src), position(dst.it)) == before
    aead_request_free(req)
    mm.munmap(base + kmem.PAGE_SIZE, kmem.PAGE_SIZE)
    dst.free()


class _FailingAead(XorAead):
    """Encrypts fully, then reports a driver error."""

    def encrypt(self, req):
        err = super().encrypt(req)
        return err or -E.EIO


@pytest.mark.parametrize("kind", KINDS)
def test_every_error_path_leaves_iterators(drv, kind):
    fail = _FailingAead(driver="xoraead-toy-failing", priority=1)
    assert crypto_register_aead(fail) == 0
    t = crypto_alloc_aead("xoraead-toy-failing")
    src = build(kind, 8 + 100 + 16, [3, 40, 81], seed=11)
    dst = build(kind, 8 + 100 + 16, [50, 74], source=False, seed=12)
    iov_iter_advance(src.it, 1)
    before = position(src.it), position(dst.it)
    req = _req(t, src.it, dst.it, 8, 100)
    assert crypto_aead_encrypt(req) == -E.ENOKEY
    assert crypto_aead_setkey(t, KEY, 16) == 0
    assert crypto_aead_encrypt(req) == -E.EIO                   # driver error after writing
    aead_request_set_iter(req, src.it, dst.it, 15, bytearray(12))
    assert crypto_aead_decrypt(req) == -E.EINVAL                # cryptlen < authsize
    aead_request_set_iter(req, src.it, dst.it, 116, bytearray(12))
    assert crypto_aead_decrypt(req) == -E.EINVAL                # src too short for AD + text
    aead_request_set_ad(req, 7)
    assert crypto_aead_decrypt(req) == -E.EBADMSG               # garbage tag
    assert (position(src.it), position(dst.it)) == before
    aead_request_free(req)
    crypto_free_aead(t)
    crypto_unregister_aead(fail)
    src.free()
    dst.free()
