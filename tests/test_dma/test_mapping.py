"""The scatterlist-free DMA API: dma_map_phys and friends, the two-step
IOVA API, the device's view of memory and the dma-debug records."""

import numpy as np
import pytest

import kmem
from dma import (
    DMA_ATTR_MMIO,
    DMA_BIDIRECTIONAL,
    DMA_BIT_MASK,
    DMA_FROM_DEVICE,
    DMA_MAPPING_ERROR,
    DMA_TO_DEVICE,
    Device,
    DmaIovaState,
    IommuFault,
    dma_iova_destroy,
    dma_iova_free,
    dma_iova_link,
    dma_iova_sync,
    dma_iova_try_alloc,
    dma_iova_unlink,
    dma_map_page_attrs,
    dma_map_phys,
    dma_map_single,
    dma_mapping_error,
    dma_sync_single_for_cpu,
    dma_sync_single_for_device,
    dma_unmap_page_attrs,
    dma_unmap_phys,
    dma_use_iova,
)
from kmem import PAGE_SIZE
from kmem import errno as E


def _buf(n: int, seed: int = 0) -> tuple[int, bytes]:
    addr = kmem.kmalloc(n, kmem.GFP_KERNEL)
    data = np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()
    kmem.write_virt(addr, data)
    return addr, data


@pytest.mark.parametrize("iommu", [True, False])
def test_map_phys_device_reads_and_writes_through_the_mapping(iommu):
    dev = Device(iommu=iommu)
    addr, data = _buf(100)
    phys = kmem.__pa(addr)
    bus = dma_map_phys(dev, phys, 100, DMA_BIDIRECTIONAL)
    assert dma_mapping_error(dev, bus) == 0
    assert (bus == phys) != iommu
    assert bus & (PAGE_SIZE - 1) == phys & (PAGE_SIZE - 1)
    assert dev.dma_read(bus, 100).tobytes() == data
    dev.dma_write(bus + 10, b"\x01\x02")
    assert kmem.read_virt(addr + 10, 2) == b"\x01\x02"
    dma_unmap_phys(dev, bus, 100, DMA_BIDIRECTIONAL)
    assert not dev.mappings and dev.iova_in_use == 0
    with kmem.expect_violations("iommu-fault"), pytest.raises(IommuFault):
        dev.dma_read(bus, 4)
    kmem.kfree(addr)


def test_map_page_attrs_is_map_phys_of_the_page():
    dev = Device()
    page = kmem.alloc_page(kmem.GFP_KERNEL)
    bus = dma_map_page_attrs(dev, page, 64, 128, DMA_TO_DEVICE)
    assert dma_mapping_error(dev, bus) == 0
    kmem.write_virt(kmem.page_address(page) + 64, b"x" * 128)
    assert dev.dma_read(bus, 128).tobytes() == b"x" * 128
    with kmem.expect_violations("iommu-fault"), pytest.raises(IommuFault):
        dev.dma_write(bus, b"y")                    # a TO_DEVICE mapping is read-only
    dma_unmap_page_attrs(dev, bus, 128, DMA_TO_DEVICE)
    kmem.__free_page(page)


def test_dma_debug_unmap_checks():
    dev = Device()
    addr, _ = _buf(64)
    bus = dma_map_phys(dev, kmem.__pa(addr), 64, DMA_TO_DEVICE)
    with kmem.expect_violations("dma-api") as recs:
        dma_unmap_phys(dev, bus, 32, DMA_FROM_DEVICE)
    text = " ".join(r.message for r in recs)
    assert "size 32" in text and "DMA_FROM_DEVICE" in text and "failed to check" in text
    with kmem.expect_violations("dma-api"):
        dma_unmap_phys(dev, bus, 64, DMA_TO_DEVICE)     # double unmap
    kmem.kfree(addr)


def test_stack_and_vmalloc_addresses_are_refused_by_dma_map_single():
    dev = Device()
    stack = kmem.stack_alloc(64)
    with kmem.expect_violations("dma-api"):
        assert dma_map_single(dev, stack, 64, DMA_TO_DEVICE) == DMA_MAPPING_ERROR
    v = kmem.vmalloc(64)
    with kmem.expect_violations("dma-api"):
        assert dma_map_single(dev, v, 64, DMA_TO_DEVICE) == DMA_MAPPING_ERROR
    assert dma_mapping_error(dev, DMA_MAPPING_ERROR) == -E.ENOMEM
    kmem.vfree(v)
    kmem.stack_free(stack)


def test_no_iommu_and_a_small_mask_refuses_memory_above_it():
    """dma-direct without swiotlb (the model has none): memory beyond the
    DMA mask cannot be mapped.  The model's RAM sits from 1 MiB upwards,
    below 4 GiB, so a 20-bit mask stands for a 32-bit one; device memory
    (a P2P BAR) lies above 4 GiB and shows the 32-bit case itself."""
    addr, _ = _buf(64)
    dev = Device(iommu=False, dma_mask=DMA_BIT_MASK(20))
    assert dma_map_phys(dev, kmem.__pa(addr), 64, DMA_TO_DEVICE) == DMA_MAPPING_ERROR
    bar = kmem.alloc_device_pages(0)
    dev32 = Device(iommu=False, dma_mask=DMA_BIT_MASK(32), p2p=True)
    assert dma_map_phys(dev32, kmem.page_to_phys(bar), 64, DMA_TO_DEVICE,
                        DMA_ATTR_MMIO) == DMA_MAPPING_ERROR
    # Behind an IOMMU the IOVA is below the mask whatever the memory.
    iodev = Device(dma_mask=DMA_BIT_MASK(32), p2p=True)
    bus = dma_map_phys(iodev, kmem.page_to_phys(bar), 64, DMA_TO_DEVICE, DMA_ATTR_MMIO)
    assert dma_mapping_error(iodev, bus) == 0 and bus < 1 << 32
    dma_unmap_phys(iodev, bus, 64, DMA_TO_DEVICE, DMA_ATTR_MMIO)
    assert not dev.mappings and not dev32.mappings
    kmem.free_device_pages(bar)
    kmem.kfree(addr)


def test_p2p_memory_needs_the_mmio_attribute_and_a_capable_device():
    bar = kmem.alloc_device_pages(0)
    phys = kmem.page_to_phys(bar)
    assert dma_map_phys(Device(p2p=True), phys, 64, DMA_TO_DEVICE) == DMA_MAPPING_ERROR
    assert dma_map_phys(Device(), phys, 64, DMA_TO_DEVICE, DMA_ATTR_MMIO) == DMA_MAPPING_ERROR
    dev = Device(p2p=True)
    bus = dma_map_phys(dev, phys, 64, DMA_BIDIRECTIONAL, DMA_ATTR_MMIO)
    dev.dma_write(bus, b"peer" * 16)                  # the device may; the CPU may not
    assert dev.dma_read(bus, 64).tobytes() == b"peer" * 16
    dma_mapping_error(dev, bus)
    dma_unmap_phys(dev, bus, 64, DMA_BIDIRECTIONAL, DMA_ATTR_MMIO)
    kmem.free_device_pages(bar)


def test_device_access_while_the_cpu_owns_the_buffer_is_recorded():
    dev = Device()
    addr, _ = _buf(64)
    bus = dma_map_phys(dev, kmem.__pa(addr), 64, DMA_FROM_DEVICE)
    dma_mapping_error(dev, bus)
    dma_sync_single_for_cpu(dev, bus, 64, DMA_FROM_DEVICE)
    with kmem.expect_violations("dma-api"):
        dev.dma_write(bus, b"z")
    dma_sync_single_for_device(dev, bus, 64, DMA_FROM_DEVICE)
    dev.dma_write(bus, b"z")
    dma_unmap_phys(dev, bus, 64, DMA_FROM_DEVICE)
    kmem.kfree(addr)


def test_injected_mapping_failure():
    dev = Device(fail_maps=1)
    addr, _ = _buf(64)
    bus = dma_map_phys(dev, kmem.__pa(addr), 64, DMA_TO_DEVICE)
    assert dma_mapping_error(dev, bus) == -E.ENOMEM
    assert not dev.mappings
    kmem.kfree(addr)


# The two-step API.

def _pages(n: int) -> list:
    return [kmem.alloc_page(kmem.GFP_KERNEL) for _ in range(n)]


def test_two_step_links_scattered_pages_into_one_iova_range():
    dev = Device()
    pages = _pages(3)
    for i, p in enumerate(pages):
        kmem.write_virt(kmem.page_address(p), bytes([i + 1]) * PAGE_SIZE)
    state = DmaIovaState()
    assert dma_iova_try_alloc(dev, state, kmem.page_to_phys(pages[0]), 3 * PAGE_SIZE)
    assert dma_use_iova(state)
    for i, p in enumerate(pages):
        assert dma_iova_link(dev, state, kmem.page_to_phys(p), i * PAGE_SIZE, PAGE_SIZE,
                             DMA_TO_DEVICE) == 0
    with kmem.expect_violations("dma-api"):
        dev.dma_read(state.addr, 16)                   # linked, not yet synced
    assert dma_iova_sync(dev, state, 0, 3 * PAGE_SIZE) == 0
    got = dev.dma_read(state.addr, 3 * PAGE_SIZE)
    assert [int(got[i * PAGE_SIZE]) for i in range(3)] == [1, 2, 3]
    dma_iova_destroy(dev, state, 3 * PAGE_SIZE, DMA_TO_DEVICE)
    assert not dma_use_iova(state) and not dev.mappings and dev.iova_in_use == 0
    for p in pages:
        kmem.__free_page(p)


def test_two_step_refuses_without_an_iommu_and_when_exhausted():
    page = _pages(1)[0]
    phys = kmem.page_to_phys(page)
    state = DmaIovaState()
    assert not dma_iova_try_alloc(Device(iommu=False), state, phys, PAGE_SIZE)
    assert not dma_use_iova(state)
    small = Device(iova_aperture=2 * PAGE_SIZE)
    assert dma_iova_try_alloc(small, state, phys, 2 * PAGE_SIZE)
    other = DmaIovaState()
    assert not dma_iova_try_alloc(small, other, phys, PAGE_SIZE)      # IOVA exhausted
    dma_iova_free(small, state)
    assert dma_iova_try_alloc(small, other, phys, PAGE_SIZE)          # and back
    dma_iova_free(small, other)
    dev = Device(fail_iova=1)
    assert not dma_iova_try_alloc(dev, state, phys, PAGE_SIZE)
    kmem.__free_page(page)


def test_two_step_link_checks():
    dev = Device()
    pages = _pages(2)
    state = DmaIovaState()
    assert dma_iova_try_alloc(dev, state, kmem.page_to_phys(pages[0]) + 8, 2 * PAGE_SIZE)
    with kmem.expect_violations("warn"):        # page offsets of IOVA and phys differ
        assert dma_iova_link(dev, state, kmem.page_to_phys(pages[1]), 0, 64,
                             DMA_TO_DEVICE) == -E.EIO
    with kmem.expect_violations("warn"):        # past the allocated range
        assert dma_iova_link(dev, state, kmem.page_to_phys(pages[0]) + 8, 0, 3 * PAGE_SIZE,
                             DMA_TO_DEVICE) == -E.EIO
    assert dma_iova_link(dev, state, kmem.page_to_phys(pages[0]) + 8, 0, 64,
                         DMA_TO_DEVICE) == 0
    with kmem.expect_violations("warn"):
        assert dma_iova_link(dev, state, kmem.page_to_phys(pages[0]) + 8, 0, 64,
                             DMA_TO_DEVICE) == -E.EEXIST
    bar = kmem.alloc_device_pages(0)
    assert dma_iova_link(dev, state, kmem.page_to_phys(bar), PAGE_SIZE - 8, 64,
                         DMA_TO_DEVICE) == -E.EREMOTEIO
    with kmem.expect_violations("dma-api"):
        dma_iova_free(dev, state)                       # a link is still there
    with kmem.expect_violations("dma-api"):
        dma_iova_unlink(dev, state, 0, 64, DMA_TO_DEVICE)
    kmem.free_device_pages(bar)
    for p in pages:
        kmem.__free_page(p)


def test_two_step_maps_stack_pages_only_with_a_record():
    dev = Device()
    stack = kmem.stack_alloc(64)
    phys = kmem.page_to_phys(kmem.vmalloc_to_page(stack)) + (stack & (PAGE_SIZE - 1))
    state = DmaIovaState()
    assert dma_iova_try_alloc(dev, state, phys, 64)
    with kmem.expect_violations("dma-api"):
        assert dma_iova_link(dev, state, phys, 0, 64, DMA_TO_DEVICE) == 0
    dma_iova_destroy(dev, state, 64, DMA_TO_DEVICE)
    kmem.stack_free(stack)


@pytest.mark.parametrize("mapped", ["all", "part"])
def test_destroy_with_another_direction_than_linked_is_a_dma_debug_record(mapped):
    # The teardown that takes every link at once, and the one that goes
    # through dma_iova_unlink, check the direction alike, and both leave
    # nothing mapped.
    dev = Device()
    pages = _pages(2)
    state = DmaIovaState()
    assert dma_iova_try_alloc(dev, state, kmem.page_to_phys(pages[0]), 2 * PAGE_SIZE)
    for i, p in enumerate(pages):
        assert dma_iova_link(dev, state, kmem.page_to_phys(p), i * PAGE_SIZE, PAGE_SIZE,
                             DMA_TO_DEVICE) == 0
    n = 2 * PAGE_SIZE if mapped == "all" else PAGE_SIZE
    with kmem.expect_violations("dma-api"):
        dma_iova_destroy(dev, state, n, DMA_FROM_DEVICE)
    assert not dma_use_iova(state) and not dev.mappings and dev.iova_in_use == 0
    for p in pages:
        kmem.__free_page(p)
