"""Scatterlist layouts over the memory kinds of kmem, for the sgl tests.

``build(segments, chunk=...)`` allocates memory for each segment, describes
it with scatterlist entries (splitting non-contiguous memory per page, as a
correct caller must) placed in arrays of ``chunk`` slots chained together,
and returns a :class:`Layout` whose ``flat()`` reads the described bytes
back independently of the code under test (page by page through
kmem.access), so tests can compare against a flat-buffer model.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

import kmem
from kmem import PAGE_SIZE
from kmem.access import gather, page_views
from sgl import sg_array, sg_chain, sg_init_table, sg_mark_end, sg_set_buf, sg_set_page

KINDS = ("page", "folio", "kmalloc", "vmalloc", "stack", "tail", "zero")


@dataclass
class Layout:
    sgl: list
    pieces: list[tuple[kmem.Page, int, int]]     # (page, offset, length) per data entry
    arrays: list[list] = field(default_factory=list)
    frees: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(n for _, _, n in self.pieces)

    @property
    def nents(self) -> int:
        return len(self.pieces)

    def flat(self) -> np.ndarray:
        views = []
        for page, off, n in self.pieces:
            views += page_views(page, off, n)
        return gather(views)

    def fill(self, data: np.ndarray) -> None:
        pos = 0
        for page, off, n in self.pieces:
            kmem.copy_views(page_views(page, off, n, write=True), [data[pos:pos + n]])
            pos += n

    def free(self) -> None:
        for fn in reversed(self.frees):
            fn()
        self.frees.clear()


def _pieces_for(kind: str, n: int, rng: np.random.Generator, frees: list) -> list:
    if kind == "zero":
        page = kmem.alloc_page(kmem.GFP_KERNEL)
        frees.append(lambda: kmem.__free_page(page))
        return [("page", page, int(rng.integers(0, PAGE_SIZE)), 0)]
    if kind in ("page", "folio", "tail"):
        off = int(rng.integers(0, PAGE_SIZE))
        if kind == "folio":
            off += PAGE_SIZE * int(rng.integers(0, 3))     # offsets beyond PAGE_SIZE
        need = -(-(off + n) // PAGE_SIZE) + (1 if kind == "tail" else 0)
        order = max(0, (need - 1).bit_length())
        folio = kmem.alloc_pages(kmem.GFP_KERNEL, order)
        frees.append(lambda: kmem.__free_pages(folio, order))
        if kind == "tail":
            return [("page", kmem.folio_page(folio, 1), off, n)]
        return [("page", folio, off, n)]
    if kind == "kmalloc":
        addr = kmem.kmalloc(max(n, 1), kmem.GFP_KERNEL)
        frees.append(lambda: kmem.kfree(addr))
        return [("buf", addr, 0, n)]
    # vmalloc and stack memory: one entry per page, through vmalloc_to_page.
    if kind == "stack":
        n = min(n, 4 * PAGE_SIZE - 64)
        addr = kmem.stack_alloc(max(n, 1))
        frees.append(lambda: kmem.stack_free(addr))
    else:
        addr = kmem.vmalloc(max(n, 1))
        frees.append(lambda: kmem.vfree(addr))
    out = []
    pos = 0
    while pos < n:
        a = addr + pos
        k = min(n - pos, PAGE_SIZE - (a & (PAGE_SIZE - 1)))
        out.append(("page", kmem.vmalloc_to_page(a), a & (PAGE_SIZE - 1), k))
        pos += k
    return out


def build(segments: list[tuple[str, int]], chunk: int = 0, seed: int = 0,
          fill: bool = True) -> Layout:
    """Entries for ``segments`` ((kind, length) pairs) in arrays of
    ``chunk`` slots (0: one array), chained, end-marked."""
    rng = np.random.default_rng(seed)
    frees: list = []
    specs = []
    for kind, n in segments:
        specs += _pieces_for(kind, n, rng, frees)
    if not specs:
        raise ValueError("a layout needs at least one entry")
    per = chunk - 1 if chunk >= 2 else len(specs)
    groups = [specs[i:i + per] for i in range(0, len(specs), per)]
    arrays = []
    for gi, group in enumerate(groups):
        last = gi == len(groups) - 1
        arr = sg_array(len(group) + (0 if last else 1))
        sg_init_table(arr, len(arr))
        arrays.append(arr)
    pieces = []
    for arr, group in zip(arrays, groups):
        for sg, (how, obj, off, n) in zip(arr, group):
            if how == "buf":
                sg_set_buf(sg, obj, n)
                pieces.append((kmem.virt_to_page(obj), kmem.offset_in_page(obj), n))
            else:
                sg_set_page(sg, obj, n, off)
                pieces.append((obj, off, n))
    for a, b in itertools.pairwise(arrays):
        sg_chain(a, len(a), b)
    sg_mark_end(arrays[-1][len(groups[-1]) - 1])
    lay = Layout(arrays[0], pieces, arrays, frees)
    if fill:
        lay.fill(np.random.default_rng(seed + 1).integers(0, 256, lay.total, dtype=np.uint8))
    return lay


def flat_buffer(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8)
