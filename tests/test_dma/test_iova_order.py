"""The two-step IOVA API's bookkeeping off the drivers' usual order:
links out of order (overlap still refused), and teardown in the wrong
direction (still a dma-debug record, whole range or part of it)."""

import kmem
from dma import (
    DMA_FROM_DEVICE,
    DMA_TO_DEVICE,
    Device,
    DmaIovaState,
    dma_iova_destroy,
    dma_iova_link,
    dma_iova_try_alloc,
    dma_iova_unlink,
)
from kmem import PAGE_SIZE
from kmem import errno as E


def _linked(dev: Device, n: int) -> tuple[DmaIovaState, list, int]:
    pages = [kmem.alloc_page(kmem.GFP_KERNEL) for _ in range(n)]
    state = DmaIovaState()
    assert dma_iova_try_alloc(dev, state, 0, n * PAGE_SIZE)
    return state, pages, kmem.page_to_phys(pages[0])


def test_a_link_before_an_existing_one_is_checked_for_overlap():
    dev = Device()
    state, pages, phys = _linked(dev, 3)
    assert dma_iova_link(dev, state, phys + 256, 256, 256, DMA_TO_DEVICE) == 0
    with kmem.expect_violations("warn"):          # ends inside the first link
        assert dma_iova_link(dev, state, phys + 128, 128, 256, DMA_TO_DEVICE) == -E.EEXIST
    with kmem.expect_violations("warn"):          # covers it
        assert dma_iova_link(dev, state, phys, 0, 1024, DMA_TO_DEVICE) == -E.EEXIST
    assert dma_iova_link(dev, state, phys, 0, 256, DMA_TO_DEVICE) == 0   # just before it
    assert dma_iova_link(dev, state, phys + 512, 512, 64, DMA_TO_DEVICE) == 0
    dma_iova_destroy(dev, state, 576, DMA_TO_DEVICE)
    assert not dev.mappings
    for p in pages:
        kmem.__free_page(p)


def test_teardown_in_the_wrong_direction_is_recorded():
    dev = Device()
    state, pages, _ = _linked(dev, 2)
    for k, p in enumerate(pages):
        assert dma_iova_link(dev, state, kmem.page_to_phys(p), k * PAGE_SIZE, PAGE_SIZE,
                             DMA_TO_DEVICE) == 0
    with kmem.expect_violations("dma-api"):       # part of the range
        dma_iova_unlink(dev, state, 0, PAGE_SIZE, DMA_FROM_DEVICE)
    with kmem.expect_violations("dma-api"):       # all that is left
        dma_iova_destroy(dev, state, 2 * PAGE_SIZE, DMA_FROM_DEVICE)
    assert not dev.mappings
    for p in pages:
        kmem.__free_page(p)


def test_link_argument_errors_keep_their_order_and_messages():
    """dma_iova_link tests its argument errors in one condition and names
    the first that fails (no range, outside the range, page offsets that
    differ): each gets its own WARN and -EIO, and nothing is linked."""
    dev = Device()
    pages = [kmem.alloc_page(kmem.GFP_KERNEL) for _ in range(2)]
    phys = kmem.page_to_phys(pages[0])
    state = DmaIovaState()

    def refused(off, size, p, message):
        with kmem.expect_violations("warn") as got:
            assert dma_iova_link(dev, state, p, off, size, DMA_TO_DEVICE) == -E.EIO
        assert len(got) == 1 and message in got[0].message, got

    refused(0, 64, phys, "no IOVA range allocated")
    assert dma_iova_try_alloc(dev, state, phys, 2 * PAGE_SIZE)
    refused(-16, 64, phys - 16, "outside the")
    refused(0, 0, phys, "outside the")
    refused(PAGE_SIZE, PAGE_SIZE + 1, kmem.page_to_phys(pages[1]), "outside the")
    refused(PAGE_SIZE + 8, 2 * PAGE_SIZE, phys, "outside the")   # both: the range first
    refused(8, 64, phys, "differ in their page offsets")
    assert dev.mappings[("iova", id(state))].pieces == []
    assert dma_iova_link(dev, state, phys, 0, 64, DMA_TO_DEVICE) == 0
    dma_iova_destroy(dev, state, 64, DMA_TO_DEVICE)
    assert not dev.mappings
    for p in pages:
        kmem.__free_page(p)


def test_destroy_of_a_state_moved_off_its_links_says_so():
    """A dma_iova_state whose addr no longer starts its range (a driver
    that overwrote it) is not torn down as the usual whole range: the
    links left are a dma-debug record, and the destroyed range's record
    holds no link whoever still has it."""
    dev = Device()
    state, pages, _ = _linked(dev, 2)
    for k, p in enumerate(pages):
        assert dma_iova_link(dev, state, kmem.page_to_phys(p), k * PAGE_SIZE, PAGE_SIZE,
                             DMA_TO_DEVICE) == 0
    state.addr += PAGE_SIZE
    with kmem.expect_violations("dma-api") as got:
        dma_iova_destroy(dev, state, 2 * PAGE_SIZE, DMA_TO_DEVICE)
    assert any("1 link(s) still in place" in r.message for r in got), got
    assert not dev.mappings and dev.iova_in_use == 0

    state, more, _ = _linked(dev, 2)
    for k, p in enumerate(more):
        assert dma_iova_link(dev, state, kmem.page_to_phys(p), k * PAGE_SIZE, PAGE_SIZE,
                             DMA_TO_DEVICE) == 0
    m = dev.mappings[("iova", id(state))]
    dma_iova_destroy(dev, state, 2 * PAGE_SIZE, DMA_TO_DEVICE)
    assert m.pieces == [] and m.spans == [] and not dev.mappings
    for p in pages + more:
        kmem.__free_page(p)


def test_a_link_counts_a_new_device_segment_unless_it_continues_the_one_before():
    """kmem.stats (compare's dsegs): each link is a mapping; it is a new
    device-visible segment unless it starts where the link before it (in
    IOVA order, whatever the order of the calls) ends."""
    dev = Device()
    state, pages, _ = _linked(dev, 6)
    phys = [kmem.page_to_phys(p) for p in pages]

    def link(i):
        assert dma_iova_link(dev, state, phys[i], i * PAGE_SIZE, PAGE_SIZE, DMA_TO_DEVICE) == 0

    with kmem.cost_counters() as c:
        segs = []
        for i in (0, 1, 3, 2, 5, 4):
            link(i)
            segs.append(c.dma_segments)
    # 0 starts one; 1 continues it; 3 leaves a gap; 2 fills it, after 1;
    # 5 leaves a gap; 4 comes before 5, after 3.
    assert segs == [1, 1, 2, 2, 3, 3] and c.dma_maps == 6
    dma_iova_destroy(dev, state, 6 * PAGE_SIZE, DMA_TO_DEVICE)
    assert not dev.mappings
    for p in pages:
        kmem.__free_page(p)
