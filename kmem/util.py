"""virt_to_page and the kv*/kmemdup helpers (include/linux/mm.h, mm/util.c)."""

from __future__ import annotations

from kmem.access import Buffer, memcpy
from kmem.errno import KernelBug
from kmem.mm_types import __GFP_NOWARN, __GFP_ZERO, PAGE_SIZE, Page
from kmem.page_alloc import is_direct_map, virt_to_page_linear
from kmem.sanitizer import VIRT_TO_PAGE, WARN, report
from kmem.slab import kfree, kmalloc
from kmem.vmalloc import __vmalloc, is_vmalloc_addr, vfree, vmalloc_to_page


def virt_to_page(addr: int) -> Page:
    """``virt_to_page()``: valid only for the direct map.

    On a vmalloc or (vmapped) stack address the kernel computes a bogus
    struct page; the model records that as the bug it is and, so that the
    run can go on to show its consequences, returns the page really mapped
    there.  Any other address is a BUG (CONFIG_DEBUG_VIRTUAL)."""
    if is_direct_map(addr):
        return virt_to_page_linear(addr)
    if is_vmalloc_addr(addr):
        page = vmalloc_to_page(addr)
        report(VIRT_TO_PAGE, f"virt_to_page({addr:#x}) on a vmalloc/stack address; "
                             "use vmalloc_to_page()")
        if page is not None:
            return page
    raise KernelBug(f"virt_to_page({addr:#x}): not a direct-map address")


INT_MAX = (1 << 31) - 1


def kvmalloc(size: int, gfp: int) -> int:
    """kmalloc, falling back to vmalloc for sizes above a page.  As in the
    kernel, more than INT_MAX bytes is refused: NULL, with a WARN unless
    ``__GFP_NOWARN``."""
    if isinstance(size, int) and size > INT_MAX:
        if not gfp & __GFP_NOWARN:
            WARN(True, f"kvmalloc: {size} bytes is more than INT_MAX")
        return 0
    addr = kmalloc(size, gfp) if size <= PAGE_SIZE else 0
    return addr or __vmalloc(size, gfp)


def kvzalloc(size: int, gfp: int) -> int:
    return kvmalloc(size, gfp | __GFP_ZERO)


def kvfree(addr: int) -> None:
    if is_vmalloc_addr(addr):
        vfree(addr)
    else:
        kfree(addr)


def kmemdup(src: Buffer, length: int, gfp: int) -> int:
    addr = kmalloc(length, gfp)
    if addr and length:
        memcpy(addr, src, length)
    return addr
