"""The converted engine driver's mapping of physical ranges
(iovcrypto.engine_buffer_mgr.engine_aes_map_ranges): the IOVA layout and the bus
segments it hands the engine, against a reference computed the plain way
(an IOVA offset per range, then segments joined where one link ends at
the next one's bus address), and the bytes the device reads through
them."""

from __future__ import annotations

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

import iovcrypto as iov
import kmem
from dma import DMA_TO_DEVICE, Device, PhysVec
from iovcrypto.engine_buffer_mgr import (
    RangeMap,
    engine_aes_extract,
    engine_aes_map_ranges,
    engine_aes_unmap_ranges,
)
from kmem import PAGE_SIZE


def _reference_segments(base_addr: int, ranges: list[PhysVec]) -> list[tuple[int, int]]:
    """IOVA offsets as the IOMMU lays ranges out (a range continues the
    previous one only when both meet on a page boundary), then bus
    segments joined where one ends at the next one's start."""
    pad = ranges[0].paddr % PAGE_SIZE
    segs: list[list[int]] = []
    pos = 0
    for paddr, n in ranges:
        if pos and ((pad + pos) % PAGE_SIZE or paddr % PAGE_SIZE):
            pos = -(-(pad + pos) // PAGE_SIZE) * PAGE_SIZE - pad + paddr % PAGE_SIZE
        bus = base_addr + pos
        if segs and segs[-1][0] + segs[-1][1] == bus:
            segs[-1][1] += n
        else:
            segs.append([bus, n])
        pos += n
    return [(b, n) for b, n in segs]


def _random_ranges(rng: np.random.Generator, folio: kmem.Folio, npages: int) -> list[PhysVec]:
    """Ranges over the folio's pages in a random order: page-aligned
    whole pages (which join), pieces inside a page, and pieces running
    to a page end or starting at one."""
    base = kmem.page_to_phys(folio)
    out = []
    for p in rng.permutation(npages)[: int(rng.integers(1, npages + 1))]:
        shape = int(rng.integers(0, 4))
        if shape == 0:
            off, n = 0, PAGE_SIZE
        elif shape == 1:
            off = int(rng.integers(0, PAGE_SIZE // 2))
            n = int(rng.integers(1, PAGE_SIZE - off + 1))
        elif shape == 2:
            off = int(rng.integers(1, PAGE_SIZE))
            n = PAGE_SIZE - off
        else:
            off, n = 0, int(rng.integers(1, PAGE_SIZE))
        out.append(PhysVec(base + int(p) * PAGE_SIZE + off, n))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_bus_segments_match_the_reference_and_read_the_ranges(seed):
    rng = np.random.default_rng(seed)
    npages = 8
    folio = kmem.alloc_pages(kmem.GFP_KERNEL, 3)
    try:
        data = rng.integers(0, 256, npages * PAGE_SIZE, dtype=np.uint8)
        for k in range(npages):
            kmem.copy_views([data[k * PAGE_SIZE:(k + 1) * PAGE_SIZE]],
                            kmem.page_views(kmem.folio_page(folio, k), 0, PAGE_SIZE))
        ranges = _random_ranges(rng, folio, npages)
        dev = Device(name=f"ranges{seed}")
        rm = RangeMap(DMA_TO_DEVICE)
        rm.ranges, rm.mmio = list(ranges), [False] * len(ranges)
        err, segs = engine_aes_map_ranges(dev, rm)
        assert err == 0
        assert segs == _reference_segments(rm.state.addr, ranges)
        # One link per range, and the device reads exactly the ranges'
        # bytes, in order, through the segments.
        assert len(dev.mappings) == 1
        (m,) = dev.mappings.values()
        assert len(m.pieces) == len(ranges) and all(p.synced for p in m.pieces)
        want = np.concatenate([data[r.paddr - kmem.page_to_phys(folio):][:r.len]
                               for r in ranges])
        got = np.concatenate([dev.dma_read(bus, n) for bus, n in segs])
        assert got.tobytes() == want.tobytes()
        engine_aes_unmap_ranges(dev, rm)
        assert not dev.mappings and dev.iova_in_use == 0
    finally:
        kmem.__free_pages(folio, 3)


# Which bio_vec layouts the converted driver hands the engine as they are,
# and which it bounces: the rules are checked on the physical ranges as
# extraction builds them (4-byte aligned addresses, whole blocks but the
# last).  Each layout is (page, length, offset) per bio_vec over pages
# 0, 1, 2 of separate allocations.
LAYOUTS = {
    "whole pages": ([(0, PAGE_SIZE, 0), (1, PAGE_SIZE, 0)], False),
    "whole blocks inside pages": ([(0, 48, 16), (1, 16, 64), (2, 32, 0)], False),
    "a range of 40 bytes": ([(0, 40, 0), (1, 24, 0)], True),
    "a range 2 bytes into its page": ([(0, 48, 2), (1, 16, 0)], True),
    "a range 8 bytes into its page": ([(0, 48, 8), (1, 16, 0)], False),
    "a page end joining the next page": ([(0, 24, PAGE_SIZE - 24), (0, 8, 0)], True),
}


@pytest.mark.parametrize("name", LAYOUTS)
def test_the_engine_rules_decide_direct_or_bounce(name):
    layout, bounced = LAYOUTS[name]
    pages = [kmem.alloc_page(kmem.GFP_KERNEL) for _ in range(3)]
    tfm = iov.crypto_alloc_skcipher("cbc(aes)")
    req = iov.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    try:
        assert iov.crypto_skcipher_driver_name(tfm) == "cbc-aes-engine"
        assert iov.crypto_skcipher_setkey(tfm, bytes(16), 16) == 0
        rng = np.random.default_rng(7)
        plain = b""
        bvs = []
        for p, n, off in layout:
            data = rng.integers(0, 256, n, np.uint8)
            kmem.copy_views([data], kmem.page_views(pages[p], off, n))
            plain += data.tobytes()
            bvs.append(iov.bio_vec(pages[p], n, off))
        it = iov.iov_iter()
        iov.iov_iter_bvec(it, iov.ITER_DEST, bvs, len(bvs), len(plain))
        wait = iov.CryptoWait()
        iov.skcipher_request_set_callback(req, 0, iov.crypto_req_done, wait)
        iov.skcipher_request_set_iter(req, it, it, len(plain), bytearray(16))
        with kmem.cost_counters() as c:
            assert iov.crypto_wait_req(iov.crypto_skcipher_encrypt(req), wait) == 0
        assert (c.allocations > 0) is bounced       # the bounce buffer, kmalloc'd
        want = Cipher(algorithms.AES(bytes(16)), modes.CBC(bytes(16))).encryptor().update(plain)
        got = b"".join(kmem.gather(kmem.page_views(pages[p], off, n)).tobytes()
                       for p, n, off in layout)
        assert got == want and it.count == 0
    finally:
        iov.skcipher_request_free(req)
        iov.crypto_free_skcipher(tfm)
        for p in pages:
            kmem.__free_page(p)


def test_each_extraction_fills_the_map_afresh():
    """The driver keeps its range maps in the request context and extracts
    into them again for every request: what a map holds after an
    extraction is that extraction's alone (ranges, device flags, pages,
    pins, the rules' verdict), never carried over from the last request,
    whatever that one left behind."""
    mm = kmem.current_mm()
    uaddr = mm.mmap(2 * PAGE_SIZE)
    pages = [kmem.alloc_page(kmem.GFP_KERNEL) for _ in range(2)]
    try:
        # First a request on user memory at an odd offset: pinned pages,
        # ranges the engine cannot take.
        u = iov.iov_iter()
        iov.iov_iter_ubuf(u, iov.ITER_DEST, uaddr + 2, PAGE_SIZE)
        rm = RangeMap(DMA_TO_DEVICE)
        assert engine_aes_extract(u, PAGE_SIZE, rm) == 0
        stale = list(rm.pinned)
        assert len(stale) == 2 and not rm.aligned
        # Then whole kernel pages, into the same map (the pins above left
        # in it): the map must equal one made for this extraction alone.
        bv = [iov.bio_vec(p, PAGE_SIZE, 0) for p in pages]
        k = iov.iov_iter()
        iov.iov_iter_bvec(k, iov.ITER_DEST, bv, 2, 2 * PAGE_SIZE)
        fresh = RangeMap(DMA_TO_DEVICE)
        assert engine_aes_extract(k, 2 * PAGE_SIZE, fresh) == 0
        assert engine_aes_extract(k, 2 * PAGE_SIZE, rm) == 0
        for field in ("ranges", "mmio", "chunks", "pinned", "aligned"):
            assert getattr(rm, field) == getattr(fresh, field), field
        assert rm.pinned == [] and k.count == 2 * PAGE_SIZE
        kmem.unpin_user_pages(stale, len(stale))
    finally:
        for p in pages:
            kmem.__free_page(p)
        mm.munmap(uaddr, 2 * PAGE_SIZE)
