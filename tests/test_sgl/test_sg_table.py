"""sg tables, chained pools, tables from pages, sgl_alloc and sg_split."""

import numpy as np
import pytest

import kmem
from kmem import PAGE_SIZE, KernelBug
from kmem import errno as E
from sgl import (
    SG_CHUNK_SIZE,
    SG_MAX_SINGLE_ALLOC,
    SgAppendTable,
    SgTable,
    for_each_sgtable_sg,
    sg_alloc_append_table_from_pages,
    sg_alloc_table,
    sg_alloc_table_chained,
    sg_alloc_table_from_pages,
    sg_alloc_table_from_pages_segment,
    sg_array,
    sg_copy_to_buffer,
    sg_free_append_table,
    sg_free_table,
    sg_free_table_chained,
    sg_is_chain,
    sg_is_last,
    sg_nents,
    sg_page,
    sg_split,
    sgl_alloc,
    sgl_alloc_order,
    sgl_free,
    sgl_free_order,
)
from tests.test_sgl.layouts import build


def _chain_links(sgl):
    arr = sgl._arr
    return [sg for sg in arr if sg_is_chain(sg)]


@pytest.mark.parametrize("nents, chunks", [(1, 1), (128, 1), (129, 2), (300, 3)])
def test_sg_alloc_table_chains_at_single_alloc(nents, chunks):
    t = SgTable()
    assert sg_alloc_table(t, nents, kmem.GFP_KERNEL) == 0
    assert t.nents == t.orig_nents == nents
    assert sg_nents(t.sgl) == nents
    ents = list(for_each_sgtable_sg(t))
    assert sg_is_last(ents[-1]) and not any(sg_is_last(s) for s in ents[:-1])
    arrays = {id(s._arr) for s in ents}
    assert len(arrays) == chunks
    if chunks > 1:
        assert len(t.sgl._arr) == SG_MAX_SINGLE_ALLOC and sg_is_chain(t.sgl._arr[-1])
    sg_free_table(t)
    assert t.sgl is None


def test_sg_alloc_table_zero_is_einval():
    t = SgTable()
    assert sg_alloc_table(t, 0, kmem.GFP_KERNEL) == -E.EINVAL
    assert t.sgl is None


def test_sg_alloc_table_enomem_frees_what_it_built():
    t = SgTable()
    with kmem.fail_allocations(after=1, times=1):
        assert sg_alloc_table(t, 400, kmem.GFP_KERNEL) == -E.ENOMEM
    assert t.sgl is None
    # The first chunk (a whole page) went back to the allocator: freeing it
    # again would be a double free.
    assert sg_alloc_table(t, 400, kmem.GFP_KERNEL) == 0
    sg_free_table(t)


def test_chained_first_chunk_used_when_big_enough():
    first = sg_array(8)
    t = SgTable()
    assert sg_alloc_table_chained(t, 5, first, 8) == 0
    assert t.sgl is first[0] and sg_nents(t.sgl) == 5
    sg_free_table_chained(t, 8)


def test_chained_grows_beyond_first_chunk():
    first = sg_array(4)
    t = SgTable()
    assert sg_alloc_table_chained(t, 300, first, 4) == 0
    assert t.sgl is first[0]
    assert sg_is_chain(first[3])
    assert sg_nents(t.sgl) == 300
    second = first[3]._link._arr
    assert len(second) == SG_CHUNK_SIZE
    sg_free_table_chained(t, 4)
    with pytest.raises(KernelBug):
        sg_alloc_table_chained(SgTable(), 0, None, 0)


def test_chained_enomem():
    t = SgTable()
    with kmem.fail_allocations(times=1):
        assert sg_alloc_table_chained(t, 10, None, 0) == -E.ENOMEM


def _pages(order_runs):
    """Pages: lists of physically contiguous runs."""
    out, folios = [], []
    for order in order_runs:
        f = kmem.alloc_pages(kmem.GFP_KERNEL, order)
        folios.append((f, order))
        out += [kmem.folio_page(f, i) for i in range(1 << order)]
    return out, folios


def _free(folios):
    for f, order in folios:
        kmem.__free_pages(f, order)


def test_from_pages_merges_contiguous_runs():
    pages, folios = _pages([2, 0, 1])
    t = SgTable()
    size = 7 * PAGE_SIZE - 100 - 30
    assert sg_alloc_table_from_pages(t, pages, 7, 100, size, kmem.GFP_KERNEL) == 0
    ents = list(for_each_sgtable_sg(t))
    # Runs of 4, 1 and 2 pages, unless two runs happen to be adjacent.
    assert 1 <= len(ents) <= 3
    assert ents[0].offset == 100 and sg_page(ents[0]) is pages[0]
    assert sum(s.length for s in ents) == size
    assert sg_is_last(ents[-1])
    sg_free_table(t)
    t2 = SgTable()
    assert sg_alloc_table_from_pages_segment(t2, pages, 7, 0, 7 * PAGE_SIZE, PAGE_SIZE,
                                             kmem.GFP_KERNEL) == 0
    assert t2.nents == 7 and all(s.length == PAGE_SIZE for s in for_each_sgtable_sg(t2))
    sg_free_table(t2)
    _free(folios)


def test_from_pages_max_segment_below_page_warns():
    pages, folios = _pages([0])
    with kmem.expect_violations("warn"):
        assert sg_alloc_table_from_pages_segment(SgTable(), pages, 1, 0, 10, 100,
                                                 kmem.GFP_KERNEL) == -E.EINVAL
    _free(folios)


def test_append_extends_previous_entry_when_contiguous():
    pages, folios = _pages([2])
    app = SgAppendTable()
    assert sg_alloc_append_table_from_pages(app, pages[:2], 2, 0, 2 * PAGE_SIZE, 1 << 20, 5,
                                            kmem.GFP_KERNEL) == 0
    assert app.sgt.nents == 1 and app.prv.length == 2 * PAGE_SIZE
    assert sg_alloc_append_table_from_pages(app, pages[2:], 2, 0, 2 * PAGE_SIZE, 1 << 20, 0,
                                            kmem.GFP_KERNEL) == 0
    assert app.sgt.nents == 1 and app.prv.length == 4 * PAGE_SIZE and sg_is_last(app.prv)
    with kmem.expect_violations("warn"):
        assert sg_alloc_append_table_from_pages(app, pages[:1], 1, 8, 10, 1 << 20, 0,
                                                kmem.GFP_KERNEL) == -E.EINVAL
    sg_free_append_table(app)
    _free(folios)


def test_append_many_pages_chains():
    f = [kmem.alloc_page(kmem.GFP_KERNEL) for _ in range(300)]
    app = SgAppendTable()
    assert sg_alloc_append_table_from_pages(app, f, 300, 0, 300 * PAGE_SIZE, PAGE_SIZE, 0,
                                            kmem.GFP_KERNEL) == 0
    assert app.sgt.nents == 300 and sg_nents(app.sgt.sgl) == 300
    assert app.total_nents == 300      # data entries; link slots are not counted
    assert len({id(s._arr) for s in _walk(app.sgt.sgl)}) == 3
    sg_free_append_table(app)
    for p in f:
        kmem.__free_page(p)


def test_sgl_alloc_and_free():
    sgl, nent = sgl_alloc(10000, kmem.GFP_KERNEL)
    assert nent == 3 and sg_nents(sgl) == 3
    assert [s.length for s in sgl._arr] == [4096, 4096, 1808]
    sgl_free(sgl)
    sgl2, nent2 = sgl_alloc_order(20000, 1, True, kmem.GFP_KERNEL)
    assert nent2 == 3 and len(sgl2._arr) == 4 and sg_page(sgl2._arr[3]) is None
    sgl_free_order(sgl2, 1)
    with kmem.fail_allocations(after=2, times=1):
        assert sgl_alloc(10000, kmem.GFP_KERNEL) == (None, 0)


def _content(sgl):
    n = sum(s.length for s in _walk(sgl))
    buf = np.zeros(n, np.uint8)
    sg_copy_to_buffer(sgl, sg_nents(sgl), buf, n)
    return buf


def _walk(sgl):
    from sgl import sg_next
    s = sgl[0] if isinstance(sgl, list) else sgl
    while s is not None:
        yield s
        s = sg_next(s)


def test_sg_split_covers_requested_ranges_and_keeps_offsets():
    lay = build([("page", 3000), ("page", 200), ("folio", 5000), ("page", 700)], chunk=3, seed=4)
    flat = lay.flat()
    sizes = [10, 3100, 4000, lay.total - 50 - 7110]
    ret, out, counts = sg_split(lay.sgl, 0, 50, 4, sizes, kmem.GFP_KERNEL)
    assert ret == 0 and len(out) == 4
    pos = 50
    for arr, size, cnt in zip(out, sizes, counts):
        assert sum(s.length for s in arr) == size and len(arr) == cnt
        assert np.array_equal(_content(arr[0]), flat[pos:pos + size])
        pos += size
    # The 2025 fix: non-first entries keep their original offset.
    third = out[2]
    assert third[1].offset == lay.pieces[2][1]
    for arr in out:
        kmem.kfree(arr.addr)
    assert sg_split(lay.sgl, 0, 0, 1, [lay.total + 1], kmem.GFP_KERNEL)[0] == -E.EINVAL
    assert sg_split(lay.sgl, 0, lay.total + 5, 1, [1], kmem.GFP_KERNEL)[0] == -E.EINVAL
    with kmem.fail_allocations(after=1, times=1):
        assert sg_split(lay.sgl, 0, 0, 1, [5], kmem.GFP_KERNEL)[0] == -E.ENOMEM
    lay.free()


def test_sg_split_mapped_splits_dma_fields():
    lay = build([("page", 1000), ("page", 1000)], seed=9)
    for i, s in enumerate(_walk(lay.sgl)):
        s.dma_address, s.dma_length = 0x10000 * (i + 1), s.length
    ret, out, counts = sg_split(lay.sgl, 2, 300, 2, [500, 1200], kmem.GFP_KERNEL)
    assert ret == 0 and counts == [1, 2]
    assert (out[0][0].dma_address, out[0][0].dma_length) == (0x10000 + 300, 500)
    assert (out[1][0].dma_address, out[1][0].dma_length) == (0x10000 + 800, 200)
    assert out[1][1].dma_length == 1000
    for arr in out:
        kmem.kfree(arr.addr)
    lay.free()


def test_sg_split_quirk_last_split_ending_inside_an_entry():
    """lib/sg_split.c decrements nb_splits twice when the last split ends
    strictly inside an entry, so the loop goes on and appends every later
    entry to the last output (the last one with length 0).  The model keeps
    that behaviour; callers in the kernel only split up to the list end."""
    lay = build([("page", 100), ("page", 100), ("page", 100)], seed=2)
    ret, out, counts = sg_split(lay.sgl, 0, 0, 1, [50], kmem.GFP_KERNEL)
    assert ret == 0
    assert counts == [3]
    assert [s.length for s in out[0]] == [100, 100, 0]
    kmem.kfree(out[0].addr)
    ret, out, counts = sg_split(lay.sgl, 0, 0, 2, [50, 50], kmem.GFP_KERNEL)
    assert ret == 0 and counts == [1, 1] and out[1][0].length == 50
    for arr in out:
        kmem.kfree(arr.addr)
    lay.free()
