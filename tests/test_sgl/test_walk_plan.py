"""The planned scatterlist walk against the per-step walk (PLAN = False),
on random layouts: every memory kind (pages, folios with offsets past a
page, kmalloc, vmalloc and stack memory a page per entry, tail pages,
zero-length entries), chained arrays, in place and out of place, odd
lengths, blocks straddling entries, small plan windows, the step limit,
alignmasks (the copy path), drivers that leave bytes unprocessed, stale
pages (a record per access), lists shorter than the request (a NULL
dereference).  Both walks must make the same steps (nbytes, flags, views
in place or not, src/dst addresses), write the same bytes, record the
same ledger entries, end with the same error and leave the scatter_walks
at the same entry and offset."""

import numpy as np
import pytest

import kmem
from kmem import sanitizer
from sgl import (
    SKCIPHER_WALK_COPY,
    SKCIPHER_WALK_DIFF,
    SKCIPHER_WALK_SLOW,
    SkcipherWalk,
    crypto_alloc_skcipher,
    crypto_free_skcipher,
    crypto_register_skcipher,
    crypto_skcipher_setkey,
    crypto_unregister_skcipher,
    sg_is_chain,
    sg_set_page,
    skcipher_request_alloc,
    skcipher_request_free,
    skcipher_request_set_crypt,
    skcipher_walk_done,
    skcipher_walk_virt,
)
from sgl import skcipher_walk as walk_mod
from tests.test_sgl.layouts import build
from tests.test_sgl.toy_drivers import XorSkcipher

PAGE = kmem.PAGE_SIZE
KINDS = ("page", "page", "folio", "kmalloc", "tail", "vmalloc", "stack", "zero")
PLAIN = 5       # the first five: memory the plan resolves in bulk


def _segments(rng, n, kinds, most):
    segs, left = [], n
    while left > 0:
        kind = KINDS[int(rng.integers(0, kinds))]
        ln = PAGE if rng.random() < 0.1 else int(rng.integers(1, most))
        segs.append((kind, 0 if kind == "zero" else ln))
        left -= ln
    return segs


class Case:
    def __init__(self, seed):
        rng = np.random.default_rng(seed)
        self.seed = seed
        self.bs, self.walksize = [(16, 0), (1, 0), (1, 64), (16, 64)][seed % 4]
        self.alignmask = [0, 0, 3, 15][int(rng.integers(0, 4))]
        self.n = int(rng.integers(0, 400)) * 16 + (int(rng.integers(0, 16)) if self.bs == 1 else 0)
        if rng.random() < 0.2:
            self.n += int(rng.integers(2, 6)) * PAGE
        self.place = ["out", "out", "in", "short"][int(rng.integers(0, 4))]
        self.window = [1 << 20, 1 << 20, 8192, 2048][int(rng.integers(0, 4))]
        self.limit = [None, PAGE][int(rng.integers(0, 2))]
        self.chunk = [0, 0, 5, 40][int(rng.integers(0, 4))]
        extra = 0 if self.place == "short" else 5
        # Mostly memory the plan takes; now and then any kind (the plan
        # then hands the walk to the per-step path where it must).
        if rng.random() < 0.6:      # many entries of plain memory: planned
            kinds, sizes = PLAIN, [4, 40, 100, 300]
        else:
            kinds, sizes = len(KINDS), [4, 40, 100, 300, 1000, 3 * PAGE]
        self.ssegs = _segments(rng, self.n + extra, kinds, sizes[int(rng.integers(0, len(sizes)))])
        self.dsegs = _segments(rng, self.n + extra, kinds, sizes[int(rng.integers(0, len(sizes)))])
        self.stale = rng.random() < 0.15
        self.stale_at = rng.random()
        self.data = rng.integers(0, 256, 8 * PAGE + self.n, dtype=np.uint8)
        self.choices = rng.random(4096)


def _stale_entry(lay, where):
    """Point one small entry at a freed page: every access records."""
    small = [k for k, (_, _, n) in enumerate(lay.pieces) if 0 < n <= PAGE]
    if not small:
        return
    k = small[int(where * len(small))]
    n = lay.pieces[k][2]
    page = kmem.alloc_page(kmem.GFP_KERNEL)
    kmem.__free_page(page)
    entries = [e for arr in lay.arrays for e in arr if not sg_is_chain(e)]
    sg_set_page(entries[k], page, n, 0)
    lay.pieces[k] = (page, 0, n)


def _index(lay_list):
    return {id(e): (a, s) for lays in lay_list for a, arr in enumerate(lays.arrays)
            for s, e in enumerate(arr)}


def _run(case, src, dst, plan):
    drv = XorSkcipher(driver=f"xor-sgplan-{case.seed % 4}-{case.alignmask}",
                      blocksize=case.bs, walksize=case.walksize, alignmask=case.alignmask)
    assert crypto_register_skcipher(drv) == 0
    tfm = crypto_alloc_skcipher(drv.alg.cra_driver_name)
    assert crypto_skcipher_setkey(tfm, b"k", 1) == 0
    step = case.bs
    mark = sanitizer.mark()
    src.fill(case.data[:src.total])
    if dst is not src:
        dst.fill(np.full(dst.total, 0xA5, np.uint8))
    del sanitizer.ledger.records[mark:]       # a stale page's records, filling it
    req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    skcipher_request_set_crypt(req, src.sgl, dst.sgl, case.n, bytearray(16))
    saved = walk_mod.PLAN, walk_mod.WINDOW, walk_mod.WALK_STEP_LIMIT
    walk_mod.PLAN, walk_mod.WINDOW, walk_mod.WALK_STEP_LIMIT = plan, case.window, case.limit
    mark = sanitizer.mark()
    steps, err, bug = [], None, None
    walk = SkcipherWalk()
    try:
        err = skcipher_walk_virt(walk, req, False)
        pos = k = 0
        while walk.nbytes:
            nb = walk.nbytes
            slow = bool(walk.flags & SKCIPHER_WALK_SLOW)
            c = case.choices[k % len(case.choices)]
            k += 1
            done = nb if nb == walk.total and case.bs == 1 else nb - nb % step
            if c < 0.15 and done > step * int(1 + c * 20):
                done -= step * int(1 + c * 20)
            if slow and c > 0.97:
                done = 0
            sv, dv = walk.src_view, walk.dst_view
            flags = walk.flags & (SKCIPHER_WALK_SLOW | SKCIPHER_WALK_COPY | SKCIPHER_WALK_DIFF)
            # (A bounce buffer's address is the allocator's, not the walk's.)
            addrs = None if flags & (SKCIPHER_WALK_SLOW | SKCIPHER_WALK_COPY) else (
                walk.src.virt.addr, walk.dst.virt.addr)
            steps.append((nb, flags, sv is dv, done, addrs))
            dv[:done] = sv[:done] ^ np.uint8((pos + 7) & 0xFF)
            pos += done
            err = skcipher_walk_done(walk, nb - done)
    except kmem.KernelBug as e:
        bug = str(e)
        # The walk is dead: free what it holds, as the oops would not.
        if walk.buffer and walk.buffer != walk.page:
            kmem.kfree(walk.buffer)
        if walk.page:
            kmem.free_pages(walk.page, 0)
        walk.buffer = walk.page = 0
    finally:
        walk_mod.PLAN, walk_mod.WINDOW, walk_mod.WALK_STEP_LIMIT = saved
    records = [(r.kind, r.message) for r in sanitizer.since(mark)]
    idx = _index([src, dst])
    state = (err, bug, walk.nbytes, walk.total, bool(walk.buffer), bool(walk.page),
             idx.get(id(walk.in_.sg)), walk.in_.offset, idx.get(id(walk.out.sg)),
             walk.out.offset)
    out = dst.flat().tobytes()
    del sanitizer.ledger.records[mark:]       # the stale pages' records, compared above
    skcipher_request_free(req)
    crypto_free_skcipher(tfm)
    crypto_unregister_skcipher(drv)
    return steps, out, records, state


@pytest.mark.parametrize("seed", range(300))
def test_plan_makes_the_per_step_walk(seed):
    case = Case(seed)
    src = build(case.ssegs, chunk=case.chunk, seed=seed)
    dst = src if case.place == "in" else build(case.dsegs, chunk=case.chunk, seed=seed + 1)
    try:
        if case.stale:
            _stale_entry(src, case.stale_at)
        planned = _run(case, src, dst, True)
        per_step = _run(case, src, dst, False)
        assert planned[0] == per_step[0], "step sequence"
        assert planned[1] == per_step[1], "bytes written"
        assert planned[2] == per_step[2], "ledger records"
        assert planned[3] == per_step[3], "final state"
    finally:
        src.free()
        if dst is not src:
            dst.free()


def test_bounced_first_piece_of_a_window():
    """A plan window that starts where the last one ended an entry, with
    its first piece misaligned: the copy path must read the next entry
    (the per-step clamp's position), not past the end of the last one."""
    case = Case(0)
    case.bs, case.walksize, case.alignmask, case.place = 16, 0, 3, "out"
    case.n, case.window, case.limit, case.stale = 16 * 24, 8 * 16, None, False
    src = build([("page", 16)] * 25, seed=3)
    dst = build([("page", 16)] * 25, seed=4)
    try:
        planned = _run(case, src, dst, True)
        per_step = _run(case, src, dst, False)
        assert any(f & SKCIPHER_WALK_COPY for _, f, *_ in planned[0])
        assert planned == per_step
    finally:
        src.free()
        dst.free()
