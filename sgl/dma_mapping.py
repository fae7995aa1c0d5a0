"""DMA mapping of scatterlists (include/linux/dma-mapping.h,
kernel/dma/mapping.c, kernel/dma/direct.c, drivers/iommu/dma-iommu.c).

The scatterlist is both the input and the output of dma_map_sg: the CPU
description (page, offset, length) goes in, and the device's view
(dma_address, dma_length of the first ``ret`` entries) is written back into
the same entries, possibly merged into fewer segments.  That double use is
one of the reasons the structure is being replaced; the model keeps it.

A :class:`Device` is either behind an IOMMU (``iommu=True``, the default:
entries are laid out in one IOVA range and entries that meet on page
boundaries are merged, within ``max_segment_size`` and the segment
boundary mask, as iommu_dma_map_sg/__finalise_sg do) or mapped directly
(dma-direct: bus address = physical address, one segment per entry).  A
device can read and write through its mappings (``dma_read``/``dma_write``),
which resolves bus addresses back to kmem's physical memory.

Failures: ``Device.fail_maps = n`` makes the next n mappings fail with -EIO;
kmem.fail_allocations makes the IOVA allocation fail (-ENOMEM); an address
beyond ``dma_mask`` with dma-direct is -EIO (no swiotlb in the model);
device (P2P) memory without ``p2p=True`` is -EREMOTEIO.  dma_map_sg returns
0 for all of them; dma_map_sgtable returns the errno.  The DMA-API debug
checks (unmap with a different nents or direction, unmapping what is not
mapped, mapping stack memory) are WARNs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import kmem
from kmem import PAGE_SHIFT, PAGE_SIZE, KernelBug, Kind
from kmem import errno as E
from kmem import stats as _stats
from kmem.access import page_views
from kmem.page_alloc import should_fail_alloc
from sgl.scatterlist import Scatterlist, ScatterlistPtr, _need, for_each_sg, sg_page
from sgl.sg_table import SgTable

DMA_BIDIRECTIONAL = 0
DMA_TO_DEVICE = 1
DMA_FROM_DEVICE = 2
DMA_NONE = 3
DMA_MAPPING_ERROR = (1 << 64) - 1
DMA_ATTR_SKIP_CPU_SYNC = 1 << 5
DMA_BIT_MASK_64 = (1 << 64) - 1
IOVA_BASE = 0x100000000


def DMA_BIT_MASK(n: int) -> int:
    if not isinstance(n, int) or not 0 <= n <= 64:
        raise ValueError(f"n must be an int in 0..64, got {n!r}")
    return (1 << n) - 1


def valid_dma_direction(dir: int) -> bool:
    return dir in (DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE)


@dataclass
class _Piece:
    """One bus-address range and the physical memory behind it."""

    bus: int
    length: int
    page: kmem.Page
    offset: int


@dataclass
class _Mapping:
    nents: int
    dir: int
    count: int
    pieces: list[_Piece]
    iova: tuple[int, int] | None


@dataclass
class Device:
    """``struct device`` as far as DMA mapping sees it."""

    name: str = "dev"
    iommu: bool = True
    max_segment_size: int = 65536
    seg_boundary_mask: int = 0xFFFFFFFF
    dma_mask: int = DMA_BIT_MASK_64
    p2p: bool = False
    fail_maps: int = 0
    mappings: dict[int, _Mapping] = field(default_factory=dict)
    _iova_next: int = IOVA_BASE

    def _alloc_iova(self, length: int) -> int:
        # Size-aligned, like alloc_iova_fast(..., size_aligned=true).
        align = 1 << max(PAGE_SHIFT, (length - 1).bit_length())
        base = (self._iova_next + align - 1) & ~(align - 1)
        self._iova_next = base + length
        return base

    def _pieces_at(self, addr: int, length: int, write: bool) -> list[np.ndarray]:
        views: list[np.ndarray] = []
        end = addr + length
        for m in self.mappings.values():
            allowed = m.dir == DMA_BIDIRECTIONAL or m.dir == (DMA_FROM_DEVICE if write
                                                              else DMA_TO_DEVICE)
            for p in m.pieces:
                lo, hi = max(addr, p.bus), min(end, p.bus + p.length)
                if lo < hi:
                    if not allowed:
                        kmem.WARN(True, f"{self.name}: DMA {'write' if write else 'read'} "
                                        f"at {lo:#x} against the mapping direction")
                    views.append((lo, page_views(p.page, p.offset + lo - p.bus, hi - lo,
                                                 write=write)))
        views.sort(key=lambda t: t[0])
        covered = sum(sum(len(v) for v in vs) for _, vs in views)
        if covered != length:
            raise KernelBug(f"{self.name}: DMA to unmapped bus address range "
                            f"[{addr:#x}, {end:#x}) (IOMMU fault)")
        return [v for _, vs in views for v in vs]

    def dma_read(self, dma_addr: int, length: int) -> np.ndarray:
        """Model helper: what the device reads at a bus address."""
        return kmem.gather(self._pieces_at(dma_addr, length, write=False))

    def dma_write(self, dma_addr: int, data: bytes | np.ndarray) -> None:
        """Model helper: the device writes ``data`` at a bus address."""
        src = np.frombuffer(data, np.uint8) if not isinstance(data, np.ndarray) else data
        kmem.copy_views(self._pieces_at(dma_addr, len(src), write=True), [src])


def _check(dev: Device, dir: int) -> None:
    if not isinstance(dev, Device):
        raise TypeError(f"dev must be a Device, got {type(dev).__name__}")
    if not valid_dma_direction(dir):
        raise KernelBug(f"invalid DMA direction {dir}")


def __dma_map_sg_attrs(dev: Device, sg: ScatterlistPtr, nents: int, dir: int,
                       attrs: int) -> int:
    _check(dev, dir)
    first = _need(sg)
    ents = list(for_each_sg(first, nents))
    for s in ents:
        page = sg_page(s)
        if page is None:
            raise KernelBug("dma_map_sg: entry without a page")
        if page.kind is Kind.DEVICE and not dev.p2p:
            return -E.EREMOTEIO
        kmem.WARN(page.kind is Kind.STACK, f"DMA-API: {dev.name}: mapping stack memory")
    if dev.fail_maps > 0:
        dev.fail_maps -= 1
        return -E.EIO
    pieces: list[_Piece] = []
    if not dev.iommu:
        for s in ents:
            phys = kmem.page_to_phys(s._link) + s.offset
            if s.length and phys + s.length - 1 > dev.dma_mask:
                return -E.EIO
        for s in ents:
            s.dma_address = kmem.page_to_phys(s._link) + s.offset
            s.dma_length = s.length
            s.dma_flags = 0
            pieces.append(_Piece(s.dma_address, s.length, s._link, s.offset))
        count = nents
        iova = None
    else:
        count, iova = _iommu_map(dev, ents, pieces)
        if count < 0:
            return count
    dev.mappings[id(first)] = _Mapping(nents, dir, count, pieces, iova)
    return count


def _iommu_map(dev: Device, ents: list[Scatterlist],
               pieces: list[_Piece]) -> tuple[int, tuple[int, int] | None]:
    mask = dev.seg_boundary_mask
    # Lay the entries out as iommu_dma_map_sg does: each starts at its own
    # offset within an IOVA page, padded so none crosses a segment boundary.
    layout = []
    iova_len = pad = 0
    for s in ents:
        phys = kmem.page_to_phys(s._link) + s.offset
        off = phys & (PAGE_SIZE - 1)
        span = (off + s.length + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)
        if pad and pad < span - 1 and layout:
            layout[-1][2] += pad
            iova_len += pad
        layout.append([s, off, span, phys])
        iova_len += span
        pad = (mask - iova_len + 1) & mask
    if should_fail_alloc():
        return -E.ENOMEM, None
    base = dev._alloc_iova(max(iova_len, PAGE_SIZE))
    # __finalise_sg: merge a segment into the previous one when it starts a
    # page, the previous one ended on a page, no boundary lies between and
    # the result stays within max_segment_size.
    dma_addr = base
    cur = -1
    cur_len = 0
    count = 0
    for ent in layout:
        s = ent[0]
        s.dma_address, s.dma_length, s.dma_flags = DMA_MAPPING_ERROR, 0, 0
    for s, off, span, _phys in layout:
        pieces.append(_Piece(dma_addr + off, s.length, s._link, s.offset))
        if cur_len and not off and (dma_addr & mask) and dev.max_segment_size - cur_len >= s.length:
            cur_len += s.length
        else:
            cur += 1
            cur_len = s.length
            count += 1
            ents[cur].dma_address = dma_addr + off
        ents[cur].dma_length = cur_len
        dma_addr += span
        if s.length + off < span:
            cur_len = 0
    return count, (base, iova_len)


def dma_map_sg_attrs(dev: Device, sg: ScatterlistPtr, nents: int, dir: int,
                     attrs: int = 0) -> int:
    """``dma_map_sg_attrs()``: the number of DMA segments written into the
    first entries of ``sg``, or 0 on any failure."""
    ret = __dma_map_sg_attrs(dev, sg, nents, dir, attrs)
    if ret > 0 and _stats.ON:
        _stats.note_dma_segments(ret)
    return ret if ret > 0 else 0


def dma_map_sg(dev: Device, sg: ScatterlistPtr, nents: int, dir: int) -> int:
    return dma_map_sg_attrs(dev, sg, nents, dir, 0)


def dma_unmap_sg_attrs(dev: Device, sg: ScatterlistPtr, nents: int, dir: int,
                       attrs: int = 0) -> None:
    """``dma_unmap_sg_attrs()``: ``nents`` must be what was passed to
    dma_map_sg (not what it returned); DMA-API debug WARNs otherwise."""
    _check(dev, dir)
    first = _need(sg)
    m = dev.mappings.get(id(first))
    if m is None:
        kmem.WARN(True, f"DMA-API: {dev.name}: unmapping a scatterlist that is not mapped")
        return
    kmem.WARN(m.nents != nents, f"DMA-API: {dev.name}: dma_unmap_sg with nents {nents}, "
                                f"mapped with {m.nents}")
    kmem.WARN(m.dir != dir, f"DMA-API: {dev.name}: dma_unmap_sg with a different direction")
    del dev.mappings[id(first)]


def dma_unmap_sg(dev: Device, sg: ScatterlistPtr, nents: int, dir: int) -> None:
    dma_unmap_sg_attrs(dev, sg, nents, dir, 0)


def dma_map_sgtable(dev: Device, sgt: SgTable, dir: int, attrs: int = 0) -> int:
    """``dma_map_sgtable()``: 0 with ``sgt.nents`` set to the segment
    count, or -EINVAL/-ENOMEM/-EIO/-EREMOTEIO."""
    nents = __dma_map_sg_attrs(dev, sgt.sgl, sgt.orig_nents, dir, attrs)
    if nents < 0:
        return nents
    sgt.nents = nents
    return 0


def dma_unmap_sgtable(dev: Device, sgt: SgTable, dir: int, attrs: int = 0) -> None:
    dma_unmap_sg_attrs(dev, sgt.sgl, sgt.orig_nents, dir, attrs)


def _sync(dev: Device, sg: ScatterlistPtr, nelems: int, dir: int, what: str) -> None:
    _check(dev, dir)
    m = dev.mappings.get(id(_need(sg)))
    kmem.WARN(m is None, f"DMA-API: {dev.name}: {what} of a scatterlist that is not mapped")


def dma_sync_sg_for_cpu(dev: Device, sg: ScatterlistPtr, nelems: int, dir: int) -> None:
    """Coherent memory in the model: only the DMA-API debug check."""
    _sync(dev, sg, nelems, dir, "dma_sync_sg_for_cpu")


def dma_sync_sg_for_device(dev: Device, sg: ScatterlistPtr, nelems: int, dir: int) -> None:
    _sync(dev, sg, nelems, dir, "dma_sync_sg_for_device")


def dma_sync_sgtable_for_cpu(dev: Device, sgt: SgTable, dir: int) -> None:
    dma_sync_sg_for_cpu(dev, sgt.sgl, sgt.orig_nents, dir)


def dma_sync_sgtable_for_device(dev: Device, sgt: SgTable, dir: int) -> None:
    dma_sync_sg_for_device(dev, sgt.sgl, sgt.orig_nents, dir)


def dma_get_max_seg_size(dev: Device) -> int:
    return dev.max_segment_size


def dma_set_max_seg_size(dev: Device, size: int) -> int:
    dev.max_segment_size = size
    return 0


def dma_set_mask(dev: Device, mask: int) -> int:
    dev.dma_mask = mask
    return 0

