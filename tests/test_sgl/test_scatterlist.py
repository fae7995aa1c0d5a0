"""struct scatterlist and its helpers (include/linux/scatterlist.h, lib/scatterlist.c)."""

import numpy as np
import pytest

import kmem
from kmem import PAGE_SIZE, KernelBug
from kmem import errno as E
from sgl import (
    SG_CHAIN,
    SG_END,
    SG_MAX_SINGLE_ALLOC,
    Scatterlist,
    for_each_sg,
    sg_array,
    sg_assign_page,
    sg_chain,
    sg_init_one,
    sg_init_table,
    sg_is_chain,
    sg_is_last,
    sg_last,
    sg_mark_end,
    sg_nents,
    sg_nents_for_len,
    sg_next,
    sg_page,
    sg_phys,
    sg_set_buf,
    sg_set_folio,
    sg_set_page,
    sg_unmark_end,
    sg_virt,
)
from tests.test_sgl.layouts import build


def test_constants():
    assert SG_MAX_SINGLE_ALLOC == 128
    assert (SG_CHAIN, SG_END) == (1, 2)


def test_init_table_marks_end_and_zeroes():
    sgl = sg_array(4)
    page = kmem.alloc_page(kmem.GFP_KERNEL)
    sg_set_page(sgl[1], page, 10, 5)
    sg_init_table(sgl, 4)
    assert [sg_is_last(sg) for sg in sgl] == [False, False, False, True]
    assert sg_page(sgl[1]) is None and sgl[1].length == 0
    kmem.__free_page(page)


def test_plain_python_list_is_bound_by_init_table():
    sgl = [Scatterlist() for _ in range(3)]
    sg_init_table(sgl, 3)
    assert sg_next(sgl[0]) is sgl[1]
    assert sg_nents(sgl) == 3


def test_set_page_keeps_flags_and_argument_order():
    sgl = sg_array(2)
    sg_init_table(sgl, 2)
    folio = kmem.alloc_pages(kmem.GFP_KERNEL, 1)
    sg_set_page(sgl[1], folio, 100, 5000)       # (page, len, offset); offset >= PAGE_SIZE
    assert (sgl[1].length, sgl[1].offset) == (100, 5000)
    assert sg_is_last(sgl[1])
    assert sg_phys(sgl[1]) == kmem.page_to_phys(folio) + 5000
    assert sg_virt(sgl[1]) == kmem.page_address(folio) + 5000
    assert sgl[1].page_link & 3 == SG_END
    kmem.__free_pages(folio, 1)


def test_set_page_rejects_bad_arguments():
    sgl = sg_array(1)
    sg_init_table(sgl, 1)
    with pytest.raises(ValueError, match="len"):
        sg_set_page(sgl, None, -1, 0)
    with pytest.raises(TypeError, match="page"):
        sg_assign_page(sgl, "page")
    with pytest.raises(TypeError):
        sg_set_buf(sgl, b"abc", 3)
    with pytest.raises(TypeError, match="Scatterlist"):
        sg_nents(42)


def test_sg_set_buf_direct_map_is_fine():
    addr = kmem.kmalloc(64, kmem.GFP_KERNEL)
    sg = sg_array(1)
    sg_init_one(sg, addr, 64)
    assert sg_virt(sg) == addr
    assert sg_page(sg) is kmem.virt_to_page(addr)
    kmem.kfree(addr)


@pytest.mark.parametrize("kind", ["vmalloc", "stack"])
def test_sg_set_buf_on_vmalloc_or_stack_is_recorded(kind):
    addr = kmem.vmalloc(3 * PAGE_SIZE) if kind == "vmalloc" else kmem.stack_alloc(100)
    sg = sg_array(1)
    with kmem.expect_violations("virt_to_page-nonlinear") as got:
        sg_init_one(sg, addr, 100)
    assert got
    assert sg_page(sg) is kmem.vmalloc_to_page(addr)
    (kmem.vfree if kind == "vmalloc" else kmem.stack_free)(addr)


def test_set_folio_warns_beyond_uint_max():
    sg = sg_array(1)
    sg_init_table(sg, 1)
    folio = kmem.folio_alloc(kmem.GFP_KERNEL, 0)
    with kmem.expect_violations("warn"):     # WARN_ON_ONCE, then stored truncated
        sg_set_folio(sg, folio, (1 << 32) + 5, 0)
    assert sg_page(sg) is folio and sg[0].length == 5
    sg_set_folio(sg, folio, 10, 3)
    assert sg_page(sg) is folio and sg[0].length == 10
    kmem.folio_put(folio)


def test_chain_across_three_arrays():
    a, b, c = sg_array(3), sg_array(3), sg_array(2)
    for arr in (a, b, c):
        sg_init_table(arr, len(arr))
    sg_chain(a, 3, b)
    sg_chain(b, 3, c)
    assert sg_is_chain(a[2]) and not sg_is_last(a[2]) and a[2].length == 0
    seen = list(for_each_sg(a, sg_nents(a)))
    assert seen == [a[0], a[1], b[0], b[1], c[0], c[1]]
    assert sg_next(a[1]) is b[0]
    assert sg_last(a, 6) is c[1]
    with pytest.raises(KernelBug):
        sg_page(a[2])


def test_sg_last_bugs_without_end_mark():
    a = sg_array(3)
    sg_init_table(a, 3)
    with pytest.raises(KernelBug):
        sg_last(a, 2)


def test_mark_unmark_end_and_running_off_the_array():
    a = sg_array(2)
    sg_init_table(a, 2)
    sg_unmark_end(a[1])
    with pytest.raises(KernelBug, match="SG_END"):
        sg_nents(a)
    sg_mark_end(a[0])
    assert sg_nents(a) == 1


def test_for_each_sg_past_the_end_is_a_bug():
    a = sg_array(2)
    sg_init_table(a, 2)
    with pytest.raises(KernelBug):
        list(for_each_sg(a, 3))


def test_sg_nents_for_len():
    lay = build([("page", 100), ("zero", 0), ("page", 50), ("page", 10)], seed=3)
    assert sg_nents_for_len(lay.sgl, 0) == 0
    assert sg_nents_for_len(lay.sgl, 100) == 1
    assert sg_nents_for_len(lay.sgl, 101) == 3
    assert sg_nents_for_len(lay.sgl, 160) == 4
    assert sg_nents_for_len(lay.sgl, 161) == -E.EINVAL
    lay.free()


def test_page_link_shows_struct_page_address_and_bits():
    a = sg_array(2)
    sg_init_table(a, 2)
    page = kmem.alloc_page(kmem.GFP_KERNEL)
    sg_set_page(a[1], page, 1, 0)
    assert a[1].page_link & ~3 == 0xFFFFEA0000000000 + page.pfn * 64
    b = sg_array(1)
    sg_init_table(b, 1)
    sg_chain(a, 1, b)
    assert a[0].page_link & 3 == SG_CHAIN
    kmem.__free_page(page)


def test_multi_page_entries_and_large_offsets_read_correctly():
    lay = build([("folio", 9000), ("tail", 5000)], seed=7)
    got = np.concatenate([kmem.gather(kmem.page_views(p, o, n)) for p, o, n in lay.pieces])
    assert np.array_equal(got, lay.flat())
    assert any(o >= PAGE_SIZE for _, o, _ in lay.pieces) or lay.pieces[0][1] < PAGE_SIZE
    lay.free()
