"""The two-step DMA API (include/linux/dma-mapping.h,
drivers/iommu/dma-iommu.c): allocate one IOVA range for a whole request,
link physical ranges into it, make the links visible with one IOTLB sync,
and tear it all down with one call.

- ``dma_iova_try_alloc(dev, state, phys, size)``: False without an IOMMU
  (dma-direct has no IOVA space: the caller falls back to dma_map_phys per
  range), for a zero size, or when the IOVA space is exhausted.  ``phys``
  only sets the in-page offset of the range (``state.addr`` shares it).
- ``dma_iova_link(dev, state, phys, offset, size, dir, attrs)``: map
  [phys, phys+size) at ``state.addr + offset``.  The IOMMU maps whole
  pages, so the in-page offsets of the IOVA and of ``phys`` must agree
  (only the first link may start inside a page in the kernel's callers;
  the model accepts any link whose offsets agree): otherwise a WARN and
  -EIO.  Device memory needs DMA_ATTR_MMIO and a P2P-capable device
  (-EREMOTEIO).  0 or a negative errno.
- ``dma_iova_sync(dev, state, offset, size)``: the IOTLB flush; before
  it, a device access to the linked range is a dma-debug record.
- ``dma_iova_unlink``/``dma_iova_free``/``dma_iova_destroy``: undo.
  Freeing an IOVA range that still has links is a dma-debug record.

``struct dma_iova_state`` holds ``addr`` and ``__size`` (here ``size``);
``dma_use_iova(state)`` is ``size != 0``.
"""

from __future__ import annotations

import bisect

from dma.debug import dma_debug_err
from dma.device import (
    DMA_ATTR_MMIO,
    DMA_BIDIRECTIONAL,
    DMA_FROM_DEVICE,
    DMA_TO_DEVICE,
    Device,
    DmaMapping,
    DmaPiece,
    check_for_stack,
    dir_name,
)
from dma.mapping import check_dev_dir
from kmem import PAGE_SHIFT, PAGE_SIZE, Kind
from kmem import errno as E
from kmem import stats as _stats
from kmem.page_alloc import DEVICE_PFN_BASE, head_pfn_of, mem_map
from kmem.sanitizer import WARN


class DmaIovaState:
    """``struct dma_iova_state``; ``key`` is the model's own: where the
    device's mapping table (dma-debug's hash) files the range, made once
    rather than on every call of the API."""

    __slots__ = ("addr", "key", "size")

    def __init__(self) -> None:
        self.addr = 0
        self.size = 0
        self.key = ("iova", id(self))

    def __repr__(self) -> str:
        return f"<dma_iova_state addr={self.addr:#x} size={self.size}>"


_DIRS = (DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE)
_OFF = PAGE_SIZE - 1
_STACK = Kind.STACK                     # (bound once: an Enum lookup is a search)


def _state(state: object) -> DmaIovaState:
    if not isinstance(state, DmaIovaState):
        raise TypeError(f"state must be a DmaIovaState, got {type(state).__name__}")
    return state


def dma_use_iova(state: DmaIovaState) -> bool:
    return _state(state).size != 0


def dma_iova_try_alloc(dev: Device, state: DmaIovaState, phys: int, size: int) -> bool:
    """Reserve IOVA space for ``size`` bytes whose first byte has the
    in-page offset of ``phys``; False if there is no IOMMU or no space."""
    if type(dev) is not Device and not isinstance(dev, Device):
        raise TypeError(f"dev must be a Device, got {type(dev).__name__}")
    if type(state) is not DmaIovaState:
        _state(state)
    state.addr, state.size = 0, 0
    if not dev.iommu:
        return False
    if not size:
        WARN(True, "dma_iova_try_alloc: zero size")
        return False
    off = phys & _OFF
    base = dev.alloc_iova(off + size)
    if not base:
        return False
    state.addr, state.size = base + off, size
    # (Positional: the dataclass's keyword and default-factory handling
    # cost more than the mapping's other work.)
    dev.mappings[state.key] = DmaMapping("iova", -1, size, [], 0, (base, off + size), True, [])
    return True


def _link_refused(m: DmaMapping | None, state: DmaIovaState, phys: int, offset: int,
                  size: int) -> int:
    """dma_iova_link's argument errors, in the order it checks them: a
    WARN and -EIO."""
    iova = state.addr + offset
    if m is None:
        WARN(True, "dma_iova_link: no IOVA range allocated")
    elif offset < 0 or size <= 0 or offset + size > state.size:
        WARN(True, f"dma_iova_link: [{offset}, +{size}) outside the {state.size}-byte range")
    else:
        WARN(True, f"dma_iova_link: IOVA {iova:#x} and phys {phys:#x} differ in their page "
                   f"offsets")
    return -E.EIO


def dma_iova_link(dev: Device, state: DmaIovaState, phys: int, offset: int, size: int,
                  dir: int, attrs: int = 0) -> int:
    # (The per-range hot path of a converted driver: the checks of
    # check_dev_dir and _state inline, one test for the argument errors
    # and their messages formatted only when one fails.)
    if type(dev) is not Device or dir not in _DIRS:
        check_dev_dir(dev, dir)
    if type(state) is not DmaIovaState:
        _state(state)
    table = dev.mappings
    m = table.get(state.key)
    iova = state.addr + offset
    if m is None or offset < 0 or size <= 0 or offset + size > state.size or \
            (iova ^ phys) & _OFF:
        return _link_refused(m, state, phys, offset, size)
    pfn = phys >> PAGE_SHIFT
    if pfn < DEVICE_PFN_BASE:
        # check_for_stack(), without its call: only the holder's kind
        # matters.  A page in mem_map is allocated and knows its head; a
        # tail page not looked up yet needs the frame table.
        page = mem_map.get(pfn)
        if page is not None:
            folio = page.head
        else:
            head = head_pfn_of(pfn)
            folio = mem_map.get(head) if head >= 0 else None
        if folio is not None and folio.kind is _STACK:
            check_for_stack(dev, phys, size)
    elif not attrs & DMA_ATTR_MMIO or not dev.p2p:     # is_device_phys()
        return -E.EREMOTEIO
    # The links so far, as sorted (start, end) spans: a link overlapping
    # one is refused, one starting where another ends extends a segment.
    spans = m.spans
    if spans and spans[-1][1] > iova:   # out of order: its place, and no overlap
        k = bisect.bisect_left(spans, (iova, iova))
        if (k < len(spans) and spans[k][0] < iova + size) or (k and spans[k - 1][1] > iova):
            WARN(True, f"dma_iova_link: [{iova:#x}, +{size}) already linked")
            return -E.EEXIST
    else:
        k = len(spans)                  # in order, as drivers link: after the last
    if dev.fail_maps > 0 and dev.take_fail_map():
        return -E.ENOMEM
    spans.insert(k, (iova, iova + size))
    m.pieces.append(DmaPiece(iova, size, phys, dir, False))     # not synced yet
    table._index = None                 # (MappingTable.changed(), inline)
    if m.dir == -1:
        m.dir = dir
    if _stats.ON:
        _stats.note_dma_map()
        if not (k and spans[k - 1][1] == iova):   # not continuing the link before it:
            _stats.note_dma_segments(1)           # a new device-visible segment
    return 0


def dma_iova_sync(dev: Device, state: DmaIovaState, offset: int, size: int) -> int:
    """The IOTLB sync after linking: the links in range become visible."""
    if type(state) is not DmaIovaState:
        _state(state)
    m = dev.mappings.get(state.key)
    if m is None:
        return -E.EIO
    lo = state.addr + offset
    hi = lo + size
    spans = m.spans
    if spans and spans[0][0] >= lo and spans[-1][1] <= hi:
        # The range holds every link (the drivers' one sync after linking;
        # spans and pieces are one per link): no piece to test.
        for p in m.pieces:
            p.synced = True
        return 0
    for p in m.pieces:
        if p.bus < hi and lo < p.bus + p.length:
            p.synced = True
    return 0


def dma_iova_unlink(dev: Device, state: DmaIovaState, offset: int, size: int, dir: int,
                    attrs: int = 0) -> None:
    if type(dev) is not Device or dir not in _DIRS:
        check_dev_dir(dev, dir)
    if type(state) is not DmaIovaState:
        _state(state)
    m = dev.mappings.get(state.key)
    lo, hi = state.addr + offset, state.addr + offset + size
    if m is None or not any(p.bus < hi and lo < p.bus + p.length for p in m.pieces):
        dma_debug_err(dev.name, f"dma_iova_unlink of [{lo:#x}, {hi:#x}) that is not linked")
        return
    keep = []
    m.spans = [t for t in m.spans if not (t[0] < hi and lo < t[1])]
    for p in m.pieces:
        if p.bus < hi and lo < p.bus + p.length:
            if p.dir != dir:
                dma_debug_err(dev.name, f"dma_iova_unlink with {dir_name(dir)}, linked with "
                                        f"{dir_name(p.dir)}")
            if p.bus < lo or p.bus + p.length > hi:
                dma_debug_err(dev.name, f"dma_iova_unlink of part of a link at {p.bus:#x}")
        else:
            keep.append(p)
    m.pieces = keep
    dev.mappings.changed()


def dma_iova_free(dev: Device, state: DmaIovaState) -> None:
    """Give the IOVA range back (links must be gone)."""
    if type(state) is not DmaIovaState:
        _state(state)
    m = dev.mappings.pop(state.key, None)
    if m is None:
        dma_debug_err(dev.name, "dma_iova_free of an IOVA range that is not allocated")
        return
    if m.pieces:
        dma_debug_err(dev.name, f"dma_iova_free with {len(m.pieces)} link(s) still in place")
    dev.free_iova(*m.iova)
    state.addr, state.size = 0, 0


def dma_iova_destroy(dev: Device, state: DmaIovaState, mapped_len: int, dir: int,
                     attrs: int = 0) -> None:
    """Unlink the first ``mapped_len`` bytes and free the range."""
    if mapped_len and type(dev) is Device and dir in _DIRS and type(state) is DmaIovaState:
        # The teardown the kernel's callers make: [0, mapped_len) holds
        # every link (a link is never empty, so the range is then linked).
        # As in the kernel (__iommu_dma_iova_unlink with free_iova), the
        # links and the range go in one pass: dma_iova_unlink's records
        # reduce to the direction, and dma_iova_free's cannot apply.
        table, key = dev.mappings, state.key
        m = table.get(key)
        if m is not None:
            spans, lo = m.spans, state.addr
            if spans and spans[0][0] >= lo and spans[-1][1] <= lo + mapped_len:
                for p in m.pieces:
                    if p.dir != dir:
                        dma_debug_err(dev.name, f"dma_iova_unlink with {dir_name(dir)}, "
                                                f"linked with {dir_name(p.dir)}")
                m.spans, m.pieces = [], []
                del table[key]
                base, length = m.iova       # (a plain call: a *-call costs more)
                dev.free_iova(base, length)
                state.addr, state.size = 0, 0
                return
    # Anything else takes the two calls, whose records say what is wrong.
    if mapped_len:
        dma_iova_unlink(dev, state, 0, mapped_len, dir, attrs)
    dma_iova_free(dev, state)
