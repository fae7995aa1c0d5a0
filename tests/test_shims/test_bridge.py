"""Bridges between the scatterlist and iov_iter crypto APIs (toy drivers)."""

from __future__ import annotations

import numpy as np
import pytest

import iovcrypto
import kmem
import sgl
from iovcrypto import ITER_DEST, ITER_SOURCE, iov_iter, iov_iter_discard, iov_iter_ubuf
from iovcrypto import aead as iaead
from iovcrypto import skcipher as isk
from kmem import errno as E
from shims import bridge
from shims.bridge import (
    bridge_driver_name,
    iter_to_sg_table,
    register_bridges,
    release_sg_table,
    unregister_bridges,
)
from tests.test_iov_iter.layouts import make
from tests.test_sgl.toy_drivers import XorAead, XorSkcipher, xor_reference
from tests.test_shims.toy_iter_drivers import IterXorAead, IterXorSkcipher

PAGE = kmem.PAGE_SIZE
KEY = bytes(range(1, 17))


@pytest.fixture
def toys():
    drivers = [(sgl.crypto_register_skcipher, sgl.crypto_unregister_skcipher,
                XorSkcipher(driver="xor-toy-sg")),
               (isk.crypto_register_skcipher, isk.crypto_unregister_skcipher,
                IterXorSkcipher()),
               (sgl.crypto_register_aead, sgl.crypto_unregister_aead,
                XorAead(driver="xoraead-toy-sg")),
               (iaead.crypto_register_aead, iaead.crypto_unregister_aead, IterXorAead()),
               (isk.crypto_register_skcipher, isk.crypto_unregister_skcipher,
                IterXorSkcipher(name="onlyiter(toy)", driver="onlyiter-toy-iter"))]
    for reg, _unreg, drv in drivers:
        assert reg(drv) == 0
    register_bridges()
    yield {d.alg.cra_driver_name: d for _r, _u, d in drivers}
    unregister_bridges()
    for _reg, unreg, drv in drivers:
        unreg(drv)


def sg_over_pages(n: int, chunks: tuple[int, ...] = (1000, 3000, PAGE + 5)):
    """A chained-free scatterlist of separate page blocks covering n bytes."""
    pieces, left, k = [], n, 0
    while left > 0:
        size = min(left, chunks[k % len(chunks)])
        order = (-(-size // PAGE) - 1).bit_length()
        pieces.append((kmem.alloc_pages(kmem.GFP_KERNEL, order), order, size))
        left -= size
        k += 1
    arr = sgl.sg_array(max(1, len(pieces)))
    sgl.sg_init_table(arr, len(arr))
    for sg, (p, _o, size) in zip(arr, pieces, strict=True):
        sgl.sg_set_page(sg, p, size, 0)

    def free():
        for p, _o, _s in pieces:
            kmem.put_page(p)
    return arr, free


def sg_bytes(arr, n: int) -> bytes:
    buf = bytearray(n)
    assert sgl.sg_copy_to_buffer(arr, sgl.sg_nents(arr), buf, n) == n
    return bytes(buf)


def sg_encrypt(driver: str, data: bytes, inplace: bool) -> tuple[int, bytes, bytes]:
    n = len(data)
    src, free_s = sg_over_pages(n)
    sgl.sg_copy_from_buffer(src, sgl.sg_nents(src), data, n)
    dst, free_d = (src, free_s) if inplace else sg_over_pages(n, (700, 2 * PAGE))
    tfm = sgl.crypto_alloc_skcipher(driver)
    assert sgl.crypto_skcipher_driver_name(tfm) == driver
    assert sgl.crypto_skcipher_setkey(tfm, KEY, len(KEY)) == 0
    req = sgl.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    iv = bytearray(16)
    sgl.skcipher_request_set_crypt(req, src, dst, n, iv)
    err = sgl.crypto_skcipher_encrypt(req)
    out = sg_bytes(dst, n)
    sgl.skcipher_request_free(req)
    sgl.crypto_free_skcipher(tfm)
    free_s()
    if not inplace:
        free_d()
    return err, out, bytes(iv)


@pytest.mark.parametrize("inplace", (False, True))
def test_sg_api_served_by_iter_driver(toys, inplace):
    data = np.random.default_rng(1).integers(0, 256, 3 * PAGE + 32, dtype=np.uint8).tobytes()
    native = sg_encrypt("xor-toy-sg", data, inplace)
    with kmem.cost_counters() as c:
        bridged = sg_encrypt(bridge_driver_name("xor-toy-iter"), data, inplace)
    assert native[0] == bridged[0] == 0
    assert bridged[1] == native[1] == xor_reference(data, KEY)
    assert bridged[2] == native[2]                  # IV output passed through
    assert c.refs == 0 and c.pins == 0


@pytest.mark.parametrize("kind", ("ubuf", "iovec", "kvec", "bvec", "folioq", "xarray"))
def test_iter_api_served_by_sg_driver(toys, kind):
    src = make(kind, [3000, 0, 5000, 17], ITER_SOURCE, orders=[1, 0], seed=2)
    # (XARRAY: non-increasing orders, so that the page cache has no hole)
    dst = make(kind, [100, 8000], ITER_DEST, orders=[1, 0] if kind == "xarray" else [0, 1],
               seed=3)
    data = src.fill(np.random.default_rng(4))
    n = min(src.count, dst.count) // 16 * 16
    tfm = isk.crypto_alloc_skcipher(bridge_driver_name("xor-toy-sg"))
    assert isk.crypto_skcipher_setkey(tfm, KEY, len(KEY)) == 0
    req = isk.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    iv = bytearray(16)
    isk.skcipher_request_set_iter(req, src.it, dst.it, n, iv)
    s0, d0 = src.it.count, dst.it.count
    with kmem.cost_counters() as c:
        assert isk.crypto_skcipher_encrypt(req) == 0
    assert dst.flat()[:n].tobytes() == xor_reference(data[:n].tobytes(), KEY)
    assert (s0 - src.it.count, d0 - dst.it.count) == (n, n)
    assert bytes(iv) == dst.flat()[n - 16:n].tobytes()
    user = kind in ("ubuf", "iovec")
    assert (c.pins > 0) == user and c.refs == 0
    assert not kmem.ledger.pins                       # the bridge released its pins
    isk.skcipher_request_free(req)
    isk.crypto_free_skcipher(tfm)
    src.free()
    dst.free()


def test_iter_bridge_inplace_same_iterator(toys):
    lay = make("ubuf", [2 * PAGE + 48], ITER_DEST, seed=5)     # one iterator: ITER_DEST
    data = lay.fill(np.random.default_rng(6))
    tfm = isk.crypto_alloc_skcipher(bridge_driver_name("xor-toy-sg"))
    isk.crypto_skcipher_setkey(tfm, KEY, len(KEY))
    req = isk.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    isk.skcipher_request_set_iter(req, lay.it, lay.it, lay.count, None)
    assert isk.crypto_skcipher_encrypt(req) == 0
    assert lay.flat().tobytes() == xor_reference(data.tobytes(), KEY)
    assert lay.it.count == 0 and not kmem.ledger.pins
    isk.skcipher_request_free(req)
    isk.crypto_free_skcipher(tfm)
    lay.free()


def test_iter_bridge_extraction_error_leaves_iterators(toys):
    src = make("kvec", [64], ITER_SOURCE)
    mm = kmem.mm_alloc()
    with kmem.use_mm(mm):
        hole = mm.mmap(kmem.PAGE_SIZE)
        mm.munmap(hole, kmem.PAGE_SIZE)
        dst = iov_iter()
        iov_iter_ubuf(dst, ITER_DEST, hole, 64)        # nothing mapped there
        tfm = isk.crypto_alloc_skcipher(bridge_driver_name("xor-toy-sg"))
        isk.crypto_skcipher_setkey(tfm, KEY, len(KEY))
        req = isk.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
        isk.skcipher_request_set_iter(req, src.it, dst, 64, None)
        assert isk.crypto_skcipher_encrypt(req) == -E.EFAULT
    assert src.it.count == 64 and dst.count == 64 and not kmem.ledger.pins
    isk.skcipher_request_free(req)
    isk.crypto_free_skcipher(tfm)
    src.free()


@pytest.mark.parametrize("n", [64, 2 * PAGE + 48])
def test_iter_bridge_gives_a_discard_dst_scratch_pages(toys, n):
    # extract_iter_to_sg() refuses a sink (WARN, -EIO); the bridge does not
    # hand it one: the legacy driver writes into scratch pages, dropped.
    src = make("kvec", [n], ITER_SOURCE)
    src.fill(np.random.default_rng(7))
    dst = iov_iter()
    iov_iter_discard(dst, ITER_DEST, n + 5)
    tfm = isk.crypto_alloc_skcipher(bridge_driver_name("xor-toy-sg"))
    isk.crypto_skcipher_setkey(tfm, KEY, len(KEY))
    req = isk.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    isk.skcipher_request_set_iter(req, src.it, dst, n, None)
    mark = kmem.allocation_mark()
    assert isk.crypto_skcipher_encrypt(req) == 0
    assert src.it.count == 0 and dst.count == 5
    assert kmem.check_leaks(since=mark) == [] and not kmem.ledger.records
    isk.skcipher_request_free(req)
    isk.crypto_free_skcipher(tfm)
    src.free()


def test_iter_to_sg_table_of_a_discard_sink():
    it = iov_iter()
    iov_iter_discard(it, ITER_DEST, 3 * PAGE)
    err, table = iter_to_sg_table(it, PAGE + 10)
    assert err == 0 and it.count == 2 * PAGE - 10
    entries = [(sg.offset, sg.length) for sg in sgl.for_each_sg(table.sgl, table.nents)]
    assert entries == [(0, PAGE), (0, 10)] and table.orig_nents == 2
    assert sgl.sg_is_last(table.sgl._arr[table.sgl._idx + 1])
    release_sg_table(table, it)
    assert table.sgl is None


def test_setkey_errors_pass_through(toys):
    for mod, world in ((sgl, "xor-toy-iter"), (isk, "xor-toy-sg")):
        tfm = mod.crypto_alloc_skcipher(bridge_driver_name(world))
        assert mod.crypto_skcipher_setkey(tfm, b"\xff" * 16, 16) == -E.EINVAL
        req = mod.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
        assert mod.crypto_skcipher_encrypt(req) == -E.ENOKEY
        assert mod.crypto_skcipher_setkey(tfm, b"\x01" * 40, 40) == -E.EINVAL  # > max_keysize
        mod.skcipher_request_free(req)
        mod.crypto_free_skcipher(tfm)


def test_default_allocation_unchanged_and_missing_algorithms_reached(toys):
    tfm = sgl.crypto_alloc_skcipher("xor(toy)")
    assert sgl.crypto_skcipher_driver_name(tfm) == "xor-toy-sg"
    sgl.crypto_free_skcipher(tfm)
    tfm = isk.crypto_alloc_skcipher("xor(toy)")
    assert isk.crypto_skcipher_driver_name(tfm) == "xor-toy-iter"
    isk.crypto_free_skcipher(tfm)
    # Only the iov_iter world has it: the scatterlist API reaches it by name.
    tfm = sgl.crypto_alloc_skcipher("onlyiter(toy)")
    assert sgl.crypto_skcipher_driver_name(tfm) == "bridge(onlyiter-toy-iter)"
    sgl.crypto_free_skcipher(tfm)


def test_register_bridges_is_idempotent_and_never_bridges_bridges(toys):
    first = {(w, b.alg.cra_driver_name) for w, b in bridge.registered_bridges()}
    again = {(w, b.alg.cra_driver_name) for w, b in register_bridges()}
    assert first == again
    assert not any(name.startswith("bridge(bridge(") for _w, name in again)
    assert ("sg", "bridge(xor-toy-iter)") in again and ("iter", "bridge(xor-toy-sg)") in again
    for _w, b in bridge.registered_bridges():
        assert b.alg.cra_priority == bridge.BRIDGE_PRIORITY
    unregister_bridges()
    assert bridge.registered_bridges() == []
    assert sgl.crypto_alloc_skcipher("bridge(xor-toy-iter)") == -E.ENOENT


def aead_run(mod, driver: str, layout: str, enc: bool, data: bytes, assoclen: int,
             authsize: int = 16) -> tuple[int, bytes]:
    """One AEAD request of ``data`` (AD ‖ text [‖ tag]) in either world; dst
    has room for the tag.  Returns (err, dst bytes)."""
    n = len(data)
    out_len = n + authsize if enc else n - authsize
    tfm = mod.crypto_alloc_aead(driver)
    assert mod.crypto_aead_setkey(tfm, KEY, 16) == 0
    assert mod.crypto_aead_setauthsize(tfm, authsize) == 0
    req = mod.aead_request_alloc(tfm, kmem.GFP_KERNEL)
    cryptlen = n - assoclen
    if mod is sgl:
        src, fs = sg_over_pages(n)
        sgl.sg_copy_from_buffer(src, sgl.sg_nents(src), data, n)
        dst, fd = sg_over_pages(max(out_len, 1), (900, PAGE))
        sgl.aead_request_set_crypt(req, src, dst, cryptlen, bytearray(12))
        sgl.aead_request_set_ad(req, assoclen)
        err = (sgl.crypto_aead_encrypt if enc else sgl.crypto_aead_decrypt)(req)
        out = sg_bytes(dst, out_len)
        fs()
        fd()
    else:
        src = make(layout, [n - n // 3, n // 3], ITER_SOURCE, seed=1)
        kmem.copy_views(src.views(), [np.frombuffer(data, np.uint8)])
        dst = make(layout, [out_len], ITER_DEST, seed=2)
        iaead.aead_request_set_iter(req, src.it, dst.it, cryptlen, bytearray(12))
        iaead.aead_request_set_ad(req, assoclen)
        err = (iaead.crypto_aead_encrypt if enc else iaead.crypto_aead_decrypt)(req)
        out = dst.flat()[:out_len].tobytes()
        src.free()
        dst.free()
    mod.aead_request_free(req)
    mod.crypto_free_aead(tfm)
    return err, out


@pytest.mark.parametrize("layout", ("ubuf", "kvec"))
def test_aead_through_both_bridges(toys, layout):
    rng = np.random.default_rng(8)
    msg = rng.integers(0, 256, 2 * PAGE + 3, dtype=np.uint8).tobytes()
    a = 20
    err, native = aead_run(sgl, "xoraead-toy-sg", layout, True, msg, a)
    assert err == 0
    err, via_iter = aead_run(sgl, "bridge(xoraead-toy-iter)", layout, True, msg, a)
    assert err == 0 and via_iter[a:] == native[a:]
    err, via_sg = aead_run(iovcrypto, "bridge(xoraead-toy-sg)", layout, True, msg, a)
    assert err == 0 and via_sg[a:] == native[a:]
    ct = msg[:a] + native[a:]
    err, pt = aead_run(iovcrypto, "bridge(xoraead-toy-sg)", layout, False, ct, a)
    assert err == 0 and pt[a:] == msg[a:]
    err, pt = aead_run(sgl, "bridge(xoraead-toy-iter)", layout, False, ct, a)
    assert err == 0 and pt[a:] == msg[a:]
    # A wrong tag: -EBADMSG both ways; the iov_iter API zeroes dst's text.
    bad = ct[:-1] + bytes([ct[-1] ^ 1])
    assert aead_run(sgl, "bridge(xoraead-toy-iter)", layout, False, bad, a)[0] == -E.EBADMSG
    err, out = aead_run(iovcrypto, "bridge(xoraead-toy-sg)", layout, False, bad, a)
    assert err == -E.EBADMSG and out[a:] == bytes(len(out) - a)


def test_aead_setauthsize_passes_through(toys):
    for mod, name in ((sgl, "bridge(xoraead-toy-iter)"), (iovcrypto, "bridge(xoraead-toy-sg)")):
        tfm = mod.crypto_alloc_aead(name)
        assert mod.crypto_aead_setauthsize(tfm, 6) == -E.EINVAL     # the driver refuses
        assert mod.crypto_aead_setauthsize(tfm, 8) == 0
        assert mod.crypto_aead_authsize(tfm) == 8
        assert mod.crypto_aead_authsize(tfm.ctx.inner) == 8
        mod.crypto_free_aead(tfm)
