"""The memory a conformance buffer lives in: page, slab, vmalloc, stack,
user and page-cache/folio-queue areas, each allocated and freed through the
kernel's own allocators so that the sanitizer sees every use."""

from __future__ import annotations

import abc

import numpy as np

import kmem
from kmem import PAGE_SIZE
from kmem.page_alloc import __free_pages as _free_pages


class Area(abc.ABC):
    """A buffer of ``size`` bytes of one memory kind.  ``views(off, n)``
    gives numpy views of part of it through kmem; ``addr`` is its kernel
    virtual address (0 for user/folio memory)."""

    kind = ""
    addr = 0
    uaddr = 0

    def __init__(self, size: int) -> None:
        self.size = size

    def views(self, off: int, n: int, write: bool = False) -> list[np.ndarray]:
        return kmem.virt_views(self.addr + off, n, write=write)

    @abc.abstractmethod
    def free(self) -> None:
        """Release the memory."""


def _order_for(size: int) -> int:
    return max(0, (-(-size // PAGE_SIZE) - 1).bit_length())


class PageArea(Area):
    kind = "page"

    def __init__(self, size: int) -> None:
        self.order = _order_for(size)
        super().__init__(PAGE_SIZE << self.order)
        page = kmem.alloc_pages(kmem.GFP_KERNEL, self.order)
        if page is None:
            raise MemoryError("alloc_pages failed")
        self.page = page
        self.addr = kmem.page_address(page)

    def views(self, off: int, n: int, write: bool = False) -> list[np.ndarray]:
        return kmem.page_views(self.page, off, n, write=write)

    def free(self) -> None:
        _free_pages(self.page, self.order)


class SlabArea(Area):
    kind = "slab"

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.addr = kmem.kmalloc(size, kmem.GFP_KERNEL)

    def free(self) -> None:
        kmem.kfree(self.addr)


class VmallocArea(Area):
    kind = "vmalloc"

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.addr = kmem.vmalloc(size)

    def free(self) -> None:
        kmem.vfree(self.addr)


class StackArea(Area):
    kind = "stack"

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.addr = kmem.stack_alloc(size)

    def free(self) -> None:
        kmem.stack_free(self.addr)


class UserArea(Area):
    kind = "user"

    def __init__(self, size: int, mm: kmem.MmStruct) -> None:
        super().__init__(size)
        self.mm = mm
        self.uaddr = mm.mmap(size)
        if self.uaddr < 0:
            raise MemoryError("mmap failed")

    def views(self, off: int, n: int, write: bool = False) -> list[np.ndarray]:
        views, got = self.mm.user_views(self.uaddr + off, n, write)
        if got != n:
            raise MemoryError("user test buffer unexpectedly faulted")
        return views

    def free(self) -> None:
        self.mm.munmap(self.uaddr, self.size)


# Folio orders a FOLIOQ/XARRAY run cycles through: mixed orders 0..4, so
# that requests start inside a folio and cross boundaries between folios of
# different sizes (the page-cache index of each stays aligned to its size).
FOLIO_ORDERS = (0, 2, 0, 1, 4, 0, 3, 1)


class FolioRunArea(Area):
    """Consecutive folios of mixed orders seen as one run (FOLIOQ / XARRAY
    memory).  ``rotate`` picks where in :data:`FOLIO_ORDERS` the run
    starts, so that different runs cross different boundaries."""

    def __init__(self, size: int, kind: str, rotate: int = 0) -> None:
        self.kind = kind
        self.folios = []
        self.mapping: kmem.AddressSpace | None = None
        self.first_index = 15    # odd: an order-0 folio first, then larger ones
        index, have, k = self.first_index, 0, rotate
        while have < max(size, 1):
            o = FOLIO_ORDERS[k % len(FOLIO_ORDERS)]
            if index & ((1 << o) - 1):
                o = 0               # an order-0 filler up to the alignment
            else:
                k += 1
            f = kmem.folio_alloc(kmem.GFP_KERNEL, o)
            if f is None:
                self._put()
                raise MemoryError("folio_alloc failed")
            self.folios.append(f)
            have += PAGE_SIZE << o
            index += 1 << o
        super().__init__(have)
        if kind == "pagecache":
            self.mapping = kmem.AddressSpace()
            index = self.first_index
            for f in self.folios:
                kmem.filemap_add_folio(self.mapping, f, index, kmem.GFP_KERNEL)
                index += 1 << f.order

    def _put(self) -> None:
        for f in self.folios:
            if self.mapping is not None:
                kmem.filemap_remove_folio(f)
            kmem.folio_put(f)
        self.folios = []

    def views(self, off: int, n: int, write: bool = False) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        pos = 0
        for f in self.folios:
            fsize = PAGE_SIZE << f.order
            if n and off < pos + fsize:
                start = off - pos
                take = min(n, fsize - start)
                out += kmem.page_views(f, start, take, write=write)
                off += take
                n -= take
            pos += fsize
        return out

    def free(self) -> None:
        self._put()


def alloc_area(kind: str, size: int, mm: kmem.MmStruct | None = None,
               rotate: int = 0) -> Area:
    if kind == "page":
        return PageArea(size)
    if kind == "slab":
        return SlabArea(size)
    if kind == "vmalloc":
        return VmallocArea(size)
    if kind == "stack":
        return StackArea(size)
    if kind == "user":
        return UserArea(size, mm or kmem.current_mm())
    if kind in ("folio", "pagecache"):
        return FolioRunArea(size, kind, rotate)
    raise ValueError(f"unknown memory kind {kind!r}")
