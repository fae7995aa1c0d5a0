"""Key and IV buffers of a conformance run: testmgr keeps both at
configurable offsets; here the offset also picks the memory (kmalloc,
vmalloc or the vmapped stack), so that a driver reading a key or IV
through the direct map is caught."""

from __future__ import annotations

import kmem

MAX_IVLEN = 32


def memory_for(offset: int, dma: bool = False) -> str:
    """Where a key or IV at ``offset`` lives: kmalloc, vmalloc (offset 1
    and every third after it) or the (vmapped) stack (offset 2, 5, ...;
    kmalloc instead for a DMA driver, which may not be handed the stack)."""
    kind = ("slab", "vmalloc", "stack")[offset % 3]
    return "slab" if dma and kind == "stack" else kind


def _buf_alloc(kind: str, size: int) -> int:
    if kind == "vmalloc":
        return kmem.vmalloc(size)
    if kind == "stack":
        return kmem.stack_alloc(size)
    return kmem.kmalloc(size, kmem.GFP_KERNEL)


def _buf_free(kind: str, addr: int) -> None:
    {"vmalloc": kmem.vfree, "stack": kmem.stack_free}.get(kind, kmem.kfree)(addr)


class KeyBuf:
    """The key at ``offset`` into kmalloc, vmalloc or stack memory (a
    Python bytes object when the offset is 0)."""

    def __init__(self, key: bytes, offset: int, dma: bool = False) -> None:
        self.addr = 0
        self.key: object = key
        self.kind = memory_for(offset, dma)
        if offset:
            self.addr = _buf_alloc(self.kind, len(key) + offset)
            if key:
                kmem.write_virt(self.addr + offset, key)
            self.key = self.addr + offset

    def free(self) -> None:
        if self.addr:
            _buf_free(self.kind, self.addr)


class IvBuf:
    """``u8 _iv[3 * (MAX_ALGAPI_ALIGNMASK + 1) + MAX_IVLEN]``, 256-aligned
    plus the configuration's IV offset, in kmalloc, vmalloc or stack
    memory by the offset; the request gets its address."""

    def __init__(self, iv: bytes | None, ivsize: int, offset: int, dma: bool = False) -> None:
        self.kind = memory_for(offset, dma)
        self.buf = _buf_alloc(self.kind, 3 * 128 + MAX_IVLEN + 256)
        self.addr = ((self.buf + 255) & ~255) + offset
        self.ivsize = ivsize
        kmem.write_virt(self.addr, (iv or b"")[:ivsize].ljust(ivsize, b"\0"))

    def read(self) -> bytes:
        return kmem.read_virt(self.addr, self.ivsize)

    def free(self) -> None:
        _buf_free(self.kind, self.buf)
