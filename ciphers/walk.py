"""What skcipher_walk is apart from how buffers are described (the parts of
crypto/skcipher.c both worlds' walks share): the walk flags, the GFP a walk
allocates with, starting a walk from a request, and the IV bounce
(skcipher_copy_iv) with its copy-back at the end.

sgl/skcipher_walk.py walks scatterlists and iovcrypto/skcipher_walk.py walks
iov_iters; each keeps its own ``SkcipherWalk`` with the fields used here
(``oiv``, ``iv``, ``ivsize``, ``alignmask``, ``stride``, ``buffer``,
``page``, ``flags``, ``nbytes``, ``src_view``/``dst_view``).
"""

from __future__ import annotations

from operator import ne
from typing import Any

import numpy as np

import kmem
from ciphers.algapi import CRYPTO_MINALIGN, CRYPTO_TFM_REQ_MAY_SLEEP
from kmem import errno as E
from kmem.access import buffer_views, copy_views, virt_views

SKCIPHER_WALK_SLOW = 1 << 0
SKCIPHER_WALK_COPY = 1 << 1
SKCIPHER_WALK_DIFF = 1 << 2
SKCIPHER_WALK_SLEEP = 1 << 3
STEP_FLAGS = SKCIPHER_WALK_SLOW | SKCIPHER_WALK_COPY | SKCIPHER_WALK_DIFF


def walk_gfp(walk: Any) -> int:
    """A walk may sleep in its allocations only if the request allows it."""
    return kmem.GFP_KERNEL if walk.flags & SKCIPHER_WALK_SLEEP else kmem.GFP_ATOMIC


def walk_begin(walk: Any, req: Any, atomic: bool) -> None:
    """Reset ``walk`` for ``req``: no step mapped, no buffers, the IV not
    yet looked at, SLEEP if the request may sleep and the caller is not
    atomic."""
    walk.nbytes = 0
    walk.iv = None
    walk.oiv = req.iv
    walk._iv_bounced = False
    walk.src_view = walk.dst_view = None
    walk.buffer = walk.page = 0
    flags = req.base.flags
    if flags & CRYPTO_TFM_REQ_MAY_SLEEP:
        kmem.might_sleep("skcipher_walk with CRYPTO_TFM_REQ_MAY_SLEEP")
    walk.flags = SKCIPHER_WALK_SLEEP if flags & CRYPTO_TFM_REQ_MAY_SLEEP and not atomic else 0


def walk_set_alg(walk: Any, alg: Any, aead: bool) -> None:
    """The algorithm's sizes the walk steps by: an skcipher walk strides by
    walksize (falling back to chunksize, then blocksize), an AEAD's data
    walk by its chunksize."""
    walk.blocksize = alg.cra_blocksize
    walk.ivsize = alg.ivsize
    walk.alignmask = alg.cra_alignmask
    stride = alg.chunksize if aead else (alg.walksize or alg.chunksize)
    walk.stride = stride or alg.cra_blocksize


def walk_setup_iv(walk: Any) -> int:
    """Point ``walk.iv`` at the request's IV, or at an aligned copy of it
    when it is misaligned (an address) or not one view; 0 or -ENOMEM."""
    oiv = walk.oiv
    if oiv is None or not walk.ivsize:
        return 0
    views = buffer_views(oiv, walk.ivsize, write=True)
    walk._oiv_views = views
    misaligned = isinstance(oiv, int) and bool(oiv & walk.alignmask)
    if misaligned or len(views) != 1:
        return _copy_iv(walk, views)
    walk.iv = views[0]
    return 0


def _copy_iv(walk: Any, views: list[np.ndarray]) -> int:
    """skcipher_copy_iv: the IV goes after a stride-sized area of an
    aligned kmalloc'd buffer (which the slow path may reuse)."""
    am = walk.alignmask
    aligned_stride = (walk.stride + am) & ~am
    size = aligned_stride + walk.ivsize + (am & ~(CRYPTO_MINALIGN - 1))
    walk.buffer = kmem.kmalloc(size, walk_gfp(walk))
    if not walk.buffer:
        return -E.ENOMEM
    iv_addr = ((walk.buffer + am) & ~am) + aligned_stride
    walk.iv = virt_views(iv_addr, walk.ivsize, write=True)[0]
    copy_views([walk.iv], views)
    walk._iv_bounced = True
    return 0


def walk_return_iv(walk: Any) -> None:
    """At the end of a walk, copy a bounced IV back to the request's."""
    if walk._iv_bounced:
        copy_views(walk._oiv_views, [walk.iv])
        walk._iv_bounced = False


def _host_addrs(views: list[np.ndarray]) -> list[int]:
    return [v.__array_interface__["data"][0] for v in views]


def walk_plan_advance(walk: Any, n: int) -> None:
    """Move a walk's plan cursor (piece ``walk._k``, ``walk._off`` bytes
    into it) ``n`` bytes on, past every piece it finishes: after a step the
    plan handed to a bounce path, which moved the sides themselves."""
    k, off = walk._k, walk._off + n
    plens = walk._plens
    while k < len(plens) and off >= plens[k]:
        off -= plens[k]
        k += 1
    walk._k, walk._off = k, off if k < len(plens) else 0


def walk_plan(sviews: list[np.ndarray], saddrs: list[int] | None,
              dviews: list[np.ndarray], daddrs: list[int] | None,
              slens: list[int] | None = None, dlens: list[int] | None = None
              ) -> tuple[list[int], list[np.ndarray], list[np.ndarray], list[bool], int,
                         tuple[list[int], list[int], list[int], list[int]] | None]:
    """The pieces a walk steps through, over the runs of memory both sides
    have resolved from their positions on: each piece is as long as the
    shorter of the src and dst runs at its start (so a step is at most a
    piece, and a piece is what the kernel's per-step ``min`` of the two
    sides' contiguous bytes gives), up to the end of the shorter side.
    ``saddrs``/``daddrs`` are where each run starts (physical addresses,
    or None: then the views' own addresses are compared), and tell in
    place from out of place; ``slens``/``dlens`` their lengths, if the
    caller has them.

    Returns the pieces' lengths, their src and dst views (the same object
    where a piece is in place), whether each piece is out of place
    (SKCIPHER_WALK_DIFF), how many bytes src has past the plan's end
    (negative: dst has), and where each piece starts: None when piece k is
    run k of both sides, else (src run, bytes into it, dst run, bytes into
    it) of each piece.  Both sides with the same runs, the common case,
    take no numpy at all."""
    if saddrs is None or daddrs is None:
        saddrs, daddrs = _host_addrs(sviews), _host_addrs(dviews)
    if len(sviews) == 1 and len(dviews) == 1 and len(sviews[0]) == len(dviews[0]):
        # One run each, of one length (a one-step request): one piece.
        sv, dv = sviews[0], dviews[0]
        diff = saddrs[0] != daddrs[0]
        return [len(dv)], [sv if diff else dv], dviews, [diff], 0, None
    if slens is None:
        slens = list(map(len, sviews))
    if dlens is None:
        dlens = list(map(len, dviews))
    if slens == dlens:
        diff = list(map(ne, saddrs, daddrs))
        if all(diff):
            return slens, sviews, dviews, diff, 0, None
        return (slens, [s if f else d for s, d, f in zip(sviews, dviews, diff)], dviews, diff, 0,
                None)
    sl, dl = np.array(slens, np.int64), np.array(dlens, np.int64)
    cs, cd = np.cumsum(sl), np.cumsum(dl)
    end = min(int(cs[-1]), int(cd[-1]))
    ends = np.union1d(cs, cd)
    ends = ends[:int(np.searchsorted(ends, end, "right"))]
    starts = np.concatenate(([0], ends[:-1]))
    lens = ends - starts
    si = np.searchsorted(cs, starts, "right")
    di = np.searchsorted(cd, starts, "right")
    so = starts - (cs[si] - sl[si])
    do = starts - (cd[di] - dl[di])
    diff = (np.array(saddrs, np.int64)[si] + so) != (np.array(daddrs, np.int64)[di] + do)
    swhole = (so == 0) & (lens == sl[si])
    dwhole = (do == 0) & (lens == dl[di])
    n = lens.tolist()
    where = si.tolist(), so.tolist(), di.tolist(), do.tolist()
    dst = [dviews[i] if w else dviews[i][o:o + k]
           for i, o, k, w in zip(where[2], where[3], n, dwhole.tolist())]
    src = [(sviews[i] if w else sviews[i][o:o + k]) if f else d
           for i, o, k, w, f, d in zip(where[0], where[1], n, swhole.tolist(),
                                       diff.tolist(), dst)]
    return n, src, dst, diff.tolist(), int(cs[-1]) - int(cd[-1]), where
