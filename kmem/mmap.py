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
from kmem.errno import EINVAL, ENOMEM
from kmem.mm_types import GFP_HIGHUSER, PAGE_SHIFT, PAGE_SIZE, Folio, Kind
from kmem.page_alloc import _alloc_folio, folio_put, pfn_run_views, pfn_to_page, phys_frame_view
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


@dataclass
class Vma:
    """``struct vm_area_struct``: [start, end) with its protection."""

    start: int
    end: int
    flags: int
    backing: list | None = None  # fixed pages of a driver/file mapping (None: anonymous)
    seq: int = 0                 # allocation sequence number (sanitizer leak check)


@dataclass(eq=False)
class MmStruct:
    """``struct mm_struct``: a user address space."""

    vmas: list[Vma] = field(default_factory=list)
    pages: dict[int, Folio] = field(default_factory=dict)   # vpn -> page
    next_base: int = MMAP_BASE
    _last_vma: Vma | None = None   # the kernel's per-mm VMA cache, in spirit

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
