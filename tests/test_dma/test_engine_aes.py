"""The engine drivers of both worlds (sgl/engine_aes.py and
iovcrypto/engine_aes.py): results, the async contract with its backlog,
the device and IOMMU set-ups, device memory, and injected faults."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

import iovcrypto as iov
import kmem
import sgl
from ciphers.algapi import CRYPTO_TFM_REQ_MAY_BACKLOG
from dma import (
    DMA_ATTR_MMIO,
    DMA_BIT_MASK,
    DMA_FROM_DEVICE,
    Device,
    dma_map_phys,
    dma_mapping_error,
    dma_unmap_phys,
)
from dma.engine import ENGINE_MAX_DESC_LEN
from iovcrypto import engine_aes as iov_engine
from kmem import PAGE_SIZE
from kmem import errno as E
from kmem.softirq import run_until_idle
from sgl import engine_aes as sg_engine

WORLDS = {"sg": (sgl, sg_engine), "iter": (iov, iov_engine)}
KEY = bytes(range(32))
IV = bytes(range(100, 116))


def reference(mode: str, data: bytes, iv: bytes = IV) -> bytes:
    if mode == "xts":
        c = Cipher(algorithms.AES(KEY + KEY[::-1]), modes.XTS(iv))
    elif mode == "cbc":
        c = Cipher(algorithms.AES(KEY[:16]), modes.CBC(iv))
    else:
        c = Cipher(algorithms.AES(KEY[:16]), modes.CTR(iv))
    return c.encryptor().update(data)


@pytest.fixture(autouse=True)
def engines():
    """Each test may reconfigure the engines' devices; put them back."""
    saved = {w: dataclasses.replace(m.engine_dd.dev) for w, (_, m) in WORLDS.items()}
    yield
    for w, (_, m) in WORLDS.items():
        dev = m.engine_dd.dev
        assert not dev.mappings, f"{w}: mappings left: {dev.mappings}"
        assert dev.iova_in_use == 0
        for f in ("iommu", "dma_mask", "p2p", "fail_maps", "fail_iova", "iova_aperture"):
            setattr(dev, f, getattr(saved[w], f))
        m.engine_dd.hw.fail_desc, m.engine_dd.hw.hang = -1, 0


class Buf:
    """``n`` bytes of plaintext at ``off`` in kmalloc'd, page or user
    memory, described in the world's way."""

    def __init__(self, world: str, kind: str, n: int, off: int = 0, seed: int = 0) -> None:
        self.world, self.kind, self.n, self.off = world, kind, n, off
        self.data = np.random.default_rng(seed).integers(0, 256, n, np.uint8).tobytes()
        size = off + n
        if kind == "slab":
            self.base = kmem.kmalloc(size, kmem.GFP_KERNEL)
        elif kind == "user":
            self.mm = kmem.mm_alloc()
            self.ctx = kmem.use_mm(self.mm)
            self.ctx.__enter__()
            self.base = kmem.vm_mmap(size)
        else:
            raise ValueError(kind)
        self.write(self.data)

    def write(self, data: bytes) -> None:
        if self.kind == "user":
            assert kmem.copy_to_user(self.base + self.off, data, len(data)) == 0
        else:
            kmem.write_virt(self.base + self.off, data)

    def read(self) -> bytes:
        if self.kind == "user":
            out = bytearray(self.n)
            assert kmem.copy_from_user(out, self.base + self.off, self.n) == 0
            return bytes(out)
        return kmem.read_virt(self.base + self.off, self.n)

    def desc(self, direction: int):
        if self.world == "sg":
            s = sgl.sg_array(1)
            sgl.sg_init_one(s, self.base + self.off, self.n)
            return s
        it = iov.iov_iter()
        if self.kind == "user":
            iov.iov_iter_ubuf(it, direction, self.base + self.off, self.n)
        else:
            iov.iov_iter_kvec(it, direction, [iov.kvec(self.base + self.off, self.n)], 1, self.n)
        return it

    def free(self) -> None:
        if self.kind == "user":
            kmem.vm_munmap(self.base, self.off + self.n)
            self.ctx.__exit__(None, None, None)
        else:
            kmem.kfree(self.base)


def _tfm(api, mode: str):
    tfm = api.crypto_alloc_skcipher(f"{mode}(aes)")
    assert api.crypto_skcipher_driver_name(tfm) == f"{mode}-aes-engine"
    key = KEY if mode == "xts" else KEY[:16]
    if mode == "xts":
        key = KEY + KEY[::-1]
    assert api.crypto_skcipher_setkey(tfm, key, len(key)) == 0
    return tfm


def _submit(world, tfm, src, dst, n, iv, flags=CRYPTO_TFM_REQ_MAY_BACKLOG, events=None,
            tag=None):
    api = WORLDS[world][0]
    req = api.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    wait = api.CryptoWait()

    def done(data, err):
        if events is not None:
            events.append((data, err))
        api.crypto_req_done(wait, err)

    api.skcipher_request_set_callback(req, flags, done, tag)
    if world == "sg":
        api.skcipher_request_set_crypt(req, src, dst, n, iv)
    else:
        api.skcipher_request_set_iter(req, src, dst, n, iv)
    return req, wait, api.crypto_skcipher_encrypt(req)


def _run(world, mode, kind, n, off, inplace):
    api = WORLDS[world][0]
    tfm = _tfm(api, mode)
    src = Buf(world, kind, n, off)
    dst = src if inplace else Buf(world, "slab", n, 4, seed=1)
    s = src.desc(iov.ITER_SOURCE)
    d = s if inplace and world == "sg" else dst.desc(iov.ITER_DEST)
    iv = bytearray(IV)
    req, wait, err = _submit(world, tfm, s, d, n, iv)
    assert err == -E.EINPROGRESS
    assert api.crypto_wait_req(err, wait) == 0
    want = reference(mode, src.data)
    assert dst.read() == want
    if mode == "cbc":
        assert bytes(iv) == want[-16:]
    if world == "iter":
        assert s.count == 0 and d.count == 0
    api.skcipher_request_free(req)
    api.crypto_free_skcipher(tfm)
    if dst is not src:
        dst.free()
    src.free()


@pytest.mark.parametrize("world", WORLDS)
@pytest.mark.parametrize("mode", ["cbc", "ctr", "xts"])
@pytest.mark.parametrize("n,off", [(4096, 16), (3 * ENGINE_MAX_DESC_LEN, 0), (64, 6)])
def test_results_match_the_reference(world, mode, n, off):
    """Aligned layouts go to the device as they are, the misaligned one
    (offset 6) through a bounce buffer; in place and out of place."""
    _run(world, mode, "slab", n, off, True)
    _run(world, mode, "slab", n, off, False)


@pytest.mark.parametrize("off", [0, 6])
def test_user_memory_is_pinned_for_the_device_and_released(off):
    _run("iter", "cbc", "user", 8192, off, False)
    _run("iter", "ctr", "user", 8192 + 5, off, True)


@pytest.mark.parametrize("world", WORLDS)
def test_backlog_and_its_notifications(world):
    api, drv = WORLDS[world]
    tfm = _tfm(api, "cbc")
    n, nreq = 256, drv.ENGINE_QUEUE_LEN + 4
    bufs = [Buf(world, "slab", n, 0, seed=i) for i in range(nreq)]
    events: list = []
    reqs, rets = [], []
    for i, b in enumerate(bufs):
        s = b.desc(iov.ITER_SOURCE)
        d = s if world == "sg" else b.desc(iov.ITER_DEST)
        req, _w, err = _submit(world, tfm, s, d, n, bytearray(IV), events=events, tag=i)
        reqs.append(req)
        rets.append(err)
    extra = Buf(world, "slab", n, 0, seed=99)
    s = extra.desc(iov.ITER_SOURCE)
    nobl, _w, err = _submit(world, tfm, s, s if world == "sg" else extra.desc(iov.ITER_DEST),
                            n, bytearray(IV), flags=0)
    assert err == -E.ENOSPC                             # full, and no backlog allowed
    # The first starts at once, ENGINE_QUEUE_LEN more are queued, the rest
    # go to the backlog.
    q = drv.ENGINE_QUEUE_LEN
    assert rets == [-E.EINPROGRESS] * (1 + q) + [-E.EBUSY] * (nreq - 1 - q)
    assert not events                                   # nothing completes until the CPU waits
    run_until_idle()
    finals = [i for i, e in events if e != -E.EINPROGRESS]
    notified = [i for i, e in events if e == -E.EINPROGRESS]
    assert finals == list(range(nreq)) and all(e == 0 for _, e in events
                                               if e != -E.EINPROGRESS)
    assert notified == list(range(1 + q, nreq))
    for i in notified:                                  # told it started before it finished
        assert events.index((i, -E.EINPROGRESS)) < events.index((i, 0))
    for b in bufs:
        assert b.read() == reference("cbc", b.data)
        b.free()
    extra.free()
    for r in [*reqs, nobl]:
        api.skcipher_request_free(r)
    api.crypto_free_skcipher(tfm)


@pytest.mark.parametrize("world", WORLDS)
def test_completion_racing_a_second_request_on_the_same_tfm(world):
    """Two requests on one tfm in flight at once: per-request state never
    lives in the tfm, so each gets its own result and its own next IV."""
    api = WORLDS[world][0]
    tfm = _tfm(api, "cbc")
    a, b = Buf(world, "slab", 512, 0, seed=1), Buf(world, "slab", 1024, 16, seed=2)
    iva, ivb = bytearray(IV), bytearray(16)
    ra, wa, ea = _submit(world, tfm, a.desc(iov.ITER_SOURCE),
                         a.desc(iov.ITER_SOURCE) if world == "sg" else a.desc(iov.ITER_DEST),
                         512, iva)
    rb, wb, eb = _submit(world, tfm, b.desc(iov.ITER_SOURCE),
                         b.desc(iov.ITER_SOURCE) if world == "sg" else b.desc(iov.ITER_DEST),
                         1024, ivb)
    assert ea == eb == -E.EINPROGRESS
    assert api.crypto_wait_req(eb, wb) == 0             # the second first
    assert wa.completed                                 # the first finished on the way
    assert api.crypto_wait_req(ea, wa) == 0
    assert a.read() == reference("cbc", a.data) and bytes(iva) == a.read()[-16:]
    assert b.read() == reference("cbc", b.data, bytes(16)) and bytes(ivb) == b.read()[-16:]
    for r in (ra, rb):
        api.skcipher_request_free(r)
    for x in (a, b):
        x.free()
    api.crypto_free_skcipher(tfm)


def _expect_error(world, want, kind="slab", off=0, n=4096, records=()):
    api = WORLDS[world][0]
    tfm = _tfm(api, "cbc")
    src = Buf(world, kind, n, off)
    dst = Buf(world, kind, n, off, seed=3)
    before = dst.read()
    s, d = src.desc(iov.ITER_SOURCE), dst.desc(iov.ITER_DEST)
    req, wait, err = _submit(world, tfm, s, d, n, bytearray(IV))
    if records:
        with kmem.expect_violations(*records):
            err = api.crypto_wait_req(err, wait)
    else:
        err = api.crypto_wait_req(err, wait)
    assert err == want
    if world == "iter":
        assert s.count == n and d.count == n            # iterators unmoved on error
    if want != -E.EIO:                                  # -EIO: the device wrote part of dst
        assert dst.read() == before
    api.skcipher_request_free(req)
    api.crypto_free_skcipher(tfm)
    src.free()
    dst.free()


# The scatterlist world takes user memory only through extraction, so it
# has no user-memory case of its own.
@pytest.mark.parametrize(("world", "kind"), [("sg", "slab"), ("iter", "slab"), ("iter", "user")])
def test_injected_faults_end_in_the_right_errno_with_nothing_leaked(world, kind):
    dd = WORLDS[world][1].engine_dd
    dd.dev.fail_maps = 1
    _expect_error(world, -E.ENOMEM, kind)
    dd.dev.fail_iova = 2            # IOVA exhausted: the two-step alloc and the fallback
    _expect_error(world, -E.ENOMEM, kind)
    dd.dev.iova_aperture = PAGE_SIZE
    _expect_error(world, -E.ENOMEM, kind, n=4 * PAGE_SIZE)
    dd.dev.iova_aperture = 1 << 31
    dd.hw.fail_desc = 1             # an error in the middle of the descriptor chain
    _expect_error(world, -E.EIO, kind, n=3 * ENGINE_MAX_DESC_LEN)
    dd.hw.hang = 1                  # the engine never answers: the watchdog fires
    _expect_error(world, -E.ETIMEDOUT, kind)
    assert not dd.busy and not dd.hw.busy()
    # The engine works again afterwards.
    _run(world, "cbc", kind, 4096, 0, False)


@pytest.mark.parametrize("world", WORLDS)
def test_no_iommu_and_memory_above_the_dma_mask(world):
    """dma-direct without swiotlb: the mapping fails and so does the
    request (-ENOMEM), with nothing mapped; a bounce does not help, as the
    bounce buffer is above the mask too."""
    dd = WORLDS[world][1].engine_dd
    dd.dev.iommu = False
    dd.dev.dma_mask = DMA_BIT_MASK(20)
    _expect_error(world, -E.ENOMEM)
    _expect_error(world, -E.ENOMEM, off=6)
    dd.dev.dma_mask = DMA_BIT_MASK(32)                  # all of the model's RAM is below
    _run(world, "xts", "slab", 4096, 0, False)


@pytest.mark.parametrize("p2p", [True, False])
def test_device_memory_in_a_bvec(p2p):
    """P2P: the source is a peer device's BAR, described by a BVEC; the
    CPU never touches it, the engine reads it through a DMA_ATTR_MMIO
    mapping (or refuses with -EREMOTEIO on a device that cannot)."""
    dd = iov_engine.engine_dd
    dd.dev.p2p = p2p
    bar = kmem.alloc_device_pages(1)
    data = np.random.default_rng(5).integers(0, 256, 2 * PAGE_SIZE, np.uint8).tobytes()
    # Fill the BAR the way its owner would: by DMA from another device.
    peer = Device(name="peer", p2p=True)
    bus = dma_map_phys(peer, kmem.page_to_phys(bar), 2 * PAGE_SIZE, DMA_FROM_DEVICE,
                       DMA_ATTR_MMIO)
    assert dma_mapping_error(peer, bus) == 0
    peer.dma_write(bus, data)
    dma_unmap_phys(peer, bus, 2 * PAGE_SIZE, DMA_FROM_DEVICE, DMA_ATTR_MMIO)
    src = iov.iov_iter()
    bv = [iov.bio_vec(), iov.bio_vec()]
    iov.bvec_set_page(bv[0], bar, PAGE_SIZE, 0)
    iov.bvec_set_page(bv[1], kmem.folio_page(bar, 1), PAGE_SIZE, 0)
    iov.iov_iter_bvec(src, iov.ITER_SOURCE, bv, 2, 2 * PAGE_SIZE)
    dst = Buf("iter", "slab", 2 * PAGE_SIZE)
    d = dst.desc(iov.ITER_DEST)
    tfm = _tfm(iov, "ctr")
    req, wait, err = _submit("iter", tfm, src, d, 2 * PAGE_SIZE, bytearray(IV))
    err = iov.crypto_wait_req(err, wait)
    if p2p:
        assert err == 0 and dst.read() == reference("ctr", data)
    else:
        assert err == -E.EREMOTEIO and src.count == 2 * PAGE_SIZE
    iov.skcipher_request_free(req)
    iov.crypto_free_skcipher(tfm)
    dst.free()
    kmem.free_device_pages(bar)


def test_a_completion_callback_that_sleeps_is_recorded():
    tfm = _tfm(sgl, "cbc")
    b = Buf("sg", "slab", 64)
    req = sgl.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    got = []

    def sleepy(_data, err):
        kmem.kfree(kmem.kmalloc(16, kmem.GFP_KERNEL))   # GFP_KERNEL in softirq context
        got.append(err)

    sgl.skcipher_request_set_callback(req, 0, sleepy, None)
    s = b.desc(0)
    sgl.skcipher_request_set_crypt(req, s, s, 64, bytearray(IV))
    assert sgl.crypto_skcipher_encrypt(req) == -E.EINPROGRESS
    with kmem.expect_violations("sleep-in-atomic"):
        run_until_idle()
    assert got == [0]
    sgl.skcipher_request_free(req)
    sgl.crypto_free_skcipher(tfm)
    b.free()


# (src kind, src offset, dst: "in place" or a kind), in the order one
# request object takes them: direct and bounced, kernel and user memory,
# in place and not, so that each request finds the request context as a
# different one left it.
REUSE_STEPS = [("slab", 0, "in place"), ("slab", 6, "in place"), ("user", 0, "in place"),
               ("slab", 0, "slab"), ("user", 0, "slab"), ("slab", 4, "user"),
               ("user", 6, "in place"), ("slab", 6, "user"), ("slab", 0, "in place")]


def test_one_request_reused_across_layouts():
    """The converted driver keeps its range maps in the request context and
    reuses them: one request object, submitted again and again with
    different layouts, gets the right result every time, and every
    request's pins and mappings are gone when it completes."""
    tfm = _tfm(iov, "cbc")
    req = iov.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    dev = iov_engine.engine_dd.dev
    try:
        for k, (kind, off, to) in enumerate(REUSE_STEPS):
            n = 3 * PAGE_SIZE
            src = Buf("iter", kind, n, off, seed=k)
            dst = src if to == "in place" else Buf("iter", to, n, 4, seed=k + 100)
            s = src.desc(iov.ITER_DEST if dst is src else iov.ITER_SOURCE)
            d = s if dst is src else dst.desc(iov.ITER_DEST)
            wait = iov.CryptoWait()
            iov.skcipher_request_set_callback(req, 0, iov.crypto_req_done, wait)
            iov.skcipher_request_set_iter(req, s, d, n, bytearray(IV))
            assert iov.crypto_wait_req(iov.crypto_skcipher_encrypt(req), wait) == 0, k
            assert dst.read() == reference("cbc", src.data), k
            assert not dev.mappings and not kmem.check_leaks(), k
            if dst is not src:
                dst.free()
            src.free()
    finally:
        iov.skcipher_request_free(req)
        iov.crypto_free_skcipher(tfm)
