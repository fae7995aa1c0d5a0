"""Cost accounting: what a path through the model costs (DESIGN §8, §9).

Not a kernel file: this is the model's instrument for ``iovcrypto
compare``.  Counting is off unless a :func:`cost_counters` context is
active; the primitives every path already goes through check one module
flag (``ON``) and do nothing more when it is false:

- ``copies`` / ``bytes_copied``: kmem.access.copy_views (so memcpy,
  copy_to_user/copy_from_user, memcpy_to/from_page, sg copy helpers and
  the walks' bounce copies) and kmem.access.gather (a gathered copy of
  scattered views).  Code that moves bytes without those primitives calls
  :func:`note_copy` itself.
- ``kmaps`` / ``kunmaps``: kmem.highmem (kmap_local_page, kmap_atomic,
  kmap and their unmaps).
- ``refs``: references taken (folio_get/get_page, get_user_pages);
  ``pins``: pages pinned (pin_user_pages*).
- ``allocations`` / ``alloc_bytes``: kmalloc and friends, the page
  allocator's public entry points, vmalloc.  Each allocation is also
  classified by the first non-kmem module on the call stack against the
  prefixes registered with :func:`classify_allocations`: a "descriptor"
  allocation (a scatterlist array, a bio_vec array, ...) adds to
  ``descriptors``/``descriptor_bytes``, a "bounce" allocation to
  ``bounce_buffers``/``bounce_bytes``.  This lets a tool say "sg tables
  are descriptors, the skcipher walk's buffers are bounces" without a
  counter in either world's code.
- ``descriptors`` / ``descriptor_bytes`` can also be noted directly with
  :func:`note_descriptor` for descriptors that are not heap allocations
  (arrays in a request, on the stack, the iterator structs themselves).
- ``dma_segments``: :func:`note_dma_segments`, for DMA mapping code;
  ``dma_maps`` (mapping calls that succeeded: one per dma_map_sg, per
  dma_map_phys/page, per dma_iova_link), ``iova_bytes`` (IOVA space
  allocated) and ``hw_descriptors`` (descriptors handed to a device), from
  the dma package.

Contexts nest; every active context sees every event.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

ON = False
_active: list[CostCounters] = []
_classes: dict[str, str] = {}
CATEGORIES = ("descriptor", "bounce")


@dataclass
class CostCounters:
    """The counts of one :func:`cost_counters` context."""

    copies: int = 0
    bytes_copied: int = 0
    kmaps: int = 0
    kunmaps: int = 0
    refs: int = 0
    pins: int = 0
    allocations: int = 0
    alloc_bytes: int = 0
    descriptors: int = 0
    descriptor_bytes: int = 0
    bounce_buffers: int = 0
    bounce_bytes: int = 0
    dma_segments: int = 0
    dma_maps: int = 0
    iova_bytes: int = 0
    hw_descriptors: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def __iadd__(self, other: CostCounters) -> CostCounters:
        for k, v in asdict(other).items():
            setattr(self, k, getattr(self, k) + v)
        return self


@contextmanager
def cost_counters() -> Iterator[CostCounters]:
    """``with kmem.cost_counters() as c:`` counts everything done inside;
    ``c`` holds the totals (readable during and after the block)."""
    global ON
    c = CostCounters()
    _active.append(c)
    ON = True
    try:
        yield c
    finally:
        _active.remove(c)
        ON = bool(_active)


def classify_allocations(prefixes: dict[str, str]) -> None:
    """Register module-name prefixes whose allocations are descriptors or
    bounce buffers: ``{"sgl.sg_table": "descriptor", ...}``.  The longest
    matching prefix wins; ``""`` as a category removes a prefix."""
    for prefix, cat in prefixes.items():
        if not isinstance(prefix, str) or not prefix:
            raise ValueError(f"prefix must be a non-empty str, got {prefix!r}")
        if cat == "":
            _classes.pop(prefix, None)
            continue
        if cat not in CATEGORIES:
            raise ValueError(f"category must be one of {CATEGORIES}, got {cat!r}")
        _classes[prefix] = cat


def _category() -> str | None:
    if not _classes:
        return None
    f = sys._getframe(2)
    while f is not None:
        mod = f.f_globals.get("__name__", "")
        if not mod.startswith("kmem.") and mod != "kmem":
            best = None
            for prefix, cat in _classes.items():
                if (mod == prefix or mod.startswith(prefix + ".")) and (
                        best is None or len(prefix) > len(best[0])):
                    best = (prefix, cat)
            return best[1] if best else None
        f = f.f_back
    return None


def note_copy(nbytes: int) -> None:
    """One copy of ``nbytes`` bytes."""
    for c in _active:
        c.copies += 1
        c.bytes_copied += nbytes


def note_kmap() -> None:
    for c in _active:
        c.kmaps += 1


def note_kunmap() -> None:
    for c in _active:
        c.kunmaps += 1


def note_ref(n: int = 1) -> None:
    for c in _active:
        c.refs += n


def note_pin(n: int = 1) -> None:
    for c in _active:
        c.pins += n


def note_alloc(nbytes: int) -> None:
    """An allocation of ``nbytes``, classified by its caller."""
    cat = _category()
    for c in _active:
        c.allocations += 1
        c.alloc_bytes += nbytes
        if cat == "descriptor":
            c.descriptors += 1
            c.descriptor_bytes += nbytes
        elif cat == "bounce":
            c.bounce_buffers += 1
            c.bounce_bytes += nbytes


def note_descriptor(nbytes: int, n: int = 1) -> None:
    """Descriptor memory that is not a classified heap allocation."""
    for c in _active:
        c.descriptors += n
        c.descriptor_bytes += nbytes


def note_bounce(nbytes: int) -> None:
    for c in _active:
        c.bounce_buffers += 1
        c.bounce_bytes += nbytes


def note_dma_segments(n: int) -> None:
    for c in _active:
        c.dma_segments += n


def note_dma_map(n: int = 1) -> None:
    for c in _active:
        c.dma_maps += n


def note_iova(nbytes: int) -> None:
    for c in _active:
        c.iova_bytes += nbytes


def note_hw_descriptors(n: int) -> None:
    for c in _active:
        c.hw_descriptors += n
