"""xts-aes-openssl's arch fast path (aesni xts_crypt()): a request whose
first scatterlist entry / current bio_vec holds all of cryptlen on both
sides is one library call with no walk; anything else walks.  Either way
the bytes are the generic xts(ecb(aes-generic))'s."""

from __future__ import annotations

import os

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

import iovcrypto
import kmem
import sgl
from ciphers import accel
from iovcrypto import ITER_DEST, ITER_SOURCE

LENS = (16, 17, 31, 512, 4096, 4096 + 5)


def _pages(n: int) -> kmem.Page:
    return kmem.alloc_pages(kmem.GFP_KERNEL, 1 if n > 4096 else 0)


def _fill(page: kmem.Page, data: bytes) -> None:
    kmem.copy_views(kmem.page_views(page, 0, len(data), write=True),
                    [np.frombuffer(data, np.uint8)])


def _read(page: kmem.Page, n: int, off: int = 0) -> bytes:
    return kmem.gather(kmem.page_views(page, off, n)).tobytes()


def _sg_run(driver: str, key: bytes, iv: bytes, data: bytes, enc: bool, inplace: bool,
            split: int = 0) -> bytes:
    """One request through the scatterlist API: one entry per side, or
    (``split``) src as two entries of a page each side of the split."""
    n = len(data)
    tfm = sgl.crypto_alloc_skcipher(driver)
    assert sgl.crypto_skcipher_setkey(tfm, key, len(key)) == 0
    req = sgl.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    a, b = _pages(n), _pages(n)
    _fill(a, data)
    if split:
        sa = sgl.sg_array(2)
        sgl.sg_init_table(sa, 2)
        sgl.sg_set_page(sa[0], a, split, 0)
        sgl.sg_set_page(sa[1], a, n - split, split)
    else:
        sa = sgl.sg_array(1)
        sgl.sg_init_table(sa, 1)
        sgl.sg_set_page(sa[0], a, n, 0)
    if inplace:
        sb = sa
    else:
        sb = sgl.sg_array(1)
        sgl.sg_init_table(sb, 1)
        sgl.sg_set_page(sb[0], b, n, 0)
    sgl.skcipher_request_set_crypt(req, sa, sb, n, bytearray(iv))
    assert (sgl.crypto_skcipher_encrypt if enc else sgl.crypto_skcipher_decrypt)(req) == 0
    out = _read(a if inplace else b, n)
    kmem.__free_pages(a, 1 if n > 4096 else 0)
    kmem.__free_pages(b, 1 if n > 4096 else 0)
    sgl.skcipher_request_free(req)
    sgl.crypto_free_skcipher(tfm)
    return out


def _iov_run(driver: str, key: bytes, iv: bytes, data: bytes, enc: bool, inplace: bool,
             split: int = 0, skip: int = 0) -> bytes:
    """One request through the iov_iter API over bio_vecs: one per side
    (the request ``skip`` bytes into it), or src split in two."""
    n = len(data)
    tfm = iovcrypto.crypto_alloc_skcipher(driver)
    assert iovcrypto.crypto_skcipher_setkey(tfm, key, len(key)) == 0
    req = iovcrypto.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    order = 1 if n + skip > 4096 else 0
    a, b = kmem.alloc_pages(kmem.GFP_KERNEL, order), kmem.alloc_pages(kmem.GFP_KERNEL, order)
    kmem.copy_views(kmem.page_views(a, skip, n, write=True), [np.frombuffer(data, np.uint8)])
    if split:
        bva = [iovcrypto.bio_vec(a, split, skip), iovcrypto.bio_vec(a, n - split, skip + split)]
    else:
        bva = [iovcrypto.bio_vec(a, n + skip, 0)]
    bvb = [iovcrypto.bio_vec(b, n + skip, 0)]
    src, dst = iovcrypto.iov_iter(), iovcrypto.iov_iter()
    if inplace:
        iovcrypto.iov_iter_bvec(dst, ITER_DEST, bva, len(bva), n + (0 if split else skip))
        src = dst
    else:
        iovcrypto.iov_iter_bvec(src, ITER_SOURCE, bva, len(bva), n + (0 if split else skip))
        iovcrypto.iov_iter_bvec(dst, ITER_DEST, bvb, 1, n + skip)
    if skip and not split:
        iovcrypto.iov_iter_advance(src, skip)
        if not inplace:
            iovcrypto.iov_iter_advance(dst, skip)
    iovcrypto.skcipher_request_set_iter(req, src, dst, n, bytearray(iv))
    fn = iovcrypto.crypto_skcipher_encrypt if enc else iovcrypto.crypto_skcipher_decrypt
    assert fn(req) == 0
    out = _read(a if inplace else b, n, skip)
    kmem.__free_pages(a, order)
    kmem.__free_pages(b, order)
    iovcrypto.skcipher_request_free(req)
    iovcrypto.crypto_free_skcipher(tfm)
    return out


def _no_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> int:
        raise AssertionError("the fast path walked")
    for mod in ("sgl.skcipher_template", "iovcrypto.skcipher_template"):
        monkeypatch.setattr(f"{mod}.skcipher_walk_virt", refuse)


@pytest.mark.parametrize("world", ["sg", "iov"])
@pytest.mark.parametrize("inplace", [False, True])
def test_one_entry_is_one_library_call_without_a_walk(monkeypatch: pytest.MonkeyPatch,
                                                      world: str, inplace: bool) -> None:
    key = os.urandom(64)
    want = {}
    for n in LENS:
        data, iv = os.urandom(n), os.urandom(16)
        for enc in (True, False):
            want[n, enc] = (data, iv, (_sg_run if world == "sg" else _iov_run)(
                "xts(ecb(aes-generic))", key, iv, data, enc, inplace))
    _no_walk(monkeypatch)
    for (n, enc), (data, iv, ref) in want.items():
        run = _sg_run if world == "sg" else _iov_run
        assert run("xts-aes-openssl", key, iv, data, enc, inplace) == ref, (n, enc)
        lib = Cipher(algorithms.AES(key), modes.XTS(iv))
        ctx = lib.encryptor() if enc else lib.decryptor()
        assert ref == ctx.update(data), (n, enc)


@pytest.mark.parametrize("world", ["sg", "iov"])
def test_split_or_refused_keys_walk_and_agree(monkeypatch: pytest.MonkeyPatch,
                                              world: str) -> None:
    run = _sg_run if world == "sg" else _iov_run
    for key in (os.urandom(64), os.urandom(48), bytes(range(16)) * 2):
        for n in (32, 4096 + 5):
            data, iv = os.urandom(n), os.urandom(16)
            for enc in (True, False):
                ref = run("xts(ecb(aes-generic))", key, iv, data, enc, False)
                assert run("xts-aes-openssl", key, iv, data, enc, False, split=n // 2 + 3) == ref
                if len(key) != 64:
                    # AES-192-XTS and equal halves: the library refuses
                    # them, the generic core serves the whole request.
                    assert run("xts-aes-openssl", key, iv, data, enc, True) == ref
    # A split request cannot take the fast path: it must walk.
    _no_walk(monkeypatch)
    with pytest.raises(AssertionError, match="walked"):
        run("xts-aes-openssl", os.urandom(64), bytes(16), bytes(64), True, False, split=32)


def test_iov_fast_path_reads_from_the_iterators_position() -> None:
    key, iv, data = os.urandom(64), os.urandom(16), os.urandom(1000)
    for inplace in (False, True):
        ref = _iov_run("xts(ecb(aes-generic))", key, iv, data, True, inplace, skip=100)
        assert _iov_run("xts-aes-openssl", key, iv, data, True, inplace, skip=100) == ref


def test_lib_cipher_ctx_without_the_direct_constructor(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback through Cipher(...) (a cryptography release that lays
    its internals out differently) gives the same contexts."""
    key, iv, data = os.urandom(64), os.urandom(16), os.urandom(100)
    alg = algorithms.AES(key)
    direct = [accel.lib_cipher_ctx(alg, modes.XTS(iv), e).update(data) for e in (True, False)]
    monkeypatch.setattr(accel, "_create_enc", None)
    monkeypatch.setattr(accel, "_create_dec", None)
    assert [accel.lib_cipher_ctx(alg, modes.XTS(iv), e).update(data)
            for e in (True, False)] == direct
    c = Cipher(alg, modes.XTS(iv))
    assert direct == [c.encryptor().update(data), c.decryptor().update(data)]


@pytest.mark.parametrize("world", ["sg", "iov"])
def test_walked_spans_in_place_past_a_library_piece(world: str) -> None:
    """In place over two entries of 96 KiB + 5 and 64 KiB + 11 (each
    walked span larger than the library's 64 KiB piece, stealing at the
    end): the accelerated walk's spans go through the kept scratch and
    equal the generic driver and the library's one-call data unit."""
    n1, n2 = 96 * 1024 + 5, 64 * 1024 + 11
    n, order = n1 + n2, 6                # 256 KiB: both entries in one folio
    key, iv = os.urandom(64), os.urandom(16)
    data = os.urandom(n)
    outs = {}
    for drv in ("xts(ecb(aes-generic))", "xts-aes-openssl"):
        for enc in (True, False):
            tfm = (sgl if world == "sg" else iovcrypto).crypto_alloc_skcipher(drv)
            api = sgl if world == "sg" else iovcrypto
            assert api.crypto_skcipher_setkey(tfm, key, 64) == 0
            req = api.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
            page = kmem.alloc_pages(kmem.GFP_KERNEL, order)
            _fill(page, data)
            if world == "sg":
                sa = sgl.sg_array(2)
                sgl.sg_init_table(sa, 2)
                sgl.sg_set_page(sa[0], page, n1, 0)
                sgl.sg_set_page(sa[1], page, n2, n1)
                sgl.skcipher_request_set_crypt(req, sa, sa, n, bytearray(iv))
            else:
                bv = [iovcrypto.bio_vec(page, n1, 0), iovcrypto.bio_vec(page, n2, n1)]
                it = iovcrypto.iov_iter()
                iovcrypto.iov_iter_bvec(it, ITER_DEST, bv, 2, n)
                iovcrypto.skcipher_request_set_iter(req, it, it, n, bytearray(iv))
            assert (api.crypto_skcipher_encrypt if enc else api.crypto_skcipher_decrypt)(req) == 0
            outs[drv, enc] = _read(page, n)
            kmem.__free_pages(page, order)
            api.skcipher_request_free(req)
            api.crypto_free_skcipher(tfm)
    for enc in (True, False):
        lib = Cipher(algorithms.AES(key), modes.XTS(iv))
        want = (lib.encryptor() if enc else lib.decryptor()).update(data)
        assert outs["xts-aes-openssl", enc] == outs["xts(ecb(aes-generic))", enc] == want, enc
