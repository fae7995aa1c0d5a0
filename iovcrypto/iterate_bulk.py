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
past them.  User memory (ITER_IOVEC, ITER_UBUF) is resolved through the
address space's page table (kmem.mmap) when every page is present and the
access allowed; a page that would fault leaves the copy to the walk, which
faults exactly as before.

The numpy columns of a segment array (bio_vec, kvec and iovec arrays, the
bio_vec arrays of an ITER_BVECQ chain) are kept with the array and reused
while it is unchanged.  A kept description is used only if (1) no field of
any segment has been stored since it was made (uio.segment_stores), (2) for
bio_vecs, no folio has been freed since (the freed check it made still
holds: kmem.page_alloc.frees), and (3) the entries it covers are the very
entries now in the array.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter

import numpy as np

import iovcrypto.uio as _uio
from iovcrypto.uio import (
    ITER_BVEC,
    ITER_BVECQ,
    ITER_FOLIOQ,
    ITER_IOVEC,
    ITER_KVEC,
    ITER_UBUF,
    iov_iter,
)
from kmem import PAGE_SHIFT, PAGE_SIZE
from kmem.bulk import Ranges, copy_ranges, range_views, resolve_ranges
from kmem.folio_queue import PAGEVEC_SIZE
from kmem.mmap import current
from kmem.page_alloc import BANK_SHIFT, DEVICE_PFN_BASE, PAGE_OFFSET, PFN_BASE, frees

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

_BV_COLS = ((_bv_len, np.int64), (_bv_offset, np.int64), (_bv_pfn, np.int64))
_IOV_COLS = ((_iov_len, np.int64), (_iov_base, np.uint64))
_UIOV_COLS = ((_iov_len, np.int64), (_iov_base, np.int64))


class _Kept:
    """The columns of one segment array, with what they were made from."""

    __slots__ = ("cols", "key", "snap", "vec")

    def __init__(self, vec: list, key: tuple, cols: object) -> None:
        self.vec, self.key, self.cols = vec, key, cols
        self.snap = list(vec)


#: Kept descriptions by id() of the array (the entry holds the array, so
#: the id cannot be reused while it is here); the oldest go first once
#: more than KEPT_MAX arrays or KEPT_ENTRIES entries in all are kept.
_kept: dict[int, _Kept] = {}
KEPT_MAX = 1024
KEPT_ENTRIES = 1 << 20
_kept_entries = [0]


def _keep(vec: list, key: tuple, cols: object) -> None:
    old = _kept.pop(id(vec), None)
    if old is not None:
        _kept_entries[0] -= len(old.snap)
    while _kept and (len(_kept) >= KEPT_MAX or _kept_entries[0] + len(vec) > KEPT_ENTRIES):
        _kept_entries[0] -= len(_kept.pop(next(iter(_kept))).snap)
    _kept[id(vec)] = _Kept(vec, key, cols)
    _kept_entries[0] += len(vec)


def _stamp(cols: tuple) -> tuple:
    # What must not have moved for a kept description to be used.
    return (_uio.segment_stores, frees[0]) if cols is _BV_COLS else (_uio.segment_stores,)


def _columns(vec: list, idx: int, k: int, cols: tuple) -> list[np.ndarray] | None:
    """The columns (one array per getter of ``cols``) of ``vec[idx:idx + k]``,
    from the description kept with ``vec`` while it holds; a bio_vec on a
    freed folio answers None (recorded per segment)."""
    win = vec[idx:idx + k]
    key = _stamp(cols)
    kept = _kept.get(id(vec))
    if (kept is not None and kept.vec is vec and kept.key == key
            and kept.snap[idx:idx + k] == win):
        return [c[idx:idx + len(win)] for c in kept.cols]
    # Describe the whole array when the window is most of it (then it is
    # worth keeping); a small window into a huge array is described alone,
    # so that repeated small copies stay linear.
    whole = len(vec) <= 2 * len(win) + 64
    src = vec if whole else win
    out = [np.fromiter(map(get, src), dt, len(src)) for get, dt in cols]
    if cols is _BV_COLS and any(map(_bv_freed, src)):
        return None                 # a stale struct page is recorded per segment
    if not whole:
        return out
    _keep(vec, key, out)
    return [c[idx:idx + len(win)] for c in out]


def _cut(n: int, lens: np.ndarray, min_segs: int = BULK_MIN_SEGS
         ) -> tuple[int, np.ndarray, bool] | None:
    """Trim the window's lengths (first already reduced by the iterator's
    offset) to ``n`` bytes; returns (index of the last segment, lengths,
    whether the bytes end exactly at that segment's end)."""
    if len(lens) == 0 or lens.min() < 0:
        return None
    cum = np.cumsum(lens)
    if cum[-1] < n:
        return None
    j = int(np.searchsorted(cum, n))
    if j + 1 < min_segs:
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


def _window(it: iov_iter, n: int, min_segs: int = BULK_MIN_SEGS) -> int:
    """How many array entries a copy of ``n`` bytes may reach (a bounded
    guess: a window that falls short sends the copy down the per-segment
    path); 0 when the bulk path is not for this iterator."""
    nseg = it._u
    if nseg < min_segs or not isinstance(it._ptr, list):
        return 0
    return min(nseg, (n >> 9) + 2 * BULK_MIN_SEGS)


def _describe_bvec(it: iov_iter, n: int) -> Described | None:
    k = _window(it, n)
    got = _columns(it._ptr, it.vec_idx, k, _BV_COLS) if k else None
    if got is None:
        return None
    lens, offs, pfns = got
    if offs.min() < 0:
        return None
    lens = lens.copy()
    offs = offs.copy()
    lens[0] -= it.iov_offset
    offs[0] += it.iov_offset
    cut = _cut(n, lens)
    if cut is None:
        return None
    j, lens, full = cut
    phys = (pfns[:j + 1] << PAGE_SHIFT) + offs[:j + 1]
    return phys, lens, _vec_commit(it, n, j, lens, full)


def _describe_kvec(it: iov_iter, n: int) -> Described | None:
    k = _window(it, n)
    got = _columns(it._ptr, it.vec_idx, k, _IOV_COLS) if k else None
    if got is None:
        return None
    lens, bases = got
    lens = lens.copy()
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


def _folioq_columns(fq: object) -> tuple[np.ndarray, np.ndarray, int]:
    """The pfn and size of each slot of one folio_queue segment, and the
    first slot the walk cannot pass (a hole or a freed folio), kept with
    the segment's slot list while its folios, orders and the count of
    frees are unchanged."""
    folios, orders = fq.folios, fq.orders
    key = (frees[0], tuple(orders))
    kept = _kept.get(id(folios))
    if kept is not None and kept.vec is folios and kept.key == key and kept.snap == folios:
        return kept.cols
    stop = next((k for k, f in enumerate(folios) if f is None or f.freed), len(folios))
    pfns = np.fromiter((f.pfn for f in folios[:stop]), np.int64, stop)
    orders_ = np.fromiter(orders[:stop], np.int64, stop)
    if stop and not 0 <= orders_.min() <= orders_.max() < 32:
        stop = 0                    # an order the walk would choke on: its to report
    cols = (pfns[:stop], PAGE_SIZE << orders_[:stop], stop)
    _keep(folios, key, cols)
    return cols


def _describe_folioq(it: iov_iter, n: int) -> Described | None:
    """The folios of the queue from the iterator's slot, as _iterate_folioq()
    would reach them; a hole (an empty slot: the walk stops short) or the
    end of the queue before ``n`` bytes leaves it to the per-slot walk."""
    fq, slot, skip = it._ptr, it._u, it.iov_offset
    if slot == PAGEVEC_SIZE:
        fq, slot = fq.next, 0
        if fq is None:
            return None
    parts_p, parts_s = [], []
    want = n + skip
    got = 0
    while True:
        if slot >= PAGEVEC_SIZE:
            return None
        pfns, sizes, stop = _folioq_columns(fq)
        if len(fq.folios) != PAGEVEC_SIZE:
            return None
        # The slots this segment gives, up to a hole (which ends the walk).
        pfns, sizes = pfns[slot:], sizes[slot:]
        parts_p.append(pfns)
        parts_s.append(sizes)
        got += int(sizes.sum())
        if got >= want:
            break
        if stop < PAGEVEC_SIZE or fq.next is None:
            return None
        fq, slot = fq.next, 0
    if len(parts_s) == 1:
        pfns, sizes = parts_p[0], parts_s[0].copy()
    else:
        pfns, sizes = np.concatenate(parts_p), np.concatenate(parts_s)
    if skip >= sizes[0]:
        return None
    lens = sizes
    lens[0] -= skip
    cut = _cut(n, lens)
    if cut is None:
        return None
    j, lens, full = cut
    # Where the walk leaves the queue: in the last folio's segment and slot
    # if it ends inside it, else at the next slot (the next segment's first
    # once this one's slots are all passed and a next segment exists).
    last_fq, last_slot = fq, slot + j - (len(pfns) - len(parts_p[-1]))

    def commit() -> None:
        if not full:
            it._ptr, it._u, it.iov_offset = last_fq, last_slot, int(lens[j]) + (
                skip if j == 0 else 0)
        elif last_slot + 1 == PAGEVEC_SIZE and last_fq.next is not None:
            it._ptr, it._u, it.iov_offset = last_fq.next, 0, 0
        else:
            it._ptr, it._u, it.iov_offset = last_fq, last_slot + 1, 0
        it.count -= n
    phys = pfns[:j + 1] << PAGE_SHIFT
    phys[0] += skip
    return phys, lens, commit


def _describe_bvecq(it: iov_iter, n: int) -> Described | None:
    """The bio_vecs of the chain from the iterator's slot, as
    _iterate_bvecq() would reach them (whole segments of the chain at a
    time); the chain ending before ``n`` bytes leaves it to the walk."""
    bq, slot, skip = it._ptr, it._u & 0xFFFF, it.iov_offset
    parts: list[list[np.ndarray]] = []
    where: list[tuple[object, int]] = []     # (segment, first slot) of each part
    got = -skip
    while got < n:
        nr = bq.nr_slots
        if slot >= nr:
            bq, slot = bq.next, 0
            if bq is None:
                return None
            continue
        cols = _columns(bq.bv, slot, nr - slot, _BV_COLS)
        if cols is None or len(cols[0]) != nr - slot:
            return None
        parts.append(cols)
        where.append((bq, slot))
        got += int(cols[0].sum())
        slot = nr
    if not parts:
        return None
    lens, offs, pfns = (np.concatenate(c) for c in zip(*parts))
    if offs.min() < 0:
        return None
    lens[0] -= skip
    offs[0] += skip
    cut = _cut(n, lens)
    if cut is None:
        return None
    j, lens, _full = cut
    # The walk stops in the slot where the bytes end, at the end of what it
    # took of it, even when that is the slot's very end.
    ends = np.cumsum([len(c[0]) for c in parts])
    p = int(np.searchsorted(ends, j, side="right"))
    last_bq, first = where[p]
    last_slot = first + j - (int(ends[p - 1]) if p else 0)
    last_skip = (skip if j == 0 else 0) + int(lens[j])

    def commit() -> None:
        it._ptr, it._u, it.iov_offset = last_bq, last_slot, last_skip
        it.count -= n
    phys = (pfns[:j + 1] << PAGE_SHIFT) + offs[:j + 1]
    return phys, lens, commit


def _user_ranges(bases: np.ndarray, lens: np.ndarray, it: iov_iter
                 ) -> tuple[np.ndarray, np.ndarray] | None:
    mm = current.mm
    if mm is None:
        return None
    nz = lens > 0
    if not nz.all():
        bases, lens = bases[nz], lens[nz]
    return mm.user_ranges(bases, lens, not it.data_source)


def _describe_iovec(it: iov_iter, n: int) -> Described | None:
    # User segments count by the pages they cover, not by themselves.
    k = _window(it, n, 1)
    got = _columns(it._ptr, it.vec_idx, k, _UIOV_COLS) if k else None
    if got is None:
        return None
    lens, bases = got
    lens = lens.copy()
    bases = bases.copy()
    lens[0] -= it.iov_offset
    bases[0] += it.iov_offset
    cut = _cut(n, lens, 1)
    if cut is None:
        return None
    j, lens, full = cut
    user = _user_ranges(bases[:j + 1], lens, it)
    if user is None or len(user[0]) < BULK_MIN_SEGS:
        return None
    return user[0], user[1], _vec_commit(it, n, j, lens, full)


def _describe_ubuf(it: iov_iter, n: int) -> Described | None:
    base = it._ptr + it.iov_offset
    if ((base + n - 1) >> PAGE_SHIFT) - (base >> PAGE_SHIFT) + 1 < BULK_MIN_SEGS:
        return None
    user = _user_ranges(np.array([base], np.int64), np.array([n], np.int64), it)
    if user is None:
        return None

    def commit() -> None:
        it.iov_offset += n
        it.count -= n
    return user[0], user[1], commit


_DESCRIBE = {ITER_BVEC: _describe_bvec, ITER_KVEC: _describe_kvec,
             ITER_FOLIOQ: _describe_folioq, ITER_BVECQ: _describe_bvecq,
             ITER_IOVEC: _describe_iovec, ITER_UBUF: _describe_ubuf}


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


def bulk_spans(it: iov_iter, n: int, phys: list[int] | None = None,
               lens: list[int] | None = None) -> list[np.ndarray] | None:
    """The views of the next ``min(n, count)`` bytes, one per segment (what
    iterate_and_advance2() with page_steps=False and a collecting step
    gives), advancing the iterator past them; None (nothing done) if the
    per-segment path must resolve them.  A ``phys`` list receives the
    physical address each view starts at (the skcipher walk tells in
    place from out of place by them), a ``lens`` list each view's length."""
    n = min(n, it.count)
    if n <= 0 or it.iter_type in (ITER_IOVEC, ITER_UBUF):
        return None                 # user views are the walk's (merged runs)
    got = _resolve(it, n)
    if got is None:
        return None
    r, commit = got
    commit()
    if phys is not None:
        phys += ((r.bank << (BANK_SHIFT + PAGE_SHIFT)) + r.starts
                 + (PFN_BASE << PAGE_SHIFT)).tolist()
    if lens is not None:
        lens += r.lens.tolist()
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


#: Fewer segments than this are cheaper to advance over one by one.
BULK_ADVANCE_MIN = 64


def bulk_advance(it: iov_iter, size: int, bvec: bool) -> bool:
    """iov_iter_advance() of a BVEC/KVEC/IOVEC iterator over many segments
    at once, from the lengths kept with the array: the segments whose
    running total stays within ``size`` (plus the offset into the first)
    are passed, as the per-segment loop passes them.  False (nothing done)
    if the loop must (few segments, an array shorter than the iterator
    says, or one it cannot describe)."""
    vec, idx, nseg = it._ptr, it.vec_idx, it._u
    if nseg < BULK_ADVANCE_MIN or type(vec) is not list or idx < 0 or idx + nseg > len(vec):
        return False
    try:
        got = _columns(vec, idx, nseg, _BV_COLS if bvec else _IOV_COLS)
    except (AttributeError, TypeError, ValueError, OverflowError):
        return False
    if got is None:
        return False
    cum = np.cumsum(got[0])
    it.count -= size
    size += it.iov_offset
    j = int(np.searchsorted(cum, size, "right"))
    if j:
        size -= int(cum[j - 1])
    it.iov_offset = size
    it._u = nseg - j
    it.vec_idx = idx + j
    return True
