"""DMA mapping of scatterlists (include/linux/dma-mapping.h,
kernel/dma/mapping.c, kernel/dma/direct.c, drivers/iommu/dma-iommu.c).

The scatterlist is both the input and the output of dma_map_sg: the CPU
description (page, offset, length) goes in, and the device's view
(dma_address, dma_length of the first ``ret`` entries) is written back into
the same entries, possibly merged into fewer segments.  That double use is
one of the reasons the structure is being replaced; the model keeps it.

The device, its IOMMU and IOVA space, the mapping table a device reads and
writes through, and the scatterlist-free API (dma_map_phys, the two-step
dma_iova_* API) are world-neutral and live in the ``dma`` package; this
module only adds what takes a scatterlist.  Behind an IOMMU, entries are
laid out in one IOVA range and entries that meet on page boundaries are
merged, within ``max_segment_size`` and the segment boundary mask, as
iommu_dma_map_sg/__finalise_sg do; dma-direct maps one segment per entry.

Failures: ``Device.fail_maps = n`` makes the next n mappings fail with -EIO;
IOVA exhaustion or allocation failure is -ENOMEM; an address beyond
``dma_mask`` with dma-direct is -EIO (no swiotlb in the model); device
(P2P) memory without ``p2p=True`` is -EREMOTEIO.  dma_map_sg returns 0 for
all of them; dma_map_sgtable returns the errno.  The DMA-API debug checks
(unmap with a different nents or direction, unmapping what is not mapped,
mapping stack memory) are dma-debug records (dma.debug).
"""

from __future__ import annotations

import kmem
from dma.debug import dma_debug_err
from dma.device import (  # noqa: F401  (re-exported kernel names)
    DMA_ATTR_SKIP_CPU_SYNC,
    DMA_BIDIRECTIONAL,
    DMA_BIT_MASK,
    DMA_BIT_MASK_64,
    DMA_FROM_DEVICE,
    DMA_MAPPING_ERROR,
    DMA_NONE,
    DMA_TO_DEVICE,
    Device,
    DmaMapping,
    DmaPiece,
    dir_name,
    dma_get_max_seg_size,
    dma_set_mask,
    dma_set_max_seg_size,
    valid_dma_direction,
)
from dma.mapping import check_dev_dir as _check
from kmem import PAGE_SIZE, KernelBug, Kind
from kmem import errno as E
from kmem import stats as _stats
from sgl.scatterlist import Scatterlist, ScatterlistPtr, _need, for_each_sg, sg_page
from sgl.sg_table import SgTable


def _key(first: Scatterlist) -> tuple:
    return ("sg", id(first))


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
        if page.kind is Kind.STACK:
            dma_debug_err(dev.name, "device driver maps memory from stack")
    if dev.take_fail_map():
        return -E.EIO
    pieces: list[DmaPiece] = []
    if not dev.iommu:
        for s in ents:
            phys = kmem.page_to_phys(s._link) + s.offset
            if s.length and phys + s.length - 1 > dev.dma_mask:
                return -E.EIO
        for s in ents:
            s.dma_address = kmem.page_to_phys(s._link) + s.offset
            s.dma_length = s.length
            s.dma_flags = 0
            pieces.append(DmaPiece(s.dma_address, s.length, s.dma_address, dir))
        count = nents
        iova = None
    else:
        count, iova = _iommu_map(dev, ents, pieces, dir)
        if count < 0:
            return count
    dev.mappings[_key(first)] = DmaMapping("sg", dir, sum(s.length for s in ents), pieces,
                                           nents=nents, iova=iova)
    if _stats.ON:
        _stats.note_dma_map()
    return count


def _iommu_map(dev: Device, ents: list[Scatterlist], pieces: list[DmaPiece],
               dir: int) -> tuple[int, tuple[int, int] | None]:
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
    iova_len = max(iova_len, PAGE_SIZE)
    base = dev.alloc_iova(iova_len)
    if not base:
        return -E.ENOMEM, None
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
    for s, off, span, phys in layout:
        pieces.append(DmaPiece(dma_addr + off, s.length, phys, dir))
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
    m = dev.mappings.get(_key(first))
    if m is None:
        dma_debug_err(dev.name, "unmapping a scatterlist that is not mapped")
        return
    if m.nents != nents:
        dma_debug_err(dev.name, f"dma_unmap_sg with nents {nents}, mapped with {m.nents}")
    if m.dir != dir:
        dma_debug_err(dev.name, f"dma_unmap_sg with {dir_name(dir)}, mapped with "
                                f"{dir_name(m.dir)}")
    del dev.mappings[_key(first)]
    if m.iova is not None:
        dev.free_iova(*m.iova)


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
    m = dev.mappings.get(_key(_need(sg)))
    if m is None:
        dma_debug_err(dev.name, f"{what} of a scatterlist that is not mapped")
        return
    for p in m.pieces:
        p.cpu_owned = what.endswith("cpu")


def dma_sync_sg_for_cpu(dev: Device, sg: ScatterlistPtr, nelems: int, dir: int) -> None:
    """Hand the mapped list to the CPU: the device must not touch it until
    dma_sync_sg_for_device (dma.device records it if it does)."""
    _sync(dev, sg, nelems, dir, "dma_sync_sg_for_cpu")


def dma_sync_sg_for_device(dev: Device, sg: ScatterlistPtr, nelems: int, dir: int) -> None:
    _sync(dev, sg, nelems, dir, "dma_sync_sg_for_device")


def dma_sync_sgtable_for_cpu(dev: Device, sgt: SgTable, dir: int) -> None:
    dma_sync_sg_for_cpu(dev, sgt.sgl, sgt.orig_nents, dir)


def dma_sync_sgtable_for_device(dev: Device, sgt: SgTable, dir: int) -> None:
    dma_sync_sg_for_device(dev, sgt.sgl, sgt.orig_nents, dir)
