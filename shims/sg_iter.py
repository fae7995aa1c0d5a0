"""scatterlist -> iov_iter: describe a scatterlist as an ITER_BVEC.

Not a kernel file (the kernel has no such helper yet; this is what the
migration needs at the boundary, DESIGN §8).  The scatterlist is walked
once (following chain links, skipping zero-length entries) and each data
entry becomes one ``bio_vec`` over the same pages: zero-copy, no page
references.  A multi-page entry stays one multi-page bio_vec; an entry
whose offset is PAGE_SIZE or more is normalised to the page it starts in
(``bv_page = nth_page(page, offset / PAGE_SIZE)``, ``bv_offset < PAGE_SIZE``),
which is what bvec users expect.  Only ``len`` bytes from ``skip`` are
described (a cryptlen-style bound); a list shorter than ``skip + len`` is
-EINVAL, as sg_nents_for_len() says.

The bio_vec array is a :class:`BvecArray` whose ``addr`` is a real kmalloc
of 16 bytes per entry (so its descriptor memory and allocation failure are
modelled); free it with :func:`bvec_array_free`.  The iov_iter itself is
the caller's (on the stack in C).
"""

from __future__ import annotations

import kmem
from iovcrypto import (
    ITER_DEST,
    ITER_SOURCE,
    bio_vec,
    iov_iter,
    iov_iter_advance,
    iov_iter_bvec,
)
from iovcrypto.uio import SIZEOF_BIO_VEC
from kmem import PAGE_SHIFT, PAGE_SIZE
from kmem import errno as E
from sgl import Scatterlist, sg_next, sg_page

__all__ = [
    "SIZEOF_IOV_ITER",
    "BvecArray",
    "aead_iter_skip_ad",
    "bvec_array_free",
    "iov_iter_bvec_from_sg",
    "sg_bvec_count",
    "sg_to_bvec",
]

SIZEOF_IOV_ITER = 48     # struct iov_iter on x86-64 (2025 layout)


class BvecArray(list):
    """An array of ``struct bio_vec`` with ``addr``: the kmalloc address of
    its memory (0 for an empty array)."""

    __slots__ = ("addr",)

    def __init__(self, entries=(), addr: int = 0) -> None:
        if not isinstance(addr, int):
            raise TypeError(f"BvecArray(): addr must be int, got {type(addr).__name__}")
        try:
            super().__init__(entries)
        except TypeError as e:
            raise TypeError(f"BvecArray(): entries must be iterable, got "
                            f"{type(entries).__name__}") from e
        self.addr = addr


def _start(sgl: Scatterlist | list | None) -> Scatterlist | None:
    if sgl is None or isinstance(sgl, Scatterlist):
        return sgl
    if isinstance(sgl, list) and sgl and isinstance(sgl[0], Scatterlist):
        return sgl[0]
    raise TypeError(f"sgl must be a Scatterlist or an array of them, got {type(sgl).__name__}")


def _check_len(name: str, v: object) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError(f"{name} must be an int, got {type(v).__name__}")
    if v < 0:
        raise ValueError(f"{name} must be >= 0, got {v}")
    return v


def _pieces(sgl: Scatterlist | list | None, skip: int, len: int):
    """(page, offset, length) of each non-empty piece of [skip, skip+len),
    or None if the list ends first."""
    sg = _start(sgl)
    out = []
    while len:
        if sg is None:
            return None
        n = sg.length
        if skip >= n:
            skip -= n
        else:
            take = min(n - skip, len)
            page = sg_page(sg)
            if page is None:
                raise kmem.KernelBug("scatterlist entry without a page")
            out.append((page, sg.offset + skip, take))
            len -= take
            skip = 0
            if not len:
                break
        sg = sg_next(sg)
    return out


def sg_bvec_count(sgl: Scatterlist | list | None, skip: int, len: int) -> int:
    """How many bio_vecs describe ``len`` bytes from ``skip``; -EINVAL if
    the list is shorter."""
    pieces = _pieces(sgl, _check_len("skip", skip), _check_len("len", len))
    return -E.EINVAL if pieces is None else sum(1 for _ in pieces)


def sg_to_bvec(sgl: Scatterlist | list | None, skip: int, len: int,
               gfp: int = kmem.GFP_KERNEL) -> tuple[int, BvecArray | None]:
    """Describe ``len`` bytes of the list from ``skip`` as bio_vecs over the
    same pages.  Returns ``(number of bio_vecs, array)`` or ``(-EINVAL,
    None)`` for a short list, ``(-ENOMEM, None)`` if the array cannot be
    allocated."""
    pieces = _pieces(sgl, _check_len("skip", skip), _check_len("len", len))
    if pieces is None:
        return -E.EINVAL, None
    n = sum(1 for _ in pieces)
    addr = 0
    if n:
        addr = kmem.kmalloc_array(n, SIZEOF_BIO_VEC, gfp)
        if not addr:
            return -E.ENOMEM, None
    arr = BvecArray(addr=addr)
    for page, offset, length in pieces:
        if offset >= PAGE_SIZE:
            page = kmem.pfn_to_page(page.pfn + (offset >> PAGE_SHIFT))
            offset &= PAGE_SIZE - 1
        arr.append(bio_vec(page, length, offset))
    return n, arr


def bvec_array_free(bvecs: BvecArray | None) -> None:
    """Free an array made by sg_to_bvec() (None tolerated)."""
    if bvecs is not None and bvecs.addr:
        kmem.kfree(bvecs.addr)
        bvecs.addr = 0


def iov_iter_bvec_from_sg(iter: iov_iter, direction: int, sgl: Scatterlist | list | None,
                          skip: int, len: int, gfp: int = kmem.GFP_KERNEL
                          ) -> tuple[int, BvecArray | None]:
    """Initialise ``iter`` as an ITER_BVEC over ``len`` bytes of the list
    from ``skip`` (``direction`` ITER_SOURCE or ITER_DEST).  Returns ``(0,
    bvecs)`` -- free ``bvecs`` with bvec_array_free() once the iterator is
    no longer used -- or ``(-errno, None)`` with ``iter`` untouched."""
    if not isinstance(iter, iov_iter):
        raise TypeError(f"iter must be an iov_iter, got {type(iter).__name__}")
    if direction not in (ITER_SOURCE, ITER_DEST):
        raise ValueError(f"direction must be ITER_SOURCE or ITER_DEST, got {direction!r}")
    n, arr = sg_to_bvec(sgl, skip, len, gfp)
    if n < 0:
        return n, None
    iov_iter_bvec(iter, direction, arr, n, len)
    return 0, arr


def aead_iter_skip_ad(iter: iov_iter, assoclen: int) -> iov_iter:
    """A copy of an AEAD request's iterator positioned after the
    associated data (the original is left where it is): where a converted
    AEAD driver starts its text walk."""
    if not isinstance(iter, iov_iter):
        raise TypeError(f"iter must be an iov_iter, got {type(iter).__name__}")
    _check_len("assoclen", assoclen)
    it = iter.copy()
    iov_iter_advance(it, assoclen)
    return it
