"""lib/iov_iter.c, part three: segment arrays that are copied or allocated.

import_ubuf(), iovec_from_user() and import_iovec() (the readv/writev
path: a user array of ``struct iovec`` becomes an iterator), and
dup_iter().  Arrays the kernel allocates are modelled as a
:class:`SegmentArray`: the kmalloc'd address, an int the caller passes to
kfree() as in C, that also carries the Python list of segments in
``.segs``.  Compat (32-bit) iovec layouts are not modelled.
"""

from __future__ import annotations

import copy

import numpy as np

from iovcrypto.iov_iter import _direction, iov_iter_init, iov_iter_ubuf
from iovcrypto.uio import (
    ITER_BVEC,
    ITER_IOVEC,
    ITER_KVEC,
    MAX_RW_COUNT,
    SIZEOF_BIO_VEC,
    SIZEOF_IOVEC,
    UIO_MAXIOV,
    check_iter,
    check_size,
    iov_iter,
    iovec,
)
from kmem import GFP_KERNEL, access_ok, copy_from_user, kfree, kmalloc, kmalloc_array, report
from kmem.errno import EFAULT, EINVAL, ENOMEM
from kmem.sanitizer import OUT_OF_BOUNDS


class SegmentArray(int):
    """A kmalloc'd array of segments: the address (``kfree(arr)`` frees
    it) carrying the Python list of segment structs in ``.segs``."""

    segs: list

    def __new__(cls, addr: int, segs: list) -> SegmentArray:
        if not isinstance(addr, int) or not isinstance(segs, list):
            raise TypeError(f"SegmentArray(): addr must be int and segs a list, got "
                            f"{type(addr).__name__} and {type(segs).__name__}")
        obj = super().__new__(cls, addr)
        obj.segs = segs
        return obj


def import_ubuf(rw: int, buf: int, len: int, i: iov_iter) -> int:
    """``import_ubuf()``: ``len`` capped at MAX_RW_COUNT; -EFAULT if the
    range fails access_ok(); else ITER_UBUF and 0."""
    check_iter(i)
    n = min(check_size("len", len), MAX_RW_COUNT)
    if not isinstance(buf, int) or not access_ok(buf, n):
        return -EFAULT
    iov_iter_ubuf(i, rw, buf, n)
    return 0


def _copy_iovec_from_user(iov: list[iovec], uvec: int, nr_segs: int) -> int:
    """Read ``nr_segs`` user iovecs into ``iov[0:nr_segs]``; 0, -EFAULT at
    a fault, or -EINVAL for a length that is negative as an ssize_t (each
    segment's length is read, then its base, in order)."""
    size = nr_segs * SIZEOF_IOVEC
    if not isinstance(uvec, int) or not access_ok(uvec, size):
        return -EFAULT
    raw = np.zeros(size, dtype=np.uint8)
    left = copy_from_user(raw, uvec, size)
    whole = (size - left) // SIZEOF_IOVEC
    words = raw[:whole * SIZEOF_IOVEC].view("<u8").reshape(-1, 2)
    negative = np.flatnonzero(words[:, 1] >= 1 << 63)
    if negative.size:
        return -EINVAL
    if whole < nr_segs:
        return -EFAULT
    for k, (base, length) in enumerate(words.tolist()):
        iov[k].iov_base, iov[k].iov_len = base, length
    return 0


def iovec_from_user(uvec: int, nr_segs: int, fast_segs: int,
                    fast_iov: list[iovec] | None, compat: bool = False) -> list[iovec] | int:
    """``iovec_from_user()``: the iovec array (``fast_iov`` when it has
    room, else a fresh :class:`SegmentArray`'s list is returned as that
    SegmentArray), or a negative errno (the kernel's ERR_PTR)."""
    if compat:
        raise ValueError("compat iovecs are not modelled")
    check_size("nr_segs", nr_segs)
    check_size("fast_segs", fast_segs)
    fast = fast_iov if fast_iov is not None else []
    if nr_segs == 0:
        return fast
    if nr_segs > UIO_MAXIOV:
        return -EINVAL
    if nr_segs > fast_segs:
        addr = kmalloc_array(nr_segs, SIZEOF_IOVEC, GFP_KERNEL)
        if not addr:
            return -ENOMEM
        arr = SegmentArray(addr, [iovec() for _ in range(nr_segs)])
        ret = _copy_iovec_from_user(arr.segs, uvec, nr_segs)
        if ret:
            kfree(arr)
            return ret
        return arr
    fast.extend(iovec() for _ in range(nr_segs - len(fast)))
    ret = _copy_iovec_from_user(fast, uvec, nr_segs)
    return ret if ret else fast


def import_iovec(type: int, uvec: int, nr_segs: int, fast_segs: int,
                 iovp: list[iovec] | None, i: iov_iter) -> tuple[int, SegmentArray | None]:
    """``import_iovec()``: read the user iovec array at ``uvec`` and set up
    ``i``.  ``iovp`` is the caller's (on-stack) array of ``fast_segs``
    iovecs.  Returns ``(bytes or -errno, allocated)``: ``allocated`` is the
    SegmentArray the caller must kfree(), or None (the kernel's ``*iovp``,
    which the caller kfree()s unconditionally).  One segment is imported
    as ITER_UBUF; lengths are capped so the total stays <= MAX_RW_COUNT."""
    check_iter(i)
    _direction(type)
    if nr_segs == 1:
        one = iovp[0] if iovp else iovec()
        ret = _copy_iovec_from_user([one], uvec, 1)
        if ret:
            return ret, None
        ret = import_ubuf(type, one.iov_base, one.iov_len, i)
        return (ret, None) if ret else (i.count, None)
    iov = iovec_from_user(uvec, nr_segs, fast_segs, iovp)
    if isinstance(iov, int) and not isinstance(iov, SegmentArray):
        return iov, None
    segs = iov.segs if isinstance(iov, SegmentArray) else iov
    total = 0
    for seg in segs[:nr_segs]:
        n = seg.iov_len
        if not access_ok(seg.iov_base, n):
            if isinstance(iov, SegmentArray):
                kfree(iov)
            return -EFAULT, None
        if n > MAX_RW_COUNT - total:
            n = seg.iov_len = MAX_RW_COUNT - total
        total += n
    iov_iter_init(i, type, segs, nr_segs, total)
    return total, iov if isinstance(iov, SegmentArray) else None


def dup_iter(new: iov_iter | None, old: iov_iter, flags: int) -> tuple[int, iov_iter]:
    """``dup_iter()``: copy ``old`` into ``new`` (a fresh iov_iter if None).
    For BVEC/KVEC/IOVEC the ``nr_segs`` segments from the current one on
    are duplicated into a kmalloc'd array, which ``new`` then points into:
    returns ``(array, new)`` with ``array`` a :class:`SegmentArray` the
    caller must kfree(), or 0 (NULL) on allocation failure.  Other types
    return ``(0, new)``: nothing was allocated."""
    check_iter(old)
    if new is None:
        new = iov_iter()
    check_iter(new)
    src = old.copy()
    for name in iov_iter.__slots__:
        setattr(new, name, getattr(src, name))
    if old.iter_type not in (ITER_BVEC, ITER_KVEC, ITER_IOVEC):
        return 0, new
    size = old._u * (SIZEOF_BIO_VEC if old.iter_type == ITER_BVEC else SIZEOF_IOVEC)
    addr = kmalloc(size, flags)
    if not addr:
        return 0, new
    vec = old._ptr
    end = old.vec_idx + old._u
    if old.vec_idx < 0 or end > len(vec):
        report(OUT_OF_BOUNDS, f"dup_iter(): {old._u} segments from element {old.vec_idx} "
                              f"overrun a {len(vec)}-element array")
    segs = [copy.copy(s) for s in vec[max(old.vec_idx, 0):end]]
    new._ptr = segs
    new.vec_idx = 0
    return SegmentArray(addr, segs), new
