"""DMA-API debugging (kernel/dma/debug.c) as ledger records.

The kernel's dma-debug keeps a hash of every live mapping and complains
(``err_printk``, a WARN) when a driver unmaps with another size or
direction, unmaps twice or unmaps what it never mapped, syncs what is not
mapped, or maps stack or vmalloc memory by address.  The model records
those as :data:`DMA_API` ledger records, and a device access outside the
live mappings (or against their direction) as an :data:`IOMMU_FAULT`:
the IOMMU blocks it, and the device reports the transfer as failed.

Two checks go further than the kernel, because the model can see both
sides: a device access to a range whose ownership was handed to the CPU
(``dma_sync_single_for_cpu`` without ``dma_sync_single_for_device``), or
to an IOVA range linked but not yet made visible with ``dma_iova_sync``.
"""

from __future__ import annotations

import warnings

from kmem.sanitizer import KernelWarning, report

DMA_API = "dma-api"            # a dma-debug complaint (err_printk)
IOMMU_FAULT = "iommu-fault"    # a device access the IOMMU refused


class IommuFault(Exception):
    """Raised into the device model when the IOMMU refuses an access; the
    engine turns it into a failed descriptor (the driver sees -EIO)."""


def dma_debug_err(dev_name: str, message: str) -> None:
    """``err_printk()``: one ledger record and a warning."""
    rec = report(DMA_API, f"DMA-API: {dev_name}: {message}")
    warnings.warn(str(rec), KernelWarning, stacklevel=3)


def iommu_fault(dev_name: str, message: str) -> IommuFault:
    """Record an IOMMU fault and return the exception to raise."""
    rec = report(IOMMU_FAULT, f"{dev_name}: {message}")
    return IommuFault(str(rec))
