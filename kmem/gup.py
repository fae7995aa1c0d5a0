"""get_user_pages and pin_user_pages (mm/gup.c).

Pins (FOLL_PIN) are what a caller takes to do I/O to user memory; each is
held in the sanitizer ledger until unpinned, so a leak shows at the end of a
test and an unpin of a page that was never pinned is recorded.  References
(get_user_pages) are plain page references the caller drops with
put_page().
"""

from __future__ import annotations

from kmem import stats as _stats
from kmem.errno import EFAULT, EINVAL, EREMOTEIO, KernelBug
from kmem.mm_types import PAGE_SHIFT, PAGE_SIZE, Folio, Kind, Page
from kmem.mmap import VM_PFNMAP, access_ok, current_mm
from kmem.page_alloc import folio_put
from kmem.preempt import might_sleep
from kmem.sanitizer import UNPIN_UNPINNED, WARN, ledger, report

FOLL_WRITE = 0x01
FOLL_GET = 0x04
FOLL_FORCE = 0x10
FOLL_NOWAIT = 0x20
FOLL_NOFAULT = 0x80
FOLL_LONGTERM = 0x100
FOLL_PCI_P2PDMA = 0x1000
FOLL_PIN = 0x40000
# What gup_fast_fallback() accepts; anything else is WARN_ON_ONCE, -EINVAL.
_FAST_FLAGS = (FOLL_WRITE | FOLL_LONGTERM | FOLL_FORCE | FOLL_PIN | FOLL_GET | FOLL_NOFAULT
               | FOLL_PCI_P2PDMA)


def _gup(start: int, nr_pages: int, gup_flags: int, pin: bool, what: str) -> tuple[int, list[Page]]:
    if not isinstance(nr_pages, int) or nr_pages < 0:
        raise ValueError(f"nr_pages must be an int >= 0, got {nr_pages!r}")
    # is_valid_gup_args(): each refusal is a WARN_ON_ONCE and -EINVAL.
    if WARN(gup_flags & FOLL_PIN, f"{what}: FOLL_PIN is an internal flag"):
        return -EINVAL, []
    if WARN(pin and gup_flags & FOLL_GET, f"{what}: FOLL_GET and FOLL_PIN are mutually exclusive"):
        return -EINVAL, []
    if WARN(not pin and gup_flags & FOLL_LONGTERM,
            f"{what}: FOLL_LONGTERM can only be specified when pinning"):
        return -EINVAL, []
    if WARN(what.endswith("_fast") and gup_flags & ~_FAST_FLAGS,
            f"{what}: flags {gup_flags & ~_FAST_FLAGS:#x} are not accepted by GUP-fast"):
        return -EINVAL, []
    if nr_pages == 0:
        return 0, []
    start &= ~(PAGE_SIZE - 1)
    if not access_ok(start, nr_pages << PAGE_SHIFT):
        return -EFAULT, []
    if not gup_flags & FOLL_NOFAULT:
        might_sleep(what)
    mm = current_mm()
    write = bool(gup_flags & FOLL_WRITE)
    pages: list[Page] = []
    err = 0
    from kmem.preempt import pagefault_disable, pagefault_enable

    if gup_flags & FOLL_NOFAULT:
        pagefault_disable()
    try:
        for i in range(nr_pages):
            addr = start + (i << PAGE_SHIFT)
            vma = mm.find_vma(addr)
            if vma is not None and vma.flags & VM_PFNMAP:
                # remap_pfn_range memory has no pages GUP may hand out.
                err = -EFAULT
                break
            page = mm._fault_in(addr >> PAGE_SHIFT, write)
            if page is None:
                err = -EFAULT
                break
            if page.kind is Kind.DEVICE and not gup_flags & FOLL_PCI_P2PDMA:
                # P2PDMA pages are only handed to callers that asked for them.
                err = -EREMOTEIO
                break
            pages.append(page)
    finally:
        if gup_flags & FOLL_NOFAULT:
            pagefault_enable()
    for page in pages:
        folio = page.head
        folio._refcount += 1
        if pin:
            folio._pincount += 1
            ledger.pins[folio] = ledger.pins.get(folio, 0) + 1
    if not pages:
        return err, []
    if _stats.ON:
        (_stats.note_pin if pin else _stats.note_ref)(len(pages))
    return len(pages), pages


def pin_user_pages(start: int, nr_pages: int, gup_flags: int) -> tuple[int, list[Page]]:
    """Pin ``nr_pages`` user pages from ``start`` (FOLL_PIN).  Returns
    ``(number pinned or -errno, pages)``; a short count means a fault part
    way.  Release each with unpin_user_page()."""
    return _gup(start, nr_pages, gup_flags, True, "pin_user_pages")


def pin_user_pages_fast(start: int, nr_pages: int, gup_flags: int) -> tuple[int, list[Page]]:
    return _gup(start, nr_pages, gup_flags, True, "pin_user_pages_fast")


def get_user_pages(start: int, nr_pages: int, gup_flags: int) -> tuple[int, list[Page]]:
    """Take references (not pins) on user pages; drop them with put_page()."""
    return _gup(start, nr_pages, gup_flags, False, "get_user_pages")


def get_user_pages_fast(start: int, nr_pages: int, gup_flags: int) -> tuple[int, list[Page]]:
    return _gup(start, nr_pages, gup_flags, False, "get_user_pages_fast")


def unpin_user_page(page: Page) -> None:
    """Release one pin; unpinning what was not pinned is recorded."""
    folio = page.head
    held = ledger.pins.get(folio, 0)
    if held == 0:
        report(UNPIN_UNPINNED, f"unpin_user_page() on {page!r}, which holds no pin")
        return
    if held == 1:
        del ledger.pins[folio]
    else:
        ledger.pins[folio] = held - 1
    folio._pincount -= 1
    folio_put(folio)


def _npages(pages: list[Page | None], npages: int) -> None:
    if npages > len(pages):
        raise ValueError(f"npages={npages} is past the end of the {len(pages)}-entry pages array")


def unpin_user_pages(pages: list[Page | None], npages: int) -> None:
    """``unpin_user_pages()``: a negative count (an -errno handed on by
    mistake) is ``WARN_ON(IS_ERR_VALUE(npages))`` and unpins nothing; NULL
    entries are skipped."""
    if WARN(npages < 0, f"unpin_user_pages(): npages={npages} looks like an -errno"):
        return
    _npages(pages, npages)
    for page in pages[:npages]:
        if page is not None:
            unpin_user_page(page)


def unpin_user_pages_dirty_lock(pages: list[Page | None], npages: int,
                                make_dirty: bool) -> None:
    """Unpin after I/O; the model has no dirty tracking, so ``make_dirty``
    only documents intent.  Without it this is unpin_user_pages(); with it
    the kernel has no -errno check, so a negative count is a ValueError
    here (C would walk off the array), and a NULL entry is dereferenced."""
    if not make_dirty:
        unpin_user_pages(pages, npages)
        return
    if npages < 0:
        raise ValueError(f"npages must be >= 0, got {npages}")
    _npages(pages, npages)
    for page in pages[:npages]:
        if page is None:
            raise KernelBug("unpin_user_pages_dirty_lock(): NULL page in the array "
                            "(page_folio(NULL) dereferenced)")
        unpin_user_page(page)


def folio_maybe_dma_pinned(folio: Folio) -> bool:
    return folio._pincount > 0
