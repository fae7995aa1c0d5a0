"""struct page, struct folio and the memory kinds (include/linux/mm_types.h).

A ``Page`` exists for every page frame the model has handed out; the head
page of an allocation is a ``Folio`` (in the kernel the two structs overlay;
here the head object simply is both).  Tail pages are created on demand and
point at their head.
"""

from __future__ import annotations

import enum

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
PAGE_MASK = ~(PAGE_SIZE - 1)
MAX_PAGE_ORDER = 10


class Kind(enum.Enum):
    """What a page is used for, which decides what may be done with it
    (DESIGN §5).  ``PAGE`` covers alloc_pages, folios and the page cache."""

    PAGE = "page"
    SLAB = "slab"
    VMALLOC = "vmalloc"
    STACK = "stack"
    USER = "user"
    DEVICE = "device"


# May a plain get_page()/folio_get() be taken on memory of this kind?
# USER pages may be referenced once GUP holds them (see get_page()).
REF_ALLOWED = {Kind.PAGE: True, Kind.VMALLOC: True, Kind.USER: True,
               Kind.SLAB: False, Kind.STACK: False, Kind.DEVICE: False}
# May the CPU load and store through a mapping of it?
CPU_ACCESS = {k: k is not Kind.DEVICE for k in Kind}


class Page:
    """``struct page``.  Tail pages delegate their state to the head."""

    __slots__ = ("__weakref__", "head", "pfn")

    def __init__(self, pfn: int, head: Folio | None) -> None:
        self.pfn = pfn
        self.head = head if head is not None else self  # type: ignore[assignment]

    # State lives on the folio; a tail page shows its head's.
    @property
    def kind(self) -> Kind | None:
        return self.head.kind

    @property
    def _refcount(self) -> int:
        return self.head._refcount

    @property
    def _pincount(self) -> int:
        return self.head._pincount

    def __repr__(self) -> str:
        kind = self.head.kind.value if self.head.kind else "free"
        return f"<page pfn={self.pfn:#x} {kind}>"


class Folio(Page):
    """``struct folio``: the head page of an allocation of 2**order pages."""

    __slots__ = ("_pincount", "_refcount", "freed", "index", "kind", "mapping", "order",
                 "private", "slab", "vm_area")

    def __init__(self, pfn: int, order: int, kind: Kind) -> None:
        super().__init__(pfn, None)
        self.order = order
        self.kind: Kind | None = kind
        self._refcount = 1
        self._pincount = 0
        self.freed = False
        self.mapping = None     # address_space of a page-cache folio
        self.index = 0          # its index in that mapping
        self.private = None
        self.slab = None        # slab bookkeeping for Kind.SLAB
        self.vm_area = None     # the vmalloc/stack area a page is mapped into

    def __repr__(self) -> str:
        kind = "free" if self.freed else self.kind.value
        return f"<folio pfn={self.pfn:#x} order={self.order} {kind}>"


# GFP flags: the bits the model looks at, with the kernel's meaning.
__GFP_HIGHMEM = 0x02
__GFP_ZERO = 0x100
__GFP_DIRECT_RECLAIM = 0x400
__GFP_KSWAPD_RECLAIM = 0x800
__GFP_IO = 0x40
__GFP_FS = 0x80
__GFP_HIGH = 0x20
__GFP_COMP = 0x40000
__GFP_NOWARN = 0x2000
__GFP_RECLAIM = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM
GFP_ATOMIC = __GFP_HIGH | __GFP_KSWAPD_RECLAIM
GFP_NOWAIT = __GFP_KSWAPD_RECLAIM
GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS
GFP_NOIO = __GFP_RECLAIM
GFP_NOFS = __GFP_RECLAIM | __GFP_IO
GFP_USER = GFP_KERNEL
GFP_HIGHUSER = GFP_USER | __GFP_HIGHMEM


def gfpflags_allow_blocking(gfp: int) -> bool:
    return bool(gfp & __GFP_DIRECT_RECLAIM)
