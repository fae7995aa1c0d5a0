"""The crypto scatterwalk (include/crypto/scatterwalk.h, crypto/scatterwalk.c),
late-2025 API (Eric Biggers' v6.15 rework and Herbert Xu's follow-ups).

The model is a 64-bit kernel without HIGHMEM: a step may cross a page
boundary inside one entry but is capped at PAGE_SIZE, ``scatterwalk_map``
only computes the direct-map address (no kmap), and the dcache flush of
scatterwalk_done_dst is a no-op (x86).  ``walk.offset`` counts from the
start of the entry's first page, so it begins at ``sg.offset`` and the
entry is exhausted when ``offset >= sg.offset + sg.length``.

Byte access goes through kmem.access: :func:`scatterwalk_views` gives the
numpy views of the current step (a model helper; kernel code would use
``walk->addr``).  Walking off the end of a list is a NULL dereference in the
kernel; the model raises KernelBug.
"""

from __future__ import annotations

import numpy as np

import kmem
from kmem import PAGE_SIZE, KernelBug
from kmem import stats as _stats
from kmem.access import Buffer, buffer_views, copy_views, page_views
from sgl.scatterlist import (
    Scatterlist,
    ScatterlistPtr,
    _entries,
    _need,
    _ptr,
    sg_chain,
    sg_init_table,
    sg_is_chain,
    sg_mark_end,
    sg_next,
    sg_page,
    sg_set_page,
)
from sgl.scatterlist_iter import _Cursor
from sgl.sg_bulk import sg_bulk_copy, sg_bulk_memcpy, sg_ranges


class ScatterWalk:
    """``struct scatter_walk``: ``addr`` (the mapped address of the current
    step, set by scatterwalk_map/next), ``sg`` and ``offset``."""

    __slots__ = ("addr", "offset", "sg")

    def __init__(self) -> None:
        self.addr = 0
        self.sg: Scatterlist | None = None
        self.offset = 0

    def __repr__(self) -> str:
        return f"<scatter_walk sg={self.sg!r} offset={self.offset}>"


def _next_entry(sg: Scatterlist) -> Scatterlist:
    nxt = sg_next(sg)
    if nxt is None:
        raise KernelBug("NULL pointer dereference: scatterwalk ran off the end of the list")
    return nxt


def scatterwalk_crypto_chain(head: ScatterlistPtr, sg: ScatterlistPtr | None, num: int) -> None:
    """Chain ``sg`` after ``head``'s ``num`` slots, or end ``head``."""
    if sg is not None:
        sg_chain(head, num, sg)
    else:
        sg_mark_end(head)


def scatterwalk_start(walk: ScatterWalk, sg: ScatterlistPtr) -> None:
    sg = _need(sg)
    walk.sg = sg
    walk.offset = sg.offset


def scatterwalk_start_at_pos(walk: ScatterWalk, sg: ScatterlistPtr, pos: int) -> None:
    """Start + skip ``pos`` bytes: whole entries are skipped only while
    ``pos > length`` (a position at an entry's very end stays in it)."""
    sg = _need(sg)
    while pos > sg.length:
        pos -= sg.length
        sg = _next_entry(sg)
    walk.sg = sg
    walk.offset = sg.offset + pos


def _cur(walk: ScatterWalk) -> Scatterlist:
    if walk.sg is None:
        raise KernelBug("NULL pointer dereference: scatter_walk used before scatterwalk_start")
    return walk.sg


def scatterwalk_skip(walk: ScatterWalk, nbytes: int) -> None:
    """``scatterwalk_skip()``: the same rule from the current position."""
    sg = _cur(walk)
    nbytes += walk.offset - sg.offset
    while nbytes > sg.length:
        nbytes -= sg.length
        sg = _next_entry(sg)
    walk.sg = sg
    walk.offset = sg.offset + nbytes


def scatterwalk_clamp(walk: ScatterWalk, nbytes: int, limit: int = PAGE_SIZE) -> int:
    """Move to the next entry just in time if this one is exhausted; then
    ``min(nbytes, bytes left in the entry, limit)`` (the kernel's limit is
    PAGE_SIZE; the model's skcipher_walk may lift it, see there)."""
    sg = _cur(walk)
    if walk.offset >= sg.offset + sg.length:
        sg = walk.sg = _next_entry(sg)
        walk.offset = sg.offset
    return min(nbytes, sg.offset + sg.length - walk.offset, limit)


def scatterwalk_map(walk: ScatterWalk) -> None:
    """Set ``walk.addr`` to the direct-map address of the position."""
    page = sg_page(walk.sg)
    if page is None:
        raise KernelBug("scatterwalk_map: entry without a page")
    walk.addr = kmem.page_address(page) + walk.offset


def scatterwalk_next(walk: ScatterWalk, total: int) -> int:
    """``scatterwalk_next()``: the bytes available this step (<= total,
    which must be > 0); the address is in ``walk.addr``."""
    n = scatterwalk_clamp(walk, total)
    scatterwalk_map(walk)
    return n


def scatterwalk_views(walk: ScatterWalk, nbytes: int, *, write: bool = False) -> list[np.ndarray]:
    """Model helper: numpy views of the ``nbytes`` at the walk position."""
    return page_views(sg_page(walk.sg), walk.offset, nbytes, write=write)


def scatterwalk_unmap(walk: ScatterWalk) -> None:
    """No HIGHMEM: nothing was kmapped."""


def scatterwalk_advance(walk: ScatterWalk, nbytes: int) -> None:
    walk.offset += nbytes


def scatterwalk_done_src(walk: ScatterWalk, nbytes: int) -> None:
    walk.offset += nbytes


def scatterwalk_done_dst(walk: ScatterWalk, nbytes: int) -> None:
    # flush_dcache_page is a no-op on x86.
    walk.offset += nbytes


def _walk_copy(walk: ScatterWalk, cur: _Cursor, nbytes: int, to_sg: bool) -> None:
    _cur(walk)
    while True:
        sg = walk.sg
        if walk.offset >= sg.offset + sg.length:
            sg = walk.sg = _next_entry(sg)
            walk.offset = sg.offset
        n = min(nbytes, sg.offset + sg.length - walk.offset, PAGE_SIZE)
        page = sg._link
        if page is None or not isinstance(page, kmem.Page):
            raise KernelBug("scatterwalk: entry without a page")
        views = page_views(page, walk.offset, n, write=to_sg)
        part = cur.take(n) if n else []
        if to_sg:
            copy_views(views, part)
        else:
            copy_views(part, views)
        walk.offset += n
        nbytes -= n
        if not nbytes:
            return


def _buf_cursor(buf: Buffer, nbytes: int, write: bool) -> _Cursor:
    return _Cursor(buffer_views(buf, nbytes, write=write))


def memcpy_from_scatterwalk(buf: Buffer, walk: ScatterWalk, nbytes: int) -> None:
    """Copy ``nbytes`` (> 0) from the walk into ``buf`` (an address or a
    bytes-like/numpy buffer), advancing the walk."""
    if nbytes <= 0:
        raise ValueError(f"nbytes must be > 0, got {nbytes}")
    _walk_copy(walk, _buf_cursor(buf, nbytes, True), nbytes, False)


def memcpy_to_scatterwalk(walk: ScatterWalk, buf: Buffer, nbytes: int) -> None:
    """Copy ``nbytes`` (> 0) from ``buf`` into the walk, advancing it."""
    if nbytes <= 0:
        raise ValueError(f"nbytes must be > 0, got {nbytes}")
    _walk_copy(walk, _buf_cursor(buf, nbytes, False), nbytes, True)


def _bulk(sg: ScatterlistPtr | None, start: int, buf: Buffer, nbytes: int, to_sg: bool) -> bool:
    """The whole copy at once when the list holds all ``nbytes`` and
    sgl.sg_bulk accepts them (the per-step walk otherwise)."""
    if not (isinstance(start, int) and isinstance(nbytes, int)) or start < 0 or nbytes < 0:
        return False
    r = sg_ranges(sg, start, nbytes)
    return r is not None and r.total == nbytes and sg_bulk_copy(r, buf, nbytes, to_sg)


def memcpy_from_sglist(buf: Buffer, sg: ScatterlistPtr | None, start: int, nbytes: int) -> None:
    """``memcpy_from_sglist()``: nothing for nbytes == 0 (sg may be None)."""
    if nbytes == 0:
        return
    if _bulk(sg, start, buf, nbytes, False):
        return
    walk = ScatterWalk()
    scatterwalk_start_at_pos(walk, sg, start)
    memcpy_from_scatterwalk(buf, walk, nbytes)


def memcpy_to_sglist(sg: ScatterlistPtr | None, start: int, buf: Buffer, nbytes: int) -> None:
    if nbytes == 0:
        return
    if _bulk(sg, start, buf, nbytes, True):
        return
    walk = ScatterWalk()
    scatterwalk_start_at_pos(walk, sg, start)
    memcpy_to_scatterwalk(walk, buf, nbytes)


def scatterwalk_map_and_copy(buf: Buffer, sg: ScatterlistPtr | None, start: int, nbytes: int,
                             out: int) -> None:
    """Legacy wrapper: ``out`` != 0 copies buf -> sg, 0 copies sg -> buf."""
    if out:
        memcpy_to_sglist(sg, start, buf, nbytes)
    else:
        memcpy_from_sglist(buf, sg, start, nbytes)


def memcpy_sglist(dst: ScatterlistPtr | None, src: ScatterlistPtr | None, nbytes: int) -> None:
    """``memcpy_sglist()`` (late 2025, void): a per-entry-pair loop with
    memmove semantics inside each step; steps whose source and destination
    are the same bytes are skipped.  Lists may describe the same memory."""
    if nbytes == 0:
        return
    if isinstance(nbytes, int) and nbytes > 0 and sg_bulk_memcpy(dst, src, nbytes):
        return
    s = _need(src, "src")
    d = _need(dst, "dst")
    s_off, d_off = s.offset, d.offset
    while True:
        n = min(s.offset + s.length - s_off, d.offset + d.length - d_off, nbytes)
        sp, dp = sg_page(s), sg_page(d)
        if sp is None or dp is None:
            raise KernelBug("memcpy_sglist: entry without a page")
        if (sp.pfn << 12) + s_off != (dp.pfn << 12) + d_off:
            sv = page_views(sp, s_off, n)
            dv = page_views(dp, d_off, n, write=True)
            if len(sv) == 1 and len(dv) == 1:
                if _stats.ON:
                    _stats.note_copy(n)
                np.copyto(dv[0], sv[0])      # numpy resolves overlap like memmove
            else:
                copy_views(dv, [kmem.gather(sv)])
        nbytes -= n
        if not nbytes:
            return
        s_off += n
        if s_off >= s.offset + s.length:
            s = _next_entry(s)
            s_off = s.offset
        d_off += n
        if d_off >= d.offset + d.length:
            d = _next_entry(d)
            d_off = d.offset


def scatterwalk_ffwd(dst: list[Scatterlist], src: ScatterlistPtr,
                     len: int) -> Scatterlist | None:
    """``scatterwalk_ffwd(dst[2], src, len)``: a list starting ``len``
    bytes into ``src``.  Whole entries are skipped while ``length <= len``;
    if that lands exactly on an entry start the result points into ``src``
    itself, otherwise ``dst[0]`` describes the rest of the entry and is
    chained to the remainder of ``src`` (``dst`` is returned).  Skipping
    exactly the whole list gives NULL, as in the kernel (hctr2 does that
    for a one-block request, whose bulk is empty)."""
    s = _need(src, "src")
    while True:
        if not len:
            return s
        if s.length > len:
            break
        len -= s.length
        s = sg_next(s) if not len else _next_entry(s)
        if s is None:
            return None
    ents = _entries(dst, 2, "dst")
    sg_init_table(ents[0], 2)
    sg_set_page(ents[0], sg_page(s), s.length - len, s.offset + len)
    scatterwalk_crypto_chain(ents[0], sg_next(s), 2)
    return ents[0]


def scatterwalk_get_sglist(walk: ScatterWalk, sg_out: list[Scatterlist]) -> None:
    """A two-entry list (chained to the original) for the rest of the walk;
    ``sg_out`` must already be sg_init_table'd."""
    sg = _cur(walk)
    if walk.offset >= sg.offset + sg.length:
        sg = walk.sg = _next_entry(sg)
        walk.offset = sg.offset
    first = _ptr(sg_out, "sg_out")
    sg_set_page(first, sg_page(sg), sg.offset + sg.length - walk.offset, walk.offset)
    scatterwalk_crypto_chain(first, sg_next(sg), 2)


def sg_virt_view(sg: ScatterlistPtr, n: int, *, write: bool = False) -> np.ndarray | None:
    """Model helper: the ``n`` bytes at ``sg_virt(sg)`` as one view when the
    first entry holds them in one run of memory, else None (a NULL ``sg``
    included: the caller's slow path decides what that is).  What an arch
    driver's fast path maps when ``sg->length >= len`` (aesni xts_crypt()),
    with the same page_views() checks and records as a walk's step."""
    s = _ptr(sg)
    if s is None or sg_is_chain(s) or s.length < n or not isinstance(s._link, kmem.Page):
        return None
    views = page_views(s._link, s.offset, n, write=write)
    return views[0] if len(views) == 1 else None
