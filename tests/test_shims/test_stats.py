"""kmem cost counters: off unless asked, counted at the primitives."""

from __future__ import annotations

import numpy as np
import pytest

import kmem
from kmem import stats

PAGE = kmem.PAGE_SIZE


def test_off_by_default_and_after_the_block():
    assert stats.ON is False
    with kmem.cost_counters() as c:
        assert stats.ON is True
    assert stats.ON is False
    a = kmem.kmalloc(64, kmem.GFP_KERNEL)
    kmem.kfree(a)
    assert c.allocations == 0                    # nothing counted after the block


def test_off_even_when_the_block_raises():
    with pytest.raises(RuntimeError), kmem.cost_counters():
        raise RuntimeError
    assert stats.ON is False and stats._active == []


def test_copies_kmaps_allocations():
    page = kmem.alloc_page(kmem.GFP_KERNEL)
    buf = np.arange(100, dtype=np.uint8)
    with kmem.cost_counters() as c:
        kmem.memcpy_to_page(page, 10, buf, 100)          # one kmap + one copy
        a = kmem.kmalloc(300, kmem.GFP_KERNEL)
        kmem.memcpy(a, kmem.page_address(page) + 10, 100)
        got = kmem.gather(kmem.page_views(page, 10, 50) + kmem.virt_views(a, 50))
    assert got[:50].tobytes() == buf[:50].tobytes()
    assert (c.copies, c.bytes_copied) == (3, 300)
    assert (c.kmaps, c.kunmaps) == (1, 1)
    assert (c.allocations, c.alloc_bytes) == (1, 300)
    kmem.kfree(a)
    kmem.put_page(page)


def test_refs_and_pins():
    mm = kmem.current_mm()
    base = mm.mmap(3 * PAGE)
    page = kmem.alloc_page(kmem.GFP_KERNEL)
    with kmem.cost_counters() as c:
        n, pages = kmem.pin_user_pages_fast(base, 3, kmem.FOLL_WRITE)
        kmem.get_page(page)
    assert n == 3 and c.pins == 3 and c.refs == 1
    kmem.unpin_user_pages(pages, 3)
    kmem.put_page(page)
    kmem.put_page(page)
    mm.munmap(base, 3 * PAGE)


def test_nested_contexts_see_inner_events():
    with kmem.cost_counters() as outer:
        kmem.kfree(kmem.kmalloc(8, kmem.GFP_KERNEL))
        with kmem.cost_counters() as inner:
            kmem.kfree(kmem.kmalloc(16, kmem.GFP_KERNEL))
    assert (outer.allocations, inner.allocations) == (2, 1)
    assert outer.alloc_bytes == 24


def test_classified_allocations():
    kmem.classify_allocations({__name__: "descriptor"})
    try:
        with kmem.cost_counters() as c:
            a = kmem.kmalloc_array(4, 32, kmem.GFP_KERNEL)   # through kmem helpers too
            stats.note_bounce(16)
            stats.note_descriptor(48)
            stats.note_dma_segments(3)
    finally:
        kmem.classify_allocations({__name__: ""})
    assert (c.descriptors, c.descriptor_bytes) == (2, 128 + 48)
    assert (c.bounce_buffers, c.bounce_bytes) == (1, 16)
    assert c.dma_segments == 3
    kmem.kfree(a)
    with pytest.raises(ValueError):
        kmem.classify_allocations({"x": "weird"})
    d = c.as_dict()
    assert d["descriptor_bytes"] == 176 and set(d) >= {"copies", "pins", "kmaps"}
