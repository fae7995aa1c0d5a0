"""kmap discipline, folio queues, xarray/page cache, RCU, and the ledger."""

import pytest

import kmem
from kmem import sanitizer


def test_kmap_local_nests_lifo():
    a, b = kmem.alloc_page(kmem.GFP_KERNEL), kmem.alloc_page(kmem.GFP_KERNEL)
    va = kmem.kmap_local_page(a)
    vb = kmem.kmap_local_page(b)
    assert va == kmem.page_address(a)
    kmem.kunmap_local(vb + 17)          # any address inside the mapping
    kmem.kunmap_local(va)
    assert not kmem.ledger.kmaps
    for p in (a, b):
        kmem.__free_page(p)


def test_kunmap_out_of_order_and_of_nothing():
    a, b = kmem.alloc_page(kmem.GFP_KERNEL), kmem.alloc_page(kmem.GFP_KERNEL)
    va = kmem.kmap_local_page(a)
    vb = kmem.kmap_local_page(b)
    with kmem.expect_violations("kmap-unbalanced"):
        kmem.kunmap_local(va)
    kmem.kunmap_local(vb)
    with kmem.expect_violations("kmap-unbalanced"):
        kmem.kunmap_local(va)
    for p in (a, b):
        kmem.__free_page(p)


def test_kmap_leak_and_atomic_context():
    page = kmem.alloc_page(kmem.GFP_KERNEL)
    vaddr = kmem.kmap_atomic(page)
    assert kmem.pagefault_disabled() and kmem.in_atomic()
    with kmem.expect_violations("sleep-in-atomic"):
        kmem.might_sleep()
    kmem.kunmap_atomic(vaddr)
    assert not kmem.in_atomic()
    with kmem.expect_violations("kmap-leak"):
        kmem.kmap_local_page(page)
    kmem.__free_page(page)


def test_memcpy_to_from_page():
    page = kmem.alloc_pages(kmem.GFP_KERNEL, 1)
    kmem.memcpy_to_page(page, 3896, b"z" * 200, 200)
    out = bytearray(200)
    kmem.memcpy_from_page(out, page, 3896, 200)
    assert out == b"z" * 200
    kmem.memzero_page(page, 3896, 100)
    kmem.memcpy_from_page(out, page, 3896, 200)
    assert out == bytes(100) + b"z" * 100
    # memzero_page() may cover the whole compound page, the copies one page.
    kmem.memzero_page(page, 4000, 200)
    with pytest.raises(kmem.KernelBug, match="run past the 4096-byte page"):
        kmem.memcpy_to_page(page, 4000, b"z" * 200, 200)
    with pytest.raises(kmem.KernelBug, match="run past"):
        kmem.memcpy_from_page(out, page, 4000, 200)
    with pytest.raises(kmem.KernelBug, match="run past"):
        kmem.memzero_page(kmem.folio_page(page, 1), 4000, 200)
    kmem.__free_pages(page, 1)


def test_folio_queue_slots_marks_and_chaining():
    folios = [kmem.folio_alloc(kmem.GFP_KERNEL, i % 3) for i in range(40)]
    head = kmem.folioq_from_folios(folios)
    assert kmem.folioq_count(head) == kmem.PAGEVEC_SIZE == 31 and kmem.folioq_full(head)
    assert head.next.prev is head and kmem.folioq_count(head.next) == 9
    assert kmem.folioq_folio(head, 4) is folios[4]
    assert kmem.folioq_folio_order(head, 4) == 1
    assert kmem.folioq_folio_size(head, 5) == 4 * 4096
    kmem.folioq_mark(head, 3)
    kmem.folioq_mark2(head, 3)
    assert kmem.folioq_is_marked(head, 3) and kmem.folioq_is_marked2(head, 3)
    kmem.folioq_unmark(head, 3)
    assert not kmem.folioq_is_marked(head, 3) and kmem.folioq_is_marked2(head, 3)
    kmem.folioq_clear(head, 3)
    assert kmem.folioq_folio(head, 3) is None and not kmem.folioq_is_marked2(head, 3)
    assert kmem.folioq_count(head) == 31
    with pytest.raises(ValueError, match="full"):
        kmem.folioq_append(head, folios[0])
    with pytest.raises(ValueError, match="slot"):
        kmem.folioq_folio(head, 31)
    q = kmem.FolioQueue()
    assert kmem.folioq_append_mark(q, folios[0]) == 0 and kmem.folioq_is_marked(q, 0)
    for f in folios:
        kmem.folio_put(f)


def test_xarray_and_page_cache():
    xa = kmem.xa_init()
    assert kmem.xa_empty(xa)
    kmem.xa_store(xa, 5, "five")
    kmem.xa_store(xa, 2, kmem.xa_mk_value(7))
    assert kmem.xa_load(xa, 5) == "five" and kmem.xa_load(xa, 3) is None
    assert kmem.xa_is_value(kmem.xa_load(xa, 2)) and kmem.xa_to_value(kmem.xa_load(xa, 2)) == 7
    assert [i for i, _ in kmem.xa_for_each(xa)] == [2, 5]
    assert kmem.xa_erase(xa, 5) == "five"
    with pytest.raises(ValueError):
        kmem.xa_store(xa, -1, "x")
    mapping = kmem.AddressSpace()
    big = kmem.folio_alloc(kmem.GFP_KERNEL, 2)
    assert kmem.filemap_add_folio(mapping, big, 4) == 0
    assert kmem.folio_ref_count(big) == 1 + 4            # the cache's, one per page
    assert kmem.filemap_get_folio(mapping, 7) is big and big.index == 4
    assert kmem.folio_ref_count(big) == 6                # the lookup's reference
    kmem.folio_put(big)
    assert [i for i, _ in kmem.xa_for_each(mapping.i_pages)] == [4]
    other = kmem.folio_alloc(kmem.GFP_KERNEL, 2)
    with pytest.raises(kmem.KernelBug, match="not a multiple"):   # VM_BUG_ON_FOLIO
        kmem.filemap_add_folio(mapping, other, 6)
    assert kmem.filemap_add_folio(mapping, other, 4) == -kmem.errno.EEXIST
    assert other.mapping is None
    kmem.filemap_remove_folio(big)
    assert kmem.folio_ref_count(big) == 1
    assert kmem.filemap_get_folio(mapping, 4) == -kmem.errno.ENOENT
    kmem.folio_put(big)
    kmem.folio_put(other)


def test_the_page_cache_keeps_a_folio_its_allocator_dropped():
    mapping = kmem.AddressSpace()
    folio = kmem.folio_alloc(kmem.GFP_KERNEL, 1)
    assert kmem.filemap_add_folio(mapping, folio, 2) == 0
    kmem.folio_put(folio)                                # the allocation's reference
    assert not folio.freed and kmem.folio_ref_count(folio) == 2
    found = kmem.filemap_get_folio(mapping, 3)
    assert found is folio
    kmem.filemap_remove_folio(folio)                     # the lookup's keeps it alive
    assert not folio.freed
    kmem.folio_put(found)
    assert folio.freed


def test_sleeping_under_rcu_is_recorded():
    xa = kmem.xa_init()
    # A slab with a free object: kmalloc may sleep whether or not this call
    # would need a new page (the result must not depend on earlier tests).
    keep = kmem.kmalloc(8, kmem.GFP_KERNEL)
    kmem.kfree(kmem.kmalloc(8, kmem.GFP_KERNEL))
    with kmem.rcu_read_section():
        assert kmem.rcu_read_lock_held()
        kmem.xa_store(xa, 1, "ok", kmem.GFP_ATOMIC)       # atomic: fine
        with kmem.expect_violations("sleep-in-atomic"):
            kmem.xa_store(xa, 2, "no", kmem.GFP_KERNEL)
        with kmem.expect_violations("sleep-in-atomic"):
            kmem.kmalloc(8, kmem.GFP_KERNEL)
    a = kmem.kmalloc(8, kmem.GFP_KERNEL)   # outside RCU: fine
    kmem.kfree(a)
    kmem.kfree(keep)
    with kmem.expect_violations("warn"):
        kmem.rcu_read_unlock()


def test_expect_violations_fails_when_nothing_is_recorded():
    with pytest.raises(AssertionError, match="were not made"), kmem.expect_violations("pin-leak"):
        pass


def test_records_carry_a_stack_summary():
    pos = sanitizer.mark()
    kmem.report("warn", "a message")
    rec = sanitizer.since(pos)[0]
    assert rec.kind == "warn" and "test_records_carry_a_stack_summary" in rec.where
    sanitizer.take(pos, ("warn",))


def test_warn_and_bug():
    with kmem.expect_violations("warn"), pytest.warns(kmem.KernelWarning):
        assert kmem.WARN(True, "odd") is True
    assert kmem.WARN(False, "fine") is False
    with pytest.raises(kmem.KernelBug, match="boom"):
        kmem.BUG_ON(True, "boom")
    kmem.BUG_ON(False)


@pytest.mark.expect_violation("double-free")
def test_marker_declares_expected_records():
    a = kmem.kmalloc(8, kmem.GFP_KERNEL)
    kmem.kfree(a)
    kmem.kfree(a)
