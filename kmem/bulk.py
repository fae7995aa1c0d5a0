"""Many ranges of physical memory resolved and copied at once.

The per-range helpers of kmem.access resolve one range per call, with a
Python-level check of each allocation it touches.  A segment array of
thousands of entries (a bio_vec array, a kvec array, the slots of a folio
queue) paid that cost per entry.  Here the whole array is described by numpy
arrays of (physical address, length), checked in a few vectorised passes
against the per-frame arrays beside the folio heads (kmem.page_alloc), and
copied with one row operation per memory bank when the ranges are equal
and aligned, else one slice per physically contiguous run.

The bulk path never records anything in the sanitizer ledger: it accepts
only ranges that the per-range path would access without a record (each
range inside one live folio of plain memory, or inside one live kmalloc
object) and answers None for anything else, so that the caller takes the
per-range path for the whole array and the ledger gets exactly the records
it always got.
"""

from __future__ import annotations

import numpy as np

from kmem.mm_types import PAGE_SHIFT, PAGE_SIZE
from kmem.page_alloc import (
    BANK_BYTES,
    BANK_SHIFT,
    FRAME_PLAIN,
    FRAME_SLAB,
    PFN_BASE,
    SLAB_LIMIT_PER_OBJECT,
    _banks,
    _heads,
    _limit,
    _state,
    mem_map,
)

_BANK_BYTES_SHIFT = BANK_SHIFT + PAGE_SHIFT
_RAM_BASE = PFN_BASE << PAGE_SHIFT


def distinct(a: np.ndarray) -> list[int]:
    """The distinct values of the int array ``a``, ascending.  The values
    here (banks, page-table numbers) span little, so a mark per value is
    much cheaper than np.unique's sort or hash."""
    lo, hi = int(a.min()), int(a.max())
    if lo == hi:
        return [lo]
    if hi - lo > 4 * len(a) + 4096:
        return np.unique(a).tolist()
    seen = np.zeros(hi - lo + 1, bool)
    seen[a - lo] = True
    return (np.flatnonzero(seen) + lo).tolist()


class Ranges:
    """Checked ranges: bank, byte start in the bank and length of each."""

    __slots__ = ("bank", "lens", "starts", "total")

    def __init__(self, bank: np.ndarray, starts: np.ndarray, lens: np.ndarray) -> None:
        self.bank, self.starts, self.lens = bank, starts, lens
        self.total = int(lens.sum())


def _slab_objects_ok(heads: np.ndarray, rel: np.ndarray, lens: np.ndarray,
                     which: np.ndarray) -> bool:
    """Each range ``which`` lies inside one live kmalloc object (the check
    kmem.access makes per range, without recording)."""
    for k in np.flatnonzero(which).tolist():
        head = int(heads[k])
        folio = mem_map.get(head)
        slab = folio.slab if folio is not None else None
        if slab is None:
            return False
        idx, within = slab.object_at(int(rel[k]) - ((head - PFN_BASE) << PAGE_SHIFT))
        if idx >= slab.nr_objects or within + int(lens[k]) > slab.requested[idx]:
            return False
    return True


def resolve_ranges(phys: np.ndarray, lens: np.ndarray) -> Ranges | None:
    """Check the ranges (``phys``, ``lens``: int64 arrays, lengths > 0) for
    CPU access; None unless every one would be accessed without a record."""
    rel = phys - _RAM_BASE
    last = rel + lens - 1
    bank = rel >> _BANK_BYTES_SHIFT
    if len(rel) == 0 or rel.min() < 0 or (bank != last >> _BANK_BYTES_SHIFT).any():
        return None
    lo, hi = int(bank.min()), int(bank.max())
    if hi >= len(_banks):
        return None
    frame0 = (rel >> PAGE_SHIFT) & ((1 << BANK_SHIFT) - 1)
    frame1 = (last >> PAGE_SHIFT) & ((1 << BANK_SHIFT) - 1)
    if lo == hi:
        heads, state = _heads[lo], _state[lo]
        h0, h1, st = heads[frame0], heads[frame1], state[frame0]
    else:
        h0 = np.empty_like(rel)
        h1 = np.empty_like(rel)
        st = np.empty(len(rel), dtype=np.uint8)
        for b in distinct(bank):
            m = bank == b
            h0[m] = _heads[b][frame0[m]]
            h1[m] = _heads[b][frame1[m]]
            st[m] = _state[b][frame0[m]]
    # Equal heads at both ends: the range lies in one live folio.
    if (h0 != h1).any() or (h0 < 0).any():
        return None
    plain = st == FRAME_PLAIN
    if not plain.all():
        slab = st == FRAME_SLAB
        if not (plain | slab).all():
            return None
        # Objects of a page or more: bounds from the per-frame limits;
        # smaller objects (several to a frame): per object.
        if lo == hi:
            lim = _limit[lo][frame0]
        else:
            lim = np.empty_like(rel)
            for b in distinct(bank):
                m = bank == b
                lim[m] = _limit[b][frame0[m]]
        per_object = slab & (lim == SLAB_LIMIT_PER_OBJECT)
        framed = slab & ~per_object
        if (framed & ((rel & (PAGE_SIZE - 1)) + lens > lim)).any():
            return None
        if per_object.any() and not _slab_objects_ok(h0, rel, lens, per_object):
            return None
    return Ranges(bank, rel & (BANK_BYTES - 1), lens)


def range_views(r: Ranges) -> list[np.ndarray]:
    """One numpy view per checked range."""
    if len(r.bank) and r.bank[0] == r.bank[-1] and (r.bank == r.bank[0]).all():
        mem = _banks[int(r.bank[0])]
        return [mem[s:s + n] for s, n in zip(r.starts.tolist(), r.lens.tolist())]
    return [_banks[b][s:s + n]
            for b, s, n in zip(r.bank.tolist(), r.starts.tolist(), r.lens.tolist())]


def _overlaps(buf: np.ndarray, banks: list[int]) -> bool:
    return any(np.may_share_memory(buf, _banks[b]) for b in banks)


def copy_ranges(r: Ranges, buf: np.ndarray, to_mem: bool) -> None:
    """Copy between the checked ranges, in order, and ``buf`` (``r.total``
    bytes): into memory if ``to_mem``, else out of it.  Counting the copy
    in kmem.stats is the caller's, as for a copy step."""
    lens, starts, bank = r.lens, r.starts, r.bank
    banks = distinct(bank)
    pos = np.cumsum(lens) - lens
    # The middle of a copy over equal aligned segments (4 KiB pages, say:
    # the first and last may be partial) is rows of the bank, copied with
    # one row operation per bank.
    n0 = int(lens[len(lens) // 2])
    rows = np.flatnonzero((lens == n0) & (starts % n0 == 0))
    i0, i1 = (int(rows[0]), int(rows[-1]) + 1) if len(rows) else (0, 0)
    if (i1 - i0 < 8 or i1 - i0 != len(rows) or BANK_BYTES % n0
            or not buf.flags.c_contiguous or _overlaps(buf, banks)
            or (to_mem and _repeats(bank[i0:i1], starts[i0:i1] // n0, n0))):
        i0 = i1 = 0
    else:
        _copy_rows(bank[i0:i1], starts[i0:i1] // n0, n0,
                   buf[int(pos[i0]):int(pos[i0]) + (i1 - i0) * n0], banks, to_mem)
    # The rest one slice per range, in order (so that memory overlapping the
    # buffer behaves as the per-range copies would).
    for k in (*range(i0), *range(i1, len(lens))):
        mem = _banks[int(bank[k])]
        s, n, p = int(starts[k]), int(lens[k]), int(pos[k])
        if to_mem:
            mem[s:s + n] = buf[p:p + n]
        else:
            buf[p:p + n] = mem[s:s + n]


def _repeats(bank: np.ndarray, rows: np.ndarray, n0: int) -> bool:
    """Whether a row is named twice.  numpy does not promise the order in
    which a fancy-indexed assignment writes repeated rows, where the
    per-range copies are sequential (the last write wins): such a copy goes
    range by range.  A mark per row of the span (about 0.6% of a 16 MiB
    copy's time for 4096 rows, half a sort's)."""
    key = bank * (BANK_BYTES // n0) + rows
    lo, hi = int(key.min()), int(key.max())
    if hi - lo > 8 * len(key) + 65536:
        key = np.sort(key)
        return bool((key[1:] == key[:-1]).any())
    seen = np.zeros(hi - lo + 1, np.bool_)
    seen[key - lo] = True
    return int(np.count_nonzero(seen)) != len(key)


def _copy_rows(bank: np.ndarray, rows: np.ndarray, n0: int, buf: np.ndarray,
               banks: list[int], to_mem: bool) -> None:
    buf2d = buf.reshape(-1, n0)
    for b in banks:
        bank2d = _banks[b].reshape(-1, n0)
        if len(banks) == 1:
            if to_mem:
                bank2d[rows] = buf2d
            else:
                # mode="clip": with the default, numpy buffers the output.
                np.take(bank2d, rows, axis=0, out=buf2d, mode="clip")
            continue
        idx = np.flatnonzero(bank == b)
        if to_mem:
            bank2d[rows[idx]] = buf2d[idx]
        else:
            buf2d[idx] = bank2d[rows[idx]]
