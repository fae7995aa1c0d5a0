"""Positional copies on an iov_iter that leave it where it is: the
converted twins of crypto/scatterwalk.c's memcpy_from_sglist(),
memcpy_to_sglist(), memcpy_sglist() and scatterwalk_map_and_copy()
(sgl/scatterwalk.py in the scatterlist world).

AEAD drivers use them for the AD, the tag and authenc's AD copy: each
works on a private copy of the iterator advanced to the offset, so the
request's iterators stay where they are (moving them is the API's job,
iovcrypto.api.run_on_iters).
"""

from __future__ import annotations

import numpy as np

import kmem
from iovcrypto.iov_iter_position import iter_advance
from iovcrypto.iterate import iov_iter_spans
from iovcrypto.uio import ITER_DISCARD, check_size, iov_iter
from kmem.access import Buffer, buffer_views, copy_views


def _at(it: iov_iter, off: int, what: str) -> iov_iter | None:
    if not isinstance(it, iov_iter):
        raise TypeError(f"{what}: iter must be an iov_iter, got {type(it).__name__}")
    check_size("off", off)
    if it.count < off:
        return None
    c = it.copy()
    iter_advance(c, off)            # (an iov_iter and a checked size)
    return c


def iter_pviews(it: iov_iter, off: int, n: int, *, write: bool = False
                ) -> tuple[list[np.ndarray], int]:
    """The views of ``n`` bytes at ``off`` in ``it`` (``(views, nbytes)``,
    ``nbytes`` short as above), without moving it: read an AD piece by
    piece for an incremental MAC.  ``write=True`` resolves user memory
    for writing.  ITER_DISCARD has no bytes: ``([], 0)``."""
    check_size("n", n)
    c = _at(it, off, "iter_pviews")
    if c is None or c.iter_type == ITER_DISCARD:
        return [], 0
    return iov_iter_spans(c, n, write=write)


def iter_pcopy_from(buf: Buffer, it: iov_iter, off: int, n: int) -> int:
    """Copy ``n`` bytes at ``off`` in ``it`` into ``buf`` (an address or a
    writable buffer), whatever the iterator's direction; the twin of
    ``memcpy_from_sglist(buf, sg, off, n)``."""
    views, got = iter_pviews(it, off, n)
    if got:
        copy_views(buffer_views(buf, got, write=True), views)
    return got


def iter_pcopy_to(it: iov_iter, off: int, buf: Buffer, n: int) -> int:
    """Copy ``n`` bytes of ``buf`` to ``off`` in ``it``; the twin of
    ``memcpy_to_sglist(sg, off, buf, n)``.  ITER_DISCARD takes them all."""
    check_size("n", n)
    c = _at(it, off, "iter_pcopy_to")
    if c is None:
        return 0
    if c.iter_type == ITER_DISCARD:
        return min(n, c.count)
    views, got = iov_iter_spans(c, n, write=True)
    if got:
        copy_views(views, buffer_views(buf, got))
    return got


def iter_map_and_copy(buf: Buffer, it: iov_iter, off: int, n: int, out: int) -> int:
    """The twin of ``scatterwalk_map_and_copy()``: ``out`` != 0 copies buf
    into the iterator, 0 copies out of it."""
    return iter_pcopy_to(it, off, buf, n) if out else iter_pcopy_from(buf, it, off, n)


def iter_pcopy(dst: iov_iter, dst_off: int, src: iov_iter, src_off: int, n: int) -> int:
    """Copy ``n`` bytes from ``src_off`` in ``src`` to ``dst_off`` in
    ``dst`` (the twin of memcpy_sglist, which authenc uses to copy the AD
    out of place); bytes already in place are not copied."""
    views, got = iter_pviews(src, src_off, n)
    if not got:
        return 0
    c = _at(dst, dst_off, "iter_pcopy")
    if c is None:
        return 0
    if c.iter_type == ITER_DISCARD:
        return min(got, c.count)
    dviews, dgot = iov_iter_spans(c, got, write=True)
    if dgot < got:
        views = _trim(views, dgot)
    same = (len(views) == len(dviews) and all(
        s.__array_interface__["data"][0] == d.__array_interface__["data"][0]
        and len(s) == len(d) for s, d in zip(views, dviews, strict=True)))
    if dgot and not same:
        copy_views(dviews, views)    # memmove semantics where they overlap
    return dgot


def iter_pzero(it: iov_iter, off: int, n: int) -> int:
    """Zero ``n`` bytes at ``off`` in ``it`` without moving it."""
    check_size("n", n)
    c = _at(it, off, "iter_pzero")
    if c is None:
        return 0
    if c.iter_type == ITER_DISCARD:
        return min(n, c.count)
    views, got = iov_iter_spans(c, n, write=True)
    kmem.fill_views(views, 0)
    return got


def _trim(views: list[np.ndarray], n: int) -> list[np.ndarray]:
    out, left = [], n
    for v in views:
        if left <= 0:
            break
        out.append(v[:left])
        left -= len(out[-1])
    return out
