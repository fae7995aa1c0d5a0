"""iterate_and_advance*: per-type stepping, short steps, final positions."""

from __future__ import annotations

import numpy as np
import pytest

import kmem
from iovcrypto import (
    ITER_DEST,
    ITER_SOURCE,
    bio_vec,
    copy_to_iter,
    iov_iter,
    iov_iter_advance,
    iov_iter_bvec,
    iov_iter_discard,
    iov_iter_folio_queue,
    iov_iter_kvec,
    iov_iter_reexpand,
    iov_iter_spans,
    iov_iter_ubuf,
    iov_iter_xarray,
    iterate_and_advance,
    iterate_and_advance2,
    iterate_and_advance_kernel,
    kvec,
)

from .layouts import make

PAGE = kmem.PAGE_SIZE


class Recorder:
    """A step that records (progress, len) and stops after ``limit`` bytes."""

    def __init__(self, limit: int | None = None) -> None:
        self.calls: list[tuple[int, int]] = []
        self.limit = limit

    def __call__(self, base, progress, length, priv, priv2):
        assert len(base) == length and base.dtype == np.uint8
        self.calls.append((progress, length))
        if self.limit is not None and progress + length > self.limit:
            return progress + length - max(self.limit, progress)
        return 0


def test_kvec_steps_per_segment_skipping_empty_ones():
    lay = make("kvec", [100, 0, 50, 0], ITER_SOURCE)
    rec = Recorder()
    assert iterate_and_advance(lay.it, 1000, None, rec, rec) == 150
    assert rec.calls == [(0, 100), (100, 50)]
    # Landing at the end of a segment moves on one; trailing empties stay.
    assert (lay.it.vec_idx, lay.it.nr_segs, lay.it.iov_offset, lay.it.count) == (3, 1, 0, 0)
    lay.free()


def test_landing_on_a_segment_end_differs_from_advance():
    lay = make("kvec", [100, 0, 50], ITER_SOURCE)
    it2 = lay.it.copy()
    rec = Recorder()
    assert iterate_and_advance(lay.it, 100, None, rec, rec) == 100
    assert (lay.it.vec_idx, lay.it.nr_segs) == (1, 2)      # stops on the empty segment
    iov_iter_advance(it2, 100)
    assert (it2.vec_idx, it2.nr_segs) == (2, 1)            # advance skips it
    assert iov_iter_spans(lay.it, 50)[0][0].tobytes() == iov_iter_spans(it2, 50)[0][0].tobytes()
    lay.free()


def test_short_step_stops_the_walk_mid_segment():
    lay = make("kvec", [100, 200, 300], ITER_DEST)
    rec = Recorder(limit=130)
    assert iterate_and_advance(lay.it, 600, None, rec, rec) == 130
    assert rec.calls == [(0, 100), (100, 200)]
    assert (lay.it.vec_idx, lay.it.iov_offset, lay.it.count, lay.it.nr_segs) == (1, 30, 470, 2)
    lay.free()


def test_bvec_steps_are_chopped_at_pages_and_empty_bvecs_get_a_zero_step():
    page = kmem.alloc_pages(kmem.GFP_KERNEL, 2)
    bv = [bio_vec(page, 6000, 5000), bio_vec(page, 0, 100), bio_vec(page, 10, 4090)]
    it = iov_iter()
    iov_iter_bvec(it, ITER_SOURCE, bv, 3, 6010)
    rec = Recorder()
    assert iterate_and_advance(it, 6010, None, rec, rec) == 6010
    # 5000 is in the second page: 3192 to its end, then 2808; empty; then
    # 6 bytes to a page end and 4 more.
    assert rec.calls == [(0, 3192), (3192, 2808), (6000, 0), (6000, 6), (6006, 4)]
    assert (it.vec_idx, it.nr_segs, it.iov_offset) == (3, 0, 0)
    kmem.__free_pages(page, 2)


def test_bvec_page_steps_off_merges_contiguous_pages_same_end_state():
    page = kmem.alloc_pages(kmem.GFP_KERNEL, 2)
    bv = [bio_vec(page, 3 * PAGE, 100), bio_vec(page, 50, 0)]
    a, b = iov_iter(), iov_iter()
    iov_iter_bvec(a, ITER_SOURCE, bv, 2, 3 * PAGE + 50)
    iov_iter_bvec(b, ITER_SOURCE, bv, 2, 3 * PAGE + 50)
    ra, rb = Recorder(limit=9000), Recorder(limit=9000)
    assert iterate_and_advance(a, 99999, None, ra, ra) == 9000
    assert iterate_and_advance(b, 99999, None, rb, rb, page_steps=False) == 9000
    assert len(ra.calls) == 3 and rb.calls == [(0, 3 * PAGE)]
    assert (a.vec_idx, a.iov_offset, a.count) == (b.vec_idx, b.iov_offset, b.count) == \
        (0, 9000, 3 * PAGE + 50 - 9000)
    kmem.__free_pages(page, 2)


def test_folioq_steps_per_page_and_rolls_over_segments():
    folios = [kmem.folio_alloc(kmem.GFP_KERNEL, 1)] + \
        [kmem.folio_alloc(kmem.GFP_KERNEL, 0) for _ in range(32)]
    fq = kmem.folioq_from_folios(folios)
    assert fq.next is not None and fq.next.nr == 2
    it = iov_iter()
    total = 34 * PAGE
    iov_iter_folio_queue(it, ITER_DEST, fq, 0, 100, total - 100)
    rec = Recorder()
    seg0 = 32 * PAGE - 100          # the bytes of the first segment
    assert iterate_and_advance(it, seg0, None, rec, rec) == seg0
    assert rec.calls[:3] == [(0, PAGE - 100), (PAGE - 100, PAGE), (2 * PAGE - 100, PAGE)]
    assert len(rec.calls) == 32
    assert (it.folioq, it.folioq_slot, it.iov_offset) == (fq.next, 0, 0)
    for f in folios:
        kmem.folio_put(f)


def test_folioq_full_segment_without_next_then_extended():
    folios = [kmem.folio_alloc(kmem.GFP_KERNEL, 0) for _ in range(kmem.PAGEVEC_SIZE)]
    fq = kmem.folioq_from_folios(folios)
    it = iov_iter()
    iov_iter_folio_queue(it, ITER_DEST, fq, 0, 0, len(folios) * PAGE)
    iov_iter_advance(it, len(folios) * PAGE)
    assert (it.folioq, it.folioq_slot) == (fq, kmem.PAGEVEC_SIZE)   # nowhere to go yet
    extra = kmem.folio_alloc(kmem.GFP_KERNEL, 0)
    seg = kmem.FolioQueue()
    kmem.folioq_append(seg, extra)
    fq.next, seg.prev = seg, fq
    iov_iter_reexpand(it, PAGE)
    assert copy_to_iter(b"\x5a" * PAGE, PAGE, it) == PAGE
    assert kmem.gather(kmem.page_views(extra, 0, PAGE)).tobytes() == b"\x5a" * PAGE
    assert (it.folioq, it.folioq_slot) == (seg, 1)
    for f in [*folios, extra]:
        kmem.folio_put(f)


def test_folioq_stops_at_an_empty_slot():
    f = kmem.folio_alloc(kmem.GFP_KERNEL, 0)
    fq = kmem.folioq_from_folios([f])
    it = iov_iter()
    iov_iter_folio_queue(it, ITER_DEST, fq, 0, 0, 3 * PAGE)   # count beyond the folios
    assert copy_to_iter(bytes(3 * PAGE), 3 * PAGE, it) == PAGE
    assert (it.folioq_slot, it.count) == (1, 2 * PAGE)
    kmem.folio_put(f)


def test_xarray_steps_hold_rcu_and_skip_holes():
    mapping = kmem.AddressSpace()
    gfp = kmem.GFP_KERNEL | kmem.__GFP_ZERO
    f0, f2 = kmem.folio_alloc(gfp, 0), kmem.folio_alloc(gfp, 1)
    kmem.filemap_add_folio(mapping, f0, 0)
    kmem.filemap_add_folio(mapping, f2, 2)         # index 1 is a hole
    it = iov_iter()
    iov_iter_xarray(it, ITER_DEST, mapping.i_pages, 100, 3 * PAGE)
    held = []

    def step(base, progress, length, priv, priv2):
        held.append((kmem.rcu_read_lock_held(), progress, length))
        base[:] = 7
        return 0

    # The hole is skipped: after folio 0 the walk continues in the folio at
    # index 2 at the offset the file position gives (4096 & 8191), so only
    # its second page is used and the walk ends there, short of count.
    assert iterate_and_advance(it, 3 * PAGE, None, step, step) == 2 * PAGE - 100
    assert all(h for h, _, _ in held) and not kmem.rcu_read_lock_held()
    assert [(p, n) for _, p, n in held] == [(0, PAGE - 100), (PAGE - 100, PAGE)]
    assert it.iov_offset == 2 * PAGE - 100 and it.count == PAGE + 100
    assert kmem.gather(kmem.page_views(f2, 0, PAGE)).max() == 0
    assert kmem.gather(kmem.page_views(f2, PAGE, PAGE)).min() == 7
    for f in (f0, f2):
        kmem.filemap_remove_folio(f)
        kmem.folio_put(f)


def test_xarray_value_entry_warns_and_stops():
    xa = kmem.xa_init()
    f = kmem.folio_alloc(kmem.GFP_KERNEL, 0)
    kmem.xa_store(xa, 0, f)
    kmem.xa_store(xa, 1, kmem.xa_mk_value(3))
    it = iov_iter()
    iov_iter_xarray(it, ITER_DEST, xa, 0, 2 * PAGE)
    with kmem.expect_violations("warn"):
        assert copy_to_iter(bytes(2 * PAGE), 2 * PAGE, it) == PAGE
    kmem.folio_put(f)


def test_sleeping_in_an_xarray_step_is_recorded():
    lay = make("xarray", [], ITER_DEST, orders=[0])

    def sleepy(base, progress, length, priv, priv2):
        kmem.might_sleep("a sleeping step")
        return 0

    with kmem.expect_violations("sleep-in-atomic"):
        iterate_and_advance(lay.it, PAGE, None, sleepy, sleepy)
    lay.free()


def test_discard_calls_no_step():
    it = iov_iter()
    iov_iter_discard(it, ITER_DEST, 500)
    rec = Recorder()
    assert iterate_and_advance2(it, 200, 1, 2, rec, rec) == 200
    assert rec.calls == [] and it.count == 300


def test_kernel_variant_falls_through_for_user_iterators():
    mm = kmem.current_mm()
    u = mm.mmap(PAGE)
    it = iov_iter()
    iov_iter_ubuf(it, ITER_DEST, u, 100)
    rec = Recorder()
    assert iterate_and_advance_kernel(it, 60, None, None, rec) == 60
    assert rec.calls == [] and it.count == 40 and it.iov_offset == 0
    mm.munmap(u, PAGE)


def test_priv_and_priv2_are_passed_and_zero_len_is_a_no_op():
    lay = make("kvec", [10], ITER_DEST)
    seen = []

    def step(base, progress, length, priv, priv2):
        seen.append((priv, priv2))
        return 0

    assert iterate_and_advance2(lay.it, 0, "a", "b", step, step) == 0 and seen == []
    assert iterate_and_advance2(lay.it, 10, "a", "b", step, step) == 10
    assert seen == [("a", "b")]
    lay.free()


def test_bad_step_returns_are_rejected():
    lay = make("kvec", [10], ITER_DEST)
    with pytest.raises(ValueError):
        iterate_and_advance(lay.it, 10, None, None, lambda *a: 11)
    with pytest.raises(TypeError):
        iterate_and_advance(lay.it, 10, None, None, lambda *a: None)
    with pytest.raises(ValueError):
        iterate_and_advance(lay.it, -1, None, None, lambda *a: 0)
    lay.free()


def test_scattered_kernel_segment_is_stepped_per_contiguous_run():
    # Three pages of one block mapped out of order: never physically adjacent.
    block = kmem.alloc_pages(kmem.GFP_KERNEL, 2)
    addr = kmem.vmap([kmem.folio_page(block, i) for i in (2, 0, 3)], 3)
    it = iov_iter()
    iov_iter_kvec(it, ITER_DEST, [kvec(addr + 10, 2 * PAGE)], 1, 2 * PAGE)
    rec = Recorder(limit=PAGE)
    assert iterate_and_advance(it, 2 * PAGE, None, rec, rec) == PAGE
    assert rec.calls[0] == (0, PAGE - 10) and sum(n for _, n in rec.calls) >= PAGE
    assert it.iov_offset == PAGE and it.count == PAGE
    kmem.vunmap(addr)
    kmem.__free_pages(block, 2)


def test_spans_do_not_advance():
    lay = make("bvec", [5000, 1, 0, 300], ITER_SOURCE, seed=3)
    data = lay.fill(np.random.default_rng(1))
    before = (lay.it.vec_idx, lay.it.iov_offset, lay.it.count)
    views, n = iov_iter_spans(lay.it, 10_000)
    assert n == 5301 and np.concatenate(views).tobytes() == data.tobytes()
    assert (lay.it.vec_idx, lay.it.iov_offset, lay.it.count) == before
    d = iov_iter()
    iov_iter_discard(d, ITER_DEST, 9)
    assert iov_iter_spans(d, 5) == ([], 5)
    lay.free()
