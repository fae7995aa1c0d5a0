"""Iterators of every type for the iov_iter crypto tests, over real kmem
memory, built with tests/test_iov_iter/layouts.py, with exactly the count
asked for and a flat reference of their bytes."""

from __future__ import annotations

import numpy as np

import kmem
from iovcrypto import ITER_DEST, ITER_SOURCE, iov_iter
from tests.test_iov_iter.layouts import Layout, make

PAGE = kmem.PAGE_SIZE
KINDS = ("ubuf", "iovec", "kvec", "bvec", "bvecq", "folioq", "xarray")


def build(kind: str, count: int, seg_lens: list[int] | None = None, *, source: bool = True,
          seed: int = 0, start: int = 0, big_first: bool = False) -> Layout:
    """A ``kind`` iterator of exactly ``count`` bytes.  Vector types use
    ``seg_lens`` (extended or cut to ``count``; default one segment);
    FOLIOQ/XARRAY use order-0 folios (an order-1 first with ``big_first``)
    starting ``start`` bytes into the first."""
    direction = ITER_SOURCE if source else ITER_DEST
    if kind in ("folioq", "xarray"):
        start = start % PAGE
        need = count + start
        orders = [1] if big_first else []
        have = sum(PAGE << o for o in orders)
        while have < max(need, 1):
            orders.append(0)
            have += PAGE
        return make(kind, [], direction, seed=seed, orders=orders, start=start,
                    slack=have - need)
    lens = _fit(list(seg_lens or [count]), count)
    return make(kind, lens, direction, seed=seed)


def _fit(lens: list[int], count: int) -> list[int]:
    out, left = [], count
    for n in lens:
        if left <= 0:
            break
        out.append(min(n, left))
        left -= out[-1]
    if left > 0:
        out.append(left)
    return out or [0]


def fill(lay: Layout, rng: np.random.Generator) -> np.ndarray:
    data = rng.integers(0, 256, lay.count, dtype=np.uint8)
    put(lay, 0, data)
    return data


def put(lay: Layout, off: int, data: np.ndarray) -> None:
    """Write ``data`` at byte ``off`` of the layout's range."""
    flat_views = _cut(lay.views(), off, len(data))
    kmem.copy_views(flat_views, [data])


def get(lay: Layout, off: int, n: int) -> np.ndarray:
    return kmem.gather(_cut(lay.views(), off, n)) if n else np.zeros(0, np.uint8)


def _cut(views: list[np.ndarray], off: int, n: int) -> list[np.ndarray]:
    out = []
    for v in views:
        if n <= 0:
            break
        if off >= len(v):
            off -= len(v)
            continue
        piece = v[off:off + n]
        out.append(piece)
        n -= len(piece)
        off = 0
    return out


def position(it: iov_iter) -> tuple:
    """Everything that says where an iterator is."""
    return (it.iter_type, it.count, it.iov_offset, it.vec_idx, it._u, id(it._ptr))
