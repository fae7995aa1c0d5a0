"""Generic iteration over an iov_iter (include/linux/iov_iter.h).

``iterate_and_advance2(iter, len, priv, priv2, ustep, step)`` walks the next
``len`` bytes of an iterator, calls a step function on each piece and
advances the iterator by exactly what the steps processed.  A step is

    step(base, progress, len, priv, priv2) -> bytes of ``len`` NOT processed

where ``base`` is a numpy uint8 view of the piece's ``len`` bytes (the
kernel passes a mapped address; the model passes the mapped bytes) and
``progress`` is how much this call has processed so far.  A step that
returns non-zero ends the walk (a short step).

Pieces are cut as the kernel cuts them: UBUF is one piece; IOVEC and KVEC
one per segment (empty segments skipped without a call); BVEC, FOLIOQ and
XARRAY one per page (a zero-length bio_vec still gets a call with length
0, as in the kernel); DISCARD calls nothing.  The final iterator position
(segment, offset, slot) is the kernel's to the field.  Two deliberate
differences, both invisible to a step that processes whatever it is given:

- a piece of kernel memory that is not physically contiguous (a KVEC
  segment in vmalloc or stack memory) is handed to the step as consecutive
  calls, one per contiguous run; a short return from any of them ends the
  walk as a short piece would;
- user memory (UBUF/IOVEC) is resolved by the walker, not by the step:
  ``ustep`` is given the reachable bytes of a piece and a fault (an
  unmapped or protected page, an address failing access_ok(), or a page
  not present while page faults are disabled, which is what ``nofault``
  iterators do) makes the piece short, as the kernel's raw user copies do.
  User views are resolved for writing when the iterator is ITER_DEST
  (override with ``write=``).

No kmap_local_page()/kunmap_local() pair is recorded per piece (the view
is the mapping), and ITER_XARRAY does not test for hugetlb folios (the
model has none).  Steps of ITER_XARRAY run inside the RCU read section, as
in the kernel: a step that sleeps there is recorded by kmem.

``page_steps=False`` (keyword only) lets BVEC, FOLIOQ and XARRAY pieces run
to the end of the bio_vec or folio instead of the end of the page; the
iterator ends in exactly the same place for the same bytes processed, so
the copy functions use it to hand numpy the longest physically contiguous
runs.

:func:`iov_iter_spans` gives the views of the next bytes *without*
advancing; the crypto walkers are built on it (process the views, then
iov_iter_advance() by what was consumed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from iovcrypto.uio import (
    ITER_BVEC,
    ITER_BVECQ,
    ITER_DISCARD,
    ITER_FOLIOQ,
    ITER_IOVEC,
    ITER_KVEC,
    ITER_UBUF,
    ITER_XARRAY,
    check_size,
    iov_iter,
)
from kmem import (
    PAGE_SHIFT,
    PAGE_SIZE,
    Folio,
    KernelBug,
    current_mm,
    pagefault_disable,
    pagefault_enable,
    rcu_read_section,
)
from kmem.access import page_views, virt_views
from kmem.folio_queue import PAGEVEC_SIZE
from kmem.mmap import access_ok
from kmem.sanitizer import WARN
from kmem.xarray import xa_for_each

Step = Callable[[np.ndarray, int, int, Any, Any], int]
_EMPTY = np.empty(0, dtype=np.uint8)
_OFF = PAGE_SIZE - 1


def _bad_return(r: object, n: int) -> Exception:
    if not isinstance(r, int):
        return TypeError(f"a step must return an int (bytes not processed), got {r!r}")
    return ValueError(f"a step given {n} bytes returned {r} not processed")


def _run(step: Step, views: list[np.ndarray], progress: int, length: int, priv: Any,
         priv2: Any) -> int:
    """Call ``step`` on each contiguous view of one piece (``length`` bytes
    in all); returns the bytes of the piece not processed."""
    if len(views) == 1:
        r = step(views[0], progress, length, priv, priv2)
        if r:
            if not (isinstance(r, int) and 0 < r <= length):
                raise _bad_return(r, length)
        elif r is None:
            raise _bad_return(r, length)
        return r
    done = 0
    for v in views:
        n = len(v)
        r = step(v, progress + done, n, priv, priv2)
        if r:
            if not (isinstance(r, int) and 0 < r <= n):
                raise _bad_return(r, n)
            return length - done - n + r
        if r is None:
            raise _bad_return(r, n)
        done += n
    return length - done


def _user_piece(ustep: Step, uaddr: int, progress: int, part: int, priv: Any, priv2: Any,
                write: bool, nofault: bool) -> int:
    """One piece of user memory: resolve it (faulting pages in unless
    ``nofault``), step over what is reachable; returns bytes not processed."""
    if not access_ok(uaddr, part):
        return part
    mm = current_mm()
    if nofault:
        pagefault_disable()
    try:
        views, ok = mm.user_views(uaddr, part, write)
    finally:
        if nofault:
            pagefault_enable()
    if not ok:
        return part
    return part - ok + _run(ustep, views, progress, ok, priv, priv2)


def _off_the_end(it: iov_iter, idx: int) -> KernelBug:
    return KernelBug(f"iov_iter walked off its segment array (element {idx} of "
                     f"{len(it._ptr)}): count exceeds the segments")


def _iterate_ubuf(it: iov_iter, length: int, priv: Any, priv2: Any, ustep: Step,
                  write: bool) -> int:
    remain = _user_piece(ustep, it._ptr + it.iov_offset, 0, length, priv, priv2, write,
                         it.nofault)
    progress = length - remain
    it.iov_offset += progress
    it.count -= progress
    return progress


def _iterate_vec(it: iov_iter, length: int, priv: Any, priv2: Any, step: Step, write: bool,
                 user: bool) -> int:
    """ITER_IOVEC (``user``) and ITER_KVEC: one piece per segment."""
    vec = it._ptr
    start = idx = it.vec_idx
    skip = it.iov_offset
    progress = 0
    nofault = it.nofault
    while True:
        if not 0 <= idx < len(vec):
            raise _off_the_end(it, idx)
        seg = vec[idx]
        seglen = seg.iov_len
        part = min(length, seglen - skip)
        if part > 0:
            if user:
                remain = _user_piece(step, seg.iov_base + skip, progress, part, priv, priv2,
                                     write, nofault)
            else:
                remain = _run(step, virt_views(seg.iov_base + skip, part, write=write), progress,
                              part, priv, priv2)
            consumed = part - remain
            progress += consumed
            skip += consumed
            length -= consumed
            if skip < seglen:
                break
        idx += 1
        skip = 0
        if not length:
            break
    it._u -= idx - start
    it.vec_idx = idx
    it.iov_offset = skip
    it.count -= progress
    return progress


def _iterate_bvec(it: iov_iter, length: int, priv: Any, priv2: Any, step: Step, write: bool,
                  page_steps: bool) -> int:
    vec = it._ptr
    start = idx = it.vec_idx
    skip = it.iov_offset
    progress = 0
    while True:
        if not 0 <= idx < len(vec):
            raise _off_the_end(it, idx)
        bv = vec[idx]
        blen = bv.bv_len
        offset = bv.bv_offset + skip
        part = blen - skip
        if part > length:
            part = length
        if page_steps and part > PAGE_SIZE - (offset & _OFF):
            part = PAGE_SIZE - (offset & _OFF)
        if part > 0:
            views = page_views(bv.bv_page, offset, part, write=write)
            if len(views) == 1:
                # _run() inlined for the common one-view piece.
                remain = step(views[0], progress, part, priv, priv2)
                if remain:
                    if not (isinstance(remain, int) and 0 < remain <= part):
                        raise _bad_return(remain, part)
                elif remain is None:
                    raise _bad_return(remain, part)
            else:
                remain = _run(step, views, progress, part, priv, priv2)
        else:
            part = 0
            remain = _run(step, [_EMPTY], progress, 0, priv, priv2) if page_steps else 0
        if remain:
            part -= remain
            length -= part
            progress += part
            skip += part
            if skip >= blen:
                skip = 0
                idx += 1
            break
        length -= part
        progress += part
        if skip + part >= blen:
            skip = 0
            idx += 1
        else:
            skip += part
        if not length:
            break
    it._u -= idx - start
    it.vec_idx = idx
    it.iov_offset = skip
    it.count -= progress
    return progress


def _iterate_bvecq(it: iov_iter, length: int, priv: Any, priv2: Any, step: Step, write: bool,
                   page_steps: bool) -> int:
    """ITER_BVECQ (Howells' ``iterate_bvecq()``): one piece per page of each
    bio_vec, moving to the next segment when a slot index passes
    ``nr_slots``; a chain that ends before ``len`` stops the walk."""
    bq = it._ptr
    slot = it._u & 0xFFFF
    skip = it.iov_offset
    progress = 0
    while length:
        if slot >= bq.nr_slots:
            if bq.next is None:
                break
            bq, slot = bq.next, 0
            continue
        bv = bq.bv[slot]
        offset = bv.bv_offset + skip
        plen = min(bv.bv_len - skip, length)
        stop = False
        while plen > 0:
            part = plen
            if page_steps and part > PAGE_SIZE - (offset & _OFF):
                part = PAGE_SIZE - (offset & _OFF)
            remain = _run(step, page_views(bv.bv_page, offset, part, write=write), progress,
                          part, priv, priv2)
            done = part - remain
            progress += done
            skip += done
            length -= done
            offset += done
            plen -= done
            if not length or remain:
                stop = True
                break
        if stop:
            break
        skip = 0
        slot += 1
    it._ptr = bq
    it._u = slot
    it.iov_offset = skip
    it.count -= progress
    return progress


def _iterate_folioq(it: iov_iter, length: int, priv: Any, priv2: Any, step: Step, write: bool,
                    page_steps: bool) -> int:
    folioq = it._ptr
    slot = it._u
    skip = it.iov_offset
    progress = 0
    if slot == PAGEVEC_SIZE:
        # The queue may have grown since the iterator reached this segment's end.
        folioq = folioq.next
        slot = 0
        if folioq is None:
            raise KernelBug("ITER_FOLIOQ at the end of a segment with no next segment")
    while True:
        if slot >= PAGEVEC_SIZE:
            raise KernelBug("ITER_FOLIOQ ran past the last slot of its folio queue")
        folio = folioq.folios[slot]
        if folio is None:
            break
        fsize = PAGE_SIZE << folioq.orders[slot]
        remain = 0
        if skip < fsize:
            part = min(length, PAGE_SIZE - (skip & _OFF) if page_steps else fsize - skip)
            remain = _run(step, page_views(folio, skip, part, write=write), progress, part,
                          priv, priv2)
            consumed = part - remain
            length -= consumed
            progress += consumed
            skip += consumed
        if skip >= fsize:
            skip = 0
            slot += 1
            if slot == PAGEVEC_SIZE and folioq.next is not None:
                folioq = folioq.next
                slot = 0
        if remain or not length:
            break
    it._u = slot
    it._ptr = folioq
    it.iov_offset = skip
    it.count -= progress
    return progress


def _iterate_xarray(it: iov_iter, length: int, priv: Any, priv2: Any, step: Step, write: bool,
                    page_steps: bool) -> int:
    progress = 0
    start = it._u + it.iov_offset
    # Holes are skipped (xas_for_each); the offset into each folio found
    # comes from the file position, as in the kernel.
    with rcu_read_section():
        for _index, folio in xa_for_each(it._ptr, start >> PAGE_SHIFT):
            if WARN(not isinstance(folio, Folio),
                    f"ITER_XARRAY: non-folio entry {folio!r} in the xarray"):
                break
            fmask = (PAGE_SIZE << folio.order) - 1
            offset = (start + progress) & fmask
            flen = min(fmask + 1 - offset, length)
            done = False
            while flen:
                part = min(flen, PAGE_SIZE - (offset & _OFF)) if page_steps else flen
                remain = _run(step, page_views(folio, offset, part, write=write), progress, part,
                              priv, priv2)
                consumed = part - remain
                progress += consumed
                length -= consumed
                if remain or length == 0:
                    done = True
                    break
                flen -= consumed
                offset += consumed
            if done:
                break
    it.iov_offset += progress
    it.count -= progress
    return progress


def _check(it: object, length: object) -> int:
    if not isinstance(it, iov_iter):
        raise TypeError(f"iter must be an iov_iter, got {type(it).__name__}")
    return check_size("len", length)


def iterate_and_advance2(iter: iov_iter, len: int, priv: Any, priv2: Any,
                         ustep: Step, step: Step, *, write: bool | None = None,
                         page_steps: bool = True) -> int:
    """``iterate_and_advance2()``: step over up to ``len`` bytes (at most
    ``iter.count``), advance by what was processed and return it.

    ``ustep`` serves UBUF/IOVEC, ``step`` every kernel-backed type.  See the
    module docstring for ``write`` and ``page_steps``."""
    length = _check(iter, len)
    if iter.count < length:
        length = iter.count
    if not length:
        return 0
    wr = not iter.data_source if write is None else bool(write)
    t = iter.iter_type
    if (ustep if t in (ITER_UBUF, ITER_IOVEC) else step) is None and t != ITER_DISCARD:
        raise KernelBug("iterate_and_advance2(): call through a NULL step function")
    if t == ITER_UBUF:
        return _iterate_ubuf(iter, length, priv, priv2, ustep, wr)
    if t == ITER_IOVEC:
        return _iterate_vec(iter, length, priv, priv2, ustep, wr, True)
    return _iterate_kernel(iter, length, priv, priv2, step, wr, page_steps)


def _iterate_kernel(it: iov_iter, length: int, priv: Any, priv2: Any, step: Step, wr: bool,
                    page_steps: bool) -> int:
    t = it.iter_type
    if t == ITER_BVEC:
        return _iterate_bvec(it, length, priv, priv2, step, wr, page_steps)
    if t == ITER_KVEC:
        return _iterate_vec(it, length, priv, priv2, step, wr, False)
    if t == ITER_BVECQ:
        return _iterate_bvecq(it, length, priv, priv2, step, wr, page_steps)
    if t == ITER_FOLIOQ:
        return _iterate_folioq(it, length, priv, priv2, step, wr, page_steps)
    if t == ITER_XARRAY:
        return _iterate_xarray(it, length, priv, priv2, step, wr, page_steps)
    # ITER_DISCARD, and whatever else reaches here (the kernel's fallthrough).
    it.count -= length
    return length


def iterate_and_advance(iter: iov_iter, len: int, priv: Any, ustep: Step,
                        step: Step, *, write: bool | None = None,
                        page_steps: bool = True) -> int:
    """``iterate_and_advance()``: iterate_and_advance2() with priv2 None."""
    return iterate_and_advance2(iter, len, priv, None, ustep, step, write=write,
                                page_steps=page_steps)


def iterate_and_advance_kernel(iter: iov_iter, len: int, priv: Any, priv2: Any,
                               step: Step, *, write: bool | None = None,
                               page_steps: bool = True) -> int:
    """``iterate_and_advance_kernel()``: BVEC, KVEC, FOLIOQ, XARRAY and
    DISCARD only.  Like the kernel's, a user-backed iterator falls through
    to the DISCARD path: its count drops and nothing is stepped."""
    length = _check(iter, len)
    if iter.count < length:
        length = iter.count
    if not length:
        return 0
    wr = not iter.data_source if write is None else bool(write)
    if iter.iter_type in (ITER_UBUF, ITER_IOVEC):
        iter.count -= length
        return length
    if step is None and iter.iter_type != ITER_DISCARD:
        raise KernelBug("iterate_and_advance_kernel(): call through a NULL step function")
    return _iterate_kernel(iter, length, priv, priv2, step, wr, page_steps)


def _collect(base: np.ndarray, progress: int, length: int, out: list, _priv2: Any) -> int:
    out.append(base)
    return 0


def iov_iter_spans(i: iov_iter, len: int, *, write: bool | None = None
                   ) -> tuple[list[np.ndarray], int]:
    """Model helper: the numpy views of the next ``min(len, count)`` bytes
    of ``i``, without advancing it.

    Returns ``(views, nbytes)``; ``nbytes`` is short only where user memory
    faults.  Views are the longest physically contiguous runs the walk
    allows (page_steps=False).  DISCARD has no bytes: ``([], n)``.  A
    walker processes the views, then calls iov_iter_advance(i, done).  The
    views stay valid as long as the memory does: for ITER_XARRAY the caller
    must hold the folios (the kernel's rule for that type too)."""
    if type(len) is int and len > 0:
        n = min(len, i.count)
        views = bvec_head_views(i, n, not i.data_source if write is None else bool(write))
        if views is not None:
            return views, n
    views = []
    n = iterate_and_advance2(i.copy(), len, views, None, _collect, _collect, write=write,
                             page_steps=False)
    return views, n


def bvec_head_views(it: iov_iter, n: int, write: bool, skip: int = 0
                    ) -> list[np.ndarray] | None:
    """The views of ``n`` bytes (0 < n, skip + n <= count) of an ITER_BVEC,
    ``skip`` bytes past its position, when they lie in its current
    bio_vec, else None: what the collecting walk gives for that one piece
    (the same page_views() call, so the same checks and records), without
    its machinery.  Does not advance."""
    if it.iter_type != ITER_BVEC or not 0 < n <= it.count - skip:
        return None
    vec, idx = it._ptr, it.vec_idx
    if not 0 <= idx < len(vec):
        return None
    bv = vec[idx]
    off = it.iov_offset + skip
    if n > bv.bv_len - off:
        return None
    return page_views(bv.bv_page, bv.bv_offset + off, n, write=write)


__all__ = [
    "Step",
    "bvec_head_views",
    "iov_iter_spans",
    "iterate_and_advance",
    "iterate_and_advance2",
    "iterate_and_advance_kernel",
]
