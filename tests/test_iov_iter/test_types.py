"""Types, constants, predicates and initialisers."""

from __future__ import annotations

import pytest

import iovcrypto
import kmem
from iovcrypto import (
    ITER_BVEC,
    ITER_BVECQ,
    ITER_DEST,
    ITER_DISCARD,
    ITER_FOLIOQ,
    ITER_IOVEC,
    ITER_KVEC,
    ITER_SOURCE,
    ITER_UBUF,
    ITER_XARRAY,
    MAX_RW_COUNT,
    READ,
    UIO_MAXIOV,
    WRITE,
    bio_vec,
    bvec_set_folio,
    bvec_set_page,
    bvec_set_virt,
    iov_iter,
    iov_iter_bvec,
    iov_iter_count,
    iov_iter_discard,
    iov_iter_extract_will_pin,
    iov_iter_folio_queue,
    iov_iter_init,
    iov_iter_is_bvec,
    iov_iter_is_discard,
    iov_iter_is_folioq,
    iov_iter_is_kvec,
    iov_iter_is_xarray,
    iov_iter_kvec,
    iov_iter_rw,
    iov_iter_type,
    iov_iter_ubuf,
    iov_iter_xarray,
    iov_length,
    iovec,
    iter_iov,
    iter_iov_addr,
    iter_iov_len,
    iter_is_iovec,
    iter_is_ubuf,
    kvec,
    user_backed_iter,
)


def test_constants_are_the_kernels():
    # v7.3's numbers for the released types; ITER_BVECQ (linux-next only)
    # is appended after them rather than renumbering released ones.
    assert (ITER_UBUF, ITER_IOVEC, ITER_BVEC, ITER_KVEC, ITER_FOLIOQ, ITER_XARRAY,
            ITER_DISCARD, ITER_BVECQ) == (0, 1, 2, 3, 4, 5, 6, 7)
    assert (READ, WRITE, ITER_DEST, ITER_SOURCE) == (0, 1, 0, 1)
    assert MAX_RW_COUNT == 0x7FFFF000 and UIO_MAXIOV == 1024
    assert not any("SCATTERLIST" in name for name in iovcrypto.__all__)


def test_package_root_imports_no_other_world():
    import subprocess
    import sys

    code = ("import sys, iovcrypto; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sgl', 'shims') "
            "or m.startswith('iovcrypto.tools')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
    assert "copy_to_iter" in iovcrypto.__all__ and "iov_iter" in iovcrypto.__all__


def test_bvec_setters():
    page = kmem.alloc_pages(kmem.GFP_KERNEL, 1)
    bv = bio_vec()
    bvec_set_page(bv, page, 100, 4000)     # length before offset, as in C
    assert (bv.bv_page, bv.bv_len, bv.bv_offset) == (page, 100, 4000)
    bvec_set_folio(bv, page, 8192, 0)
    assert bv.bv_len == 8192 and bv.bv_page is page
    addr = kmem.page_address(page) + 4100
    bvec_set_virt(bv, addr, 10)
    assert bv.bv_page.pfn == page.pfn + 1 and bv.bv_offset == 4 and bv.bv_len == 10
    with pytest.raises(ValueError):
        bvec_set_page(bv, page, -1, 0)
    kmem.__free_pages(page, 1)


def test_bvec_set_virt_on_vmalloc_is_recorded():
    addr = kmem.vmalloc(100)
    bv = bio_vec()
    with kmem.expect_violations("virt_to_page-nonlinear"):
        bvec_set_virt(bv, addr, 100)
    assert bv.bv_page is kmem.vmalloc_to_page(addr)
    kmem.vfree(addr)


def test_predicates_and_initialisers():
    i = iov_iter()
    iov = [iovec(0x10000, 10), iovec(0x20000, 5)]
    iov_iter_init(i, ITER_SOURCE, iov, 2, 15)
    assert iter_is_iovec(i) and user_backed_iter(i) and iov_iter_rw(i) == WRITE
    assert (i.nr_segs, i.iov_offset, iov_iter_count(i), i.iov) == (2, 0, 15, iov[0])
    assert iter_iov_addr(i) == 0x10000 and iter_iov_len(i) == 10 and iter_iov(i) is iov[0]
    assert iov_length(iov, 2) == 15 and iov_iter_extract_will_pin(i)
    iov_iter_ubuf(i, ITER_DEST, 0x30000, 7)
    assert iter_is_ubuf(i) and i.nr_segs == 1 and i.ubuf == 0x30000 and iov_iter_rw(i) == READ
    assert iter_iov(i) == iovec(0x30000, 7) and iter_iov_len(i) == 7
    iov_iter_kvec(i, ITER_DEST, [kvec(kmem.PAGE_OFFSET, 3)], 1, 3)
    assert iov_iter_is_kvec(i) and not user_backed_iter(i) and not iov_iter_extract_will_pin(i)
    page = kmem.alloc_page(kmem.GFP_KERNEL)
    iov_iter_bvec(i, ITER_SOURCE, [bio_vec(page, 10, 0)], 1, 10)
    assert iov_iter_is_bvec(i) and i.bvec.bv_page is page and i.data_source
    fq = kmem.folioq_from_folios([page])
    iov_iter_folio_queue(i, ITER_DEST, fq, 0, 100, 50)
    assert iov_iter_is_folioq(i) and i.folioq is fq and i.folioq_slot == 0 and i.iov_offset == 100
    xa = kmem.xa_init()
    iov_iter_xarray(i, ITER_SOURCE, xa, 12345, 10)
    assert iov_iter_is_xarray(i) and i.xarray is xa and i.xarray_start == 12345
    iov_iter_discard(i, READ, 99)
    assert iov_iter_is_discard(i) and iov_iter_type(i) == ITER_DISCARD and not i.data_source
    assert i.count == 99 and not i.nofault
    kmem.__free_page(page)


def test_bad_directions():
    i = iov_iter()
    with kmem.expect_violations("warn"):
        iov_iter_kvec(i, 2, [], 0, 0)
    assert iov_iter_is_kvec(i)       # the kernel WARNs and carries on
    with kmem.expect_violations("warn"):
        iov_iter_ubuf(i, 4, 0x1000, 0)
    with pytest.raises(kmem.KernelBug):
        iov_iter_discard(i, WRITE, 10)
    with pytest.raises(kmem.KernelBug):
        iov_iter_xarray(i, 2, kmem.xa_init(), 0, 0)
    with pytest.raises(kmem.KernelBug):
        iov_iter_folio_queue(i, 3, kmem.FolioQueue(), 0, 0, 0)


def test_misuse_is_typed():
    i = iov_iter()
    with pytest.raises(TypeError):
        iov_iter_kvec(i, READ, [iovec(0, 1)], 1, 1)
    with pytest.raises(ValueError):
        iov_iter_kvec(i, READ, [kvec(0, 1)], 2, 1)
    with pytest.raises(ValueError):
        iov_iter_kvec(i, READ, [kvec(0, 1)], 1, -1)
    with pytest.raises(TypeError):
        iov_iter_kvec(i, READ, (kvec(0, 1),), 1, 1)
    with pytest.raises(TypeError):
        iov_iter_kvec(i, READ, [kvec(b"abc", 3)], 1, 3)
    with pytest.raises(TypeError):
        iov_iter_count(None)
    with pytest.raises(TypeError):
        iov_iter_ubuf(i, READ, "x", 1)
    with pytest.raises(TypeError):
        iovcrypto.copy_to_iter(b"x", 1, object())


def test_count_is_trusted_but_walking_off_the_array_is_a_bug():
    buf = kmem.kmalloc(8, kmem.GFP_KERNEL)
    i = iov_iter()
    iov_iter_kvec(i, ITER_DEST, [kvec(buf, 8)], 1, 100)   # no check at init
    with pytest.raises(kmem.KernelBug):
        iovcrypto.copy_to_iter(bytes(100), 100, i)
    kmem.kfree(buf)
