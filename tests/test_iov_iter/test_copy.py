"""The copy functions: directions, short copies, faults, pages and folios."""

from __future__ import annotations

import numpy as np
import pytest

import kmem
from iovcrypto import (
    INT_MAX,
    ITER_DEST,
    ITER_SOURCE,
    bio_vec,
    copy_folio_from_iter,
    copy_folio_from_iter_atomic,
    copy_folio_to_iter,
    copy_from_iter,
    copy_from_iter_full,
    copy_from_iter_nocache,
    copy_page_from_iter,
    copy_page_to_iter,
    copy_page_to_iter_nofault,
    copy_to_iter,
    copy_to_iter_full,
    fault_in_iov_iter_writeable,
    iov_iter,
    iov_iter_bvec,
    iov_iter_discard,
    iov_iter_init,
    iov_iter_kvec,
    iov_iter_ubuf,
    iov_iter_zero,
    iovec,
    kvec,
)

from .layouts import TYPES, make

PAGE = kmem.PAGE_SIZE
RNG = np.random.default_rng(7)


def _data(n: int) -> np.ndarray:
    return RNG.integers(0, 256, n, dtype=np.uint8)


@pytest.mark.parametrize("kind", [t for t in TYPES if t != "discard"])
def test_round_trip_every_type(kind):
    dst = make(kind, [1, 0, 4097, 3, 0], ITER_DEST, orders=[1, 0, 0], start=5)
    src = make(kind, [1, 0, 4097, 3, 0], ITER_SOURCE, orders=[1, 0, 0], start=5)
    n = dst.count
    data = _data(n + 10)
    assert copy_to_iter(data, n + 10, dst.it) == n and dst.it.count == 0
    assert (dst.flat()[:n] == data[:n]).all()
    kmem.copy_views(src.views(), [dst.flat()])
    out = np.zeros(n + 10, np.uint8)
    assert copy_from_iter(out, n + 10, src.it) == n and src.it.count == 0
    assert (out[:n] == data[:n]).all() and not out[n:].any()
    dst.free()
    src.free()


def test_direction_mismatch_warns_and_copies_nothing():
    dst = make("kvec", [10], ITER_DEST)
    src = make("kvec", [10], ITER_SOURCE)
    buf = np.zeros(10, np.uint8)
    with kmem.expect_violations("warn"):
        assert copy_to_iter(buf, 10, src.it) == 0
    with kmem.expect_violations("warn"):
        assert copy_from_iter(buf, 10, dst.it) == 0
    with kmem.expect_violations("warn"):      # even for zero bytes, as the kernel
        assert copy_to_iter(buf, 0, src.it) == 0
    with kmem.expect_violations("warn"):
        assert copy_page_to_iter(kmem.virt_to_page(src.it.kvec.iov_base), 0, 4, src.it) == 0
    assert src.it.count == dst.it.count == 10
    dst.free()
    src.free()


def test_discard_drops_data_and_cannot_be_read():
    it = iov_iter()
    iov_iter_discard(it, ITER_DEST, 100)
    assert copy_to_iter(b"x" * 150, 150, it) == 100 and it.count == 0
    iov_iter_discard(it, ITER_DEST, 100)
    with kmem.expect_violations("warn"):
        assert copy_from_iter(np.zeros(10, np.uint8), 10, it) == 0
    assert iov_iter_zero(30, it) == 30 and it.count == 70


def test_zero_bytes_and_more_than_count():
    lay = make("bvec", [100, 200], ITER_DEST)
    assert copy_to_iter(b"", 0, lay.it) == 0 and lay.it.count == 300
    assert copy_to_iter(_data(1000), 1000, lay.it) == 300 and lay.it.count == 0
    assert copy_to_iter(_data(10), 10, lay.it) == 0
    lay.free()


def test_check_copy_size_warns_above_int_max():
    lay = make("kvec", [10], ITER_DEST)
    with kmem.expect_violations("warn"):
        assert copy_to_iter(b"", INT_MAX + 1, lay.it) == 0
    with pytest.raises(ValueError):
        copy_to_iter(b"", -1, lay.it)
    lay.free()


def _holey_mapping():
    mm = kmem.current_mm()
    base = mm.mmap(3 * PAGE)
    mm.munmap(base + PAGE, PAGE)
    return mm, base


def test_user_fault_in_the_middle_gives_a_short_copy():
    mm, base = _holey_mapping()
    it = iov_iter()
    iov_iter_ubuf(it, ITER_DEST, base + 100, 3 * PAGE - 200)
    assert copy_to_iter(_data(3 * PAGE), 3 * PAGE, it) == PAGE - 100
    assert (it.iov_offset, it.count) == (PAGE - 100, 2 * PAGE - 100)
    # IOVEC: the second segment starts in the hole.
    iov = [iovec(base, 50), iovec(base + PAGE + 10, 100), iovec(base + 2 * PAGE, 10)]
    iov_iter_init(it, ITER_SOURCE, iov, 3, 160)
    out = np.zeros(160, np.uint8)
    assert copy_from_iter(out, 160, it) == 50
    assert (it.vec_idx, it.iov_offset, it.count) == (1, 0, 110)
    assert not copy_from_iter_full(out, 110, it) and it.count == 110
    mm.munmap(base, 3 * PAGE)


def test_read_only_user_memory_cannot_be_written():
    mm = kmem.current_mm()
    base = mm.mmap(PAGE, kmem.PROT_READ)
    it = iov_iter()
    iov_iter_ubuf(it, ITER_DEST, base, 10)
    assert copy_to_iter(b"0123456789", 10, it) == 0
    iov_iter_ubuf(it, ITER_SOURCE, base, 10)
    out = np.ones(10, np.uint8)
    assert copy_from_iter(out, 10, it) == 10 and not out.any()
    mm.munmap(base, PAGE)


def test_nofault_iterator_does_not_fault_pages_in():
    mm = kmem.current_mm()
    base = mm.mmap(2 * PAGE)
    it = iov_iter()
    iov_iter_ubuf(it, ITER_DEST, base, 2 * PAGE)
    it.nofault = True
    assert copy_to_iter(_data(PAGE), PAGE, it) == 0
    assert fault_in_iov_iter_writeable(it, PAGE) == 0        # fault the first page in
    assert copy_to_iter(_data(2 * PAGE), 2 * PAGE, it) == PAGE
    page = kmem.alloc_page(kmem.GFP_KERNEL)
    assert copy_page_to_iter_nofault(page, 0, PAGE, it) == 0
    kmem.__free_page(page)
    mm.munmap(base, 2 * PAGE)


def test_user_copy_in_atomic_context_is_recorded():
    mm = kmem.current_mm()
    base = mm.mmap(PAGE)
    it = iov_iter()
    iov_iter_ubuf(it, ITER_DEST, base, 10)
    with kmem.expect_violations("sleep-in-atomic"), kmem.rcu_read_section():
        copy_to_iter(b"0123456789", 10, it)
    mm.munmap(base, PAGE)


def test_page_copies_with_offsets_beyond_the_first_page():
    folio = kmem.folio_alloc(kmem.GFP_KERNEL, 2)
    data = _data(3 * PAGE)
    lay = make("kvec", [PAGE, 2 * PAGE], ITER_SOURCE)
    kmem.copy_views(lay.views(), [data])
    assert copy_page_from_iter(folio, PAGE + 7, 3 * PAGE - 7, lay.it) == 3 * PAGE - 7
    assert (kmem.gather(kmem.page_views(folio, PAGE + 7, 3 * PAGE - 7)) ==
            data[:3 * PAGE - 7]).all()
    out = make("bvec", [5000, 3000], ITER_DEST)
    tail = kmem.folio_page(folio, 1)
    assert copy_page_to_iter(tail, 7, 8000, out.it) == 8000
    assert (out.flat() == data[:8000]).all()
    assert copy_folio_to_iter(folio, 0, 0, out.it) == 0
    with kmem.expect_violations("warn"):        # overruns the folio
        assert copy_page_to_iter(tail, PAGE, 3 * PAGE, out.it) == 0
    with kmem.expect_violations("warn"):
        assert copy_folio_from_iter(folio, 1, 4 * PAGE, lay.it) == 0
    kmem.folio_put(folio)
    lay.free()
    out.free()


def test_copy_folio_roundtrip_and_atomic():
    folio = kmem.folio_alloc(kmem.GFP_KERNEL, 1)
    data = _data(2 * PAGE)
    src = make("iovec", [3000, 5192], ITER_SOURCE)
    kmem.copy_views(src.views(), [data])
    assert copy_folio_from_iter_atomic(folio, 0, 2 * PAGE, src.it) == 2 * PAGE
    dst = make("xarray", [], ITER_DEST, orders=[1])
    assert copy_folio_to_iter(folio, 0, 2 * PAGE, dst.it) == 2 * PAGE
    assert (dst.flat() == data).all()
    with kmem.expect_violations("warn"):
        assert copy_folio_from_iter_atomic(folio, 0, 10, dst.it) == 0
    # Page faults are disabled: user pages not yet present are a fault.
    mm = kmem.current_mm()
    base = mm.mmap(PAGE)
    it = iov_iter()
    iov_iter_ubuf(it, ITER_SOURCE, base, PAGE)
    assert copy_folio_from_iter_atomic(folio, 0, PAGE, it) == 0 and it.count == PAGE
    assert copy_folio_from_iter(folio, 0, PAGE, it) == PAGE      # faults them in
    mm.munmap(base, PAGE)
    kmem.folio_put(folio)
    src.free()
    dst.free()


def test_iov_iter_zero_has_no_direction_check():
    lay = make("kvec", [10, 20], ITER_SOURCE)
    lay.fill(RNG)
    assert iov_iter_zero(25, lay.it) == 25 and lay.it.count == 5
    assert not lay.flat()[:25].any() and lay.flat()[25:].any()
    lay.free()


def test_scattered_kernel_destination_and_nocache():
    addr = kmem.vmalloc(3 * PAGE)
    data = _data(3 * PAGE - 1)
    src = make("bvec", [PAGE, 2 * PAGE - 1], ITER_SOURCE)
    kmem.copy_views(src.views(), [data])
    assert copy_from_iter_nocache(addr + 1, 3 * PAGE - 1, src.it) == 3 * PAGE - 1
    assert kmem.read_virt(addr + 1, 3 * PAGE - 1) == data.tobytes()
    dst = make("kvec", [3 * PAGE - 1], ITER_DEST)
    assert copy_to_iter(addr + 1, 3 * PAGE - 1, dst.it) == 3 * PAGE - 1
    assert dst.flat().tobytes() == data.tobytes()
    kmem.vfree(addr)
    src.free()
    dst.free()


def test_full_variants_revert_on_a_short_copy():
    lay = make("kvec", [10, 10], ITER_DEST)
    assert copy_to_iter(b"ab", 2, lay.it) == 2
    assert not copy_to_iter_full(_data(30), 30, lay.it)
    assert (lay.it.vec_idx, lay.it.iov_offset, lay.it.count) == (0, 2, 18)
    assert copy_to_iter_full(_data(18), 18, lay.it) and lay.it.count == 0
    lay.free()


def test_device_memory_and_overruns_are_recorded():
    dev = kmem.alloc_device_pages(0)
    it = iov_iter()
    iov_iter_bvec(it, ITER_DEST, [bio_vec(dev, 100, 0)], 1, 100)
    with kmem.expect_violations("device-access"):
        assert copy_to_iter(b"x" * 100, 100, it) == 100
    kmem.free_device_pages(dev)
    small = kmem.kmalloc(10, kmem.GFP_KERNEL)
    lay = make("kvec", [20], ITER_DEST)
    with kmem.expect_violations("out-of-bounds"):
        copy_to_iter(small, 20, lay.it)
    kmem.kfree(small)
    lay.free()


def test_stack_buffer_source_kvec():
    with kmem.on_stack(64) as buf:
        kmem.write_virt(buf, bytes(range(64)))
        it = iov_iter()
        iov_iter_kvec(it, ITER_SOURCE, [kvec(buf, 64)], 1, 64)
        out = bytearray(64)
        assert copy_from_iter(out, 64, it) == 64 and out == bytes(range(64))
