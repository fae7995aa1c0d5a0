"""dma: devices, their IOMMU and IOVA space, and the DMA API that does not
take scatterlists (kernel/dma, drivers/iommu/dma-iommu.c): dma_map_phys,
dma_map_page_attrs, the two-step dma_iova_* API, struct phys_vec, the
DMA-API debug checks as ledger records, and a simulated crypto engine
(the hardware the engine drivers of both worlds program).

Below both worlds: it imports kmem (and ciphers for the engine's
arithmetic) and nothing else of ours; ``dma_map_sg`` and friends take
scatterlists and stay in ``sgl``.
"""

from dma.debug import DMA_API, IOMMU_FAULT, IommuFault
from dma.device import (
    DMA_ATTR_MMIO,
    DMA_ATTR_NO_WARN,
    DMA_ATTR_SKIP_CPU_SYNC,
    DMA_BIDIRECTIONAL,
    DMA_BIT_MASK,
    DMA_BIT_MASK_64,
    DMA_FROM_DEVICE,
    DMA_MAPPING_ERROR,
    DMA_NONE,
    DMA_TO_DEVICE,
    Device,
    dma_get_mask,
    dma_get_max_seg_size,
    dma_get_seg_boundary,
    dma_set_mask,
    dma_set_mask_and_coherent,
    dma_set_max_seg_size,
    dma_set_seg_boundary,
    is_pci_p2pdma_page,
    valid_dma_direction,
)
from dma.iova import (
    DmaIovaState,
    dma_iova_destroy,
    dma_iova_free,
    dma_iova_link,
    dma_iova_sync,
    dma_iova_try_alloc,
    dma_iova_unlink,
    dma_use_iova,
)
from dma.mapping import (
    dma_map_page,
    dma_map_page_attrs,
    dma_map_phys,
    dma_map_single,
    dma_map_single_attrs,
    dma_mapping_error,
    dma_sync_single_for_cpu,
    dma_sync_single_for_device,
    dma_unmap_page,
    dma_unmap_page_attrs,
    dma_unmap_phys,
    dma_unmap_single,
    dma_unmap_single_attrs,
)
from dma.types import SIZEOF_PHYS_VEC, PhysVec

__all__ = [
    "DMA_API", "DMA_ATTR_MMIO", "DMA_ATTR_NO_WARN", "DMA_ATTR_SKIP_CPU_SYNC",
    "DMA_BIDIRECTIONAL", "DMA_BIT_MASK", "DMA_BIT_MASK_64", "DMA_FROM_DEVICE",
    "DMA_MAPPING_ERROR", "DMA_NONE", "DMA_TO_DEVICE", "IOMMU_FAULT", "SIZEOF_PHYS_VEC",
    "Device", "DmaIovaState", "IommuFault", "PhysVec",
    "dma_get_mask", "dma_get_max_seg_size", "dma_get_seg_boundary", "dma_iova_destroy",
    "dma_iova_free", "dma_iova_link", "dma_iova_sync", "dma_iova_try_alloc",
    "dma_iova_unlink", "dma_map_page", "dma_map_page_attrs", "dma_map_phys",
    "dma_map_single", "dma_map_single_attrs", "dma_mapping_error", "dma_set_mask",
    "dma_set_mask_and_coherent", "dma_set_max_seg_size", "dma_set_seg_boundary",
    "dma_sync_single_for_cpu", "dma_sync_single_for_device", "dma_unmap_page",
    "dma_unmap_page_attrs", "dma_unmap_phys", "dma_unmap_single", "dma_unmap_single_attrs",
    "dma_use_iova", "is_pci_p2pdma_page", "valid_dma_direction",
]

# Kernel names are checked for argument types at this boundary (kmem.typecheck).
from kmem.typecheck import check_exports as _check_exports

_check_exports(globals(), __name__)
