"""lib/iov_iter.c, part two: position management.  iov_iter_advance()
and iov_iter_revert() for every iterator type, iov_iter_truncate() and
iov_iter_reexpand() (static inlines of uio.h), iov_iter_save_state() and
iov_iter_restore().  ``iter_advance`` is the advance for the model's own
callers, whose arguments are known good.
"""

from __future__ import annotations

from typing import Any

from iovcrypto.iterate_bulk import BULK_ADVANCE_MIN, bulk_advance
from iovcrypto.uio import (
    ITER_BVEC,
    ITER_BVECQ,
    ITER_DISCARD,
    ITER_FOLIOQ,
    ITER_IOVEC,
    ITER_KVEC,
    ITER_UBUF,
    ITER_XARRAY,
    MAX_RW_COUNT,
    check_iter,
    check_size,
    iov_iter,
    iov_iter_state,
)
from kmem import PAGE_SIZE, KernelBug
from kmem.folio_queue import PAGEVEC_SIZE
from kmem.sanitizer import WARN

# Position management.

def _elem(i: iov_iter, idx: int) -> Any:
    vec = i._ptr
    if not 0 <= idx < len(vec):
        raise KernelBug(f"iov_iter stepped outside its segment array (element {idx} of "
                        f"{len(vec)})")
    return vec[idx]


def _vec_advance(i: iov_iter, size: int, bvec: bool) -> None:
    if not i.count:
        return
    idx, vec, nsegs = i.vec_idx, i._ptr, i._u
    end = idx + nsegs
    # The array bounds are checked once for every element the loop may
    # visit; otherwise _elem() checks each and says where it ran out.
    inside = idx >= 0 and end <= len(vec)
    if nsegs >= BULK_ADVANCE_MIN and inside and bulk_advance(i, size, bvec):
        return
    i.count -= size
    size += i.iov_offset
    start = idx
    if not inside:
        while idx < end:
            seg = _elem(i, idx)
            n = seg.bv_len if bvec else seg.iov_len
            if size < n:
                break
            size -= n
            idx += 1
    elif bvec:
        while idx < end and size >= vec[idx].bv_len:
            size -= vec[idx].bv_len
            idx += 1
    else:
        while idx < end and size >= vec[idx].iov_len:
            size -= vec[idx].iov_len
            idx += 1
    i.iov_offset = size
    i._u = nsegs - (idx - start)
    i.vec_idx = idx


def _folioq_advance(i: iov_iter, size: int) -> None:
    if not i.count:
        return
    i.count -= size
    folioq, slot = i._ptr, i._u
    if slot >= PAGEVEC_SIZE:
        folioq, slot = folioq.next, 0
    size += i.iov_offset
    while True:
        if folioq is None or slot >= PAGEVEC_SIZE:
            raise KernelBug("iov_iter_advance() ran off the end of the folio queue")
        fsize = PAGE_SIZE << folioq.orders[slot]
        if size < fsize:
            break
        size -= fsize
        slot += 1
        if slot >= PAGEVEC_SIZE and folioq.next is not None:
            folioq, slot = folioq.next, 0
        if not size:
            break
    i.iov_offset = size
    i._u = slot
    i._ptr = folioq


def _bvecq_seek(bq: Any, slot: int, by: int) -> tuple[Any, int, int]:
    """From (bq, slot, offset 0) + ``by`` bytes: the position (bq, slot,
    offset), skipping ended segments as iov_iter_bvecq_advance() does."""
    while True:
        if slot >= bq.nr_slots:
            if bq.next is None:
                break
            bq, slot = bq.next, 0
            continue
        n = bq.bv[slot].bv_len
        if by < n:
            break
        by -= n
        slot += 1
        if not by:
            break
    return bq, slot, by


def _bvecq_advance(i: iov_iter, size: int) -> None:
    if not i.count:
        return
    i.count -= size
    bq, slot, off = _bvecq_seek(i._ptr, i._u & 0xFFFF, size + i.iov_offset)
    i._ptr, i.iov_offset = bq, off
    i._u = slot


def _bvecq_position(i: iov_iter) -> int:
    """Bytes from the stored starting point to the current position."""
    bq, slot, off, _count = i._start
    pos = -off
    while not (bq is i._ptr and slot == (i._u & 0xFFFF)):
        if slot >= bq.nr_slots:
            if bq.next is None:
                raise KernelBug("ITER_BVECQ position not reachable from its start")
            bq, slot = bq.next, 0
            continue
        pos += bq.bv[slot].bv_len
        slot += 1
    return pos + i.iov_offset


def _bvecq_revert(i: iov_iter, unroll: int) -> None:
    """Reset to the stored start and advance to ``unroll`` before here."""
    pos = _bvecq_position(i) - unroll
    if pos < 0:
        raise KernelBug("iov_iter_revert() before the start of the bvecq iterator")
    bq, slot, off, _count = i._start
    bq, slot, off = _bvecq_seek(bq, slot, off + pos)
    i._ptr, i._u, i.iov_offset = bq, slot, off


def iov_iter_advance(i: iov_iter, size: int) -> None:
    """``iov_iter_advance()``: skip ``size`` bytes (at most ``count``).
    Vector types skip every segment the new position reaches the end of,
    empty ones included."""
    check_iter(i)
    iter_advance(i, check_size("size", size))


def iter_advance(i: iov_iter, size: int) -> None:
    """iov_iter_advance() for the model's own callers, whose arguments are
    already known good (an iov_iter and a size_t)."""
    count = i.count
    if count < size:
        size = count
    t = i.iter_type
    if t in (ITER_BVEC, ITER_KVEC, ITER_IOVEC):
        idx, vec, nsegs = i.vec_idx, i._ptr, i._u
        if nsegs >= BULK_ADVANCE_MIN and count and 0 <= idx < len(vec):
            # Over a long array, the common advance stays in the current
            # segment, or ends exactly at its end with no empty segment
            # after it: O(1), here, rather than a bulk search.
            bvec = t == ITER_BVEC
            off = i.iov_offset + size
            seg = vec[idx]
            n = seg.bv_len if bvec else seg.iov_len
            if off < n:
                i.count = count - size
                i.iov_offset = off
                return
            if off == n and idx + 1 < len(vec) and (
                    vec[idx + 1].bv_len if bvec else vec[idx + 1].iov_len):
                i.count = count - size
                i.iov_offset = 0
                i._u = nsegs - 1
                i.vec_idx = idx + 1
                return
        _vec_advance(i, size, t == ITER_BVEC)
    elif t in (ITER_UBUF, ITER_XARRAY):
        i.iov_offset += size
        i.count -= size
    elif t == ITER_BVECQ:
        _bvecq_advance(i, size)
    elif t == ITER_FOLIOQ:
        _folioq_advance(i, size)
    elif t == ITER_DISCARD:
        i.count -= size


def iov_iter_revert(i: iov_iter, unroll: int) -> None:
    """``iov_iter_revert()``: step back ``unroll`` bytes.  WARN and no-op
    above MAX_RW_COUNT; BUG before the start of a UBUF/XARRAY range; vector
    and folio-queue types walk back across segments (and BUG here if they
    would walk off the front of the array or queue)."""
    check_iter(i)
    unroll = check_size("unroll", unroll)
    if not unroll:
        return
    if WARN(unroll > MAX_RW_COUNT, f"iov_iter_revert({unroll}) beyond MAX_RW_COUNT"):
        return
    t = i.iter_type
    if t == ITER_BVECQ:
        _bvecq_revert(i, unroll)
        i.count += unroll
        return
    i.count += unroll
    if t == ITER_DISCARD:
        return
    if unroll <= i.iov_offset:
        i.iov_offset -= unroll
        return
    unroll -= i.iov_offset
    if t in (ITER_XARRAY, ITER_UBUF):
        raise KernelBug("iov_iter_revert() before the start of the iterator's range")
    if t == ITER_FOLIOQ:
        i.iov_offset = 0
        folioq, slot = i._ptr, i._u
        while True:
            if slot == 0:
                folioq = folioq.prev
                if folioq is None:
                    raise KernelBug("iov_iter_revert() before the head of the folio queue")
                slot = PAGEVEC_SIZE
            slot -= 1
            fsize = PAGE_SIZE << folioq.orders[slot]
            if unroll <= fsize:
                i.iov_offset = fsize - unroll
                break
            unroll -= fsize
        i._u = slot
        i._ptr = folioq
        return
    bvec = t == ITER_BVEC
    idx = i.vec_idx
    while True:
        idx -= 1
        if idx < 0:
            raise KernelBug("iov_iter_revert() before the first segment")
        seg = i._ptr[idx]
        n = seg.bv_len if bvec else seg.iov_len
        i._u += 1
        if unroll <= n:
            i.vec_idx = idx
            i.iov_offset = n - unroll
            return
        unroll -= n


def iov_iter_truncate(i: iov_iter, count: int) -> None:
    """``iov_iter_truncate()``: cap ``count`` (a larger value does nothing)."""
    check_iter(i)
    if i.count > check_size("count", count):
        i.count = count


def iov_iter_reexpand(i: iov_iter, count: int) -> None:
    """``iov_iter_reexpand()``: set ``count`` back; the caller guarantees it
    is no more than the iterator was truncated by."""
    check_iter(i)
    i.count = check_size("count", count)


def iov_iter_save_state(iter: iov_iter, state: iov_iter_state | None = None
                        ) -> iov_iter_state:
    """``iov_iter_save_state()``: fills ``state`` (a new one if None) and
    returns it."""
    check_iter(iter)
    if state is None:
        state = iov_iter_state()
    state.iov_offset, state.count, state.nr_segs = iter.iov_offset, iter.count, iter._u
    return state


def iov_iter_restore(i: iov_iter, state: iov_iter_state) -> None:
    """``iov_iter_restore()``: for BVEC, IOVEC, UBUF and KVEC.  As in the
    kernel, KVEC trips the WARN (operator precedence) but is restored;
    FOLIOQ, XARRAY and DISCARD WARN and are left as they are."""
    check_iter(i)
    t = i.iter_type
    if WARN(t not in (ITER_BVEC, ITER_IOVEC, ITER_UBUF),
            f"iov_iter_restore() on iter_type {t}") and t != ITER_KVEC:
        return
    i.iov_offset = state.iov_offset
    i.count = state.count
    if t == ITER_UBUF:
        return
    idx = i.vec_idx - (state.nr_segs - i._u)
    if idx < 0:
        raise KernelBug("iov_iter_restore() to before the first segment")
    i.vec_idx = idx
    i._u = state.nr_segs
