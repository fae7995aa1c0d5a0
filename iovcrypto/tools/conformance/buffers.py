"""A buffer configuration realised in memory, in both worlds.

testmgr's ``build_test_sglist``/``build_cipher_test_sglists``/
``verify_correct_output``/``is_test_sglist_corrupted`` for scatterlists,
and the same thing for every iov_iter type:

- ``KVEC`` over kmalloc, vmalloc, on-stack or direct-map page memory;
- ``BVEC`` over (two-page, compound) pages;
- ``FOLIOQ`` over a folio queue; ``XARRAY`` over page-cache folios;
- ``BVECQ`` over pages, a bvecq chain of one bio_vec a piece (bvecq_layout.py);
- ``UBUF`` and ``IOVEC`` over a user address space.

The memory itself comes from ``areas.py``.

Each division of the configuration gets its own two-page buffer, entirely
poisoned with 0xfe before the input is copied in, so a driver that writes
past the bytes it was given is caught by the 16 poison bytes after each
piece (``-EOVERFLOW``).  FOLIOQ, XARRAY and UBUF describe one contiguous
run of memory, so for them the divisions collapse into one piece that
starts at the first division's offset (page crossings then come from the
folios themselves).  In place means: for scatterlists, src and dst are the
same list (ONE) or two lists with identical entries (TWO); for iov_iters,
two iterators (an ITER_SOURCE and an ITER_DEST: one iterator cannot be
both) over the same memory, sharing one segment array (ONE) or with a copy
of it (TWO).

If a piece does not fit its buffer, testmgr halves the offset until it
does; here the buffer grows instead once the offset reaches 0 (vectors
longer than two pages are not in testmgr's world at all).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

import iovcrypto as iov
import kmem
import sgl
from iovcrypto.tools.conformance import bvecq_layout as BQ
from iovcrypto.tools.conformance.areas import Area, alloc_area
from iovcrypto.tools.conformance.configs import (
    TESTMGR_POISON_BYTE,
    TESTMGR_POISON_LEN,
    InplaceMode,
    TestSgDivision,
    TestvecConfig,
    division_lengths,
)
from kmem import PAGE_SIZE
from kmem import errno as E

# (iterator type, memory kind) pairs a configuration is realised over.
ITER_REALISATIONS: tuple[tuple[str, str], ...] = (
    ("KVEC", "slab"), ("KVEC", "vmalloc"), ("KVEC", "stack"), ("KVEC", "page"),
    ("BVEC", "page"), ("FOLIOQ", "folio"), ("XARRAY", "pagecache"),
    ("UBUF", "user"), ("IOVEC", "user"), ("BVECQ", "page"),
)
SG_KINDS: tuple[str, ...] = ("page", "slab")
_CONTIGUOUS = ("FOLIOQ", "XARRAY", "UBUF")


# Pieces: the used part of each buffer, in data order.

@dataclass
class Piece:
    area: Area
    offset: int
    length: int


def _place(div: TestSgDivision, length: int, alignmask: int) -> tuple[int, int]:
    """testmgr's placement: the offset, halved while the piece and its
    poison do not fit two pages; the buffer size needed."""
    offset = div.effective_offset(alignmask)
    while offset and offset + length + TESTMGR_POISON_LEN > 2 * PAGE_SIZE:
        offset //= 2
    return offset, max(2 * PAGE_SIZE, offset + length + TESTMGR_POISON_LEN)


def _fill(pieces: list[Piece], data: bytes) -> None:
    """Poison every buffer whole, then copy ``data`` into the pieces."""
    seen: set[int] = set()
    for p in pieces:
        if id(p.area) not in seen:
            seen.add(id(p.area))
            kmem.fill_views(p.area.views(0, p.area.size, write=True), TESTMGR_POISON_BYTE)
    pos = 0
    src = np.frombuffer(data, dtype=np.uint8)
    for p in pieces:
        n = min(p.length, len(src) - pos)
        if n > 0:
            kmem.copy_views(p.area.views(p.offset, n, write=True), [src[pos:pos + n]])
            pos += n


def _read(area: Area, off: int, n: int) -> bytes:
    views = area.views(off, n)
    return kmem.gather(views).tobytes() if views else b""


def verify_correct_output(pieces: list[Piece], expected: bytes, unchecked_prefix: int,
                          check_poison: bool) -> int:
    """``verify_correct_output()``: 0, -EINVAL (wrong bytes) or -EOVERFLOW
    (poison after a piece's checked part overwritten)."""
    len_to_check = len(expected)
    pos = 0
    for p in pieces:
        off, n = p.offset, p.length
        if unchecked_prefix:
            if unchecked_prefix >= n:
                unchecked_prefix -= n
                continue
            off += unchecked_prefix
            n -= unchecked_prefix
            unchecked_prefix = 0
        n = min(n, len_to_check)
        if _read(p.area, off, n) != expected[pos:pos + n]:
            return -E.EINVAL
        if check_poison and _read(p.area, off + n, TESTMGR_POISON_LEN) != \
                bytes([TESTMGR_POISON_BYTE]) * TESTMGR_POISON_LEN:
            return -E.EOVERFLOW
        len_to_check -= n
        pos += n
    return -E.EINVAL if len_to_check else 0


def read_pieces(pieces: list[Piece], start: int, n: int) -> bytes:
    """``n`` bytes at logical position ``start`` of the pieces."""
    out = bytearray()
    pos = 0
    for p in pieces:
        lo, hi = max(start, pos), min(start + n, pos + p.length)
        if lo < hi:
            out += _read(p.area, p.offset + lo - pos, hi - lo)
        pos += p.length
    return bytes(out)


class _Owner:
    def __init__(self) -> None:
        self.areas: list[Area] = []

    def free(self) -> None:
        for a in reversed(self.areas):
            a.free()
        self.areas.clear()


# The scatterlist world.

class TestSglist(_Owner):
    """``struct test_sglist``: the entries (in one array, or chained
    arrays), their saved copy and the pieces of memory they describe."""

    def __init__(self) -> None:
        super().__init__()
        self.pieces: list[Piece] = []
        self.sgl: sgl.SgArray = sgl.sg_array(0)
        self.arrays: list = []
        self.saved: list[tuple[int, int, int]] = []
        self.shape = ""

    @property
    def nents(self) -> int:
        return len(self.pieces)

    def _entries(self) -> list[tuple[int, int, int]]:
        return [(sg.page_link, sg.offset, sg.length) for a in self.arrays for sg in a]

    def save(self) -> None:
        self.saved = self._entries()

    def is_corrupted(self) -> bool:
        """``is_test_sglist_corrupted()`` (every array of a chain)."""
        return self._entries() != self.saved


def _sg_shape(pieces: list[Piece], shape: str) -> list[list[int]]:
    """The entries as arrays: piece indices, -1 for a zero-length entry.
    "" is testmgr's one flat array; "chain" links one-entry arrays and a
    zero-length entry right after each link ("chain" is what
    build_test_sglist draws for every other layout, see there)."""
    n = len(pieces)
    if shape != "chain":
        return [list(range(n))]
    arrays: list[list[int]] = [[0]]
    for i in range(1, n):
        arrays.append([-1, i])
    if n == 1:
        arrays.append([-1])
    return arrays


def _sg_describe(tsgl: TestSglist, shape: str = "") -> None:
    tsgl.shape = shape
    plan = _sg_shape(tsgl.pieces, shape)
    arrays = []
    for k, idxs in enumerate(plan):
        link = k + 1 < len(plan)
        arr = sgl.sg_array(len(idxs) + link)
        sgl.sg_init_table(arr, len(idxs) + link)
        for sg, i in zip(arr, idxs):
            if i < 0:
                p = tsgl.pieces[0]
                sgl.sg_set_buf(sg, p.area.addr + p.offset, 0)
            else:
                p = tsgl.pieces[i]
                sgl.sg_set_buf(sg, p.area.addr + p.offset, p.length)
        arrays.append(arr)
    for a, b in itertools.pairwise(arrays):
        sgl.sg_chain(a, len(a), b)
    sgl.sg_mark_end(arrays[-1][len(plan[-1]) - 1])
    tsgl.arrays = arrays
    tsgl.sgl = arrays[0]
    tsgl.save()


def build_test_sglist(divs: tuple[TestSgDivision, ...], alignmask: int, total: int,
                      data: bytes | None, kind: str = "page") -> TestSglist:
    """``build_test_sglist()`` over two-page buffers of memory ``kind``
    ("page" as testmgr, or "slab"; "+chain" for chained one-entry arrays
    with zero-length entries after each link): pieces per division,
    poisoned, the input copied in, SG_END on the last entry and a saved
    copy."""
    kind, _, shape = kind.partition("+")
    tsgl = TestSglist()
    for i, n in division_lengths(divs, total):
        off, size = _place(divs[i], n, alignmask)
        area = alloc_area(kind, size)
        tsgl.areas.append(area)
        tsgl.pieces.append(Piece(area, off, n))
    _fill(tsgl.pieces, data or b"")
    _sg_describe(tsgl, shape)
    return tsgl


@dataclass
class CipherTestSglists:
    """``struct cipher_test_sglists``: src, dst and which list is passed
    as each (``dst_ptr`` is ``src.sgl`` itself for INPLACE_ONE)."""

    src: TestSglist
    dst: TestSglist
    src_ptr: list
    dst_ptr: list
    own_dst: bool = field(default=True)

    def free(self) -> None:
        self.src.free()
        if self.own_dst:
            self.dst.free()


def build_cipher_test_sglists(cfg: TestvecConfig, alignmask: int, src_total: int,
                              dst_total: int, data: bytes, kind: str = "page") -> CipherTestSglists:
    """``build_cipher_test_sglists()``."""
    total = max(src_total, dst_total) if cfg.inplace else src_total
    src = build_test_sglist(cfg.src_divs, alignmask, total, data, kind)
    if cfg.inplace_mode == InplaceMode.INPLACE_ONE_SGLIST:
        return CipherTestSglists(src, src, src.sgl, src.sgl, own_dst=False)
    if cfg.inplace_mode == InplaceMode.INPLACE_TWO_SGLISTS:
        # The same memory, split differently: the other list shape.
        dst = TestSglist()
        dst.pieces = list(src.pieces)
        _sg_describe(dst, "" if src.shape else "chain")
        return CipherTestSglists(src, dst, src.sgl, dst.sgl, own_dst=False)
    dst = build_test_sglist(cfg.dst_divisions(), alignmask, dst_total, None, kind)
    return CipherTestSglists(src, dst, src.sgl, dst.sgl)


# The iov_iter world.

_SEG_FIELDS = {"iovec": ("iov_base", "iov_len"), "kvec": ("iov_base", "iov_len"),
               "bio_vec": ("bv_page", "bv_len", "bv_offset")}


def _seg_key(seg: object) -> tuple:
    names = _SEG_FIELDS.get(type(seg).__name__, ())
    return tuple((n, id(getattr(seg, n)) if n == "bv_page" else getattr(seg, n)) for n in names)


def iter_snapshot(it: iov.iov_iter) -> tuple:
    """Every field of ``struct iov_iter`` (pointers by identity)."""
    return (it.iter_type, it.data_source, it.nofault, it.iov_offset, it.count, id(it._ptr),
            it._ptr if isinstance(it._ptr, int) else None, it.vec_idx, it._u)


class TestIter(_Owner):
    """One iov_iter over a realised configuration: the iterator, its
    segment array (for vector types) and the pieces it covers."""

    def __init__(self, itype: str, kind: str) -> None:
        super().__init__()
        self.itype = itype
        self.kind = kind
        self.pieces: list[Piece] = []
        self.segs: list | None = None
        self.it = iov.iov_iter()
        self.saved_segs: list[tuple] = []
        self.extra: object = None
        self.zeros = False
        self.zeros_ok = True
        self.trailer: Piece | None = None     # ITER_BVECQ: a slot past the data

    def save(self) -> None:
        self.saved_segs = [_seg_key(s) for s in (self.segs or [])]

    def segs_corrupted(self) -> bool:
        return [_seg_key(s) for s in (self.segs or [])] != self.saved_segs


def _seg(itype: str, p: Piece, n: int) -> object:
    if itype == "KVEC":
        return iov.kvec(p.area.addr + p.offset, n)
    if itype == "IOVEC":
        return iov.iovec(p.area.uaddr + p.offset, n)
    if itype == "BVEC":
        return iov.bio_vec(p.area.page, n, p.offset)
    raise ValueError(itype)


def _seg_array(itype: str, pieces: list[Piece], zeros: bool = False) -> list:
    """One segment per piece; with ``zeros``, a zero-length segment before
    the first and after every piece (inside a non-empty array)."""
    out = []
    for p in pieces:
        if zeros and not out:
            out.append(_seg(itype, p, 0))
        out.append(_seg(itype, p, p.length))
        if zeros:
            out.append(_seg(itype, p, 0))
    return out


def _iter_init(t: TestIter, direction: int, count: int, segs: list | None) -> None:
    it = t.it
    p0 = t.pieces[0]
    if t.itype == "KVEC":
        iov.iov_iter_kvec(it, direction, segs, len(segs), count)
    elif t.itype == "BVEC":
        iov.iov_iter_bvec(it, direction, segs, len(segs), count)
    elif t.itype == "IOVEC":
        iov.iov_iter_init(it, direction, segs, len(segs), count)
    elif t.itype == "UBUF":
        iov.iov_iter_ubuf(it, direction, p0.area.uaddr + p0.offset, count)
    elif t.itype == "FOLIOQ":
        area = p0.area
        if t.extra is None:
            t.extra = kmem.folioq_from_folios(area.folios)
        iov.iov_iter_folio_queue(it, direction, t.extra, 0, p0.offset, count)
    elif t.itype == BQ.ITYPE:
        if t.extra is None:
            t.extra = BQ.build_chain([*t.pieces, t.trailer])
        BQ.iter_init(it, direction, count + BQ.TRAILER, t.extra)
    elif t.itype == "XARRAY":
        area = p0.area
        iov.iov_iter_xarray(it, direction, area.mapping.i_pages,
                            area.first_index * PAGE_SIZE + p0.offset, count)
    else:
        raise ValueError(f"unknown iterator type {t.itype!r}")


def build_test_iter(itype: str, kind: str, divs: tuple[TestSgDivision, ...], alignmask: int,
                    total: int, count: int, data: bytes | None, direction: int,
                    zeros: bool = True) -> TestIter:
    """A ``TestIter`` of ``itype`` over memory ``kind`` laid out as
    ``divs`` over ``total`` bytes (poisoned, input copied in); the
    iterator covers ``count`` bytes (<= total) in ``direction``."""
    t = TestIter(itype, kind)
    parts = division_lengths(divs, total)
    if itype in _CONTIGUOUS:
        parts = [(parts[0][0], total)]
    for i, n in parts:
        off, size = _place(divs[i], n, alignmask)
        area = alloc_area(kind, size, rotate=off + total)
        t.areas.append(area)
        t.pieces.append(Piece(area, off, n))
    _fill(t.pieces, data or b"")
    if itype == BQ.ITYPE:
        # A trailer slot after the data, inside the iterator: a request
        # must leave the iterator at its start (bvecq_layout.py).
        area = alloc_area("page", BQ.TRAILER)
        t.areas.append(area)
        kmem.fill_views(area.views(0, area.size, write=True), TESTMGR_POISON_BYTE)
        t.trailer = Piece(area, 0, BQ.TRAILER)
    if itype not in _CONTIGUOUS and itype != BQ.ITYPE:
        # Zero-length segments in every other layout (by size and offset).
        t.zeros_ok = zeros
        t.zeros = zeros and (total + t.pieces[0].offset) % 2 == 0
        t.segs = _seg_array(itype, t.pieces, t.zeros)
    _iter_init(t, direction, count, t.segs)
    t.save()
    return t


def twin_iter(t: TestIter, direction: int, count: int, share_segs: bool) -> TestIter:
    """A second iterator over the same memory (in place): sharing the
    segment array (one list) or over a copy of it (two lists)."""
    twin = TestIter(t.itype, t.kind)
    twin.pieces = list(t.pieces)
    twin.extra = t.extra
    twin.trailer = t.trailer
    if t.itype == BQ.ITYPE and not share_segs:
        # Two lists: the same pages, split over segments differently.
        twin.extra = BQ.build_chain([*t.pieces, t.trailer], BQ.SLOTS + 1)
    if t.segs is not None:
        # Two lists: the same memory, with the other segment split.
        twin.zeros = t.zeros if share_segs else t.zeros_ok and not t.zeros
        twin.segs = t.segs if share_segs else _seg_array(t.itype, t.pieces, twin.zeros)
    _iter_init(twin, direction, count, twin.segs)
    twin.save()
    return twin


@dataclass
class CipherTestIters:
    src: TestIter
    dst: TestIter
    own_dst: bool = True

    def free(self) -> None:
        self.src.free()
        if self.own_dst:
            self.dst.free()


def build_cipher_test_iters(cfg: TestvecConfig, alignmask: int, src_total: int, dst_total: int,
                            data: bytes, itype: str, kind: str,
                            one_object: bool | None = None,
                            zeros: bool = True) -> CipherTestIters:
    """The iov_iter counterpart of ``build_cipher_test_sglists()``.  In
    place: INPLACE_ONE_SGLIST is one iterator object as both src and dst
    (ITER_DEST, the API's rule), or, with ``one_object=False``, two
    iterators sharing one segment array; INPLACE_TWO_SGLISTS is two
    iterators over copies of the segment array."""
    if cfg.inplace:
        total = max(src_total, dst_total)
        one = cfg.inplace_mode == InplaceMode.INPLACE_ONE_SGLIST
        if one and (one_object if one_object is not None else True):
            t = build_test_iter(itype, kind, cfg.src_divs, alignmask, total, total, data,
                                iov.ITER_DEST, zeros)
            return CipherTestIters(t, t, False)
        src = build_test_iter(itype, kind, cfg.src_divs, alignmask, total, src_total, data,
                              iov.ITER_SOURCE, zeros)
        return CipherTestIters(src, twin_iter(src, iov.ITER_DEST, dst_total, one), False)
    src = build_test_iter(itype, kind, cfg.src_divs, alignmask, src_total, src_total, data,
                          iov.ITER_SOURCE, zeros)
    dst = build_test_iter(itype, kind, cfg.dst_divisions(), alignmask, dst_total, dst_total,
                          None, iov.ITER_DEST, zeros)
    return CipherTestIters(src, dst)


# The independent oracle: where an iterator must be after n bytes, from
# the layout alone (the segment lengths, the folio sizes), never through
# the iov_iter code under test.

def expected_snapshot(t: TestIter, before: tuple, n: int) -> tuple:
    """:func:`iter_snapshot` of the iterator whose snapshot was ``before``
    once it has advanced by ``n`` bytes, as lib/iov_iter.c's advance
    functions define it: vector types stop at the first segment with bytes
    left beyond the position (empty and used-up segments are stepped
    over), FOLIOQ steps over used-up folios, UBUF and XARRAY only move the
    offset.  (ITER_BVECQ has no single expected snapshot: iter_misplaced.)"""
    itype_, src_, nofault, off, count, ptr_id, ptr_int, idx, u = before
    if n == 0:
        return before
    if t.itype in ("KVEC", "IOVEC", "BVEC"):
        lens = [(s.bv_len if t.itype == "BVEC" else s.iov_len) for s in t.segs]
        size, k, end = off + n, idx, idx + u
        while k < end and size >= lens[k]:
            size -= lens[k]
            k += 1
        return (itype_, src_, nofault, size, count - n, ptr_id, ptr_int, k, u - (k - idx))
    if t.itype == "FOLIOQ":
        q = t.extra
        while q is not None and id(q) != ptr_id:
            q = q.next
        size, slot = off + n, u
        while q is not None and size > 0:
            fsize = kmem.folioq_folio_size(q, slot)
            if size < fsize:
                break
            size -= fsize
            slot += 1
            if slot >= kmem.folioq_nr_slots(q) and q.next is not None:
                q, slot = q.next, 0
        return (itype_, src_, nofault, size, count - n, id(q), ptr_int, idx, slot)
    if t.itype == "DISCARD":
        # A sink keeps no position: only the count drops.
        return (itype_, src_, nofault, off, count - n, ptr_id, ptr_int, idx, u)
    return (itype_, src_, nofault, off + n, count - n, ptr_id, ptr_int, idx, u)


def iter_misplaced(t: TestIter, it: iov.iov_iter, before: tuple, n: int) -> bool:
    """Whether ``it`` (whose snapshot was ``before``) is not ``n`` bytes
    further on: every field as :func:`expected_snapshot` says, except that
    an ITER_BVECQ position is judged as a place, not as field values
    (bvecq_layout.py says why)."""
    if t.itype == BQ.ITYPE:
        return BQ.misplaced(t.extra, iter_snapshot(it), before, n)
    return iter_snapshot(it) != expected_snapshot(t, before, n)


def realisation_name(itype: str, kind: str, dst: str = "") -> str:
    """``ITER_KVEC/slab``; with a dst type of its own (a DISCARD sink),
    ``ITER_KVEC/slab -> ITER_DISCARD``."""
    return f"ITER_{itype}/{kind}" + (f" -> ITER_{dst}" if dst else "")
