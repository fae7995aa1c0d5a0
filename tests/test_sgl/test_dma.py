"""DMA mapping of scatterlists: the list is input and output."""

import numpy as np
import pytest

import kmem
from dma import IommuFault
from kmem import PAGE_SIZE, KernelBug
from kmem import errno as E
from sgl import (
    DMA_BIDIRECTIONAL,
    DMA_FROM_DEVICE,
    DMA_MAPPING_ERROR,
    DMA_NONE,
    DMA_TO_DEVICE,
    Device,
    SgTable,
    dma_map_sg,
    dma_map_sgtable,
    dma_sync_sg_for_cpu,
    dma_unmap_sg,
    dma_unmap_sgtable,
    for_each_sgtable_dma_sg,
    sg_alloc_table_from_pages_segment,
    sg_array,
    sg_chain,
    sg_dma_address,
    sg_dma_len,
    sg_free_table,
    sg_init_table,
    sg_set_page,
)
from tests.test_sgl.layouts import build, flat_buffer


def _pages_list(folio, n):
    """n page-sized entries over a contiguous block, one per entry."""
    a = sg_array(n)
    sg_init_table(a, n)
    for i in range(n):
        sg_set_page(a[i], kmem.folio_page(folio, i), PAGE_SIZE, 0)
    return a


def _device_bytes(dev, sgl, count):
    return np.concatenate([dev.dma_read(sg_dma_address(s), sg_dma_len(s)) for s in sgl[:count]])


def test_iommu_merges_adjacent_page_entries():
    folio = kmem.alloc_pages(kmem.GFP_KERNEL, 3)
    a = _pages_list(folio, 8)
    dev = Device(max_segment_size=4 * PAGE_SIZE)
    n = dma_map_sg(dev, a, 8, DMA_TO_DEVICE)
    assert n == 2
    assert [sg_dma_len(s) for s in a[:2]] == [4 * PAGE_SIZE, 4 * PAGE_SIZE]
    assert all(sg_dma_len(s) == 0 and sg_dma_address(s) == DMA_MAPPING_ERROR for s in a[2:])
    flat = kmem.gather(kmem.page_views(folio, 0, 8 * PAGE_SIZE))
    assert np.array_equal(_device_bytes(dev, a, n), flat)
    dma_unmap_sg(dev, a, 8, DMA_TO_DEVICE)
    assert not dev.mappings
    kmem.__free_pages(folio, 3)


def test_iommu_does_not_merge_unaligned_entries():
    lay = build([("page", 100), ("page", 200), ("kmalloc", 50)], seed=1)
    dev = Device()
    n = dma_map_sg(dev, lay.sgl, 3, DMA_BIDIRECTIONAL)
    assert n == 3
    assert np.array_equal(_device_bytes(dev, lay.arrays[0], n), lay.flat())
    data = flat_buffer(200, 4)
    dev.dma_write(sg_dma_address(lay.sgl[1]), data)
    assert np.array_equal(lay.flat()[100:300], data)
    dma_unmap_sg(dev, lay.sgl, 3, DMA_BIDIRECTIONAL)
    lay.free()


def test_direct_mapping_is_physical_and_unmerged():
    folio = kmem.alloc_pages(kmem.GFP_KERNEL, 1)
    a = _pages_list(folio, 2)
    dev = Device(iommu=False)
    assert dma_map_sg(dev, a, 2, DMA_FROM_DEVICE) == 2
    assert sg_dma_address(a[0]) == kmem.page_to_phys(folio)
    assert sg_dma_address(a[1]) == kmem.page_to_phys(folio) + PAGE_SIZE
    dev.dma_write(sg_dma_address(a[0]), np.full(10, 9, np.uint8))
    assert kmem.read_virt(kmem.page_address(folio), 10) == b"\x09" * 10
    dma_unmap_sg(dev, a, 2, DMA_FROM_DEVICE)
    dev32 = Device(iommu=False, dma_mask=(1 << 12) - 1)
    assert dma_map_sg(dev32, a, 2, DMA_FROM_DEVICE) == 0
    kmem.__free_pages(folio, 1)


def test_failures_return_zero_or_errno():
    folio = kmem.alloc_pages(kmem.GFP_KERNEL, 1)
    t = SgTable()
    assert sg_alloc_table_from_pages_segment(t, [folio, kmem.folio_page(folio, 1)], 2, 0,
                                             2 * PAGE_SIZE, PAGE_SIZE, kmem.GFP_KERNEL) == 0
    dev = Device(fail_maps=1)
    assert dma_map_sgtable(dev, t, DMA_TO_DEVICE) == -E.EIO
    dev.fail_maps = 1
    assert dma_map_sg(dev, t.sgl, 2, DMA_TO_DEVICE) == 0
    with kmem.fail_allocations(times=1):
        assert dma_map_sgtable(dev, t, DMA_TO_DEVICE) == -E.ENOMEM
    assert dma_map_sgtable(dev, t, DMA_TO_DEVICE) == 0
    assert t.nents == 1 and t.orig_nents == 2
    assert [s.dma_length for s in for_each_sgtable_dma_sg(t)] == [2 * PAGE_SIZE]
    dma_unmap_sgtable(dev, t, DMA_TO_DEVICE)
    sg_free_table(t)
    kmem.__free_pages(folio, 1)


def test_p2p_memory_needs_p2p_support():
    devmem = kmem.alloc_device_pages(0)
    a = sg_array(1)
    sg_init_table(a, 1)
    sg_set_page(a[0], devmem, 100, 0)
    t = SgTable()
    t.sgl, t.nents, t.orig_nents = a[0], 1, 1
    assert dma_map_sgtable(Device(), t, DMA_TO_DEVICE) == -E.EREMOTEIO
    dev = Device(p2p=True)
    assert dma_map_sgtable(dev, t, DMA_TO_DEVICE) == 0
    dma_unmap_sgtable(dev, t, DMA_TO_DEVICE)
    kmem.free_device_pages(devmem)


def test_dma_api_debug_checks():
    lay = build([("page", 100), ("page", 100)], seed=2)
    dev = Device()
    assert dma_map_sg(dev, lay.sgl, 2, DMA_TO_DEVICE) == 2
    with kmem.expect_violations("dma-api"):
        dma_unmap_sg(dev, lay.sgl, 1, DMA_TO_DEVICE)
    with kmem.expect_violations("dma-api"):
        dma_unmap_sg(dev, lay.sgl, 2, DMA_TO_DEVICE)       # no longer mapped
    with kmem.expect_violations("dma-api"):
        dma_sync_sg_for_cpu(dev, lay.sgl, 2, DMA_TO_DEVICE)
    with pytest.raises(KernelBug):
        dma_map_sg(dev, lay.sgl, 2, DMA_NONE)
    assert dma_map_sg(dev, lay.sgl, 2, DMA_TO_DEVICE) == 2
    with kmem.expect_violations("iommu-fault"), pytest.raises(IommuFault):
        dev.dma_write(sg_dma_address(lay.sgl[0]), np.zeros(4, np.uint8))
    with kmem.expect_violations("iommu-fault"), pytest.raises(IommuFault):
        dev.dma_read(0x10, 4)
    dma_unmap_sg(dev, lay.sgl, 2, DMA_TO_DEVICE)
    lay.free()


def test_stack_memory_mapping_warns_and_chain_is_followed():
    addr = kmem.stack_alloc(64)
    a, b = sg_array(2), sg_array(1)
    sg_init_table(a, 2)
    sg_init_table(b, 1)
    sg_set_page(a[0], kmem.vmalloc_to_page(addr), 64, addr & (PAGE_SIZE - 1))
    sg_chain(a, 2, b)
    page = kmem.alloc_page(kmem.GFP_KERNEL)
    sg_set_page(b[0], page, 10, 0)
    dev = Device()
    with kmem.expect_violations("dma-api"):
        assert dma_map_sg(dev, a, 2, DMA_TO_DEVICE) == 2
    # Segments are written through sg_next: the second lands in b[0], past the link.
    assert sg_dma_len(b[0]) == 10 and a[1].dma_length == 0
    dma_unmap_sg(dev, a, 2, DMA_TO_DEVICE)
    kmem.stack_free(addr)
    kmem.__free_page(page)
