"""Copies over a whole scatterlist run at once (model helper, no kernel twin).

sg_copy_buffer() (through sg_miter), memcpy_from_sglist()/
memcpy_to_sglist() (through the scatterwalk) and memcpy_sglist() copy one
page step at a time.
Here the entries the copy covers are described as numpy (physical address,
length) arrays, checked and copied by kmem.bulk (one row operation per
memory bank for equal aligned entries).  The bulk path answers None, and
the caller takes its per-step path with its records and its KernelBugs, for
anything unusual: a zero-length or pageless entry, a stale struct page,
memory kmem.bulk does not accept, a list that ends (or runs off its array)
before the bytes do, a buffer that overlaps the list's memory (the per-step
copies define the result then), fewer than BULK_MIN_ENTRIES entries and
page steps, or kmem.stats counting (it counts the steps).

The numpy columns of each scatterlist array are kept with it and reused
while (1) no field of a described entry has been stored since (its entries
are turned into sgl.scatterlist._KeptScatterlist, whose first store bumps
sg_stores), (2) no folio has been freed since (the freed-page check it made
still holds: kmem.page_alloc.frees), and (3) the array holds the very same
entries.  tests/test_sgl/test_sg_bulk.py compares both paths, also on lists
changed after their description was kept.
"""

from __future__ import annotations

import numpy as np

from kmem import PAGE_OFFSET, PAGE_SHIFT, Page
from kmem import stats as _stats
from kmem.access import Buffer, buffer_views
from kmem.bulk import Ranges, copy_ranges, resolve_ranges
from kmem.page_alloc import BANK_BYTES, DEVICE_PFN_BASE, PFN_BASE, _banks, frees
from sgl import scatterlist as _sl
from sgl.scatterlist import (
    SG_CHAIN,
    SG_END,
    Scatterlist,
    ScatterlistPtr,
    _KeptScatterlist,
    _ptr,
)

#: Fewer entries, and fewer page steps, than this are cheaper to walk
#: step by step.
BULK_MIN_ENTRIES = 8
#: Arrays shorter than this are walked entry by entry (numpy's per-call
#: costs are more than a short walk), not described.
KEEP_MIN = 32
_DIRECT_MAP_END = PAGE_OFFSET + (DEVICE_PFN_BASE << PAGE_SHIFT)
_RAM_BASE = PFN_BASE << PAGE_SHIFT


def _entries(sg: ScatterlistPtr | None, want: int, nents: int | None, entries: list | None = None
             ) -> tuple[list[int], list[int], list[int]] | None:
    """pfn, offset and length of the entries from ``sg`` until ``want``
    bytes, the end mark or ``nents`` entries (appended to ``entries``
    too, if given); None if any is unusual."""
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
        if entries is not None:
            entries.append(e)
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


class _Kept:
    """The numpy columns of one scatterlist array, with what they were
    made from: page frame (-1 without a page), offset, length and flags of
    every slot, whether a slot is no usable data entry (no page, a freed
    one, or zero length), and the target entry of every link slot."""

    __slots__ = ("arr", "bad", "chains", "flags", "key", "lens", "offs", "pfns", "snap", "stops")

    def __init__(self, arr: list, key: tuple) -> None:
        n = len(arr)
        pfns, offs, lens, flags = [0] * n, [0] * n, [0] * n, [0] * n
        bad = [False] * n
        chains: dict[int, object] = {}
        self.key = None
        for i, e in enumerate(arr):
            if e._arr is not arr or e._idx != i:
                return              # a moved entry: sg_next() leaves the array here
            if type(e) is Scatterlist:
                # From now on a store into it is seen (sg_stores).
                _setattr(e, "__class__", _KeptScatterlist)
            link, fl, ln = e._link, e._flags, e.length
            offs[i], lens[i], flags[i] = e.offset, ln, fl
            if fl & SG_CHAIN:
                chains[i] = link
                pfns[i], bad[i] = -1, True
            elif isinstance(link, Page):
                pfns[i], bad[i] = link.pfn, not ln or link.head.freed
            else:
                pfns[i], bad[i] = -1, True
        self.arr, self.key, self.snap, self.chains = arr, key, list(arr), chains
        self.pfns = np.array(pfns, np.int64)
        self.offs = np.array(offs, np.int64)
        self.lens = np.array(lens, np.int64)
        self.flags = np.array(flags, np.int64)
        self.bad = np.array(bad, bool)
        self.stops = np.flatnonzero(self.flags & (SG_CHAIN | SG_END))


_setattr = object.__setattr__
#: Kept descriptions by id() of the array (the entry holds the array, so
#: the id cannot be reused while it is here); the oldest go first.
_kept: dict[int, _Kept] = {}
KEPT_MAX = 256
KEPT_ENTRIES = 1 << 20
_kept_entries = [0]


def _holding(arr: list) -> _Kept | None:
    """The kept description of ``arr`` if it still holds: no store into a
    described entry (sg_stores) and no folio freed (frees) since it was
    made, and the very same entries in the array."""
    k = _kept.get(id(arr))
    if (k is not None and k.arr is arr and k.key == (_sl.sg_stores, frees[0])
            and k.snap == arr):
        return k
    return None


def _described(arr: list) -> _Kept | None:
    """The kept description of ``arr``, made now if none holds; None if an
    entry is no Scatterlist or not in its place."""
    k = _holding(arr)
    if k is not None:
        return k
    key = (_sl.sg_stores, frees[0])
    if id(arr) in _kept:
        _kept_entries[0] -= len(_kept.pop(id(arr)).snap)
    if not all(isinstance(e, Scatterlist) for e in arr):
        return None
    k = _Kept(arr, key)
    if k.key is None:
        return None
    while _kept and (len(_kept) >= KEPT_MAX or _kept_entries[0] + len(arr) > KEPT_ENTRIES):
        _kept_entries[0] -= len(_kept.pop(next(iter(_kept))).snap)
    _kept[id(arr)] = k
    _kept_entries[0] += len(arr)
    return k


_OLD = object()                     # not for the columns: walk the entries


def _kept_entries_of(e: Scatterlist, want: int, nents: int | None,
                     entries: list | None = None) -> object:
    """What _entries() answers, from the kept columns of the arrays the
    list runs through: (pfns, offsets, lengths) arrays, None, or _OLD when
    something about the arrays is unusual (the entry walk then decides)."""
    parts = []
    got = 0
    left = -1 if nents is None else nents
    while True:
        arr, i = e._arr, e._idx
        if arr is None or i >= len(arr) or arr[i] is not e:
            return _OLD
        k = _described(arr)
        if k is None:
            return _OLD
        if k.flags[i] & SG_CHAIN:
            # As a first entry refused; reached through a link it would be
            # read as a data entry with no page.
            return None
        st = k.stops
        at = int(np.searchsorted(st, i))
        if at < len(st):
            s = int(st[at])
            end = s if k.flags[s] & SG_CHAIN else s + 1
        else:
            end = len(arr)
        lens = k.lens[i:end]
        cum = np.cumsum(lens)
        need = want - got
        take = end - i
        if len(cum) and int(cum[-1]) >= need:
            take = int(np.searchsorted(cum, need)) + 1
        if left >= 0:
            take = min(take, left)
        if take <= 0:
            return None             # nents == 0: nothing to copy in bulk
        j = i + take
        if k.bad[i:j].any():
            return None
        parts.append((k.pfns[i:j], k.offs[i:j], lens[:take]))
        if entries is not None:
            entries += arr[i:j]
        got += int(cum[take - 1])
        left -= take
        last = j - 1
        if k.flags[last] & SG_END:
            break
        if j >= len(arr):
            return None             # sg_next() would run off the array: per step
        if k.flags[j] & SG_CHAIN:
            nxt = k.chains[j]
            if not isinstance(nxt, Scatterlist):
                return None
        else:
            nxt = arr[j]
        if got >= want or not left:
            break
        e = nxt
    if len(parts) == 1:
        return parts[0]
    return tuple(np.concatenate(c) for c in zip(*parts))


def sg_ranges(sg: ScatterlistPtr | None, pos: int, nbytes: int,
              nents: int | None = None, entries: list | None = None) -> Ranges | None:
    """The checked ranges of the list's bytes [pos, pos + nbytes), or of as
    many as it has from ``pos`` on (``r.total`` says how many; none past
    its end); None where the per-step path must go.  An ``entries`` list
    receives the entry each range lies in; its caller steps entry by
    entry, so the last entry is then not cut at ``nbytes`` (a step never
    ends inside an entry for want of a plan), and fewer than
    BULK_MIN_ENTRIES entries are refused whatever their pages."""
    if _stats.ON or nbytes <= 0:
        return None
    try:
        e = _ptr(sg)
        if e is None or e._flags & SG_CHAIN:
            return None
        arr = e._arr
        ents = [] if entries is not None else None
        if arr is None or len(arr) < KEEP_MIN:
            got = _entries(sg, pos + nbytes, nents, ents)
        elif _holding(arr) is not None:
            got = _kept_entries_of(e, pos + nbytes, nents, ents)
            if got is _OLD:
                ents = [] if entries is not None else None
                got = _entries(sg, pos + nbytes, nents, ents)
        else:
            # Not described yet: walk the entries, and keep a description
            # for the next copy when this one covered most of the array (a
            # small copy out of a big array that changes between copies
            # must not pay for the whole array each time).
            got = _entries(sg, pos + nbytes, nents, ents)
            if got is not None and arr is not None and len(arr) <= 2 * len(got[0]) + 64:
                _described(arr)
    except (AttributeError, TypeError, ValueError):
        return None                 # the per-step path says what is wrong
    if got is None or not len(got[0]):
        return None
    if len(got[0]) < BULK_MIN_ENTRIES and (
            entries is not None or _steps(got[1], got[2], pos, nbytes) < BULK_MIN_ENTRIES):
        return None
    pfns, offs = np.asarray(got[0], np.int64), np.asarray(got[1], np.int64)
    lens = np.array(got[2], np.int64)    # a copy: trimmed below, and may be kept columns
    cum = np.cumsum(lens)
    if int(cum[-1]) <= pos:
        return None
    i0 = int(np.searchsorted(cum, pos, side="right"))
    phys = (pfns << PAGE_SHIFT) + offs
    into = pos - (int(cum[i0 - 1]) if i0 else 0)
    phys, lens = phys[i0:], lens[i0:]
    phys[0] += into
    lens[0] -= into
    over = int(lens.sum()) - nbytes
    j = len(lens) - 1
    if over > 0 and entries is None:
        j = int(np.searchsorted(np.cumsum(lens), nbytes))
        phys, lens = phys[:j + 1], lens[:j + 1]
        lens[j] -= int(lens.sum()) - nbytes
    r = resolve_ranges(phys, lens)
    if r is not None and entries is not None:
        entries += ents[i0:i0 + j + 1]
    return r


def _steps(offs: list[int], lens: list[int], pos: int, nbytes: int) -> int:
    """The page steps of a copy of [pos, pos + nbytes) over a few entries:
    the per-step walks go a page at a time, so few entries of many pages
    (a 1 MiB folio entry) are many steps."""
    steps = at = 0
    for off, n in zip(offs, lens):
        lo, hi = max(pos, at), min(pos + nbytes, at + n)
        if lo < hi:
            a, b = off + lo - at, off + hi - at
            steps += ((b - 1) >> PAGE_SHIFT) - (a >> PAGE_SHIFT) + 1
        at += n
    return steps


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
