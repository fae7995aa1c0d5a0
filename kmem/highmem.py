"""kmap_local_page and the page copy helpers (include/linux/highmem.h).

The model has no highmem, so a mapping is the page's direct-map address;
what is modelled is the discipline: local and atomic mappings nest and must
be released in reverse order, atomic ones disable page faults, nothing is
left mapped at the end, and device memory is never mapped for the CPU.
"""

from __future__ import annotations

from kmem import stats as _stats
from kmem.access import Buffer, buffer_views, copy_views, page_views
from kmem.errno import KernelBug
from kmem.mm_types import PAGE_SIZE, Folio, Kind, Page
from kmem.page_alloc import page_address
from kmem.preempt import pagefault_disable, pagefault_enable, preempt_disable, preempt_enable
from kmem.sanitizer import DEVICE_ACCESS, KMAP_UNBALANCED, ledger, report

# asm-generic/kmap_size.h: the local/atomic slots a task has.  The push
# BUGs when the index reaches it, so at most KM_MAX_IDX - 1 nest.
KM_MAX_IDX = 16

# What a ledger.kmaps entry's third field says the mapping is.
LOCAL, ATOMIC, GLOBAL = "local", "atomic", "global"


def _map(page: Page, how: str) -> int:
    if how != GLOBAL:
        depth = sum(1 for _, _, h in ledger.kmaps if h != GLOBAL)
        if depth + 1 >= KM_MAX_IDX:
            # kmap_local_idx_push(): BUG_ON(idx >= KM_MAX_IDX).  Only kernels
            # with CONFIG_KMAP_LOCAL (highmem, or DEBUG_KMAP_LOCAL_FORCE_MAP)
            # have the slots; the model keeps their discipline everywhere.
            raise KernelBug(f"kmap_local: {depth + 1} nested local mappings: "
                            f"BUG_ON(idx >= KM_MAX_IDX) in kmap_local_idx_push")
    if page.kind is Kind.DEVICE:
        report(DEVICE_ACCESS, f"kmap of device memory {page!r}")
    vaddr = page_address(page)
    if _stats.ON:
        _stats.note_kmap()
    ledger.kmaps.append((vaddr, page, how))
    if how == ATOMIC:
        pagefault_disable()
        preempt_disable()
    return vaddr


def _unmap(vaddr: int, what: str) -> None:
    """Release the newest local/atomic mapping, which must be ``vaddr``'s
    (kunmap_local_indexed's WARN_ON_ONCE; recorded as kmap-unbalanced)."""
    base = vaddr & ~(PAGE_SIZE - 1)
    if _stats.ON:
        _stats.note_kunmap()
    stack = [i for i, (_, _, how) in enumerate(ledger.kmaps) if how != GLOBAL]
    if not stack:
        report(KMAP_UNBALANCED, f"{what}({vaddr:#x}) with nothing mapped")
        return
    top = stack[-1]
    if ledger.kmaps[top][0] != base:
        held = [f"{ledger.kmaps[i][0]:#x}" for i in stack]
        report(KMAP_UNBALANCED, f"{what}({vaddr:#x}) out of order: mappings held {held}")
        # Release the named mapping anyway so one slip is reported once.
        for i in reversed(stack):
            if ledger.kmaps[i][0] == base:
                top = i
                break
        else:
            return
    _, _, how = ledger.kmaps.pop(top)
    if how == ATOMIC:
        preempt_enable()
        pagefault_enable()


def kmap_local_page(page: Page) -> int:
    """Map ``page`` for CPU access; returns its address."""
    return _map(page, LOCAL)


def kmap_local_folio(folio: Folio, offset: int) -> int:
    from kmem.page_alloc import folio_page

    return kmap_local_page(folio_page(folio, offset // PAGE_SIZE)) + offset % PAGE_SIZE


def kunmap_local(vaddr: int) -> None:
    """Release the most recent local mapping; it must be ``vaddr``'s."""
    _unmap(vaddr, "kunmap_local")


def kmap_atomic(page: Page) -> int:
    """The older atomic mapping: also disables page faults and preemption."""
    return _map(page, ATOMIC)


def kunmap_atomic(vaddr: int) -> None:
    _unmap(vaddr, "kunmap_atomic")


def kmap(page: Page) -> int:
    """The sleeping, global mapping: not a stack, released in any order."""
    return _map(page, GLOBAL)


def kunmap(page: Page) -> None:
    """Release a kmap() of ``page``; one that was never taken is recorded
    (on a highmem page kunmap_high BUGs; on lowmem nothing checks)."""
    if _stats.ON:
        _stats.note_kunmap()
    for i in range(len(ledger.kmaps) - 1, -1, -1):
        if ledger.kmaps[i][2] == GLOBAL and ledger.kmaps[i][1] is page:
            del ledger.kmaps[i]
            return
    report(KMAP_UNBALANCED, f"kunmap({page!r}) of a page that is not kmap()ed")


def _in_page(what: str, offset: int, length: int, limit: int) -> None:
    """The helpers map one page: a range past it is the kernel's
    ``VM_BUG_ON(offset + len > PAGE_SIZE)`` (``BUG_ON`` in zero_user_segments)."""
    if offset < 0 or length < 0:
        raise ValueError(f"{what}(): offset and length must be >= 0, got {offset}, {length}")
    if offset + length > limit:
        raise KernelBug(f"{what}(): {length} bytes at offset {offset} run past the "
                        f"{limit}-byte page")


def memcpy_to_page(page: Page, offset: int, from_: Buffer, length: int) -> None:
    """Copy ``length`` bytes of a kernel buffer into ``page`` at ``offset``."""
    _in_page("memcpy_to_page", offset, length, PAGE_SIZE)
    vaddr = kmap_local_page(page)
    copy_views(page_views(page, offset, length, write=True), buffer_views(from_, length))
    kunmap_local(vaddr)


def memcpy_from_page(to: Buffer, page: Page, offset: int, length: int) -> None:
    _in_page("memcpy_from_page", offset, length, PAGE_SIZE)
    vaddr = kmap_local_page(page)
    copy_views(buffer_views(to, length, write=True), page_views(page, offset, length))
    kunmap_local(vaddr)


def memzero_page(page: Page, offset: int, length: int) -> None:
    _in_page("memzero_page", offset, length,
             PAGE_SIZE << page.head.order if page is page.head else PAGE_SIZE)
    vaddr = kmap_local_page(page)
    for v in page_views(page, offset, length, write=True):
        v.fill(0)
    kunmap_local(vaddr)
