"""vmalloc, vmap and vmapped stacks (mm/vmalloc.c, kernel/fork.c).

A vmalloc area is virtually contiguous over order-0 pages that the page
allocator hands out scattered.  Each area is followed by a guard page.  The
pages of a vmalloc area are Kind.VMALLOC; vmap() maps pages that keep their
own kind; on-stack buffers live in vmapped stack areas of Kind.STACK (the
kernel's CONFIG_VMAP_STACK), so neither virt_to_page() nor page references
work on them.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from kmem import stats as _stats
from kmem.mm_types import __GFP_ZERO, GFP_KERNEL, PAGE_SHIFT, PAGE_SIZE, Kind, Page
from kmem.page_alloc import (
    MODEL_RAM_BYTES,
    _alloc_folio,
    folio_put,
    pfn_run_views,
    should_fail_alloc,
)
from kmem.sanitizer import DOUBLE_FREE, INVALID_FREE, note_alloc, note_free, report

VMALLOC_START = 0xFFFFC90000000000
VMALLOC_END = 0xFFFFE8FFFFFFFFFF


@dataclass
class VmArea:
    """``struct vm_struct``: one mapping in the vmalloc range."""

    addr: int
    size: int                 # bytes mapped (whole pages), guard page excluded
    pages: list[Page]
    pfns: np.ndarray          # the pages' pfns, for vectorised lookups
    kind: Kind                # VMALLOC, STACK, or whatever vmap() was given
    owns_pages: bool
    freed: bool = False
    object_start: int = 0     # for stack objects: the buffer inside the area
    object_size: int = 0


# A model limit: one vmalloc area takes at most 1 GiB (a page at a time,
# each a Python object, beyond that the model would take seconds and
# gigabytes of the host to say what the kernel says at once for more than
# all of RAM).  Larger requests fail with NULL.
VMALLOC_MODEL_MAX = min(MODEL_RAM_BYTES, 1 << 30)

_areas: list[VmArea] = []     # live and freed areas, sorted by address
_starts: list[int] = []
_next = [VMALLOC_START]


def _map_area(pages: list[Page], kind: Kind, owns: bool) -> VmArea:
    addr = _next[0]
    size = len(pages) << PAGE_SHIFT
    _next[0] = addr + size + PAGE_SIZE  # guard page
    area = VmArea(addr, size, pages, np.fromiter((p.pfn for p in pages), np.int64, len(pages)),
                  kind, owns, object_start=addr, object_size=size)
    for p in pages:
        if owns:
            p.head.vm_area = area
    i = bisect.bisect(_starts, addr)
    _starts.insert(i, addr)
    _areas.insert(i, area)
    return area


def find_vm_area(addr: int) -> VmArea | None:
    """The area whose mapping (or guard page) covers ``addr``, live or freed."""
    i = bisect.bisect(_starts, addr) - 1
    if i < 0:
        return None
    area = _areas[i]
    return area if addr < area.addr + area.size + PAGE_SIZE else None


def is_vmalloc_addr(addr: int) -> bool:
    return VMALLOC_START <= addr <= VMALLOC_END


def _alloc_area(size: int, gfp: int, kind: Kind) -> VmArea | None:
    if not isinstance(size, int) or isinstance(size, bool):
        raise TypeError(f"size must be an int, got {type(size).__name__}")
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")
    if size == 0 or size > VMALLOC_MODEL_MAX or should_fail_alloc():
        # More than all of RAM fails at once, as __vmalloc_node_range does;
        # the model's RAM for one area is VMALLOC_MODEL_MAX.
        return None
    pages = []
    for _ in range((size + PAGE_SIZE - 1) >> PAGE_SHIFT):
        folio = _alloc_folio(gfp, 0, kind)
        if folio is None:
            for p in pages:
                folio_put(p)
            return None
        pages.append(folio)
    area = _map_area(pages, kind, owns=True)
    area.object_size = size
    return area


def __vmalloc(size: int, gfp: int) -> int:
    if _stats.ON:
        _stats.note_alloc(size)
    area = _alloc_area(size, gfp, Kind.VMALLOC)
    if area is None:
        return 0
    note_alloc("vmalloc", area.addr, f"vmalloc({size}) at {area.addr:#x}")
    return area.addr


def vmalloc(size: int) -> int:
    """``vmalloc()``: the address of ``size`` bytes, or 0."""
    return __vmalloc(size, GFP_KERNEL)


def vzalloc(size: int) -> int:
    return __vmalloc(size, GFP_KERNEL | __GFP_ZERO)


def _unmap(addr: int, what: str) -> VmArea | None:
    area = find_vm_area(addr)
    if area is None or area.addr != addr:
        report(INVALID_FREE, f"{what}({addr:#x}): not the start of a vmalloc area")
        return None
    if area.freed:
        report(DOUBLE_FREE, f"{what}({addr:#x}): already freed")
        return None
    area.freed = True
    note_free("vmalloc", addr)
    return area


def vfree(addr: int) -> None:
    """``vfree()``: 0 is a no-op; a double or foreign free is recorded."""
    if addr == 0:
        return
    area = _unmap(addr, "vfree")
    if area is None:
        return
    if area.kind is not Kind.VMALLOC or not area.owns_pages:
        report(INVALID_FREE, f"vfree({addr:#x}): area was not made by vmalloc")
        return
    for p in area.pages:
        folio_put(p.head)


def vmap(pages: list[Page], count: int, flags: int = 0, prot: int = 0) -> int:
    """``vmap()``: map ``count`` existing pages contiguously; they keep their
    kind and their owner.  Returns the address, or 0."""
    if not 0 < count <= len(pages):
        raise ValueError(f"count must be in 1..len(pages), got {count}")
    if should_fail_alloc():
        return 0
    kinds = {p.kind for p in pages[:count]}
    kind = kinds.pop() if len(kinds) == 1 else Kind.PAGE
    addr = _map_area(list(pages[:count]), kind, owns=False).addr
    note_alloc("vmalloc", addr, f"vmap of {count} page(s) at {addr:#x}")
    return addr


def vunmap(addr: int) -> None:
    area = _unmap(addr, "vunmap")
    if area is not None and area.owns_pages:
        report(INVALID_FREE, f"vunmap({addr:#x}) of a vmalloc area: use vfree")


def vmalloc_to_page(addr: int) -> Page | None:
    """``vmalloc_to_page()``: the page mapped at ``addr``, None if unmapped."""
    area = find_vm_area(addr)
    if area is None or area.freed or addr >= area.addr + area.size:
        return None
    return area.pages[(addr - area.addr) >> PAGE_SHIFT]


def vmalloc_to_pfn(addr: int) -> int:
    page = vmalloc_to_page(addr)
    return 0 if page is None else page.pfn


# On-stack buffers.

THREAD_SIZE = 4 * PAGE_SIZE


def stack_alloc(size: int) -> int:
    """Model helper: an object of ``size`` bytes on a (vmapped) kernel stack.

    The object ends at the top of the stack area, so a buffer of less than a
    page may straddle two pages, as stack frames do.  Free it with
    :func:`stack_free` (or use :func:`on_stack`).
    """
    if not isinstance(size, int) or size <= 0 or size > THREAD_SIZE:
        raise ValueError(f"size must be in 1..{THREAD_SIZE}, got {size!r}")
    area = _alloc_area(THREAD_SIZE, GFP_KERNEL, Kind.STACK)
    if area is None:
        return 0
    # Leave 8 bytes of "frame" above the object and keep 8-byte alignment.
    start = area.addr + ((THREAD_SIZE - 8 - size) & ~7)
    area.object_start, area.object_size = start, size
    return start


def stack_free(addr: int) -> None:
    area = find_vm_area(addr)
    if area is None or area.kind is not Kind.STACK or area.object_start != addr:
        report(INVALID_FREE, f"stack_free({addr:#x}): not a stack object")
        return
    if area.freed:
        report(DOUBLE_FREE, f"stack_free({addr:#x}): frame already gone")
        return
    area.freed = True
    for p in area.pages:
        folio_put(p.head)


@contextmanager
def on_stack(size: int) -> Iterator[int]:
    """``u8 buf[size];`` in a kernel function: the address of the buffer,
    valid until the block ends (later use is use-after-free)."""
    addr = stack_alloc(size)
    try:
        yield addr
    finally:
        stack_free(addr)


def object_is_on_stack(addr: int) -> bool:
    area = find_vm_area(addr)
    return area is not None and area.kind is Kind.STACK and not area.freed


def area_views(area: VmArea, offset: int, length: int) -> list[np.ndarray]:
    """Views of ``length`` bytes at ``offset`` in ``area``, one per run of
    physically contiguous pages (the caller checked the bounds)."""
    first = offset >> PAGE_SHIFT
    last = (offset + length - 1) >> PAGE_SHIFT
    return pfn_run_views(area.pfns[first:last + 1], offset & (PAGE_SIZE - 1), length)
