"""User address spaces, copy_to/from_user, GUP and pins (DESIGN §5)."""

import pytest

import kmem
from kmem.errno import EFAULT, EINVAL, EREMOTEIO


@pytest.fixture
def mm():
    mm = kmem.mm_alloc()
    with kmem.use_mm(mm):
        yield mm


def test_user_memory_is_populated_on_first_touch(mm):
    addr = mm.mmap(3 * 4096)
    assert not mm.pages
    buf = kmem.kmalloc(100, kmem.GFP_KERNEL)
    kmem.write_virt(buf, b"u" * 100)
    assert kmem.copy_to_user(addr + 4090, buf, 100) == 0
    assert len(mm.pages) == 2
    assert all(p.kind is kmem.Kind.USER for p in mm.pages.values())
    out = bytearray(100)
    assert kmem.copy_from_user(out, addr + 4090, 100) == 0
    assert out == b"u" * 100
    assert kmem.clear_user(addr + 4090, 10) == 0
    assert kmem.copy_from_user(out, addr + 4090, 10) == 0 and out[:10] == bytes(10)
    kmem.kfree(buf)
    assert mm.munmap(addr, 3 * 4096) == 0 and not mm.pages


def test_faults_give_short_copies(mm):
    addr = mm.mmap(3 * 4096)
    assert mm.munmap(addr + 4096, 4096) == 0          # a hole in the middle
    data = bytes(range(200)) * 50
    assert kmem.copy_to_user(addr + 4000, data, 300) == 300 - 96
    out = bytearray(b"\xff" * 300)
    assert kmem.copy_from_user(out, addr + 4000, 300) == 300 - 96
    assert out[:96] == data[:96] and out[96:] == bytes(204)   # the tail is zeroed
    assert kmem.copy_to_user(0x10, data, 4) == 4               # nothing mapped there
    assert kmem.copy_to_user(kmem.TASK_SIZE - 2, data, 4) == 4  # access_ok fails
    assert not kmem.access_ok(kmem.TASK_SIZE - 2, 4) and kmem.access_ok(0x1000, 4)
    mm.munmap(addr, 3 * 4096)


def test_read_only_mapping_and_nofault(mm):
    ro = mm.mmap(4096, kmem.PROT_READ)
    assert kmem.copy_to_user(ro, b"x", 1) == 1
    rw = mm.mmap(2 * 4096)
    kmem.pagefault_disable()
    try:
        assert kmem.copy_to_user(rw, b"x" * 10, 10) == 10     # not present, no fault-in
    finally:
        kmem.pagefault_enable()
    assert kmem.copy_to_user(rw, b"x" * 10, 10) == 0
    kmem.pagefault_disable()
    try:
        assert kmem.copy_to_user(rw, b"y" * 10, 10) == 0      # present now
    finally:
        kmem.pagefault_enable()
    assert mm.mmap(0) == -EINVAL
    assert mm.munmap(rw + 1, 10) == -EINVAL


def test_pin_and_unpin(mm):
    addr = mm.mmap(4 * 4096)
    ret, pages = kmem.pin_user_pages(addr, 4, kmem.FOLL_WRITE | kmem.FOLL_LONGTERM)
    assert ret == 4 and len(pages) == 4
    assert all(kmem.folio_maybe_dma_pinned(p.head) for p in pages)
    kmem.get_page(pages[0])                       # a reference on a pinned page is fine
    kmem.put_page(pages[0])
    # munmap does not free pinned pages: the pin keeps them.
    mm.munmap(addr, 4 * 4096)
    assert not pages[0].head.freed
    kmem.unpin_user_pages_dirty_lock(pages, 4, True)
    assert pages[0].head.freed
    with kmem.expect_violations("unpin-unpinned"):
        kmem.unpin_user_page(pages[0])


def test_pin_partial_and_errors(mm):
    addr = mm.mmap(2 * 4096)
    ret, pages = kmem.pin_user_pages_fast(addr, 5, 0)
    assert ret == 2
    kmem.unpin_user_pages(pages, ret)
    ret, _ = kmem.pin_user_pages(addr + 8 * 4096, 1, 0)
    assert ret == -EFAULT
    ro = mm.mmap(4096, kmem.PROT_READ)
    assert kmem.pin_user_pages(ro, 1, kmem.FOLL_WRITE)[0] == -EFAULT
    assert kmem.pin_user_pages(kmem.PAGE_OFFSET, 1, 0)[0] == -EFAULT    # kernel address
    with kmem.expect_violations("warn"):
        assert kmem.pin_user_pages(addr, 1, kmem.FOLL_PIN)[0] == -EINVAL
    assert kmem.pin_user_pages(addr, 0, 0) == (0, [])


def test_pin_leak_is_detected(mm):
    addr = mm.mmap(4096)
    ret, _pages = kmem.pin_user_pages(addr, 1, 0)
    assert ret == 1
    with kmem.expect_violations("pin-leak"):
        pass                          # the block ends with the pin still held
    assert not kmem.ledger.pins


def test_get_page_on_user_memory_needs_gup(mm):
    addr = mm.mmap(4096)
    kmem.copy_to_user(addr, b"x", 1)
    page = mm.pages[addr >> 12]
    with kmem.expect_violations("ref-forbidden"):
        kmem.get_page(page)
    kmem.put_page(page)
    ret, pages = kmem.get_user_pages(addr, 1, 0)
    assert ret == 1 and pages[0] is page
    kmem.get_page(page)                # now GUP holds one: allowed
    kmem.put_page(page)
    kmem.put_page(page)


def test_mapped_kernel_memory_and_pinning_rules(mm):
    # Page cache / vmalloc_user style pages: mappable and pinnable.
    folio = kmem.folio_alloc(kmem.GFP_KERNEL, 0)
    addr = mm.mmap_pages([folio])
    ret, pages = kmem.pin_user_pages(addr, 1, 0)
    assert ret == 1 and pages[0] is folio
    kmem.unpin_user_page(folio)
    # kmalloc memory can only be remap_pfn_range'd: GUP refuses it.
    obj = kmem.kmalloc(4096, kmem.GFP_KERNEL)
    addr = mm.mmap_pages([kmem.virt_to_page(obj)])
    assert kmem.pin_user_pages(addr, 1, 0)[0] == -EFAULT
    kmem.kfree(obj)
    # Device (P2PDMA) memory: only for callers that ask for it.
    dev = kmem.alloc_device_pages(0)
    addr = mm.mmap_device(dev)
    assert kmem.pin_user_pages(addr, 1, 0)[0] == -EREMOTEIO
    ret, pages = kmem.pin_user_pages(addr, 1, kmem.FOLL_PCI_P2PDMA)
    assert ret == 1
    with kmem.expect_violations("device-access"):
        assert kmem.copy_to_user(addr, b"x", 1) == 0     # the CPU store is the bug
    kmem.unpin_user_page(pages[0])
    kmem.folio_put(folio)
    kmem.free_device_pages(dev)


def test_current_mm_and_vm_mmap():
    mm = kmem.mm_alloc()
    with kmem.use_mm(mm):
        assert kmem.current_mm() is mm
        addr = kmem.vm_mmap(4096, kmem.PROT_READ | kmem.PROT_WRITE,
                            kmem.MAP_PRIVATE | kmem.MAP_ANONYMOUS | kmem.MAP_POPULATE)
        assert len(mm.pages) == 1
        assert kmem.vm_munmap(addr, 4096) == 0
    kmem.kthread_use_mm(mm)
    assert kmem.current.mm is mm
    kmem.kthread_unuse_mm(mm)
    assert kmem.current.mm is None


def test_user_fault_may_not_sleep_under_rcu(mm):
    addr = mm.mmap(4096)
    with kmem.expect_violations("sleep-in-atomic"), kmem.rcu_read_section():
        kmem.copy_to_user(addr, b"x", 1)
