"""struct folio_queue (include/linux/folio_queue.h).

A segment of a doubly linked queue of folios, PAGEVEC_SIZE slots each, with
mark bits per slot.  ITER_FOLIOQ iterates over these.
"""

from __future__ import annotations

from kmem.mm_types import PAGE_SIZE, Folio

PAGEVEC_SIZE = 31


class FolioQueue:
    """``struct folio_queue``."""

    __slots__ = ("folios", "marks", "marks2", "next", "nr", "orders", "prev", "rreq_id")

    def __init__(self) -> None:
        folioq_init(self)

    def __repr__(self) -> str:
        return f"<folio_queue {self.nr}/{PAGEVEC_SIZE} slots>"


def folioq_init(folioq: FolioQueue, rreq_id: int = 0) -> None:
    folioq.folios = [None] * PAGEVEC_SIZE
    folioq.orders = [0] * PAGEVEC_SIZE
    folioq.nr = 0
    folioq.next = None
    folioq.prev = None
    folioq.marks = 0
    folioq.marks2 = 0
    folioq.rreq_id = rreq_id


def folioq_nr_slots(folioq: FolioQueue) -> int:
    return PAGEVEC_SIZE


def folioq_count(folioq: FolioQueue) -> int:
    """Slots appended so far (clearing a slot does not lower it)."""
    return folioq.nr


def folioq_full(folioq: FolioQueue) -> bool:
    return folioq.nr >= PAGEVEC_SIZE


def folioq_append(folioq: FolioQueue, folio: Folio) -> int:
    """Put ``folio`` in the next slot and return the slot.  Like the kernel,
    capacity is the caller's to check (folioq_full); appending to a full
    segment is a ValueError here rather than memory corruption."""
    slot = folioq.nr
    if slot >= PAGEVEC_SIZE:
        raise ValueError("folioq_append() on a full folio_queue segment")
    folioq.folios[slot] = folio
    folioq.orders[slot] = folio.order
    folioq.nr = slot + 1
    return slot


def folioq_append_mark(folioq: FolioQueue, folio: Folio) -> int:
    slot = folioq_append(folioq, folio)
    folioq_mark(folioq, slot)
    return slot


def _slot(slot: int) -> int:
    if not 0 <= slot < PAGEVEC_SIZE:
        raise ValueError(f"slot must be in 0..{PAGEVEC_SIZE - 1}, got {slot}")
    return slot


def folioq_folio(folioq: FolioQueue, slot: int) -> Folio | None:
    return folioq.folios[_slot(slot)]


def folioq_folio_order(folioq: FolioQueue, slot: int) -> int:
    return folioq.orders[_slot(slot)]


def folioq_folio_size(folioq: FolioQueue, slot: int) -> int:
    return PAGE_SIZE << folioq.orders[_slot(slot)]


def folioq_is_marked(folioq: FolioQueue, slot: int) -> bool:
    return bool(folioq.marks >> _slot(slot) & 1)


def folioq_mark(folioq: FolioQueue, slot: int) -> None:
    folioq.marks |= 1 << _slot(slot)


def folioq_unmark(folioq: FolioQueue, slot: int) -> None:
    folioq.marks &= ~(1 << _slot(slot))


def folioq_is_marked2(folioq: FolioQueue, slot: int) -> bool:
    return bool(folioq.marks2 >> _slot(slot) & 1)


def folioq_mark2(folioq: FolioQueue, slot: int) -> None:
    folioq.marks2 |= 1 << _slot(slot)


def folioq_unmark2(folioq: FolioQueue, slot: int) -> None:
    folioq.marks2 &= ~(1 << _slot(slot))


def folioq_clear(folioq: FolioQueue, slot: int) -> None:
    """Empty a slot (and its marks); the count stays."""
    folioq.folios[_slot(slot)] = None
    folioq.marks &= ~(1 << slot)
    folioq.marks2 &= ~(1 << slot)


def folioq_from_folios(folios: list[Folio]) -> FolioQueue:
    """Model helper: a chain of segments holding ``folios`` in order, linked
    through next/prev; returns the head segment."""
    head = tail = FolioQueue()
    for folio in folios:
        if folioq_full(tail):
            seg = FolioQueue()
            seg.prev, tail.next = tail, seg
            tail = seg
        folioq_append(tail, folio)
    return head
