"""crypto scatterwalk (2025 API)."""

import numpy as np
import pytest

import kmem
from kmem import PAGE_SIZE, KernelBug
from sgl import (
    ScatterWalk,
    memcpy_from_scatterwalk,
    memcpy_from_sglist,
    memcpy_sglist,
    memcpy_to_scatterwalk,
    memcpy_to_sglist,
    scatterwalk_done_dst,
    scatterwalk_done_src,
    scatterwalk_ffwd,
    scatterwalk_get_sglist,
    scatterwalk_map_and_copy,
    scatterwalk_next,
    scatterwalk_skip,
    scatterwalk_start,
    scatterwalk_start_at_pos,
    scatterwalk_views,
    sg_array,
    sg_init_table,
    sg_is_chain,
    sg_is_last,
    sg_next,
    sg_set_page,
)
from tests.test_sgl.layouts import build, flat_buffer


def test_start_at_pos_stays_in_entry_at_its_end():
    lay = build([("page", 100), ("page", 50)], seed=1)
    w = ScatterWalk()
    scatterwalk_start_at_pos(w, lay.sgl, 100)
    assert w.sg is lay.sgl[0] and w.offset == lay.sgl[0].offset + 100
    scatterwalk_start_at_pos(w, lay.sgl, 101)
    assert w.sg is lay.sgl[1] and w.offset == lay.sgl[1].offset + 1
    scatterwalk_start(w, lay.sgl)
    scatterwalk_skip(w, 30)
    scatterwalk_skip(w, 70)
    assert w.sg is lay.sgl[0]
    scatterwalk_skip(w, 10)
    assert w.sg is lay.sgl[1] and w.offset == lay.sgl[1].offset + 10
    with pytest.raises(KernelBug):
        scatterwalk_start_at_pos(w, lay.sgl, 151)
    lay.free()


def test_next_moves_just_in_time_and_caps_at_page_size():
    lay = build([("folio", 3 * PAGE_SIZE), ("page", 10)], seed=2)
    w = ScatterWalk()
    scatterwalk_start(w, lay.sgl)
    steps = []
    total = lay.total
    while total:
        n = scatterwalk_next(w, total)
        assert n <= PAGE_SIZE
        steps.append(kmem.gather(scatterwalk_views(w, n)))
        assert w.addr == kmem.page_address(w.sg._link) + w.offset
        scatterwalk_done_src(w, n)
        total -= n
    assert np.array_equal(np.concatenate(steps), lay.flat())
    assert len(steps) == 4
    lay.free()


def test_memcpy_to_and_from_scatterwalk():
    lay = build([("page", 10), ("page", 1), ("kmalloc", 33)], seed=3)
    w = ScatterWalk()
    scatterwalk_start(w, lay.sgl)
    data = flat_buffer(44, 1)
    memcpy_to_scatterwalk(w, data, 44)
    assert np.array_equal(lay.flat(), data)
    scatterwalk_start(w, lay.sgl)
    out = np.zeros(44, np.uint8)
    memcpy_from_scatterwalk(out, w, 20)
    memcpy_from_scatterwalk(out[20:], w, 24)
    assert np.array_equal(out, data)
    with pytest.raises(ValueError):
        memcpy_from_scatterwalk(out, w, 0)
    w2 = ScatterWalk()
    scatterwalk_start(w2, lay.sgl)
    n = scatterwalk_next(w2, 5)
    scatterwalk_done_dst(w2, n)
    assert w2.offset == lay.sgl[0].offset + 5
    lay.free()


def test_sglist_copies_and_map_and_copy():
    lay = build([("page", 100), ("vmalloc", 6000), ("tail", 50)], chunk=3, seed=4)
    flat = lay.flat()
    out = bytearray(200)
    memcpy_from_sglist(out, lay.sgl, 50, 200)
    assert bytes(out) == flat[50:250].tobytes()
    memcpy_from_sglist(out, None, 0, 0)               # NULL allowed for 0 bytes
    data = flat_buffer(70, 9)
    scatterwalk_map_and_copy(data, lay.sgl, lay.total - 70, 70, 1)
    back = np.zeros(70, np.uint8)
    scatterwalk_map_and_copy(back, lay.sgl, lay.total - 70, 70, 0)
    assert np.array_equal(back, data)
    memcpy_to_sglist(lay.sgl, 0, data, 0)
    with pytest.raises(KernelBug):
        memcpy_from_sglist(out, lay.sgl, lay.total - 5, 10)
    addr = kmem.kmalloc(16, kmem.GFP_KERNEL)
    memcpy_from_sglist(addr, lay.sgl, 0, 16)
    assert kmem.read_virt(addr, 16) == flat[:16].tobytes()
    kmem.kfree(addr)
    lay.free()


def test_memcpy_sglist_between_lists_and_same_memory():
    a = build([("page", 300), ("page", 200)], seed=5)
    b = build([("page", 100), ("page", 400)], seed=6)
    memcpy_sglist(b.sgl, a.sgl, 500)
    assert np.array_equal(b.flat(), a.flat())
    # Two different lists describing the same memory: in place, no change.
    (p0, o0, _n0), (p1, o1, _n1) = a.pieces
    other = sg_array(3)
    sg_init_table(other, 3)
    sg_set_page(other[0], p0, 150, o0)
    sg_set_page(other[1], p0, 150, o0 + 150)
    sg_set_page(other[2], p1, 200, o1)
    before = a.flat()
    memcpy_sglist(other, a.sgl, 500)
    assert np.array_equal(a.flat(), before)
    memcpy_sglist(None, None, 0)
    a.free()
    b.free()


def test_memcpy_sglist_counts_every_byte_it_copies():
    # compare's counters: a one-view step is a copy like any other.
    a = build([("page", 300), ("page", 200)], seed=5)
    b = build([("page", 300), ("page", 200)], seed=6)
    with kmem.cost_counters() as c:
        memcpy_sglist(b.sgl, a.sgl, 500)
    assert c.as_dict()["bytes_copied"] == 500
    with kmem.cost_counters() as c:
        memcpy_sglist(a.sgl, a.sgl, 500)       # in place: nothing copied
    assert c.as_dict()["bytes_copied"] == 0


def test_memcpy_sglist_overlap_is_memmove_within_a_step():
    folio = kmem.alloc_pages(kmem.GFP_KERNEL, 1)
    kmem.copy_views(kmem.page_views(folio, 0, 8192, write=True), [flat_buffer(8192, 2)])
    before = kmem.gather(kmem.page_views(folio, 0, 8192))
    src, dst = sg_array(1), sg_array(1)
    sg_init_table(src, 1)
    sg_init_table(dst, 1)
    sg_set_page(src[0], folio, 6000, 0)
    sg_set_page(dst[0], folio, 6000, 100)
    memcpy_sglist(dst, src, 6000)
    after = kmem.gather(kmem.page_views(folio, 0, 8192))
    assert np.array_equal(after[100:6100], before[:6000])
    kmem.__free_pages(folio, 1)


def test_ffwd_into_the_middle_of_an_entry():
    lay = build([("page", 100), ("page", 200), ("page", 300)], chunk=3, seed=7)
    flat = lay.flat()
    dst = sg_array(2)
    sg = scatterwalk_ffwd(dst, lay.sgl, 150)
    assert sg is dst[0]
    assert dst[0].length == 150 and dst[0].offset == lay.pieces[1][1] + 50
    assert sg_is_chain(dst[1]) and sg_next(dst[0]) is lay.arrays[1][0]
    out = np.zeros(lay.total - 150, np.uint8)
    memcpy_from_sglist(out, sg, 0, len(out))
    assert np.array_equal(out, flat[150:])
    # At an entry boundary: a pointer into the original list.
    assert scatterwalk_ffwd(dst, lay.sgl, 100) is lay.sgl[0]._arr[1]
    assert scatterwalk_ffwd(dst, lay.sgl, 0) is lay.sgl[0]
    # Into the last entry: dst[0] is end-marked.
    sg = scatterwalk_ffwd(dst, lay.sgl, 599)
    assert sg is dst[0] and sg_is_last(dst[0]) and dst[0].length == 1
    lay.free()


def test_get_sglist_describes_the_rest():
    lay = build([("page", 100), ("page", 200)], seed=8)
    w = ScatterWalk()
    scatterwalk_start_at_pos(w, lay.sgl, 100)
    out = sg_array(2)
    sg_init_table(out, 2)
    scatterwalk_get_sglist(w, out)
    buf = np.zeros(200, np.uint8)
    memcpy_from_sglist(buf, out, 0, 200)
    assert np.array_equal(buf, lay.flat()[100:])
    lay.free()


def test_unstarted_walk_is_a_null_dereference():
    with pytest.raises(KernelBug):
        scatterwalk_next(ScatterWalk(), 1)
