"""iov_iter -> scatterlist: ``extract_iter_to_sg()`` (lib/scatterlist.c).

The function AF_ALG, SMB, ceph and netfs use today to hand the contents of
an iov_iter to the scatterlist crypto API.  It appends entries at
``sgtable.sgl + sgtable.nents`` (plain array arithmetic, no chain
following: the caller supplies a flat array with room for ``sg_max``
entries), bumps ``nents`` per entry, never touches ``orig_nents`` and never
sets an end mark.  Per type (spec §1.9):

- UBUF/IOVEC: pages are *pinned* through iov_iter_extract_pages(); one
  entry per page; the caller unpins each (``iov_iter_extract_will_pin()``
  is true).  On failure, or when extraction returns 0 (the iterator ran
  dry), every entry beyond ``orig_nents`` is unpinned and ``nents`` rolled
  back to ``orig_nents`` -- including entries from earlier calls, as the
  kernel does.
- BVEC: one entry per bio_vec, not split at page boundaries (the offset
  may exceed PAGE_SIZE).
- KVEC: one entry per page (vmalloc_to_page for vmalloc and stack
  addresses, virt_to_page otherwise).
- FOLIOQ / XARRAY: one entry per folio (offset within the folio; the
  XARRAY offset bug of v6.3..v7.1 is reachable as a kernel quirk).
- DISCARD (anything else): WARN, -EIO.
Kernel-backed types take neither references nor pins.

The 2026 upstream fixes are modelled: ``sg_max == 0`` extracts nothing;
KVEC entries are single-page with the right lengths and the return value
counts only what was described when ``sg_max`` runs out mid-segment; the
user page scratch array lives after the *append point* (in C it overlays
the tail of the ``sg_max`` entries from ``sgl + nents``; here it is a
separate list, and the model checks those ``sg_max`` entries exist, since
C would scribble past the array otherwise); a 0 from extraction is a
failure (no endless loop).
"""

from __future__ import annotations

import kmem
from iovcrypto import (
    ITER_BVEC,
    ITER_BVECQ,
    ITER_FOLIOQ,
    ITER_IOVEC,
    ITER_KVEC,
    ITER_UBUF,
    ITER_XARRAY,
    iov_iter,
    iov_iter_advance,
    iov_iter_extract_pages,
    iov_iter_extract_will_pin,
)
from kmem import PAGE_SIZE, Folio, KernelBug
from kmem import errno as E
from kmem.folio_queue import folioq_folio, folioq_folio_size, folioq_nr_slots
from kmem.quirks import quirk
from sgl import Scatterlist, SgTable, sg_page, sg_set_page

__all__ = ["extract_iter_to_sg", "iov_iter_extract_will_pin"]

_OFF = PAGE_SIZE - 1


class _Appender:
    """``struct scatterlist *sg = sgtable->sgl + sgtable->nents; sg++``."""

    __slots__ = ("arr", "base", "table")

    def __init__(self, table: SgTable) -> None:
        first = table.sgl
        if not isinstance(first, Scatterlist):
            raise TypeError("sgtable.sgl must point at a scatterlist array")
        if first._arr is None:
            raise ValueError("sgtable.sgl is a lone entry, not an array (use sg_array())")
        self.table = table
        self.arr = first._arr
        self.base = first._idx

    def room(self) -> int:
        return len(self.arr) - self.base - self.table.nents

    def append(self, page: kmem.Page, length: int, offset: int) -> None:
        i = self.base + self.table.nents
        if i >= len(self.arr):
            raise KernelBug("extract_iter_to_sg: wrote past the end of the scatterlist array")
        sg_set_page(self.arr[i], page, length, offset)
        self.table.nents += 1

    def entry(self, k: int) -> Scatterlist:
        return self.arr[self.base + k]


def _user_to_sg(it: iov_iter, maxsize: int, out: _Appender, sg_max: int, flags: int) -> int:
    """``extract_user_to_sg()``."""
    if out.room() < sg_max:
        # The page-pointer scratch area is the tail of sg_max entries from
        # the append point: the array must have them.
        raise KernelBug(f"extract_iter_to_sg: sg_max={sg_max} but only {out.room()} entries "
                        "left after the append point")
    ret = 0
    table = out.table
    while True:
        res, pages, off = iov_iter_extract_pages(it, [None] * sg_max, maxsize, sg_max, flags)
        if res <= 0:
            while table.nents > table.orig_nents:
                table.nents -= 1
                kmem.unpin_user_page(sg_page(out.entry(table.nents)))
            return res
        length = res
        maxsize -= length
        ret += length
        npages = -(-(off + length) // PAGE_SIZE)
        sg_max -= npages
        for k in range(npages):
            seg = min(PAGE_SIZE - off, length)
            out.append(pages[k], seg, off)
            length -= seg
            off = 0
        if maxsize <= 0 or sg_max <= 0:
            return ret


def _bvec_to_sg(it: iov_iter, maxsize: int, out: _Appender, sg_max: int) -> int:
    """``extract_bvec_to_sg()``."""
    vec = it.vec or []
    start = it.iov_offset
    ret = 0
    for k in range(it.nr_segs):
        idx = it.vec_idx + k
        if idx >= len(vec):
            raise KernelBug("extract_iter_to_sg: ITER_BVEC ran past its bio_vec array")
        bv = vec[idx]
        if start >= bv.bv_len:
            start -= bv.bv_len
            continue
        length = min(maxsize, bv.bv_len - start)
        out.append(bv.bv_page, length, bv.bv_offset + start)
        sg_max -= 1
        ret += length
        maxsize -= length
        if maxsize <= 0 or sg_max == 0:
            break
        start = 0
    if ret > 0:
        iov_iter_advance(it, ret)
    return ret


def _bvecq_to_sg(it: iov_iter, maxsize: int, out: _Appender, sg_max: int) -> int:
    """``extract_bvecq_to_sg()`` (Howells' bvecq series v4): one entry per
    bio_vec piece, no page references; a chain shorter than ``count`` WARNs."""
    bq, slot, offset = it._ptr, it.bvecq_slot, it.iov_offset
    maxsize = min(maxsize, it.count)
    ret = 0
    while sg_max > 0 and ret < maxsize:
        if slot >= bq.nr_slots:
            if bq.next is None:
                kmem.WARN_ON_ONCE(ret < it.count, "ITER_BVECQ: chain ended before count")
                break
            bq, slot, offset = bq.next, 0, 0
            continue
        bv = bq.bv[slot]
        if offset >= bv.bv_len:
            offset, slot = 0, slot + 1
            continue
        part = min(maxsize - ret, bv.bv_len - offset)
        out.append(bv.bv_page, part, bv.bv_offset + offset)
        sg_max -= 1
        offset += part
        ret += part
    it._ptr, it.bvecq_slot, it.iov_offset = bq, slot, offset
    it.count -= ret
    return ret


def _kvec_page(kaddr: int) -> kmem.Page:
    if kmem.is_vmalloc_addr(kaddr):
        page = kmem.vmalloc_to_page(kaddr)
        if page is None:
            raise KernelBug(f"extract_iter_to_sg: no page mapped at {kaddr:#x}")
        return page
    return kmem.virt_to_page(kaddr)


def _kvec_to_sg(it: iov_iter, maxsize: int, out: _Appender, sg_max: int) -> int:
    """``extract_kvec_to_sg()``, with the 2026 length fix."""
    vec = it.vec or []
    start = it.iov_offset
    ret = 0
    for k in range(it.nr_segs):
        idx = it.vec_idx + k
        if idx >= len(vec):
            raise KernelBug("extract_iter_to_sg: ITER_KVEC ran past its kvec array")
        kv = vec[idx]
        if start >= kv.iov_len:
            start -= kv.iov_len
            continue
        kaddr = kv.iov_base + start
        off = kaddr & _OFF
        length = min(maxsize, kv.iov_len - start)
        kaddr -= off
        maxsize -= length
        ret += length
        while True:
            seg = min(length, PAGE_SIZE - off)
            out.append(_kvec_page(kaddr), seg, off)
            sg_max -= 1
            length -= seg
            kaddr += PAGE_SIZE
            off = 0
            if length <= 0 or sg_max <= 0:
                break
        # sg_max ran out inside the segment: what was not described is not
        # extracted.
        ret -= length
        if maxsize <= 0 or sg_max == 0:
            break
        start = 0
    if ret > 0:
        iov_iter_advance(it, ret)
    return ret


def _folioq_to_sg(it: iov_iter, maxsize: int, out: _Appender, sg_max: int) -> int:
    """``extract_folioq_to_sg()``."""
    folioq = it.folioq
    if folioq is None:
        raise KernelBug("extract_iter_to_sg: ITER_FOLIOQ with no folio_queue")
    slot = it.folioq_slot
    offset = it.iov_offset
    ret = 0
    if slot >= folioq_nr_slots(folioq):
        folioq = folioq.next
        if kmem.WARN_ON_ONCE(folioq is None, "ITER_FOLIOQ: at a segment end with no next"):
            return 0
        slot = 0
    while True:
        folio = folioq_folio(folioq, slot)
        fsize = folioq_folio_size(folioq, slot)
        if offset < fsize:
            if folio is None:
                raise KernelBug("extract_iter_to_sg: ITER_FOLIOQ reached an empty slot")
            part = min(maxsize - ret, fsize - offset)
            out.append(folio, part, offset)
            sg_max -= 1
            offset += part
            ret += part
        if offset >= fsize:
            offset = 0
            slot += 1
            if slot >= folioq_nr_slots(folioq):
                if folioq.next is None:
                    kmem.WARN_ON_ONCE(ret < it.count, "ITER_FOLIOQ: queue ended before count")
                    break
                folioq = folioq.next
                slot = 0
        if sg_max <= 0 or ret >= maxsize:
            break
    it._ptr = folioq
    it.folioq_slot = slot
    it.iov_offset = offset
    it.count -= ret
    return ret


_XARRAY_QUIRK = "extract_xarray_to_sg_offset_v6_3_to_v7_1"


def _xarray_to_sg(it: iov_iter, maxsize: int, out: _Appender, sg_max: int) -> int:
    """``extract_xarray_to_sg()``: one entry per folio from the position.
    Fixed upstream in 2026 (132e70406412): the position moves on with each
    entry.  Under the kernel quirk named for the releases before the fix,
    every folio's offset is taken from the *starting* position, as those
    kernels do (kmem.quirks)."""
    start = it.xarray_start + it.iov_offset
    stale_start = quirk(_XARRAY_QUIRK)
    ret = 0
    with kmem.rcu_read_section():
        for _index, folio in kmem.xa_for_each(it.xarray, start // PAGE_SIZE):
            if kmem.WARN(kmem.xa_is_value(folio), "ITER_XARRAY: value entry in the range"):
                break
            if kmem.WARN(not isinstance(folio, Folio), f"ITER_XARRAY: entry {folio!r}"):
                break
            offset = kmem.offset_in_folio(folio, start)
            length = min(maxsize, kmem.folio_size(folio) - offset)
            out.append(folio, length, offset)
            sg_max -= 1
            maxsize -= length
            if not stale_start:
                start += length
            ret += length
            if maxsize <= 0 or sg_max == 0:
                break
    if ret > 0:
        iov_iter_advance(it, ret)
    return ret


def extract_iter_to_sg(iter: iov_iter, maxsize: int, sgtable: SgTable, sg_max: int,
                       extraction_flags: int = 0) -> int:
    """``extract_iter_to_sg()``: append entries describing up to ``maxsize``
    bytes of ``iter`` (at most ``sg_max`` entries) to ``sgtable`` and
    advance ``iter`` past them.  Returns the bytes described, 0 when
    ``maxsize`` or ``sg_max`` is 0, or -errno (-EIO for DISCARD, the
    extraction's error or 0 for user memory after a rollback)."""
    if not isinstance(iter, iov_iter):
        raise TypeError(f"iter must be an iov_iter, got {type(iter).__name__}")
    if not isinstance(sgtable, SgTable):
        raise TypeError(f"sgtable must be an SgTable, got {type(sgtable).__name__}")
    for name, v in (("maxsize", maxsize), ("sg_max", sg_max),
                    ("extraction_flags", extraction_flags)):
        if not isinstance(v, int) or isinstance(v, bool):
            raise TypeError(f"{name} must be an int, got {type(v).__name__}")
        if v < 0:
            raise ValueError(f"{name} must be >= 0, got {v}")
    if maxsize == 0 or sg_max == 0:
        return 0
    out = _Appender(sgtable)
    t = iter.iter_type
    if t in (ITER_UBUF, ITER_IOVEC):
        return _user_to_sg(iter, maxsize, out, sg_max, extraction_flags)
    if t == ITER_BVEC:
        return _bvec_to_sg(iter, maxsize, out, sg_max)
    if t == ITER_KVEC:
        return _kvec_to_sg(iter, maxsize, out, sg_max)
    if t == ITER_BVECQ:
        return _bvecq_to_sg(iter, maxsize, out, sg_max)
    if t == ITER_FOLIOQ:
        return _folioq_to_sg(iter, maxsize, out, sg_max)
    if t == ITER_XARRAY:
        return _xarray_to_sg(iter, maxsize, out, sg_max)
    kmem.WARN_ON_ONCE(True, f"extract_iter_to_sg({t}) unsupported")
    return -E.EIO
