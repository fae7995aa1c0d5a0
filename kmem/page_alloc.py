"""Physical memory and the page allocator (mm/page_alloc.c, include/linux/mm.h).

Physical memory is a list of banks, each a 64 MiB numpy array created only
when the allocator first needs it (and numpy's calloc leaves untouched pages
to the host's lazy allocation), so a model that hands out 1 GiB does not
hold 1 GiB.  A page frame is a 4096-byte slice of its bank; frames that are
physically adjacent in one bank are adjacent in the array, which is what
lets the access helpers hand whole physically contiguous runs to numpy.

The allocator keeps a free list per order and carves new blocks from the
banks.  Order-0 pages are handed out in descending pfn order from each
carved block, so two consecutive alloc_page() calls never return physically
adjacent pages in ascending order: vmalloc memory really is scattered.
"""

from __future__ import annotations

import numpy as np

from kmem import stats as _stats
from kmem.errno import KernelBug
from kmem.mm_types import (
    __GFP_COMP,
    __GFP_NOWARN,
    __GFP_ZERO,
    MAX_PAGE_ORDER,
    PAGE_SHIFT,
    PAGE_SIZE,
    Folio,
    Kind,
    Page,
    gfpflags_allow_blocking,
)
from kmem.preempt import might_sleep
from kmem.sanitizer import WARN, note_alloc, note_free, report

BANK_SHIFT = 14                      # pages per bank: 16384 (64 MiB)
BANK_PAGES = 1 << BANK_SHIFT
BANK_BYTES = BANK_PAGES << PAGE_SHIFT
MAX_BANKS = 256                      # 16 GiB of simulated RAM at most
MODEL_RAM_BYTES = MAX_BANKS * BANK_BYTES
PFN_BASE = 0x100                     # RAM starts at 1 MiB, so no page is at 0
DEVICE_PFN_BASE = 1 << 30            # device memory (ZONE_DEVICE) lives up here
POISON_FREE = 0x6B                   # what freed memory reads as (SLUB's poison)

# Per-frame state, kept beside the heads so that many ranges can be checked
# at once (kmem.bulk): free, plain CPU memory (page, vmalloc, stack, user:
# nothing to check inside the folio), slab (object bounds to check), other.
FRAME_FREE, FRAME_PLAIN, FRAME_SLAB, FRAME_OTHER = 0, 1, 2, 3
# For a slab frame: how many bytes from the frame's start are inside the
# live object there, when the objects are a page or more (-1 once it is
# freed); SLAB_LIMIT_PER_OBJECT when several objects share the frame.
SLAB_LIMIT_PER_OBJECT = -2
_FRAME_OF_KIND = {Kind.PAGE: FRAME_PLAIN, Kind.VMALLOC: FRAME_PLAIN, Kind.STACK: FRAME_PLAIN,
                  Kind.USER: FRAME_PLAIN, Kind.SLAB: FRAME_SLAB}

PAGE_OFFSET = 0xFFFF888000000000     # the direct map (x86-64, 4-level paging)

_banks: list[np.ndarray] = []
_heads: list[np.ndarray] = []        # per bank: pfn of each frame's head, -1 if free
_state: list[np.ndarray] = []        # per bank: each frame's FRAME_* state (kmem.bulk)
_limit: list[np.ndarray] = []        # per bank: slab frames' bytes in bounds (set_slab_limit)
mem_map: dict[int, Page] = {}        # pfn -> struct page
# Folios freed so far: a description that checked its folios were live
# still holds while this has not moved (kmem.bulk's kept descriptors).
frees = [0]
_free_lists: list[list[int]] = [[] for _ in range(MAX_PAGE_ORDER + 1)]
_bump = [PFN_BASE]                   # next never-used pfn
_last0 = [-2]                        # the order-0 pfn handed out last
_fail = {"skip": 0, "times": 0}      # fault injection (fail_page_alloc / failslab)


def _new_bank() -> None:
    if len(_banks) >= MAX_BANKS:
        raise MemoryError("the model's physical memory is exhausted")
    _banks.append(np.zeros(BANK_BYTES, dtype=np.uint8))
    _heads.append(np.full(BANK_PAGES, -1, dtype=np.int64))
    _state.append(np.zeros(BANK_PAGES, dtype=np.uint8))
    _limit.append(np.full(BANK_PAGES, SLAB_LIMIT_PER_OBJECT, dtype=np.int64))


def _carve(order: int) -> int:
    """A never-used, naturally aligned block of 2**order frames."""
    n = 1 << order
    while True:
        pfn = (_bump[0] + n - 1) & ~(n - 1)
        bank = (pfn - PFN_BASE) >> BANK_SHIFT
        last_bank = (pfn + n - 1 - PFN_BASE) >> BANK_SHIFT
        if bank == last_bank:
            break
        # The block would straddle two banks: the remainder of this bank
        # becomes order-0 free pages and carving goes on in the next one.
        for p in range(_bump[0], PFN_BASE + ((bank + 1) << BANK_SHIFT)):
            _free_lists[0].append(p)
        _bump[0] = PFN_BASE + ((bank + 1) << BANK_SHIFT)
    while ((pfn + n - 1 - PFN_BASE) >> BANK_SHIFT) >= len(_banks):
        _new_bank()
    # Alignment gaps go to the order-0 list rather than being lost.
    _free_lists[0].extend(range(_bump[0], pfn))
    _bump[0] = pfn + n
    return pfn


def _take_block(order: int) -> int:
    if order:
        return _free_lists[order].pop() if _free_lists[order] else _carve(order)
    free = _free_lists[0]
    if not free:
        # Refill from a fresh 64-page block; popping from the end hands the
        # pages out in descending pfn order (see the module docstring).
        base = _carve(6)
        free.extend(range(base, base + 64))
    pfn = free.pop()
    if pfn == _last0[0] + 1 and free:
        # Pages freed in the order they were allocated come back ascending;
        # taking the next one keeps consecutive pages scattered, so no test
        # or driver gets a physically contiguous vmalloc area by chance.
        pfn, free[-1] = free[-1], pfn
    _last0[0] = pfn
    return pfn


def should_fail_alloc() -> bool:
    """Fault injection: does this allocation fail?"""
    if _fail["times"] <= 0:
        return False
    if _fail["skip"] > 0:
        _fail["skip"] -= 1
        return False
    _fail["times"] -= 1
    return True


class fail_allocations:
    """Make allocations fail, as CONFIG_FAIL_PAGE_ALLOC/FAILSLAB do.

    ``with fail_allocations(after=2, times=1):`` lets two allocations (pages,
    slab or vmalloc) succeed and fails the third.  Afterwards ``passed`` is
    how many allocations were let through and ``failed`` how many failed.
    """

    def __init__(self, after: int = 0, times: int = 1) -> None:
        if after < 0 or times < 0:
            raise ValueError("after and times must be >= 0")
        self.after, self.times = after, times

    def __enter__(self) -> fail_allocations:
        self.saved = dict(_fail)
        _fail.update(skip=self.after, times=self.times)
        return self

    def __exit__(self, *exc: object) -> None:
        self.passed = self.after - _fail["skip"]
        self.failed = self.times - _fail["times"]
        _fail.update(self.saved)


def set_slab_limit(pfn: int, nframes: int, size: int) -> None:
    """Record that the object of ``size`` bytes (-1: freed) starting at frame
    ``pfn`` covers its ``nframes`` frames (objects of a page or more)."""
    bank, i = _bank_of(pfn)
    lim = _limit[bank][i:i + nframes]
    if size < 0:
        lim[:] = -1
    else:
        lim[:] = size - (np.arange(nframes, dtype=np.int64) << PAGE_SHIFT)


def _bank_of(pfn: int) -> tuple[int, int]:
    rel = pfn - PFN_BASE
    return rel >> BANK_SHIFT, rel & (BANK_PAGES - 1)


def pfn_valid(pfn: int) -> bool:
    """Is there RAM (or device memory) with a struct page at ``pfn``?"""
    if pfn >= DEVICE_PFN_BASE:
        return pfn in mem_map
    return PFN_BASE <= pfn < PFN_BASE + (len(_banks) << BANK_SHIFT)


def _alloc_folio(gfp: int, order: int, kind: Kind) -> Folio | None:
    if not isinstance(order, int) or order < 0:
        raise ValueError(f"order must be an int >= 0, got {order!r}")
    if order > MAX_PAGE_ORDER:
        # __alloc_frozen_pages_noprof: WARN_ON_ONCE_GFP (silent under
        # __GFP_NOWARN), then NULL.
        WARN(not (gfp & __GFP_NOWARN),
             f"alloc_pages(): order {order} > MAX_PAGE_ORDER ({MAX_PAGE_ORDER})")
        return None
    if gfpflags_allow_blocking(gfp):
        might_sleep("a blocking page allocation")
    if should_fail_alloc():
        return None
    try:
        pfn = _take_block(order)
    except MemoryError:
        # The model's RAM (or the host's) is exhausted: the allocation
        # fails as the kernel's would, with NULL.
        return None
    folio = Folio(pfn, order, kind)
    if kind is Kind.PAGE:
        note_alloc("page", pfn, f"order-{order} page block at pfn {pfn:#x}")
    mem_map[pfn] = folio
    bank, i = _bank_of(pfn)
    _heads[bank][i:i + (1 << order)] = pfn
    _state[bank][i:i + (1 << order)] = _FRAME_OF_KIND.get(kind, FRAME_OTHER)
    _limit[bank][i:i + (1 << order)] = SLAB_LIMIT_PER_OBJECT
    if gfp & __GFP_ZERO:
        _banks[bank][i << PAGE_SHIFT:(i + (1 << order)) << PAGE_SHIFT] = 0
    return folio


def alloc_pages(gfp: int, order: int) -> Page | None:
    """``alloc_pages()``: 2**order physically contiguous frames, or None.

    The block is always returned as a compound page (a folio), as if
    __GFP_COMP were given: the model has no non-compound high-order pages.
    """
    if _stats.ON:
        _stats.note_alloc(PAGE_SIZE << order)
    return _alloc_folio(gfp | __GFP_COMP, order, Kind.PAGE)


def alloc_page(gfp: int) -> Page | None:
    if _stats.ON:
        _stats.note_alloc(PAGE_SIZE)
    return _alloc_folio(gfp, 0, Kind.PAGE)


def folio_alloc(gfp: int, order: int) -> Folio | None:
    if _stats.ON:
        _stats.note_alloc(PAGE_SIZE << order)
    return _alloc_folio(gfp, order, Kind.PAGE)


def __get_free_pages(gfp: int, order: int) -> int:
    """The direct-map address of a fresh block, or 0."""
    if _stats.ON:
        _stats.note_alloc(PAGE_SIZE << order)
    folio = _alloc_folio(gfp, order, Kind.PAGE)
    return 0 if folio is None else page_address(folio)


def _release(folio: Folio) -> None:
    """Give the frames of ``folio`` back; later use of it is use-after-free."""
    n = 1 << folio.order
    note_free("page", folio.pfn)
    bank, i = _bank_of(folio.pfn)
    if bank >= 0 and folio.pfn < DEVICE_PFN_BASE:
        _banks[bank][i << PAGE_SHIFT:(i + n) << PAGE_SHIFT] = POISON_FREE
        _heads[bank][i:i + n] = -1
        _state[bank][i:i + n] = FRAME_FREE
        for pfn in range(folio.pfn, folio.pfn + n):
            mem_map.pop(pfn, None)
        _free_lists[folio.order].append(folio.pfn)
    else:
        for pfn in range(folio.pfn, folio.pfn + n):
            mem_map.pop(pfn, None)
    folio.freed = True
    folio.kind = None
    frees[0] += 1


def _put_testzero(what: str, page: Page) -> None:
    """put_page_testzero()'s ``VM_BUG_ON_PAGE(page_ref_count(page) == 0)``:
    dropping a reference nobody holds (a freed folio has none) is a BUG."""
    if page.head.freed or page._refcount <= 0:
        state = "freed" if page.head.freed else "refcount 0"
        raise KernelBug(f"{what}({page!r}): VM_BUG_ON_PAGE(page_ref_count(page) == 0) in "
                        f"put_page_testzero ({state})")


def folio_put(folio: Folio) -> None:
    """Drop a reference; the last one frees the folio."""
    _put_testzero("folio_put", folio)
    folio._refcount -= 1
    if folio._refcount == 0:
        _release(folio)


def __free_pages(page: Page, order: int) -> None:
    """``__free_pages()``: drop the allocation reference on a block.

    As ___free_pages: the reference is dropped on ``page`` itself, so a
    tail page (whose own count is 0) BUGs in put_page_testzero, and the
    last reference freed with an order other than the block's BUGs in
    free_pages_prepare.  The model's blocks are always compound (see
    alloc_pages), so freeing part of one is not modelled."""
    folio = page.head
    if page is not folio:
        raise KernelBug(f"__free_pages({page!r}, {order}): a tail page's refcount is 0: "
                        f"VM_BUG_ON_PAGE(page_ref_count(page) == 0) in put_page_testzero")
    _put_testzero("__free_pages", folio)
    if folio._refcount == 1 and order != folio.order:
        raise KernelBug(f"__free_pages({page!r}, {order}): VM_BUG_ON_PAGE(compound && "
                        f"compound_order(page) != order) in free_pages_prepare "
                        f"(order {folio.order})")
    folio_put(folio)


def __free_page(page: Page) -> None:
    __free_pages(page, 0)


def free_pages(addr: int, order: int) -> None:
    """``free_pages()``: 0 is ignored; an address outside the direct map is
    ``VM_BUG_ON(!virt_addr_valid(addr))``."""
    if addr == 0:
        return
    if not virt_addr_valid(addr):
        raise KernelBug(f"free_pages({addr:#x}, {order}): VM_BUG_ON(!virt_addr_valid(addr))")
    __free_pages(virt_to_page_linear(addr), order)


def page_folio(page: Page) -> Folio:
    return page.head


def folio_page(folio: Folio, n: int) -> Page:
    if not 0 <= n < (1 << folio.order):
        raise ValueError(f"n={n} is outside a folio of {1 << folio.order} pages")
    return pfn_to_page(folio.pfn + n)


def folio_nr_pages(folio: Folio) -> int:
    return 1 << folio.order


def folio_size(folio: Folio) -> int:
    return PAGE_SIZE << folio.order


def folio_order(folio: Folio) -> int:
    return folio.order


def compound_order(page: Page) -> int:
    return page.head.order if page.head is page else 0


def page_count(page: Page) -> int:
    return page.head._refcount


def folio_ref_count(folio: Folio) -> int:
    return folio._refcount


def page_to_pfn(page: Page) -> int:
    return page.pfn


def pfn_to_page(pfn: int) -> Page:
    """The struct page of ``pfn``; tail pages are materialised on demand."""
    page = mem_map.get(pfn)
    if page is not None:
        return page
    if pfn >= DEVICE_PFN_BASE or not pfn_valid(pfn):
        raise KernelBug(f"pfn_to_page({pfn:#x}): no memory at that frame")
    bank, i = _bank_of(pfn)
    head_pfn = int(_heads[bank][i])
    if head_pfn < 0:
        # A free frame: its page says so.
        free = Folio(pfn, 0, Kind.PAGE)
        free.freed, free.kind, free._refcount = True, None, 0
        return free
    page = Page(pfn, mem_map[head_pfn])  # type: ignore[arg-type]
    mem_map[pfn] = page
    return page


def page_to_phys(page: Page) -> int:
    return page.pfn << PAGE_SHIFT


def phys_to_page(phys: int) -> Page:
    return pfn_to_page(phys >> PAGE_SHIFT)


def page_address(page: Page) -> int:
    """The direct-map address of ``page`` (no highmem in this model)."""
    return PAGE_OFFSET + (page.pfn << PAGE_SHIFT)


def folio_address(folio: Folio) -> int:
    return page_address(folio)


def __pa(vaddr: int) -> int:
    return vaddr - PAGE_OFFSET


def __va(phys: int) -> int:
    return phys + PAGE_OFFSET


def is_direct_map(vaddr: int) -> bool:
    return PAGE_OFFSET <= vaddr < PAGE_OFFSET + (DEVICE_PFN_BASE << PAGE_SHIFT)


def virt_addr_valid(vaddr: int) -> bool:
    """True for a direct-map address backed by a page frame."""
    return is_direct_map(vaddr) and pfn_valid((vaddr - PAGE_OFFSET) >> PAGE_SHIFT)


def virt_to_page_linear(vaddr: int) -> Page:
    """virt_to_page() for an address already known to be in the direct map."""
    return pfn_to_page((vaddr - PAGE_OFFSET) >> PAGE_SHIFT)


def offset_in_page(addr: int) -> int:
    return addr & (PAGE_SIZE - 1)


def offset_in_folio(folio: Folio, addr: int) -> int:
    return addr & (folio_size(folio) - 1)


def PAGE_ALIGN(x: int) -> int:
    return (x + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)


def phys_frame_view(pfn: int, offset: int, length: int) -> np.ndarray:
    """The bytes ``[offset, offset+length)`` from frame ``pfn`` on, which
    the caller has checked lie in one bank: a numpy view, no copy."""
    bank, i = _bank_of(pfn)
    start = (i << PAGE_SHIFT) + offset
    return _banks[bank][start:start + length]


def bank_end_pfn(pfn: int) -> int:
    """The first pfn past the bank holding ``pfn``."""
    bank, _ = _bank_of(pfn)
    return PFN_BASE + ((bank + 1) << BANK_SHIFT)


def head_pfn_of(pfn: int) -> int:
    """The head pfn of the allocation holding ``pfn``, or -1 if it is free."""
    if pfn >= DEVICE_PFN_BASE:
        page = mem_map.get(pfn)
        return -1 if page is None else page.head.pfn
    bank, i = _bank_of(pfn)
    if not 0 <= bank < len(_heads):
        return -1
    return int(_heads[bank][i])


# Device memory (ZONE_DEVICE, P2P BARs): struct pages without CPU access.
_device_bump = [DEVICE_PFN_BASE]


def alloc_device_pages(order: int) -> Folio | None:
    """Model helper: a block of 2**order pages of device memory.

    It has struct pages (so it can sit in a bio_vec or a scatterlist, as
    P2PDMA memory does) but the CPU must never load or store through it.
    """
    if not isinstance(order, int) or not 0 <= order <= MAX_PAGE_ORDER:
        raise ValueError(f"order must be an int in 0..{MAX_PAGE_ORDER}, got {order!r}")
    if should_fail_alloc():
        return None
    n = 1 << order
    pfn = (_device_bump[0] + n - 1) & ~(n - 1)
    _device_bump[0] = pfn + n
    folio = Folio(pfn, order, Kind.DEVICE)
    mem_map[pfn] = folio
    for p in range(pfn + 1, pfn + n):
        mem_map[p] = Page(p, folio)
    return folio


def free_device_pages(folio: Folio) -> None:
    folio_put(folio)


def folio_get(folio: Folio) -> None:
    """Take a reference.  Allowed only where the kind allows it (DESIGN §5):
    on slab, stack or device memory the reference is recorded as the bug it
    is (and still taken, as folio_get does).  A folio with no reference
    (a freed one) is ``VM_BUG_ON_FOLIO(folio_ref_zero_or_close_to_overflow)``."""
    from kmem.mm_types import REF_ALLOWED
    from kmem.sanitizer import REF_FORBIDDEN

    if folio.freed or folio._refcount <= 0:
        raise KernelBug(f"folio_get({folio!r}): VM_BUG_ON_FOLIO("
                        f"folio_ref_zero_or_close_to_overflow(folio))")
    kind = folio.kind
    if not REF_ALLOWED[kind]:
        report(REF_FORBIDDEN, f"get_page() on {kind.value} memory {folio!r}")
    elif kind is Kind.USER and folio._pincount == 0 and folio._refcount <= 1:
        # A user page is only the mapping's until GUP hands it out.
        report(REF_FORBIDDEN, f"get_page() on user page {folio!r} that was not pinned or gotten")
    if _stats.ON:
        _stats.note_ref()
    folio._refcount += 1


def get_page(page: Page) -> None:
    """``get_page()``: on a slab page the kernel WARNs (WARN_ON_ONCE of
    folio_test_slab) and takes no reference; the ledger records it as the
    forbidden reference it is."""
    folio = page.head
    if folio.kind is Kind.SLAB and not folio.freed:
        from kmem.sanitizer import REF_FORBIDDEN

        report(REF_FORBIDDEN, f"get_page() on slab memory {folio!r}: WARN_ON_ONCE, "
                              f"no reference taken")
        return
    folio_get(folio)


def put_page(page: Page) -> None:
    """``put_page()``: a slab page is left alone (its get_page took nothing)."""
    folio = page.head
    if folio.kind is Kind.SLAB and not folio.freed:
        return
    folio_put(folio)


def pfn_run_views(pfns: np.ndarray, offset: int, length: int) -> list[np.ndarray]:
    """Views of ``length`` bytes starting ``offset`` bytes into the first of
    the frames ``pfns`` (a virtually contiguous run of pages, as a vmalloc
    area or a user mapping has), one view per physically contiguous run.

    The runs are found with numpy, so a large range over scattered pages
    costs one slice per run and no Python work per page beyond that."""
    if len(pfns) == 1:
        return [phys_frame_view(int(pfns[0]), offset, length)]
    # Runs of ascending adjacent pfns are contiguous, unless a bank ends.
    step = (np.diff(pfns) != 1) | (((pfns[1:] - PFN_BASE) & (BANK_PAGES - 1)) == 0)
    run_starts = np.concatenate(([0], np.flatnonzero(step) + 1))
    run_ends = np.append(run_starts[1:], len(pfns))
    rel = pfns[run_starts] - PFN_BASE
    banks = rel >> BANK_SHIFT
    starts = (rel & (BANK_PAGES - 1)) << PAGE_SHIFT
    lens = (run_ends - run_starts) << PAGE_SHIFT
    starts[0] += offset
    lens[0] -= offset
    lens[-1] -= (len(pfns) << PAGE_SHIFT) - (offset + length)
    ends = starts + lens
    if (banks == banks[0]).all():
        bank = _banks[int(banks[0])]
        return [bank[s:e] for s, e in zip(starts.tolist(), ends.tolist())]
    return [_banks[b][s:e] for b, s, e in zip(banks.tolist(), starts.tolist(), ends.tolist())]
