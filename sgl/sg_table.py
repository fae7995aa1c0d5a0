"""sg tables and scatterlist allocation (lib/scatterlist.c: sg_alloc_table
and friends, sg_alloc_append_table_from_pages, sgl_alloc;
include/linux/scatterlist.h: struct sg_table, struct sg_append_table).

Arrays allocated here are ``SgArray`` lists whose ``addr`` is a real
allocation (kmalloc, or a whole page for SG_MAX_SINGLE_ALLOC entries), so
fault injection makes them fail as the kernel's do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import kmem
from kmem import PAGE_SHIFT, PAGE_SIZE, Kind, Page
from kmem import errno as E
from sgl.scatterlist import (
    SG_MAX_SINGLE_ALLOC,
    SIZEOF_SCATTERLIST,
    UINT_MAX,
    Scatterlist,
    ScatterlistPtr,
    _entries,
    _need,
    _ptr,
    _sg_chain_link,
    _uint,
    for_each_sg,
    sg_array,
    sg_chain,
    sg_chain_ptr,
    sg_init_table,
    sg_is_last,
    sg_mark_end,
    sg_next,
    sg_page,
    sg_phys,
    sg_set_page,
)

# Tables (lib/scatterlist.c).

class SgTable:
    """``struct sg_table``: ``nents`` is the mapped count, ``orig_nents``
    the allocated/original one."""

    __slots__ = ("nents", "orig_nents", "sgl")

    def __init__(self) -> None:
        self.sgl: Scatterlist | None = None
        self.nents = 0
        self.orig_nents = 0

    def __repr__(self) -> str:
        return f"<sg_table nents={self.nents} orig_nents={self.orig_nents}>"


class SgAppendTable:
    """``struct sg_append_table``."""

    __slots__ = ("prv", "sgt", "total_nents")

    def __init__(self) -> None:
        self.sgt = SgTable()
        self.prv: Scatterlist | None = None
        self.total_nents = 0


def for_each_sgtable_sg(sgt: SgTable) -> Iterator[Scatterlist]:
    return for_each_sg(sgt.sgl, sgt.orig_nents)


def for_each_sgtable_dma_sg(sgt: SgTable) -> Iterator[Scatterlist]:
    return for_each_sg(sgt.sgl, sgt.nents)


SgAllocFn = Callable[[int, int], Scatterlist | None]
SgFreeFn = Callable[[Scatterlist, int], None]


def sg_kmalloc(nents: int, gfp: int) -> Scatterlist | None:
    """The default chunk allocator: a whole page for SG_MAX_SINGLE_ALLOC
    entries, kmalloc otherwise.  Returns the first entry or None."""
    if not isinstance(nents, int) or nents < 1:
        raise ValueError(f"nents must be an int >= 1, got {nents!r}")
    if nents == SG_MAX_SINGLE_ALLOC:
        addr = kmem.__get_free_pages(gfp, 0)
    else:
        addr = kmem.kmalloc_array(nents, SIZEOF_SCATTERLIST, gfp)
    if not addr:
        return None
    arr = sg_array(nents)
    arr.addr = addr
    return arr[0]


def sg_kfree(sg: Scatterlist, nents: int) -> None:
    addr = getattr(sg._arr, "addr", 0)
    if nents == SG_MAX_SINGLE_ALLOC:
        kmem.free_pages(addr, 0)
    else:
        kmem.kfree(addr)


def __sg_free_table(table: SgTable, max_ents: int, nents_first_chunk: int,
                    free_fn: SgFreeFn, num_ents: int) -> None:
    """``__sg_free_table()``: free the chunks of a table made by
    __sg_alloc_table with the same ``max_ents`` (a preallocated first
    chunk is not freed)."""
    if table.sgl is None:
        return
    curr_max = nents_first_chunk or max_ents
    sgl = table.sgl
    while num_ents:
        alloc_size = num_ents
        if alloc_size > curr_max:
            nxt = sg_chain_ptr(_entries(sgl, curr_max)[-1])
            alloc_size = curr_max
            sg_size = alloc_size - 1
        else:
            sg_size = alloc_size
            nxt = None
        num_ents -= sg_size
        if nents_first_chunk:
            nents_first_chunk = 0
        else:
            free_fn(sgl, alloc_size)
        sgl = nxt
        curr_max = max_ents
    table.sgl = None


# The most entries one table may have in the model (32 MiB of descriptors,
# far beyond any request; each entry is a Python object here).
SG_MODEL_MAX_ENTS = 1 << 20


def __sg_alloc_table(table: SgTable, nents: int, max_ents: int,
                     first_chunk: ScatterlistPtr | None, nents_first_chunk: int, gfp: int,
                     alloc_fn: SgAllocFn) -> int:
    """``__sg_alloc_table()``: chunks of at most ``max_ents`` slots, each
    full chunk giving its last slot to the chain link.  On -ENOMEM the
    caller frees what was built (with __sg_free_table)."""
    _uint(nents, "nents")
    if not isinstance(max_ents, int) or max_ents < 2:
        raise ValueError(f"max_ents must be >= 2, got {max_ents!r}")
    table.sgl, table.nents, table.orig_nents = None, 0, 0
    if nents == 0:
        return -E.EINVAL
    if nents > SG_MODEL_MAX_ENTS:
        # The chunks would be allocated one by one until memory ran out;
        # the model says so at once.
        return -E.ENOMEM
    first = _ptr(first_chunk, "first_chunk")
    curr_max = nents_first_chunk or max_ents
    left = nents
    prv: Scatterlist | None = None
    prv_max = 0
    while True:
        alloc_size = left
        if alloc_size > curr_max:
            alloc_size = curr_max
            sg_size = alloc_size - 1
        else:
            sg_size = alloc_size
        left -= sg_size
        if first is not None:
            sg, first = first, None
        else:
            sg = alloc_fn(alloc_size, gfp)
        if sg is None:
            if prv is not None:
                # The previous chunk's last slot will not become a link.
                table.orig_nents += 1
                table.nents = table.orig_nents
            return -E.ENOMEM
        sg_init_table(sg, alloc_size)
        table.orig_nents += sg_size
        table.nents = table.orig_nents
        if prv is not None:
            sg_chain(prv, prv_max, sg)
        else:
            table.sgl = sg
        if not left:
            sg_mark_end(_entries(sg, sg_size)[-1])
            return 0
        prv, prv_max, curr_max = sg, curr_max, max_ents


def sg_alloc_table(table: SgTable, nents: int, gfp: int) -> int:
    """``sg_alloc_table()``: 0 or -EINVAL/-ENOMEM (nothing left allocated
    on failure)."""
    ret = __sg_alloc_table(table, nents, SG_MAX_SINGLE_ALLOC, None, 0, gfp, sg_kmalloc)
    if ret:
        sg_free_table(table)
    return ret


def sg_free_table(table: SgTable) -> None:
    __sg_free_table(table, SG_MAX_SINGLE_ALLOC, 0, sg_kfree, table.orig_nents)


def sg_free_append_table(table: SgAppendTable) -> None:
    __sg_free_table(table.sgt, SG_MAX_SINGLE_ALLOC, 0, sg_kfree, table.total_nents)


def _get_next_sg(table: SgAppendTable, cur: Scatterlist | None, needed: int,
                 gfp: int) -> Scatterlist | int:
    if cur is not None:
        nxt = sg_next(cur)
        # Keep the last slot free for a chain link unless it is the last needed.
        if not sg_is_last(nxt) or needed == 1:
            return nxt
    alloc_size = min(needed, SG_MAX_SINGLE_ALLOC)
    new = sg_kmalloc(alloc_size, gfp)
    if new is None:
        return -E.ENOMEM
    sg_init_table(new, alloc_size)
    if cur is not None:
        table.total_nents += alloc_size - 1
        _sg_chain_link(nxt, new)
    else:
        table.sgt.sgl = new
        table.total_nents = alloc_size
    return new


def _pages_are_mergeable(a: Page, b: Page) -> bool:
    if a.pfn != b.pfn + 1:
        return False
    # ZONE_DEVICE pages merge only within one pgmap (here: one allocation).
    if a.kind is Kind.DEVICE or b.kind is Kind.DEVICE:
        return a.head is b.head
    return True


def sg_alloc_append_table_from_pages(sgt_append: SgAppendTable, pages: list[Page],
                                     n_pages: int, offset: int, size: int,
                                     max_segment: int, left_pages: int, gfp: int) -> int:
    """``sg_alloc_append_table_from_pages()``: physically contiguous pages
    are merged into one entry of at most ``max_segment`` (aligned down to
    PAGE_SIZE) bytes; an append that continues the previous entry's pages
    extends it.  The end mark is set when ``left_pages`` is 0."""
    _uint(n_pages, "n_pages")
    _uint(offset, "offset")
    _uint(size, "size", (1 << 64) - 1)
    _uint(max_segment, "max_segment")
    if n_pages > len(pages):
        raise ValueError(f"n_pages={n_pages} exceeds the {len(pages)} pages given")
    pages = list(pages[:n_pages])
    max_segment &= ~(PAGE_SIZE - 1)
    if kmem.WARN(max_segment < PAGE_SIZE, "sg_alloc_append_table_from_pages: max_segment "
                                          "< PAGE_SIZE"):
        return -E.EINVAL
    s = sgt_append.prv
    prv_len = 0
    if s is not None:
        if kmem.WARN(offset, "sg_alloc_append_table_from_pages: offset on append"):
            return -E.EINVAL
        prv_len = s.length
        next_pfn = (sg_phys(s) + prv_len) >> PAGE_SHIFT
        if pages and pages[0].pfn == next_pfn:
            last_pg = kmem.pfn_to_page(next_pfn - 1)
            while pages and _pages_are_mergeable(pages[0], last_pg):
                if s.length + PAGE_SIZE > max_segment:
                    break
                s.length += PAGE_SIZE
                last_pg = pages.pop(0)
            if not pages:
                if not left_pages:
                    sg_mark_end(s)
                return 0
    n = len(pages)
    if n == 0:
        # The kernel would build an entry from pages[0], past the array.
        raise ValueError("sg_alloc_append_table_from_pages(): n_pages must be >= 1 "
                         "(or continue the previous entry), got 0")
    # Chunk boundaries: where merging stops.
    starts = [0]
    seg_len = 0
    for i in range(1, n):
        seg_len += PAGE_SIZE
        if seg_len >= max_segment or not _pages_are_mergeable(pages[i], pages[i - 1]):
            starts.append(i)
            seg_len = 0
    chunks = len(starts)
    added = 0
    for k, cur in enumerate(starts):
        end = starts[k + 1] if k + 1 < chunks else n
        got = _get_next_sg(sgt_append, s, chunks - k + left_pages, gfp)
        if isinstance(got, int):
            if sgt_append.prv is not None:
                sgt_append.prv.length = prv_len
            return got
        s = got
        chunk_size = ((end - cur) << PAGE_SHIFT) - offset
        sg_set_page(s, pages[cur], max(0, min(size, chunk_size)), offset)
        added += 1
        size -= chunk_size
        offset = 0
    sgt_append.sgt.nents += added
    sgt_append.sgt.orig_nents = sgt_append.sgt.nents
    sgt_append.prv = s
    if not left_pages and s is not None:
        sg_mark_end(s)
    return 0


def sg_alloc_table_from_pages_segment(sgt: SgTable, pages: list[Page], n_pages: int,
                                      offset: int, size: int, max_segment: int,
                                      gfp: int) -> int:
    """``sg_alloc_table_from_pages_segment()``: a table over ``pages``,
    contiguous runs merged up to ``max_segment``; free with sg_free_table."""
    append = SgAppendTable()
    err = sg_alloc_append_table_from_pages(append, pages, n_pages, offset, size,
                                           max_segment, 0, gfp)
    if err:
        sg_free_append_table(append)
        return err
    sgt.sgl, sgt.nents, sgt.orig_nents = append.sgt.sgl, append.sgt.nents, append.sgt.orig_nents
    kmem.WARN(append.total_nents != sgt.orig_nents,
              "sg_alloc_table_from_pages_segment: total_nents != orig_nents")
    return 0


def sg_alloc_table_from_pages(sgt: SgTable, pages: list[Page], n_pages: int, offset: int,
                              size: int, gfp: int) -> int:
    return sg_alloc_table_from_pages_segment(sgt, pages, n_pages, offset, size, UINT_MAX, gfp)


# sgl_alloc (CONFIG_SGL_ALLOC).

def sgl_alloc_order(length: int, order: int, chainable: bool,
                    gfp: int) -> tuple[Scatterlist | None, int]:
    """``sgl_alloc_order()`` -> (sgl or None, nent): a list over fresh
    page blocks of ``PAGE_SIZE << order`` bytes (one more, unused, slot if
    ``chainable``)."""
    _uint(length, "length", (1 << 64) - 1)
    if not isinstance(order, int) or not 0 <= order <= kmem.MAX_PAGE_ORDER:
        raise ValueError(f"order must be in 0..{kmem.MAX_PAGE_ORDER}, got {order!r}")
    elem = PAGE_SIZE << order
    nent = -(-length // elem)
    if nent > UINT_MAX:
        return None, 0
    nalloc = nent + 1 if chainable else nent
    addr = kmem.kmalloc_array(nalloc, SIZEOF_SCATTERLIST, gfp)
    if not addr:
        return None, 0
    arr = sg_array(nalloc)
    arr.addr = addr
    sg_init_table(arr, nalloc)
    sg: Scatterlist | None = arr[0]
    while length:
        n = min(length, elem)
        page = kmem.alloc_pages(gfp, order)
        if page is None:
            sgl_free_order(arr[0], order)
            return None, 0
        sg_set_page(sg, page, n, 0)
        length -= n
        sg = sg_next(sg)
    return arr[0], nent


def sgl_alloc(length: int, gfp: int) -> tuple[Scatterlist | None, int]:
    """``sgl_alloc(length, gfp, &nent)`` -> (sgl or None, nent)."""
    return sgl_alloc_order(length, 0, False, gfp)


def sgl_free_n_order(sgl: ScatterlistPtr, nents: int, order: int) -> None:
    """``sgl_free_n_order()``: free the pages of up to ``nents`` entries,
    then the array."""
    first = _need(sgl, "sgl")
    sg: Scatterlist | None = first
    i = 0
    while sg is not None and i < nents:
        page = sg_page(sg)
        if page is not None:
            kmem.__free_pages(page, order)
        i += 1
        sg = sg_next(sg) if i < nents else None
    kmem.kfree(getattr(first._arr, "addr", 0))


def sgl_free_order(sgl: ScatterlistPtr, order: int) -> None:
    sgl_free_n_order(sgl, 0x7FFFFFFF, order)


def sgl_free(sgl: ScatterlistPtr) -> None:
    sgl_free_order(sgl, 0)
