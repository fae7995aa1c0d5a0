"""User address spaces (mm/mmap.c, mm/memory.c, include/linux/uaccess.h).

An ``MmStruct`` holds anonymous mappings whose pages are allocated on first
touch, and mappings of device memory (P2PDMA pages the CPU cannot touch).
The kernel reaches user memory through ``current->mm``; the model has a
``current`` task whose mm tests switch with :func:`kthread_use_mm`.
"""

from __future__ import annotations

import bisect
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from kmem.access import RunBuilder, page_views
from kmem.bulk import distinct
from kmem.errno import EINVAL, ENOMEM
from kmem.mm_types import GFP_HIGHUSER, PAGE_SHIFT, PAGE_SIZE, Folio, Kind
from kmem.page_alloc import (
    _alloc_folio,
    folio_put,
    frees,
    pfn_run_views,
    pfn_to_page,
    phys_frame_view,
)
from kmem.preempt import might_sleep, pagefault_disabled
from kmem.sanitizer import next_seq, register_allocation_scanner

TASK_SIZE = 0x00007FFFFFFFF000
MMAP_BASE = 0x00007F0000000000

PROT_NONE = 0x0
PROT_READ = 0x1
PROT_WRITE = 0x2
MAP_SHARED = 0x01
MAP_PRIVATE = 0x02
MAP_ANONYMOUS = 0x20
MAP_POPULATE = 0x8000

VM_READ = 0x1
VM_WRITE = 0x2
VM_IO = 0x4000
VM_PFNMAP = 0x400


# Every store into a Vma's field, construction included, bumps this count
# (the mm's numpy table of its mappings is remade when it moves).
_vma_stores = [0]


@dataclass
class Vma:
    """``struct vm_area_struct``: [start, end) with its protection."""

    start: int
    end: int
    flags: int
    backing: list | None = None  # fixed pages of a driver/file mapping (None: anonymous)
    seq: int = 0                 # allocation sequence number (sanitizer leak check)

    def __setattr__(self, name: str, value: object) -> None:
        _vma_stores[0] += 1
        object.__setattr__(self, name, value)


_PT_SHIFT = 9                    # 512 entries a table: what one PMD maps
_PT_MASK = (1 << _PT_SHIFT) - 1


class PageTable(dict):
    """The present anonymous pages of an mm (vpn -> page), mirrored in numpy
    tables of pfns (-1: not present), 512 to a table, so that the pages
    under many user addresses are found at once.  Every way of changing the
    dict goes through the mirror."""

    def __init__(self) -> None:
        super().__init__()
        self._tables: dict[int, np.ndarray] = {}
        self._checked = -1       # page_alloc.frees when every page was last seen live

    def _mirror(self, vpn: int, pfn: int) -> None:
        t = self._tables.get(vpn >> _PT_SHIFT)
        if t is None:
            if pfn < 0:
                return
            t = self._tables[vpn >> _PT_SHIFT] = np.full(1 << _PT_SHIFT, -1, np.int64)
        t[vpn & _PT_MASK] = pfn

    def __setitem__(self, vpn: int, page: Folio) -> None:
        super().__setitem__(vpn, page)
        self._mirror(vpn, page.pfn)
        self._checked = -1

    def __delitem__(self, vpn: int) -> None:
        super().__delitem__(vpn)
        self._mirror(vpn, -1)

    def pop(self, vpn: int, *default: object) -> object:
        if vpn in self:
            self._mirror(vpn, -1)
        return super().pop(vpn, *default)

    def popitem(self) -> tuple[int, Folio]:
        vpn, page = super().popitem()
        self._mirror(vpn, -1)
        return vpn, page

    def clear(self) -> None:
        super().clear()
        self._tables.clear()

    def setdefault(self, vpn: int, page: Folio) -> Folio:  # type: ignore[override]
        if vpn not in self:
            self[vpn] = page
        return self[vpn]

    def update(self, *args: object, **kw: object) -> None:  # type: ignore[override]
        for vpn, page in dict(*args, **kw).items():
            self[vpn] = page

    def __ior__(self, other: object) -> PageTable:  # type: ignore[override]
        self.update(other)
        return self

    def pfns(self, vpns: np.ndarray) -> np.ndarray | None:
        """The pfn under each vpn (-1 where none is present); None when a
        page in the table may no longer be a live user page (one was freed
        behind the mm's back), which only the per-page path may judge."""
        if self._checked != frees[0]:
            if not all(p.kind is Kind.USER for p in self.values()):
                return None
            self._checked = frees[0]
        keys = vpns >> _PT_SHIFT
        k0 = int(keys[0])
        if (keys == k0).all():
            t = self._tables.get(k0)
            return np.full(len(vpns), -1, np.int64) if t is None else t[vpns & _PT_MASK]
        out = np.full(len(vpns), -1, np.int64)
        for k in distinct(keys):
            t = self._tables.get(k)
            if t is not None:
                m = keys == k
                out[m] = t[vpns[m] & _PT_MASK]
        return out


@dataclass(eq=False)
class MmStruct:
    """``struct mm_struct``: a user address space."""

    vmas: list[Vma] = field(default_factory=list)
    pages: PageTable = field(default_factory=PageTable)   # vpn -> page
    next_base: int = MMAP_BASE
    _last_vma: Vma | None = None   # the kernel's per-mm VMA cache, in spirit
    _vma_table: tuple | None = None  # numpy (starts, ends, readable, writable), see user_ranges

    # Mapping.

    def find_vma(self, addr: int) -> Vma | None:
        last = self._last_vma
        if last is not None and last.start <= addr < last.end:
            return last
        i = bisect.bisect_right(self.vmas, addr, key=lambda v: v.start) - 1
        if i >= 0 and addr < self.vmas[i].end:
            self._last_vma = self.vmas[i]
            return self._last_vma
        return None

    def __post_init__(self) -> None:
        _all_mms.add(self)

    def _insert(self, vma: Vma) -> None:
        vma.seq = next_seq()
        self._last_vma = None
        bisect.insort(self.vmas, vma, key=lambda v: v.start)

    def _free_range(self, length: int) -> int:
        self.next_base -= (length + PAGE_SIZE)   # leave a hole below each mapping
        return self.next_base

    def mmap(self, length: int, prot: int = PROT_READ | PROT_WRITE, addr: int = 0,
             flags: int = MAP_PRIVATE | MAP_ANONYMOUS) -> int:
        """Map ``length`` bytes of anonymous memory; returns the address or
        -errno.  ``addr`` (page aligned, free) fixes the placement."""
        if not isinstance(length, int) or length <= 0:
            return -EINVAL
        if length > TASK_SIZE:
            return -ENOMEM
        length = (length + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)
        if addr:
            if addr & (PAGE_SIZE - 1) or addr + length > TASK_SIZE:
                return -EINVAL
            if any(v.start < addr + length and addr < v.end for v in self.vmas):
                return -ENOMEM
        else:
            addr = self._free_range(length)
            if addr < 0:
                self.next_base += length + PAGE_SIZE
                return -ENOMEM
        vm = (VM_READ if prot & PROT_READ else 0) | (VM_WRITE if prot & PROT_WRITE else 0)
        self._insert(Vma(addr, addr + length, vm))
        if flags & MAP_POPULATE:
            # Like MAP_POPULATE's best effort: stop at the first page that
            # cannot be had; the mapping stays.
            for vpn in range(addr >> PAGE_SHIFT, (addr + length) >> PAGE_SHIFT):
                if self._fault_in(vpn, False) is None:
                    break
        return addr

    def mmap_pages(self, pages: list, prot: int = PROT_READ | PROT_WRITE) -> int:
        """Map existing pages into this address space, as a driver's or a
        file's mmap does.  Ordinary pages (page cache, vmalloc_user) are
        mapped as normal pages that GUP can pin; device (P2PDMA) pages are
        mapped for GUP only with FOLL_PCI_P2PDMA; slab and stack pages can
        only be mapped by remap_pfn_range (VM_PFNMAP), which GUP refuses."""
        if not pages:
            raise ValueError("mmap_pages() needs at least one page")
        addr = self._free_range(len(pages) << PAGE_SHIFT)
        vm = (VM_READ if prot & PROT_READ else 0) | (VM_WRITE if prot & PROT_WRITE else 0)
        if any(p.kind in (Kind.SLAB, Kind.STACK) for p in pages):
            vm |= VM_PFNMAP | VM_IO
        self._insert(Vma(addr, addr + (len(pages) << PAGE_SHIFT), vm, backing=list(pages)))
        return addr

    def mmap_device(self, folio: Folio, prot: int = PROT_READ | PROT_WRITE) -> int:
        """Map a block of device memory (from alloc_device_pages)."""
        if folio.kind is not Kind.DEVICE:
            raise ValueError("mmap_device() takes device memory")
        return self.mmap_pages([pfn_to_page(folio.pfn + i) for i in range(1 << folio.order)],
                               prot)

    def munmap(self, addr: int, length: int) -> int:
        """Unmap [addr, addr+length); pages pinned meanwhile stay alive until
        unpinned.  Returns 0 or -EINVAL."""
        if addr & (PAGE_SIZE - 1) or length <= 0 or addr + length > TASK_SIZE:
            return -EINVAL
        end = addr + ((length + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
        kept = []
        for v in self.vmas:
            if v.end <= addr or v.start >= end:
                kept.append(v)
                continue
            if v.start < addr:
                kept.append(Vma(v.start, addr, v.flags, v.backing, v.seq))
            if v.end > end:
                tail = v.backing[(end - v.start) >> PAGE_SHIFT:] if v.backing else None
                kept.append(Vma(end, v.end, v.flags, tail, v.seq))
        self.vmas = kept
        self._last_vma = None
        lo, hi = addr >> PAGE_SHIFT, end >> PAGE_SHIFT
        for vpn in [v for v in self.pages if lo <= v < hi]:   # present pages only
            page = self.pages.pop(vpn, None)
            if page is not None:
                folio_put(page)
        return 0

    def mprotect(self, addr: int, length: int, prot: int) -> int:
        """``mprotect()``: change the protection of [addr, addr+length),
        splitting mappings at its edges; present pages stay (and keep their
        contents).  0, -EINVAL (unaligned) or -ENOMEM (a hole in the range)."""
        if addr & (PAGE_SIZE - 1) or length <= 0 or addr + length > TASK_SIZE:
            return -EINVAL
        end = addr + ((length + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
        covered = sum(min(v.end, end) - max(v.start, addr) for v in self.vmas
                      if v.start < end and addr < v.end)
        if covered != end - addr:
            return -ENOMEM
        vm = (VM_READ if prot & PROT_READ else 0) | (VM_WRITE if prot & PROT_WRITE else 0)
        out = []
        for v in self.vmas:
            if v.end <= addr or v.start >= end:
                out.append(v)
                continue
            def part(lo: int, hi: int, flags: int, v: Vma = v) -> Vma:
                back = v.backing[(lo - v.start) >> PAGE_SHIFT:(hi - v.start) >> PAGE_SHIFT] \
                    if v.backing else None
                return Vma(lo, hi, flags, back, v.seq)
            if v.start < addr:
                out.append(part(v.start, addr, v.flags))
            lo, hi = max(v.start, addr), min(v.end, end)
            out.append(part(lo, hi, (v.flags & ~(VM_READ | VM_WRITE)) | vm))
            if v.end > end:
                out.append(part(end, v.end, v.flags))
        self.vmas = out
        self._last_vma = None
        return 0

    # Faults.

    def _fault_in(self, vpn: int, write: bool) -> Folio | None:
        """The page at ``vpn``, allocated on first touch; None for a fault
        that cannot be satisfied (no mapping, wrong protection, or a
        not-yet-present page while page faults are disabled)."""
        addr = vpn << PAGE_SHIFT
        vma = self.find_vma(addr)
        if vma is None or not vma.flags & (VM_WRITE if write else VM_READ):
            return None
        if vma.backing is not None:
            return vma.backing[(addr - vma.start) >> PAGE_SHIFT]
        page = self.pages.get(vpn)
        if page is None:
            if pagefault_disabled():
                return None
            might_sleep("a user page fault")
            page = _alloc_folio(GFP_HIGHUSER, 0, Kind.USER)
            if page is None:
                return None
            phys_frame_view(page.pfn, 0, PAGE_SIZE)[:] = 0
            self.pages[vpn] = page
        return page

    def _mappings(self) -> tuple[np.ndarray, ...]:
        """Starts, ends, and whether readable / writable anonymous memory,
        of the mappings in address order; remade whenever the list or any
        Vma has changed since."""
        vt, vmas = self._vma_table, self.vmas
        if vt is None or vt[0] is not vmas or vt[1] != len(vmas) or vt[2] != _vma_stores[0]:
            anon = [v.backing is None for v in vmas]
            cols = (np.array([v.start for v in vmas], np.int64),
                    np.array([v.end for v in vmas], np.int64),
                    np.array([a and bool(v.flags & VM_READ) for v, a in zip(vmas, anon)], bool),
                    np.array([a and bool(v.flags & VM_WRITE) for v, a in zip(vmas, anon)], bool))
            vt = self._vma_table = (vmas, len(vmas), _vma_stores[0], cols)
        return vt[3]

    def user_ranges(self, bases: np.ndarray, lens: np.ndarray, write: bool
                    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The physical (address, length) of every page piece of the user
        ranges (``bases``, ``lens``: int64, lengths > 0), in order, when each
        range passes access_ok(), lies in one anonymous mapping that allows
        the access and has every page present; None otherwise (the per-page
        path, user_views(), then faults and records exactly as ever)."""
        if not len(bases):
            return None
        ends = bases + lens
        if bases.min() < 0 or ends.max() > TASK_SIZE:
            return None
        starts_m, ends_m, readable, writable = self._mappings()
        vi = np.searchsorted(starts_m, bases, side="right") - 1
        if vi.min() < 0:
            return None
        if (ends > ends_m[vi]).any() or not (writable if write else readable)[vi].all():
            return None
        first = bases >> PAGE_SHIFT
        npg = ((ends - 1) >> PAGE_SHIFT) - first + 1
        if (npg == 1).all():
            vpns, seg = first, None
        else:
            seg = np.repeat(np.arange(len(bases)), npg)
            vpns = first[seg] + (np.arange(int(npg.sum())) - (np.cumsum(npg) - npg)[seg])
        pfns = self.pages.pfns(vpns)
        if pfns is None or pfns.min() < 0:
            return None
        if seg is None:
            return (pfns << PAGE_SHIFT) + (bases & (PAGE_SIZE - 1)), lens
        lo = np.maximum(bases[seg], vpns << PAGE_SHIFT)
        hi = np.minimum(ends[seg], (vpns + 1) << PAGE_SHIFT)
        return (pfns << PAGE_SHIFT) + (lo & (PAGE_SIZE - 1)), hi - lo

    def user_views(self, uaddr: int, length: int, write: bool) -> tuple[list[np.ndarray], int]:
        """Views of the user range up to the first fault, physically adjacent
        pages merged; returns ``(views, bytes_reachable)``."""
        out = RunBuilder()
        done = 0
        pages = self.pages
        need = VM_WRITE if write else VM_READ
        while done < length:
            addr = uaddr + done
            vma = self.find_vma(addr)
            if vma is None or not vma.flags & need:
                break
            # Present anonymous pages of this VMA are taken straight from the
            # page table; anything else goes through the fault path.
            stop = min(uaddr + length, vma.end)
            if vma.backing is None and stop - addr > 2 * PAGE_SIZE:
                first, last = addr >> PAGE_SHIFT, (stop - 1) >> PAGE_SHIFT
                present = [pages.get(vpn) for vpn in range(first, last + 1)]
                if None not in present:
                    # All present: resolve the whole stretch at once.
                    pfns = np.fromiter((p.pfn for p in present), np.int64, len(present))
                    for v in pfn_run_views(pfns, addr & (PAGE_SIZE - 1), stop - addr):
                        out.add_view(v)
                    done += stop - addr
                    continue
            while addr < stop:
                vpn = addr >> PAGE_SHIFT
                page = pages.get(vpn) if vma.backing is None else None
                if page is None:
                    page = self._fault_in(vpn, write)
                    if page is None:
                        return out.done(), done
                off = addr & (PAGE_SIZE - 1)
                n = min(PAGE_SIZE - off, stop - addr)
                if page.kind is Kind.USER:
                    out.add(page.pfn, off, n)
                else:
                    for v in page_views(page, off, n, write=write):
                        out.add_view(v)
                addr += n
                done += n
        return out.done(), done


_all_mms: weakref.WeakSet = weakref.WeakSet()


def _scan_mappings(since: int) -> list[tuple]:
    """User mappings made after ``since`` and still mapped (for the
    sanitizer's leak check); forgetting one zeroes its stamp."""
    out = []
    for mm in list(_all_mms):
        for v in mm.vmas:
            if v.seq > since:
                def forget(v: Vma = v) -> None:
                    v.seq = 0
                out.append(("mmap", (id(mm), v.start),
                            f"user mapping [{v.start:#x}, {v.end:#x})", forget))
    return out


register_allocation_scanner(_scan_mappings)


class Task:
    """The bits of ``struct task_struct`` the model needs."""

    def __init__(self) -> None:
        self.mm: MmStruct | None = None


current = Task()


def mm_alloc() -> MmStruct:
    return MmStruct()


def current_mm() -> MmStruct:
    """``current->mm``, creating an address space on first use."""
    if current.mm is None:
        current.mm = MmStruct()
    return current.mm


def kthread_use_mm(mm: MmStruct) -> None:
    current.mm = mm


def kthread_unuse_mm(mm: MmStruct) -> None:
    current.mm = None


@contextmanager
def use_mm(mm: MmStruct) -> Iterator[MmStruct]:
    """Run the block with ``current->mm`` set to ``mm``."""
    saved = current.mm
    current.mm = mm
    try:
        yield mm
    finally:
        current.mm = saved


def vm_mmap(length: int, prot: int = PROT_READ | PROT_WRITE,
            flags: int = MAP_PRIVATE | MAP_ANONYMOUS) -> int:
    """Map anonymous memory into ``current->mm``."""
    return current_mm().mmap(length, prot, 0, flags)


def vm_munmap(addr: int, length: int) -> int:
    return current_mm().munmap(addr, length)


def access_ok(addr: int, size: int) -> bool:
    """``access_ok()``: the range lies below TASK_SIZE (mapping not checked)."""
    return 0 <= size <= TASK_SIZE and 0 <= addr <= TASK_SIZE - size
