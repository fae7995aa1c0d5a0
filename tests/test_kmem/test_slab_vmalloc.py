"""kmalloc, vmalloc/vmap and on-stack buffers: what each kind allows and
what is recorded as a violation (DESIGN §5)."""

import itertools

import pytest

import kmem
from kmem.errno import KernelBug


def test_kmalloc_objects_share_slab_pages():
    a = kmem.kmalloc(100, kmem.GFP_KERNEL)
    b = kmem.kmalloc(100, kmem.GFP_KERNEL)
    assert kmem.virt_to_page(a).head is kmem.virt_to_page(b).head
    assert kmem.virt_to_page(a).kind is kmem.Kind.SLAB
    assert kmem.ksize(a) == 128 and kmem.kmalloc_size(a) == 100
    kmem.write_virt(a, b"a" * 100)
    kmem.write_virt(b, b"b" * 100)
    assert kmem.read_virt(a, 100) == b"a" * 100
    kmem.kfree(a)
    kmem.kfree(b)


def test_kzalloc_large_and_zero_size():
    big = kmem.kzalloc(3 * 4096 + 5, kmem.GFP_KERNEL)
    assert kmem.read_virt(big, 3 * 4096 + 5) == bytes(3 * 4096 + 5)
    assert kmem.virt_to_page(big).kind is kmem.Kind.SLAB
    kmem.kfree(big)
    assert kmem.kmalloc(0, kmem.GFP_KERNEL) == kmem.ZERO_SIZE_PTR
    kmem.kfree(kmem.ZERO_SIZE_PTR)
    kmem.kfree(0)
    assert kmem.kmalloc(kmem.KMALLOC_MAX_SIZE + 1, kmem.GFP_KERNEL) == 0
    with pytest.raises(ValueError, match="size"):
        kmem.kmalloc(-1, kmem.GFP_KERNEL)
    with pytest.raises(TypeError, match="size"):
        kmem.kmalloc("8", kmem.GFP_KERNEL)


def test_slab_refuses_page_references():
    a = kmem.kmalloc(64, kmem.GFP_KERNEL)
    with kmem.expect_violations("ref-forbidden"):
        kmem.get_page(kmem.virt_to_page(a))
    kmem.put_page(kmem.virt_to_page(a))
    kmem.kfree(a)


def test_slab_overrun_and_use_after_free_are_caught():
    a = kmem.kmalloc(100, kmem.GFP_KERNEL)
    keep = kmem.kmalloc(100, kmem.GFP_KERNEL)  # keeps the slab page alive
    with kmem.expect_violations("out-of-bounds"):
        kmem.write_virt(a, b"x" * 101)          # one byte past the request
    kmem.kfree(a)
    with kmem.expect_violations("use-after-free"):
        kmem.read_virt(a, 4)
    with kmem.expect_violations("double-free"):
        kmem.kfree(a)
    with kmem.expect_violations("invalid-free"):
        kmem.kfree(keep + 8)                    # not the start of an object
    kmem.kfree(keep)


def test_kfree_of_foreign_memory_is_recorded():
    v = kmem.vmalloc(100)
    with kmem.expect_violations("invalid-free"):
        kmem.kfree(v)
    page = kmem.alloc_page(kmem.GFP_KERNEL)
    with kmem.expect_violations("invalid-free"):
        kmem.kfree(kmem.page_address(page))
    kmem.__free_page(page)
    kmem.vfree(v)


def test_kmalloc_fails_under_injection():
    with kmem.fail_allocations():
        assert kmem.kmalloc(32, kmem.GFP_KERNEL) == 0
    with kmem.fail_allocations():
        assert kmem.vmalloc(5000) == 0


def test_vmalloc_is_virtually_contiguous_physically_scattered():
    n = 5 * 4096 + 10
    v = kmem.vmalloc(n)
    assert kmem.is_vmalloc_addr(v)
    data = bytes(range(256)) * (n // 256) + bytes(n % 256)
    kmem.write_virt(v, data)
    assert kmem.read_virt(v, n) == data
    pfns = [kmem.vmalloc_to_pfn(v + i * 4096) for i in range(6)]
    runs = 1 + sum(b != a + 1 for a, b in itertools.pairwise(pfns))
    assert runs > 1                                    # not one physical run
    assert len(kmem.virt_views(v, n)) == runs          # one view per run
    page = kmem.vmalloc_to_page(v + 4096 + 3)
    assert page.kind is kmem.Kind.VMALLOC
    assert kmem.gather(kmem.page_views(page, 3, 5)).tobytes() == data[4096 + 3:4096 + 8]
    kmem.get_page(page)                                # allowed on vmalloc pages
    kmem.put_page(page)
    with kmem.expect_violations("virt_to_page-nonlinear"):
        assert kmem.virt_to_page(v + 4096) is page
    with kmem.expect_violations("out-of-bounds"):
        kmem.read_virt(v + n - 4, 8)                   # past the allocation
    kmem.vfree(v)
    with kmem.expect_violations("use-after-free"):
        kmem.read_virt(v, 4)
    with kmem.expect_violations("double-free"):
        kmem.vfree(v)
    with kmem.expect_violations("invalid-free"):
        kmem.vfree(kmem.VMALLOC_START + 123)


def test_vzalloc_and_vmap():
    z = kmem.vzalloc(3 * 4096)
    assert kmem.read_virt(z, 3 * 4096) == bytes(3 * 4096)
    kmem.vfree(z)
    pages = [kmem.alloc_page(kmem.GFP_KERNEL) for _ in range(3)]
    for i, p in enumerate(pages):
        kmem.write_virt(kmem.page_address(p), bytes([i + 1]) * 4096)
    addr = kmem.vmap(pages, 3)
    assert kmem.read_virt(addr + 4096 - 1, 2) == b"\x01\x02"
    assert kmem.vmalloc_to_page(addr + 2 * 4096) is pages[2]
    kmem.vunmap(addr)
    with kmem.expect_violations("invalid-free"):
        kmem.vfree(kmem.vmap(pages, 1))               # vfree of a vmap: wrong
    for p in pages:
        kmem.__free_page(p)
    with pytest.raises(ValueError):
        kmem.vmap(pages, 0)


def test_stack_buffers_allow_cpu_access_but_nothing_else():
    with kmem.on_stack(64) as buf:
        assert kmem.object_is_on_stack(buf) and kmem.is_vmalloc_addr(buf)
        kmem.write_virt(buf, b"s" * 64)
        assert kmem.read_virt(buf, 64) == b"s" * 64
        with kmem.expect_violations("virt_to_page-nonlinear"):
            page = kmem.virt_to_page(buf)
        assert page.kind is kmem.Kind.STACK
        with kmem.expect_violations("ref-forbidden"):
            kmem.get_page(page)
        kmem.put_page(page)
        with kmem.expect_violations("out-of-bounds"):
            kmem.read_virt(buf, 65)
    with kmem.expect_violations("use-after-free"):
        kmem.read_virt(buf, 4)
    with pytest.raises(ValueError):
        kmem.stack_alloc(0)


def test_virt_to_page_of_a_user_address_is_a_bug():
    with pytest.raises(KernelBug):
        kmem.virt_to_page(0x7F0000001000)
    with pytest.raises(KernelBug):
        kmem.read_virt(0x1000, 4)


def test_kvmalloc_and_kmemdup():
    small = kmem.kvmalloc(100, kmem.GFP_KERNEL)
    big = kmem.kvzalloc(10 * 4096, kmem.GFP_KERNEL)
    assert not kmem.is_vmalloc_addr(small) and kmem.is_vmalloc_addr(big)
    dup = kmem.kmemdup(b"hello", 5, kmem.GFP_KERNEL)
    assert kmem.read_virt(dup, 5) == b"hello"
    for a in (small, big, dup):
        kmem.kvfree(a)
