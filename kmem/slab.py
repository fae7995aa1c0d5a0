"""kmalloc and friends (mm/slub.c, mm/slab_common.c, mm/util.c).

Small objects come from slab pages shared by objects of one size class;
objects larger than KMALLOC_MAX_CACHE_SIZE get a compound page block of
their own (kmalloc_large).  Both are Kind.SLAB memory: the CPU may use it,
but nobody may take page references on it.  Each slab remembers which of
its objects are live and how many bytes were asked for, so an access past
the requested size, a double kfree or a kfree of a foreign address is
caught.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kmem import stats as _stats
from kmem.mm_types import __GFP_ZERO, PAGE_SHIFT, PAGE_SIZE, Folio, Kind, gfpflags_allow_blocking
from kmem.page_alloc import (
    POISON_FREE,
    _alloc_folio,
    folio_put,
    is_direct_map,
    page_address,
    phys_frame_view,
    set_slab_limit,
    virt_to_page_linear,
)
from kmem.preempt import might_sleep
from kmem.sanitizer import DOUBLE_FREE, INVALID_FREE, note_alloc, note_free, report

KMALLOC_MIN_SIZE = 8
KMALLOC_MAX_CACHE_SIZE = 2 * PAGE_SIZE
KMALLOC_MAX_SIZE = PAGE_SIZE << 10
ZERO_SIZE_PTR = 16   # kmalloc(0) returns this distinguished non-NULL pointer
_SIZE_CLASSES = (8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192)


@dataclass
class Slab:
    """Bookkeeping kept on a slab folio (folio.slab)."""

    object_size: int          # 0 for a kmalloc_large block
    nr_objects: int
    requested: list[int]      # bytes asked for, per object; -1 when free
    free: list[int] = field(default_factory=list)

    def object_at(self, offset: int) -> tuple[int, int]:
        """(object index, offset inside it) for a byte offset in the slab."""
        if self.object_size == 0:
            return 0, offset
        return divmod(offset, self.object_size)


_partial: dict[int, list[Folio]] = {size: [] for size in _SIZE_CLASSES}


def _size_class(size: int) -> int:
    for c in _SIZE_CLASSES:
        if size <= c:
            return c
    raise AssertionError("unreachable")


def _check_size(size: object) -> int:
    if not isinstance(size, int) or isinstance(size, bool):
        raise TypeError(f"size must be an int, got {type(size).__name__}")
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")
    return size


def kmalloc(size: int, gfp: int) -> int:
    """``kmalloc()``: the address of ``size`` bytes of slab memory, 0 (NULL)
    on failure, ZERO_SIZE_PTR for size 0."""
    size = _check_size(size)
    if _stats.ON:
        _stats.note_alloc(size)
    if size == 0:
        return ZERO_SIZE_PTR
    if size > KMALLOC_MAX_SIZE:
        return 0
    if gfpflags_allow_blocking(gfp):
        # might_alloc() on every call, as slab_pre_alloc_hook does: whether
        # this one would have needed a new slab page depends on the history.
        might_sleep("a blocking kmalloc")
    if size > KMALLOC_MAX_CACHE_SIZE:
        order = max(0, (size - 1).bit_length() - PAGE_SHIFT)
        folio = _alloc_folio(gfp, order, Kind.SLAB)
        if folio is None:
            return 0
        folio.slab = Slab(0, 1, [size])
        addr = page_address(folio)
    else:
        cls = _size_class(size)
        partial = _partial[cls]
        if not partial:
            order = 1 if cls > PAGE_SIZE else 0
            folio = _alloc_folio(gfp, order, Kind.SLAB)
            if folio is None:
                return 0
            n = (PAGE_SIZE << order) // cls
            folio.slab = Slab(cls, n, [-1] * n, list(range(n - 1, -1, -1)))
            partial.append(folio)
        else:
            from kmem.page_alloc import should_fail_alloc

            if should_fail_alloc():
                return 0
        folio = partial[-1]
        slab = folio.slab
        idx = slab.free.pop()
        if not slab.free:
            partial.pop()
        slab.requested[idx] = size
        addr = page_address(folio) + idx * cls
    _note_limit(folio, addr, size)
    if gfp & __GFP_ZERO:
        _object_view(addr, size)[:] = 0
    note_alloc("kmalloc", addr, f"kmalloc({size}) at {addr:#x}")
    return addr


def _note_limit(folio: Folio, addr: int, size: int) -> None:
    """Keep the per-frame bounds kmem.bulk checks for objects of a page or
    more (smaller ones share frames and are checked per object there)."""
    slab = folio.slab
    if slab.object_size == 0 or slab.object_size >= PAGE_SIZE:
        first = virt_to_page_linear(addr).pfn
        nframes = (slab.object_size or (PAGE_SIZE << folio.order)) >> PAGE_SHIFT
        set_slab_limit(first, nframes, size)


def kzalloc(size: int, gfp: int) -> int:
    return kmalloc(size, gfp | __GFP_ZERO)


def kmalloc_array(n: int, size: int, gfp: int) -> int:
    _check_size(n)
    _check_size(size)
    if size and n > KMALLOC_MAX_SIZE // size:
        return 0
    return kmalloc(n * size, gfp)


def kcalloc(n: int, size: int, gfp: int) -> int:
    return kmalloc_array(n, size, gfp | __GFP_ZERO)


def _object_view(addr: int, size: int):
    page = virt_to_page_linear(addr)
    return phys_frame_view(page.pfn, addr & (PAGE_SIZE - 1), size)


def _lookup(addr: int, what: str) -> tuple[Folio, Slab, int] | None:
    """The slab and object index of an address kmalloc returned, or None
    after recording why it is not one."""
    if not is_direct_map(addr):
        report(INVALID_FREE, f"{what}({addr:#x}): not a kmalloc address")
        return None
    page = virt_to_page_linear(addr)
    folio = page.head
    if folio.freed or folio.kind is not Kind.SLAB:
        kind = "freed memory" if folio.freed else f"{folio.kind.value} memory"
        report(DOUBLE_FREE if folio.freed else INVALID_FREE, f"{what}({addr:#x}): {kind}")
        return None
    slab = folio.slab
    offset = addr - page_address(folio)
    idx, within = slab.object_at(offset)
    if within != 0 or idx >= slab.nr_objects:
        report(INVALID_FREE, f"{what}({addr:#x}): not the start of an object")
        return None
    if slab.requested[idx] < 0:
        report(DOUBLE_FREE, f"{what}({addr:#x}): object already freed")
        return None
    return folio, slab, idx


def kfree(addr: int) -> None:
    """``kfree()``: NULL and ZERO_SIZE_PTR are no-ops; a double or foreign
    free is recorded and ignored (nothing is corrupted)."""
    if addr == 0 or addr == ZERO_SIZE_PTR:
        return
    found = _lookup(addr, "kfree")
    if found is None:
        return
    folio, slab, idx = found
    note_free("kmalloc", addr)
    size = slab.object_size or slab.requested[0]
    _object_view(addr, size)[:] = POISON_FREE
    slab.requested[idx] = -1
    _note_limit(folio, addr, -1)
    if slab.object_size == 0:
        folio_put(folio)
        return
    slab.free.append(idx)
    partial = _partial[slab.object_size]
    if len(slab.free) == slab.nr_objects:
        # An empty slab goes back to the page allocator.
        if folio in partial:
            partial.remove(folio)
        folio_put(folio)
    elif len(slab.free) == 1:
        partial.append(folio)


def kfree_sensitive(addr: int) -> None:
    """``kfree_sensitive()``: zeroise, then free."""
    if addr in (0, ZERO_SIZE_PTR):
        return
    found = _lookup(addr, "kfree_sensitive")
    if found is None:
        return
    _, slab, idx = found
    _object_view(addr, slab.requested[idx])[:] = 0
    kfree(addr)


def ksize(addr: int) -> int:
    """``ksize()``: the usable size of the object (its size class)."""
    if addr in (0, ZERO_SIZE_PTR):
        return 0
    found = _lookup(addr, "ksize")
    if found is None:
        return 0
    folio, slab, _ = found
    return slab.object_size or (PAGE_SIZE << folio.order)


def kmalloc_size(addr: int) -> int:
    """Model helper: the size originally requested for a kmalloc object."""
    found = _lookup(addr, "kmalloc_size")
    return 0 if found is None else found[1].requested[found[2]]
