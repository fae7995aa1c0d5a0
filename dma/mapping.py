"""The streaming DMA API without scatterlists (include/linux/dma-mapping.h,
kernel/dma/mapping.c, kernel/dma/direct.c, drivers/iommu/dma-iommu.c):
``dma_map_phys``/``dma_unmap_phys`` (a physical range, the primitive the
kernel is moving to), ``dma_map_page_attrs``/``dma_unmap_page_attrs`` and
``dma_map_single_attrs`` on top of it, ``dma_mapping_error`` and the
single-range syncs.  ``dma_map_sg`` and friends take scatterlists and
live in ``sgl``; they use the same device and mapping table.

Return conventions are the kernel's: a map returns a bus address or
DMA_MAPPING_ERROR (test it with :func:`dma_mapping_error`, which returns
-ENOMEM), an unmap returns nothing and a misuse is a dma-debug record.

Device (P2P) memory maps only with ``DMA_ATTR_MMIO`` on a device with
``p2p``; without the attribute it is refused (DMA_MAPPING_ERROR), as the
kernel refuses a struct-page mapping of memory it cannot sync.  Behind no
IOMMU, memory above the DMA mask is refused too (no swiotlb here).
"""

from __future__ import annotations

import kmem
from dma.debug import dma_debug_err
from dma.device import (
    DMA_ATTR_MMIO,
    DMA_MAPPING_ERROR,
    Device,
    DmaMapping,
    DmaPiece,
    check_for_stack,
    dir_name,
    is_device_phys,
    valid_dma_direction,
)
from kmem import PAGE_SIZE, KernelBug
from kmem import errno as E
from kmem import stats as _stats


def check_dev_dir(dev: object, dir: int) -> Device:
    if not isinstance(dev, Device):
        raise TypeError(f"dev must be a Device, got {type(dev).__name__}")
    if not valid_dma_direction(dir):
        raise KernelBug(f"invalid DMA direction {dir}")
    return dev


def _check_size(size: object) -> int:
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ValueError(f"size must be an int >= 0, got {size!r}")
    return size


def map_range(dev: Device, phys: int, size: int, dir: int, attrs: int) -> int:
    """The bus address for [phys, phys+size), or a negative errno: what
    dma_direct_map_phys/iommu_dma_map_phys decide, without recording."""
    if is_device_phys(phys):
        if not attrs & DMA_ATTR_MMIO or not dev.p2p:
            return -E.EREMOTEIO
    else:
        if attrs & DMA_ATTR_MMIO:
            dma_debug_err(dev.name, f"DMA_ATTR_MMIO mapping of system RAM at {phys:#x}")
        check_for_stack(dev, phys, size)
    if dev.take_fail_map():
        return -E.EIO
    if not dev.iommu:
        if size and phys + size - 1 > dev.dma_mask:
            return -E.EIO
        return phys
    off = phys & (PAGE_SIZE - 1)
    base = dev.alloc_iova(off + size)
    if not base:
        return -E.ENOMEM
    return base + off


def dma_map_phys(dev: Device, phys: int, size: int, dir: int, attrs: int = 0) -> int:
    """``dma_map_phys()``: a bus address for the physical range, or
    DMA_MAPPING_ERROR."""
    check_dev_dir(dev, dir)
    _check_size(size)
    if not isinstance(phys, int) or isinstance(phys, bool) or phys < 0:
        raise ValueError(f"phys must be an int >= 0, got {phys!r}")
    addr = map_range(dev, phys, size, dir, attrs)
    if addr < 0:
        return DMA_MAPPING_ERROR
    iova = (addr & ~(PAGE_SIZE - 1), (addr & (PAGE_SIZE - 1)) + size) if dev.iommu else None
    key: tuple = ("single", addr)
    if key in dev.mappings:
        # The same bytes mapped again without an IOMMU: a second entry,
        # as dma-debug adds one to the bucket, not a replacement.
        key = ("single", addr, next(k for k in range(1, len(dev.mappings) + 2)
                                    if ("single", addr, k) not in dev.mappings))
        dev.mappings.single_dups = True
    dev.mappings[key] = DmaMapping("phys", dir, size, [DmaPiece(addr, size, phys, dir)],
                                   iova=iova, checked=False)
    if _stats.ON:
        _stats.note_dma_map()
        _stats.note_dma_segments(1)
    return addr


def dma_unmap_phys(dev: Device, addr: int, size: int, dir: int, attrs: int = 0) -> None:
    """``dma_unmap_phys()``: size and direction must be those of the map."""
    check_dev_dir(dev, dir)
    keys = dev.mappings.singles(addr)
    if not keys:
        dma_debug_err(dev.name, f"unmapping device address {addr:#x} that is not mapped "
                                f"(double unmap or never mapped)")
        return
    # Of several at one address, the one this unmap describes, as
    # dma-debug's bucket search prefers an entry matching size and direction.
    key = next((k for k in keys if dev.mappings[k].size == size and dev.mappings[k].dir == dir),
               keys[0])
    m = dev.mappings[key]
    if m.size != size:
        dma_debug_err(dev.name, f"unmapping {addr:#x} with size {size}, mapped with {m.size}")
    if m.dir != dir:
        dma_debug_err(dev.name, f"unmapping {addr:#x} with {dir_name(dir)}, mapped with "
                                f"{dir_name(m.dir)}")
    if not m.checked:
        dma_debug_err(dev.name, f"device driver failed to check map error at {addr:#x}")
    del dev.mappings[key]
    if m.iova is not None:
        dev.free_iova(*m.iova)


def dma_map_page_attrs(dev: Device, page: kmem.Page, offset: int, size: int, dir: int,
                       attrs: int = 0) -> int:
    """``dma_map_page_attrs()``: dma_map_phys of the page's physical
    address (device memory would need DMA_ATTR_MMIO, which has no page)."""
    if not isinstance(page, kmem.Page):
        raise TypeError(f"page must be a Page, got {type(page).__name__}")
    return dma_map_phys(dev, kmem.page_to_phys(page) + offset, size, dir, attrs)


def dma_unmap_page_attrs(dev: Device, addr: int, size: int, dir: int, attrs: int = 0) -> None:
    dma_unmap_phys(dev, addr, size, dir, attrs)


def dma_map_page(dev: Device, page: kmem.Page, offset: int, size: int, dir: int) -> int:
    return dma_map_page_attrs(dev, page, offset, size, dir, 0)


def dma_unmap_page(dev: Device, addr: int, size: int, dir: int) -> None:
    dma_unmap_page_attrs(dev, addr, size, dir, 0)


def dma_map_single_attrs(dev: Device, ptr: int, size: int, dir: int, attrs: int = 0) -> int:
    """``dma_map_single_attrs()``: a kernel virtual address of the direct
    map (kmalloc, pages).  vmalloc and stack addresses are dma-debug's
    "maps memory from vmalloc area/stack"; the model then refuses them
    (virt_to_page would name the wrong page)."""
    if not isinstance(ptr, int) or isinstance(ptr, bool):
        raise TypeError(f"ptr must be a kernel address (int), got {type(ptr).__name__}")
    name = getattr(dev, "name", "dev")
    if kmem.object_is_on_stack(ptr):
        dma_debug_err(name, "device driver maps memory from stack")
        return DMA_MAPPING_ERROR
    if kmem.is_vmalloc_addr(ptr):
        dma_debug_err(name, "device driver maps memory from vmalloc area")
        return DMA_MAPPING_ERROR
    return dma_map_phys(dev, kmem.__pa(ptr), size, dir, attrs)


def dma_unmap_single_attrs(dev: Device, addr: int, size: int, dir: int, attrs: int = 0) -> None:
    dma_unmap_phys(dev, addr, size, dir, attrs)


def dma_map_single(dev: Device, ptr: int, size: int, dir: int) -> int:
    return dma_map_single_attrs(dev, ptr, size, dir, 0)


def dma_unmap_single(dev: Device, addr: int, size: int, dir: int) -> None:
    dma_unmap_phys(dev, addr, size, dir, 0)


def dma_mapping_error(dev: Device, dma_addr: int) -> int:
    """``dma_mapping_error()``: -ENOMEM for DMA_MAPPING_ERROR, else 0; it
    also tells dma-debug the driver checked (an unchecked mapping is
    reported at unmap)."""
    for key in dev.mappings.singles(dma_addr):
        m = dev.mappings[key]
        if not m.checked:          # the first unchecked one, as dma-debug marks
            m.checked = True
            break
    return -E.ENOMEM if dma_addr == DMA_MAPPING_ERROR else 0


def _sync_single(dev: Device, addr: int, size: int, dir: int, for_cpu: bool) -> None:
    check_dev_dir(dev, dir)
    what = "dma_sync_single_for_" + ("cpu" if for_cpu else "device")
    for m in dev.mappings.values():
        for p in m.pieces:
            if p.bus <= addr < p.bus + p.length:
                if addr + size > p.bus + p.length:
                    dma_debug_err(dev.name, f"{what} of {size} bytes at {addr:#x} past the "
                                            f"mapping")
                if m.dir != dir:
                    dma_debug_err(dev.name, f"{what} with {dir_name(dir)}, mapped with "
                                            f"{dir_name(m.dir)}")
                p.cpu_owned = for_cpu
                return
    dma_debug_err(dev.name, f"{what} of {addr:#x} that is not mapped")


def dma_sync_single_for_cpu(dev: Device, addr: int, size: int, dir: int) -> None:
    """Hand the range to the CPU; the device must not touch it until
    dma_sync_single_for_device (recorded if it does)."""
    _sync_single(dev, addr, size, dir, True)


def dma_sync_single_for_device(dev: Device, addr: int, size: int, dir: int) -> None:
    _sync_single(dev, addr, size, dir, False)
