"""The device's view of the mapping table (Device._resolve): which bus
ranges it may touch, and the IOMMU faults and dma-debug records of the
ones it may not.  The edge cases first, with the answers the model has
always given; then a randomised comparison of the indexed lookup against
the plain scan of every live piece (Device._resolve_scan)."""

import numpy as np
import pytest

import kmem
from dma import (
    DMA_BIDIRECTIONAL,
    DMA_FROM_DEVICE,
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
    dma_map_phys,
    dma_mapping_error,
    dma_sync_single_for_cpu,
    dma_sync_single_for_device,
    dma_unmap_phys,
)
from kmem import PAGE_SIZE
from kmem import sanitizer as S


@pytest.fixture
def folio():
    """Four physically contiguous pages, each filled with its index + 1."""
    f = kmem.alloc_pages(kmem.GFP_KERNEL, 2)
    for i in range(4):
        kmem.write_virt(kmem.page_address(kmem.folio_page(f, i)), bytes([i + 1]) * PAGE_SIZE)
    yield kmem.page_to_phys(f)
    kmem.__free_pages(f, 2)


def _faults(dev: Device, addr: int, n: int, write: bool) -> str:
    with kmem.expect_violations("iommu-fault") as got, pytest.raises(IommuFault):
        dev._resolve(addr, n, write)
    assert len(got) == 1
    return got[0].message


@pytest.mark.parametrize("iommu", [True, False])
def test_unmapped_and_already_unmapped_ranges_fault(folio, iommu):
    dev = Device(iommu=iommu)
    bus = dma_map_phys(dev, folio, PAGE_SIZE, DMA_BIDIRECTIONAL)
    dev.mappings[("single", bus)].checked = True
    assert dev._resolve(bus, PAGE_SIZE, False) == [(folio, PAGE_SIZE)]
    assert "unmapped" in _faults(dev, bus + PAGE_SIZE, 16, False)   # never mapped
    dma_unmap_phys(dev, bus, PAGE_SIZE, DMA_BIDIRECTIONAL)
    assert "unmapped" in _faults(dev, bus, 16, False)               # already unmapped
    assert "unmapped" in _faults(dev, bus + 100, 1, True)


@pytest.mark.parametrize("iommu", [True, False])
def test_wrong_direction_faults_and_bidirectional_takes_both(folio, iommu):
    dev = Device(iommu=iommu)
    to = dma_map_phys(dev, folio, PAGE_SIZE, DMA_TO_DEVICE)
    frm = dma_map_phys(dev, folio + 2 * PAGE_SIZE, PAGE_SIZE, DMA_FROM_DEVICE)
    for b in (to, frm):
        dev.mappings[("single", b)].checked = True
    assert dev._resolve(to, 64, False) == [(folio, 64)]
    assert "write" in _faults(dev, to, 64, True) and "DMA_TO_DEVICE" in _faults(dev, to, 1, True)
    assert dev._resolve(frm + 8, 8, True) == [(folio + 2 * PAGE_SIZE + 8, 8)]
    assert "DMA_FROM_DEVICE" in _faults(dev, frm, 8, False)
    dma_unmap_phys(dev, to, PAGE_SIZE, DMA_TO_DEVICE)
    dma_unmap_phys(dev, frm, PAGE_SIZE, DMA_FROM_DEVICE)


@pytest.mark.parametrize("iommu", [True, False])
def test_a_range_partly_outside_a_mapping_faults(folio, iommu):
    dev = Device(iommu=iommu)
    bus = dma_map_phys(dev, folio + 512, 1024, DMA_BIDIRECTIONAL)
    dev.mappings[("single", bus)].checked = True
    assert dev._resolve(bus, 1024, True) == [(folio + 512, 1024)]
    assert "unmapped" in _faults(dev, bus + 1000, 25, False)        # runs off the end
    assert "unmapped" in _faults(dev, bus - 1, 2, False)            # starts before it
    assert "unmapped" in _faults(dev, bus - 8, 1040, True)          # both
    dma_unmap_phys(dev, bus, 1024, DMA_BIDIRECTIONAL)


@pytest.mark.parametrize("iommu", [True, False])
def test_an_access_across_two_adjacent_mappings_is_served_by_both(folio, iommu):
    dev = Device(iommu=iommu)
    a = dma_map_phys(dev, folio, PAGE_SIZE, DMA_TO_DEVICE)
    b = dma_map_phys(dev, folio + PAGE_SIZE, PAGE_SIZE, DMA_BIDIRECTIONAL)
    for x in (a, b):
        dev.mappings[("single", x)].checked = True
    assert b == a + PAGE_SIZE                        # adjacent on the bus in both cases
    assert dev._resolve(a + PAGE_SIZE - 4, 8, False) == [(folio + PAGE_SIZE - 4, 4),
                                                         (folio + PAGE_SIZE, 4)]
    got = dev.dma_read(a + PAGE_SIZE - 2, 4)
    assert got.tobytes() == b"\x01\x01\x02\x02"
    # One side refuses a write: the whole access faults.
    assert "DMA_TO_DEVICE" in _faults(dev, a + PAGE_SIZE - 4, 8, True)
    dma_unmap_phys(dev, b, PAGE_SIZE, DMA_BIDIRECTIONAL)
    assert "unmapped" in _faults(dev, a + PAGE_SIZE - 4, 8, False)
    dma_unmap_phys(dev, a, PAGE_SIZE, DMA_TO_DEVICE)


def test_dma_direct_maps_one_range_twice_and_unmaps_each(folio):
    # Without an IOMMU the bus address is the physical one, so mapping the
    # same bytes twice gives the same address twice: two entries, as
    # dma-debug keeps two in its bucket, each unmapped on its own.
    dev = Device(iommu=False)
    a = dma_map_phys(dev, folio, 256, DMA_TO_DEVICE)
    b = dma_map_phys(dev, folio, 256, DMA_FROM_DEVICE)
    assert a == b == folio and len(dev.mappings) == 2
    assert dma_mapping_error(dev, a) == 0 and dma_mapping_error(dev, b) == 0
    assert all(m.checked for m in dev.mappings.values())
    # Each direction is allowed by one of them, across both.
    assert dev._resolve(a, 16, False) == [(folio, 16)]
    assert dev._resolve(a, 16, True) == [(folio, 16)]
    start = S.mark()
    dma_unmap_phys(dev, b, 256, DMA_FROM_DEVICE)          # the matching entry goes
    assert S.since(start) == []
    assert "DMA_TO_DEVICE" in _faults(dev, a, 16, True)
    assert dev._resolve(a, 16, False) == [(folio, 16)]
    dma_unmap_phys(dev, a, 256, DMA_TO_DEVICE)
    assert S.since(start) == [] and not dev.mappings
    assert "unmapped" in _faults(dev, a, 16, False)


def test_overlapping_pieces_are_reached_once(folio):
    dev = Device(iommu=False)
    a = dma_map_phys(dev, folio, 256, DMA_BIDIRECTIONAL)
    b = dma_map_phys(dev, folio + 128, 256, DMA_BIDIRECTIONAL)
    for x in (a, b):
        dma_mapping_error(dev, x)
    assert dev._resolve(a, 384, False) == [(folio, 256), (folio + 256, 128)]
    assert dev.dma_read(a + 120, 16).tobytes() == b"\x01" * 16
    dma_unmap_phys(dev, a, 256, DMA_BIDIRECTIONAL)
    assert "unmapped" in _faults(dev, a, 384, False)
    dma_unmap_phys(dev, b, 256, DMA_BIDIRECTIONAL)


def test_a_reused_iova_reaches_the_new_mapping_only(folio):
    dev = Device()
    a = dma_map_phys(dev, folio, PAGE_SIZE, DMA_BIDIRECTIONAL)
    dev.mappings[("single", a)].checked = True
    dma_unmap_phys(dev, a, PAGE_SIZE, DMA_BIDIRECTIONAL)
    b = dma_map_phys(dev, folio + 3 * PAGE_SIZE + 64, 128, DMA_TO_DEVICE)
    dev.mappings[("single", b)].checked = True
    assert b == a + 64                               # the freed IOVA page again
    assert dev.dma_read(b, 4).tobytes() == b"\x04" * 4
    assert "unmapped" in _faults(dev, a, 4, False)    # the old mapping is gone
    assert "unmapped" in _faults(dev, b + 120, 16, False)
    dma_unmap_phys(dev, b, 128, DMA_TO_DEVICE)


def test_iova_links_unsynced_partly_unlinked_and_freed(folio):
    dev = Device()
    state = DmaIovaState()
    assert dma_iova_try_alloc(dev, state, folio, 3 * PAGE_SIZE)
    base = state.addr
    assert "unmapped" in _faults(dev, base, 16, False)              # nothing linked yet
    for i in (0, 2):           # two of the three pages: a hole at page 1
        assert dma_iova_link(dev, state, folio + i * PAGE_SIZE, i * PAGE_SIZE, PAGE_SIZE,
                             DMA_BIDIRECTIONAL) == 0
    with kmem.expect_violations("dma-api") as got:                  # linked, not synced
        assert dev._resolve(base, 16, False) == [(folio, 16)]
    assert "not synced" in got[0].message
    assert dma_iova_sync(dev, state, 0, 3 * PAGE_SIZE) == 0
    assert dev._resolve(base + 2 * PAGE_SIZE, 16, True) == [(folio + 2 * PAGE_SIZE, 16)]
    assert "unmapped" in _faults(dev, base + PAGE_SIZE - 8, 16, False)  # into the hole
    # Linking the hole afterwards closes it.
    assert dma_iova_link(dev, state, folio + PAGE_SIZE, PAGE_SIZE, PAGE_SIZE,
                         DMA_BIDIRECTIONAL) == 0
    dma_iova_sync(dev, state, PAGE_SIZE, PAGE_SIZE)
    assert dev.dma_read(base + PAGE_SIZE - 1, 2).tobytes() == b"\x01\x02"
    dma_iova_unlink(dev, state, 0, PAGE_SIZE, DMA_BIDIRECTIONAL)    # part of it
    assert "unmapped" in _faults(dev, base + 16, 16, False)
    assert dev._resolve(base + PAGE_SIZE, 16, False) == [(folio + PAGE_SIZE, 16)]
    dma_iova_unlink(dev, state, PAGE_SIZE, 2 * PAGE_SIZE, DMA_BIDIRECTIONAL)  # the rest
    assert "unmapped" in _faults(dev, base + PAGE_SIZE, 16, False)
    dma_iova_free(dev, state)
    assert not dev.mappings


@pytest.mark.parametrize(("offset", "size", "synced"), [
    (0, 3 * PAGE_SIZE, (0, 1, 2)),          # the whole range: every link
    (0, 2 * PAGE_SIZE, (0, 1)),             # not the last link
    (PAGE_SIZE, 2 * PAGE_SIZE, (1, 2)),     # not the first
    (PAGE_SIZE, PAGE_SIZE, (1,)),           # neither
    (PAGE_SIZE // 2, PAGE_SIZE, (0, 1)),    # the links it touches
])
def test_a_sync_makes_visible_only_the_links_in_its_range(folio, offset, size, synced):
    # dma_iova_sync over all of the links takes them without testing
    # each; over part of them, the links outside stay unsynced.
    dev = Device()
    state = DmaIovaState()
    assert dma_iova_try_alloc(dev, state, folio, 3 * PAGE_SIZE)
    for i in range(3):
        assert dma_iova_link(dev, state, folio + i * PAGE_SIZE, i * PAGE_SIZE, PAGE_SIZE,
                             DMA_TO_DEVICE) == 0
    assert dma_iova_sync(dev, state, offset, size) == 0
    m = dev.mappings[state.key]
    assert [p.synced for p in m.pieces] == [i in synced for i in range(3)]
    for i in range(3):
        addr = state.addr + i * PAGE_SIZE
        if i in synced:
            assert dev._resolve(addr, 8, False) == [(folio + i * PAGE_SIZE, 8)]
        else:
            with kmem.expect_violations("dma-api") as got:
                dev._resolve(addr, 8, False)
            assert "not synced" in got[0].message
    dma_iova_destroy(dev, state, 3 * PAGE_SIZE, DMA_TO_DEVICE)
    assert not dev.mappings and dev.iova_in_use == 0


def test_a_range_allocated_over_a_live_state_is_seen_as_the_scan_sees_it(folio):
    # A driver bug: dma_iova_try_alloc again on a state still in use.  The
    # table's entry for the state is replaced, links and all, so the
    # device's index of the old links must go with it.
    dev = Device()
    state = DmaIovaState()
    assert dma_iova_try_alloc(dev, state, folio, PAGE_SIZE)
    assert dma_iova_link(dev, state, folio, 0, PAGE_SIZE, DMA_TO_DEVICE) == 0
    dma_iova_sync(dev, state, 0, PAGE_SIZE)
    old = state.addr
    assert dev._resolve(old, 8, False) == [(folio, 8)]      # (the index is built)
    assert dma_iova_try_alloc(dev, state, folio, PAGE_SIZE)
    assert _outcome(dev._resolve, old, 8, False) == _outcome(dev._resolve_scan, old, 8, False)
    assert "unmapped" in _faults(dev, old, 8, False)
    dma_iova_free(dev, state)
    assert not dev.mappings


def test_a_range_the_cpu_owns_is_recorded_until_given_back(folio):
    dev = Device()
    bus = dma_map_phys(dev, folio, PAGE_SIZE, DMA_BIDIRECTIONAL)
    dev.mappings[("single", bus)].checked = True
    dma_sync_single_for_cpu(dev, bus, PAGE_SIZE, DMA_BIDIRECTIONAL)
    with kmem.expect_violations("dma-api") as got:
        assert dev._resolve(bus, 8, False) == [(folio, 8)]
    assert "CPU owns" in got[0].message
    dma_sync_single_for_device(dev, bus, PAGE_SIZE, DMA_BIDIRECTIONAL)
    assert dev._resolve(bus, 8, False) == [(folio, 8)]
    dma_unmap_phys(dev, bus, PAGE_SIZE, DMA_BIDIRECTIONAL)


# The index against the scan, over random histories.

def _outcome(fn, addr: int, n: int, write: bool) -> tuple:
    pos = S.mark()
    try:
        res = ("ok", fn(addr, n, write))
    except IommuFault:
        res = ("fault",)
    taken, _ = S.take(pos, ("iommu-fault", "dma-api"))
    return res, [(r.kind, r.message) for r in taken]


@pytest.mark.parametrize("iommu", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_the_index_answers_as_the_scan_does(iommu, seed):
    rng = np.random.default_rng(seed)
    order = 4
    f = kmem.alloc_pages(kmem.GFP_KERNEL, order)
    base_phys = kmem.page_to_phys(f)
    npages = 1 << order
    dev = Device(iommu=iommu)
    singles: list[tuple[int, int, int]] = []        # (bus, size, dir)
    states: list[tuple[DmaIovaState, int, int]] = []  # (state, linked bytes, dir)
    seen: list[int] = []                             # bus addresses ever handed out
    pos = S.mark()
    compared = 0
    for _ in range(400):
        op = rng.integers(0, 10)
        if op == 0 and len(singles) < 6:
            off = int(rng.integers(0, (npages - 1) * PAGE_SIZE))
            size = int(rng.integers(1, 2 * PAGE_SIZE))
            d = int(rng.integers(0, 3))
            bus = dma_map_phys(dev, base_phys + off, size, d)
            if ("single", bus) in dev.mappings:
                dev.mappings[("single", bus)].checked = True
                singles.append((bus, size, d))
                seen.append(bus)
        elif op == 1 and singles:
            bus, size, d = singles.pop(int(rng.integers(0, len(singles))))
            dma_unmap_phys(dev, bus, size, d)
        elif op == 2 and iommu and len(states) < 3:
            st = DmaIovaState()
            k = int(rng.integers(1, 5))
            first = int(rng.integers(0, npages - k))
            if dma_iova_try_alloc(dev, st, base_phys + first * PAGE_SIZE, k * PAGE_SIZE):
                d = int(rng.integers(0, 3))
                linked = 0
                for i in range(k):
                    if rng.random() < 0.8:
                        dma_iova_link(dev, st, base_phys + (first + i) * PAGE_SIZE,
                                      i * PAGE_SIZE, PAGE_SIZE, d)
                        linked = (i + 1) * PAGE_SIZE
                if rng.random() < 0.8:
                    dma_iova_sync(dev, st, 0, k * PAGE_SIZE)
                states.append((st, linked, d))
                seen.append(st.addr)
        elif op == 3 and states:
            st, linked, d = states.pop(int(rng.integers(0, len(states))))
            if linked and rng.random() < 0.5:
                dma_iova_unlink(dev, st, 0, PAGE_SIZE, d)   # part first
            dma_iova_destroy(dev, st, linked, d)
        elif op == 4 and singles:
            bus, size, d = singles[int(rng.integers(0, len(singles)))]
            (dma_sync_single_for_cpu if rng.random() < 0.5 else dma_sync_single_for_device)(
                dev, bus, size, d)
        elif seen:
            addr = seen[int(rng.integers(0, len(seen)))] + int(rng.integers(-64, 3 * PAGE_SIZE))
            n = int(rng.integers(1, 2 * PAGE_SIZE))
            write = bool(rng.integers(0, 2))
            assert _outcome(dev._resolve, addr, n, write) == \
                _outcome(dev._resolve_scan, addr, n, write), (addr, n, write)
            compared += 1
    for bus, size, d in singles:
        dma_unmap_phys(dev, bus, size, d)
    for st, linked, d in states:
        dma_iova_destroy(dev, st, linked, d)
    assert not dev.mappings
    S.take(pos, ("iommu-fault", "dma-api", "warn"))
    kmem.__free_pages(f, order)
    assert compared > 150


def test_iova_free_with_links_left_drops_them_from_the_device_view(folio):
    dev = Device()
    state = DmaIovaState()
    assert dma_iova_try_alloc(dev, state, folio, PAGE_SIZE)
    assert dma_iova_link(dev, state, folio, 0, PAGE_SIZE, DMA_TO_DEVICE) == 0
    dma_iova_sync(dev, state, 0, PAGE_SIZE)
    addr = state.addr
    assert dev._resolve(addr, 8, False) == [(folio, 8)]
    with kmem.expect_violations("dma-api"):
        dma_iova_free(dev, state)                    # links still in place
    assert "unmapped" in _faults(dev, addr, 8, False)


def test_clean_accesses_are_answered_by_the_index_alone(folio, monkeypatch):
    # The scan is the slow path for faults and records only: a lookup
    # that misses pieces would still answer right through it, slowly.
    dev = Device()
    a = dma_map_phys(dev, folio, PAGE_SIZE, DMA_TO_DEVICE)
    b = dma_map_phys(dev, folio + PAGE_SIZE, PAGE_SIZE, DMA_BIDIRECTIONAL)
    for x in (a, b):
        dev.mappings[("single", x)].checked = True
    monkeypatch.setattr(dev, "_resolve_scan", None)
    state = DmaIovaState()
    assert dma_iova_try_alloc(dev, state, folio, PAGE_SIZE)
    assert dev._resolve(a, 8, False) == [(folio, 8)]         # an index before the link
    assert dma_iova_link(dev, state, folio + 3 * PAGE_SIZE, 0, PAGE_SIZE, DMA_FROM_DEVICE) == 0
    dma_iova_sync(dev, state, 0, PAGE_SIZE)
    assert b == a + PAGE_SIZE
    assert dev._resolve(b + 100, 50, True) == [(folio + PAGE_SIZE + 100, 50)]
    assert dev._resolve(a + 10, PAGE_SIZE, False) == [(folio + 10, PAGE_SIZE - 10),
                                                       (folio + PAGE_SIZE, 10)]
    assert dev._resolve(state.addr + 8, 8, True) == [(folio + 3 * PAGE_SIZE + 8, 8)]
    monkeypatch.undo()
    dma_iova_destroy(dev, state, PAGE_SIZE, DMA_FROM_DEVICE)
    dma_unmap_phys(dev, a, PAGE_SIZE, DMA_TO_DEVICE)
    dma_unmap_phys(dev, b, PAGE_SIZE, DMA_BIDIRECTIONAL)


def test_unlinking_the_tail_of_an_iova_range_keeps_its_head(folio):
    dev = Device()
    state = DmaIovaState()
    assert dma_iova_try_alloc(dev, state, folio, 3 * PAGE_SIZE)
    for i in range(3):
        assert dma_iova_link(dev, state, folio + i * PAGE_SIZE, i * PAGE_SIZE, PAGE_SIZE,
                             DMA_TO_DEVICE) == 0
    dma_iova_sync(dev, state, 0, 3 * PAGE_SIZE)
    dma_iova_unlink(dev, state, PAGE_SIZE, 2 * PAGE_SIZE, DMA_TO_DEVICE)
    assert dev._resolve(state.addr, PAGE_SIZE, False) == [(folio, PAGE_SIZE)]
    assert "unmapped" in _faults(dev, state.addr + PAGE_SIZE, 16, False)
    with kmem.expect_violations("dma-api"):         # not linked any more
        dma_iova_unlink(dev, state, PAGE_SIZE, PAGE_SIZE, DMA_TO_DEVICE)
    dma_iova_destroy(dev, state, PAGE_SIZE, DMA_TO_DEVICE)
    assert not dev.mappings


def test_destroy_with_a_short_mapped_len_leaves_links_and_says_so(folio):
    dev = Device()
    state = DmaIovaState()
    assert dma_iova_try_alloc(dev, state, folio, 2 * PAGE_SIZE)
    for i in range(2):
        assert dma_iova_link(dev, state, folio + i * PAGE_SIZE, i * PAGE_SIZE, PAGE_SIZE,
                             DMA_TO_DEVICE) == 0
    with kmem.expect_violations("dma-api") as got:
        dma_iova_destroy(dev, state, PAGE_SIZE, DMA_TO_DEVICE)
    assert [r.message.split(": ", 2)[-1] for r in got] == \
        ["dma_iova_free with 1 link(s) still in place"]
    assert not dev.mappings and dev.iova_in_use == 0
