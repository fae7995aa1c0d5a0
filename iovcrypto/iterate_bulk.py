"""Copies over a whole segment array at once (model helper, no kernel twin).

copy_to_iter() and copy_from_iter() over an ITER_BVEC, ITER_KVEC or
ITER_FOLIOQ iterator describe the segments the copy will touch as numpy
(physical address, length) arrays in one pass, let kmem.bulk check and copy
them, and set the iterator where iterate_and_advance() would have left it.
Anything kmem.bulk does not accept (a record to make, a fault, memory it
cannot check in bulk) and anything unusual about the segment array (too
few segments to be worth it, a malformed entry, a count past the array)
answers None, and the caller walks segment by segment as before: the bytes,
the return value, the iterator's final state and the sanitizer ledger are
the same either way (tests/test_iov_iter/test_bulk.py compares them).

Every segment-array type plugs in the same way: a describer that returns
the ranges for the next ``n`` bytes and a function that moves the iterator
past them.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter

import numpy as np

from iovcrypto.uio import ITER_BVEC, ITER_FOLIOQ, ITER_KVEC, iov_iter
from kmem import PAGE_SHIFT, PAGE_SIZE
from kmem.bulk import Ranges, copy_ranges, range_views, resolve_ranges
from kmem.folio_queue import PAGEVEC_SIZE
from kmem.page_alloc import DEVICE_PFN_BASE, PAGE_OFFSET

#: Fewer segments than this are cheaper to walk one by one.
BULK_MIN_SEGS = 8

_bv_len = attrgetter("bv_len")
_bv_offset = attrgetter("bv_offset")
_bv_pfn = attrgetter("bv_page.pfn")
_bv_freed = attrgetter("bv_page.head.freed")
_iov_len = attrgetter("iov_len")
_iov_base = attrgetter("iov_base")
_DIRECT_MAP_END = PAGE_OFFSET + (DEVICE_PFN_BASE << PAGE_SHIFT)

Described = tuple[np.ndarray, np.ndarray, Callable[[], None]]


def _window(it: iov_iter, n: int) -> list | None:
    """The array entries a copy of ``n`` bytes may reach (a bounded guess:
    a window that falls short sends the copy down the per-segment path)."""
    nseg = it._u
    if nseg < BULK_MIN_SEGS or not isinstance(it._ptr, list):
        return None
    idx = it.vec_idx
    return it._ptr[idx:idx + min(nseg, (n >> 9) + 2 * BULK_MIN_SEGS)]


def _cut(n: int, lens: np.ndarray) -> tuple[int, np.ndarray, bool] | None:
    """Trim the window's lengths (first already reduced by the iterator's
    offset) to ``n`` bytes; returns (index of the last segment, lengths,
    whether the bytes end exactly at that segment's end)."""
    if len(lens) == 0 or lens.min() < 0:
        return None
    cum = np.cumsum(lens)
    if cum[-1] < n:
        return None
    j = int(np.searchsorted(cum, n))
    if j + 1 < BULK_MIN_SEGS:
        return None
    over = int(cum[j]) - n
    lens = lens[:j + 1].copy()
    lens[j] -= over
    return j, lens, over == 0


def _vec_commit(it: iov_iter, n: int, j: int, lens: np.ndarray, full: bool) -> Callable[[], None]:
    """Where _iterate_bvec()/_iterate_vec() leave the iterator after ``n``
    bytes ending in window segment ``j`` (``full``: at its very end)."""
    def commit() -> None:
        idx = it.vec_idx
        if full:
            new_idx, skip = idx + j + 1, 0
        else:
            new_idx = idx + j
            skip = (it.iov_offset if j == 0 else 0) + int(lens[j])
        it._u -= new_idx - idx
        it.vec_idx = new_idx
        it.iov_offset = skip
        it.count -= n
    return commit


def _describe_bvec(it: iov_iter, n: int) -> Described | None:
    win = _window(it, n)
    if win is None:
        return None
    k = len(win)
    lens = np.fromiter(map(_bv_len, win), np.int64, k)
    offs = np.fromiter(map(_bv_offset, win), np.int64, k)
    pfns = np.fromiter(map(_bv_pfn, win), np.int64, k)
    if any(map(_bv_freed, win)) or offs.min() < 0:
        return None                 # a stale struct page is recorded per segment
    lens[0] -= it.iov_offset
    offs[0] += it.iov_offset
    cut = _cut(n, lens)
    if cut is None:
        return None
    j, lens, full = cut
    phys = (pfns[:j + 1] << PAGE_SHIFT) + offs[:j + 1]
    return phys, lens, _vec_commit(it, n, j, lens, full)


def _describe_kvec(it: iov_iter, n: int) -> Described | None:
    win = _window(it, n)
    if win is None:
        return None
    k = len(win)
    lens = np.fromiter(map(_iov_len, win), np.int64, k)
    bases = np.fromiter(map(_iov_base, win), np.uint64, k)
    # Only the direct map is checked in bulk (vmalloc, stack: per segment).
    if bases.min() < PAGE_OFFSET or bases.max() >= _DIRECT_MAP_END:
        return None
    offs = (bases - np.uint64(PAGE_OFFSET)).astype(np.int64)
    lens[0] -= it.iov_offset
    offs[0] += it.iov_offset
    cut = _cut(n, lens)
    if cut is None:
        return None
    j, lens, full = cut
    return offs[:j + 1], lens, _vec_commit(it, n, j, lens, full)


def _describe_folioq(it: iov_iter, n: int) -> Described | None:
    """The folios of the queue from the iterator's slot, as _iterate_folioq()
    would reach them; a hole (an empty slot: the walk stops short) or the
    end of the queue before ``n`` bytes leaves it to the per-slot walk."""
    fq, slot, skip = it._ptr, it._u, it.iov_offset
    if slot == PAGEVEC_SIZE:
        fq, slot = fq.next, 0
        if fq is None:
            return None
    pfns, sizes = [], []
    want = n + skip
    got = 0
    while got < want:
        if slot >= PAGEVEC_SIZE:
            return None
        folio = fq.folios[slot]
        if folio is None or folio.freed:
            return None
        size = PAGE_SIZE << fq.orders[slot]
        pfns.append(folio.pfn)
        sizes.append(size)
        got += size
        last_fq, last_slot = fq, slot
        slot += 1
        if slot == PAGEVEC_SIZE and fq.next is not None:
            fq, slot = fq.next, 0
    if len(pfns) < BULK_MIN_SEGS or skip >= sizes[0]:
        return None
    lens = np.array(sizes, dtype=np.int64)
    phys = np.array(pfns, dtype=np.int64) << PAGE_SHIFT
    lens[0] -= skip
    phys[0] += skip
    over = got - want
    lens[-1] -= over

    def commit() -> None:
        if over:
            it._ptr, it._u, it.iov_offset = last_fq, last_slot, sizes[-1] - over
        else:
            it._ptr, it._u, it.iov_offset = fq, slot, 0
        it.count -= n
    return phys, lens, commit


_DESCRIBE = {ITER_BVEC: _describe_bvec, ITER_KVEC: _describe_kvec,
             ITER_FOLIOQ: _describe_folioq}


def _resolve(it: iov_iter, n: int) -> tuple[Ranges, Callable[[], None]] | None:
    describe = _DESCRIBE.get(it.iter_type)
    if describe is None:
        return None
    try:
        d = describe(it, n)
    except (AttributeError, TypeError, ValueError, OverflowError):
        return None                 # a malformed entry: the walk says what is wrong
    if d is None:
        return None
    phys, lens, commit = d
    nz = lens > 0
    if not nz.all():
        phys, lens = phys[nz], lens[nz]
    r = resolve_ranges(phys, lens)
    return None if r is None else (r, commit)


def bulk_spans(it: iov_iter, n: int) -> list[np.ndarray] | None:
    """The views of the next ``min(n, count)`` bytes, one per segment (what
    iterate_and_advance2() with page_steps=False and a collecting step
    gives), advancing the iterator past them; None (nothing done) if the
    per-segment path must resolve them."""
    n = min(n, it.count)
    if n <= 0:
        return None
    got = _resolve(it, n)
    if got is None:
        return None
    r, commit = got
    commit()
    return range_views(r)


def bulk_copy(it: iov_iter, n: int, buf: np.ndarray, to_iter: bool) -> bool:
    """Copy ``n`` bytes (0 < n <= it.count) between the iterator and the
    contiguous ``buf`` and advance the iterator, if the bulk path can;
    False (nothing done) if the per-segment path must."""
    got = _resolve(it, n)
    if got is None:
        return False
    r, commit = got
    copy_ranges(r, buf, to_iter)
    commit()
    return True
