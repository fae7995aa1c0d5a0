"""``struct device`` as DMA sees it (include/linux/device.h,
include/linux/dma-mapping.h), the IOVA allocator of its IOMMU domain
(drivers/iommu/iova.c) and the device's own view of memory.

A :class:`Device` is either behind an IOMMU (``iommu=True``: bus addresses
are IOVAs handed out from the domain's aperture, below the DMA mask, and
translated to physical memory page by page) or mapped directly
(dma-direct: bus address = physical address, refused beyond ``dma_mask``;
the model has no swiotlb, so such a mapping fails as it does on a kernel
built without it).  ``max_segment_size`` and ``seg_boundary_mask`` bound
what a segment may cover; ``p2p`` says whether peer-to-peer transfers to
device memory (a PCI BAR) are possible at all.

The mapping table is the IOMMU's page table and dma-debug's hash in one:
every live mapping is a list of :class:`DmaPiece` (bus range, physical
range, direction, and two ownership bits).  A device reads and writes
only through it (:meth:`Device.dma_read`/:meth:`Device.dma_write`), never
through a CPU view: an access outside the live pieces or against their
direction is an IOMMU fault (dma.debug).

Failure injection: ``fail_maps = n`` fails the next n mapping calls
(-EIO, DMA_MAPPING_ERROR), ``fail_iova = n`` the next n IOVA allocations
(-ENOMEM), and ``iova_aperture`` bounds the IOVA bytes in use (IOVA
exhaustion); kmem.fail_allocations also fails IOVA allocation, which
allocates memory in the kernel.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

import numpy as np

import kmem
from dma.debug import dma_debug_err, iommu_fault
from kmem import PAGE_SHIFT, PAGE_SIZE, Kind
from kmem import stats as _stats
from kmem.access import RunBuilder, gather
from kmem.page_alloc import DEVICE_PFN_BASE, head_pfn_of, mem_map, should_fail_alloc
from kmem.sanitizer import USE_AFTER_FREE, report

DMA_BIDIRECTIONAL = 0
DMA_TO_DEVICE = 1
DMA_FROM_DEVICE = 2
DMA_NONE = 3
DMA_MAPPING_ERROR = (1 << 64) - 1
DMA_BIT_MASK_64 = (1 << 64) - 1

# DMA attributes (include/linux/dma-mapping.h).
DMA_ATTR_WEAK_ORDERING = 1 << 1
DMA_ATTR_WRITE_COMBINE = 1 << 2
DMA_ATTR_NO_KERNEL_MAPPING = 1 << 4
DMA_ATTR_SKIP_CPU_SYNC = 1 << 5
DMA_ATTR_FORCE_CONTIGUOUS = 1 << 6
DMA_ATTR_ALLOC_SINGLE_PAGES = 1 << 7
DMA_ATTR_NO_WARN = 1 << 8
DMA_ATTR_PRIVILEGED = 1 << 9
DMA_ATTR_MMIO = 1 << 10

IOVA_BASE = 0x10000000          # the domain's aperture starts here ...
IOVA_APERTURE = 1 << 31         # ... and is this large by default
_DIR_NAMES = ("DMA_BIDIRECTIONAL", "DMA_TO_DEVICE", "DMA_FROM_DEVICE", "DMA_NONE")


def DMA_BIT_MASK(n: int) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 64:
        raise ValueError(f"n must be an int in 0..64, got {n!r}")
    return (1 << n) - 1


def valid_dma_direction(dir: int) -> bool:
    return dir in (DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE)


def dir_name(dir: int) -> str:
    return _DIR_NAMES[dir] if dir in (0, 1, 2, 3) else str(dir)


@dataclass(slots=True)
class DmaPiece:
    """One bus-address range and the physical memory behind it.
    ``synced``: visible to the device (an IOVA link becomes so with
    dma_iova_sync); ``cpu_owned``: handed to the CPU by
    dma_sync_*_for_cpu and not yet given back."""

    bus: int
    length: int
    phys: int
    dir: int
    synced: bool = True
    cpu_owned: bool = False


@dataclass(slots=True)
class DmaMapping:
    """One live mapping as dma-debug tracks it."""

    kind: str                  # "sg", "single", "phys", "iova"
    dir: int
    size: int
    pieces: list[DmaPiece]
    nents: int = 0
    iova: tuple[int, int] | None = None      # (base, bytes) of IOVA it owns
    checked: bool = True       # dma_mapping_error() seen (single/phys maps)
    spans: list = field(default_factory=list)  # sorted (start, end) of IOVA links


def _bus(p: DmaPiece) -> int:
    return p.bus


# (dict's own store and delete, called directly: the two overrides below
# run on every mapping and unmapping, and super() costs more than they do.)
_dict__setitem__, _dict__delitem__ = dict.__setitem__, dict.__delitem__


class MappingTable(dict):
    """The live mappings by key (dma-debug's hash), plus the device's index
    of their pieces sorted by bus address, rebuilt on the first device
    access after a change.  Adding or removing a mapping invalidates it by
    itself; code that changes a live mapping's ``pieces`` calls
    :meth:`changed`."""

    __slots__ = ("_index", "single_dups")

    def __init__(self, *args: object, **kw: object) -> None:
        super().__init__(*args, **kw)
        self._index: tuple[list[int], list[DmaPiece], int] | None = None
        # Set once a bus address carries two single mappings (possible
        # without an IOMMU, where the bus address is the physical one);
        # until then a single mapping is found by its address alone.
        self.single_dups = False

    def singles(self, addr: int) -> list[tuple]:
        """The keys of the live single mappings at bus address ``addr``,
        oldest first (dma-debug keeps them all in one hash bucket)."""
        if not self.single_dups:
            return [("single", addr)] if ("single", addr) in self else []
        return [k for k in self if k[0] == "single" and k[1] == addr]

    def changed(self) -> None:
        self._index = None

    def __setitem__(self, key: object, value: DmaMapping) -> None:
        self._index = None
        _dict__setitem__(self, key, value)

    def __delitem__(self, key: object) -> None:
        self._index = None
        _dict__delitem__(self, key)

    def pop(self, *args: object) -> object:
        self._index = None
        return super().pop(*args)

    def popitem(self) -> tuple:
        self._index = None
        return super().popitem()

    def clear(self) -> None:
        self._index = None
        super().clear()

    def setdefault(self, *args: object) -> object:
        self._index = None
        return super().setdefault(*args)

    def update(self, *args: object, **kw: object) -> None:
        self._index = None
        super().update(*args, **kw)

    def __ior__(self, other: object) -> MappingTable:
        self._index = None
        return super().__ior__(other)

    def index(self) -> tuple[list[int], list[DmaPiece], int]:
        """(bus starts, pieces, longest piece), pieces sorted by bus start."""
        idx = self._index
        if idx is None:
            pieces = sorted((p for m in self.values() for p in m.pieces), key=_bus)
            idx = self._index = ([p.bus for p in pieces], pieces,
                                 max((p.length for p in pieces), default=0))
        return idx


@dataclass
class Device:
    """``struct device`` as far as DMA sees it (see the module docstring)."""

    name: str = "dev"
    iommu: bool = True
    max_segment_size: int = 65536
    seg_boundary_mask: int = 0xFFFFFFFF
    dma_mask: int = DMA_BIT_MASK_64
    p2p: bool = False
    fail_maps: int = 0
    fail_iova: int = 0
    iova_aperture: int = IOVA_APERTURE
    mappings: MappingTable = field(default_factory=MappingTable)
    iova_in_use: int = 0
    _iova_next: int = IOVA_BASE
    _rcache: dict = field(default_factory=dict)

    # The IOVA allocator: size-aligned ranges from a bump pointer, freed
    # ranges kept per size and reused first (iova.c's rcache).

    def alloc_iova(self, length: int) -> int:
        """An IOVA range of ``length`` bytes (page-rounded, size-aligned),
        or 0 when the domain is exhausted or allocation fails."""
        size = max(PAGE_SIZE, 1 << (max(length, 1) - 1).bit_length())
        if self.fail_iova > 0:
            self.fail_iova -= 1
            return 0
        if should_fail_alloc() or self.iova_in_use + size > self.iova_aperture:
            return 0
        cached = self._rcache.get(size)
        if cached:
            base = cached.pop()
        else:
            base = (self._iova_next + size - 1) & ~(size - 1)
            if base + size - 1 > self.dma_mask:
                return 0
            self._iova_next = base + size
        self.iova_in_use += size
        if _stats.ON:
            _stats.note_iova(size)
        return base

    def free_iova(self, base: int, length: int) -> None:
        size = max(PAGE_SIZE, 1 << (max(length, 1) - 1).bit_length())
        self.iova_in_use -= size
        self._rcache.setdefault(size, []).append(base)

    def take_fail_map(self) -> bool:
        """Model helper: consume one injected mapping failure."""
        if self.fail_maps > 0:
            self.fail_maps -= 1
            return True
        return False

    # The device's side: reads and writes through the mapping table.

    def _resolve(self, addr: int, length: int, write: bool) -> list[tuple[int, int]]:
        """(phys, length) runs behind bus range [addr, addr+length), checked
        against the live mappings; raises IommuFault (recorded) if refused.

        The pieces overlapping the range come from the sorted index (a piece
        that ends after ``addr`` starts after ``addr`` minus the longest
        piece).  When every one of them is clean and they cover the range
        exactly, that is the answer; anything else (a fault, a record to
        make) goes to :meth:`_resolve_scan`, which decides and reports it
        as it always has."""
        starts, pieces, longest = self.mappings.index()
        end = addr + length
        want = DMA_FROM_DEVICE if write else DMA_TO_DEVICE
        found: list[tuple[int, int, int]] = []
        covered = 0
        for k in range(bisect_right(starts, addr - longest), bisect_left(starts, end)):
            p = pieces[k]
            bus = p.bus
            lo, hi = (addr if addr > bus else bus), min(end, bus + p.length)
            if lo >= hi:
                continue
            if (p.dir != DMA_BIDIRECTIONAL and p.dir != want) or not p.synced or p.cpu_owned:
                return self._resolve_scan(addr, length, write)
            found.append((lo, hi - lo, p.phys + lo - bus))
            covered += hi - lo
        if covered != length:
            return self._resolve_scan(addr, length, write)
        if len(found) == 1:
            return [(found[0][2], length)]
        found.sort()
        return [(phys, n) for _, n, phys in found]

    def _resolve_scan(self, addr: int, length: int, write: bool) -> list[tuple[int, int]]:
        """_resolve by a scan of every piece of every live mapping, in the
        table's order: the reference, and the path that reports.

        A byte is reachable when some mapping of it allows the access; the
        same bytes may be mapped more than once (in place as two lists, or
        two single mappings without an IOMMU), so a piece of the wrong
        direction refuses only what no other piece allows."""
        end = addr + length
        want = DMA_FROM_DEVICE if write else DMA_TO_DEVICE
        found: list[tuple[int, int, int]] = []
        refused: list[tuple[int, DmaPiece]] = []
        for m in self.mappings.values():
            for p in m.pieces:
                lo, hi = max(addr, p.bus), min(end, p.bus + p.length)
                if lo >= hi:
                    continue
                if p.dir != DMA_BIDIRECTIONAL and p.dir != want:
                    refused.append((lo, p))
                    continue
                if not p.synced:
                    dma_debug_err(self.name, f"device access at {lo:#x} to an IOVA range "
                                             f"linked but not synced (dma_iova_sync)")
                if p.cpu_owned:
                    dma_debug_err(self.name, f"device access at {lo:#x} while the CPU owns "
                                             f"the buffer (no dma_sync_*_for_device)")
                found.append((lo, hi - lo, p.phys + lo - p.bus))
        found.sort()
        runs: list[tuple[int, int]] = []
        pos = addr                       # covered up to here, in bus order
        for lo, n, phys in found:
            if lo > pos:
                break
            if lo + n > pos:             # skip what an earlier piece covered
                runs.append((phys + pos - lo, lo + n - pos))
                pos = lo + n
        if pos < end:
            for lo, p in refused:
                if lo <= pos < p.bus + p.length:
                    raise iommu_fault(self.name, f"DMA {'write' if write else 'read'} at "
                                                 f"{pos:#x} against a {dir_name(p.dir)} "
                                                 f"mapping")
            raise iommu_fault(self.name, f"DMA {'write' if write else 'read'} to unmapped bus "
                                         f"address range [{addr:#x}, {end:#x})")
        return runs

    def dma_read(self, dma_addr: int, length: int) -> np.ndarray:
        """Model helper: what the device reads at a bus address."""
        views = [v for phys, n in self._resolve(dma_addr, length, False)
                 for v in phys_views(phys, n, False)]
        return gather(views) if len(views) != 1 else views[0].copy()

    def dma_write(self, dma_addr: int, data: bytes | np.ndarray) -> None:
        """Model helper: the device writes ``data`` at a bus address."""
        src = data if isinstance(data, np.ndarray) else np.frombuffer(data, np.uint8)
        pos = 0
        for phys, n in self._resolve(dma_addr, len(src), True):
            for v in phys_views(phys, n, True):
                v[:] = src[pos:pos + len(v)]
                pos += len(v)


# Device memory has no CPU-visible backing in kmem; what devices store in
# it lives here (the BAR's contents).
_bar: dict[int, np.ndarray] = {}


def phys_views(phys: int, length: int, write: bool) -> list[np.ndarray]:
    """Views of physical memory as a bus master sees it: no CPU checks
    (device memory is fine here), but memory that is no longer allocated
    is a use-after-free by the device (recorded; reads see zeros)."""
    out = RunBuilder()
    pfn, off = phys >> PAGE_SHIFT, phys & (PAGE_SIZE - 1)
    while length > 0:
        n = min(length, PAGE_SIZE - off)
        if pfn >= DEVICE_PFN_BASE:
            folio = mem_map.get(pfn)
            if folio is None:
                report(USE_AFTER_FREE, f"device DMA to unpopulated device memory pfn {pfn:#x}")
                out.add_view(np.zeros(n, np.uint8))
            else:
                frame = _bar.setdefault(pfn, np.zeros(PAGE_SIZE, np.uint8))
                out.add_view(frame[off:off + n])
        else:
            head = head_pfn_of(pfn)
            folio = mem_map.get(head) if head >= 0 else None
            if folio is None or folio.freed:
                report(USE_AFTER_FREE, f"device DMA {'into' if write else 'from'} freed page "
                                       f"frame {pfn:#x}")
                out.add_view(np.zeros(n, np.uint8))
            else:
                out.add(pfn, off, n)
        length -= n
        pfn, off = pfn + 1, 0
    return out.done()


def is_device_phys(phys: int) -> bool:
    """Whether a physical address is device memory (ZONE_DEVICE/P2P)."""
    return (phys >> PAGE_SHIFT) >= DEVICE_PFN_BASE


def check_for_stack(dev: Device, phys: int, size: int) -> None:
    """dma-debug's check_for_stack(): a mapping of a vmapped task stack is
    reported (the stack may go away, or be moved, under the device)."""
    pfn = phys >> PAGE_SHIFT
    head = head_pfn_of(pfn) if pfn < DEVICE_PFN_BASE else -1
    folio = mem_map.get(head) if head >= 0 else None
    if folio is not None and folio.kind is Kind.STACK:
        dma_debug_err(dev.name, f"device driver maps memory from stack at {phys:#x}")


def is_pci_p2pdma_page(page: kmem.Page) -> bool:
    """``is_pci_p2pdma_page()`` (include/linux/memremap.h)."""
    return page.head.kind is Kind.DEVICE


def dma_get_max_seg_size(dev: Device) -> int:
    return dev.max_segment_size


def dma_set_max_seg_size(dev: Device, size: int) -> int:
    dev.max_segment_size = size
    return 0


def dma_get_seg_boundary(dev: Device) -> int:
    return dev.seg_boundary_mask


def dma_set_seg_boundary(dev: Device, mask: int) -> int:
    dev.seg_boundary_mask = mask
    return 0


def dma_set_mask(dev: Device, mask: int) -> int:
    dev.dma_mask = mask
    return 0


def dma_set_mask_and_coherent(dev: Device, mask: int) -> int:
    return dma_set_mask(dev, mask)


def dma_get_mask(dev: Device) -> int:
    return dev.dma_mask
