"""Page extraction (pins for user memory, nothing for kernel memory) and
get_pages (references)."""

from __future__ import annotations

import numpy as np
import pytest

import kmem
from iovcrypto import (
    ITER_ALLOW_P2PDMA,
    ITER_DEST,
    ITER_SOURCE,
    bio_vec,
    iov_iter,
    iov_iter_advance,
    iov_iter_bvec,
    iov_iter_discard,
    iov_iter_extract_pages,
    iov_iter_extract_will_pin,
    iov_iter_get_pages2,
    iov_iter_get_pages_alloc2,
    iov_iter_init,
    iov_iter_kvec,
    iov_iter_ubuf,
    iov_iter_xarray,
    iovec,
    kvec,
)

from .layouts import make

PAGE = kmem.PAGE_SIZE
EFAULT = -kmem.errno.EFAULT


def _drain(it, maxpages=64):
    """Extract everything; returns the runs as (len, pages, offset0)."""
    runs = []
    while it.count:
        ret, pages, off = iov_iter_extract_pages(it, None, 1 << 30, maxpages)
        assert ret > 0
        runs.append((ret, pages, off))
    return runs


def test_user_pages_are_pinned_and_must_be_unpinned():
    mm = kmem.current_mm()
    base = mm.mmap(4 * PAGE)
    it = iov_iter()
    iov = [iovec(base + 100, 0), iovec(base + 100, 2 * PAGE), iovec(base, 10)]
    iov_iter_init(it, ITER_DEST, iov, 3, 2 * PAGE + 10)
    assert iov_iter_extract_will_pin(it)
    ret, pages, off = iov_iter_extract_pages(it, None, 1 << 20, 16)
    assert (ret, off, len(pages)) == (2 * PAGE, 100, 3)      # first non-empty segment only
    assert all(kmem.folio_maybe_dma_pinned(p.head) for p in pages)
    assert (it.vec_idx, it.iov_offset, it.count) == (2, 0, 10)
    for p in pages:
        kmem.unpin_user_page(p)
    assert not any(kmem.folio_maybe_dma_pinned(p.head) for p in pages)
    ret, pages, off = iov_iter_extract_pages(it, [None] * 4, 5, 4)
    assert (ret, off, pages[1:]) == (5, 0, [None] * 3)
    with kmem.expect_violations("pin-leak"):          # forgetting to unpin is caught
        pass
    mm.munmap(base, 4 * PAGE)


def test_unpinning_what_was_not_pinned_is_caught():
    lay = make("bvec", [100], ITER_DEST)
    ret, pages, _ = iov_iter_extract_pages(lay.it, None, 100, 1)
    assert ret == 100 and not iov_iter_extract_will_pin(lay.it)
    with kmem.expect_violations("unpin-unpinned"):
        kmem.unpin_user_page(pages[0])
    lay.free()


def test_user_extraction_flags_and_faults():
    mm = kmem.current_mm()
    ro = mm.mmap(PAGE, kmem.PROT_READ)
    it = iov_iter()
    iov_iter_ubuf(it, ITER_DEST, ro, 10)                 # DEST pins for writing
    assert iov_iter_extract_pages(it, None, 10, 1)[0] == EFAULT and it.count == 10
    iov_iter_ubuf(it, ITER_SOURCE, ro, 10)
    ret, pages, _ = iov_iter_extract_pages(it, None, 10, 1)
    assert ret == 10
    kmem.unpin_user_page(pages[0])
    fresh = mm.mmap(PAGE)
    iov_iter_ubuf(it, ITER_SOURCE, fresh, 10)
    it.nofault = True                                    # FOLL_NOFAULT: not present yet
    assert iov_iter_extract_pages(it, None, 10, 1)[0] == EFAULT
    dev = kmem.alloc_device_pages(0)
    daddr = mm.mmap_device(dev)
    iov_iter_ubuf(it, ITER_SOURCE, daddr, PAGE)
    assert iov_iter_extract_pages(it, None, PAGE, 1)[0] == -kmem.errno.EREMOTEIO
    ret, pages, _ = iov_iter_extract_pages(it, None, PAGE, 1, ITER_ALLOW_P2PDMA)
    assert ret == PAGE and pages[0].head is dev
    kmem.unpin_user_page(pages[0])
    # A run that faults part way is cut at the fault.
    base = mm.mmap(3 * PAGE)
    mm.munmap(base + PAGE, PAGE)
    iov_iter_ubuf(it, ITER_SOURCE, base + 10, 3 * PAGE - 10)
    ret, pages, off = iov_iter_extract_pages(it, None, 1 << 20, 8)
    assert (ret, off) == (PAGE - 10, 10)
    kmem.unpin_user_page(pages[0])
    for addr, n in ((ro, PAGE), (fresh, PAGE), (daddr, PAGE), (base, 3 * PAGE)):
        mm.munmap(addr, n)
    kmem.free_device_pages(dev)


def test_kvec_extraction_direct_map_and_vmalloc():
    addr = kmem.vmalloc(3 * PAGE)
    small = kmem.kmalloc(100, kmem.GFP_KERNEL)
    it = iov_iter()
    iov_iter_kvec(it, ITER_SOURCE, [kvec(small, 0), kvec(addr + 5, 2 * PAGE), kvec(small, 100)],
                  3, 2 * PAGE + 100)
    ret, pages, off = iov_iter_extract_pages(it, None, 1 << 20, 8)
    assert (ret, off) == (2 * PAGE, 5)
    assert pages == [kmem.vmalloc_to_page(addr + k * PAGE) for k in range(3)]
    ret, pages, off = iov_iter_extract_pages(it, None, 1 << 20, 8)
    assert (ret, off, pages) == (100, small & 0xFFF, [kmem.virt_to_page(small)])
    assert iov_iter_extract_pages(it, None, 10, 8)[0] == 0
    kmem.vfree(addr)
    kmem.kfree(small)


def test_bvec_extraction_joins_pieces_only_at_page_boundaries():
    a = kmem.alloc_pages(kmem.GFP_KERNEL, 1)
    b = kmem.alloc_page(kmem.GFP_KERNEL)
    c = kmem.alloc_page(kmem.GFP_KERNEL)
    # bio_vec(page, len, offset): 96 bytes to the end of a's first page and
    # all of its second; all of b; then c at offset 8, which cannot join.
    bv = [bio_vec(a, 96 + PAGE, 4000), bio_vec(b, PAGE, 0), bio_vec(c, 50, 8)]
    it = iov_iter()
    iov_iter_bvec(it, ITER_SOURCE, bv, 3, 96 + 2 * PAGE + 50)
    ret, pages, off = iov_iter_extract_pages(it, None, 1 << 20, 8)
    assert (ret, off, pages) == (96 + 2 * PAGE, 4000, [a, kmem.folio_page(a, 1), b])
    assert (it.vec_idx, it.iov_offset) == (2, 0)
    it2 = iov_iter()
    iov_iter_bvec(it2, ITER_SOURCE, bv, 3, 96 + 2 * PAGE + 50)
    assert iov_iter_extract_pages(it2, None, 1 << 20, 2)[0] == 96 + PAGE    # maxpages
    assert iov_iter_extract_pages(it2, None, 100, 8)[:2] == (100, [b])      # maxsize
    ret, pages, off = iov_iter_extract_pages(it, None, 1 << 20, 8)
    assert (ret, off, pages) == (50, 8, [c])
    for p, o in ((a, 1), (b, 0), (c, 0)):
        kmem.__free_pages(p, o)


def test_folioq_extraction_page_by_page():
    lay = make("folioq", [], ITER_DEST, orders=[1] + [0] * 31, start=PAGE + 7, slack=1)
    runs = _drain(lay.it, maxpages=5)
    assert runs[0][0] == 5 * PAGE - 7 and runs[0][2] == 7
    assert sum(r[0] for r in runs) == lay.count
    assert runs[0][1][0] is kmem.folio_page(lay.extra["folioq"].folios[0], 1)
    assert lay.extra["folioq"].next.folios[0] in {p for r in runs for p in r[1]}
    lay.free()


def test_xarray_extraction_and_the_hole_quirk():
    x = make("xarray", [], ITER_DEST, orders=[1, 0], start=100)
    ret, pages, off = iov_iter_extract_pages(x.it, None, 1 << 20, 8)
    assert (ret, off, len(pages)) == (3 * PAGE - 100, 100, 3)
    x.free()
    mapping = kmem.AddressSpace()
    f = kmem.folio_alloc(kmem.GFP_KERNEL, 0)
    kmem.filemap_add_folio(mapping, f, 1)                  # index 0 is a hole
    it = iov_iter()
    kmem_xa = mapping.i_pages
    iov_iter_xarray(it, ITER_DEST, kmem_xa, 0, 2 * PAGE)
    assert iov_iter_extract_pages(it, None, 1 << 20, 8)[0] == 0
    # At a non-zero offset: nothing (fixed in 2026); before the fix the
    # unsigned arithmetic wrapped and the whole request was reported, with
    # no page (kernel quirk).
    iov_iter_xarray(it, ITER_DEST, kmem_xa, 10, 2 * PAGE)
    assert iov_iter_extract_pages(it, None, 1 << 20, 8)[0] == 0 and it.count == 2 * PAGE
    with kmem.kernel_quirks("iov_iter_extract_xarray_pages_underflow_v6_3_to_v7_1"):
        ret, pages, _ = iov_iter_extract_pages(it, None, 1 << 20, 8)
    assert ret == 2 * PAGE and not any(pages) and it.count == 0
    kmem.filemap_remove_folio(f)
    kmem.folio_put(f)


def test_discard_and_argument_errors():
    it = iov_iter()
    iov_iter_discard(it, ITER_DEST, 10)
    assert iov_iter_extract_pages(it, None, 10, 1)[0] == EFAULT
    assert iov_iter_extract_pages(it, None, 0, 1)[0] == 0
    with pytest.raises(ValueError):
        iov_iter_extract_pages(it, [None], 10, 2)
    # Without a page array too (the drivers' call has its own quick check).
    for bad, exc in (((it, None, -1, 1), ValueError), ((it, None, 10, -1), ValueError),
                     ((it, None, True, 1), TypeError), ((it, None, 10, 1.0), TypeError),
                     ((object(), None, 10, 1), TypeError)):
        with pytest.raises(exc):
            iov_iter_extract_pages(*bad)
    lay = make("kvec", [10], ITER_DEST)
    with kmem.fail_allocations():
        assert iov_iter_extract_pages(lay.it, None, 10, 1)[0] == -kmem.errno.ENOMEM
    with kmem.expect_violations("warn"):
        assert iov_iter_extract_pages(lay.it, [], 10, 0)[0] == -kmem.errno.ENOMEM
    lay.free()


def test_get_pages_takes_references():
    mm = kmem.current_mm()
    base = mm.mmap(2 * PAGE)
    it = iov_iter()
    iov_iter_ubuf(it, ITER_SOURCE, base + 1, 2 * PAGE - 1)
    ret, pages, start = iov_iter_get_pages2(it, [None, None], 1 << 20, 2)
    assert (ret, start) == (2 * PAGE - 1, 1)
    assert all(kmem.page_count(p) == 2 and not kmem.folio_maybe_dma_pinned(p.head)
               for p in pages)
    for p in pages:
        kmem.put_page(p)
    mm.munmap(base, 2 * PAGE)
    folio = kmem.folio_alloc(kmem.GFP_KERNEL, 1)
    iov_iter_bvec(it, ITER_DEST, [bio_vec(folio, 2 * PAGE, 0), bio_vec(folio, 5, 0)], 2,
                  2 * PAGE + 5)
    ret, pages, start = iov_iter_get_pages_alloc2(it, 1 << 20)
    assert (ret, start, len(pages)) == (2 * PAGE, 0, 2) and kmem.folio_ref_count(folio) == 3
    assert (it.vec_idx, it.iov_offset) == (1, 0)
    for p in pages:
        kmem.put_page(p)
    assert iov_iter_get_pages2(it, [None], 10, 0)[0] == 0
    with pytest.raises(kmem.KernelBug):
        iov_iter_get_pages2(it, None, 10, 1)
    kmem.folio_put(folio)
    lay = make("kvec", [10], ITER_DEST)
    assert iov_iter_get_pages_alloc2(lay.it, 10) == (EFAULT, None, 0)
    lay.free()


def test_get_pages_on_stack_memory_is_the_recorded_bug_and_slab_is_skipped():
    with kmem.on_stack(64) as buf:
        page = kmem.vmalloc_to_page(buf)
        it = iov_iter()
        iov_iter_bvec(it, ITER_SOURCE, [bio_vec(page, 64, buf & 0xFFF)], 1, 64)
        with kmem.expect_violations("ref-forbidden"):
            ret, pages, _ = iov_iter_get_pages_alloc2(it, 64)
        assert ret == 64
        kmem.put_page(pages[0])
    small = kmem.kmalloc(64, kmem.GFP_KERNEL)
    page = kmem.virt_to_page(small)
    refs = kmem.page_count(page)
    iov_iter_bvec(it, ITER_SOURCE, [bio_vec(page, 64, small & 0xFFF)], 1, 64)
    assert iov_iter_get_pages_alloc2(it, 64)[0] == 64 and kmem.page_count(page) == refs
    kmem.kfree(small)


def test_get_pages_folioq_and_xarray():
    f = make("folioq", [], ITER_DEST, orders=[1, 0])
    ret, pages, _ = iov_iter_get_pages_alloc2(f.it, 1 << 20)
    assert ret == 3 * PAGE and len(pages) == 3
    for p in pages:
        kmem.put_page(p)
    f.free()
    x = make("xarray", [], ITER_DEST, orders=[0, 0])
    ret, pages, _ = iov_iter_get_pages_alloc2(x.it, 1 << 20)
    # ours, the allocation's and the page cache's
    assert ret == 2 * PAGE and all(kmem.page_count(p) == 3 for p in pages)
    for p in pages:
        kmem.put_page(p)
    x.free()


def test_bvec_extraction_past_the_array_is_a_bug_not_an_index_error():
    """The bio_vec walk checks the array bounds once up front and indexes
    freely only when every element it may visit is inside: an iterator
    whose nr_segs runs past its array still BUGs where the walk leaves
    it, as it did with a check per element (not an IndexError)."""
    a, b = kmem.alloc_page(kmem.GFP_KERNEL), kmem.alloc_page(kmem.GFP_KERNEL)
    try:
        bv = [bio_vec(a, PAGE, 0), bio_vec(b, PAGE, 0)]
        it = iov_iter()
        iov_iter_bvec(it, ITER_SOURCE, bv, 2, 2 * PAGE)
        it._u, it.count = 3, 3 * PAGE       # a corrupt iterator: one bio_vec too many
        with pytest.raises(kmem.KernelBug, match="ran past the bio_vec array"):
            iov_iter_extract_pages(it, None, 3 * PAGE, 8)
        it3 = iov_iter()
        iov_iter_bvec(it3, ITER_SOURCE, bv, 2, 2 * PAGE)
        it3.vec_idx = 2
        with pytest.raises(kmem.KernelBug, match="no bio_vec left"):
            iov_iter_extract_pages(it3, None, PAGE, 8)
    finally:
        kmem.__free_pages(a, 0)
        kmem.__free_pages(b, 0)


def _random_bvecs(rng, folios, most):
    """1 to ``most - 1`` bio_vecs over order-2 folios: empty ones, one whole
    page, whole pages, pieces past a folio's first page, pieces running
    to a page end, and pieces at a page start."""
    bv = []
    for _ in range(int(rng.integers(1, most))):
        f = folios[int(rng.integers(0, len(folios)))]
        shape = int(rng.integers(0, 6))
        if shape == 0:
            off, n = 0, 0                                       # an empty bio_vec
        elif shape == 1:
            off, n = PAGE * int(rng.integers(0, 3)), PAGE       # one whole page
        elif shape == 2:
            off, n = 0, PAGE * int(rng.integers(1, 4))          # whole pages, one bio_vec
        elif shape == 3:
            off = int(rng.integers(0, 3 * PAGE))                # past its first page too
            n = int(rng.integers(1, 4 * PAGE - off + 1))
        elif shape == 4:
            off = PAGE - int(rng.integers(1, PAGE))             # running to a page end
            n = PAGE - off
        else:
            off, n = PAGE * int(rng.integers(0, 3)), int(rng.integers(1, PAGE + 1))
        bv.append(bio_vec(f, n, off))
    return bv


@pytest.mark.parametrize("seed", range(60))
def test_bvec_extraction_leaves_the_iterator_where_iov_iter_advance_would(seed):
    """BVEC extraction sets the iterator's end state from where its walk
    stopped instead of advancing from the start: it must be exactly what
    iov_iter_advance() by the extracted length gives, empty bio_vecs after
    the stop included, for any layout, maxsize and maxpages."""
    rng = np.random.default_rng(seed)
    folios = [kmem.alloc_pages(kmem.GFP_KERNEL, 2) for _ in range(3)]
    try:
        bv = _random_bvecs(rng, folios, 9)
        total = sum(b.bv_len for b in bv)
        if not total:
            return
        it = iov_iter()
        iov_iter_bvec(it, ITER_SOURCE, bv, len(bv), total)
        skip = int(rng.integers(0, total))
        iov_iter_advance(it, skip)
        while it.count:
            ref = it.copy()
            maxsize = int(rng.integers(1, 3 * PAGE))
            ret = iov_iter_extract_pages(it, None, maxsize, int(rng.integers(1, 6)))[0]
            assert ret > 0
            iov_iter_advance(ref, ret)
            state = (it.vec_idx, it.iov_offset, it.count, it._u)
            assert state == (ref.vec_idx, ref.iov_offset, ref.count, ref._u)
    finally:
        for f in folios:
            kmem.__free_pages(f, 2)


def _kernel_bvec_extract(bv: list, idx: int, skip: int, nr: int, maxsize: int,
                         maxpages: int) -> tuple[int, list, int]:
    """iov_iter_extract_bvec_pages() as lib/iov_iter.c writes it, piece by
    piece through bvec_iter_bvec() and bvec_iter_advance_single(), with no
    shortcut: (bytes, pages, offset0) from bio_vec ``idx`` at ``skip``."""
    if nr == 0:
        return 0, [], 0
    if skip == bv[idx].bv_len:
        idx, nr, skip = idx + 1, nr - 1, 0
    maxpages = min(-(-(maxsize + skip) // PAGE), maxpages)
    pages, size, offset0 = [], 0, 0
    bi_idx, bi_size, done = 0, maxsize, skip
    while bi_size and bi_idx < nr:
        b = bv[idx + bi_idx]
        start = b.bv_offset + done
        off = start % PAGE
        ln = min(bi_size, b.bv_len - done, PAGE - off)
        if pages and off:
            break
        if not pages:
            offset0 = off
        pages.append(kmem.pfn_to_page(b.bv_page.pfn + start // PAGE))
        size += ln
        if len(pages) >= maxpages or off + ln != PAGE:
            break
        done += ln
        bi_size -= ln
        if done == b.bv_len:
            bi_idx, done = bi_idx + 1, 0
    return size, pages, offset0


@pytest.mark.parametrize("seed", range(60))
def test_bvec_extraction_lists_the_pages_the_kernels_walk_lists(seed):
    """The bio_vec walk (with its whole-page step) lists the same pages,
    bytes and first offset as the kernel's piece-by-piece walk, into an
    allocated array or the caller's, for layouts of whole pages, empty
    bio_vecs, pieces at offsets and pieces past a folio's first page."""
    rng = np.random.default_rng(1000 + seed)
    folios = [kmem.alloc_pages(kmem.GFP_KERNEL, 2) for _ in range(3)]
    try:
        bv = _random_bvecs(rng, folios, 10)
        total = sum(b.bv_len for b in bv)
        if not total:
            return
        it = iov_iter()
        iov_iter_bvec(it, ITER_SOURCE, bv, len(bv), total)
        iov_iter_advance(it, int(rng.integers(0, total)))
        while it.count:
            maxsize = int(rng.integers(1, 4 * PAGE))
            maxpages = int(rng.integers(1, 6))
            want = _kernel_bvec_extract(bv, it.vec_idx, it.iov_offset, it._u,
                                        min(maxsize, it.count), maxpages)
            if rng.integers(0, 2):
                ret, pages, off = iov_iter_extract_pages(it, None, maxsize, maxpages)
            else:
                pages = [None] * (maxpages + 1)
                ret, got, off = iov_iter_extract_pages(it, pages, maxsize, maxpages)
                assert got is pages and pages[maxpages] is None
            # Every entry the walk filled (an empty bio_vec after a page end
            # lists its page, for no bytes), and nothing after them.
            k = len(want[1])
            assert (ret, pages[:k], off) == want
            assert all(p is None for p in pages[k:])
    finally:
        for f in folios:
            kmem.__free_pages(f, 2)
