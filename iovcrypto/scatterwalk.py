"""Positional copies on an iov_iter that leave it where it is: the
converted twins of crypto/scatterwalk.c's memcpy_from_sglist(),
memcpy_to_sglist(), memcpy_sglist() and scatterwalk_map_and_copy()
(sgl/scatterwalk.py in the scatterlist world).

AEAD drivers use them for the AD, the tag and authenc's AD copy: each
works on a private copy of the iterator advanced to the offset, so the
request's iterators stay where they are (moving them is the API's job,
iovcrypto.api.run_on_iters).

Also here, as ``struct scatter_walk`` is in the kernel: :class:`ScatterWalk`,
one side of a skcipher walk (``walk->in``/``walk->out``), the twin of
sgl/scatterwalk.py's ScatterWalk.
"""

from __future__ import annotations

import numpy as np

import kmem
from iovcrypto.iov_iter_position import iov_iter_advance, iter_advance
from iovcrypto.iterate import bvec_head_views, iov_iter_spans, iterate_and_advance2
from iovcrypto.iterate_bulk import bulk_spans
from iovcrypto.uio import ITER_DISCARD, check_size, iov_iter
from kmem import PAGE_SHIFT, PAGE_SIZE
from kmem import errno as E
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


# One side of a skcipher walk.

WINDOW = 1 << 20      # bytes of views resolved at a time by one side of a walk
#: How many resolved runs of each side one plan takes (None: all).  1 plans
#: one step at a time, the per-step walk the tests compare the plan with.
PLAN_RUNS: int | None = None


def _collect(base: np.ndarray, progress: int, length: int, out: list, _priv2: object) -> int:
    if length:
        out.append(base)
    return 0


class ScatterWalk:
    """One side of the walk (the kernel's ``walk->in``/``walk->out``): the
    request's iterator, and a cursor over the views resolved and not yet
    consumed.  ``it`` stays the caller's iterator, untouched, until a
    window has to move it: it is then replaced by a private copy
    (:meth:`_own`), positioned after the bytes already resolved.  A walk
    whose bytes all lie in the current bio_vec never needs the copy."""

    __slots__ = ("addrs", "err", "idx", "it", "left", "lens", "own", "pos", "skip", "views",
                 "write")

    def __init__(self) -> None:
        self.it: iov_iter | None = None
        self.views: list[np.ndarray] = []
        self.idx = self.pos = self.left = 0

    def start(self, it: iov_iter, skip: int, total: int, write: bool) -> int:
        if not write and it.iter_type == ITER_DISCARD:
            return -E.EINVAL        # a sink has no bytes to read
        if skip and it.count < skip:
            return -E.EINVAL
        self.it = it
        self.own = False
        self.skip = skip
        self.views = []
        # The physical address each view of the window starts at, when
        # known (None otherwise): lets the walk tell in place from out of
        # place without asking numpy.
        self.addrs: list[int] | None = None
        self.lens: list[int] | None = None     # the views' lengths, when the bulk path gave them
        self.idx = self.pos = 0
        self.left = total
        self.write = write
        self.err = 0
        return 0

    def _own(self) -> iov_iter:
        """Swap the caller's iterator for a private copy at the walk's start."""
        c = self.it.copy()
        if self.skip:
            iov_iter_advance(c, self.skip)
        self.it = c
        self.own = True
        return c

    def _refill(self) -> bool:
        it = self.it
        left = self.left
        want = WINDOW if left > WINDOW else left
        if not self.own and want:
            # The common request: everything the walk has left lies in the
            # caller's current bio_vec, read without moving the iterator.
            if want == left and self._bvec_head(it, want, self.skip):
                self.left = 0
                return True
            it = self._own()
        lens = None
        if it.iter_type == ITER_DISCARD:
            # A sink: the driver writes into scratch memory nobody reads.
            addrs = None
            got = min(want, it.count, PAGE_SIZE)
            iov_iter_advance(it, got)
            views = [np.empty(got, np.uint8)] if got else []
        elif self._bvec_head(it, want, 0):
            # The whole window lies in the current bio_vec: the private copy
            # is moved past it here.
            skip = it.iov_offset
            if skip + want >= it._ptr[it.vec_idx].bv_len:
                it.vec_idx += 1
                it._u -= 1
                it.iov_offset = 0
            else:
                it.iov_offset = skip + want
            it.count -= want
            self.left -= want
            return True
        else:
            # iov_iter_spans() on the private copy itself: resolve and
            # advance in one pass.
            addrs, lens = [], []
            views = bulk_spans(it, want, addrs, lens)
            if views is not None:
                got = sum(lens)
            else:
                addrs = lens = None
                views = []
                got = iterate_and_advance2(it, want, views, None, _collect, _collect,
                                           write=self.write, page_steps=False)
        if not got:
            self.err = -E.EINVAL if not it.count else -E.EFAULT
            return False
        self.addrs = addrs
        self.lens = lens
        self.left -= got
        self.views = views
        self.idx = self.pos = 0
        return True

    def _bvec_head(self, it: iov_iter, want: int, skip: int) -> bool:
        """Make the window the next ``want`` bytes of ``it``, ``skip`` bytes
        on, when they lie in its current bio_vec (resolved with the
        page_views() call the collecting walk would make for that piece:
        the same checks and records); False (nothing done) otherwise."""
        views = bvec_head_views(it, want, self.write, skip)
        if views is None:
            return False
        if len(views) == 1:
            bv = it._ptr[it.vec_idx]
            self.addrs = [(bv.bv_page.pfn << PAGE_SHIFT) + bv.bv_offset + it.iov_offset + skip]
        else:
            self.addrs = None
            views = [v for v in views if len(v)]
        self.views = views
        self.lens = None
        self.idx = self.pos = 0
        return True

    def take(self) -> tuple[list[np.ndarray], list[int] | None, list[int] | None]:
        """The runs resolved from the cursor on (PLAN_RUNS of them at
        most), where each starts, and their lengths if known; the cursor
        moves past them."""
        views, addrs, idx, pos = self.views, self.addrs, self.idx, self.pos
        end = len(views)
        if not (idx or pos or PLAN_RUNS):
            self.idx = end
            return views, addrs, self.lens
        if PLAN_RUNS and end > idx + PLAN_RUNS:
            end = idx + PLAN_RUNS
        self.idx, self.pos = end, 0
        if idx or end < len(views):
            views = views[idx:end]
            addrs = addrs[idx:end] if addrs is not None else None
        if pos:
            views = [views[0][pos:], *views[1:]]
            addrs = [addrs[0] + pos, *addrs[1:]] if addrs is not None else None
        return views, addrs, None

    def give_back(self, n: int) -> None:
        """Move the cursor ``n`` bytes back (bytes taken and not planned)."""
        views, idx = self.views, self.idx
        while n > 0:
            idx -= 1
            n -= len(views[idx])
        self.idx, self.pos = idx, -n

    def head(self) -> int:
        """Contiguous bytes available at the cursor (0 at a fault or the
        end of the iterator; ``err`` says which)."""
        if self.idx >= len(self.views) and not self._refill():
            return 0
        return len(self.views[self.idx]) - self.pos

    def advance(self, n: int) -> None:
        self.pos += n
        if self.pos >= len(self.views[self.idx]):
            self.idx += 1
            self.pos = 0

    def peek(self, buf: np.ndarray, n: int) -> bool:
        """Copy the next ``n`` bytes into ``buf`` without consuming them."""
        it, own = self.it, self.own
        saved = (self.views, self.idx, self.pos, self.left, self.addrs, self.lens)
        state = it.copy() if own else None
        ok = self.transfer(buf, n, False)
        self.views, self.idx, self.pos, self.left, self.addrs, self.lens = saved
        # Back to the iterator object the side had (the caller's is never
        # moved: a private copy made meanwhile is dropped).
        if own:
            it.assign(state)
        self.it, self.own = it, own
        return ok

    def transfer(self, buf: np.ndarray, n: int, to_iter: bool) -> bool:
        """Copy ``n`` bytes between ``buf`` and the side, advancing it."""
        done = 0
        while done < n:
            h = self.head()
            if not h:
                return False
            k = min(h, n - done)
            here = [self.views[self.idx][self.pos:self.pos + k]]
            if to_iter:
                copy_views(here, [buf[done:done + k]])
            else:
                copy_views([buf[done:done + k]], here)
            self.advance(k)
            done += k
        return True
