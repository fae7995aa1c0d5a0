"""Copies over a whole scatterlist run at once (model helper, no kernel twin).

sg_copy_buffer() (through sg_miter), memcpy_from_sglist()/
memcpy_to_sglist() (through the scatterwalk) and memcpy_sglist() copy one
page step at a time.
Here the entries the copy covers are described as numpy (physical address,
length) arrays in one pass along the list, checked and copied by kmem.bulk
(one row operation per memory bank for equal aligned entries).  The bulk
path answers None, and the caller takes its per-step path with its records
and its KernelBugs, for anything unusual: a zero-length or pageless entry,
a stale struct page, memory kmem.bulk does not accept, a list that ends (or
runs off its array) before the bytes do, a buffer that overlaps the list's
memory (the per-step copies define the result then), fewer than
BULK_MIN_ENTRIES entries, or kmem.stats counting (it counts the steps).
tests/test_sgl/test_sg_bulk.py compares both paths.
"""

from __future__ import annotations

import numpy as np

from kmem import PAGE_OFFSET, PAGE_SHIFT, Page
from kmem import stats as _stats
from kmem.access import Buffer, buffer_views
from kmem.bulk import Ranges, copy_ranges, resolve_ranges
from kmem.page_alloc import BANK_BYTES, DEVICE_PFN_BASE, PFN_BASE, _banks
from sgl.scatterlist import SG_CHAIN, SG_END, Scatterlist, ScatterlistPtr, _ptr

#: Fewer entries than this are cheaper to walk step by step.
BULK_MIN_ENTRIES = 8
_DIRECT_MAP_END = PAGE_OFFSET + (DEVICE_PFN_BASE << PAGE_SHIFT)
_RAM_BASE = PFN_BASE << PAGE_SHIFT


def _entries(sg: ScatterlistPtr | None, want: int, nents: int | None
             ) -> tuple[list[int], list[int], list[int]] | None:
    """pfn, offset and length of the entries from ``sg`` until ``want``
    bytes, the end mark or ``nents`` entries; None if any is unusual."""
    e = _ptr(sg)
    if e is None or e._flags & SG_CHAIN:
        return None
    pfns, offs, lens = [], [], []
    got = 0
    left = -1 if nents is None else nents
    while got < want and left:
        left -= 1
        link, n = e._link, e.length
        if not n or not isinstance(link, Page) or link.head.freed:
            return None
        pfns.append(link.pfn)
        offs.append(e.offset)
        lens.append(n)
        got += n
        if e._flags & SG_END:
            break
        arr, i = e._arr, e._idx + 1
        if arr is None or i >= len(arr):
            return None             # sg_next() would run off the array: per step
        e = arr[i]
        if e._flags & SG_CHAIN:
            e = e._link
            if not isinstance(e, Scatterlist):
                return None
    return pfns, offs, lens


def sg_ranges(sg: ScatterlistPtr | None, pos: int, nbytes: int,
              nents: int | None = None) -> Ranges | None:
    """The checked ranges of the list's bytes [pos, pos + nbytes), or of as
    many as it has from ``pos`` on (``r.total`` says how many; none past
    its end); None where the per-step path must go."""
    if _stats.ON or nbytes <= 0:
        return None
    try:
        got = _entries(sg, pos + nbytes, nents)
    except (AttributeError, TypeError, ValueError):
        return None                 # the per-step path says what is wrong
    if got is None or len(got[0]) < BULK_MIN_ENTRIES:
        return None
    pfns, offs, lens_ = got
    lens = np.array(lens_, np.int64)
    cum = np.cumsum(lens)
    if int(cum[-1]) <= pos:
        return None
    i0 = int(np.searchsorted(cum, pos, side="right"))
    phys = (np.array(pfns, np.int64) << PAGE_SHIFT) + np.array(offs, np.int64)
    into = pos - (int(cum[i0 - 1]) if i0 else 0)
    phys, lens = phys[i0:], lens[i0:]
    phys[0] += into
    lens[0] -= into
    over = int(lens.sum()) - nbytes
    if over > 0:
        j = int(np.searchsorted(np.cumsum(lens), nbytes))
        phys, lens = phys[:j + 1], lens[:j + 1]
        lens[j] -= int(lens.sum()) - nbytes
    return resolve_ranges(phys, lens)


def _in_bank(addr: int) -> tuple[int, int] | None:
    """(bank, byte offset) of a host address inside the model's memory."""
    for bank, mem in enumerate(_banks):
        base = mem.__array_interface__["data"][0]
        if base <= addr < base + BANK_BYTES:
            return bank, addr - base
    return None


def _overlaps(buf: Buffer, n: int, r: Ranges) -> bool | None:
    """Whether the buffer's bytes may meet the ranges'; None if that cannot
    be told without resolving the buffer (left to the per-step path)."""
    if isinstance(buf, int) and not isinstance(buf, bool):
        if not (buf >= PAGE_OFFSET and buf + n <= _DIRECT_MAP_END):
            return None             # vmalloc, stack: the per-step path
        rel = buf - PAGE_OFFSET - _RAM_BASE
        bank, start = rel // BANK_BYTES, rel % BANK_BYTES
        if rel < 0 or (rel + n - 1) // BANK_BYTES != bank:
            return None
    elif isinstance(buf, np.ndarray):
        if not buf.flags.c_contiguous:
            return None
        at = _in_bank(buf.__array_interface__["data"][0])
        if at is None:
            return False
        bank, start = at
    elif type(buf) in (bytes, bytearray):
        return False                # never model memory
    else:
        return None
    hit = (r.bank == bank) & (r.starts < start + n) & (r.starts + r.lens > start)
    return bool(hit.any())


def sg_bulk_copy(r: Ranges, buf: Buffer, buflen: int, to_sg: bool) -> bool:
    """Copy between the ranges and the first ``r.total`` of the ``buflen``
    bytes of ``buf`` (resolved as the per-step path resolves them), if the
    buffer does not overlap the ranges; False (nothing done, the buffer not
    resolved) otherwise."""
    if _overlaps(buf, buflen, r) is not False:
        return False
    views = buffer_views(buf, buflen, write=not to_sg)
    n = r.total
    if len(views) == 1:
        copy_ranges(r, views[0][:n], to_sg)
        return True
    flat = np.concatenate(views)[:n] if to_sg else np.empty(n, np.uint8)
    copy_ranges(r, flat, to_sg)
    if not to_sg:
        pos = 0
        for v in views:
            k = min(len(v), n - pos)
            v[:k] = flat[pos:pos + k]
            pos += k
            if pos == n:
                break
    return True


def _meet(a: Ranges, b: Ranges) -> bool:
    """Whether any two of the ranges of ``a`` and ``b`` together share a byte
    (within one list too: a list naming a byte twice is left to the steps)."""
    lo = np.concatenate([a.bank * BANK_BYTES + a.starts, b.bank * BANK_BYTES + b.starts])
    hi = lo + np.concatenate([a.lens, b.lens])
    order = np.argsort(lo, kind="stable")
    return bool((lo[order][1:] < np.maximum.accumulate(hi[order])[:-1]).any())


def sg_bulk_memcpy(dst: ScatterlistPtr | None, src: ScatterlistPtr | None, nbytes: int) -> bool:
    """memcpy_sglist() at once: nothing to do when both lists put every byte
    at the same address (the steps all skip), one gather and one scatter
    when no byte is shared; False (nothing done) otherwise."""
    rs = sg_ranges(src, 0, nbytes)
    if rs is None or rs.total != nbytes:
        return False
    rd = sg_ranges(dst, 0, nbytes)
    if rd is None or rd.total != nbytes:
        return False
    if (len(rs.lens) == len(rd.lens) and (rs.lens == rd.lens).all()
            and (rs.starts == rd.starts).all() and (rs.bank == rd.bank).all()):
        return True                 # in place, entry for entry
    if _meet(rs, rd):
        return False
    tmp = np.empty(nbytes, np.uint8)
    copy_ranges(rs, tmp, False)
    copy_ranges(rd, tmp, True)
    return True
