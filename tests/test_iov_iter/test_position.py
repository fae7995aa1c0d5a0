"""Position management: advance, revert, truncate/reexpand, save/restore,
single_seg_count and dup_iter, to the field."""

from __future__ import annotations

import pytest

import kmem
from iovcrypto import (
    ITER_DEST,
    ITER_SOURCE,
    MAX_RW_COUNT,
    SegmentArray,
    copy_to_iter,
    dup_iter,
    iov_iter,
    iov_iter_advance,
    iov_iter_discard,
    iov_iter_reexpand,
    iov_iter_restore,
    iov_iter_revert,
    iov_iter_save_state,
    iov_iter_single_seg_count,
    iov_iter_spans,
    iov_iter_truncate,
)

from .layouts import make

PAGE = kmem.PAGE_SIZE


def _pos(it):
    return it.vec_idx, it.nr_segs, it.iov_offset, it.count


@pytest.mark.parametrize("kind", ["kvec", "bvec", "iovec"])
def test_advance_skips_empty_and_finished_segments(kind):
    lay = make(kind, [0, 5, 0, 0, 7, 0], ITER_SOURCE)
    it = lay.it
    iov_iter_advance(it, 0)
    assert _pos(it) == (1, 5, 0, 12)       # a zero advance still skips leading empties
    iov_iter_advance(it, 5)
    assert _pos(it) == (4, 2, 0, 7)
    iov_iter_advance(it, 3)
    assert _pos(it) == (4, 2, 3, 4)
    iov_iter_advance(it, 100)               # capped at count; the trailing empty is passed
    assert _pos(it) == (6, 0, 0, 0)
    iov_iter_advance(it, 5)                 # count 0: nothing moves
    assert _pos(it) == (6, 0, 0, 0)
    iov_iter_revert(it, 9)                  # back over the empty segments
    assert _pos(it) == (1, 5, 3, 9)
    iov_iter_revert(it, 3)
    assert _pos(it) == (1, 5, 0, 12)
    with pytest.raises(kmem.KernelBug):     # nothing non-empty before segment 1
        iov_iter_revert(it, 1)
    lay.free()


def test_revert_warns_above_max_rw_count_and_is_a_no_op_at_zero():
    lay = make("kvec", [10], ITER_SOURCE)
    iov_iter_advance(lay.it, 4)
    with kmem.expect_violations("warn"):
        iov_iter_revert(lay.it, MAX_RW_COUNT + 1)
    iov_iter_revert(lay.it, 0)
    assert _pos(lay.it) == (0, 1, 4, 6)
    lay.free()


@pytest.mark.parametrize("kind", ["ubuf", "xarray"])
def test_revert_before_the_start_of_a_range_is_a_bug(kind):
    lay = make(kind, [100], ITER_DEST, orders=[0])
    iov_iter_advance(lay.it, 10)
    iov_iter_revert(lay.it, 10)
    assert lay.it.iov_offset == 0 and lay.it.count == lay.count
    with pytest.raises(kmem.KernelBug):
        iov_iter_revert(lay.it, 1)
    lay.free()


def test_folioq_advance_and_revert_across_segments_and_orders():
    orders = [2] + [0] * 30 + [1, 0]                  # 31 in the first segment, 2 after
    lay = make("folioq", [], ITER_SOURCE, orders=orders, start=10)
    it = lay.it
    fq = lay.extra["folioq"]
    iov_iter_advance(it, 4 * PAGE - 10)              # exactly the first (order-2) folio
    assert (it.folioq, it.folioq_slot, it.iov_offset) == (fq, 1, 0)
    iov_iter_advance(it, 30 * PAGE + 5)              # into the next segment's first folio
    assert (it.folioq, it.folioq_slot, it.iov_offset) == (fq.next, 0, 5)
    iov_iter_revert(it, 6)                           # back into the previous segment
    assert (it.folioq, it.folioq_slot, it.iov_offset) == (fq, 30, PAGE - 1)
    iov_iter_advance(it, 1 + 2 * PAGE + 3)
    assert (it.folioq, it.folioq_slot, it.iov_offset) == (fq.next, 1, 3)
    iov_iter_revert(it, 2 * PAGE + 3 + 30 * PAGE + 4 * PAGE - 10)   # to the very start
    assert (it.folioq, it.folioq_slot, it.iov_offset, it.count) == (fq, 0, 10, lay.count)
    with pytest.raises(kmem.KernelBug):              # no prev segment
        iov_iter_revert(it, 11)
    lay.free()


def test_folioq_advance_to_the_end_of_the_last_folio():
    lay = make("folioq", [], ITER_DEST, orders=[1, 0])
    iov_iter_advance(lay.it, 3 * PAGE)
    assert (lay.it.folioq_slot, lay.it.iov_offset, lay.it.count) == (2, 0, 0)
    iov_iter_revert(lay.it, PAGE + 1)
    assert (lay.it.folioq_slot, lay.it.iov_offset) == (0, 2 * PAGE - 1)
    lay.free()


def test_truncate_and_reexpand():
    lay = make("bvec", [100, 100], ITER_DEST)
    iov_iter_truncate(lay.it, 1000)
    assert lay.it.count == 200
    iov_iter_truncate(lay.it, 150)
    assert copy_to_iter(bytes(200), 200, lay.it) == 150
    iov_iter_reexpand(lay.it, lay.it.count + 50)
    assert copy_to_iter(bytes(200), 200, lay.it) == 50
    lay.free()


@pytest.mark.parametrize("kind", ["ubuf", "iovec", "bvec"])
def test_save_and_restore(kind):
    lay = make(kind, [10, 0, 20, 30], ITER_DEST)
    iov_iter_advance(lay.it, 5)
    state = iov_iter_save_state(lay.it)
    before = _pos(lay.it)
    iov_iter_advance(lay.it, 40)
    iov_iter_restore(lay.it, state)
    assert _pos(lay.it) == before
    lay.free()


def test_restore_of_kvec_warns_but_restores_others_only_warn():
    lay = make("kvec", [10, 20], ITER_DEST)
    state = iov_iter_save_state(lay.it)
    iov_iter_advance(lay.it, 15)
    with kmem.expect_violations("warn"):
        iov_iter_restore(lay.it, state)
    assert _pos(lay.it) == (0, 2, 0, 30)
    lay.free()
    fq = make("folioq", [], ITER_DEST, orders=[0, 0])
    state = iov_iter_save_state(fq.it)
    assert state.nr_segs == 0                       # the slot, through the union
    iov_iter_advance(fq.it, 5000)
    with kmem.expect_violations("warn"):
        iov_iter_restore(fq.it, state)
    assert (fq.it.folioq_slot, fq.it.iov_offset) == (1, 904)
    fq.free()


def test_single_seg_count():
    lay = make("kvec", [10, 20], ITER_DEST)
    assert iov_iter_single_seg_count(lay.it) == 10
    iov_iter_advance(lay.it, 12)
    assert iov_iter_single_seg_count(lay.it) == 18      # last segment: count
    lay.free()
    b = make("bvec", [300, 5], ITER_DEST, slack=0)
    iov_iter_advance(b.it, 299)
    assert iov_iter_single_seg_count(b.it) == 1
    b.free()
    f = make("folioq", [], ITER_DEST, orders=[2, 0], slack=3)
    assert iov_iter_single_seg_count(f.it) == 4 * PAGE
    iov_iter_advance(f.it, 4 * PAGE)
    assert iov_iter_single_seg_count(f.it) == PAGE - 3
    f.free()
    d = iov_iter()
    iov_iter_discard(d, ITER_DEST, 77)
    assert iov_iter_single_seg_count(d) == 77


def test_dup_iter_copies_the_remaining_segments():
    lay = make("bvec", [10, 20, 30], ITER_SOURCE)
    iov_iter_advance(lay.it, 15)
    arr, new = dup_iter(None, lay.it, kmem.GFP_KERNEL)
    assert isinstance(arr, SegmentArray) and arr and len(arr.segs) == 2
    assert kmem.kmalloc_size(arr) == 2 * 16
    assert (new.vec_idx, new.nr_segs, new.iov_offset, new.count) == (0, 2, 5, 45)
    assert new.bvec is not lay.it.bvec and new.bvec == lay.it.bvec
    assert iov_iter_spans(new, 45)[0][0].tobytes() == iov_iter_spans(lay.it, 45)[0][0].tobytes()
    kmem.kfree(arr)
    with kmem.fail_allocations():
        arr, new = dup_iter(iov_iter(), lay.it, kmem.GFP_KERNEL)
    assert arr == 0 and new.count == 45
    lay.free()
    x = make("xarray", [], ITER_DEST, orders=[0])
    arr, new = dup_iter(None, x.it, kmem.GFP_KERNEL)
    assert arr == 0 and new.xarray is x.it.xarray and new.count == x.it.count
    x.free()


def test_discard_positions():
    d = iov_iter()
    iov_iter_discard(d, ITER_DEST, 10)
    iov_iter_advance(d, 4)
    iov_iter_revert(d, 100)                       # DISCARD has no start to guard
    assert d.count == 106 and d.iov_offset == 0
    assert d.data_source != ITER_SOURCE
