"""extract_iter_to_sg(): per-type behaviour and the cases that broke upstream."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kmem
import sgl
from iovcrypto import (
    ITER_DEST,
    ITER_SOURCE,
    bio_vec,
    iov_iter,
    iov_iter_bvec,
    iov_iter_discard,
    iov_iter_kvec,
    iov_iter_ubuf,
    kvec,
)
from shims import extract as shim_extract
from shims.extract import extract_iter_to_sg, iov_iter_extract_will_pin
from tests.test_iov_iter.layouts import make

PAGE = kmem.PAGE_SIZE
KINDS = ("ubuf", "iovec", "kvec", "bvec", "bvecq", "folioq", "xarray")


def table(n: int) -> tuple[sgl.SgTable, list]:
    arr = sgl.sg_array(n)
    sgl.sg_init_table(arr, n)
    t = sgl.SgTable()
    t.sgl = arr[0]
    return t, arr


def unpin_all(arr: list, nents: int) -> None:
    for k in range(nents):
        kmem.unpin_user_page(sgl.sg_page(arr[k]))


def drain(it: iov_iter, t: sgl.SgTable, arr: list, step: int, sg_max: int) -> int:
    """Extract in pieces of at most ``step`` bytes / ``sg_max`` entries
    until the iterator is empty, checking each call's accounting."""
    total = 0
    while it.count:
        before_count, before_nents = it.count, t.nents
        got = extract_iter_to_sg(it, min(step, it.count), t, min(sg_max, len(arr) - t.nents))
        assert got > 0
        assert before_count - it.count == got           # advanced by exactly what was added
        added = sum(arr[k].length for k in range(before_nents, t.nents))
        assert added == got
        assert t.orig_nents == 0                          # never touched
        total += got
    return total


# ITER_XARRAY calls that start inside a folio are exact since the 2026 fix
# (the old behaviour is the kernel quirk tested below).
SPLITS = [(k, s, m) for k in KINDS for s, m in [(1 << 30, 64), (3000, 2), (777, 1)]]


@pytest.mark.parametrize("kind,step,sg_max", SPLITS)
def test_partial_extraction_reproduces_bytes(kind, step, sg_max):
    # (XARRAY: non-increasing orders, so that the page cache has no hole)
    orders = [2, 1, 0] if kind == "xarray" else [0, 2, 1]
    lay = make(kind, [5000, 0, 3, 9000, 1], ITER_SOURCE, orders=orders, start=0, seed=3)
    data = lay.fill(np.random.default_rng(7))[:lay.count]
    t, arr = table(200)
    with kmem.cost_counters() as c:
        total = drain(lay.it, t, arr, step, sg_max)
    assert total == len(data)
    assert not sgl.sg_is_last(arr[t.nents - 1])           # no end mark set
    sgl.sg_mark_end(arr[t.nents - 1])
    buf = bytearray(total)
    assert sgl.sg_copy_to_buffer(arr, t.nents, buf, total) == total
    assert bytes(buf) == data.tobytes()
    if kind in ("ubuf", "iovec"):
        assert c.pins == t.nents and c.refs == 0
        unpin_all(arr, t.nents)
    else:
        assert c.pins == 0 and c.refs == 0
    assert not kmem.ledger.pins
    lay.free()


@pytest.mark.parametrize("kind", ("ubuf", "iovec", "kvec"))
def test_single_page_entries(kind):
    lay = make(kind, [3 * PAGE + 5, 700], ITER_SOURCE, seed=1)
    t, arr = table(20)
    got = extract_iter_to_sg(lay.it, lay.count, t, 20)
    assert got == lay.count
    for k in range(t.nents):
        sg = arr[k]
        assert sg.offset + sg.length <= PAGE              # nothing crosses a page
        assert sg.length > 0
    if kind != "kvec":
        unpin_all(arr, t.nents)
    lay.free()


def test_kvec_entries_cross_pages_and_sg_max_runs_out_mid_segment():
    """The 2026 fix: one entry per page with the page's length, and a
    segment cut short by sg_max counts only what was described."""
    addr = kmem.kmalloc(3 * PAGE, kmem.GFP_KERNEL)
    start = addr + 100
    kv = [kvec(start, 2 * PAGE + 50)]
    it = iov_iter()
    iov_iter_kvec(it, ITER_SOURCE, kv, 1, 2 * PAGE + 50)
    t, arr = table(4)
    got = extract_iter_to_sg(it, it.count, t, 2)
    first_len = PAGE - (start & (PAGE - 1))
    assert got == first_len + PAGE
    assert [arr[k].length for k in range(t.nents)] == [first_len, PAGE]
    assert it.count == 2 * PAGE + 50 - got
    got2 = extract_iter_to_sg(it, it.count, t, 2)
    assert got2 == 2 * PAGE + 50 - got and t.nents == 3
    sgl.sg_mark_end(arr[2])
    want = kmem.read_virt(start, 2 * PAGE + 50)
    buf = bytearray(len(want))
    sgl.sg_copy_to_buffer(arr, 3, buf, len(buf))
    assert bytes(buf) == want
    kmem.kfree(addr)


@pytest.mark.parametrize("where", ("vmalloc", "stack"))
def test_vmalloc_and_stack_kvecs_use_the_mapped_pages(where):
    n = 3 * PAGE - 300 if where == "vmalloc" else 3000
    addr = kmem.vmalloc(n) if where == "vmalloc" else kmem.stack_alloc(n)
    data = np.random.default_rng(2).integers(0, 256, n, dtype=np.uint8)
    kmem.write_virt(addr, data)
    it = iov_iter()
    iov_iter_kvec(it, ITER_SOURCE, [kvec(addr, n)], 1, n)
    t, arr = table(8)
    with kmem.cost_counters() as c:
        assert extract_iter_to_sg(it, n, t, 8) == n
    assert c.refs == 0 and c.pins == 0
    for k in range(t.nents):
        assert sgl.sg_page(arr[k]) is kmem.vmalloc_to_page(addr + sum(
            arr[j].length for j in range(k)))
    sgl.sg_mark_end(arr[t.nents - 1])
    buf = bytearray(n)
    sgl.sg_copy_to_buffer(arr, t.nents, buf, n)
    assert bytes(buf) == data.tobytes()
    (kmem.vfree if where == "vmalloc" else kmem.stack_free)(addr)


def test_zero_maxsize_and_zero_sg_max_extract_nothing():
    lay = make("ubuf", [5000], ITER_SOURCE)
    t, _arr = table(4)
    assert extract_iter_to_sg(lay.it, 0, t, 4) == 0
    assert extract_iter_to_sg(lay.it, 100, t, 0) == 0       # the 2026 fix
    assert t.nents == 0 and lay.it.count == 5000 and not kmem.ledger.pins
    lay.free()


def test_extraction_returning_zero_fails_and_rolls_back():
    """Asking a user iterator for more than it holds: the inner extraction
    returns 0 once it runs dry; that is a failure (old code looped
    forever), every entry beyond orig_nents is unpinned -- including those
    of an earlier call -- and nents goes back to orig_nents."""
    lay = make("ubuf", [2 * PAGE + 10], ITER_SOURCE)
    t, _arr = table(16)
    assert extract_iter_to_sg(lay.it, PAGE, t, 4) == PAGE
    kept = t.nents
    assert kmem.ledger.pins
    ret = extract_iter_to_sg(lay.it, 10 * PAGE, t, 8)
    assert ret == 0
    assert t.nents == t.orig_nents == 0 and kept > 0
    assert not kmem.ledger.pins
    lay.free()


def test_empty_user_iterator_returns_zero():
    it = iov_iter()
    iov_iter_ubuf(it, ITER_DEST, kmem.current_mm().mmap(PAGE), 0)
    t, _arr = table(2)
    assert extract_iter_to_sg(it, 100, t, 2) == 0
    assert t.nents == 0


def test_user_append_after_existing_entries_leaves_them_alone():
    """The scratch page array is relative to the append point (2026 fix):
    entries already in the table are not overwritten."""
    lay = make("ubuf", [4 * PAGE], ITER_SOURCE)
    t, arr = table(12)
    other = kmem.alloc_page(kmem.GFP_KERNEL)
    for k in range(5):
        sgl.sg_set_page(arr[k], other, 100 + k, k)
    t.nents = t.orig_nents = 5
    got = extract_iter_to_sg(lay.it, lay.count, t, 7)
    assert got == 4 * PAGE
    assert [(sgl.sg_page(arr[k]), arr[k].length) for k in range(5)] == \
        [(other, 100 + k) for k in range(5)]
    for k in range(5, t.nents):
        kmem.unpin_user_page(sgl.sg_page(arr[k]))
    kmem.put_page(other)
    lay.free()


def test_user_sg_max_beyond_the_array_is_a_bug():
    lay = make("ubuf", [PAGE], ITER_SOURCE)
    t, _arr = table(2)
    with pytest.raises(kmem.KernelBug):
        extract_iter_to_sg(lay.it, PAGE, t, 3)
    lay.free()


def test_bvec_one_entry_per_bvec_keeps_offsets():
    page = kmem.alloc_pages(kmem.GFP_KERNEL, 2)
    bv = [bio_vec(page, 2 * PAGE, PAGE + 10), bio_vec(page, 0, 0), bio_vec(page, 5, 3)]
    it = iov_iter()
    iov_iter_bvec(it, ITER_SOURCE, bv, 3, 2 * PAGE + 5)
    t, arr = table(4)
    assert extract_iter_to_sg(it, it.count, t, 4) == 2 * PAGE + 5
    assert t.nents == 2                                      # the empty bvec is skipped
    assert (arr[0].offset, arr[0].length) == (PAGE + 10, 2 * PAGE)
    assert (arr[1].offset, arr[1].length) == (3, 5)
    kmem.__free_pages(page, 2)


def test_xarray_offsets_follow_the_position():
    """Fixed in 2026: each folio's offset comes from the current position."""
    lay = make("xarray", [], ITER_SOURCE, orders=[0, 0, 0], start=100)
    data = lay.fill(np.random.default_rng(5))[:lay.count]
    t, arr = table(8)
    got = extract_iter_to_sg(lay.it, lay.count, t, 8)
    assert got == 3 * PAGE - 100 and t.nents == 3
    assert [arr[k].offset for k in range(t.nents)] == [100, 0, 0]
    sgl.sg_mark_end(arr[t.nents - 1])
    buf = bytearray(got)
    sgl.sg_copy_to_buffer(arr, t.nents, buf, got)
    assert bytes(buf) == data[:got].tobytes()
    lay.free()


@kmem.kernel_quirks("extract_xarray_to_sg_offset_v6_3_to_v7_1")
def test_xarray_offset_quirk_for_unaligned_start():
    """Before the fix (kernel quirk): offsets come from the starting
    position: right when the start is folio aligned, wrong for later folios
    when it is not."""
    for start, exact in ((0, True), (100, False)):
        lay = make("xarray", [], ITER_SOURCE, orders=[0, 0, 0], start=start)
        data = lay.fill(np.random.default_rng(5))[:lay.count]
        t, arr = table(8)
        got = extract_iter_to_sg(lay.it, lay.count, t, 8)
        # Every folio is described from offset ``start``: for an unaligned
        # start the later folios lose their first bytes and the total is short.
        assert got == 3 * (PAGE - start) and t.nents == 3
        assert [arr[k].offset for k in range(t.nents)] == [start] * t.nents
        sgl.sg_mark_end(arr[t.nents - 1])
        buf = bytearray(got)
        sgl.sg_copy_to_buffer(arr, t.nents, buf, got)
        assert (bytes(buf) == data[:got].tobytes()) is exact
        lay.free()


def test_folioq_across_segments():
    lay = make("folioq", [], ITER_SOURCE, orders=[0] * 40)
    data = lay.fill(np.random.default_rng(9))[:lay.count]
    t, arr = table(64)
    assert drain(lay.it, t, arr, 5 * PAGE + 3, 7) == 40 * PAGE
    sgl.sg_mark_end(arr[t.nents - 1])
    buf = bytearray(40 * PAGE)
    sgl.sg_copy_to_buffer(arr, t.nents, buf, len(buf))
    assert bytes(buf) == data.tobytes()
    lay.free()


def test_discard_is_eio_with_a_warning():
    it = iov_iter()
    iov_iter_discard(it, ITER_DEST, 100)
    t, _arr = table(2)
    with kmem.expect_violations("warn"):
        assert extract_iter_to_sg(it, 100, t, 2) == -kmem.errno.EIO
    assert t.nents == 0 and it.count == 100


def test_will_pin_reexported():
    assert shim_extract.iov_iter_extract_will_pin is iov_iter_extract_will_pin
    for kind in KINDS:
        lay = make(kind, [10], ITER_SOURCE, orders=[0])
        assert iov_iter_extract_will_pin(lay.it) == (kind in ("ubuf", "iovec"))
        lay.free()


def test_argument_errors():
    t, _arr = table(2)
    it = iov_iter()
    with pytest.raises(TypeError):
        extract_iter_to_sg(object(), 1, t, 1)
    with pytest.raises(ValueError):
        extract_iter_to_sg(it, -1, t, 1)
    with pytest.raises(TypeError):
        extract_iter_to_sg(it, 1, object(), 1)


@given(kind=st.sampled_from(("ubuf", "iovec", "kvec", "bvec")),
       segs=st.lists(st.integers(0, 3 * PAGE), min_size=1, max_size=5),
       step=st.integers(200, 4 * PAGE), sg_max=st.integers(1, 6), seed=st.integers(0, 99))
def test_property_any_split_reproduces_bytes(kind, segs, step, sg_max, seed):
    lay = make(kind, segs, ITER_SOURCE, seed=seed)
    data = lay.fill(np.random.default_rng(seed))[:lay.count]
    # Each call may add a partial page at either end and one per segment.
    t, arr = table(2 * (-(-sum(segs) // step) + sum(segs) // PAGE + len(segs)) + 8)
    total = drain(lay.it, t, arr, step, sg_max)
    assert total == len(data)
    if total:
        sgl.sg_mark_end(arr[t.nents - 1])
        buf = bytearray(total)
        sgl.sg_copy_to_buffer(arr, t.nents, buf, total)
        assert bytes(buf) == data.tobytes()
    if kind in ("ubuf", "iovec"):
        unpin_all(arr, t.nents)
    lay.free()
