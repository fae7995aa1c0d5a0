"""sg_split (lib/sg_split.c): cut a scatterlist into several new ones.

Follows the 2025 fix ("lib: scatterlist: fix sg_split_phys to preserve
original scatterlist offsets"): entries after the first keep their offset
(older kernels forced it to 0, which described the wrong bytes).
"""

from __future__ import annotations

from dataclasses import dataclass

import kmem
from kmem import errno as E
from sgl.scatterlist import (
    SIZEOF_SCATTERLIST,
    Scatterlist,
    ScatterlistPtr,
    SgArray,
    _ptr,
    for_each_sg,
    sg_array,
    sg_mark_end,
    sg_nents,
    sg_next,
)


@dataclass
class _Splitter:
    in_sg0: Scatterlist | None = None
    nents: int = 0
    skip_sg0: int = 0
    length_last_sg: int = 0
    out_sg: SgArray | None = None


def _calculate_split(sgin: Scatterlist, nents: int, skip: int, sizes: list[int],
                     splitters: list[_Splitter], mapped: bool) -> int:
    for sp in splitters:
        sp.in_sg0, sp.nents = None, 0
    # A signed count of splits left, decremented exactly where the C code
    # decrements it (its short-circuit evaluation included).
    nb = len(sizes)
    k = 0
    size = sizes[0]
    for sg in for_each_sg(sgin, nents):
        sglen = sg.dma_length if mapped else sg.length
        if skip > sglen:
            skip -= sglen
            continue
        n = min(size, sglen - skip)
        curr = splitters[k]
        if curr.in_sg0 is None:
            curr.in_sg0, curr.skip_sg0 = sg, skip
        size -= n
        curr.nents += 1
        curr.length_last_sg = n
        # Several splits may end inside this one entry.
        while not size and skip + n < sglen:
            nb -= 1
            if nb <= 0:
                break
            k += 1
            size = sizes[k]
            skip += n
            n = min(size, sglen - skip)
            curr = splitters[k]
            curr.in_sg0, curr.skip_sg0, curr.nents, curr.length_last_sg = sg, skip, 1, n
            size -= n
        skip = 0
        if not size:
            nb -= 1
            if nb > 0:
                k += 1
                size = sizes[k]
        if not nb:
            break
    return -E.EINVAL if size or splitters[0].in_sg0 is None else 0


def _split_phys(splitters: list[_Splitter]) -> None:
    for sp in splitters:
        sgin = sp.in_sg0
        for j, out in enumerate(sp.out_sg):
            out._link, out._flags = sgin._link, sgin._flags
            out.offset, out.length = sgin.offset, sgin.length
            out.dma_flags = sgin.dma_flags
            if not j:
                out.offset += sp.skip_sg0
                out.length -= sp.skip_sg0
            out.dma_address = 0
            out.dma_length = 0
            if j + 1 < sp.nents:
                sgin = sg_next(sgin)
        sp.out_sg[-1].length = sp.length_last_sg
        sg_mark_end(sp.out_sg[-1])


def _split_mapped(splitters: list[_Splitter]) -> None:
    for sp in splitters:
        sgin = sp.in_sg0
        for j, out in enumerate(sp.out_sg):
            out.dma_address, out.dma_length = sgin.dma_address, sgin.dma_length
            if not j:
                out.dma_address += sp.skip_sg0
                out.dma_length -= sp.skip_sg0
            if j + 1 < sp.nents:
                sgin = sg_next(sgin)
        sp.out_sg[-1].dma_length = sp.length_last_sg


def sg_split(in_: ScatterlistPtr, in_mapped_nents: int, skip: int, nb_splits: int,
             split_sizes: list[int], gfp: int) -> tuple[int, list[SgArray], list[int]]:
    """``sg_split()`` -> ``(ret, out, out_mapped_nents)``.

    ``out[k]`` is a freshly kmalloc'd array covering bytes ``[skip +
    sum(sizes[:k]), ... + sizes[k])`` of ``in_``; the caller frees each
    with ``kmem.kfree(out[k].addr)``.  With ``in_mapped_nents`` (the result
    of dma_map_sg) the DMA fields are split likewise and
    ``out_mapped_nents[k]`` gives their counts.  Returns -EINVAL if the list
    is too short, -ENOMEM on allocation failure (``out`` is then empty)."""
    if not isinstance(nb_splits, int) or nb_splits < 1:
        raise ValueError(f"nb_splits must be >= 1, got {nb_splits!r}")
    sizes = list(split_sizes)[:nb_splits]
    if len(sizes) < nb_splits or any(not isinstance(s, int) or s < 0 for s in sizes):
        raise ValueError("split_sizes must hold nb_splits sizes >= 0")
    if not isinstance(skip, int) or skip < 0:
        raise ValueError(f"skip must be >= 0, got {skip!r}")
    first = _ptr(in_, "in_")
    tmp = kmem.kcalloc(nb_splits, 40, gfp)
    if not tmp:
        return -E.ENOMEM, [], []
    splitters = [_Splitter() for _ in range(nb_splits)]
    ret = _calculate_split(first, sg_nents(first), skip, sizes, splitters, False)
    if ret == 0:
        for sp in splitters:
            addr = kmem.kmalloc_array(sp.nents, SIZEOF_SCATTERLIST, gfp)
            if not addr:
                ret = -E.ENOMEM
                break
            sp.out_sg = sg_array(sp.nents)
            sp.out_sg.addr = addr
    if ret == 0:
        _split_phys(splitters)
        if in_mapped_nents:
            ret = _calculate_split(first, in_mapped_nents, skip, sizes, splitters, True)
            if ret == 0:
                _split_mapped(splitters)
    if ret:
        for sp in splitters:
            if sp.out_sg is not None:
                kmem.kfree(sp.out_sg.addr)
        kmem.kfree(tmp)
        return ret, [], []
    kmem.kfree(tmp)
    return 0, [sp.out_sg for sp in splitters], [sp.nents for sp in splitters]
