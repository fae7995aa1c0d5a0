"""Physical memory, struct page/folio, references (DESIGN §5)."""

import itertools

import numpy as np
import pytest

import kmem
from kmem import page_alloc
from kmem.errno import KernelBug


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_memory_is_allocated_lazily():
    banks_before = len(page_alloc._banks)
    rss_before = rss_bytes()
    # 1 GiB of simulated memory in order-10 blocks, never touched.
    blocks = [kmem.alloc_pages(kmem.GFP_KERNEL, 10) for _ in range(256)]
    assert all(b is not None for b in blocks)
    assert len(page_alloc._banks) - banks_before >= 15
    assert rss_bytes() - rss_before < 64 << 20
    # Deliberately kept: freeing would poison (touch) the whole gigabyte.


def test_alloc_pages_is_a_naturally_aligned_folio():
    page = kmem.alloc_pages(kmem.GFP_KERNEL, 3)
    assert isinstance(page, kmem.Folio)
    assert page.pfn % 8 == 0
    assert kmem.folio_nr_pages(page) == 8 and kmem.folio_size(page) == 8 * kmem.PAGE_SIZE
    tail = kmem.folio_page(page, 5)
    assert tail.pfn == page.pfn + 5
    assert kmem.page_folio(tail) is page
    assert kmem.pfn_to_page(page.pfn + 5) is tail
    assert kmem.phys_to_page(kmem.page_to_phys(tail)) is tail
    assert kmem.virt_to_page(kmem.page_address(tail)) is tail
    assert kmem.__pa(kmem.page_address(tail)) == kmem.page_to_phys(tail)
    assert kmem.__va(kmem.page_to_phys(tail)) == kmem.page_address(tail)
    assert kmem.virt_addr_valid(kmem.page_address(tail))
    with pytest.raises(ValueError):
        kmem.folio_page(page, 8)
    kmem.__free_pages(page, 3)


def test_consecutive_single_pages_are_physically_scattered(monkeypatch):
    # Freshly carved pages, whatever earlier tests freed (pages freed back
    # come out in the order they were freed, which may well be ascending).
    from kmem import page_alloc

    monkeypatch.setattr(page_alloc, "_free_lists",
                        [[] for _ in range(kmem.MAX_PAGE_ORDER + 1)])
    pages = [kmem.alloc_page(kmem.GFP_KERNEL) for _ in range(16)]
    assert all(b.pfn != a.pfn + 1 for a, b in itertools.pairwise(pages))
    for p in pages:
        kmem.__free_page(p)


def test_gfp_zero_and_poison_on_free():
    page = kmem.alloc_page(kmem.GFP_KERNEL | kmem.__GFP_ZERO)
    addr = kmem.page_address(page)
    assert kmem.read_virt(addr, 4096) == bytes(4096)
    kmem.write_virt(addr, b"\x11" * 4096)
    kmem.__free_page(page)
    assert page.freed
    with kmem.expect_violations("use-after-free"):
        data = kmem.gather(kmem.page_views(page, 0, 16))
    assert not data.any()  # the stale access sees scratch, not someone's data


def test_refcount_and_double_free():
    page = kmem.alloc_page(kmem.GFP_KERNEL)
    kmem.get_page(page)
    assert kmem.page_count(page) == 2
    kmem.put_page(page)
    assert not page.freed
    kmem.put_page(page)
    assert page.freed
    with pytest.raises(kmem.KernelBug, match="put_page_testzero"):
        kmem.put_page(page)


def test_free_pages_with_wrong_order_bugs():
    page = kmem.alloc_pages(kmem.GFP_KERNEL, 2)
    with pytest.raises(kmem.KernelBug, match="free_pages_prepare"):
        kmem.__free_pages(page, 1)
    assert not page.freed
    kmem.__free_pages(page, 2)


def test_bad_order_and_bad_pfn():
    with kmem.expect_violations("warn"):     # WARN_ON_ONCE_GFP, then NULL
        assert kmem.alloc_pages(kmem.GFP_KERNEL, 11) is None
    with pytest.raises(ValueError, match="order"):
        kmem.alloc_pages(kmem.GFP_KERNEL, -1)
    with pytest.raises(KernelBug):
        kmem.pfn_to_page(1 << 29)


def test_fail_allocations_injects_enomem():
    with kmem.fail_allocations(after=1, times=1):
        first = kmem.alloc_page(kmem.GFP_KERNEL)
        second = kmem.alloc_page(kmem.GFP_KERNEL)
        third = kmem.alloc_page(kmem.GFP_KERNEL)
    assert first is not None and second is None and third is not None
    kmem.__free_page(first)
    kmem.__free_page(third)
    with pytest.raises(ValueError):
        kmem.fail_allocations(after=-1)


def test_page_kind_allows_refs_and_cpu_access():
    page = kmem.alloc_page(kmem.GFP_KERNEL)
    kmem.get_page(page)
    kmem.put_page(page)
    views = kmem.page_views(page, 100, 200, write=True)
    views[0][:] = 7
    assert kmem.read_virt(kmem.page_address(page) + 100, 200) == b"\x07" * 200
    kmem.__free_page(page)


def test_page_views_merge_physically_contiguous_ranges(monkeypatch):
    # A freshly carved block, so that the frames after it are free whatever
    # earlier tests left allocated.
    from kmem import page_alloc

    monkeypatch.setattr(page_alloc, "_free_lists",
                        [[] for _ in range(kmem.MAX_PAGE_ORDER + 1)])
    folio = kmem.folio_alloc(kmem.GFP_KERNEL, 2)
    views = kmem.page_views(folio, 100, 3 * 4096)
    assert len(views) == 1 and len(views[0]) == 3 * 4096
    # offset beyond PAGE_SIZE starts in a later frame, as sg entries may.
    kmem.write_virt(kmem.page_address(folio) + 4096 + 8, b"abc")
    assert kmem.gather(kmem.page_views(folio, 4096 + 8, 3)).tobytes() == b"abc"
    # A range running past the allocation into free frames is recorded.
    with kmem.expect_violations("use-after-free"):
        kmem.page_views(folio, 3 * 4096, 2 * 4096)
    kmem.folio_put(folio)


def test_device_memory_is_not_cpu_accessible():
    dev = kmem.alloc_device_pages(1)
    assert dev.kind is kmem.Kind.DEVICE
    with kmem.expect_violations("device-access"):
        views = kmem.page_views(dev, 0, 64, write=True)
        views[0][:] = 1
    with kmem.expect_violations("device-access"):
        assert not kmem.gather(kmem.page_views(dev, 0, 64)).any()
    with kmem.expect_violations("ref-forbidden"):
        kmem.get_page(dev)
    kmem.put_page(dev)
    with kmem.expect_violations("device-access"):
        vaddr = kmem.kmap_local_page(dev)
        kmem.kunmap_local(vaddr)
    with pytest.raises(KernelBug):
        kmem.virt_to_page(kmem.page_address(dev))
    kmem.free_device_pages(dev)


def test_copy_views_shapes():
    a = np.arange(100, dtype=np.uint8)
    b = np.zeros(100, dtype=np.uint8)
    kmem.copy_views([b[:30], b[30:]], [a[:10], a[10:70], a[70:]])
    assert (a == b).all()
    c = np.zeros(100, dtype=np.uint8)
    kmem.copy_views([c], [a[:50], a[50:]])
    assert (a == c).all()
    with pytest.raises(TypeError):
        kmem.buffer_views(3.0, 4)
    with pytest.raises(TypeError):
        kmem.buffer_views(b"abcd", 4, write=True)
    with pytest.raises(ValueError, match="shorter"):
        kmem.buffer_views(bytearray(3), 4)
    with pytest.raises(TypeError):
        kmem.buffer_views(np.zeros(4, dtype=np.int32), 4)
