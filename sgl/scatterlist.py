"""struct scatterlist, its inline helpers and sg tables
(include/linux/scatterlist.h, lib/scatterlist.c: first half).

A scatterlist array is a Python list of :class:`Scatterlist` entries laid
out exactly as in the kernel: a chained list is several arrays whose last
slot is a link entry (SG_CHAIN) pointing at the first entry of the next
array, and the last data entry carries SG_END.  "A pointer to a scatterlist"
is either an entry (a pointer into the middle of its array) or a list (a
pointer to its first entry); every function here accepts both.  Each entry
remembers the array it lives in and its index there, which is what makes
``sg + 1`` (and so ``sg_next``) possible.

Arrays that the kernel allocates (sg_alloc_table, sg_split, sgl_alloc, ...)
are :class:`SgArray` lists whose ``addr`` is a real kmalloc/page allocation
of 32 bytes per entry, so that allocation failure, fault injection and the
descriptor memory a list costs are all modelled.

Tables and list allocation are in ``sgl/sg_table.py``; the iterators and
copy helpers of lib/scatterlist.c in
``sgl/scatterlist_iter.py``; sg_split in ``sgl/sg_split.py``; the mempool
backed chained tables in ``sgl/sg_pool.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import kmem
from kmem import PAGE_SIZE, Folio, KernelBug, Page
from kmem import errno as E

SG_CHAIN = 0x01
SG_END = 0x02
SG_PAGE_LINK_MASK = 0x03
SG_DMA_BUS_ADDRESS = 1 << 0
SG_DMA_SWIOTLB = 1 << 1

SIZEOF_SCATTERLIST = 32                       # x86-64, with dma_length and dma_flags
SG_MAX_SINGLE_ALLOC = PAGE_SIZE // SIZEOF_SCATTERLIST
SG_CHUNK_SIZE = 128
SG_MAX_SEGMENTS = 2048
UINT_MAX = 0xFFFFFFFF

# Where struct pages live (x86-64 vmemmap); only used to show page_link as
# the kernel would print it.
VMEMMAP_START = 0xFFFFEA0000000000
SIZEOF_STRUCT_PAGE = 64


class SgArray(list):
    """An array of ``struct scatterlist`` (a plain Python list of entries)
    with ``addr``: the kernel address of its allocation, or 0 when the array
    is not heap memory (on the stack, embedded in a request, ...)."""

    __slots__ = ("addr",)

    def __init__(self, entries=(), addr: int = 0) -> None:
        if not isinstance(addr, int):
            raise TypeError(f"SgArray(): addr must be int, got {type(addr).__name__}")
        try:
            super().__init__(entries)
        except TypeError as e:
            raise TypeError(f"SgArray(): entries must be iterable, got "
                            f"{type(entries).__name__}") from e
        self.addr = addr


class Scatterlist:
    """``struct scatterlist``.

    ``page_link`` is modelled by two private slots (the page or, for a link
    entry, the next array's first entry, and the SG_CHAIN/SG_END bits); the
    ``page_link`` property shows the word the kernel would hold.  ``offset``
    may exceed PAGE_SIZE: the entry then starts in a later page of a
    physically contiguous run.  ``dma_address``/``dma_length``/``dma_flags``
    are written by DMA mapping (sgl.dma_mapping)."""

    __slots__ = ("_arr", "_flags", "_idx", "_link", "dma_address", "dma_flags",
                 "dma_length", "length", "offset")

    def __init__(self) -> None:
        self._link: Page | Scatterlist | None = None
        self._flags = 0
        self.offset = 0
        self.length = 0
        self.dma_address = 0
        self.dma_length = 0
        self.dma_flags = 0
        self._arr: list | None = None
        self._idx = 0

    @property
    def page_link(self) -> int:
        """The kernel's ``page_link`` word: a struct page (or, with
        SG_CHAIN, a scatterlist) address with the two flag bits."""
        link = self._link
        if link is None:
            base = 0
        elif isinstance(link, Scatterlist):
            arr = link._arr
            addr = getattr(arr, "addr", 0) or (id(arr) & ~0x1F)
            base = addr + link._idx * SIZEOF_SCATTERLIST
        else:
            base = VMEMMAP_START + link.pfn * SIZEOF_STRUCT_PAGE
        return base | self._flags

    def _zero(self) -> None:
        self._link = None
        self._flags = 0
        self.offset = self.length = 0
        self.dma_address = self.dma_length = self.dma_flags = 0

    def __repr__(self) -> str:
        if self._flags & SG_CHAIN:
            return f"<sg chain -> {self._link!r:.40}>"
        end = " END" if self._flags & SG_END else ""
        return f"<sg {self._link!r} off={self.offset} len={self.length}{end}>"


ScatterlistPtr = Scatterlist | list

# Entries that a kept description covers (sgl.sg_bulk keeps the numpy
# columns of a scatterlist array with it) are of this subclass: the first
# store into any field of one bumps sg_stores, so no kept description is
# used again, and turns the entry back into a plain Scatterlist.  Only
# described entries pay for the check, once each (a Python __setattr__ on
# every entry would make each store ~25x dearer: sg_init_table 130 ->
# 1680 ns per entry, measured).
sg_stores = 0
_setattr = object.__setattr__


class _KeptScatterlist(Scatterlist):
    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        global sg_stores
        sg_stores += 1
        _setattr(self, "__class__", Scatterlist)
        _setattr(self, name, value)


SG_ARRAY_MAX = 1 << 20


def sg_array(nents: int) -> SgArray:
    """Model helper: ``struct scatterlist sg[nents];`` (zeroed, not
    end-marked: call sg_init_table as the kernel would)."""
    if not isinstance(nents, int) or nents < 0:
        raise ValueError(f"nents must be an int >= 0, got {nents!r}")
    if nents > SG_ARRAY_MAX:
        # A C array that large is no on-stack or static array a kernel has.
        raise ValueError(f"nents must be <= {SG_ARRAY_MAX}, got {nents}")
    arr = SgArray([Scatterlist() for _ in range(nents)])
    for i, sg in enumerate(arr):
        sg._arr, sg._idx = arr, i
    return arr


def _ptr(sg: ScatterlistPtr | None, name: str = "sg") -> Scatterlist | None:
    """The entry a "struct scatterlist *" argument points at."""
    if sg is None or isinstance(sg, Scatterlist):
        return sg
    if isinstance(sg, list):
        if not sg:
            raise ValueError(f"{name} is an empty array")
        first = sg[0]
        if not isinstance(first, Scatterlist):
            raise TypeError(f"{name} must hold Scatterlist entries, got {type(first).__name__}")
        if first._arr is None:
            _bind(sg)
        return first
    raise TypeError(f"{name} must be a Scatterlist or a list of them, got {type(sg).__name__}")


def _need(sg: ScatterlistPtr | None, name: str = "sg") -> Scatterlist:
    p = _ptr(sg, name)
    if p is None:
        raise KernelBug(f"NULL pointer dereference: {name} is NULL")
    return p


def _bind(arr: list) -> None:
    """Give entries that do not yet belong to an array their place in
    ``arr`` (entries already placed keep their array, as memory would)."""
    for i, sg in enumerate(arr):
        if not isinstance(sg, Scatterlist):
            raise TypeError(f"array entry {i} is a {type(sg).__name__}, not a Scatterlist")
        if sg._arr is None:
            sg._arr, sg._idx = arr, i


def _entries(sg: ScatterlistPtr, nents: int, name: str = "sgl") -> list[Scatterlist]:
    """``sg[0] .. sg[nents-1]`` as array slots (no chain following)."""
    if not isinstance(nents, int) or nents < 0:
        raise ValueError(f"nents must be an int >= 0, got {nents!r}")
    first = _need(sg, name)
    if first._arr is None:
        if nents > 1:
            raise ValueError(f"{name}: a lone entry is not an array of {nents}")
        _bind(SgArray([first]))
    arr, i = first._arr, first._idx
    if i + nents > len(arr):
        raise ValueError(f"{name}: array has {len(arr) - i} entries from there, "
                         f"fewer than nents={nents}")
    return arr[i:i + nents]


def _uint(value: object, name: str, limit: int = UINT_MAX) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0 or value > limit:
        raise ValueError(f"{name} must be in 0..{limit:#x}, got {value}")
    return value


# Entry helpers (include/linux/scatterlist.h).

def sg_is_chain(sg: Scatterlist) -> bool:
    return bool(sg._flags & SG_CHAIN)


def sg_is_last(sg: Scatterlist) -> bool:
    return bool(sg._flags & SG_END)


def sg_chain_ptr(sg: Scatterlist) -> Scatterlist:
    """The first entry of the array a link entry points at."""
    if not sg._flags & SG_CHAIN:
        raise KernelBug("sg_chain_ptr() on an entry that is not a chain link")
    return sg._link  # type: ignore[return-value]


def sg_page(sg: ScatterlistPtr) -> Page | None:
    """``sg_page()``: the page of a data entry (BUG on a link entry, as
    with CONFIG_DEBUG_SG)."""
    sg = _need(sg)
    if sg._flags & SG_CHAIN:
        raise KernelBug("sg_page() on a chain link entry")
    return sg._link  # type: ignore[return-value]


def sg_assign_page(sg: ScatterlistPtr, page: Page | None) -> None:
    """``sg_assign_page()``: store the page, keeping SG_CHAIN/SG_END."""
    sg = _need(sg)
    if page is not None and not isinstance(page, Page):
        raise TypeError(f"page must be a kmem.Page, got {type(page).__name__}")
    if sg._flags & SG_CHAIN:
        raise KernelBug("sg_assign_page() on a chain link entry")
    sg._link = page


def sg_set_page(sg: ScatterlistPtr, page: Page | None, len: int, offset: int) -> None:
    """``sg_set_page(sg, page, len, offset)`` (kernel argument order)."""
    sg = _need(sg)
    _uint(len, "len")
    _uint(offset, "offset")
    sg_assign_page(sg, page)
    sg.offset = offset
    sg.length = len


def sg_set_folio(sg: ScatterlistPtr, folio: Folio, len: int, offset: int) -> None:
    """``sg_set_folio()``: WARN_ON_ONCE if len or offset do not fit the
    entry's 32-bit fields, then store them truncated, as the kernel does."""
    _uint(len, "len", 1 << 64)
    _uint(offset, "offset", 1 << 64)
    kmem.WARN(len > UINT_MAX or offset > UINT_MAX, "sg_set_folio: len or offset exceeds UINT_MAX")
    sg_set_page(sg, folio, len & UINT_MAX, offset & UINT_MAX)


def sg_set_buf(sg: ScatterlistPtr, buf: int, buflen: int) -> None:
    """``sg_set_buf()``: the page is ``virt_to_page(buf)``, which is only
    valid for the direct map (kmalloc, page allocator).  A vmalloc or
    on-stack buffer is recorded in the ledger as the bug it is, and the
    entry then describes the wrong memory beyond its first page, exactly
    as in the kernel."""
    if not isinstance(buf, int) or isinstance(buf, bool):
        raise TypeError(f"buf must be a kernel address (int), got {type(buf).__name__}")
    _uint(buflen, "buflen")
    sg_set_page(sg, kmem.virt_to_page(buf), buflen, kmem.offset_in_page(buf))


def sg_virt(sg: ScatterlistPtr) -> int:
    """``sg_virt()``: the direct-map address of the entry's data."""
    sg = _need(sg)
    page = sg_page(sg)
    if page is None:
        raise KernelBug("sg_virt() on an entry without a page")
    return kmem.page_address(page) + sg.offset


def sg_phys(sg: ScatterlistPtr) -> int:
    sg = _need(sg)
    page = sg_page(sg)
    if page is None:
        raise KernelBug("sg_phys() on an entry without a page")
    return kmem.page_to_phys(page) + sg.offset


def sg_dma_address(sg: Scatterlist) -> int:
    return sg.dma_address


def sg_dma_len(sg: Scatterlist) -> int:
    return sg.dma_length


def sg_dma_is_bus_address(sg: Scatterlist) -> bool:
    return bool(sg.dma_flags & SG_DMA_BUS_ADDRESS)


def sg_dma_is_swiotlb(sg: Scatterlist) -> bool:
    return bool(sg.dma_flags & SG_DMA_SWIOTLB)


def sg_next(sg: ScatterlistPtr) -> Scatterlist | None:
    """``sg_next()``: None after the end-marked entry; otherwise ``sg + 1``,
    following it if it is a chain link.  Running off an array that has no
    end mark is a KernelBug (the kernel would read past the array)."""
    if type(sg) is not Scatterlist and type(sg) is not _KeptScatterlist:
        sg = _need(sg)
    if sg._flags & SG_END:
        return None
    arr = sg._arr
    i = sg._idx + 1
    if arr is None or i >= len(arr):
        raise KernelBug("sg_next() ran past the end of a scatterlist array without SG_END")
    nxt = arr[i]
    if nxt._flags & SG_CHAIN:
        nxt = nxt._link
    return nxt


def __sg_chain(chain_sg: Scatterlist, sgl: ScatterlistPtr) -> None:
    """Turn ``chain_sg`` into a link to ``sgl``."""
    target = _need(sgl, "sgl")
    chain_sg.offset = 0
    chain_sg.length = 0
    chain_sg._link = target
    chain_sg._flags = SG_CHAIN


_sg_chain_link = __sg_chain


def sg_chain(prv: ScatterlistPtr, prv_nents: int, sgl: ScatterlistPtr) -> None:
    """``sg_chain()``: the last of ``prv``'s ``prv_nents`` slots becomes the
    link to ``sgl`` (so ``prv_nents`` counts the link slot)."""
    if not isinstance(prv_nents, int) or prv_nents < 1:
        raise ValueError(f"prv_nents must be >= 1, got {prv_nents!r}")
    _sg_chain_link(_entries(prv, prv_nents, "prv")[-1], sgl)


def sg_mark_end(sg: ScatterlistPtr) -> None:
    """``sg_mark_end()``: set SG_END, clear SG_CHAIN."""
    sg = _need(sg)
    sg._flags = (sg._flags | SG_END) & ~SG_CHAIN
    if isinstance(sg._link, Scatterlist):
        sg._link = None


def sg_unmark_end(sg: ScatterlistPtr) -> None:
    sg = _need(sg)
    sg._flags &= ~SG_END


def sg_init_marker(sgl: ScatterlistPtr, nents: int) -> None:
    if isinstance(nents, int) and nents == 0:
        # sgl[nents - 1] would be the slot before the array.
        raise ValueError("sg_init_marker(): nents must be >= 1, got 0")
    sg_mark_end(_entries(sgl, nents)[-1])


def for_each_sg(sglist: ScatterlistPtr | None, nr: int) -> Iterator[Scatterlist]:
    """``for_each_sg(sglist, sg, nr, i)``: the first ``nr`` entries,
    following chains.  Asking for more entries than the list has is a
    KernelBug (the kernel would dereference NULL)."""
    sg = _ptr(sglist, "sglist")
    for i in range(nr):
        if sg is None:
            raise KernelBug(f"for_each_sg: list ended after {i} of {nr} entries")
        yield sg
        if i + 1 < nr:
            sg = sg_next(sg)


# lib/scatterlist.c basics.

def sg_nents(sg: ScatterlistPtr | None) -> int:
    """``sg_nents()``: data entries up to the end mark (links not counted)."""
    sg = _ptr(sg)
    n = 0
    while sg is not None:
        n += 1
        sg = sg_next(sg)
    return n


def sg_nents_for_len(sg: ScatterlistPtr | None, len: int) -> int:
    """``sg_nents_for_len()``: entries needed to cover ``len`` bytes, or
    -EINVAL if the list is shorter."""
    _uint(len, "len", (1 << 64) - 1)
    if not len:
        return 0
    sg = _ptr(sg)
    n = total = 0
    while sg is not None:
        n += 1
        total += sg.length
        if total >= len:
            return n
        sg = sg_next(sg)
    return -E.EINVAL


def sg_nents_for_dma(sgl: ScatterlistPtr, sglen: int, len: int) -> int:
    """``sg_nents_for_dma()``: entries if each DMA segment were split into
    pieces of at most ``len`` bytes."""
    if not isinstance(len, int) or len <= 0:
        raise ValueError(f"len must be > 0, got {len!r}")
    return sum(-(-sg.dma_length // len) for sg in for_each_sg(sgl, sglen))


def sg_last(sgl: ScatterlistPtr, nents: int) -> Scatterlist:
    """``sg_last()``: the ``nents``-th entry; BUG unless it is end-marked."""
    ret = None
    for sg in for_each_sg(sgl, nents):
        ret = sg
    if ret is None or not sg_is_last(ret):
        raise KernelBug("sg_last(): the last entry is not marked SG_END")
    return ret


def sg_init_table(sgl: ScatterlistPtr, nents: int) -> None:
    """``sg_init_table()``: zero ``nents`` entries and end-mark the last."""
    if isinstance(sgl, list):
        _bind(sgl)
    ents = _entries(sgl, nents)
    for sg in ents:
        sg._zero()
    if ents:
        sg_mark_end(ents[-1])


def sg_init_one(sg: ScatterlistPtr, buf: int, buflen: int) -> None:
    """``sg_init_one()``: a one-entry list over a (direct-map) buffer."""
    sg_init_table(sg, 1)
    sg_set_buf(sg, buf, buflen)
