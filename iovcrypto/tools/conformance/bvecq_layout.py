"""The ITER_BVECQ realisation: a bvecq chain over page memory
(iovcrypto/bvecq.py, Howells' series as in linux-next), and where an
ITER_BVECQ iterator must be after n bytes.

The chain holds one bio_vec per piece of the configuration, a few slots
per segment so that walks cross from one segment to the next, and its
first segment is glued on in front with ``bvecq_prepend()`` (what a
crypto driver does with a header), so the iterator starts on a segment
that was not the chain's first when it was built.  After the data comes
one more slot, a TRAILER-byte trailer the iterator covers too (a message
with something after it, as a bio often has): so a request does not end
at the end of the iterator, and its final position is a place between
two slots, where equivalent field values meet (below).  Two in-place
iterators over copies of the descriptors ("two sglists") get the same
pages split over segments differently.

Positions.  Unlike the other types, one ITER_BVECQ position has several
field values, all meaning the same place: the end of a slot (offset ==
bv_len) is the start of the next slot (offset 0), and the end of a
segment's last slot is the start of the next segment's first.  The
series' own functions leave both forms (``iterate_bvecq()`` stops at the
end of the slot it consumed, ``iov_iter_bvecq_advance()`` moves on), so
the oracle judges an ITER_BVECQ iterator by the byte offset of its
position from the chain's head, computed from the layout (the slots'
lengths), and every other field exactly.  A field value that names no
position of the chain (a segment not in it, a slot past ``nr_slots``, an
offset past the slot's end) is never equivalent to anything.
"""

from __future__ import annotations

import itertools

import kmem
from iovcrypto.bvecq import (
    bvecq,
    bvecq_alloc_one,
    bvecq_append,
    bvecq_prepend,
    bvecq_put,
    iov_iter_bvec_queue,
)

ITYPE = "BVECQ"
SLOTS = 2               # slots per segment: every other piece starts a segment
TRAILER = 16            # bytes of the slot after the data


def build_chain(pieces: list, slots: int = SLOTS) -> bvecq:
    """A chain of one bio_vec per piece (``piece.area.page`` + offset),
    ``slots`` a segment; the first segment prepended.  (The pieces include
    the trailer.)"""
    segs: list[bvecq] = []
    for k in range(0, max(len(pieces), 1), slots):
        bq = bvecq_alloc_one(slots, kmem.GFP_KERNEL)
        for p in pieces[k:k + slots]:
            bq.add(p.area.page, p.length, p.offset)
        segs.append(bq)
    for a, b in itertools.pairwise(segs[1:]):
        bvecq_append(a, b)
    if len(segs) > 1:
        bvecq_prepend(segs[1], segs[0])
    return segs[0]


def free_chain(head: bvecq | None) -> None:
    if head is not None:
        bvecq_put(head)


def iter_init(it: object, direction: int, count: int, head: bvecq) -> None:
    iov_iter_bvec_queue(it, direction, head, 0, 0, count)


def byte_position(head: bvecq, ptr_id: int, slot: int, off: int) -> int | None:
    """Bytes from the start of ``head``'s first slot to the position
    (segment ``ptr_id``, ``slot``, ``off``); None if it names none."""
    pos = 0
    bq: bvecq | None = head
    while bq is not None:
        if id(bq) == ptr_id:
            if slot > bq.nr_slots:
                return None
            if slot == bq.nr_slots:
                return pos + sum(bq.bv[k].bv_len for k in range(slot)) if off == 0 else None
            before = sum(bq.bv[k].bv_len for k in range(slot))
            return pos + before + off if off <= bq.bv[slot].bv_len else None
        pos += sum(bq.bv[k].bv_len for k in range(bq.nr_slots))
        bq = bq.next
    return None


def misplaced(head: bvecq, now: tuple, before: tuple, n: int) -> bool:
    """Whether the iterator whose snapshot is ``now`` (buffers.iter_snapshot)
    is not ``n`` bytes past where the snapshot ``before`` was: the same
    fields except the position, which must be the same place."""
    it_, src_, nofault, off, count, ptr_id, ptr_int, idx, u = before
    g_it, g_src, g_nofault, g_off, g_count, g_ptr, g_int, g_idx, g_u = now
    if (g_it, g_src, g_nofault, g_count, g_int, g_idx) != \
            (it_, src_, nofault, count - n, ptr_int, idx):
        return True
    start = byte_position(head, ptr_id, u & 0xFFFF, off)
    got = byte_position(head, g_ptr, g_u & 0xFFFF, g_off)
    return start is None or got is None or got != start + n
