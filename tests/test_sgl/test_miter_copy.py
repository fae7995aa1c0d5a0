"""sg_page_iter, sg_mapping_iter and the copy helpers."""

import numpy as np
import pytest

import kmem
from kmem import PAGE_SIZE
from sgl import (
    SG_MITER_ATOMIC,
    SG_MITER_FROM_SG,
    SG_MITER_LOCAL,
    SG_MITER_TO_SG,
    SgMappingIter,
    for_each_sg_dma_page,
    for_each_sg_page,
    sg_copy_buffer,
    sg_copy_from_buffer,
    sg_copy_to_buffer,
    sg_miter_next,
    sg_miter_skip,
    sg_miter_start,
    sg_miter_stop,
    sg_page_iter_dma_address,
    sg_page_iter_page,
    sg_pcopy_from_buffer,
    sg_pcopy_to_buffer,
    sg_zero_buffer,
)
from tests.test_sgl.layouts import build, flat_buffer


def test_page_iter_counts_offset_pages():
    lay = build([("folio", 6000), ("page", 10), ("zero", 0)], seed=11)
    pages = [sg_page_iter_page(p) for p in for_each_sg_page(lay.sgl, lay.nents)]
    (p0, o0, n0), (p1, _o1, _), (_p2, o2, _) = lay.pieces
    first = (o0 + n0 + PAGE_SIZE - 1) // PAGE_SIZE
    zero_pages = (o2 + PAGE_SIZE - 1) // PAGE_SIZE
    assert len(pages) == first + 1 + zero_pages
    assert [p.pfn for p in pages[:first]] == list(range(p0.pfn, p0.pfn + first))
    assert pages[first] is p1
    # Starting at a page offset skips that many pages.
    assert len(list(for_each_sg_page(lay.sgl, lay.nents, 2))) == len(pages) - 2
    lay.free()


def test_dma_page_iter_uses_dma_length():
    lay = build([("page", 100), ("page", 100)], seed=1)
    first = lay.sgl[0]
    first.dma_address, first.dma_length = 0x5000, 3 * PAGE_SIZE
    addrs = [sg_page_iter_dma_address(it) for it in for_each_sg_dma_page(lay.sgl, 1)]
    assert addrs == [0x5000, 0x6000, 0x7000]
    lay.free()


def test_miter_local_maps_one_page_at_a_time_and_unmaps():
    lay = build([("folio", 9000)], seed=2)
    m = sg_miter_start(SgMappingIter(), lay.sgl, 1, SG_MITER_FROM_SG | SG_MITER_LOCAL)
    got, lengths = [], []
    while sg_miter_next(m):
        assert len(kmem.ledger.kmaps) == 1
        assert m.length <= PAGE_SIZE - (m.addr & (PAGE_SIZE - 1))
        got.append(m.view.copy())
        lengths.append(m.length)
    sg_miter_stop(m)
    assert not kmem.ledger.kmaps
    assert np.array_equal(np.concatenate(got), lay.flat())
    assert sum(lengths) == 9000
    lay.free()


def test_miter_atomic_disables_pagefaults():
    lay = build([("page", 300)], seed=3)
    m = sg_miter_start(SgMappingIter(), lay.sgl, 1, SG_MITER_TO_SG | SG_MITER_ATOMIC)
    assert sg_miter_next(m)
    assert kmem.pagefault_disabled()
    m.view[:] = 7
    sg_miter_stop(m)
    assert not kmem.pagefault_disabled()
    assert (lay.flat() == 7).all()
    lay.free()


def test_miter_plain_kmap_and_leak_is_recorded():
    lay = build([("page", 300)], seed=3)
    m = sg_miter_start(SgMappingIter(), lay.sgl, 1, SG_MITER_FROM_SG)
    assert sg_miter_next(m)
    with kmem.expect_violations("kmap-leak"):
        pass     # the mapping is still held: the leak check reports it
    lay.free()


def test_miter_without_direction_warns():
    lay = build([("page", 10)], seed=3)
    with kmem.expect_violations("warn"):
        sg_miter_start(SgMappingIter(), lay.sgl, 1, SG_MITER_LOCAL)
    lay.free()


def test_miter_consumed_lowered_represents_bytes():
    lay = build([("page", 100)], seed=4)
    m = sg_miter_start(SgMappingIter(), lay.sgl, 1, SG_MITER_FROM_SG | SG_MITER_LOCAL)
    assert sg_miter_next(m)
    first = m.view[:40].copy()
    m.consumed = 40
    assert sg_miter_next(m)
    assert m.length == 60
    assert np.array_equal(np.concatenate([first, m.view]), lay.flat())
    m.consumed = m.length + 1
    with kmem.expect_violations("warn"):
        sg_miter_stop(m)
    lay.free()


def test_miter_skip_and_end():
    lay = build([("page", 100), ("page", 200)], seed=5)
    m = sg_miter_start(SgMappingIter(), lay.sgl, 2, SG_MITER_FROM_SG | SG_MITER_LOCAL)
    assert sg_miter_skip(m, 150)
    assert sg_miter_next(m) and m.length == 150
    assert np.array_equal(m.view, lay.flat()[150:])
    assert not sg_miter_next(m)
    assert not sg_miter_skip(m, 1)
    sg_miter_stop(m)
    lay.free()


def test_miter_nents_bounds_the_walk():
    lay = build([("page", 100), ("page", 200)], seed=6)
    buf = np.zeros(300, np.uint8)
    assert sg_copy_to_buffer(lay.sgl, 1, buf, 300) == 100
    lay.free()


def test_copy_round_trip_over_highly_fragmented_list():
    lay = build([("page", 1)] * 200 + [("zero", 0)] * 5 + [("kmalloc", 3)] * 20, chunk=7, seed=8)
    data = flat_buffer(lay.total, 3)
    assert sg_copy_from_buffer(lay.sgl, lay.nents, data, lay.total) == lay.total
    assert np.array_equal(lay.flat(), data)
    out = bytearray(lay.total)
    assert sg_copy_to_buffer(lay.sgl, lay.nents, out, lay.total) == lay.total
    assert bytes(out) == data.tobytes()
    assert not kmem.ledger.kmaps
    lay.free()


def test_pcopy_and_short_copies():
    lay = build([("page", 500), ("vmalloc", 5000)], chunk=2, seed=9)
    flat = lay.flat()
    out = np.zeros(1000, np.uint8)
    assert sg_pcopy_to_buffer(lay.sgl, lay.nents, out, 1000, 4800) == 700
    assert np.array_equal(out[:700], flat[4800:])
    assert sg_pcopy_to_buffer(lay.sgl, lay.nents, out, 10, lay.total + 1) == 0
    src = flat_buffer(300, 1)
    assert sg_pcopy_from_buffer(lay.sgl, lay.nents, src, 300, 400) == 300
    assert np.array_equal(lay.flat()[400:700], src)
    assert sg_zero_buffer(lay.sgl, lay.nents, 50, 420) == 50
    assert not lay.flat()[420:470].any() and lay.flat()[419] == src[19]
    lay.free()


def test_copy_to_kernel_address_buffer_vmalloc():
    lay = build([("page", 3000), ("page", 3000)], seed=10)
    addr = kmem.vmalloc(6000)
    assert sg_copy_buffer(lay.sgl, 2, addr, 6000, 0, True) == 6000
    assert kmem.read_virt(addr, 6000) == lay.flat().tobytes()
    kmem.vfree(addr)
    lay.free()


def test_copy_argument_checks():
    lay = build([("page", 10)], seed=1)
    with pytest.raises(ValueError):
        sg_copy_to_buffer(lay.sgl, 1, bytearray(4), 10)
    with pytest.raises(TypeError):
        sg_copy_from_buffer(lay.sgl, 1, b"x" * 10, "10")
    with pytest.raises(TypeError):
        sg_copy_to_buffer(lay.sgl, 1, b"x" * 10, 10)      # cannot write into bytes
    lay.free()


def test_device_memory_access_is_recorded():
    dev = kmem.alloc_device_pages(0)
    lay = build([("page", 10)], seed=1)
    from sgl import sg_set_page
    sg_set_page(lay.sgl[0], dev, 10, 0)
    with kmem.expect_violations("device-access"):
        sg_copy_to_buffer(lay.sgl, 1, np.zeros(10, np.uint8), 10)
    kmem.free_device_pages(dev)
    lay.free()
