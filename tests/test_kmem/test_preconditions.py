"""The kernel's own checks on page, folio, page-cache, xarray, kmap and GUP
calls, one test each (the table is kmem/preconditions.md): where the kernel
BUGs the model raises KernelBug, where it WARNs the ledger has the record
and the call returns what the kernel's returns."""

import pytest

import kmem
from kmem import sanitizer
from kmem.errno import EINVAL
from kmem.highmem import KM_MAX_IDX

PAGE = kmem.PAGE_SIZE


@pytest.fixture
def mm():
    mm = kmem.mm_alloc()
    with kmem.use_mm(mm):
        yield mm


def test_alloc_order_above_max_warns_unless_nowarn_and_fails():
    too_big = kmem.MAX_PAGE_ORDER + 1
    with kmem.expect_violations("warn") as got:
        assert kmem.alloc_pages(kmem.GFP_KERNEL, too_big) is None
        assert kmem.folio_alloc(kmem.GFP_KERNEL, too_big) is None
        assert kmem.__get_free_pages(kmem.GFP_KERNEL, too_big) == 0
    assert len(got) == 3 and all("MAX_PAGE_ORDER" in r.message for r in got)
    pos = sanitizer.mark()
    assert kmem.alloc_pages(kmem.GFP_KERNEL | kmem.__GFP_NOWARN, too_big) is None
    assert sanitizer.since(pos) == []


def test_folio_put_and_put_page_without_a_reference_bug():
    folio = kmem.folio_alloc(kmem.GFP_KERNEL, 1)
    kmem.folio_put(folio)
    assert folio.freed
    with pytest.raises(kmem.KernelBug, match=r"page_ref_count\(page\) == 0"):
        kmem.folio_put(folio)
    with pytest.raises(kmem.KernelBug, match="put_page_testzero"):
        kmem.put_page(folio)


def test_folio_get_on_a_freed_folio_bugs():
    page = kmem.alloc_page(kmem.GFP_KERNEL)
    kmem.put_page(page)
    with pytest.raises(kmem.KernelBug, match="folio_ref_zero_or_close_to_overflow"):
        kmem.folio_get(page)
    with pytest.raises(kmem.KernelBug, match="folio_ref_zero_or_close_to_overflow"):
        kmem.get_page(page)


def test_get_page_on_slab_warns_and_takes_no_reference():
    addr = kmem.kmalloc(64, kmem.GFP_KERNEL)
    page = kmem.virt_to_page(addr)
    before = kmem.page_count(page)
    with kmem.expect_violations("ref-forbidden"):
        kmem.get_page(page)
    assert kmem.page_count(page) == before
    kmem.put_page(page)                 # leaves a slab page alone
    assert kmem.page_count(page) == before and not page.head.freed
    kmem.kfree(addr)


def test_free_pages_of_a_tail_page_bugs():
    folio = kmem.alloc_pages(kmem.GFP_KERNEL, 1)
    with pytest.raises(kmem.KernelBug, match="tail page"):
        kmem.__free_pages(kmem.folio_page(folio, 1), 0)
    assert not folio.freed
    kmem.__free_pages(folio, 1)


def test_free_pages_order_is_checked_only_by_the_last_reference():
    folio = kmem.alloc_pages(kmem.GFP_KERNEL, 2)
    kmem.get_page(folio)
    kmem.__free_pages(folio, 1)         # not the last reference: nothing checks
    assert kmem.page_count(folio) == 1
    with pytest.raises(kmem.KernelBug, match="compound_order"):
        kmem.__free_pages(folio, 1)
    kmem.__free_pages(folio, 2)
    assert folio.freed


def test_free_pages_outside_the_direct_map_bugs():
    addr = kmem.vmalloc(PAGE)
    with pytest.raises(kmem.KernelBug, match="virt_addr_valid"):
        kmem.free_pages(addr, 0)
    kmem.vfree(addr)
    kmem.free_pages(0, 3)               # NULL is ignored


def test_gup_internal_flags_are_refused(mm):
    from kmem.gup import FOLL_GET

    base = mm.mmap(PAGE)
    for gup in (kmem.get_user_pages, kmem.pin_user_pages_fast):
        with kmem.expect_violations("warn"):
            assert gup(base, 1, kmem.FOLL_PIN) == (-EINVAL, [])
    with kmem.expect_violations("warn"):             # FOLL_GET and FOLL_PIN together
        assert kmem.pin_user_pages(base, 1, FOLL_GET) == (-EINVAL, [])
    n, pages = kmem.get_user_pages(base, 1, FOLL_GET)  # what get_user_pages sets anyway
    assert n == 1
    kmem.put_page(pages[0])
    mm.munmap(base, PAGE)


def test_longterm_without_pin_is_refused(mm):
    base = mm.mmap(PAGE)
    for gup in (kmem.get_user_pages, kmem.get_user_pages_fast):
        with kmem.expect_violations("warn"):
            assert gup(base, 1, kmem.FOLL_LONGTERM) == (-EINVAL, [])
    n, pages = kmem.pin_user_pages(base, 1, kmem.FOLL_LONGTERM)
    assert n == 1
    kmem.unpin_user_pages(pages, n)
    mm.munmap(base, PAGE)


def test_gup_fast_refuses_flags_it_does_not_take(mm):
    from kmem.gup import FOLL_NOWAIT

    base = mm.mmap(PAGE)
    for gup in (kmem.get_user_pages_fast, kmem.pin_user_pages_fast):
        with kmem.expect_violations("warn"):
            assert gup(base, 1, FOLL_NOWAIT) == (-EINVAL, [])
    n, pages = kmem.get_user_pages(base, 1, FOLL_NOWAIT)     # the slow path takes it
    assert n == 1
    kmem.put_page(pages[0])
    mm.munmap(base, PAGE)


def test_unpin_user_pages_with_an_errno_count_warns_and_unpins_nothing(mm):
    base = mm.mmap(PAGE)
    _, pages = kmem.pin_user_pages(base, 1, 0)
    with kmem.expect_violations("warn"):
        kmem.unpin_user_pages(pages, -kmem.errno.EFAULT)
    assert kmem.folio_maybe_dma_pinned(pages[0].head)
    kmem.unpin_user_pages([None, *pages], 2)   # NULL entries are skipped
    assert not kmem.folio_maybe_dma_pinned(pages[0].head)
    mm.munmap(base, PAGE)


def test_unpin_counts_past_the_array_and_null_entries_to_dirty(mm):
    base = mm.mmap(PAGE)
    _, pages = kmem.pin_user_pages(base, 1, 0)
    with pytest.raises(ValueError, match="past the end"):
        kmem.unpin_user_pages(pages, 2)
    with pytest.raises(kmem.KernelBug, match="NULL page"):
        kmem.unpin_user_pages_dirty_lock([None], 1, True)
    with pytest.raises(ValueError, match="npages"):
        kmem.unpin_user_pages_dirty_lock(pages, -1, True)
    kmem.unpin_user_pages_dirty_lock(pages, 1, True)
    assert not kmem.folio_maybe_dma_pinned(pages[0].head)
    mm.munmap(base, PAGE)


def test_xa_mk_value_outside_a_long_warns_and_still_makes_the_entry():
    with kmem.expect_violations("warn"):
        entry = kmem.xa_mk_value(-1)
    assert kmem.xa_is_value(entry) and kmem.xa_to_value(entry) == -1
    with kmem.expect_violations("warn"):
        kmem.xa_mk_value(1 << 63)
    pos = sanitizer.mark()
    kmem.xa_mk_value((1 << 63) - 1)
    assert sanitizer.since(pos) == []


def test_xa_store_range_answers_with_an_error_entry():
    xa = kmem.XArray()
    ret = kmem.xa_store_range(xa, 5, 4, "x")
    assert kmem.xa_is_err(ret) and kmem.xa_err(ret) == -EINVAL and kmem.xa_empty(xa)
    with kmem.expect_violations("warn"):
        ret = kmem.xa_store_range(xa, 0, 1, ret)    # an error entry is internal
    assert kmem.xa_err(ret) == -EINVAL and kmem.xa_empty(xa)
    assert kmem.xa_store_range(xa, 0, 1, "x") is None and kmem.xa_err(None) == 0
    assert kmem.xa_load(xa, 1) == "x"


def test_filemap_remove_folio_not_in_the_cache_bugs():
    folio = kmem.folio_alloc(kmem.GFP_KERNEL, 0)
    with pytest.raises(kmem.KernelBug, match="not in the page cache"):
        kmem.filemap_remove_folio(folio)
    mapping = kmem.AddressSpace()
    assert kmem.filemap_add_folio(mapping, folio, 3) == 0
    kmem.filemap_remove_folio(folio)
    assert kmem.filemap_get_folio(mapping, 3) == -kmem.errno.ENOENT
    with pytest.raises(kmem.KernelBug, match="not in the page cache"):
        kmem.filemap_remove_folio(folio)
    kmem.folio_put(folio)


def test_kmap_local_nests_at_most_km_max_idx_minus_one():
    page = kmem.alloc_page(kmem.GFP_KERNEL)
    glob = kmem.kmap(page)                       # kmap() takes no local slot
    addrs = [kmem.kmap_local_page(page) for _ in range(KM_MAX_IDX - 2)]
    addrs.append(kmem.kmap_atomic(page))         # atomic mappings share the stack
    with pytest.raises(kmem.KernelBug, match="KM_MAX_IDX"):
        kmem.kmap_local_page(page)
    kmem.kunmap_atomic(addrs.pop())
    for vaddr in reversed(addrs):
        kmem.kunmap_local(vaddr)
    kmem.kunmap(page)
    assert glob and not kmem.ledger.kmaps
    kmem.put_page(page)


def test_kunmap_releases_kmap_in_any_order_and_records_a_stray_one():
    a, b = kmem.alloc_page(kmem.GFP_KERNEL), kmem.alloc_page(kmem.GFP_KERNEL)
    kmem.kmap(a)
    local = kmem.kmap_local_page(b)
    kmem.kmap(b)
    pos = sanitizer.mark()
    kmem.kunmap(a)                               # not a stack: no record
    kmem.kunmap_local(local)                     # kmap(b) is not in the way
    kmem.kunmap(b)
    assert sanitizer.since(pos) == [] and not kmem.ledger.kmaps
    with kmem.expect_violations("kmap-unbalanced"):
        kmem.kunmap(a)
    for p in (a, b):
        kmem.put_page(p)


def test_the_table_names_tests_that_exist():
    import re
    from pathlib import Path

    tests = Path(__file__).parent.parent
    table = (tests.parent / "kmem" / "preconditions.md").read_text(encoding="utf-8")
    refs = re.findall(r"`(?:([\w/]+\.py)::)?(test_\w+)`", table)
    assert len(refs) > 20
    for path, name in refs:
        where = Path(__file__) if not path else next(
            p for p in (tests / path, tests / "test_kmem" / path) if p.exists())
        assert f"def {name}(" in where.read_text(encoding="utf-8"), f"{path}::{name}"
