"""skcipher_walk over iov_iters: the converted twin of sgl/skcipher_walk.py
(crypto/skcipher.c's walk, with scatter_walk replaced by iov_iter).

Converting a driver from sgl.skcipher_walk: change the imports and the
request setter, and nothing in the loop.  The step interface is the same::

    walk = SkcipherWalk()
    err = skcipher_walk_virt(walk, req, False)        # req.src/req.dst: iov_iters
    while walk.nbytes:
        n = walk.nbytes - walk.nbytes % bs             # whole blocks (or all, at the end)
        core(walk.dst_view[:n], walk.src_view[:n], walk.iv)
        err = skcipher_walk_done(walk, walk.nbytes - n)
    return err

What changes underneath, and what a driver author may rely on:

- The walk never moves ``req.src``/``req.dst``: it works on private
  copies (``walk.in_.it`` / ``walk.out.it``).  Moving the caller's
  iterators is the API's job (iovcrypto.api.run_on_iters), on success
  only.  A driver must not advance them either; to read or write bytes at
  a position (an AEAD's AD or tag) use :func:`iter_pcopy_from`,
  :func:`iter_pcopy_to`, :func:`iter_pviews` and friends
  (iovcrypto/scatterwalk.py, re-exported here), which also leave the
  iterator alone (the twins of memcpy_from_sglist,
  memcpy_to_sglist and scatterwalk_map_and_copy).
- Steps are sized as sgl's: ``min(total, the contiguous bytes at the src
  position, the same at dst, WALK_STEP_LIMIT)`` (no limit by default, as
  in sgl; PAGE_SIZE gives the kernel's steps).  "Contiguous" is what an
  iterator segment gives in one piece (a KVEC/IOVEC segment, a bio_vec, a
  folio; split where memory is not physically contiguous, e.g. vmalloc),
  where sgl had a scatterlist entry.  Below ``bsize = min(stride,
  max(total, blocksize))`` the step goes through a bounce buffer of
  exactly ``bsize`` bytes (SKCIPHER_WALK_SLOW), unless ``total <
  blocksize``: -EINVAL.  Unprocessed bytes on the slow path: -EINVAL.
- ``src_view``/``dst_view``: numpy views of the memory (or of the bounce
  buffer); the same object in place, else SKCIPHER_WALK_DIFF is set.  In
  place is one iterator as both, two iterators with the same segments and
  position (only dst is then resolved), or, step by step, two views of
  the same bytes.
- The IV is handled as in sgl: ``walk.iv`` views the caller's IV, or a
  kmalloc'd copy (misaligned address, or not contiguous) copied back at
  the end.
- Deliberate differences from sgl: no alignmask copy path (an iov_iter
  piece has no kernel address to test; SKCIPHER_WALK_COPY is never set)
  and no ``src.virt.addr``.  A user page that faults ends the walk with
  -EFAULT; an ITER_DISCARD dst gets scratch memory that is dropped; an
  iterator too short for the walk is -EINVAL.
- Views are resolved once per ``scatterwalk.WINDOW`` bytes by the iterate
  mechanism (iov_iter_spans()'s collector run on the private copy, so
  resolving also advances it): no per-byte Python, no re-walking.

AEAD walks (:func:`skcipher_walk_aead_encrypt`/``_decrypt``) start
``assoclen`` bytes into both src and dst.
"""

from __future__ import annotations

import numpy as np

import kmem
from ciphers.algapi import CRYPTO_MINALIGN
from ciphers.walk import (  # noqa: F401  (the flags are this module's kernel names too)
    SKCIPHER_WALK_COPY,
    SKCIPHER_WALK_DIFF,
    SKCIPHER_WALK_SLEEP,
    SKCIPHER_WALK_SLOW,
    STEP_FLAGS,
    walk_begin,
    walk_gfp,
    walk_plan,
    walk_plan_advance,
    walk_return_iv,
    walk_set_alg,
    walk_setup_iv,
)
from iovcrypto.aead import AeadRequest
from iovcrypto.scatterwalk import (  # noqa: F401  (re-exported: drivers import them from here)
    ScatterWalk,
    iter_map_and_copy,
    iter_pcopy,
    iter_pcopy_from,
    iter_pcopy_to,
    iter_pviews,
    iter_pzero,
)
from iovcrypto.skcipher import SkcipherRequest
from iovcrypto.uio import (
    ITER_BVEC,
    ITER_BVECQ,
    ITER_DISCARD,
    ITER_FOLIOQ,
    ITER_UBUF,
    ITER_XARRAY,
    iov_iter,
)
from kmem import errno as E
from kmem.access import copy_views, virt_views

_STEP_FLAGS = STEP_FLAGS

WALK_STEP_LIMIT: int | None = None    # as sgl.skcipher_walk: PAGE_SIZE gives the kernel's steps


class SkcipherWalk:
    """``struct skcipher_walk`` over iov_iters.

    Per step (valid while ``nbytes`` != 0):

    - ``nbytes``: bytes available this step.  Process a multiple of the
      block size (or everything, on the last step of a stream mode), then
      call ``skcipher_walk_done(walk, nbytes - processed)``.
    - ``src_view`` / ``dst_view``: numpy uint8 arrays of exactly ``nbytes``
      bytes to read / write; the same object in place.  Write results only
      to ``dst_view``.

    Whole walk: ``total`` (bytes not yet done, this step's included),
    ``iv`` (numpy view of the IV, ``ivsize`` bytes, read and updated in
    place; copied back to the caller's ``oiv`` at the end if bounced),
    ``blocksize``, ``stride``, ``ivsize``, ``alignmask``, ``flags``,
    ``buffer`` (address of the bounce buffer, 0 when none), ``page``
    (always 0: no copy path), and ``in_``/``out``, the private sides.
    """

    __slots__ = ("_iv_bounced", "_k", "_off", "_oiv_views", "_pdiff", "_pdst", "_plens",
                 "_psrc", "_same", "_slow_dst", "alignmask", "blocksize", "buffer",
                 "dst_view", "flags", "in_", "iv", "ivsize", "nbytes", "oiv", "out", "page",
                 "src_view", "stride", "total")

    def __init__(self) -> None:
        self.in_ = ScatterWalk()
        self.out = ScatterWalk()
        self.nbytes = 0
        self.total = 0
        self.page = 0
        self.buffer = 0
        self.oiv: object = None
        self.iv: np.ndarray | None = None
        self.ivsize = 0
        self.flags = 0
        self.blocksize = 1
        self.stride = 1
        self.alignmask = 0
        self.src_view: np.ndarray | None = None
        self.dst_view: np.ndarray | None = None
        self._iv_bounced = False
        self._oiv_views: list[np.ndarray] = []
        self._same = False
        self._reset_plan()

    def _reset_plan(self) -> None:
        # The plan: the pieces both sides have resolved (see _plan_more),
        # and the cursor in them (piece, bytes into it).
        self._plens = self._psrc = self._pdst = self._pdiff = self._slow_dst = _NO_PLAN
        self._k = self._off = 0


_NO_PLAN: tuple = ()


def _start_sides(walk: SkcipherWalk, req: object, skip: int) -> int:
    src, dst = req.src, req.dst
    if not isinstance(src, iov_iter) or not isinstance(dst, iov_iter):
        raise kmem.KernelBug("skcipher_walk: request without src/dst iterators")
    walk._reset_plan()
    walk._same = _same_bytes(src, dst, skip + walk.total)
    if walk._same:
        # One memory sequence: only the dst side is resolved and walked.
        if src.iter_type == ITER_DISCARD:
            return -E.EINVAL
        return walk.out.start(dst, skip, walk.total, True)
    err = walk.in_.start(src, skip, walk.total, False)
    return err or walk.out.start(dst, skip, walk.total, True)


def _same_bytes(a: iov_iter, b: iov_iter, n: int) -> bool:
    """Whether the next ``n`` bytes of ``a`` and ``b`` are the same memory
    in the same order, judged from the descriptors alone (one iterator
    passed as both, or two describing the same segments from the same
    position).  Two iterators that reach the same memory differently are
    still found in place step by step, by comparing the views."""
    if a is b:
        return True
    t = a.iter_type
    if t != b.iter_type or a.iov_offset != b.iov_offset or t == ITER_DISCARD:
        return False
    if t == ITER_UBUF:
        return a._ptr == b._ptr
    if t in (ITER_BVECQ, ITER_FOLIOQ, ITER_XARRAY):
        return a._ptr is b._ptr and a._u == b._u
    va, vb, ia, ib = a._ptr, b._ptr, a.vec_idx, b.vec_idx
    if va is vb:
        return ia == ib
    n += a.iov_offset
    bvec = t == ITER_BVEC
    last = min(len(va) - ia, len(vb) - ib, a._u, b._u)
    for k in range(last):
        x, y = va[ia + k], vb[ib + k]
        if bvec:
            if x.bv_page is not y.bv_page or x.bv_offset != y.bv_offset or x.bv_len != y.bv_len:
                return False
            n -= x.bv_len
        else:
            if x.iov_base != y.iov_base or x.iov_len != y.iov_len:
                return False
            n -= x.iov_len
        if n <= 0:
            return True
    return False


def skcipher_walk_virt(walk: SkcipherWalk, req: SkcipherRequest, atomic: bool) -> int:
    """``skcipher_walk_virt()``: start a walk over the next ``cryptlen``
    bytes of ``req.src``/``req.dst`` and map the first step.  0 (check
    ``walk.nbytes``) or -errno."""
    if not isinstance(walk, SkcipherWalk):
        raise TypeError(f"walk must be a SkcipherWalk, got {type(walk).__name__}")
    if not isinstance(req, SkcipherRequest):
        raise TypeError(f"req must be an iovcrypto SkcipherRequest, got {type(req).__name__}")
    alg = req.base.tfm.alg
    walk_begin(walk, req, atomic)
    walk.total = req.cryptlen
    if not walk.total:
        return 0
    walk_set_alg(walk, alg, aead=False)
    err = _start_sides(walk, req, 0)
    if err:
        walk.total = 0
        return err
    return _walk_first(walk)


def _walk_aead(walk: SkcipherWalk, req: AeadRequest, atomic: bool, total: int) -> int:
    if not isinstance(walk, SkcipherWalk):
        raise TypeError(f"walk must be a SkcipherWalk, got {type(walk).__name__}")
    if not isinstance(req, AeadRequest):
        raise TypeError(f"req must be an iovcrypto AeadRequest, got {type(req).__name__}")
    alg = req.base.tfm.alg
    walk_begin(walk, req, atomic)
    if kmem.WARN(total < 0, "skcipher_walk_aead_decrypt: cryptlen < authsize"):
        walk.total = 0
        return -E.EINVAL
    walk.total = total
    if not total:
        return 0
    walk_set_alg(walk, alg, aead=True)
    err = _start_sides(walk, req, req.assoclen)
    if err:
        walk.total = 0
        return err
    return _walk_first(walk)


def skcipher_walk_aead_encrypt(walk: SkcipherWalk, req: AeadRequest, atomic: bool) -> int:
    """Walk the ``cryptlen`` plaintext bytes after ``assoclen`` (src and dst)."""
    return _walk_aead(walk, req, atomic, req.cryptlen)


def skcipher_walk_aead_decrypt(walk: SkcipherWalk, req: AeadRequest, atomic: bool) -> int:
    """Walk the ``cryptlen - authsize`` ciphertext bytes after ``assoclen``."""
    return _walk_aead(walk, req, atomic, req.cryptlen - req.base.tfm.authsize)


def _walk_first(walk: SkcipherWalk) -> int:
    return walk_setup_iv(walk) or _walk_next(walk)


def _walk_next(walk: SkcipherWalk) -> int:
    # Once per step: the next piece of the plan (no numpy, no min()/max()).
    # The same step as sgl/skcipher_walk.py's _plan_step, written out in
    # each: as shared helpers in ciphers/walk.py it cost 7-15 % more per
    # step (walk per-segment benchmark, measured).
    total = walk.total
    k = walk._k
    if k >= len(walk._plens):
        err = _plan_more(walk)
        if err:
            return skcipher_walk_done(walk, err)
        k = 0
    off = walk._off
    pn = walk._plens[k]
    n = pn - off
    if n > total:
        n = total
    if WALK_STEP_LIMIT and n > WALK_STEP_LIMIT:
        n = WALK_STEP_LIMIT
    # bsize = min(stride, max(total, blocksize)) is at most the stride: a
    # step of a stride or more needs no more.
    bsize = walk.stride
    if n < bsize and total < bsize:
        bsize = total if total > walk.blocksize else walk.blocksize
        if bsize > walk.stride:
            bsize = walk.stride
    if n < bsize:
        if total < walk.blocksize:
            return skcipher_walk_done(walk, -E.EINVAL)
        return _next_slow(walk, bsize)
    walk.nbytes = n
    dv, sv = walk._pdst[k], walk._psrc[k]
    if off or n != pn:
        # Part of a piece (the driver left bytes, or the step limit).
        sv = sv[off:off + n] if sv is not dv else None
        dv = dv[off:off + n]
        if sv is None:
            sv = dv
    walk.dst_view = dv
    walk.src_view = sv
    if walk._pdiff[k]:
        walk.flags |= SKCIPHER_WALK_DIFF
    return 0


def _plan_more(walk: SkcipherWalk) -> int:
    """Plan the pieces over what both sides have resolved, resolving the
    next window of a side that has nothing left (dst first); 0 or the
    side's -errno."""
    o = walk.out
    if o.idx >= len(o.views) and not o._refill():
        return o.err
    if walk._same:
        dviews, _, dlens = o.take()
        walk._plens = dlens if dlens is not None else list(map(len, dviews))
        walk._psrc = walk._pdst = dviews
        walk._pdiff = [False] * len(dviews)
    else:
        i = walk.in_
        if i.idx >= len(i.views) and not i._refill():
            return i.err
        sviews, saddrs, slens = i.take()
        dviews, daddrs, dlens = o.take()
        walk._plens, walk._psrc, walk._pdst, walk._pdiff, left, _ = walk_plan(
            sviews, saddrs, dviews, daddrs, slens, dlens)
        if left:
            # Runs of the longer side past the shorter's end: for the next plan.
            (i if left > 0 else o).give_back(abs(left))
    walk._k = walk._off = 0
    return 0


def _plan_span(walk: SkcipherWalk, n: int) -> tuple[list[np.ndarray], list[np.ndarray], int]:
    """The src and dst pieces of the next ``n`` bytes of the plan, as far
    as it goes, and how many bytes they hold."""
    src, dst = [], []
    k, off, got = walk._k, walk._off, 0
    plens = walk._plens
    while got < n and k < len(plens):
        m = plens[k] - off
        if m > n - got:
            m = n - got
        src.append(walk._psrc[k][off:off + m])
        dst.append(walk._pdst[k][off:off + m])
        got += m
        k += 1
        off = 0
    return src, dst, got


def _next_slow(walk: SkcipherWalk, bsize: int) -> int:
    am = walk.alignmask
    if not walk.buffer:
        walk.buffer = kmem.kzalloc(bsize + (am & ~(CRYPTO_MINALIGN - 1)), walk_gfp(walk))
        if not walk.buffer:
            return skcipher_walk_done(walk, -E.ENOMEM)
    addr = (walk.buffer + am) & ~am
    view = virt_views(addr, bsize, write=True)[0]
    # The block straddles pieces: gathered from the plan, and past its end
    # from the side itself (in place only looked at: the write-back moves it).
    src, walk._slow_dst, got = _plan_span(walk, bsize)
    copy_views([view[:got]], src)
    if got < bsize:
        if walk._same:
            ok, side = walk.out.peek(view[got:], bsize - got), walk.out
        else:
            ok, side = walk.in_.transfer(view[got:], bsize - got, False), walk.in_
        if not ok:
            return skcipher_walk_done(walk, side.err)
    walk.src_view = walk.dst_view = view
    walk.nbytes = bsize
    walk.flags |= SKCIPHER_WALK_SLOW
    return 0


def skcipher_walk_done(walk: SkcipherWalk, res: int) -> int:
    """``skcipher_walk_done()``: finish a step.  ``res`` >= 0 is the number
    of bytes of this step NOT processed (they come back in the next step);
    a negative ``res`` aborts the walk with that error.  Writes bounce data
    back, advances and maps the next step (``walk.nbytes``; 0 when the walk
    is over, after which the bounce buffer is freed and a bounced IV
    copied back).  Returns 0 or -errno (-EINVAL for unprocessed bytes on
    the slow path)."""
    if type(res) is not int and (not isinstance(res, int) or isinstance(res, bool)):
        raise TypeError(f"res must be an int, got {type(res).__name__}")
    n = walk.nbytes
    total = 0
    if n:
        if res >= 0:
            if res > n and kmem.WARN(True, f"skcipher_walk_done: res {res} > nbytes {n}"):
                res = -E.EINVAL
            else:
                n -= res
                total = walk.total - n
        if not walk.flags & SKCIPHER_WALK_SLOW:
            off = walk._off + n
            if off >= walk._plens[walk._k]:
                walk._k += 1
                off = 0
            walk._off = off
        elif res > 0:
            res = -E.EINVAL
            total = 0
        else:
            err = _slow_done(walk, n)
            if err:
                res, total = err, 0
        if res > 0:
            res = 0
        walk.total = total
        walk.nbytes = 0
        walk.src_view = walk.dst_view = None
        if total:
            walk.flags &= ~_STEP_FLAGS
            return _walk_next(walk)
    walk.nbytes = 0
    walk.total = 0
    walk.src_view = walk.dst_view = None
    if not walk.buffer:
        return res
    walk_return_iv(walk)
    kmem.kfree(walk.buffer)
    walk.buffer = 0
    return res


def _slow_done(walk: SkcipherWalk, n: int) -> int:
    """Write a slow step's block back: into the plan's dst pieces, and
    past the plan's end through the dst side; 0 or its -errno."""
    view = walk.dst_view
    got = sum(map(len, walk._slow_dst))
    copy_views(walk._slow_dst, [view[:got]])
    walk_plan_advance(walk, got)
    if got < n and not walk.out.transfer(view[got:n], n - got, True):
        return walk.out.err
    return 0


def skcipher_walk_abort(walk: SkcipherWalk) -> None:
    """``skcipher_walk_abort()``: end the walk with -ECANCELED."""
    skcipher_walk_done(walk, -E.ECANCELED)

