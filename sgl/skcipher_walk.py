"""skcipher_walk over scatterlists (crypto/skcipher.c until late 2025, then
crypto/scatterwalk.c; include/crypto/internal/skcipher.h).

How a driver uses it (the kernel's loop, in Python)::

    walk = SkcipherWalk()
    err = skcipher_walk_virt(walk, req, False)
    while walk.nbytes:
        n = walk.nbytes - walk.nbytes % bs          # whole blocks (or all, at the end)
        core(walk.dst_view[:n], walk.src_view[:n], walk.iv)
        err = skcipher_walk_done(walk, walk.nbytes - n)
    return err

Step sizing is the kernel's: each step is ``min(total, rest of the current
src entry, rest of the current dst entry, WALK_STEP_LIMIT)``; if that is smaller
than ``bsize = min(stride, max(total, blocksize))`` the step goes through a
bounce buffer ("slow path", exactly ``bsize`` bytes gathered from as many
entries as needed), unless ``total < blocksize``, which ends the walk with
-EINVAL.  Offsets not aligned to the algorithm's alignmask go through a
bounce page ("copy path").  On the slow path, leaving bytes unprocessed is
-EINVAL.  A misaligned IV (an IV given as a kernel address) is copied into
the walk's buffer and copied back when the walk ends.  The walk frees what
it allocated when it ends (normally or by error).

One deliberate difference: the kernel caps a step at PAGE_SIZE so that SIMD
code does not run too long with preemption off.  The model has no
preemption, so by default (``WALK_STEP_LIMIT = None``) a step covers the
whole run the current src and dst entries have in common, and a driver hands
whole spans to its core (DESIGN §10).  Drivers must not depend on step sizes
either way; set ``WALK_STEP_LIMIT = PAGE_SIZE`` to see the kernel's steps.
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
from kmem import PAGE_OFFSET, PAGE_SHIFT, Page
from kmem import errno as E
from kmem.access import copy_views, page_views, virt_views
from kmem.bulk import Ranges, range_views
from kmem.page_alloc import BANK_SHIFT, PFN_BASE
from sgl.aead import AeadRequest
from sgl.scatterlist import SG_END
from sgl.scatterlist_iter import _Cursor
from sgl.scatterwalk import (
    ScatterWalk,
    _next_entry,
    _walk_copy,
    scatterwalk_clamp,
    scatterwalk_start,
    scatterwalk_start_at_pos,
)
from sgl.sg_bulk import sg_ranges
from sgl.skcipher import SkcipherRequest

_STEP_FLAGS = STEP_FLAGS
_BANK_BYTES_SHIFT = BANK_SHIFT + PAGE_SHIFT
_RAM_BASE = PFN_BASE << PAGE_SHIFT

WALK_STEP_LIMIT: int | None = None
#: Bytes of both sides planned at a time.
WINDOW = 1 << 20
#: False: every step takes the per-step path (the tests compare the plan with it).
PLAN = True


class _Virt:
    """``walk->src.virt`` / ``walk->dst.virt``: the address of the step,
    shared with the scatter_walk it overlays (``addr``), or the planned
    piece's during a planned step."""

    __slots__ = ("_src", "_walk")

    def __init__(self, walk: SkcipherWalk, src: bool) -> None:
        self._walk, self._src = walk, src

    @property
    def virt(self) -> _Virt:
        return self

    @property
    def addr(self) -> int:
        w = self._walk
        if w._plens and w.nbytes and not w._synced:
            return PAGE_OFFSET + _plan_phys(w, self._src)
        return (w.in_ if self._src else w.out).addr


class SkcipherWalk:
    """``struct skcipher_walk``.

    Per step (valid while ``nbytes`` != 0):

    - ``nbytes``: bytes available this step.  Process a multiple of the
      block size (or everything, on the last step of a stream mode), then
      call ``skcipher_walk_done(walk, nbytes - processed)``.
    - ``src_view`` / ``dst_view``: numpy uint8 arrays of exactly ``nbytes``
      bytes to read / write (views of the real memory on the fast path, of
      a bounce buffer on the slow and copy paths).  In place they are the
      same array object.  Write results only to ``dst_view``.
    - ``src.virt.addr`` / ``dst.virt.addr``: the kernel addresses of those
      bytes (as in C).

    Whole walk:

    - ``total``: bytes not yet done (including this step's).
    - ``iv``: numpy view of the IV (``ivsize`` bytes) that the driver reads
      and updates in place; it is the caller's IV unless that was bounced,
      and is copied back to the caller's IV (``oiv``) when the walk ends.
    - ``blocksize``, ``stride`` (walksize or AEAD chunksize), ``ivsize``,
      ``alignmask``: from the tfm.
    - ``flags``: SKCIPHER_WALK_{SLOW,COPY,DIFF,SLEEP}; ``page``/``buffer``:
      addresses of the bounce page/buffer (0 when none).
    - ``in_`` / ``out``: the underlying scatter_walks (private in C).
    """

    __slots__ = ("_bulk", "_druns", "_iv_bounced", "_k", "_off", "_oiv_views", "_pdiff",
                 "_pdst", "_plens", "_psrc", "_pwhere", "_sruns", "_synced", "alignmask",
                 "blocksize", "buffer", "dst", "dst_view", "flags", "in_", "iv", "ivsize",
                 "nbytes", "oiv", "out", "page", "src", "src_view", "stride", "total")

    def __init__(self) -> None:
        self.in_ = ScatterWalk()
        self.out = ScatterWalk()
        self.src = _Virt(self, True)
        self.dst = _Virt(self, False)
        self._plens = _NO_PLAN      # the rest of the plan is set when a walk starts
        self._synced = True
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

    def _reset_plan(self) -> None:
        # The plan (see _plan_more): the pieces both sides' runs give, the
        # cursor in them (piece, bytes into it), where each side's runs
        # start (entries and physical addresses), whether the
        # scatter_walks are at the cursor (_synced), and whether to plan.
        self._plens = self._psrc = self._pdst = self._pdiff = _NO_PLAN
        self._sruns = self._druns = self._pwhere = None
        self._k = self._off = 0
        self._synced = self._bulk = True


_NO_PLAN: tuple = ()


def _one_view(views: list[np.ndarray]) -> np.ndarray | None:
    return views[0] if len(views) == 1 else None


def skcipher_walk_virt(walk: SkcipherWalk, req: SkcipherRequest, atomic: bool) -> int:
    """``skcipher_walk_virt()``: start a walk over ``req`` (cryptlen bytes of
    src/dst) and map the first step.  0 (check ``walk.nbytes``) or -errno."""
    if not isinstance(walk, SkcipherWalk):
        raise TypeError(f"walk must be a SkcipherWalk, got {type(walk).__name__}")
    if not isinstance(req, SkcipherRequest):
        raise TypeError(f"req must be a SkcipherRequest, got {type(req).__name__}")
    tfm = req.base.tfm
    alg = tfm.alg
    walk_begin(walk, req, atomic)
    walk.total = req.cryptlen
    if not walk.total:
        return 0
    scatterwalk_start(walk.in_, req.src)
    scatterwalk_start(walk.out, req.dst)
    walk_set_alg(walk, alg, aead=False)
    walk._reset_plan()
    return _walk_first(walk)


def _walk_aead(walk: SkcipherWalk, req: AeadRequest, atomic: bool, total: int) -> int:
    if not isinstance(walk, SkcipherWalk):
        raise TypeError(f"walk must be a SkcipherWalk, got {type(walk).__name__}")
    if not isinstance(req, AeadRequest):
        raise TypeError(f"req must be an AeadRequest, got {type(req).__name__}")
    alg = req.base.tfm.alg
    walk_begin(walk, req, atomic)
    if kmem.WARN(total < 0, "skcipher_walk_aead_decrypt: cryptlen < authsize"):
        walk.total = 0
        return -E.EINVAL
    walk.total = total
    if not total:
        return 0
    scatterwalk_start_at_pos(walk.in_, req.src, req.assoclen)
    scatterwalk_start_at_pos(walk.out, req.dst, req.assoclen)
    walk_set_alg(walk, alg, aead=True)
    walk._reset_plan()
    return _walk_first(walk)


def skcipher_walk_aead_encrypt(walk: SkcipherWalk, req: AeadRequest, atomic: bool) -> int:
    """Walk the ``cryptlen`` plaintext bytes after ``assoclen``."""
    return _walk_aead(walk, req, atomic, req.cryptlen)


def skcipher_walk_aead_decrypt(walk: SkcipherWalk, req: AeadRequest, atomic: bool) -> int:
    """Walk the ``cryptlen - authsize`` ciphertext bytes after ``assoclen``."""
    return _walk_aead(walk, req, atomic, req.cryptlen - req.base.tfm.authsize)


def _walk_first(walk: SkcipherWalk) -> int:
    return walk_setup_iv(walk) or _walk_next(walk)


def _walk_next(walk: SkcipherWalk) -> int:
    if walk._k < len(walk._plens) or (walk._bulk and _plan_more(walk)):
        return _plan_step(walk)
    # A step over memory not planned: scatterwalk_clamp() on both sides
    # inlined, and no min()/max() calls.
    n = total = walk.total
    bsize = n if n > walk.blocksize else walk.blocksize
    if bsize > walk.stride:
        bsize = walk.stride
    if WALK_STEP_LIMIT and n > WALK_STEP_LIMIT:
        n = WALK_STEP_LIMIT
    # In place, both sides are at the same position and move together.
    i, o = walk.in_, walk.out
    same = o.sg is i.sg and o.offset == i.offset
    sg = i.sg
    if sg is None:
        scatterwalk_clamp(i, n)     # raises the NULL dereference
    end = sg.offset + sg.length
    if i.offset >= end:
        sg = i.sg = _next_entry(sg)
        i.offset = sg.offset
        end = sg.offset + sg.length
    if end - i.offset < n:
        n = end - i.offset
    if same:
        o.sg, o.offset = i.sg, i.offset
    else:
        sg = o.sg
        if sg is None:
            scatterwalk_clamp(o, n)
        end = sg.offset + sg.length
        if o.offset >= end:
            sg = o.sg = _next_entry(sg)
            o.offset = sg.offset
            end = sg.offset + sg.length
        if end - o.offset < n:
            n = end - o.offset
    if n < bsize:
        if total < walk.blocksize:
            return skcipher_walk_done(walk, -E.EINVAL)
        return _next_slow(walk, bsize)
    walk.nbytes = n
    if (i.offset | o.offset) & walk.alignmask:
        return _next_copy(walk, bsize)
    return _next_fast(walk, bsize)


def _plan_more(walk: SkcipherWalk) -> bool:
    """Plan the next window of both sides: their entries from the walks'
    positions, resolved and checked in bulk (sgl.sg_bulk), merged into
    pieces by walk_plan.  False (no plan: the step takes the per-step
    path from the scatter_walks, now and for the rest of the walk) where
    the bulk path refuses: few entries, unusual memory, anything that
    would make a record or a fault."""
    i, o = walk.in_, walk.out
    if not PLAN or i.sg is None or o.sg is None or i.sg._flags & SG_END:
        # (A last entry is one step: planned only for lists of many.)
        return _no_plan(walk)
    if not walk._synced:
        _sync(walk)
    walk._reset_plan()
    want = walk.total if walk.total < WINDOW else WINDOW
    sents: list = []
    sr = sg_ranges(i.sg, i.offset - i.sg.offset, want, entries=sents)
    if sr is None:
        return _no_plan(walk)
    if o.sg is i.sg and o.offset == i.offset:
        dr, dents = sr, sents       # in place: one list, one resolution
    else:
        dents = []
        dr = sg_ranges(o.sg, o.offset - o.sg.offset, want, entries=dents)
        if dr is None:
            return _no_plan(walk)
    sviews, sphys = range_views(sr), _phys(sr)
    dviews, dphys = (sviews, sphys) if dr is sr else (range_views(dr), _phys(dr))
    walk._plens, walk._psrc, walk._pdst, walk._pdiff, _, walk._pwhere = walk_plan(
        sviews, sphys, dviews, dphys)
    walk._sruns, walk._druns = (sents, sphys), (dents, dphys)
    return True


def _no_plan(walk: SkcipherWalk) -> bool:
    """The per-step path from the scatter_walks, for the rest of the walk."""
    if walk._plens:
        if not walk._synced:
            _sync(walk)
        walk._reset_plan()
    walk._bulk = False
    return False


def _phys(r: Ranges) -> list[int]:
    return ((r.bank << _BANK_BYTES_SHIFT) + r.starts + _RAM_BASE).tolist()


def _plan_phys(walk: SkcipherWalk, src: bool) -> int:
    """Physical address of the cursor on one side."""
    k, off, where = walk._k, walk._off, walk._pwhere
    phys = (walk._sruns if src else walk._druns)[1]
    if where is None:
        return phys[k] + off
    run, into = (where[0], where[1]) if src else (where[2], where[3])
    return phys[run[k]] + into[k] + off


def _sync(walk: SkcipherWalk, at_step: bool = False) -> None:
    """Put the scatter_walks where the plan's cursor is: after the last
    byte done, as the per-step walk leaves them between steps, or (at a
    step the plan hands to the bounce paths) where that step's clamp puts
    them, at the start of the cursor's piece."""
    k, off = walk._k, walk._off
    if k or off or at_step:
        if not off and not at_step:
            k -= 1
            off = walk._plens[k]
        where = walk._pwhere
        for sw, (ents, phys), j in ((walk.in_, walk._sruns, 0), (walk.out, walk._druns, 2)):
            run, into = (k, 0) if where is None else (where[j][k], where[j + 1][k])
            e = ents[run]
            sw.sg = e
            sw.offset = phys[run] + into + off - (e._link.pfn << PAGE_SHIFT)
    walk._synced = True


def _plan_step(walk: SkcipherWalk) -> int:
    # Once per planned step: the next piece (no numpy, no min()/max()).
    # The same step as iovcrypto/skcipher_walk.py's _walk_next, written out
    # in each (shared helpers cost 7-15 % more per step, measured).
    total = walk.total
    k, off = walk._k, walk._off
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
        _sync(walk, at_step=True)
        return _next_slow(walk, bsize)
    walk.nbytes = n
    am = walk.alignmask
    if am and (_plan_phys(walk, True) | _plan_phys(walk, False)) & am:
        _sync(walk, at_step=True)
        return _next_copy(walk, bsize)
    dv, sv = walk._pdst[k], walk._psrc[k]
    if off or n != pn:
        # Part of a piece (the driver left bytes, or the step limit).
        sv = sv[off:off + n] if sv is not dv else None
        dv = dv[off:off + n]
        if sv is None:
            sv = dv
    walk.dst_view = dv
    walk.src_view = sv
    walk._synced = False
    if walk._pdiff[k]:
        walk.flags |= SKCIPHER_WALK_DIFF
    return 0


def _next_slow(walk: SkcipherWalk, bsize: int) -> int:
    am = walk.alignmask
    if not walk.buffer:
        walk.buffer = walk.page
    if not walk.buffer:
        walk.buffer = kmem.kzalloc(bsize + (am & ~(CRYPTO_MINALIGN - 1)), walk_gfp(walk))
        if not walk.buffer:
            return skcipher_walk_done(walk, -E.ENOMEM)
    addr = (walk.buffer + am) & ~am
    view = virt_views(addr, bsize, write=True)[0]
    _walk_copy(walk.in_, _Cursor([view]), bsize, False)
    walk.out.addr = walk.in_.addr = addr
    walk.src_view = walk.dst_view = view
    walk.nbytes = bsize
    walk.flags |= SKCIPHER_WALK_SLOW
    return 0


def _page_of(sw: ScatterWalk) -> kmem.Page:
    page = sw.sg._link
    if not isinstance(page, kmem.Page):
        raise kmem.KernelBug("skcipher_walk: scatterlist entry without a page")
    return page


def _next_copy(walk: SkcipherWalk, bsize: int) -> int:
    if not walk.page:
        walk.page = kmem.__get_free_pages(walk_gfp(walk), 0)
        if not walk.page:
            return _next_slow(walk, bsize)
    # The bounce page holds one page: a copy-path step is at most that.
    n = walk.nbytes = min(walk.nbytes, kmem.PAGE_SIZE)
    view = virt_views(walk.page, n, write=True)[0]
    src = walk.in_
    copy_views([view], page_views(_page_of(src), src.offset, n))
    walk.in_.addr = walk.out.addr = walk.page
    walk.src_view = walk.dst_view = view
    walk.flags |= SKCIPHER_WALK_COPY
    return 0


def _next_fast(walk: SkcipherWalk, bsize: int) -> int:
    n = walk.nbytes
    i, o = walk.in_, walk.out
    ipage, opage = i.sg._link, o.sg._link
    if (type(ipage) is not Page or type(opage) is not Page) and \
            not (isinstance(ipage, Page) and isinstance(opage, Page)):
        raise kmem.KernelBug("skcipher_walk: scatterlist entry without a page")
    ooff = o.offset
    out_views = page_views(opage, ooff, n, write=True)
    if len(out_views) != 1:
        # Not one run of memory (a bank boundary, or partly invalid memory):
        # the model takes the copy path, which gives the same bytes.
        return _next_copy(walk, bsize)
    out_view = walk.dst_view = out_views[0]
    ophys = (opage.pfn << PAGE_SHIFT) + ooff
    o.addr = PAGE_OFFSET + ophys
    ioff = i.offset
    if (ipage is opage and ioff == ooff) or (ipage.pfn << PAGE_SHIFT) + ioff == ophys:
        i.addr = o.addr
        walk.src_view = out_view
        return 0
    in_views = page_views(ipage, ioff, n)
    if len(in_views) != 1:
        return _next_copy(walk, bsize)
    walk.flags |= SKCIPHER_WALK_DIFF
    i.addr = PAGE_OFFSET + (ipage.pfn << PAGE_SHIFT) + ioff
    walk.src_view = in_views[0]
    return 0


def skcipher_walk_done(walk: SkcipherWalk, res: int) -> int:
    """``skcipher_walk_done()``: finish a step.  ``res`` >= 0 is the number
    of bytes of this step NOT processed (they come back in the next step);
    a negative ``res`` aborts the walk with that error.  Writes bounce data
    back, advances and maps the next step (``walk.nbytes``; 0 when the walk
    is over, after which buffers are freed and a bounced IV copied back).
    Returns 0 or -errno (-EINVAL for unprocessed bytes on the slow path)."""
    n = walk.nbytes
    total = 0
    if n:
        if res >= 0:
            if res > n and kmem.WARN(True, f"skcipher_walk_done: res {res} > nbytes {n}"):
                res = -E.EINVAL
            else:
                n -= res
                total = walk.total - n
        flags = walk.flags
        if not flags & _STEP_FLAGS or flags & SKCIPHER_WALK_DIFF:
            if walk._plens:
                off = walk._off + n
                if off >= walk._plens[walk._k]:
                    walk._k += 1
                    off = 0
                walk._off = off
            else:
                walk.in_.offset += n
                walk.out.offset += n
        elif flags & SKCIPHER_WALK_COPY:
            walk.in_.offset += n
            out = walk.out
            if n:
                copy_views(page_views(out.sg._link, out.offset, n, write=True),
                           [walk.dst_view[:n]])
            out.offset += n
            if walk._plens:
                walk_plan_advance(walk, n)
        else:
            if res > 0:
                res = -E.EINVAL
                total = 0
            else:
                _walk_copy(walk.out, _Cursor([walk.dst_view]), n, True)
                if walk._plens:
                    walk_plan_advance(walk, n)
        if res > 0:
            res = 0
        walk.total = total
        walk.nbytes = 0
        walk.src_view = walk.dst_view = None
        if total:
            walk.flags &= ~_STEP_FLAGS
            return _plan_step(walk) if walk._k < len(walk._plens) else _walk_next(walk)
    walk.nbytes = 0
    walk.total = 0
    walk.src_view = walk.dst_view = None
    if not walk._synced:
        _sync(walk)
    if not (walk.buffer or walk.page):
        return res
    walk_return_iv(walk)
    if walk.buffer != walk.page:
        kmem.kfree(walk.buffer)
    if walk.page:
        kmem.free_pages(walk.page, 0)
    return res


def skcipher_walk_abort(walk: SkcipherWalk) -> None:
    """``skcipher_walk_abort()``: end the walk with -ECANCELED."""
    skcipher_walk_done(walk, -E.ECANCELED)

