"""Property tests: any iterator type over any layout, any sequence of
operations, checked against a flat-buffer reference (a position and a
count over the bytes the iterator covers)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kmem
from iovcrypto import (
    ITER_DEST,
    ITER_SOURCE,
    copy_from_iter,
    copy_from_iter_full,
    copy_to_iter,
    copy_to_iter_full,
    iov_iter_advance,
    iov_iter_count,
    iov_iter_extract_pages,
    iov_iter_reexpand,
    iov_iter_restore,
    iov_iter_revert,
    iov_iter_save_state,
    iov_iter_spans,
    iov_iter_truncate,
    iov_iter_zero,
    iterate_and_advance2,
)

from .layouts import make

SIZES = st.sampled_from([0, 1, 2, 7, 100, 511, 4095, 4096, 4097, 5000, 9000, 12288])
OPS = st.lists(st.tuples(st.sampled_from(["advance", "revert", "copy", "copy_full", "zero",
                                          "truncate", "reexpand", "save", "restore",
                                          "step"]),
                         st.integers(0, 20000)), max_size=12)


KINDS = ["ubuf", "iovec", "kvec", "bvec", "bvecq", "folioq", "xarray", "discard"]


@st.composite
def layouts(draw, kind):
    direction = ITER_DEST if kind == "discard" else draw(st.sampled_from([ITER_DEST,
                                                                         ITER_SOURCE]))
    seg_lens = draw(st.lists(SIZES, min_size=1, max_size=6))
    if kind == "folioq":
        orders = draw(st.lists(st.sampled_from([0, 0, 0, 1, 2]), min_size=1, max_size=36))
    else:
        orders = sorted(draw(st.lists(st.sampled_from([0, 1, 2]), min_size=1, max_size=4)),
                        reverse=True)
    start = draw(st.integers(0, (kmem.PAGE_SIZE << orders[0]) - 1)) \
        if kind in ("folioq", "xarray") else 0
    slack = draw(st.integers(0, 3))
    return kind, direction, seg_lens, orders, start, slack


def _peek(it) -> np.ndarray:
    views, n = iov_iter_spans(it, it.count)
    assert n == it.count
    return np.concatenate(views) if views else np.zeros(0, np.uint8)


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data(), ops=OPS, seed=st.integers(0, 2**32))
def test_operations_match_flat_reference(kind, data, ops, seed):
    layout = data.draw(layouts(kind))
    kind, direction, seg_lens, orders, start, slack = layout
    if kind in ("folioq", "xarray"):
        slack = min(slack, sum(kmem.PAGE_SIZE << o for o in orders) - start)
    else:
        slack = min(slack, sum(seg_lens))
    lay = make(kind, seg_lens, direction, seed=seed, orders=orders, start=start, slack=slack)
    rng = np.random.default_rng(seed)
    try:
        it = lay.it
        ref = lay.fill(rng) if kind != "discard" else np.zeros(lay.count, np.uint8)
        p, c, shorted, saved = 0, lay.count, 0, None
        for op, n in ops:
            if op == "advance":
                iov_iter_advance(it, n)
                k = min(n, c)
                p, c = p + k, c - k
            elif op == "revert":
                k = min(n, p)
                iov_iter_revert(it, k)
                p, c = p - k, c + k
            elif op in ("copy", "copy_full"):
                k = min(n, c)
                if direction == ITER_DEST:
                    data = rng.integers(0, 256, n, dtype=np.uint8)
                    if op == "copy":
                        assert copy_to_iter(data, n, it) == k
                    else:
                        assert copy_to_iter_full(data, n, it) == (k == n)
                    if kind != "discard":
                        # A failed _full copy is reverted, but its bytes landed.
                        ref[p:p + k] = data[:k]
                    k = k if op == "copy" or k == n else 0
                else:
                    out = np.zeros(n, np.uint8)
                    if op == "copy":
                        assert copy_from_iter(out, n, it) == k
                    else:
                        assert copy_from_iter_full(out, n, it) == (k == n)
                    assert (out[:k] == ref[p:p + k]).all()
                    k = k if op == "copy" or k == n else 0
                p, c = p + k, c - k
            elif op == "zero":
                k = min(n, c)
                assert iov_iter_zero(n, it) == k
                if kind != "discard":
                    ref[p:p + k] = 0
                p, c = p + k, c - k
            elif op == "truncate":
                iov_iter_truncate(it, n)
                if c > n:
                    shorted += c - n
                    c = n
            elif op == "reexpand":
                iov_iter_reexpand(it, c + shorted)
                c, shorted = c + shorted, 0
            elif op == "save" and kind in ("ubuf", "iovec", "kvec", "bvec"):
                saved = (iov_iter_save_state(it), p, c, shorted)
            elif op == "restore" and saved is not None:
                if kind == "kvec":
                    with kmem.expect_violations("warn"):
                        iov_iter_restore(it, saved[0])
                else:
                    iov_iter_restore(it, saved[0])
                _, p, c, shorted = saved
            elif op == "step":
                seen: list[np.ndarray] = []

                def step(base, progress, length, acc, priv2):
                    assert len(base) == length and progress == sum(len(b) for b in acc)
                    acc.append(base.copy())
                    return 0

                k = min(n, c)
                assert iterate_and_advance2(it, n, seen, None, step, step) == k
                if kind != "discard":
                    got = np.concatenate(seen) if seen else np.zeros(0, np.uint8)
                    assert (got == ref[p:p + k]).all()
                p, c = p + k, c - k
            assert iov_iter_count(it) == c
            if kind != "discard":
                assert (_peek(it) == ref[p:p + c]).all()
        if kind != "discard":
            assert (lay.flat()[:lay.count] == ref[:lay.count]).all()
    finally:
        lay.free()


@pytest.mark.parametrize("kind", KINDS[:-1])
@given(data=st.data(), maxpages=st.integers(1, 9), maxsize=st.integers(1, 3 * 4096),
       seed=st.integers(0, 2**32))
def test_extracted_runs_describe_the_iterators_bytes(kind, data, maxpages, maxsize, seed):
    """Draining an iterator with iov_iter_extract_pages gives runs whose
    pages, first offset and length cover exactly the reference bytes, in
    order; pins are taken exactly for user-backed iterators."""
    _, direction, seg_lens, orders, start, _ = data.draw(layouts(kind))
    lay = make(kind, seg_lens, direction, seed=seed, orders=orders, start=start)
    try:
        ref = lay.fill(np.random.default_rng(seed))
        got, empty = [], 0
        while lay.it.count and empty < 64:
            before = lay.it.count
            ret, pages, off = iov_iter_extract_pages(lay.it, None, maxsize, maxpages)
            assert 0 <= ret <= min(maxsize, before) and lay.it.count == before - ret
            empty += ret == 0
            if not ret:
                continue
            npages = -(-(off + ret) // kmem.PAGE_SIZE)
            assert npages <= maxpages and len(pages) >= npages
            left, o = ret, off
            for page in pages[:npages]:
                n = min(left, kmem.PAGE_SIZE - o)
                got.append(kmem.gather(kmem.page_views(page, o, n)))
                left, o = left - n, 0
            pinned = [kmem.folio_maybe_dma_pinned(p.head) for p in pages[:npages]]
            assert all(pinned) if kind in ("ubuf", "iovec") else not any(pinned)
            if kind in ("ubuf", "iovec"):
                for page in pages[:npages]:
                    kmem.unpin_user_page(page)
        assert lay.it.count == 0
        flat = np.concatenate(got) if got else np.zeros(0, np.uint8)
        assert flat.tobytes() == ref[:lay.count].tobytes()
    finally:
        lay.free()
