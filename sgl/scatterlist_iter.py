"""Page and mapping iterators and the copy helpers of lib/scatterlist.c
(second half of that file; the struct and tables are in sgl/scatterlist.py).

The mapping iterator maps one page at a time with the kmap flavour its
flags ask for (kmap_atomic for SG_MITER_ATOMIC, kmap_local_page for
SG_MITER_LOCAL, kmap otherwise), so the sanitizer ledger checks the
discipline of every user; the bytes of the current mapping are also exposed
as a numpy view (``miter.view``), resolved once per mapping through
kmem.access.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

import kmem
from kmem import PAGE_SHIFT, PAGE_SIZE, Page
from kmem import stats as _stats
from kmem.access import Buffer, buffer_views, page_views
from kmem.errno import KernelBug
from sgl.scatterlist import (
    Scatterlist,
    ScatterlistPtr,
    _ptr,
    sg_next,
    sg_page,
)
from sgl.sg_bulk import sg_bulk_copy, sg_ranges
from sgl.sg_table import SgTable

SG_MITER_ATOMIC = 1 << 0
SG_MITER_TO_SG = 1 << 1
SG_MITER_FROM_SG = 1 << 2
SG_MITER_LOCAL = 1 << 3


class SgPageIter:
    """``struct sg_page_iter``: ``sg`` and ``sg_pgoffset`` are public; the
    kernel's ``__nents``/``__pg_advance`` are ``_nents``/``_pg_advance``."""

    __slots__ = ("_nents", "_pg_advance", "sg", "sg_pgoffset")

    def __init__(self) -> None:
        self.sg: Scatterlist | None = None
        self.sg_pgoffset = 0
        self._nents = 0
        self._pg_advance = 0


class SgDmaPageIter:
    """``struct sg_dma_page_iter``."""

    __slots__ = ("base",)

    def __init__(self) -> None:
        self.base = SgPageIter()


def __sg_page_iter_start(piter: SgPageIter, sglist: ScatterlistPtr | None, nents: int,
                         pgoffset: int) -> None:
    piter._pg_advance = 0
    piter._nents = nents
    piter.sg = _ptr(sglist, "sglist")
    piter.sg_pgoffset = pgoffset


def _sg_page_count(sg: Scatterlist) -> int:
    return (sg.offset + sg.length + PAGE_SIZE - 1) >> PAGE_SHIFT


def _sg_dma_page_count(sg: Scatterlist) -> int:
    return (sg.dma_length + PAGE_SIZE - 1) >> PAGE_SHIFT


def _page_iter_next(piter: SgPageIter, count) -> bool:
    if not piter._nents or piter.sg is None:
        return False
    piter.sg_pgoffset += piter._pg_advance
    piter._pg_advance = 1
    while piter.sg_pgoffset >= count(piter.sg):
        piter.sg_pgoffset -= count(piter.sg)
        piter.sg = sg_next(piter.sg)
        piter._nents -= 1
        if not piter._nents or piter.sg is None:
            return False
    return True


def __sg_page_iter_next(piter: SgPageIter) -> bool:
    """Advance to the next page; pages are counted from the start of the
    entry's first page (offset included)."""
    return _page_iter_next(piter, _sg_page_count)


def __sg_page_iter_dma_next(dma_iter: SgDmaPageIter) -> bool:
    """DMA variant: counts PAGE_ALIGN(sg_dma_len) pages, without offset."""
    return _page_iter_next(dma_iter.base, _sg_dma_page_count)


_page_iter_start = __sg_page_iter_start
_page_iter_next_cpu = __sg_page_iter_next
_page_iter_next_dma = __sg_page_iter_dma_next


def sg_page_iter_page(piter: SgPageIter) -> Page:
    """``sg_page_iter_page()``: ``nth_page(sg_page(sg), sg_pgoffset)``."""
    page = sg_page(piter.sg)
    if page is None:
        raise kmem.KernelBug("sg_page_iter_page(): entry without a page")
    return page if not piter.sg_pgoffset else kmem.pfn_to_page(page.pfn + piter.sg_pgoffset)


def sg_page_iter_dma_address(dma_iter: SgDmaPageIter) -> int:
    piter = dma_iter.base
    if piter.sg is None:
        # The kernel would dereference a NULL sg: the iterator was not started.
        raise KernelBug("sg_page_iter_dma_address() on an iterator that was never started")
    return piter.sg.dma_address + (piter.sg_pgoffset << PAGE_SHIFT)


def for_each_sg_page(sglist: ScatterlistPtr | None, nents: int,
                     pgoffset: int = 0) -> Iterator[SgPageIter]:
    """``for_each_sg_page(sglist, piter, nents, pgoffset)``: yields the
    iterator positioned on each page (use sg_page_iter_page)."""
    piter = SgPageIter()
    _page_iter_start(piter, sglist, nents, pgoffset)
    while _page_iter_next_cpu(piter):
        yield piter


def for_each_sg_dma_page(sglist: ScatterlistPtr | None, dma_nents: int,
                         pgoffset: int = 0) -> Iterator[SgDmaPageIter]:
    it = SgDmaPageIter()
    _page_iter_start(it.base, sglist, dma_nents, pgoffset)
    while _page_iter_next_dma(it):
        yield it


def for_each_sgtable_page(sgt: SgTable, pgoffset: int = 0) -> Iterator[SgPageIter]:
    return for_each_sg_page(sgt.sgl, sgt.orig_nents, pgoffset)


def for_each_sgtable_dma_page(sgt: SgTable, pgoffset: int = 0) -> Iterator[SgDmaPageIter]:
    return for_each_sg_dma_page(sgt.sgl, sgt.nents, pgoffset)


class SgMappingIter:
    """``struct sg_mapping_iter``.

    Public: ``page``, ``addr`` (kernel address of the mapped bytes),
    ``length``, ``consumed`` (callers may lower it before next()/stop() to
    see bytes again), ``piter``.  Model addition: ``view``, a writable
    numpy view of the ``length`` mapped bytes (writable only with
    SG_MITER_TO_SG).  Private: ``_offset``, ``_remaining``, ``_flags``."""

    __slots__ = ("_flags", "_offset", "_remaining", "_vaddr", "addr", "consumed", "length",
                 "page", "piter", "view")

    def __init__(self) -> None:
        self.piter = SgPageIter()
        self._clear()
        self._offset = self._remaining = self._flags = 0

    def _clear(self) -> None:
        self.page: Page | None = None
        self.addr = 0
        self._vaddr = 0
        self.length = 0
        self.consumed = 0
        self.view: np.ndarray | None = None


def sg_miter_start(miter: SgMappingIter, sgl: ScatterlistPtr | None, nents: int,
                   flags: int) -> SgMappingIter:
    """``sg_miter_start()``: WARN unless one of TO_SG/FROM_SG is given.
    Returns ``miter`` for convenience."""
    if not isinstance(miter, SgMappingIter):
        raise TypeError(f"miter must be an SgMappingIter, got {type(miter).__name__}")
    if not isinstance(nents, int) or nents < 0:
        raise ValueError(f"nents must be an int >= 0, got {nents!r}")
    miter._clear()
    miter._offset = miter._remaining = 0
    _page_iter_start(miter.piter, sgl, nents, 0)
    kmem.WARN(not flags & (SG_MITER_TO_SG | SG_MITER_FROM_SG),
              "sg_miter_start: neither SG_MITER_TO_SG nor SG_MITER_FROM_SG")
    miter._flags = flags
    return miter


def _miter_get_next_page(miter: SgMappingIter) -> bool:
    if not miter._remaining:
        piter = miter.piter
        if not _page_iter_next_cpu(piter):
            return False
        sg = piter.sg
        off = 0 if piter.sg_pgoffset else sg.offset
        piter.sg_pgoffset += off >> PAGE_SHIFT
        off &= PAGE_SIZE - 1
        miter._offset = off
        rem = sg.offset + sg.length - (piter.sg_pgoffset << PAGE_SHIFT) - off
        miter._remaining = min(rem, PAGE_SIZE - off)
    return True


def sg_miter_next(miter: SgMappingIter) -> bool:
    """``sg_miter_next()``: stop the previous mapping and map the next
    piece (never crossing a page).  False at the end of the list."""
    sg_miter_stop(miter)
    if not _miter_get_next_page(miter):
        return False
    page = sg_page_iter_page(miter.piter)
    miter.page = page
    miter.consumed = miter.length = miter._remaining
    flags = miter._flags
    if flags & SG_MITER_ATOMIC:
        vaddr = kmem.kmap_atomic(page)
    elif flags & SG_MITER_LOCAL:
        vaddr = kmem.kmap_local_page(page)
    else:
        kmem.might_sleep("sg_miter_next without SG_MITER_ATOMIC/LOCAL")
        vaddr = kmem.kmap(page)
    miter._vaddr = vaddr
    miter.addr = vaddr + miter._offset
    views = page_views(page, miter._offset, miter.length, write=bool(flags & SG_MITER_TO_SG))
    if len(views) == 1:
        miter.view = views[0]
    else:
        miter.view = np.concatenate(views) if views else np.zeros(0, np.uint8)
    return True


def sg_miter_skip(miter: SgMappingIter, offset: int) -> bool:
    """``sg_miter_skip()``: stop, then move ``offset`` bytes on; False if
    the list ends first."""
    if not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be an int >= 0, got {offset!r}")
    sg_miter_stop(miter)
    while offset:
        if not _miter_get_next_page(miter):
            return False
        n = min(offset, miter._remaining)
        miter._offset += n
        miter._remaining -= n
        offset -= n
    return True


def sg_miter_stop(miter: SgMappingIter) -> None:
    """``sg_miter_stop()``: account ``consumed``, unmap, clear the mapping
    (the iterator can be resumed with sg_miter_next)."""
    kmem.WARN(miter.consumed > miter.length, "sg_miter_stop: consumed > length")
    if miter.addr:
        miter._offset += miter.consumed
        miter._remaining -= miter.consumed
        flags = miter._flags
        if flags & SG_MITER_ATOMIC:
            kmem.WARN_ON_ONCE(not kmem.pagefault_disabled(),
                              "sg_miter_stop: atomic mapping without pagefault_disable")
            kmem.kunmap_atomic(miter._vaddr)
        elif flags & SG_MITER_LOCAL:
            kmem.kunmap_local(miter._vaddr)
        else:
            kmem.kunmap(miter.page)
        miter._clear()


class _Cursor:
    """Sequential slices of a buffer resolved once into views."""

    __slots__ = ("i", "off", "views")

    def __init__(self, views: list[np.ndarray]) -> None:
        self.views = views
        self.i = 0
        self.off = 0

    def take(self, n: int) -> list[np.ndarray]:
        views = self.views
        v = views[self.i]
        if self.off + n <= len(v):
            out = [v[self.off:self.off + n]]
            self.off += n
            if self.off == len(v) and self.i + 1 < len(views):
                self.i += 1
                self.off = 0
            return out
        out = []
        while n:
            v = views[self.i]
            k = min(n, len(v) - self.off)
            out.append(v[self.off:self.off + k])
            self.off += k
            n -= k
            if self.off == len(v) and self.i + 1 < len(views):
                self.i += 1
                self.off = 0
        return out


def _check_len(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def sg_copy_buffer(sgl: ScatterlistPtr | None, nents: int, buf: Buffer, buflen: int,
                   skip: int, to_buffer: bool) -> int:
    """``sg_copy_buffer()``: copy between ``buf`` (a kernel address or a
    bytes-like/numpy buffer) and the list, after skipping ``skip`` bytes of
    the list; returns the bytes copied (short if the list is shorter, 0 if
    the skip runs past its end)."""
    _check_len(buflen, "buflen")
    _check_len(skip, "skip")
    if buflen:
        r = sg_ranges(sgl, skip, buflen, nents)
        if r is not None and sg_bulk_copy(r, buf, buflen, not to_buffer):
            return r.total
    flags = SG_MITER_LOCAL | (SG_MITER_FROM_SG if to_buffer else SG_MITER_TO_SG)
    miter = sg_miter_start(SgMappingIter(), sgl, nents, flags)
    if not sg_miter_skip(miter, skip):
        return 0
    if not buflen:
        return 0
    cur = _Cursor(buffer_views(buf, buflen, write=to_buffer))
    offset = 0
    while offset < buflen and sg_miter_next(miter):
        n = min(miter.length, buflen - offset)
        if n:
            part = cur.take(n)
            src = miter.view[:n]
            if len(part) == 1:
                # The one-piece fast path skips copy_views: count it here,
                # or compare would see a bounce through sg_copy_*_buffer
                # as free.
                if to_buffer:
                    part[0][:] = src
                else:
                    src[:] = part[0]
                if _stats.ON:
                    _stats.note_copy(n)
            elif to_buffer:
                kmem.copy_views(part, [src])
            else:
                kmem.copy_views([src], part)
        offset += n
    sg_miter_stop(miter)
    return offset


def sg_copy_from_buffer(sgl: ScatterlistPtr | None, nents: int, buf: Buffer,
                        buflen: int) -> int:
    """``sg_copy_from_buffer()``: buffer -> list."""
    return sg_copy_buffer(sgl, nents, buf, buflen, 0, False)


def sg_copy_to_buffer(sgl: ScatterlistPtr | None, nents: int, buf: Buffer, buflen: int) -> int:
    """``sg_copy_to_buffer()``: list -> buffer."""
    return sg_copy_buffer(sgl, nents, buf, buflen, 0, True)


def sg_pcopy_from_buffer(sgl: ScatterlistPtr | None, nents: int, buf: Buffer, buflen: int,
                         skip: int) -> int:
    return sg_copy_buffer(sgl, nents, buf, buflen, skip, False)


def sg_pcopy_to_buffer(sgl: ScatterlistPtr | None, nents: int, buf: Buffer, buflen: int,
                       skip: int) -> int:
    return sg_copy_buffer(sgl, nents, buf, buflen, skip, True)


def sg_zero_buffer(sgl: ScatterlistPtr | None, nents: int, buflen: int, skip: int) -> int:
    """``sg_zero_buffer()``: bytes zeroed (0 if the skip fails)."""
    _check_len(buflen, "buflen")
    miter = sg_miter_start(SgMappingIter(), sgl, nents, SG_MITER_LOCAL | SG_MITER_TO_SG)
    if not sg_miter_skip(miter, _check_len(skip, "skip")):
        return 0
    offset = 0
    while offset < buflen and sg_miter_next(miter):
        n = min(miter.length, buflen - offset)
        miter.view[:n] = 0
        offset += n
    sg_miter_stop(miter)
    return offset
