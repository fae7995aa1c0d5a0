"""CPU access to simulated memory: ranges resolved to numpy views.

Every path of the project that touches bytes (copies in sg_copy_buffer,
copy_to_iter, the cipher walks, copy_to_user, kmap users) resolves its range
here, into the fewest numpy views: pages that are physically adjacent become
one view.  This is also where the sanitizer looks at each access: device
memory, freed memory and bytes past a kmalloc/vmalloc/stack object are
recorded, and the offending part is replaced by a scratch buffer (reads see
zeros, writes go nowhere) so that a bad access never corrupts other state.
"""

from __future__ import annotations

import numpy as np

from kmem import stats as _stats
from kmem.errno import KernelBug
from kmem.mm_types import PAGE_SHIFT, PAGE_SIZE, Kind, Page
from kmem.page_alloc import (
    BANK_PAGES,
    BANK_SHIFT,
    DEVICE_PFN_BASE,
    PAGE_OFFSET,
    PFN_BASE,
    _banks,
    _heads,
    head_pfn_of,
    is_direct_map,
    mem_map,
    pfn_valid,
    phys_frame_view,
)
from kmem.sanitizer import DEVICE_ACCESS, OUT_OF_BOUNDS, USE_AFTER_FREE, report
from kmem.vmalloc import area_views, find_vm_area, is_vmalloc_addr

# A tuple, not a set: membership then compares by identity in C, where a
# set would call Enum.__hash__ (Python code) on every page_views() call.
_PLAIN = (Kind.PAGE, Kind.VMALLOC, Kind.STACK, Kind.USER)


def _scratch(n: int) -> np.ndarray:
    return np.zeros(n, dtype=np.uint8)


class RunBuilder:
    """Collects (pfn, offset, length) pieces in order and emits one view per
    physically contiguous run (never across a bank)."""

    __slots__ = ("_len", "_off", "_pfn", "views")

    def __init__(self) -> None:
        self.views: list[np.ndarray] = []
        self._pfn = -1
        self._off = 0
        self._len = 0

    def add(self, pfn: int, off: int, n: int) -> None:
        start = (pfn << PAGE_SHIFT) + off
        end = (self._pfn << PAGE_SHIFT) + self._off + self._len
        if (self._len and start == end
                and (pfn - PFN_BASE) >> BANK_SHIFT == (self._pfn - PFN_BASE) >> BANK_SHIFT):
            self._len += n
            return
        self.flush()
        self._pfn, self._off, self._len = pfn, off, n

    def add_view(self, view: np.ndarray) -> None:
        self.flush()
        self.views.append(view)

    def flush(self) -> None:
        if self._len:
            self.views.append(phys_frame_view(self._pfn, self._off, self._len))
            self._len = 0

    def done(self) -> list[np.ndarray]:
        self.flush()
        return self.views


def _frames(out: RunBuilder, pfn: int, off: int, length: int, write: bool) -> None:
    """Add ``length`` bytes starting ``off`` bytes into frame ``pfn``
    (``off`` < PAGE_SIZE), checking each allocation the range touches."""
    while length > 0:
        head = head_pfn_of(pfn)
        folio = mem_map.get(head) if head >= 0 else None
        if folio is None:
            # No allocation here: the range runs into free memory, up to
            # the next allocated frame, recorded once for the whole run.
            if not pfn_valid(pfn):
                raise KernelBug(f"unable to handle page fault for frame {pfn:#x}")
            n = min(length, (_free_run(pfn) << PAGE_SHIFT) - off)
            report(USE_AFTER_FREE, f"access to free page frame {pfn:#x}")
            out.add_view(_scratch(n))
        else:
            end_pfn = folio.pfn + (1 << folio.order)
            n = min(length, ((end_pfn - pfn) << PAGE_SHIFT) - off)
            kind = folio.kind
            if kind is Kind.DEVICE:
                report(DEVICE_ACCESS, f"CPU {'store to' if write else 'load from'} device memory "
                                      f"{folio!r}")
                out.add_view(_scratch(n))
            elif kind is Kind.SLAB and not _slab_ok(folio, ((pfn - folio.pfn) << PAGE_SHIFT) + off,
                                                    n):
                out.add_view(_scratch(n))
            else:
                out.add(pfn, off, n)
        length -= n
        pfn += (off + n) >> PAGE_SHIFT
        off = (off + n) & (PAGE_SIZE - 1)


def _free_run(pfn: int) -> int:
    """How many free frames from ``pfn`` on, to the next allocated one or
    the end of its bank."""
    if pfn >= DEVICE_PFN_BASE:
        return 1
    rel = pfn - PFN_BASE
    heads = _heads[rel >> BANK_SHIFT][rel & (BANK_PAGES - 1):]
    used = np.flatnonzero(heads >= 0)
    return int(used[0]) if len(used) else len(heads)


def _slab_ok(folio, offset: int, n: int) -> bool:
    slab = folio.slab
    idx, within = slab.object_at(offset)
    size = slab.requested[idx] if idx < slab.nr_objects else -1
    if size < 0:
        report(USE_AFTER_FREE, f"access to freed kmalloc object in {folio!r}")
        return False
    if within + n > size:
        report(OUT_OF_BOUNDS, f"access of {n} bytes at offset {within} of a "
                              f"{size}-byte kmalloc object")
        return False
    return True


def page_views(page: Page, offset: int, length: int, *, write: bool = False) -> list[np.ndarray]:
    """Views of ``length`` bytes at ``offset`` from ``page`` (``offset`` may
    exceed PAGE_SIZE: the range then starts in a later frame, as a
    scatterlist or bio_vec entry may)."""
    if not isinstance(page, Page):
        raise TypeError(f"page_views(): page must be a Page, got {type(page).__name__}")
    if length <= 0:
        return []
    folio = page.head
    if folio.freed:
        report(USE_AFTER_FREE, f"access through stale struct page {page!r}")
        return [_scratch(length)]
    # The common case: inside one folio of plain, CPU-accessible memory
    # (a folio never straddles a bank).
    fpfn = folio.pfn
    rel = page.pfn - fpfn
    if (folio.kind in _PLAIN
            and (rel << PAGE_SHIFT) + offset + length <= PAGE_SIZE << folio.order):
        rel = fpfn - PFN_BASE
        start = ((rel & (BANK_PAGES - 1)) << PAGE_SHIFT) + (page.pfn - fpfn << PAGE_SHIFT) + offset
        return [_banks[rel >> BANK_SHIFT][start:start + length]]
    if not pfn_valid(page.pfn + ((offset + length - 1) >> PAGE_SHIFT)):
        raise KernelBug(f"unable to handle page fault: {length:#x} bytes at offset "
                        f"{offset:#x} from {page!r} run past the end of memory")
    out = RunBuilder()
    _frames(out, page.pfn + (offset >> PAGE_SHIFT), offset & (PAGE_SIZE - 1), length, write)
    return out.done()


def virt_views(addr: int, length: int, *, write: bool = False) -> list[np.ndarray]:
    """Views of ``length`` bytes at kernel virtual address ``addr``
    (direct map, vmalloc, vmap or stack)."""
    if length <= 0:
        return []
    if is_direct_map(addr):
        pfn = (addr - PAGE_OFFSET) >> PAGE_SHIFT
        off = addr & (PAGE_SIZE - 1)
        # The common case: inside one allocation of CPU-accessible memory
        # (a kmalloc object checked against its bounds), one slice.
        head = head_pfn_of(pfn)
        folio = mem_map.get(head) if head >= 0 else None
        if folio is not None:
            at = ((pfn - head) << PAGE_SHIFT) + off
            if at + length <= PAGE_SIZE << folio.order:
                kind = folio.kind
                if kind is Kind.SLAB:
                    if not _slab_ok(folio, at, length):
                        return [_scratch(length)]
                elif kind not in _PLAIN:
                    folio = None
                if folio is not None:
                    rel = head - PFN_BASE
                    start = ((rel & (BANK_PAGES - 1)) << PAGE_SHIFT) + at
                    return [_banks[rel >> BANK_SHIFT][start:start + length]]
        if not pfn_valid(pfn) or not pfn_valid((addr + length - 1 - PAGE_OFFSET) >> PAGE_SHIFT):
            # The range starts or ends where the direct map has no RAM.
            raise KernelBug(f"unable to handle kernel paging request at {addr:#x} "
                            f"(+{length:#x})")
        out = RunBuilder()
        _frames(out, pfn, addr & (PAGE_SIZE - 1), length, write)
        return out.done()
    if is_vmalloc_addr(addr):
        area = find_vm_area(addr)
        if area is None:
            raise KernelBug(f"unable to handle kernel paging request at {addr:#x}")
        if area.freed:
            report(USE_AFTER_FREE, f"access to freed vmalloc/stack memory at {addr:#x}")
            return [_scratch(length)]
        if addr < area.object_start or addr + length > area.object_start + area.object_size:
            report(OUT_OF_BOUNDS, f"access of {length} bytes at {addr:#x} outside the "
                                  f"{area.object_size}-byte {area.kind.value} object")
            return [_scratch(length)]
        if area.kind is Kind.DEVICE:
            report(DEVICE_ACCESS, f"CPU access to vmapped device memory at {addr:#x}")
            return [_scratch(length)]
        return area_views(area, addr - area.addr, length)
    raise KernelBug(f"kernel access to non-kernel address {addr:#x}")


Buffer = int | np.ndarray | bytes | bytearray | memoryview


def buffer_views(buf: Buffer, length: int, *, write: bool = False,
                 offset: int = 0) -> list[np.ndarray]:
    """Views of ``length`` bytes at ``offset`` in a kernel buffer given
    either as a kernel virtual address (an int, as in C) or, for the model's
    own scratch buffers, as a Python buffer object."""
    if isinstance(buf, int) and not isinstance(buf, bool):
        return virt_views(buf + offset, length, write=write)
    if isinstance(buf, np.ndarray):
        if buf.dtype != np.uint8 or buf.ndim != 1:
            raise TypeError("a numpy buffer must be a 1-D uint8 array")
        arr = buf
    elif isinstance(buf, (bytes, bytearray, memoryview)):
        if write and isinstance(buf, bytes):
            raise TypeError("cannot write into a bytes object; pass a bytearray or numpy array")
        arr = np.frombuffer(buf, dtype=np.uint8)
    else:
        raise TypeError(f"buffer must be an address (int) or a bytes-like object, "
                        f"got {type(buf).__name__}")
    if len(arr) < offset + length:
        raise ValueError(f"buffer of {len(arr)} bytes is shorter than offset + length "
                         f"({offset} + {length})")
    return [arr[offset:offset + length]] if length else []


def _not_views(name: str) -> TypeError:
    return TypeError(f"{name} must be a list of numpy uint8 arrays")


def copy_views(dst: list[np.ndarray], src: list[np.ndarray]) -> int:
    """Copy ``src`` into ``dst`` (same total length); returns the length.

    Overlapping memory behaves as memmove for a single pair of views; for
    scattered overlapping runs the copy is done through a gathered copy of
    the source."""
    try:
        return _copy_views(dst, src)
    except (AttributeError, IndexError, TypeError) as e:
        raise _not_views("copy_views(): dst and src") from e
    except ValueError as e:     # numpy could not broadcast one onto the other
        raise ValueError("copy_views(): dst and src differ in length") from e


def _copy_views(dst: list[np.ndarray], src: list[np.ndarray]) -> int:
    if _stats.ON:
        _stats.note_copy(sum(len(v) for v in src))
    if len(src) == 1 and len(dst) == 1:
        dst[0][:] = src[0]
        return len(src[0])
    if len(dst) == 1:
        if not src:
            return 0
        # concatenate() checks that the lengths agree, so the total is dst's.
        np.concatenate(src, out=dst[0])
        return len(dst[0])
    total = sum(len(v) for v in src)
    flat = src[0] if len(src) == 1 else np.concatenate(src) if src else _scratch(0)
    pos = 0
    for d in dst:
        n = len(d)
        d[:] = flat[pos:pos + n]
        pos += n
    return total


def gather(views: list[np.ndarray]) -> np.ndarray:
    """One contiguous copy of the bytes of ``views``."""
    if not isinstance(views, list) or (views and not isinstance(views[0], np.ndarray)):
        raise _not_views("gather(): views")
    if _stats.ON and views:
        _stats.note_copy(sum(len(v) for v in views))
    if not views:
        return _scratch(0)
    return views[0].copy() if len(views) == 1 else np.concatenate(views)


def fill_views(views: list[np.ndarray], value: int) -> None:
    for v in views:
        if not isinstance(v, np.ndarray):
            raise _not_views("fill_views(): views")
        v.fill(value)


def read_virt(addr: int, length: int) -> bytes:
    """Model helper: the bytes at a kernel address (for tests and tools)."""
    return gather(virt_views(addr, length)).tobytes()


def write_virt(addr: int, data: bytes | np.ndarray) -> None:
    """Model helper: store ``data`` at a kernel address."""
    src = np.frombuffer(data, np.uint8) if not isinstance(data, np.ndarray) else data
    copy_views(virt_views(addr, len(src), write=True), [src])


def memset(addr: int, value: int, length: int) -> None:
    """``memset()``: as in C, only the low byte of ``value`` is stored."""
    fill_views(virt_views(addr, length, write=True), value & 0xFF)


def memcpy(dst: Buffer, src: Buffer, length: int) -> None:
    """``memcpy()`` between kernel buffers (addresses or buffer objects)."""
    copy_views(buffer_views(dst, length, write=True), buffer_views(src, length))
