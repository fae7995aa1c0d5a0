"""A minimal xarray (include/linux/xarray.h, lib/xarray.c) and the page
cache built on it (include/linux/pagemap.h).

Entries are stored per index; a multi-page folio occupies every index it
covers, as a multi-index entry does.  Value entries (xa_mk_value) are
distinguishable from pointers.  Lookups under RCU are what ITER_XARRAY
does; the sanitizer records anything that sleeps inside the read section.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field

from kmem.errno import EEXIST, EINVAL, ENOENT, KernelBug
from kmem.mm_types import GFP_KERNEL, Folio, gfpflags_allow_blocking
from kmem.page_alloc import folio_get, folio_put
from kmem.preempt import might_sleep
from kmem.sanitizer import WARN

ULONG_MAX = (1 << 64) - 1
LONG_MAX = (1 << 63) - 1


@dataclass(frozen=True)
class XaValue:
    """``xa_mk_value(v)``: an integer stored in the array (e.g. a shadow
    entry), not a pointer."""

    value: int


@dataclass(frozen=True)
class XaError:
    """``XA_ERROR(errno)``: the error entry the store functions return."""

    errno: int


def xa_mk_value(v: int) -> XaValue:
    """``xa_mk_value()``: a value must fit a signed long (one bit goes to
    the tag): ``WARN_ON((long)v < 0)``, and the entry is made anyway."""
    WARN(v < 0 or v > LONG_MAX, f"xa_mk_value({v}): does not fit in a non-negative long")
    return XaValue(v)


def xa_is_value(entry: object) -> bool:
    return isinstance(entry, XaValue)


def xa_is_err(entry: object) -> bool:
    return isinstance(entry, XaError)


def xa_err(entry: object) -> int:
    """``xa_err()``: the errno in an error entry, 0 for anything else."""
    return entry.errno if isinstance(entry, XaError) else 0


def xa_to_value(entry: XaValue) -> int:
    return entry.value


@dataclass
class XArray:
    """``struct xarray``."""

    entries: dict[int, object] = field(default_factory=dict)
    _keys: list[int] = field(default_factory=list)   # sorted indices

    def __repr__(self) -> str:
        return f"<xarray {len(self.entries)} entries>"


def xa_init() -> XArray:
    return XArray()


def xa_store(xa: XArray, index: int, entry: object, gfp: int = GFP_KERNEL) -> object:
    """Store ``entry`` at ``index``; None erases.  Returns the old entry."""
    if not isinstance(index, int) or index < 0:
        raise ValueError(f"index must be an int >= 0, got {index!r}")
    if gfpflags_allow_blocking(gfp):
        might_sleep("xa_store() with a blocking gfp")
    old = xa.entries.get(index)
    if entry is None:
        if old is not None:
            del xa.entries[index]
            xa._keys.pop(bisect.bisect_left(xa._keys, index))
        return old
    if old is None:
        bisect.insort(xa._keys, index)
    xa.entries[index] = entry
    return old


XA_MODEL_MAX_RANGE = 1 << 20


def xa_store_range(xa: XArray, first: int, last: int, entry: object,
                   gfp: int = GFP_KERNEL) -> XaError | None:
    """Store ``entry`` at every index in [first, last] (a multi-index entry):
    None, or ``XA_ERROR(-EINVAL)`` when ``last < first`` (test with xa_err).

    The model stores the range index by index, so it takes at most
    ``XA_MODEL_MAX_RANGE`` indices (ValueError beyond)."""
    if WARN(isinstance(entry, XaError), "xa_store_range(): an error entry is internal"):
        return XaError(-EINVAL)
    if last < first:
        return XaError(-EINVAL)
    if last - first >= XA_MODEL_MAX_RANGE:
        raise ValueError(f"xa_store_range(): the model stores at most {XA_MODEL_MAX_RANGE} "
                         f"indices in one range, got [{first}, {last}]")
    for index in range(first, last + 1):
        xa_store(xa, index, entry, gfp)
    return None


def xa_load(xa: XArray, index: int) -> object:
    return xa.entries.get(index)


def xa_erase(xa: XArray, index: int) -> object:
    return xa_store(xa, index, None, 0)


def xa_for_each(xa: XArray, start: int = 0, last: int = 2**64 - 1) -> Iterator[tuple[int, object]]:
    """``xa_for_each_range``: (index, entry) in index order; a multi-index
    entry is reported once, at its first index."""
    keys = xa._keys
    i = bisect.bisect_left(keys, start)
    prev = None
    # Index the list rather than slicing it: a walk that asks for the next
    # entry again and again must not copy the tail each time.
    while i < len(keys):
        index = keys[i]
        i += 1
        if index > last:
            break
        entry = xa.entries[index]
        if entry is prev and index > start:
            continue
        prev = entry
        yield index, entry


def xa_empty(xa: XArray) -> bool:
    return not xa.entries


# The page cache: an address_space is an xarray of folios by page index.

@dataclass(eq=False)
class AddressSpace:
    """``struct address_space`` (just the i_pages array)."""

    i_pages: XArray = field(default_factory=XArray)


def filemap_add_folio(mapping: AddressSpace, folio: Folio, index: int,
                      gfp: int = GFP_KERNEL) -> int:
    """Insert ``folio`` at page ``index``: 0, -EINVAL if the folio is in a
    mapping already, -EEXIST if a page is cached in its range.  An index
    not aligned to the folio's size is a BUG in the kernel
    (``VM_BUG_ON_FOLIO`` in __filemap_add_folio), as is a freed folio.

    The cache holds one reference per page of the folio, as
    __filemap_add_folio's folio_ref_add(folio, nr) does, so the caller may
    drop its own and the folio lives on until it leaves the cache."""
    n = 1 << folio.order
    if index < 0 or index + n - 1 > ULONG_MAX:
        raise ValueError(f"filemap_add_folio(): index must be in 0..ULONG_MAX - {n - 1}, "
                         f"got {index}")
    if index & (n - 1):
        raise KernelBug(f"filemap_add_folio(): index {index} is not a multiple of the "
                        f"order-{folio.order} folio's {n} pages")
    if folio.freed:
        raise KernelBug(f"filemap_add_folio(): {folio!r} has been freed")
    if folio.mapping is not None:
        return -EINVAL
    for i in range(index, index + n):
        if isinstance(xa_load(mapping.i_pages, i), Folio):
            return -EEXIST
    folio.mapping = mapping
    folio.index = index
    folio._refcount += n
    xa_store_range(mapping.i_pages, index, index + n - 1, folio, gfp)
    return 0


def filemap_remove_folio(folio: Folio) -> None:
    """Take ``folio`` out of its mapping and drop the cache's references
    (filemap_free_folio's folio_put_refs); if the caller holds none, the
    folio is freed.  One that is in no mapping has a NULL
    ``folio->mapping``, which the kernel dereferences at once (an oops)."""
    mapping = folio.mapping
    if mapping is None:
        raise KernelBug(f"filemap_remove_folio({folio!r}): not in the page cache "
                        f"(NULL folio->mapping dereferenced)")
    for index in range(folio.index, folio.index + (1 << folio.order)):
        xa_erase(mapping.i_pages, index)
    folio.mapping = None
    for _ in range(1 << folio.order):
        folio_put(folio)


def filemap_get_folio(mapping: AddressSpace, index: int) -> Folio | int:
    """The folio cached at ``index``, with a reference the caller must
    drop with folio_put(); -ENOENT (the model's ERR_PTR) when nothing is
    cached there, as __filemap_get_folio answers since v6.3 (before, it
    was NULL)."""
    entry = xa_load(mapping.i_pages, index)
    if not isinstance(entry, Folio):
        return -ENOENT
    folio_get(entry)
    return entry
