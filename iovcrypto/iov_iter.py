"""lib/iov_iter.c, part one: initialisers and copies.

Every copy here (copy_to_iter, copy_from_iter and their _full/_nocache
variants, copy_page_*, copy_folio_*, iov_iter_zero) is a step function run
by iterate_and_advance (iovcrypto/iterate.py), as in the kernel.  The
caller's buffer is resolved to numpy views once per call; steps slice it by
``progress``.  Position management (advance, revert,
truncate, save/restore) is in iovcrypto/iov_iter_position.py, queries in
iovcrypto/iov_iter_query.py, the import of
user iovecs and dup_iter() in iovcrypto/iov_iter_import.py, page extraction
in iovcrypto/iov_iter_extract.py.

Deliberate differences from the kernel:
- check_copy_size() is modelled only for its ``bytes > INT_MAX`` WARN; the
  hardened-usercopy object check is left to kmem's bounds checking (an
  over-long copy out of a kmalloc object is recorded as out-of-bounds).
- copy_page_to_iter() and friends copy the page range in one walk instead
  of one kmap'd page at a time; the bytes, the result and the iterator's
  final position are the same, and no kmap is recorded.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from iovcrypto.iov_iter_position import iov_iter_revert
from iovcrypto.iterate import iterate_and_advance
from iovcrypto.iterate_bulk import bulk_copy
from iovcrypto.uio import (
    INT_MAX,
    ITER_BVEC,
    ITER_DISCARD,
    ITER_FOLIOQ,
    ITER_IOVEC,
    ITER_KVEC,
    ITER_UBUF,
    ITER_XARRAY,
    READ,
    WRITE,
    bio_vec,
    check_iter,
    check_size,
    iov_iter,
    iovec,
    kvec,
    user_backed_iter,
)
from kmem import (
    PAGE_SHIFT,
    PAGE_SIZE,
    Folio,
    KernelBug,
    Page,
    XArray,
    pagefault_disable,
    pagefault_disabled,
    pagefault_enable,
)
from kmem import stats as _stats
from kmem.access import buffer_views, gather, page_views
from kmem.folio_queue import PAGEVEC_SIZE, FolioQueue
from kmem.preempt import might_sleep
from kmem.sanitizer import WARN

# Initialisers.

def _direction(direction: object) -> int:
    if not isinstance(direction, int) or isinstance(direction, bool):
        raise TypeError(f"direction must be an int (READ/WRITE), got {direction!r}")
    return direction


def _setup(i: iov_iter, itype: int, direction: int, ptr: Any, u: int, count: int,
           iov_offset: int = 0) -> None:
    check_iter(i)
    i.iter_type = itype
    i.nofault = False
    i.data_source = bool(direction)
    i.iov_offset = iov_offset
    i.count = check_size("count", count)
    i._ptr = ptr
    i.vec_idx = 0
    i._u = u


def _vec_init(i: iov_iter, itype: int, direction: int, vec: list, nr_segs: int, count: int,
              cls: type, name: str) -> None:
    # Every initialiser runs once per request: the common case (an int
    # direction, a list of the right elements) costs a few type() tests.
    if type(direction) is not int:
        direction = _direction(direction)
    if direction & ~(READ | WRITE):
        WARN(True, f"iov_iter_{name}: bad direction {direction:#x}")
    if type(vec) is not list and not isinstance(vec, list):
        raise TypeError(f"{name} must be a list of {cls.__name__}, got {type(vec).__name__}")
    if type(nr_segs) is not int or nr_segs < 0:
        check_size("nr_segs", nr_segs)
    if nr_segs > len(vec):
        raise ValueError(f"nr_segs ({nr_segs}) exceeds the {len(vec)}-element {name} array")
    for seg in vec[:nr_segs] if nr_segs != 1 else (vec[0],):
        if type(seg) is not cls and not isinstance(seg, cls):
            raise TypeError(f"{name} array holds a {type(seg).__name__}, not a {cls.__name__}")
        if cls is not bio_vec and not isinstance(seg.iov_base, int):
            raise TypeError(f"{name}.iov_base must be an address (int), got "
                            f"{type(seg.iov_base).__name__}")
    if type(i) is not iov_iter:
        check_iter(i)
    if type(count) is not int or count < 0:
        check_size("count", count)
    i.iter_type = itype
    i.nofault = False
    i.data_source = bool(direction)
    i.iov_offset = 0
    i.count = count
    i._ptr = vec
    i.vec_idx = 0
    i._u = nr_segs


def iov_iter_init(i: iov_iter, direction: int, iov: list[iovec], nr_segs: int,
                  count: int) -> None:
    """``iov_iter_init()``: ITER_IOVEC over user segments (WARN on a bad
    direction).  ``count`` is trusted, not checked against the segments."""
    _vec_init(i, ITER_IOVEC, direction, iov, nr_segs, count, iovec, "iov")


def iov_iter_kvec(i: iov_iter, direction: int, kvec_: list[kvec], nr_segs: int,
                  count: int) -> None:
    """``iov_iter_kvec()``: ITER_KVEC over kernel segments."""
    _vec_init(i, ITER_KVEC, direction, kvec_, nr_segs, count, kvec, "kvec")


def iov_iter_bvec(i: iov_iter, direction: int, bvec: list[bio_vec], nr_segs: int,
                  count: int) -> None:
    """``iov_iter_bvec()``: ITER_BVEC over bio_vecs."""
    _vec_init(i, ITER_BVEC, direction, bvec, nr_segs, count, bio_vec, "bvec")


def iov_iter_ubuf(i: iov_iter, direction: int, buf: int, count: int) -> None:
    """``iov_iter_ubuf()``: ITER_UBUF over one user buffer (nr_segs = 1)."""
    direction = _direction(direction)
    if direction & ~(READ | WRITE):
        WARN(True, f"iov_iter_ubuf: bad direction {direction:#x}")
    if not isinstance(buf, int):
        raise TypeError(f"buf must be a user address (int), got {type(buf).__name__}")
    _setup(i, ITER_UBUF, direction, buf, 1, count)


def iov_iter_folio_queue(i: iov_iter, direction: int, folioq: FolioQueue, first_slot: int,
                         offset: int, count: int) -> None:
    """``iov_iter_folio_queue()``: ITER_FOLIOQ from ``offset`` into the folio
    in ``first_slot``; BUG on a bad direction.  Leaving: in v6.12..v7.3,
    removed in linux-next (next-20261007) in favour of ITER_BVECQ
    (:func:`iovcrypto.bvecq.iov_iter_bvec_queue`)."""
    direction = _direction(direction)
    if direction & ~1:
        raise KernelBug(f"iov_iter_folio_queue: bad direction {direction:#x}")
    if not isinstance(folioq, FolioQueue):
        raise TypeError(f"folioq must be a FolioQueue, got {type(folioq).__name__}")
    if not 0 <= check_size("first_slot", first_slot) <= PAGEVEC_SIZE:
        raise ValueError(f"first_slot must be in 0..{PAGEVEC_SIZE}, got {first_slot}")
    _setup(i, ITER_FOLIOQ, direction, folioq, first_slot, count, check_size("offset", offset))


def iov_iter_xarray(i: iov_iter, direction: int, xarray: XArray, start: int,
                    count: int) -> None:
    """``iov_iter_xarray()``: ITER_XARRAY from file position ``start``; BUG on
    a bad direction.  Legacy: upstream says it "should be removed" (its
    users move to ITER_BVECQ)."""
    direction = _direction(direction)
    if direction & ~1:
        raise KernelBug(f"iov_iter_xarray: bad direction {direction:#x}")
    if not isinstance(xarray, XArray):
        raise TypeError(f"xarray must be an XArray, got {type(xarray).__name__}")
    _setup(i, ITER_XARRAY, direction, xarray, check_size("start", start), count)


def iov_iter_discard(i: iov_iter, direction: int, count: int) -> None:
    """``iov_iter_discard()``: a sink; BUG unless ``direction`` is READ."""
    if _direction(direction) != READ:
        raise KernelBug("iov_iter_discard: only a READ (ITER_DEST) iterator can discard")
    _setup(i, ITER_DISCARD, READ, None, 0, count)


# Copies.

def _memcpy_to_iter(base: np.ndarray, progress: int, length: int, from_: np.ndarray,
                    _priv2: Any) -> int:
    base[:] = from_[progress:progress + length]
    return 0


def _memcpy_from_iter(base: np.ndarray, progress: int, length: int, to: np.ndarray,
                      _priv2: Any) -> int:
    to[progress:progress + length] = base
    return 0


def _zero_to_iter(base: np.ndarray, progress: int, length: int, _priv: Any,
                  _priv2: Any) -> int:
    base.fill(0)
    return 0


# The walker resolves user memory itself (see iterate.py), so the user and
# kernel steps of a copy are the same function.
_copy_to_user_iter = _memcpy_to_iter
_copy_from_user_iter = _memcpy_from_iter
_zero_to_user_iter = _zero_to_iter


def _might_fault() -> None:
    if not pagefault_disabled():
        might_sleep("might_fault() in a user-backed iov_iter copy")


def _one_array(views: list[np.ndarray]) -> np.ndarray:
    return views[0] if len(views) == 1 else gather(views)


def _to_iter(src: Any, n: int, i: iov_iter) -> int:
    """Walk ``i`` with the copy-to step over ``n`` (<= count) bytes whose
    source ``src`` resolves lazily (DISCARD never reads it)."""
    if not n:
        return 0
    if user_backed_iter(i):
        _might_fault()
    data = None if i.iter_type == ITER_DISCARD else _one_array(src(n))
    if data is not None and bulk_copy(i, n, data, True):
        done = n
    else:
        done = iterate_and_advance(i, n, data, _copy_to_user_iter, _memcpy_to_iter,
                                   page_steps=False)
    if _stats.ON and data is not None:
        _stats.note_copy(done)
    return done


def _from_iter(dst: Any, n: int, i: iov_iter, fault: bool = True) -> int:
    """Walk ``i`` with the copy-from step into the views ``dst(n)``."""
    if not n:
        return 0
    if fault and user_backed_iter(i):
        _might_fault()
    if i.iter_type == ITER_DISCARD:
        return iterate_and_advance(i, n, None, _copy_from_user_iter, _memcpy_from_iter)
    views = dst(n)
    if len(views) == 1:
        if bulk_copy(i, n, views[0], False):
            done = n
        else:
            done = iterate_and_advance(i, n, views[0], _copy_from_user_iter,
                                       _memcpy_from_iter, page_steps=False)
        if _stats.ON:
            _stats.note_copy(done)
        return done
    # A physically scattered destination: copy into one buffer, then
    # scatter exactly the bytes the walk produced.
    tmp = np.empty(n, dtype=np.uint8)
    if bulk_copy(i, n, tmp, False):
        done = n
    else:
        done = iterate_and_advance(i, n, tmp, _copy_from_user_iter, _memcpy_from_iter,
                                   page_steps=False)
    pos = 0
    for v in views:
        if pos >= done:
            break
        k = min(len(v), done - pos)
        v[:k] = tmp[pos:pos + k]
        pos += k
    if _stats.ON:
        _stats.note_copy(done)
    return done


def _copy_size(bytes_: object, what: str) -> int:
    n = check_size("bytes", bytes_)
    if WARN(n > INT_MAX, f"{what}: {n} bytes fails check_copy_size()"):
        return -1
    return n


def _copy_to_iter(addr: Any, bytes: int, i: iov_iter) -> int:
    """``_copy_to_iter()``: WARN and 0 if ``i`` is a source iterator."""
    check_iter(i)
    if WARN(i.data_source, "copy_to_iter() into an ITER_SOURCE iterator"):
        return 0
    return _to_iter(lambda n: buffer_views(addr, n), min(bytes, i.count), i)


def _copy_from_iter(addr: Any, bytes: int, i: iov_iter) -> int:
    """``_copy_from_iter()``: WARN and 0 if ``i`` is a destination iterator."""
    check_iter(i)
    if WARN(not i.data_source, "copy_from_iter() out of an ITER_DEST iterator"):
        return 0
    return _from_iter(lambda n: buffer_views(addr, n, write=True), min(bytes, i.count), i)


def copy_to_iter(addr: Any, bytes: int, i: iov_iter) -> int:
    """``copy_to_iter()``: copy up to ``bytes`` from the kernel buffer
    ``addr`` (an address, or a numpy/bytes buffer of the model's own) into
    ``i`` and advance it.  Returns the bytes copied: short at ``count``, at
    a user fault, 0 with a WARN for an ITER_SOURCE iterator; ITER_DISCARD
    drops the data."""
    check_iter(i)
    n = _copy_size(bytes, "copy_to_iter")
    return 0 if n < 0 else _copy_to_iter(addr, n, i)


def copy_from_iter(addr: Any, bytes: int, i: iov_iter) -> int:
    """``copy_from_iter()``: copy up to ``bytes`` out of ``i`` into the
    kernel buffer ``addr``; 0 with a WARN for an ITER_DEST iterator
    (ITER_DISCARD included)."""
    check_iter(i)
    n = _copy_size(bytes, "copy_from_iter")
    return 0 if n < 0 else _copy_from_iter(addr, n, i)


def copy_from_iter_nocache(addr: Any, bytes: int, i: iov_iter) -> int:
    """``copy_from_iter_nocache()``: the model has no caches; as copy_from_iter."""
    return copy_from_iter(addr, bytes, i)


def copy_to_iter_full(addr: Any, bytes: int, i: iov_iter) -> bool:
    """``copy_to_iter_full()``: all or nothing; a short copy is reverted."""
    copied = copy_to_iter(addr, bytes, i)
    if copied == bytes:
        return True
    iov_iter_revert(i, copied)
    return False


def copy_from_iter_full(addr: Any, bytes: int, i: iov_iter) -> bool:
    """``copy_from_iter_full()``: all or nothing; a short copy is reverted
    (the bytes already copied into ``addr`` stay)."""
    copied = copy_from_iter(addr, bytes, i)
    if copied == bytes:
        return True
    iov_iter_revert(i, copied)
    return False


copy_from_iter_full_nocache = copy_from_iter_full


def page_copy_sane(page: Page, offset: int, n: int) -> bool:
    """``page_copy_sane()``: [offset, offset+n) must lie in the compound page
    that holds ``page`` (WARN otherwise)."""
    v = n + offset
    if v <= PAGE_SIZE:
        return True
    head = page.head
    v += (page.pfn - head.pfn) << PAGE_SHIFT
    return not WARN(v > PAGE_SIZE << head.order,
                    f"page copy of {n} bytes at offset {offset} overruns {head!r}")


def _page_args(page: object, offset: object, bytes_: object, i: object) -> None:
    if not isinstance(page, Page):
        raise TypeError(f"page must be a Page, got {type(page).__name__}")
    check_size("offset", offset)
    check_size("bytes", bytes_)
    check_iter(i)


def copy_page_to_iter(page: Page, offset: int, bytes: int, i: iov_iter) -> int:
    """``copy_page_to_iter()``: copy from ``page`` (``offset`` may reach into
    later pages of its folio) into ``i``."""
    _page_args(page, offset, bytes, i)
    if not page_copy_sane(page, offset, bytes):
        return 0
    if WARN(i.data_source, "copy_page_to_iter() into an ITER_SOURCE iterator"):
        return 0
    return _to_iter(lambda n: page_views(page, offset, n), min(bytes, i.count), i)


def copy_page_to_iter_nofault(page: Page, offset: int, bytes: int,
                              i: iov_iter) -> int:
    """``copy_page_to_iter_nofault()``: user pages that are not present
    fault (a short copy) instead of being faulted in."""
    pagefault_disable()
    try:
        return copy_page_to_iter(page, offset, bytes, i)
    finally:
        pagefault_enable()


def copy_page_from_iter(page: Page, offset: int, bytes: int, i: iov_iter) -> int:
    """``copy_page_from_iter()``: copy out of ``i`` into ``page``."""
    _page_args(page, offset, bytes, i)
    if not page_copy_sane(page, offset, bytes):
        return 0
    if WARN(not i.data_source, "copy_page_from_iter() out of an ITER_DEST iterator"):
        return 0
    return _from_iter(lambda n: page_views(page, offset, n, write=True), min(bytes, i.count), i)


def copy_folio_to_iter(folio: Folio, offset: int, bytes: int, i: iov_iter) -> int:
    """``copy_folio_to_iter()`` = copy_page_to_iter(&folio->page, ...)."""
    return copy_page_to_iter(folio, offset, bytes, i)


def copy_folio_from_iter(folio: Folio, offset: int, bytes: int,
                         i: iov_iter) -> int:
    """``copy_folio_from_iter()`` = copy_page_from_iter(&folio->page, ...)."""
    return copy_page_from_iter(folio, offset, bytes, i)


def copy_folio_from_iter_atomic(folio: Folio, offset: int, bytes: int,
                                i: iov_iter) -> int:
    """``copy_folio_from_iter_atomic()``: with page faults disabled, so a
    user page that is not present ends the copy short; WARN/0 for an
    ITER_DEST iterator."""
    _page_args(folio, offset, bytes, i)
    if not page_copy_sane(folio, offset, bytes):
        return 0
    if WARN(not i.data_source, "copy_folio_from_iter_atomic() out of an ITER_DEST iterator"):
        return 0
    copied = 0
    while True:
        off = offset + copied
        pagefault_disable()
        try:
            n = _from_iter(lambda k, off=off: page_views(folio, off, k, write=True),
                           min(bytes - copied, i.count), i, fault=False)
        finally:
            pagefault_enable()
        copied += n
        if copied == bytes or n == 0:
            return copied


def iov_iter_zero(bytes: int, i: iov_iter) -> int:
    """``iov_iter_zero()``: zero up to ``bytes`` of the iterator and advance.
    There is no direction check, as in the kernel."""
    check_iter(i)
    return iterate_and_advance(i, check_size("bytes", bytes), None, _zero_to_user_iter,
                               _zero_to_iter, write=True, page_steps=False)
