"""scatterlist -> ITER_BVEC: same pages, zero-copy, bounded."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kmem
import sgl
from iovcrypto import (
    ITER_DEST,
    ITER_SOURCE,
    copy_from_iter,
    copy_to_iter,
    iov_iter,
    iov_iter_count,
)
from kmem import __free_pages as free_pages
from shims.sg_iter import (
    aead_iter_skip_ad,
    bvec_array_free,
    iov_iter_bvec_from_sg,
    sg_bvec_count,
    sg_to_bvec,
)

PAGE = kmem.PAGE_SIZE


class Chained:
    """A chained scatterlist over fresh pages: ``specs`` is a list of
    (pages in the block, offset, length) per entry; ``per_array`` data
    entries per array before a chain link."""

    def __init__(self, specs: list[tuple[int, int, int]], per_array: int = 3) -> None:
        self.blocks = []
        self.arrays = []
        ents = []
        for npages, _off, _len in specs:
            order = (npages - 1).bit_length()
            self.blocks.append((kmem.alloc_pages(kmem.GFP_KERNEL, order), order))
        chunks = [specs[i:i + per_array] for i in range(0, len(specs), per_array)] or [[]]
        for c, chunk in enumerate(chunks):
            last = c == len(chunks) - 1
            arr = sgl.sg_array(len(chunk) + (0 if last else 1))
            sgl.sg_init_table(arr, len(arr))
            self.arrays.append(arr)
            ents.extend(arr[:len(chunk)])
        for a, b in zip(self.arrays, self.arrays[1:], strict=False):
            sgl.sg_chain(a, len(a), b)
        for sg, (page, _o), (_n, off, length) in zip(ents, self.blocks, specs, strict=True):
            sgl.sg_set_page(sg, page, length, off)
        self.total = sum(s[2] for s in specs)
        self.first = self.arrays[0]
        # The reference is read straight from the pages (not through the
        # sg mapping iterator, whose kernel-faithful page arithmetic skips
        # a page after an empty entry at an offset of PAGE_SIZE or more).
        self.views = lambda: [v for (p, _o), (_n, off, n) in zip(self.blocks, specs, strict=True)
                              for v in kmem.page_views(p, off, n, write=True)]

    def bytes(self) -> bytes:
        return kmem.gather(self.views()).tobytes()

    def fill(self, seed: int) -> bytes:
        data = np.random.default_rng(seed).integers(0, 256, self.total, dtype=np.uint8)
        if self.total:
            kmem.copy_views(self.views(), [data])
        return data.tobytes()

    def free(self) -> None:
        for page, order in self.blocks:
            free_pages(page, order)


SPECS = [(2, 100, 2 * PAGE - 100), (1, 0, 0), (4, PAGE + 7, 2 * PAGE), (1, 5, 1),
         (1, 0, PAGE), (2, 3000, PAGE)]


def test_chained_multipage_zero_length_and_big_offsets():
    sg = Chained(SPECS, per_array=2)
    data = sg.fill(1)
    it = iov_iter()
    with kmem.cost_counters() as c:
        err, bv = iov_iter_bvec_from_sg(it, ITER_SOURCE, sg.first, 0, sg.total)
    assert err == 0
    assert len(bv) == 5                              # the zero-length entry is dropped
    assert all(b.bv_offset < PAGE for b in bv)       # offsets >= PAGE_SIZE normalised
    assert bv[1].bv_page.pfn == sg.blocks[2][0].pfn + 1 and bv[1].bv_len == 2 * PAGE
    assert c.copies == 0 and c.refs == 0 and c.pins == 0
    assert c.allocations == 1 and c.alloc_bytes == 5 * 16
    out = np.zeros(sg.total, np.uint8)
    assert copy_from_iter(out, sg.total, it) == sg.total
    assert out.tobytes() == data
    bvec_array_free(bv)
    sg.free()


def test_zero_copy_writes_land_in_the_scatterlist_pages():
    sg = Chained(SPECS)
    sg.fill(2)
    it = iov_iter()
    _err, bv = iov_iter_bvec_from_sg(it, ITER_DEST, sg.first, 0, sg.total)
    new = np.random.default_rng(3).integers(0, 256, sg.total, dtype=np.uint8)
    assert copy_to_iter(new, sg.total, it) == sg.total
    assert sg.bytes() == new.tobytes()
    bvec_array_free(bv)
    sg.free()


@pytest.mark.parametrize("skip,length", [(0, 10), (5, PAGE), (2 * PAGE - 100, 1),
                                         (2 * PAGE - 100, 2 * PAGE + 1), (100, 0)])
def test_bounded_window(skip, length):
    sg = Chained(SPECS)
    data = sg.fill(4)
    it = iov_iter()
    err, bv = iov_iter_bvec_from_sg(it, ITER_SOURCE, sg.first, skip, length)
    assert err == 0 and iov_iter_count(it) == length
    assert sum(b.bv_len for b in bv) == length
    assert len(bv) == sg_bvec_count(sg.first, skip, length)
    out = np.zeros(length, np.uint8)
    assert copy_from_iter(out, length, it) == length
    assert out.tobytes() == data[skip:skip + length]
    bvec_array_free(bv)
    sg.free()


def test_short_list_is_einval_and_iter_untouched():
    sg = Chained(SPECS)
    it = iov_iter()
    assert iov_iter_bvec_from_sg(it, ITER_SOURCE, sg.first, 10, sg.total) == \
        (-kmem.errno.EINVAL, None)
    assert it.count == 0
    assert sg_bvec_count(sg.first, 0, sg.total + 1) == -kmem.errno.EINVAL
    sg.free()


def test_allocation_failure_is_enomem():
    sg = Chained(SPECS)
    with kmem.fail_allocations():
        assert sg_to_bvec(sg.first, 0, 100) == (-kmem.errno.ENOMEM, None)
    sg.free()


def test_aead_iter_skip_ad():
    sg = Chained(SPECS)
    data = sg.fill(5)
    it = iov_iter()
    _, bv = iov_iter_bvec_from_sg(it, ITER_SOURCE, sg.first, 0, sg.total)
    text = aead_iter_skip_ad(it, 20)
    assert it.count == sg.total and text.count == sg.total - 20
    out = np.zeros(30, np.uint8)
    copy_from_iter(out, 30, text)
    assert out.tobytes() == data[20:50]
    with pytest.raises(ValueError):
        aead_iter_skip_ad(it, -1)
    bvec_array_free(bv)
    sg.free()


def test_argument_errors():
    with pytest.raises(TypeError):
        sg_to_bvec(object(), 0, 1)
    it = iov_iter()
    with pytest.raises(ValueError):
        iov_iter_bvec_from_sg(it, 7, None, 0, 0)
    assert iov_iter_bvec_from_sg(it, ITER_SOURCE, None, 0, 0)[0] == 0   # empty is fine


@given(specs=st.lists(st.tuples(st.integers(1, 3), st.integers(0, 2 * PAGE),
                                st.integers(0, 3 * PAGE)), min_size=1, max_size=7),
       per_array=st.integers(1, 4), seed=st.integers(0, 9))
def test_property_describes_the_same_bytes(specs, per_array, seed):
    # Keep each entry inside its block.
    fixed = []
    for npages, off, length in specs:
        size = PAGE << (npages - 1).bit_length()
        off = min(off, size)
        fixed.append((npages, off, min(length, size - off)))
    sg = Chained(fixed, per_array)
    data = sg.fill(seed)
    skip = seed * 37 % (sg.total + 1)
    it = iov_iter()
    err, bv = iov_iter_bvec_from_sg(it, ITER_SOURCE, sg.first, skip, sg.total - skip)
    assert err == 0
    out = np.zeros(sg.total - skip, np.uint8)
    assert copy_from_iter(out, len(out), it) == len(out)
    assert out.tobytes() == data[skip:]
    bvec_array_free(bv)
    sg.free()
