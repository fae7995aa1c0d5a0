"""The planned iov_iter walk against the per-step walk (PLAN_RUNS = 1: a
plan of one piece, re-planned from the sides at every step), on random
layouts: every iterator type, in place and out of place, odd segments,
blocks straddling segments, 1-byte and multi-page segments, small resolve
windows, the step limit, drivers that leave bytes unprocessed, and user
pages that fault.  Both walks must make the same steps (nbytes, flags, in
place or not), write the same bytes, record the same ledger entries, end
with the same error and leave the same state behind."""

import numpy as np
import pytest

import kmem
from iovcrypto import (
    ITER_DEST,
    ITER_SOURCE,
    SKCIPHER_WALK_DIFF,
    SKCIPHER_WALK_SLOW,
    SkcipherWalk,
    crypto_alloc_skcipher,
    crypto_free_skcipher,
    crypto_register_skcipher,
    crypto_skcipher_setkey,
    crypto_unregister_skcipher,
    iov_iter,
    iov_iter_kvec,
    iov_iter_ubuf,
    kvec,
    skcipher_request_alloc,
    skcipher_request_free,
    skcipher_request_set_iter,
    skcipher_walk_done,
    skcipher_walk_virt,
)
from iovcrypto import scatterwalk as side_mod
from iovcrypto import skcipher_walk as walk_mod
from kmem import sanitizer
from tests.test_iov_crypto.helpers import KINDS, build, get, position, put
from tests.test_iov_crypto.toy_drivers import XorSkcipher

PAGE = kmem.PAGE_SIZE
MODES = {"block": (16, 0, 0), "stream": (1, 16, 0), "wide": (1, 16, 64)}


def _seg_lens(rng, n):
    """Segments up to a size picked per layout (1-byte to multi-page), a
    whole page now and then."""
    most = [4, 40, 300, 5000, 3 * PAGE][int(rng.integers(0, 5))]
    out, left = [], n
    while left > 0:
        ln = PAGE if rng.random() < 0.1 else int(rng.integers(1, most))
        out.append(ln)
        left -= ln
    return out


def _faulting_ubuf(n, at, direction):
    """A user buffer of ``n`` bytes whose page holding byte ``at`` is unmapped."""
    mm = kmem.current_mm()
    length = (n + 2 * PAGE) & ~(PAGE - 1)
    base = mm.mmap(length)
    hole = (64 + at) & ~(PAGE - 1)
    assert mm.munmap(base + hole, PAGE) == 0
    it = iov_iter()
    iov_iter_ubuf(it, direction, base + 64, n)

    def free():
        mm.munmap(base, hole)
        if length > hole + PAGE:
            mm.munmap(base + hole + PAGE, length - hole - PAGE)
    return it, free


def _kvecs(addr, n, lens, direction, other=None):
    """KVEC segments of ``lens`` over the buffer at ``addr``; with ``other``,
    every third segment is at the same offset of that buffer instead."""
    segs, off = [], 0
    for k, ln in enumerate(lens):
        if off >= n:
            break
        ln = min(ln, n - off)
        segs.append(kvec((other if other and k % 3 == 1 else addr) + off, ln))
        off += ln
    it = iov_iter()
    iov_iter_kvec(it, direction, segs, len(segs), n)
    return it


class Case:
    """One random request: layouts, data, and the driver's choices."""

    def __init__(self, seed):
        rng = np.random.default_rng(seed)
        self.seed = seed
        self.mode = list(MODES)[seed % 3]
        bs = MODES[self.mode][0]
        self.n = int(rng.integers(0, 40)) * 16 + (int(rng.integers(0, 16)) if bs == 1 else 0)
        if rng.random() < 0.2:
            self.n += int(rng.integers(2, 6)) * PAGE
        self.place = ["out", "same-memory", "same-iter", "twin", "fault-src", "fault-dst",
                      "same-split"][seed % 7]
        self.window = [1 << 20, 4096, 37][int(rng.integers(0, 3))]
        self.limit = [None, PAGE][int(rng.integers(0, 2))]
        self.skind = KINDS[int(rng.integers(0, len(KINDS)))]
        self.dkind = KINDS[int(rng.integers(0, len(KINDS)))]
        self.slens = _seg_lens(rng, self.n + 5)
        self.dlens = _seg_lens(rng, self.n + 5)
        self.start = int(rng.integers(0, PAGE))
        self.data = rng.integers(0, 256, self.n + 5, dtype=np.uint8)
        self.choices = rng.random(4096)


def _run(case, plan_runs):
    """Walk the case's request, driving it by hand; everything observable."""
    bs, chunk, walksize = MODES[case.mode]
    step = chunk or bs
    drv = XorSkcipher(driver=f"xor-plan-{case.mode}", blocksize=bs, chunksize=chunk,
                      walksize=walksize)
    assert crypto_register_skcipher(drv) == 0
    tfm = crypto_alloc_skcipher(drv.alg.cra_driver_name)
    assert crypto_skcipher_setkey(tfm, b"k", 1) == 0
    frees, fault = [], None
    n = case.n
    if case.place in ("same-memory", "same-split"):
        # Two iterators over one buffer: in place told step by step.
        addr = kmem.kmalloc(n + 5, kmem.GFP_KERNEL)
        frees.append(lambda: kmem.kfree(addr))
        kmem.copy_views(kmem.virt_views(addr, n + 5, write=True), [case.data])
        other = kmem.kmalloc(n + 5, kmem.GFP_KERNEL)
        frees.append(lambda: kmem.kfree(other))
        src_it = _kvecs(addr, n + 5, case.slens, ITER_SOURCE)
        if case.place == "same-split":     # partly in place: every third segment not
            dst_it = _kvecs(addr, n + 5, case.slens, ITER_DEST, other)
        else:
            dst_it = _kvecs(addr, n + 5, case.dlens, ITER_DEST)
        dst = None
        out_views = kmem.virt_views(addr, n + 5)
    elif case.place == "fault-src":
        src_it, free = _faulting_ubuf(n + 5, (n * 2) // 3, ITER_SOURCE)
        frees.append(free)
        fault = "src"
    else:
        src = build(case.skind, n + 5, case.slens, seed=case.seed, start=case.start,
                    source=case.place != "same-iter")
        frees.append(src.free)
        put(src, 0, case.data)
        src_it = src.it
    if case.place in ("same-memory", "same-split"):
        pass
    elif case.place == "same-iter":
        dst, dst_it = src, src_it
    elif case.place == "twin":
        dst, dst_it = src, src_it.copy()
        dst_it.data_source = False
    elif case.place == "fault-dst":
        dst_it, free = _faulting_ubuf(n + 5, n // 2, ITER_DEST)
        frees.append(free)
        dst = None
        fault = "dst"
    else:
        dst = build(case.dkind, n + 3, case.dlens, source=False, seed=case.seed + 1,
                    start=case.start * 7)
        frees.append(dst.free)
        put(dst, 0, np.full(dst.count, 0xA5, np.uint8))
        dst_it = dst.it
    before = position(src_it), position(dst_it)
    req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    skcipher_request_set_iter(req, src_it, dst_it, n, bytearray(16))
    saved = side_mod.PLAN_RUNS, side_mod.WINDOW, walk_mod.WALK_STEP_LIMIT
    side_mod.PLAN_RUNS, side_mod.WINDOW, walk_mod.WALK_STEP_LIMIT = \
        plan_runs, case.window, case.limit
    mark = sanitizer.mark()
    steps = []
    try:
        walk = SkcipherWalk()
        err = skcipher_walk_virt(walk, req, False)
        pos = k = 0
        while walk.nbytes:
            nb = walk.nbytes
            slow = bool(walk.flags & SKCIPHER_WALK_SLOW)
            c = case.choices[k % len(case.choices)]
            k += 1
            if nb == walk.total and bs == 1:
                done = nb
            else:
                done = nb - nb % step
            if c < 0.15 and done >= step:
                done -= step * int(1 + c * 20) if done > step * int(1 + c * 20) else 0
            if slow and c > 0.97:
                done = 0              # unprocessed bytes on the slow path: -EINVAL
            sv, dv = walk.src_view, walk.dst_view
            steps.append((nb, walk.flags & (SKCIPHER_WALK_SLOW | SKCIPHER_WALK_DIFF),
                          sv is dv, done))
            dv[:done] = sv[:done] ^ np.uint8((pos + 7) & 0xFF)
            pos += done
            err = skcipher_walk_done(walk, nb - done)
        state = (err, walk.nbytes, walk.total, walk.buffer,
                 position(walk.in_.it)[:-1] if walk.in_.it is not None and walk.in_.own else None,
                 position(walk.out.it)[:-1] if walk.out.it is not None and walk.out.own else None)
        records = [(r.kind, r.message) for r in sanitizer.since(mark)]
        if case.place in ("same-memory", "same-split"):
            out = kmem.gather(out_views).tobytes()
        else:
            out = None if dst is None else get(dst, 0, dst.count).tobytes()
        assert (position(src_it), position(dst_it)) == before   # the walk never moves them
    finally:
        side_mod.PLAN_RUNS, side_mod.WINDOW, walk_mod.WALK_STEP_LIMIT = saved
        skcipher_request_free(req)
        crypto_free_skcipher(tfm)
        crypto_unregister_skcipher(drv)
        for f in frees:
            f()
    return steps, out, records, state, fault


@pytest.mark.parametrize("seed", range(300))
def test_plan_makes_the_per_step_walk(seed):
    case = Case(seed)
    planned = _run(case, None)
    per_step = _run(case, 1)
    assert planned[0] == per_step[0], "step sequence"
    assert planned[1] == per_step[1], "bytes written"
    assert planned[2] == per_step[2], "ledger records"
    assert planned[3] == per_step[3], "final state"
    if planned[4] is not None and case.n > PAGE:
        assert planned[3][0] in (-kmem.errno.EFAULT, -kmem.errno.EINVAL)
