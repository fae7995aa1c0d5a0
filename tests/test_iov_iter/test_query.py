"""npages, alignment, gap alignment, is_aligned, fault_in."""

from __future__ import annotations

import kmem
from iovcrypto import (
    ITER_DEST,
    ITER_SOURCE,
    bio_vec,
    fault_in_iov_iter_readable,
    fault_in_iov_iter_writeable,
    iov_iter,
    iov_iter_advance,
    iov_iter_alignment,
    iov_iter_bvec,
    iov_iter_discard,
    iov_iter_gap_alignment,
    iov_iter_init,
    iov_iter_is_aligned,
    iov_iter_kvec,
    iov_iter_npages,
    iov_iter_npages_cap,
    iov_iter_ubuf,
    iovec,
    kvec,
)

from .layouts import make

PAGE = kmem.PAGE_SIZE
U = 0x7F0000000000          # user addresses are not touched by these queries


def test_npages_user_and_kernel_vectors():
    it = iov_iter()
    iov_iter_ubuf(it, ITER_DEST, U + PAGE - 1, 2)
    assert iov_iter_npages(it, 100) == 2
    iov = [iovec(U + 10, 0), iovec(U + PAGE - 1, 2), iovec(U, 3 * PAGE), iovec(U, 5)]
    iov_iter_init(it, ITER_DEST, iov, 4, 3 * PAGE + 5)
    assert iov_iter_npages(it, 100) == 2 + 3 + 1
    assert iov_iter_npages(it, 4) == 4
    iov_iter_advance(it, 1)
    assert iov_iter_npages(it, 100) == 1 + 3 + 1
    iov_iter_advance(it, it.count)
    assert iov_iter_npages(it, 100) == 0
    base = kmem.PAGE_OFFSET + 0x100 * PAGE
    iov_iter_kvec(it, ITER_DEST, [kvec(base + 4000, 200)], 1, 200)
    assert iov_iter_npages(it, 100) == 2
    assert iov_iter_npages_cap(it, 100, 50) == 1 and it.count == 200


def test_npages_bvec_counts_empty_bvecs_at_an_offset():
    page = kmem.alloc_page(kmem.GFP_KERNEL)
    bv = [bio_vec(page, 0, 100), bio_vec(page, 10, 4090), bio_vec(page, PAGE, 0)]
    it = iov_iter()
    iov_iter_bvec(it, ITER_SOURCE, bv, 3, 10 + PAGE)
    assert iov_iter_npages(it, 100) == 1 + 2 + 1
    kmem.__free_page(page)


def test_npages_folioq_xarray_discard():
    f = make("folioq", [], ITER_DEST, orders=[2], start=PAGE + 10, slack=0)
    assert iov_iter_npages(f.it, 100) == 3
    f.free()
    x = make("xarray", [], ITER_DEST, orders=[1], start=4000)
    assert iov_iter_npages(x.it, 100) == 2 and iov_iter_npages(x.it, 1) == 1
    x.free()
    d = iov_iter()
    iov_iter_discard(d, ITER_DEST, 10 * PAGE)
    assert iov_iter_npages(d, 100) == 0


def test_alignment():
    it = iov_iter()
    iov_iter_ubuf(it, ITER_DEST, U + 8, 64)
    assert iov_iter_alignment(it) == (U + 8) | 64
    iov_iter_ubuf(it, ITER_DEST, U + 8, 0)
    assert iov_iter_alignment(it) == 0
    iov = [iovec(U + 512, 512), iovec(U + 3, 0), iovec(U + 1024, 100)]
    iov_iter_init(it, ITER_DEST, iov, 3, 600)
    assert iov_iter_alignment(it) == (U + 512) | 512 | (U + 1024) | 88
    page = kmem.alloc_page(kmem.GFP_KERNEL)
    iov_iter_bvec(it, ITER_DEST, [bio_vec(page, 512, 512), bio_vec(page, 1024, 0)], 2, 1536)
    iov_iter_advance(it, 2)
    assert iov_iter_alignment(it) == 514 | 510 | 1024
    f = make("folioq", [], ITER_DEST, orders=[0], start=12, slack=4)
    assert iov_iter_alignment(f.it) == 12 | (PAGE - 16)
    x = make("xarray", [], ITER_DEST, orders=[0], start=16)
    assert iov_iter_alignment(x.it) == 16 | (PAGE - 16)
    iov_iter_discard(it, ITER_DEST, 3)
    assert iov_iter_alignment(it) == 0
    kmem.__free_page(page)
    f.free()
    x.free()


def test_gap_alignment():
    it = iov_iter()
    iov = [iovec(U + 0x1000, 0x200), iovec(U + 7, 0), iovec(U + 0x3000, 0x100),
           iovec(U + 0x5000, 0x10)]
    iov_iter_init(it, ITER_DEST, iov, 4, 0x310)
    assert iov_iter_gap_alignment(it) == (U + 0x3000) | (U + 0x1200) | (U + 0x5000) | \
        (U + 0x3100)
    iov_iter_init(it, ITER_DEST, iov, 4, 0x200)      # the first segment covers count
    assert iov_iter_gap_alignment(it) == 0
    iov_iter_ubuf(it, ITER_DEST, U + 1, 5)
    assert iov_iter_gap_alignment(it) == 0
    lay = make("kvec", [10], ITER_DEST)
    with kmem.expect_violations("warn"):
        assert iov_iter_gap_alignment(lay.it) == 0xFFFFFFFF
    lay.free()


def test_is_aligned():
    it = iov_iter()
    iov = [iovec(U + 512, 512), iovec(U + 1024, 1024)]
    iov_iter_init(it, ITER_DEST, iov, 2, 1536)
    assert iov_iter_is_aligned(it, 511, 511)
    assert not iov_iter_is_aligned(it, 1023, 0)
    iov_iter_advance(it, 1)
    assert not iov_iter_is_aligned(it, 0, 511)
    iov_iter_ubuf(it, ITER_DEST, U + 4096, 4096)
    assert iov_iter_is_aligned(it, 4095, 4095) and not iov_iter_is_aligned(it, 8191, 0)
    x = make("xarray", [], ITER_DEST, orders=[0], start=8)
    assert iov_iter_is_aligned(x.it, 7, 7) and not iov_iter_is_aligned(x.it, 15, 0)
    x.free()
    f = make("folioq", [], ITER_DEST, orders=[0], slack=1)
    assert iov_iter_is_aligned(f.it, 0xFFF, 0) and not iov_iter_is_aligned(f.it, 0, 1)
    f.free()


def test_fault_in():
    mm = kmem.current_mm()
    base = mm.mmap(3 * PAGE)
    mm.munmap(base + 2 * PAGE, PAGE)
    it = iov_iter()
    iov_iter_ubuf(it, ITER_DEST, base, 3 * PAGE)
    assert fault_in_iov_iter_writeable(it, 3 * PAGE) == PAGE
    assert fault_in_iov_iter_readable(it, 100) == 0
    assert fault_in_iov_iter_readable(it, 5 * PAGE) == 3 * PAGE    # size beyond count too
    iov = [iovec(base, 10), iovec(base + 2 * PAGE, 10), iovec(base, 10)]
    iov_iter_init(it, ITER_SOURCE, iov, 3, 30)
    assert fault_in_iov_iter_readable(it, 30) == 20
    lay = make("kvec", [10], ITER_DEST)
    assert fault_in_iov_iter_writeable(lay.it, 10) == 0
    lay.free()
    mm.munmap(base, 2 * PAGE)
