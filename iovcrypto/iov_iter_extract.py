"""lib/iov_iter.c, part four: getting the pages behind an iterator.

- ``iov_iter_extract_pages()`` lists the pages of the next bytes and
  advances.  User-backed iterators (UBUF/IOVEC) are *pinned*
  (pin_user_pages_fast, FOLL_PIN): the caller unpins each page with
  unpin_user_page().  Kernel-backed ones (KVEC/BVEC/FOLIOQ/XARRAY) take no
  reference and no pin: the caller must keep the memory alive.  DISCARD
  gives -EFAULT.  iov_iter_extract_will_pin() (in uio.py) says which.
- ``iov_iter_get_pages2()`` / ``iov_iter_get_pages_alloc2()`` take page
  *references* (get_user_pages_fast, get_page, folio_get), which the
  caller drops with put_page().  Through a BVEC over stack or device memory
  that reference is the bug kmem records; slab pages are skipped, as the
  kernel's folio_test_slab() check skips them.  KVEC and DISCARD: -EFAULT.

Each call returns one run that is contiguous as the kernel defines it: the
pages are listed in order, only the first may start at an offset
(``offset0``/``start``) and every page but the last is used to its end.

The page array: ``pages=None`` makes the model allocate a list (the
kernel's kvmalloc_array, subject to kmem's fault injection: -ENOMEM); the
list is Python's, so nothing needs kvfree().  A caller's list must have
room for ``maxpages`` entries and is filled in place.
"""

from __future__ import annotations

from iovcrypto.iov_iter_position import iov_iter_advance, iter_advance
from iovcrypto.uio import (
    ITER_ALLOW_P2PDMA,
    ITER_BVEC,
    ITER_BVECQ,
    ITER_FOLIOQ,
    ITER_IOVEC,
    ITER_KVEC,
    ITER_UBUF,
    ITER_XARRAY,
    MAX_RW_COUNT,
    check_iter,
    check_size,
    iov_iter,
)
from kmem import (
    FOLL_NOFAULT,
    FOLL_PCI_P2PDMA,
    FOLL_WRITE,
    PAGE_MASK,
    PAGE_SIZE,
    WARN,
    Folio,
    KernelBug,
    Kind,
    Page,
    folio_get,
    folio_page,
    get_page,
    get_user_pages_fast,
    is_vmalloc_addr,
    pfn_to_page,
    pin_user_pages_fast,
    rcu_read_section,
    virt_to_page,
    vmalloc_to_page,
    xa_load,
)
from kmem.errno import EFAULT, EIO, ENOMEM
from kmem.folio_queue import PAGEVEC_SIZE
from kmem.page_alloc import should_fail_alloc
from kmem.quirks import quirk

_OFF = PAGE_SIZE - 1
_U32 = 0xFFFFFFFF


class _Out:
    """The ``struct page **`` being filled, and its capacity."""

    __slots__ = ("n", "pages")

    def __init__(self, pages: list) -> None:
        self.pages = pages
        self.n = 0

    def add(self, page: Page) -> None:
        if self.n < len(self.pages):
            self.pages[self.n] = page
        else:
            self.pages.append(page)
        self.n += 1


def _want_pages_array(pages: list | None, size: int, start: int, maxpages: int
                      ) -> tuple[int, list | None]:
    """``want_pages_array()``: how many entries this call may fill, and the
    array (allocated if ``pages`` is None; (0, None) when that fails)."""
    count = -(-(size + start) // PAGE_SIZE)
    if count > maxpages:                # (min() is a call: this is every extraction's path)
        count = maxpages
    if not count:
        WARN(True, "iov_iter page extraction asked for no pages")
    if pages is None:
        if should_fail_alloc():
            return 0, None
        pages = [None] * count
    return count, pages


def _first_iovec_segment(i: iov_iter, maxsize: int) -> tuple[int, int]:
    """(address, size) of the first non-empty user segment, size capped."""
    if i.iter_type == ITER_UBUF:
        return i._ptr + i.iov_offset, maxsize
    skip = i.iov_offset
    for k in range(i._u):
        idx = i.vec_idx + k
        if not 0 <= idx < len(i._ptr):
            break
        seg = i._ptr[idx]
        n = seg.iov_len - skip
        if n > 0:
            return seg.iov_base + skip, min(maxsize, n)
        skip = 0
    raise KernelBug("user iov_iter has count but no non-empty segment")


def _user_pages(i: iov_iter, pages: list | None, maxsize: int, maxpages: int, flags: int,
                pin: bool) -> tuple[int, list | None, int]:
    gup_flags = 0
    if not i.data_source:
        gup_flags |= FOLL_WRITE
    if pin and flags & ITER_ALLOW_P2PDMA:
        gup_flags |= FOLL_PCI_P2PDMA
    if i.nofault:
        gup_flags |= FOLL_NOFAULT
    addr, maxsize = _first_iovec_segment(i, maxsize)
    offset = addr & _OFF
    count, pages = _want_pages_array(pages, maxsize, offset, maxpages)
    if not count:
        return -ENOMEM, pages, offset
    gup = pin_user_pages_fast if pin else get_user_pages_fast
    res, got = gup(addr & PAGE_MASK, count, gup_flags)
    out = _Out(pages)
    for page in got:
        out.add(page)
    if res <= 0:
        return res, pages, offset
    maxsize = min(maxsize, res * PAGE_SIZE - offset)
    iov_iter_advance(i, maxsize)
    return maxsize, pages, offset


def _cur_bvec(i: iov_iter):
    if not 0 <= i.vec_idx < len(i._ptr):
        raise KernelBug("ITER_BVEC has count but no bio_vec left in its array")
    return i._ptr[i.vec_idx]


def _nth_page(page: Page, n: int) -> Page:
    return pfn_to_page(page.pfn + n) if n else page


def _kvec_pages(i: iov_iter, pages: list | None, maxsize: int, maxpages: int
                ) -> tuple[int, list | None, int]:
    skip = i.iov_offset
    while True:
        if i._u == 0:
            return 0, pages, 0
        if not 0 <= i.vec_idx < len(i._ptr):
            raise KernelBug("ITER_KVEC extraction ran past the kvec array")
        seg = i._ptr[i.vec_idx]
        size = min(maxsize, seg.iov_len - skip)
        if size > 0:
            break
        i.iov_offset = 0
        i._u -= 1
        i.vec_idx += 1
        skip = 0
    kaddr = seg.iov_base + skip
    offset = kaddr & _OFF
    count, pages = _want_pages_array(pages, size, offset, maxpages)
    if not count:
        return -ENOMEM, pages, offset
    out = _Out(pages)
    kaddr -= offset
    for _ in range(count):
        # Only direct-map memory has a linear virt_to_page(); vmalloc and
        # vmapped stacks are looked up page by page.
        out.add(vmalloc_to_page(kaddr) if is_vmalloc_addr(kaddr) else virt_to_page(kaddr))
        kaddr += PAGE_SIZE
    size = min(size, count * PAGE_SIZE - offset)
    iov_iter_advance(i, size)
    return size, pages, offset


def _bvec_pages(i: iov_iter, pages: list | None, maxsize: int, maxpages: int
                ) -> tuple[int, list | None, int]:
    """Single-page pieces across bio_vecs, as long as each ends at a page
    end and the next starts at offset 0 (the bvec_iter walk)."""
    nr = i._u
    if nr == 0:
        return 0, pages, 0
    bvecs, first = i._ptr, i.vec_idx
    # Every bio_vec the walk may visit is in the array: checked once here,
    # so the loop indexes without a check of its own.
    if not 0 <= first < len(bvecs):
        raise KernelBug("ITER_BVEC has count but no bio_vec left in its array")
    skip = i.iov_offset
    if skip == bvecs[first].bv_len:
        i.iov_offset = 0
        i._u = nr = nr - 1
        i.vec_idx = first = first + 1
        skip = 0
    # The kernel sizes the array from the offset into the bio_vec, not into
    # the page, and does not check for an allocation failure here.
    count, pages = _want_pages_array(pages, maxsize, skip, maxpages)
    if not count:
        return -ENOMEM, pages, 0
    end = first + nr
    inside = end <= len(bvecs)
    # The walk indexes below ``stop`` only (the bounds were checked here
    # once), and BUGs if nr_segs sends it past the array.
    stop = end if inside else len(bvecs)
    # (count <= len(pages): the array was sized for it, or checked.)
    n, idx, done, left = 0, first, skip, maxsize
    while left:
        if idx >= stop:
            if not inside:
                raise KernelBug("ITER_BVEC extraction ran past the bio_vec array")
            break
        bv = bvecs[idx]
        if not (done or bv.bv_offset) and bv.bv_len == PAGE_SIZE and left >= PAGE_SIZE:
            # A whole page, the usual bio_vec: its piece is all of it, and
            # the walk goes on to the next bio_vec (unless the array is full).
            pages[n] = bv.bv_page
            n += 1
            left -= PAGE_SIZE
            idx += 1
            if n >= count:
                break
            continue
        # bvec_iter_bvec(): what is left of this bio_vec, cut at a page end.
        mp = bv.bv_offset + done
        off = mp & _OFF
        room = PAGE_SIZE - off
        ln = bv.bv_len - done
        if ln > left:
            ln = left
        if ln > room:
            ln = room
        if off and n:                   # only the first page may start at an offset
            break
        pages[n] = bv.bv_page if mp < PAGE_SIZE else _nth_page(bv.bv_page, mp // PAGE_SIZE)
        n += 1
        done += ln
        left -= ln
        if n >= count or ln != room:    # the array is full, or a page ends early
            break
        if done == bv.bv_len:           # bvec_iter_advance_single()
            idx += 1
            done = 0
    size = maxsize - left
    # The first piece's offset in its page (its bio_vec is bvecs[first]).
    offset0 = (bvecs[first].bv_offset + skip) & _OFF if n else 0
    if not inside:
        iter_advance(i, size)           # (it finds where the array runs out)
        return size, pages, offset0
    # iov_iter_advance(i, size), from where the walk stopped rather than
    # from the start: past every bio_vec used up, empty ones included.
    while idx < end and done >= bvecs[idx].bv_len:
        done -= bvecs[idx].bv_len
        idx += 1
    i.count -= size
    i.iov_offset = done
    i._u = end - idx
    i.vec_idx = idx
    return size, pages, offset0


def _folioq_pages(i: iov_iter, pages: list | None, maxsize: int, maxpages: int, ref: bool
                  ) -> tuple[int, list | None, int]:
    folioq, slot = i._ptr, i._u
    if slot >= PAGEVEC_SIZE:
        folioq, slot = folioq.next, 0
        if WARN(i.iov_offset != 0, "ITER_FOLIOQ extraction past a segment end at an offset"):
            return -EIO, pages, 0
        if folioq is None:
            raise KernelBug("ITER_FOLIOQ at the end of a segment with no next segment")
    offset0 = i.iov_offset & _OFF
    count, pages = _want_pages_array(pages, maxsize, offset0, maxpages)
    if not count:
        return -ENOMEM, pages, offset0
    out = _Out(pages)
    extracted = 0
    while True:
        if slot >= PAGEVEC_SIZE:
            raise KernelBug("ITER_FOLIOQ extraction ran past the last slot")
        folio = folioq.folios[slot]
        offset = i.iov_offset
        fsize = PAGE_SIZE << folioq.orders[slot]
        if offset < fsize:
            if folio is None:
                raise KernelBug("ITER_FOLIOQ extraction reached an empty slot")
            part = min(PAGE_SIZE - (offset & _OFF), maxsize - extracted, fsize - offset)
            i.count -= part
            i.iov_offset += part
            extracted += part
            page = folio_page(folio, offset // PAGE_SIZE)
            if ref:
                get_page(page)
            out.add(page)
        if out.n >= count or extracted >= maxsize:
            break
        if i.iov_offset >= fsize:
            i.iov_offset = 0
            slot += 1
            if slot == PAGEVEC_SIZE and folioq.next is not None:
                folioq, slot = folioq.next, 0
    i._ptr, i._u = folioq, slot
    return extracted, pages, offset0


def _bvecq_count_pages(i: iov_iter, maxsize: int, maxpages: int) -> int:
    """``iter_count_bvecq_pages()``: pages of the next virtually contiguous
    run (a bio_vec not starting on a page boundary, or not ending on one,
    ends it)."""
    bq, slot, offset = i._ptr, i._u & 0xFFFF, i.iov_offset
    remain, count = min(maxsize, i.count), 0
    while remain > 0 and count < maxpages:
        if slot >= bq.nr_slots:
            if bq.next is None:
                WARN(remain > 0, "ITER_BVECQ: chain shorter than count")
                break
            bq, slot, offset = bq.next, 0, 0
            continue
        bv = bq.bv[slot]
        slot += 1
        boff, blen = bv.bv_offset, bv.bv_len
        if bv.bv_page is None:
            if blen and count > 0:
                break
            continue
        if boff & _OFF and count > 0:
            break
        boff += offset
        blen -= offset
        offset = 0
        if not blen:
            continue
        blen = min(blen, remain)
        remain -= blen
        blen += boff & _OFF
        count += -(-blen // PAGE_SIZE)
        if blen & _OFF:
            break
    return min(count, maxpages)


def _bvecq_pages(i: iov_iter, pages: list | None, maxsize: int, maxpages: int
                 ) -> tuple[int, list | None, int]:
    """``iov_iter_extract_bvecq_pages()``: no references, no pins."""
    n = _bvecq_count_pages(i, maxsize, maxpages)
    if not n:
        return 0, pages, 0
    if pages is None:
        if should_fail_alloc():
            return -ENOMEM, None, 0
        pages = [None] * n
    out = _Out(pages)
    bq, slot, offset = i._ptr, i._u & 0xFFFF, i.iov_offset
    extracted, offset0 = 0, 0
    while out.n < n and extracted < maxsize:
        if slot >= bq.nr_slots:
            if bq.next is None:
                WARN(extracted < i.count, "ITER_BVECQ: chain shorter than count")
                break
            bq, slot, offset = bq.next, 0, 0
            continue
        bv = bq.bv[slot]
        blen = bv.bv_len if bv.bv_page is not None else 0
        if offset < blen:
            part = min(maxsize - extracted, blen - offset)
            poff = (bv.bv_offset + offset) & _OFF
            if poff + part > PAGE_SIZE:
                part = PAGE_SIZE - poff
            if not extracted:
                offset0 = poff
            out.add(_nth_page(bv.bv_page, (bv.bv_offset + offset) // PAGE_SIZE))
            offset += part
            extracted += part
        if offset >= blen:
            offset = 0
            slot += 1
    i._ptr, i._u, i.iov_offset = bq, slot, offset
    i.count -= extracted
    return extracted, pages, offset0


def _xarray_pages(i: iov_iter, pages: list | None, maxsize: int, maxpages: int, ref: bool
                  ) -> tuple[int, list | None, int]:
    """Pages of the folios at consecutive indices from the position; a hole
    ends the run."""
    pos = i._u + i.iov_offset
    index, offset = pos // PAGE_SIZE, pos & _OFF
    count, pages = _want_pages_array(pages, maxsize, offset, maxpages)
    if not count:
        return -ENOMEM, pages, offset
    out = _Out(pages)
    with rcu_read_section():
        while out.n < count:
            folio = xa_load(i._ptr, index)
            if folio is None or WARN(not isinstance(folio, Folio),
                                     f"ITER_XARRAY: non-folio entry {folio!r}"):
                break
            page = folio_page(folio, index & ((1 << folio.order) - 1))
            if ref:
                folio_get(folio)
            out.add(page)
            index += 1
    nr = out.n
    if ref and nr == 0:
        return 0, pages, offset
    if nr:
        maxsize = min(nr * PAGE_SIZE - offset, maxsize)
    elif quirk("iov_iter_extract_xarray_pages_underflow_v6_3_to_v7_1"):
        # Before the 2026 fix, nr * PAGE_SIZE - offset wrapped (unsigned)
        # when no page was found at a non-zero offset: the whole of maxsize
        # was reported, and skipped, with no page listed.
        maxsize = min((nr * PAGE_SIZE - offset) & _U32, maxsize)
    else:
        maxsize = 0
    if ref:
        i.iov_offset += maxsize
        i.count -= maxsize
    else:
        iov_iter_advance(i, maxsize)
    return maxsize, pages, offset


def _check_args(i: object, pages: object, maxsize: object, maxpages: object) -> None:
    if pages is None and type(i) is iov_iter and type(maxsize) is int and \
            type(maxpages) is int and maxsize >= 0 and maxpages >= 0:
        return                          # (checked without calls)
    check_iter(i)
    check_size("maxsize", maxsize)
    check_size("maxpages", maxpages)
    if pages is not None:
        if not isinstance(pages, list):
            raise TypeError(f"pages must be a list or None, got {type(pages).__name__}")
        if len(pages) < maxpages:
            raise ValueError(f"pages has room for {len(pages)} entries, maxpages is {maxpages}")


def iov_iter_extract_pages(i: iov_iter, pages: list | None, maxsize: int, maxpages: int,
                           extraction_flags: int = 0) -> tuple[int, list | None, int]:
    """``iov_iter_extract_pages()``: list the pages of up to ``maxsize``
    bytes (at most ``maxpages`` pages) and advance past them.

    Returns ``(bytes or -errno, pages, offset0)``; ``offset0`` is the offset
    into ``pages[0]``.  Pins for UBUF/IOVEC (FOLL_WRITE for ITER_DEST,
    FOLL_NOFAULT for nofault iterators, FOLL_PCI_P2PDMA with
    ITER_ALLOW_P2PDMA), nothing for the kernel-backed types, -EFAULT for
    DISCARD.  A pin that fails at once returns its -errno or 0 unchanged."""
    if pages is not None or type(i) is not iov_iter or type(maxsize) is not int or \
            type(maxpages) is not int or maxsize < 0 or maxpages < 0:
        _check_args(i, pages, maxsize, maxpages)    # (a driver's call passes inline)
    if maxsize > i.count:
        maxsize = i.count
    if maxsize > MAX_RW_COUNT:
        maxsize = MAX_RW_COUNT
    if not maxsize:
        return 0, pages, 0
    t = i.iter_type
    if t == ITER_BVEC:                  # (the block layer's and the drivers' case first)
        return _bvec_pages(i, pages, maxsize, maxpages)
    if t in (ITER_UBUF, ITER_IOVEC):
        return _user_pages(i, pages, maxsize, maxpages, extraction_flags, True)
    if t == ITER_KVEC:
        return _kvec_pages(i, pages, maxsize, maxpages)
    if t == ITER_BVECQ:
        return _bvecq_pages(i, pages, maxsize, maxpages)
    if t == ITER_FOLIOQ:
        return _folioq_pages(i, pages, maxsize, maxpages, False)
    if t == ITER_XARRAY:
        return _xarray_pages(i, pages, maxsize, maxpages, False)
    return -EFAULT, pages, 0


def _get_pages(i: iov_iter, pages: list | None, maxsize: int, maxpages: int
               ) -> tuple[int, list | None, int]:
    """``__iov_iter_get_pages_alloc()``: as extraction, with references."""
    maxsize = min(maxsize, i.count, MAX_RW_COUNT)
    if not maxsize:
        return 0, pages, 0
    t = i.iter_type
    if t in (ITER_UBUF, ITER_IOVEC):
        return _user_pages(i, pages, maxsize, maxpages, 0, False)
    if t == ITER_BVEC:
        bv = _cur_bvec(i)
        skip = i.iov_offset
        maxsize = min(maxsize, bv.bv_len - skip)
        skip += bv.bv_offset
        first, start = skip // PAGE_SIZE, skip & _OFF
        count, pages = _want_pages_array(pages, maxsize, start, maxpages)
        if not count:
            return -ENOMEM, pages, start
        out = _Out(pages)
        for k in range(count):
            page = _nth_page(bv.bv_page, first + k)
            if page.head.kind is not Kind.SLAB:
                folio_get(page.head)
            out.add(page)
        maxsize = min(maxsize, count * PAGE_SIZE - start)
        i.count -= maxsize
        i.iov_offset += maxsize
        if i.iov_offset == bv.bv_len:
            i.iov_offset = 0
            i.vec_idx += 1
            i._u -= 1
        return maxsize, pages, start
    if t == ITER_FOLIOQ:
        return _folioq_pages(i, pages, maxsize, maxpages, True)
    if t == ITER_XARRAY:
        return _xarray_pages(i, pages, maxsize, maxpages, True)
    return -EFAULT, pages, 0


def iov_iter_get_pages2(i: iov_iter, pages: list | None, maxsize: int, maxpages: int
                        ) -> tuple[int, list | None, int]:
    """``iov_iter_get_pages2()``: as extraction but taking a *reference* on
    each page (drop with put_page()); UBUF/IOVEC and BVEC give their first
    segment only; KVEC and DISCARD -EFAULT.  Returns ``(bytes or -errno,
    pages, start)``.  ``maxpages`` 0 returns 0; ``pages`` None is a BUG."""
    _check_args(i, pages, maxsize, maxpages)
    if not maxpages:
        return 0, pages, 0
    if pages is None:
        raise KernelBug("iov_iter_get_pages2() with no page array")
    return _get_pages(i, pages, maxsize, maxpages)


def iov_iter_get_pages_alloc2(i: iov_iter, maxsize: int) -> tuple[int, list | None, int]:
    """``iov_iter_get_pages_alloc2()``: as iov_iter_get_pages2() into a newly
    allocated array; ``(bytes, pages, start)``, with pages None when the
    result is <= 0."""
    _check_args(i, None, maxsize, 0)
    ret, pages, start = _get_pages(i, None, maxsize, _U32)
    if ret <= 0:
        pages = None
    return ret, pages, start
