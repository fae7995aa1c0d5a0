"""Segmented bio_vec queues (include/linux/bvecq.h, lib/bvecq.c) and the
ITER_BVECQ initialiser of lib/iov_iter.c.

Newer than v7.3, the release the model follows: David Howells' series
"netfs, iov_iter: Use a chain of bio_vec arrays instead of folio_queue"
(RFC 2026-03-04; v4 ``20260616100821.2062304-16-dhowells@redhat.com``,
which this module follows; merged in linux-next next-20261007 together with
"iov_iter: Remove ITER_FOLIOQ").  The series states the aim of replacing
scatterlists with bvecq too; the struct keeps ``prev`` so that a chain can
have bits glued on the front, which is what crypto drivers do with a
header.

A ``bvecq`` is one segment of the chain: an array of ``bio_vec`` slots
(``bv``, ``max_slots`` long, the first ``nr_slots`` used), linked with
``next``/``prev`` (NULL-terminated at both ends, not circular), a reference
count, and ``mem_type`` saying how the pages are retained (the owner's
cleanup, not the iterator's: an ITER_BVECQ iterator takes no references).

Python shape: ``struct bvecq`` is :class:`bvecq`; ``bv`` is a list of
:class:`~iovcrypto.uio.bio_vec` (``__bv`` and ``inline_bv`` collapse: the
array always comes with the segment, and ``inline_bv`` records it);
allocation is accounted as the kmalloc of ``struct_size(bq, __bv,
nr_slots)`` it is (48 + 16 bytes a slot).  :func:`bvecq_prepend` is the
model's name for gluing a segment in front (the series open-codes it);
everything else keeps the kernel's name.

``iov_iter_revert()`` on ITER_BVECQ resets to the starting point stored at
initialisation and advances by what remains consumed (the series' "store
the initial starting point and reset to that and advance"), so ``prev``
is never followed backwards by the iterator.
"""

from __future__ import annotations

from typing import Any

from iovcrypto.uio import ITER_BVECQ, bio_vec, check_size, iov_iter
from kmem import WARN, KernelBug
from kmem import stats as _stats

__all__ = [
    "BVECQ_MEM_ALLOCED",
    "BVECQ_MEM_EXTERNAL",
    "BVECQ_MEM_GUP",
    "BVECQ_MEM_PAGECACHE",
    "BVECQ_POOL_SLOTS",
    "bvecq",
    "bvecq_alloc_chain",
    "bvecq_alloc_one",
    "bvecq_append",
    "bvecq_get",
    "bvecq_is_full",
    "bvecq_next",
    "bvecq_prepend",
    "bvecq_put",
    "iov_iter_bvec_queue",
]

# enum bvecq_mem: how the pages in bv[] are retained, and freed.
BVECQ_MEM_EXTERNAL = 0      # retained by someone else
BVECQ_MEM_PAGECACHE = 1     # page-cache references: put
BVECQ_MEM_GUP = 2           # pinned by get_user_pages: unpin
BVECQ_MEM_ALLOCED = 3       # allocated for the bvecq: free

SIZEOF_BVECQ = 48           # 64-bit: next, prev, ref+priv, slots+flags, bv
SIZEOF_BIO_VEC = 16
#: Slots of a 512-byte mempool-backed bvecq.
BVECQ_POOL_SLOTS = (512 - SIZEOF_BVECQ) // SIZEOF_BIO_VEC


class bvecq:
    """``struct bvecq``: one segment of a bio_vec chain."""

    __slots__ = ("bv", "from_pool", "inline_bv", "max_slots", "mem_type", "next", "nr_slots",
                 "prev", "priv", "ref")

    def __init__(self, max_slots: int) -> None:
        check_size("max_slots", max_slots)
        if max_slots > 0xFFFF:
            raise ValueError(f"max_slots: {max_slots} does not fit its u16")
        self.next: bvecq | None = None
        self.prev: bvecq | None = None
        self.ref = 1
        self.priv = 0
        self.nr_slots = 0
        self.max_slots = max_slots
        self.mem_type = BVECQ_MEM_EXTERNAL
        self.inline_bv = True
        self.from_pool = False
        self.bv: list[bio_vec] = [bio_vec() for _ in range(max_slots)]

    def add(self, page: Any, len: int, offset: int) -> int:
        """Model helper: fill the next slot (``bvec_set_page`` on ``bv[nr_slots]``
        then ``bvecq_filled_to``); returns the slot index."""
        if bvecq_is_full(self):
            raise KernelBug("bvecq: no free slot")
        slot = self.nr_slots
        b = self.bv[slot]
        b.bv_page, b.bv_len, b.bv_offset = page, len, offset
        self.nr_slots = slot + 1
        return slot

    def __repr__(self) -> str:
        return f"<bvecq {self.nr_slots}/{self.max_slots} slots ref={self.ref}>"


def bvecq_alloc_one(nr_slots: int, gfp: int, for_writeback: bool = False) -> bvecq | None:
    """``bvecq_alloc_one()``: a segment with room for ``nr_slots`` (at most
    65535, the u16 of ``max_slots``)."""
    check_size("nr_slots", nr_slots)
    if nr_slots > 0xFFFF:
        raise ValueError(f"nr_slots: {nr_slots} does not fit max_slots (u16)")
    if _stats.ON:
        _stats.note_alloc(SIZEOF_BVECQ + nr_slots * SIZEOF_BIO_VEC)
    return bvecq(nr_slots)


BVECQ_MODEL_MAX_SLOTS = 1 << 20


def bvecq_alloc_chain(nr_slots: int, gfp: int, for_writeback: bool = False) -> bvecq | None:
    """``bvecq_alloc_chain()``: enough pool-sized segments, linked, for
    ``nr_slots`` slots in all; returns the head."""
    check_size("nr_slots", nr_slots)
    if nr_slots > BVECQ_MODEL_MAX_SLOTS:
        # The segments would be allocated one by one until memory ran out;
        # the model fails the allocation at once (each slot is an object here).
        return None
    head: bvecq | None = None
    tail: bvecq | None = None
    left = max(nr_slots, 1)
    while left > 0:
        n = min(left, BVECQ_POOL_SLOTS)
        bq = bvecq_alloc_one(n, gfp, for_writeback)
        assert bq is not None
        if tail is None:
            head = bq
        else:
            bvecq_append(tail, bq)
        tail = bq
        left -= n
    return head


def bvecq_get(bq: bvecq) -> bvecq:
    """``bvecq_get()``: take a reference."""
    bq.ref += 1
    return bq


def bvecq_put(bq: bvecq | None) -> None:
    """``bvecq_put()``: drop a reference on each segment from ``bq`` on,
    stopping at the first that is still referenced; a freed segment is
    unlinked.  (Releasing the pages per ``mem_type`` is the owner's job in
    the model: the segments record it.)"""
    while bq is not None:
        if WARN(bq.ref <= 0, "bvecq_put() on a freed bvecq"):
            return
        bq.ref -= 1
        if bq.ref:
            return
        nxt = bq.next
        if nxt is not None:
            nxt.prev = None
        bq.next = bq.prev = None
        bq.nr_slots = 0
        bq = nxt


def bvecq_is_full(bq: bvecq) -> bool:
    """``bvecq_is_full()``."""
    return bq.nr_slots >= bq.max_slots


def bvecq_append(to: bvecq, add: bvecq) -> None:
    """``bvecq_append()``: link ``add`` after ``to`` (the caller's reference
    on ``add`` passes to the chain)."""
    add.prev = to
    to.next = add


def bvecq_prepend(to: bvecq, add: bvecq) -> None:
    """Glue ``add`` in front of ``to`` (the chain is NULL-terminated, not
    circular, so that this is possible: a header in front of a message).
    ``to`` must be the head."""
    if to.prev is not None:
        raise KernelBug("bvecq_prepend: not the head of its chain")
    add.next = to
    to.prev = add


def bvecq_next(bq: bvecq) -> bvecq | None:
    """``bvecq_next()``."""
    return bq.next


def iov_iter_bvec_queue(i: iov_iter, direction: int, bvecq_: bvecq, first_slot: int,
                        offset: int, count: int) -> None:
    """``iov_iter_bvec_queue()``: ITER_BVECQ from ``offset`` into the
    bio_vec in ``first_slot`` of ``bvecq_``.  The pages must be kept alive
    by the caller; the iterator takes no references."""
    if not isinstance(i, iov_iter):
        raise TypeError(f"i must be an iov_iter, got {type(i).__name__}")
    if not isinstance(bvecq_, bvecq):
        raise TypeError(f"bvecq must be a bvecq, got {type(bvecq_).__name__}")
    if not isinstance(direction, int) or isinstance(direction, bool):
        raise TypeError("direction must be READ/ITER_DEST or WRITE/ITER_SOURCE")
    WARN(direction & ~1, f"iov_iter_bvec_queue: bad direction {direction:#x}")
    check_size("first_slot", first_slot)
    check_size("offset", offset)
    check_size("count", count)
    i.iter_type = ITER_BVECQ
    i.nofault = False
    i.data_source = bool(direction & 1)
    i._ptr = bvecq_
    i.vec_idx = 0
    i._u = first_slot & 0xFFFF
    i.iov_offset = offset
    i.count = count
    i._start = (bvecq_, first_slot, offset, count)
