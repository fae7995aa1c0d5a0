"""The converted engine drivers' buffer manager: an iov_iter resolved to
physical ranges (``struct phys_vec``) by ``iov_iter_extract_pages`` and
mapped for the device, what ``dma_map_sg`` of a scatterlist did for the
legacy drivers.  Shared by the cbc/ctr/xts driver (engine_aes.py) and the
gcm driver (engine_aes_gcm.py), as ccree's cc_buffer_mgr.c serves all of
ccree's algorithms; the legacy twins need no such file, because the
scatterlist world's DMA core maps a list in one call.

Pins are taken only where ``iov_iter_extract_will_pin`` says extraction
pins (user memory), never on kernel memory, and the driver that took them
releases them (:func:`engine_aes_release`) after the unmap.
"""

from __future__ import annotations

import kmem
from dma.device import DMA_ATTR_MMIO, DMA_TO_DEVICE, Device
from dma.engine import ENGINE_ADDR_ALIGN, ENGINE_BLOCK
from dma.iova import (
    DmaIovaState,
    dma_iova_destroy,
    dma_iova_link,
    dma_iova_sync,
    dma_iova_try_alloc,
)
from dma.mapping import dma_map_phys, dma_mapping_error, dma_unmap_phys
from dma.types import PhysVec
from iovcrypto.iov_iter_extract import iov_iter_extract_pages
from iovcrypto.iov_iter_position import iov_iter_advance, iov_iter_truncate
from iovcrypto.iov_iter_query import iov_iter_is_aligned
from iovcrypto.uio import iov_iter, iov_iter_extract_will_pin
from kmem import PAGE_SHIFT, PAGE_SIZE, Kind
from kmem import errno as E

EXTRACT_PAGES = 64
# The engine's alignment rules as masks (both are powers of two), and the
# constants the per-page loops test, bound once (an Enum member lookup is
# a dictionary search each time).
_ADDR_MASK, _BLOCK_MASK = ENGINE_ADDR_ALIGN - 1, ENGINE_BLOCK - 1
assert not ENGINE_ADDR_ALIGN & _ADDR_MASK and not ENGINE_BLOCK & _BLOCK_MASK
_DEVICE = Kind.DEVICE
_phys_vec = tuple.__new__                 # PhysVec(a, b) without its Python __new__


def engine_aes_virt_aligned(it: iov_iter, len: int) -> bool:
    """For user memory, before pinning it: block-aligned virtual segments
    of whole blocks split into whole blocks at any page boundary, which
    is what the ranges would be checked for after extraction."""
    t = it.copy()
    iov_iter_truncate(t, len)
    return iov_iter_is_aligned(t, ENGINE_BLOCK - 1, ENGINE_BLOCK - 1)


class RangeMap:
    """One side's memory as the engine sees it: the physical ranges, the
    pages pinned for them (if any), and how they were mapped.  The
    drivers keep theirs in the request context (the kernel's drivers embed
    theirs there, sized by crypto_skcipher_set_reqsize()): made with the
    request, filled afresh by each extraction, emptied by the unmap and
    the release."""

    __slots__ = ("addrs", "aligned", "chunks", "dir", "iova_len", "mmio", "pinned", "ranges",
                 "state")

    def __init__(self, dir: int = DMA_TO_DEVICE) -> None:
        self.dir = dir
        self.ranges: list[PhysVec] = []
        self.mmio: list[bool] = []
        self.pinned: list = []
        self.chunks: list = []            # (pages, offset0, bytes) per extraction call
        self.state = DmaIovaState()
        self.addrs: list[int] = []
        self.iova_len = 0
        self.aligned = True               # the engine can take the ranges as they are

    @property
    def pieces(self) -> list[tuple[object, int, int]]:
        """(page, offset, length) per page, for a copy through the pages
        (only a bounce needs them, so they are not built per request)."""
        out = []
        for pages, off, left in self.chunks:
            for page in pages:
                if not left:
                    break
                n = min(left, PAGE_SIZE - off)
                out.append((page, off, n))
                left -= n
                off = 0
        return out


def engine_req_maps(rctx: object, n: int) -> tuple[RangeMap, ...]:
    """The ``n`` range maps a driver keeps in its request context, made on
    the request's first use (the model's request context has no per-driver
    constructor; the kernel's drivers embed theirs in the context, sized by
    crypto_skcipher_set_reqsize())."""
    try:
        return rctx.maps
    except AttributeError:
        rctx.maps = maps = tuple(RangeMap() for _ in range(n))
        return maps


def engine_aes_extract(it: iov_iter, len: int, rm: RangeMap, skip: int = 0,
                       will_pin: bool | None = None) -> int:
    """Fill ``rm`` with the physical ranges of ``len`` bytes of ``it`` from
    ``skip`` on (a copy is consumed, never ``it``); pins only if
    extraction pins (which ``will_pin`` says, if the caller has asked
    already).  0 or -errno, with nothing held on error."""
    t = it.copy()
    if skip:
        iov_iter_advance(t, skip)
    if will_pin is None:
        will_pin = iov_iter_extract_will_pin(it)
    rm.ranges = ranges = []
    rm.mmio = mmios = []
    rm.chunks = chunks = []
    rm.pinned = []
    # The range being built (physical start, length, device memory): it
    # goes into rm.ranges when the next page does not continue it.
    start, run, run_mmio, aligned = -1, 0, False, True
    while len:
        got, pages, off = iov_iter_extract_pages(t, None, len, EXTRACT_PAGES, 0)
        if got <= 0:
            engine_aes_release(rm, False)
            return got or -E.EFAULT
        # Only the pages extracted: the array may have room for more.
        pages = pages[:-(-(off + got) // PAGE_SIZE)]
        if will_pin:
            rm.pinned += pages
        chunks.append((pages, off, got))
        pages_off = off
        # Every page is taken to its end here (only the first starts at an
        # offset, and only the last may end early): the last page's
        # overshoot is taken off the range it ends, once, after the loop.
        for page in pages:
            # page_to_phys() and is_pci_p2pdma_page(), inline: once per page.
            phys = (page.pfn << PAGE_SHIFT) + off
            mmio = page.head.kind is _DEVICE
            if start + run == phys and run_mmio is mmio:
                run += PAGE_SIZE - off
            else:
                # Each range becomes a bus segment at its own page offset:
                # the engine's rules, checked as the ranges are built.
                if phys & _ADDR_MASK or run & _BLOCK_MASK:
                    aligned = False
                if run:
                    ranges.append(_phys_vec(PhysVec, (start, run)))
                    mmios.append(run_mmio)
                start, run, run_mmio = phys, PAGE_SIZE - off, mmio
            off = 0
        run -= (-(got + pages_off)) % PAGE_SIZE
        len -= got
    if run:
        ranges.append(_phys_vec(PhysVec, (start, run)))
        mmios.append(run_mmio)
    rm.aligned = aligned
    return 0


def engine_aes_release(rm: RangeMap, written: bool) -> None:
    """Unpin what extraction pinned (dirtying pages the device wrote)."""
    if rm.pinned:
        kmem.unpin_user_pages_dirty_lock(rm.pinned, len(rm.pinned), written)
        rm.pinned = []


def engine_aes_map_ranges(dev: Device, rm: RangeMap) -> tuple[int, list]:
    """Map the ranges: one IOVA range behind an IOMMU, dma_map_phys per
    range otherwise.  (0, segments) or (-errno, []) with nothing mapped."""
    # IOVA slots: a range continues the previous one when both meet on a
    # page boundary, else it starts a new IOVA page at its own offset.
    # The bus segments (offsets from the IOVA base until it is known) are
    # collected on the way: slots that follow each other join up.
    ranges, mask = rm.ranges, PAGE_SIZE - 1
    first, pos = ranges[0]
    pad = first & mask
    offsets, rel = [0], [[0, pos]]
    for k in range(1, len(ranges)):
        paddr, n = ranges[k]
        if (pad + pos) & mask or paddr & mask:
            pos = ((pad + pos + mask) & ~mask) - pad + (paddr & mask)
            rel.append([pos, n])
        else:
            rel[-1][1] += n
        offsets.append(pos)
        pos += n
    state, dir = rm.state, rm.dir
    if dma_iova_try_alloc(dev, state, first, pos):
        # Link each range: the IOVA pages are mapped one physical range
        # at a time, as the IOMMU maps them.
        for (paddr, n), off, mmio in zip(ranges, offsets, rm.mmio):
            err = dma_iova_link(dev, state, paddr, off, n, dir, DMA_ATTR_MMIO if mmio else 0)
            if err:
                dma_iova_destroy(dev, state, off, dir, 0)
                return err, []
        rm.iova_len = pos
        dma_iova_sync(dev, state, 0, pos)
        base = state.addr
        return 0, [(base + off, n) for off, n in rel]
    for r, mmio in zip(rm.ranges, rm.mmio, strict=True):
        addr = dma_map_phys(dev, r.paddr, r.len, rm.dir, DMA_ATTR_MMIO if mmio else 0)
        if dma_mapping_error(dev, addr):
            engine_aes_unmap_ranges(dev, rm)
            return -E.ENOMEM, []
        rm.addrs.append(addr)
    return 0, list(zip(rm.addrs, (r.len for r in rm.ranges)))


def engine_aes_unmap_ranges(dev: Device, rm: RangeMap) -> None:
    if rm.iova_len:
        dma_iova_destroy(dev, rm.state, rm.iova_len, rm.dir, 0)
        rm.iova_len = 0
    if rm.addrs:
        for addr, r, mmio in zip(rm.addrs, rm.ranges, rm.mmio):
            dma_unmap_phys(dev, addr, r.len, rm.dir, DMA_ATTR_MMIO if mmio else 0)
        rm.addrs = []
