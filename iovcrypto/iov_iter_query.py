"""lib/iov_iter.c, part two: queries that read an iterator without moving it.

iov_iter_single_seg_count, iov_iter_npages (and the uio.h inline
iov_iter_npages_cap), iov_iter_alignment, iov_iter_gap_alignment,
iov_iter_is_aligned (removed upstream in the v6.18 cycle, kept here for the
callers that still use it) and fault_in_iov_iter_readable/writeable.

The kernel's loops read segment after segment while bytes remain; if
``count`` claims more than the segments hold they read past the array,
which the model reports as a KernelBug.  Where a do-while loop reads the
current segment of an exhausted iterator (count 0) and that element does
not exist, the model treats it as contributing nothing.
"""

from __future__ import annotations

from iovcrypto.uio import (
    ITER_BVEC,
    ITER_BVECQ,
    ITER_FOLIOQ,
    ITER_IOVEC,
    ITER_KVEC,
    ITER_UBUF,
    ITER_XARRAY,
    check_iter,
    check_size,
    iov_iter,
)
from kmem import KernelBug, current_mm
from kmem.mm_types import PAGE_SIZE
from kmem.mmap import access_ok
from kmem.page_alloc import offset_in_page
from kmem.sanitizer import WARN

_U32 = 0xFFFFFFFF
_ULONG = (1 << 64) - 1


def _seg(i: iov_iter, k: int, exhausted_ok: bool = False):
    vec = i._ptr
    idx = i.vec_idx + k
    if 0 <= idx < len(vec):
        return vec[idx]
    if exhausted_ok:
        return None
    raise KernelBug(f"iov_iter query read past its segment array (element {idx} of {len(vec)})")


def _bvecq_pieces(i: iov_iter):
    """(offset within the bio_vec's block, length) of each bio_vec piece
    the next ``count`` bytes of an ITER_BVECQ iterator cover."""
    bq, slot, skip, size = i._ptr, i._u & 0xFFFF, i.iov_offset, i.count
    while bq is not None and size:
        if slot >= bq.nr_slots:
            bq, slot, skip = bq.next, 0, 0
            continue
        bv = bq.bv[slot]
        part = min(bv.bv_len - skip, size)
        yield bv.bv_offset + skip, part
        size -= part
        skip = 0
        slot += 1


def iov_iter_single_seg_count(i: iov_iter) -> int:
    """``iov_iter_single_seg_count()``: bytes left in the current segment
    (capped at ``count``); FOLIOQ: the current folio's size; else ``count``."""
    check_iter(i)
    t = i.iter_type
    if i._u > 1:
        if t in (ITER_IOVEC, ITER_KVEC):
            return min(i.count, _seg(i, 0).iov_len - i.iov_offset)
        if t == ITER_BVEC:
            return min(i.count, _seg(i, 0).bv_len - i.iov_offset)
    if t == ITER_BVECQ:
        if not i.count:
            return 0
        bq, slot, off = i._ptr, i._u & 0xFFFF, i.iov_offset
        while slot >= bq.nr_slots:
            bq = bq.next
            if bq is None:
                return 0
            slot, off = 0, 0
        return min(i.count, bq.bv[slot].bv_len - off)
    if t == ITER_FOLIOQ:
        if not i.count:
            return 0
        slot = i._u
        fsize = PAGE_SIZE << i._ptr.orders[slot] if slot < len(i._ptr.orders) else PAGE_SIZE
        return min(fsize, i.count)
    return i.count


def _div_round_up(n: int, d: int) -> int:
    return -(-n // d)


def iov_iter_npages(i: iov_iter, maxpages: int) -> int:
    """``iov_iter_npages()``: how many pages the next ``count`` bytes touch,
    at most ``maxpages``."""
    check_iter(i)
    check_size("maxpages", maxpages)
    if not i.count:
        return 0
    t = i.iter_type
    if t == ITER_UBUF:
        return min(_div_round_up(offset_in_page(i._ptr + i.iov_offset) + i.count, PAGE_SIZE),
                   maxpages)
    if t in (ITER_IOVEC, ITER_KVEC, ITER_BVEC):
        bvec = t == ITER_BVEC
        skip, size, npages, k = i.iov_offset, i.count, 0, 0
        while size:
            p = _seg(i, k)
            if bvec:
                offs = (p.bv_offset + skip) % PAGE_SIZE
                n = min(p.bv_len - skip, size)
            else:
                offs = offset_in_page(p.iov_base + skip)
                n = min(p.iov_len - skip, size)
            # Empty bio_vecs still count their page; empty iovecs do not.
            if n or bvec:
                size -= n
                npages += _div_round_up(offs + n, PAGE_SIZE)
                if npages > maxpages:
                    return maxpages
            skip = 0
            k += 1
        return npages
    if t == ITER_BVECQ:
        npages = 0
        for off, part in _bvecq_pieces(i):
            npages += _div_round_up(off % PAGE_SIZE + part, PAGE_SIZE)
            if npages >= maxpages:
                return maxpages
        return npages
    if t == ITER_FOLIOQ:
        return min(_div_round_up(i.iov_offset % PAGE_SIZE + i.count, PAGE_SIZE), maxpages)
    if t == ITER_XARRAY:
        return min(_div_round_up((i._u + i.iov_offset) % PAGE_SIZE + i.count, PAGE_SIZE),
                   maxpages)
    return 0


def iov_iter_npages_cap(i: iov_iter, maxpages: int, max_bytes: int) -> int:
    """``iov_iter_npages_cap()``: iov_iter_npages() of at most ``max_bytes``."""
    check_iter(i)
    shorted = 0
    if i.count > check_size("max_bytes", max_bytes):
        shorted = i.count - max_bytes
        i.count = max_bytes
    try:
        return iov_iter_npages(i, maxpages)
    finally:
        if shorted:
            i.count += shorted


def iov_iter_alignment(i: iov_iter) -> int:
    """``iov_iter_alignment()``: the OR of every segment start and length in
    the next ``count`` bytes (for BVEC: offsets, not addresses, in 32 bits
    as the kernel's ``unsigned`` accumulates them)."""
    check_iter(i)
    t = i.iter_type
    if t == ITER_UBUF:
        return ((i._ptr + i.iov_offset) | i.count) & _ULONG if i.count else 0
    if t in (ITER_IOVEC, ITER_KVEC):
        res, size, skip, k = 0, i.count, i.iov_offset, 0
        while True:
            p = _seg(i, k, exhausted_ok=not size)
            if p is None:
                return res
            n = p.iov_len - skip
            if n:
                res |= p.iov_base + skip
                n = min(n, size)
                res |= n
                size -= n
            k += 1
            skip = 0
            if not size:
                return res & _ULONG
    if t == ITER_BVEC:
        res, size, skip, k = 0, i.count, i.iov_offset, 0
        while True:
            p = _seg(i, k, exhausted_ok=not size)
            if p is None:
                return res
            n = p.bv_len - skip
            res |= (p.bv_offset + skip) & _U32
            n = min(n, size)
            res = (res | n) & _U32
            k += 1
            size -= n
            skip = 0
            if not size:
                return res
    if t == ITER_BVECQ:
        res = 0
        for off, part in _bvecq_pieces(i):
            res |= off | part
        return res & _U32
    if t == ITER_FOLIOQ:
        return i.iov_offset | i.count
    if t == ITER_XARRAY:
        return (i._u + i.iov_offset) | i.count
    return 0


def iov_iter_gap_alignment(i: iov_iter) -> int:
    """``iov_iter_gap_alignment()``: OR of (start | previous end) over
    consecutive non-empty iovecs from the current one (iov_offset is
    ignored, as in the kernel).  UBUF: 0; other types WARN and give ~0U."""
    check_iter(i)
    if i.iter_type == ITER_UBUF:
        return 0
    if WARN(i.iter_type != ITER_IOVEC, "iov_iter_gap_alignment() on a non-IOVEC iterator"):
        return _U32
    res = v = 0
    size = i.count
    for k in range(i._u):
        p = _seg(i, k)
        if p.iov_len:
            base = p.iov_base
            if v:
                res |= base | v
            v = base + p.iov_len
            if size <= p.iov_len:
                break
            size -= p.iov_len
    return res


def iov_iter_is_aligned(i: iov_iter, addr_mask: int, len_mask: int) -> bool:
    """``iov_iter_is_aligned()``: False if any segment address or length in
    the next ``count`` bytes intersects the masks.  XARRAY and FOLIOQ check
    only (start, count)."""
    check_iter(i)
    check_size("addr_mask", addr_mask)
    check_size("len_mask", len_mask)
    t = i.iter_type
    if t == ITER_UBUF:
        return not (i.count & len_mask or (i._ptr + i.iov_offset) & addr_mask)
    if t in (ITER_IOVEC, ITER_KVEC, ITER_BVEC):
        bvec = t == ITER_BVEC
        size, skip, k = i.count, i.iov_offset, 0
        while True:
            p = _seg(i, k, exhausted_ok=not size)
            if p is None:
                return True
            if bvec:
                n, addr = p.bv_len - skip, p.bv_offset + skip
            else:
                n, addr = p.iov_len - skip, p.iov_base + skip
            n = min(n, size)
            if n & len_mask or addr & addr_mask:
                return False
            k += 1
            size -= n
            skip = 0
            if not size:
                return True
    if t == ITER_BVECQ:
        return not any(part & len_mask or off & addr_mask for off, part in _bvecq_pieces(i))
    if t == ITER_XARRAY:
        return not (i.count & len_mask or (i._u + i.iov_offset) & addr_mask)
    if t == ITER_FOLIOQ:
        return not (i.count & len_mask or i.iov_offset & addr_mask)
    return True


def _fault_in(uaddr: int, n: int, write: bool) -> int:
    """Bytes of [uaddr, uaddr+n) that could NOT be faulted in."""
    if not n:
        return 0
    if not access_ok(uaddr, n):
        return n
    _, ok = current_mm().user_views(uaddr, n, write)
    return n - ok


def _fault_in_iter(i: iov_iter, size: int, write: bool) -> int:
    check_iter(i)
    size = check_size("size", size)
    if i.iter_type == ITER_UBUF:
        n = min(size, i.count)
        n -= _fault_in(i._ptr + i.iov_offset, n, write)
        return size - n
    if i.iter_type == ITER_IOVEC:
        count = min(size, i.count)
        size -= count
        skip, k = i.iov_offset, 0
        while count:
            p = _seg(i, k)
            n = min(count, p.iov_len - skip)
            k += 1
            if n:
                left = _fault_in(p.iov_base + skip, n, write)
                count -= n - left
                if left:
                    break
            skip = 0
        return count + size
    return 0


def fault_in_iov_iter_readable(i: iov_iter, size: int) -> int:
    """``fault_in_iov_iter_readable()``: fault in up to ``size`` bytes of a
    user-backed iterator; returns the bytes NOT faulted in (0 for kernel
    iterators)."""
    return _fault_in_iter(i, size, False)


def fault_in_iov_iter_writeable(i: iov_iter, size: int) -> int:
    """``fault_in_iov_iter_writeable()``: as above, for writing."""
    return _fault_in_iter(i, size, True)
