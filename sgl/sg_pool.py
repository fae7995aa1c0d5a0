"""Chained sg tables from mempools (lib/sg_pool.c).

The kernel keeps mempools of scatterlist chunks of 8, 16, 32, 64 and 128
entries; the model allocates the chunks with kmalloc (GFP_ATOMIC, as the
pools are used from the I/O path), which keeps fault injection and
descriptor accounting but not the pool reserve.
"""

from __future__ import annotations

import kmem
from kmem import KernelBug
from sgl.scatterlist import (
    SG_CHUNK_SIZE,
    SIZEOF_SCATTERLIST,
    Scatterlist,
    ScatterlistPtr,
    _ptr,
    sg_array,
    sg_init_table,
)
from sgl.sg_table import SgTable, __sg_alloc_table, __sg_free_table

_POOL_SIZES = (8, 16, 32, 64, SG_CHUNK_SIZE)


def _pool_size(nents: int) -> int:
    for size in _POOL_SIZES:
        if nents <= size:
            return size
    raise KernelBug(f"sg_pool: no pool for {nents} entries")


def sg_pool_alloc(nents: int, gfp: int) -> Scatterlist | None:
    if not isinstance(nents, int) or nents < 1:
        raise ValueError(f"nents must be an int >= 1, got {nents!r}")
    addr = kmem.kmalloc_array(_pool_size(nents), SIZEOF_SCATTERLIST, gfp)
    if not addr:
        return None
    arr = sg_array(nents)
    arr.addr = addr
    return arr[0]


def sg_pool_free(sgl: Scatterlist, nents: int) -> None:
    kmem.kfree(getattr(sgl._arr, "addr", 0))


_alloc_table = __sg_alloc_table
_free_table = __sg_free_table


def sg_alloc_table_chained(table: SgTable, nents: int, first_chunk: ScatterlistPtr | None,
                           nents_first_chunk: int) -> int:
    """``sg_alloc_table_chained()``: BUG if ``nents`` is 0.  If the
    preallocated ``first_chunk`` is large enough the table is just that
    chunk (``table.sgl`` is set to it); a ``first_chunk`` of one entry or
    less is ignored.  Otherwise chunks of SG_CHUNK_SIZE are chained."""
    if not nents:
        raise KernelBug("sg_alloc_table_chained: nents == 0")
    first = _ptr(first_chunk, "first_chunk")
    if first is not None and nents_first_chunk and nents <= nents_first_chunk:
        table.sgl = first
        table.nents = table.orig_nents = nents
        sg_init_table(first, nents)
        return 0
    if nents_first_chunk <= 1:
        first = None
        nents_first_chunk = 0
    ret = _alloc_table(table, nents, SG_CHUNK_SIZE, first, nents_first_chunk,
                       kmem.GFP_ATOMIC, sg_pool_alloc)
    if ret:
        sg_free_table_chained(table, nents_first_chunk)
    return ret


def sg_free_table_chained(table: SgTable, nents_first_chunk: int) -> None:
    """``sg_free_table_chained()``: nothing to free if the table fit in the
    preallocated first chunk."""
    if table.orig_nents <= nents_first_chunk:
        return
    if nents_first_chunk == 1:
        nents_first_chunk = 0
    _free_table(table, SG_CHUNK_SIZE, nents_first_chunk, sg_pool_free, table.orig_nents)
