"""iov_iter_advance() over many segments at once (iterate_bulk.bulk_advance)
against the per-segment loop: random BVEC, KVEC and IOVEC arrays with empty
segments, counts short of the array, advances from inside a segment, to
the very end and by nothing, and arrays changed between advances; the
iterator must end in the same place either way."""

from __future__ import annotations

import numpy as np
import pytest

import iovcrypto.iterate_bulk as bulk_mod
import kmem
from iovcrypto import (
    ITER_SOURCE,
    bio_vec,
    iov_iter,
    iov_iter_advance,
    iov_iter_bvec,
    iov_iter_init,
    iov_iter_kvec,
    iovec,
    kvec,
)

PAGE = kmem.PAGE_SIZE
MIN = bulk_mod.BULK_ADVANCE_MIN


def _state(it: iov_iter) -> tuple:
    return it.count, it.iov_offset, it.vec_idx, it._u


def _array(kind: str, rng: np.random.Generator, page: kmem.Page) -> list:
    n = int(rng.integers(MIN, 4 * MIN))
    lens = [0 if rng.random() < 0.1 else int(rng.integers(1, 3 * PAGE)) for _ in range(n)]
    if kind == "bvec":
        return [bio_vec(page, ln, 0) for ln in lens]
    base = kmem.page_address(page)
    cls = kvec if kind == "kvec" else iovec
    return [cls(base, ln) for ln in lens]


def _walk(kind: str, seed: int, page: kmem.Page) -> list[tuple]:
    rng = np.random.default_rng(seed)
    vec = _array(kind, rng, page)
    lens = [s.bv_len if kind == "bvec" else s.iov_len for s in vec]
    nseg = len(vec) - int(rng.integers(0, 4))
    count = sum(lens[:nseg]) - int(rng.integers(0, 2 * PAGE))
    count = max(count, 0)
    it = iov_iter()
    if kind == "bvec":
        iov_iter_bvec(it, ITER_SOURCE, vec, nseg, count)
    elif kind == "kvec":
        iov_iter_kvec(it, ITER_SOURCE, vec, nseg, count)
    else:
        iov_iter_init(it, ITER_SOURCE, vec, nseg, count)
    seen = [_state(it)]
    for k in range(6):
        left = it.count
        pick = rng.random()
        if pick < 0.2:
            size = left
        elif pick < 0.3:
            size = 0
        elif pick < 0.6 and it._u:
            # To the very end of a segment ahead (empty ones after it passed too).
            j = it.vec_idx + int(rng.integers(0, it._u))
            size = min(left, sum(lens[it.vec_idx:j + 1]) - it.iov_offset)
        else:
            size = int(rng.integers(0, left + 1))
        if k == 3 and it._u:
            # A segment changed after the array was described.
            seg = vec[it.vec_idx + it._u - 1]
            if kind == "bvec":
                seg.bv_len += 1
            else:
                seg.iov_len += 1
        iov_iter_advance(it, size)
        seen.append(_state(it))
    return seen


@pytest.mark.parametrize("kind", ["bvec", "kvec", "iovec"])
def test_bulk_advance_matches_the_loop(kind, monkeypatch):
    page = kmem.alloc_page(kmem.GFP_KERNEL)
    try:
        for seed in range(60):
            bulk = _walk(kind, seed, page)
            with monkeypatch.context() as m:
                m.setattr(bulk_mod, "BULK_ADVANCE_MIN", 1 << 30)
                loop = _walk(kind, seed, page)
            assert bulk == loop, (kind, seed)
    finally:
        kmem.__free_page(page)


def test_bulk_advance_is_taken():
    """The many-segment advance does go the bulk way (else the test above
    compares the loop with itself)."""
    page = kmem.alloc_page(kmem.GFP_KERNEL)
    vec = [bio_vec(page, 100, 0) for _ in range(2 * bulk_mod.BULK_ADVANCE_MIN)]
    it = iov_iter()
    iov_iter_bvec(it, ITER_SOURCE, vec, len(vec), 100 * len(vec))
    assert bulk_mod.bulk_advance(it, 250, True)
    assert _state(it) == (100 * len(vec) - 250, 50, 2, len(vec) - 2)
    kmem.__free_page(page)
