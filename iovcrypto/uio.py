"""The iov_iter types (include/linux/uio.h, include/uapi/linux/uio.h,
include/linux/bvec.h).

``struct iov_iter`` is the :class:`iov_iter` class, with the kernel's field
names.  How the C unions and pointers are represented:

- A pointer into an array of segments (``__iov``, ``kvec``, ``bvec``) is a
  Python list (the array) plus an index into it (``vec_idx``).  The
  properties ``iov``, ``kvec`` and ``bvec`` give the element the pointer
  points at (``*i->bvec``), or ``None`` past the end of the list; the
  walkers move ``vec_idx`` exactly as the kernel moves the pointer.  Stepping
  off either end of the list is what would be a wild read in C; the model
  raises :class:`kmem.KernelBug` there.
- ``ubuf`` (a user address), ``folioq`` and ``xarray`` share one slot, as
  they share the pointer union.
- ``nr_segs``, ``folioq_slot`` and ``xarray_start`` share one slot, as in
  the kernel's second union (so ``iov_iter_save_state()`` of an ITER_FOLIOQ
  iterator saves its slot, as the kernel's does).

Kernel virtual addresses (``kvec.iov_base``) and user addresses
(``iovec.iov_base``, ``ubuf``) are ints, as in C.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kmem import PAGE_MASK, Folio, Page
from kmem.page_alloc import offset_in_page
from kmem.util import virt_to_page

# enum iter_type, with the numbers of v7.3, the release the model follows
# (UBUF 0 .. FOLIOQ 4, XARRAY 5, DISCARD 6), so that a value read from a
# released kernel means the same here.  ITER_BVECQ is newer than any
# release: Howells' series puts it at 4 and shifts the others (v4 of the
# series, where FOLIOQ still exists, has BVECQ 4 .. DISCARD 7;
# next-20261007, which drops FOLIOQ, has BVECQ 4, XARRAY 5, DISCARD 6).
# Neither fits beside the released numbers, so the model appends it as 7;
# code that names the constants, as kernel code does, is unaffected.
ITER_UBUF = 0
ITER_IOVEC = 1
ITER_BVEC = 2
ITER_KVEC = 3
ITER_FOLIOQ = 4
ITER_XARRAY = 5
ITER_DISCARD = 6
ITER_BVECQ = 7
ITER_TYPE_NAMES = ("ITER_UBUF", "ITER_IOVEC", "ITER_BVEC", "ITER_KVEC", "ITER_FOLIOQ",
                   "ITER_XARRAY", "ITER_DISCARD", "ITER_BVECQ")

READ = 0
WRITE = 1
ITER_DEST = READ     # the iterator is written to (copy_to_iter)
ITER_SOURCE = WRITE  # the iterator is read from (copy_from_iter)

UIO_FASTIOV = 8
UIO_MAXIOV = 1024
INT_MAX = 0x7FFFFFFF
MAX_RW_COUNT = INT_MAX & PAGE_MASK

# iov_iter_extraction_t flags.
ITER_ALLOW_P2PDMA = 0x01

SIZEOF_IOVEC = 16    # struct iovec / struct kvec on 64-bit
SIZEOF_BIO_VEC = 16  # struct bio_vec: page pointer + two unsigned ints


def check_size(name: str, value: object) -> int:
    """A ``size_t`` argument: an int >= 0 (TypeError/ValueError otherwise)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


# Every store into a field of an existing segment (bio_vec, kvec, iovec)
# bumps this count: a description of a segment array kept since an older
# count may describe fields that have changed, so it is not used
# (iovcrypto.iterate_bulk).  A new segment cannot be in a kept description:
# replacing, adding or removing an array's entries is seen by comparing the
# entries themselves.
segment_stores = 0
_set = object.__setattr__


def _store(seg: object, name: str, value: object) -> None:
    global segment_stores
    segment_stores += 1
    _set(seg, name, value)


@dataclass(slots=True, init=False)
class iovec:
    """``struct iovec``: a user-space segment (``iov_base`` is a user address)."""

    iov_base: int
    iov_len: int

    def __init__(self, iov_base: int = 0, iov_len: int = 0) -> None:
        _set(self, "iov_base", iov_base)
        _set(self, "iov_len", iov_len)

    __setattr__ = _store


@dataclass(slots=True, init=False)
class kvec:
    """``struct kvec``: a kernel segment (``iov_base`` is a kernel address)."""

    iov_base: Any
    iov_len: int

    def __init__(self, iov_base: Any = 0, iov_len: int = 0) -> None:
        _set(self, "iov_base", iov_base)
        _set(self, "iov_len", iov_len)

    __setattr__ = _store


@dataclass(slots=True, init=False)
class bio_vec:
    """``struct bio_vec``: ``bv_len`` bytes at ``bv_offset`` from ``bv_page``
    (the offset may exceed PAGE_SIZE: the range then starts in a later page
    of the same physically contiguous block)."""

    bv_page: Page | None
    bv_len: int
    bv_offset: int

    def __init__(self, bv_page: Page | None = None, bv_len: int = 0,
                 bv_offset: int = 0) -> None:
        _set(self, "bv_page", bv_page)
        _set(self, "bv_len", bv_len)
        _set(self, "bv_offset", bv_offset)

    __setattr__ = _store


def bvec_set_page(bv: bio_vec, page: Page, len: int, offset: int) -> None:
    """``bvec_set_page()``: note the kernel's order, length before offset."""
    bv.bv_page = page
    bv.bv_len = check_size("len", len)
    bv.bv_offset = check_size("offset", offset)


def bvec_set_folio(bv: bio_vec, folio: Folio, len: int, offset: int) -> None:
    """``bvec_set_folio()``: a bio_vec over part of a folio (its head page)."""
    bvec_set_page(bv, folio, len, offset)


def bvec_set_virt(bv: bio_vec, vaddr: int, len: int) -> None:
    """``bvec_set_virt()``: uses virt_to_page(), so on a vmalloc or stack
    address kmem records the kernel bug it is."""
    bvec_set_page(bv, virt_to_page(vaddr), len, offset_in_page(vaddr))


@dataclass(slots=True)
class iov_iter_state:
    """``struct iov_iter_state``."""

    iov_offset: int = 0
    count: int = 0
    nr_segs: int = 0


class iov_iter:
    """``struct iov_iter``.  Create one empty (``iov_iter()``) and set it up
    with an initialiser (iov_iter_kvec(), ...), as C code does with a
    stack variable.  ``copy()`` is the C struct assignment ``*new = *old``
    (the segment array is shared, not copied)."""

    __slots__ = ("_ptr", "_start", "_u", "count", "data_source", "iov_offset", "iter_type",
                 "nofault", "vec_idx")

    def __init__(self) -> None:
        self.iter_type = ITER_UBUF
        self.nofault = False
        self.data_source = False
        self.iov_offset = 0
        self.count = 0
        self._ptr: Any = None      # the pointer union: array, ubuf, folioq or xarray
        self.vec_idx = 0           # index of the current element in the array
        self._u = 0                # the nr_segs / folioq_slot / xarray_start union
        # ITER_BVECQ's stored starting point (bvecq, slot, offset, count):
        # iov_iter_revert() resets to it and advances (Howells' series).
        self._start: Any = None

    def copy(self) -> iov_iter:
        new = iov_iter.__new__(iov_iter)
        new._start = self._start
        new.iter_type, new.nofault, new.data_source = self.iter_type, self.nofault, self.data_source
        new.iov_offset, new.count, new._ptr = self.iov_offset, self.count, self._ptr
        new.vec_idx, new._u = self.vec_idx, self._u
        return new

    def assign(self, other: iov_iter) -> None:
        """``*self = *other``: this iterator put where ``other`` is.  Unlike
        iov_iter_restore() this works for every iterator type (the kernel's
        restore WARNs for FOLIOQ and XARRAY)."""
        for name in iov_iter.__slots__:
            setattr(self, name, getattr(other, name))

    # The second union.
    @property
    def nr_segs(self) -> int:
        return self._u

    @nr_segs.setter
    def nr_segs(self, v: int) -> None:
        self._u = v

    @property
    def folioq_slot(self) -> int:
        return self._u & 0xFF

    @folioq_slot.setter
    def folioq_slot(self, v: int) -> None:
        self._u = (self._u & ~0xFF) | (v & 0xFF)

    @property
    def bvecq_slot(self) -> int:
        return self._u & 0xFFFF

    @bvecq_slot.setter
    def bvecq_slot(self, v: int) -> None:
        self._u = (self._u & ~0xFFFF) | (v & 0xFFFF)

    @property
    def xarray_start(self) -> int:
        return self._u

    @xarray_start.setter
    def xarray_start(self, v: int) -> None:
        self._u = v

    # The pointer union.
    @property
    def vec(self) -> list | None:
        """The segment array (IOVEC/KVEC/BVEC), or None."""
        return self._ptr if isinstance(self._ptr, list) else None

    def _cur(self) -> Any:
        vec = self.vec
        if vec is None or not 0 <= self.vec_idx < len(vec):
            return None
        return vec[self.vec_idx]

    @property
    def iov(self) -> iovec | None:
        return self._cur()

    @property
    def kvec(self) -> kvec | None:
        return self._cur()

    @property
    def bvec(self) -> bio_vec | None:
        return self._cur()

    @property
    def ubuf(self) -> int:
        return self._ptr if isinstance(self._ptr, int) else 0

    @property
    def bvecq(self) -> Any:
        return self._ptr if self.iter_type == ITER_BVECQ else None

    @property
    def folioq(self) -> Any:
        return self._ptr if self.iter_type == ITER_FOLIOQ else None

    @property
    def xarray(self) -> Any:
        return self._ptr if self.iter_type == ITER_XARRAY else None

    def __repr__(self) -> str:
        name = (ITER_TYPE_NAMES[self.iter_type] if 0 <= self.iter_type < len(ITER_TYPE_NAMES)
                else self.iter_type)
        where = {ITER_FOLIOQ: f"slot={self.folioq_slot}", ITER_BVECQ: f"slot={self.bvecq_slot}",
                 ITER_XARRAY: f"xarray_start={self.xarray_start}"}.get(
                     self.iter_type, f"seg={self.vec_idx} nr_segs={self.nr_segs}")
        dirn = "SOURCE" if self.data_source else "DEST"
        return f"<iov_iter {name} {dirn} count={self.count} iov_offset={self.iov_offset} {where}>"


# Predicates and small queries (static inlines of uio.h).

def check_iter(i: object, name: str = "i") -> iov_iter:
    """The iov_iter argument ``i`` (called ``name``) of a uio.h or
    lib/iov_iter.c function, checked."""
    if not isinstance(i, iov_iter):
        raise TypeError(f"{name} must be an iov_iter, got {type(i).__name__}")
    return i


def iov_iter_type(i: iov_iter) -> int:
    return check_iter(i).iter_type


def iter_is_ubuf(i: iov_iter) -> bool:
    return check_iter(i).iter_type == ITER_UBUF


def iter_is_iovec(i: iov_iter) -> bool:
    return check_iter(i).iter_type == ITER_IOVEC


def iov_iter_is_kvec(i: iov_iter) -> bool:
    return check_iter(i).iter_type == ITER_KVEC


def iov_iter_is_bvec(i: iov_iter) -> bool:
    return check_iter(i).iter_type == ITER_BVEC


def iov_iter_is_discard(i: iov_iter) -> bool:
    return check_iter(i).iter_type == ITER_DISCARD


def iov_iter_is_bvecq(i: iov_iter) -> bool:
    return check_iter(i).iter_type == ITER_BVECQ


def iov_iter_is_folioq(i: iov_iter) -> bool:
    return check_iter(i).iter_type == ITER_FOLIOQ


def iov_iter_is_xarray(i: iov_iter) -> bool:
    return check_iter(i).iter_type == ITER_XARRAY


def user_backed_iter(i: iov_iter) -> bool:
    return check_iter(i).iter_type in (ITER_UBUF, ITER_IOVEC)


def iov_iter_rw(i: iov_iter) -> int:
    return WRITE if i.data_source else READ


def iov_iter_count(i: iov_iter) -> int:
    return check_iter(i).count


def iter_iov(i: iov_iter) -> iovec | None:
    """``iter_iov()``: for UBUF the overlaid ``__ubuf_iovec`` (built here as
    ``iovec(ubuf, count)``), else the current iovec."""
    if check_iter(i).iter_type == ITER_UBUF:
        return iovec(i.ubuf, i.count)
    return i.iov


def iter_iov_addr(i: iov_iter) -> int:
    cur = iter_iov(i)
    return (cur.iov_base if cur is not None else 0) + i.iov_offset


def iter_iov_len(i: iov_iter) -> int:
    if check_iter(i).iter_type == ITER_UBUF:
        return i.count
    cur = iter_iov(i)
    return (cur.iov_len if cur is not None else 0) - i.iov_offset


def iov_length(iov: list[iovec], nr_segs: int) -> int:
    """``iov_length()``: total bytes of the first ``nr_segs`` iovecs."""
    return sum(v.iov_len for v in iov[:nr_segs])


def iov_iter_extract_will_pin(iter: iov_iter) -> bool:
    """``iov_iter_extract_will_pin()``: True when iov_iter_extract_pages()
    pins (the caller must unpin_user_page() each page); False when it takes
    nothing and the caller must keep the memory alive itself."""
    return check_iter(iter, "iter").iter_type in (ITER_UBUF, ITER_IOVEC)     # user_backed_iter()
