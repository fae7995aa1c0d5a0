"""ITER_BVECQ and struct bvecq (Howells' series v4): allocation, append,
prepending a header segment, stepping across segments, extraction without
references, extract_iter_to_sg, and iov_iter_revert() by reset-and-advance
(the iterator never follows ``prev``)."""

from __future__ import annotations

import numpy as np
import pytest

import kmem
import sgl
from iovcrypto import (
    BVECQ_POOL_SLOTS,
    ITER_BVECQ,
    ITER_SOURCE,
    bvecq_alloc_chain,
    bvecq_alloc_one,
    bvecq_append,
    bvecq_get,
    bvecq_prepend,
    bvecq_put,
    copy_from_iter,
    iov_iter,
    iov_iter_advance,
    iov_iter_bvec_queue,
    iov_iter_extract_pages,
    iov_iter_npages,
    iov_iter_revert,
    iov_iter_single_seg_count,
    iterate_and_advance2,
)
from shims.extract import extract_iter_to_sg

PAGE = kmem.PAGE_SIZE
free_pages = kmem.__free_pages


class Chain:
    """Pages with bytes, described by a bvecq chain of small segments."""

    def __init__(self, lens: list[int], slots: int = 2, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.pages, self.ref = [], []
        self.head = self.tail = None
        for k in range(0, len(lens), slots):
            bq = bvecq_alloc_one(slots, kmem.GFP_KERNEL)
            for n in lens[k:k + slots]:
                self._add(bq, n, int(rng.integers(0, 100)), rng)
            self.link(bq)

    def _add(self, bq, n, off, rng):
        order = (max(1, -(-(off + n) // PAGE)) - 1).bit_length()
        page = kmem.alloc_pages(kmem.GFP_KERNEL, order)
        self.pages.append((page, order))
        data = rng.integers(0, 256, n, dtype=np.uint8)
        if n:
            kmem.copy_views(kmem.page_views(page, off, n, write=True), [data])
        bq.add(page, n, off)
        self.ref.append(data)

    def link(self, bq):
        if self.tail is None:
            self.head = bq
        else:
            bvecq_append(self.tail, bq)
        self.tail = bq

    def flat(self) -> np.ndarray:
        return np.concatenate(self.ref) if self.ref else np.zeros(0, np.uint8)

    def free(self):
        for p, o in self.pages:
            free_pages(p, o)


@pytest.fixture
def chain():
    c = Chain([100, 5000, 0, 3, 4096, 9000, 1], slots=2, seed=1)
    yield c
    c.free()


def _it(c: Chain, count: int | None = None) -> iov_iter:
    it = iov_iter()
    n = sum(len(r) for r in c.ref) if count is None else count
    iov_iter_bvec_queue(it, ITER_SOURCE, c.head, 0, 0, n)
    return it


def test_alloc_chain_and_refs():
    head = bvecq_alloc_chain(2 * BVECQ_POOL_SLOTS + 5, kmem.GFP_KERNEL)
    segs = []
    bq = head
    while bq is not None:
        segs.append(bq)
        bq = bq.next
    assert [s.max_slots for s in segs] == [BVECQ_POOL_SLOTS, BVECQ_POOL_SLOTS, 5]
    assert segs[1].prev is segs[0] and segs[0].prev is None and segs[-1].next is None
    bvecq_get(segs[1])
    bvecq_put(head)                      # frees the first, stops at the still-held second
    assert segs[0].ref == 0 and segs[1].ref == 1 and segs[1].prev is None
    bvecq_put(segs[1])
    assert all(s.ref == 0 for s in segs)


def test_copy_and_steps_cross_segments(chain):
    ref = chain.flat()
    it = _it(chain)
    assert it.iter_type == ITER_BVECQ
    out = np.zeros(len(ref), np.uint8)
    assert copy_from_iter(out, 3333, it) == 3333
    assert copy_from_iter(out[3333:], len(ref), it) == len(ref) - 3333
    assert (out == ref).all() and it.count == 0
    it = _it(chain)
    seen = []

    def step(base, progress, n, acc, _):
        assert n <= PAGE
        acc.append(base.copy())
        return 0

    assert iterate_and_advance2(it, len(ref), seen, None, step, step) == len(ref)
    assert (np.concatenate(seen) == ref).all()


def test_prepend_a_header_segment(chain):
    """Crypto drivers glue bits on the front: link a header segment before
    the head and start the iterator there."""
    body = chain.flat()
    hdr_page = kmem.alloc_page(kmem.GFP_KERNEL)
    hdr = np.arange(20, dtype=np.uint8)
    kmem.copy_views(kmem.page_views(hdr_page, 7, 20, write=True), [hdr])
    front = bvecq_alloc_one(1, kmem.GFP_KERNEL)
    front.add(hdr_page, 20, 7)
    bvecq_prepend(chain.head, front)
    assert chain.head.prev is front and front.next is chain.head
    with pytest.raises(kmem.KernelBug):
        bvecq_prepend(chain.head, bvecq_alloc_one(1, kmem.GFP_KERNEL))   # not the head
    it = iov_iter()
    iov_iter_bvec_queue(it, ITER_SOURCE, front, 0, 0, 20 + len(body))
    out = np.zeros(20 + len(body), np.uint8)
    assert copy_from_iter(out, len(out), it) == len(out)
    assert (out[:20] == hdr).all() and (out[20:] == body).all()
    free_pages(hdr_page, 0)


@pytest.mark.parametrize("adv,back", [(150, 40), (5100, 5000), (18000, 17000), (5103, 5103)])
def test_revert_resets_and_advances(chain, adv, back):
    it = _it(chain)
    iov_iter_advance(it, adv)
    # Cut every prev link: reset-and-advance must not need them.
    bq = chain.head
    while bq is not None:
        bq.prev = None
        bq = bq.next
    iov_iter_revert(it, back)
    want = _it(chain)
    iov_iter_advance(want, adv - back)
    assert (it._ptr, it.bvecq_slot, it.iov_offset, it.count) == \
        (want._ptr, want.bvecq_slot, want.iov_offset, want.count)
    out = np.zeros(it.count, np.uint8)
    assert copy_from_iter(out, it.count, it) == len(out)
    assert (out == chain.flat()[adv - back:]).all()
    with pytest.raises(kmem.KernelBug):
        iov_iter_revert(it, len(chain.flat()) + 1)


def test_extraction_takes_no_references(chain):
    ref = chain.flat()
    it = _it(chain)
    before = [p._refcount for p, _ in chain.pages]
    got = b""
    while it.count:
        ret, pages, off = iov_iter_extract_pages(it, None, 1 << 20, 8)
        assert ret > 0
        left, o = ret, off
        for p in pages:
            n = min(left, PAGE - o)
            got += b"".join(v.tobytes() for v in kmem.page_views(p, o, n))
            left -= n
            o = 0
    assert got == ref.tobytes()
    assert [p._refcount for p, _ in chain.pages] == before


def test_extract_iter_to_sg(chain):
    ref = chain.flat()
    it = _it(chain)
    arr = sgl.sg_array(16)
    sgl.sg_init_table(arr, 16)
    t = sgl.SgTable()
    t.sgl = arr[0]
    with kmem.cost_counters() as c:
        assert extract_iter_to_sg(it, len(ref), t, 16, 0) == len(ref)
    assert c.pins == 0 and c.refs == 0 and it.count == 0
    assert t.nents == 6                     # one entry per non-empty bio_vec
    sgl.sg_mark_end(arr[t.nents - 1])
    buf = bytearray(len(ref))
    assert sgl.sg_copy_to_buffer(arr, t.nents, buf, len(ref)) == len(ref)
    assert bytes(buf) == ref.tobytes()


def test_queries(chain):
    it = _it(chain)
    assert iov_iter_single_seg_count(it) == 100
    iov_iter_advance(it, 100)
    assert iov_iter_single_seg_count(it) == 5000
    assert iov_iter_npages(it, 1000) >= -(-(len(chain.flat()) - 100) // PAGE)
    assert iov_iter_npages(it, 2) == 2
