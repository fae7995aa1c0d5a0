import kmem


def test_kmalloc_roundtrip():
    a = kmem.kmalloc(100, kmem.GFP_KERNEL)
    kmem.write_virt(a, b"x" * 100)
    assert kmem.read_virt(a, 100) == b"x" * 100
    kmem.kfree(a)
