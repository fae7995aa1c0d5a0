"""Buffer layouts for the iov_iter tests: an iterator of any type over real
kmem memory, with a flat reference of the bytes it covers."""

from __future__ import annotations

import numpy as np

import kmem
from iovcrypto import (
    ITER_DEST,
    bio_vec,
    bvecq_alloc_one,
    bvecq_append,
    iov_iter,
    iov_iter_bvec,
    iov_iter_bvec_queue,
    iov_iter_discard,
    iov_iter_folio_queue,
    iov_iter_init,
    iov_iter_kvec,
    iov_iter_ubuf,
    iov_iter_xarray,
    iovec,
    kvec,
)

PAGE = kmem.PAGE_SIZE
TYPES = ("ubuf", "iovec", "kvec", "bvec", "bvecq", "folioq", "xarray", "discard")
BVECQ_SLOTS = 3          # small segments, so that walks cross bvecq boundaries


class Layout:
    """An iterator plus the views of the bytes it covers, in order."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.it = iov_iter()
        self.regions: list = []      # callables returning write views, in order
        self._free: list = []
        self.count = 0
        self.extra: dict = {}

    def views(self) -> list[np.ndarray]:
        out = []
        for r in self.regions:
            out.extend(r())
        return out

    def flat(self) -> np.ndarray:
        v = self.views()
        return np.concatenate(v) if v else np.zeros(0, np.uint8)

    def fill(self, rng: np.random.Generator) -> np.ndarray:
        data = rng.integers(0, 256, self.total(), dtype=np.uint8)
        if len(data):
            kmem.copy_views(self.views(), [data])
        return data

    def total(self) -> int:
        return sum(len(v) for v in self.views())

    def free(self) -> None:
        for f in reversed(self._free):
            f()
        self._free.clear()


def _kernel_buf(lay: Layout, n: int, how: int) -> int:
    if n == 0:
        return kmem.kmalloc(0, kmem.GFP_KERNEL)
    if how == 1 and n > 64:
        addr = kmem.vmalloc(n)
        lay._free.append(lambda: kmem.vfree(addr))
    elif how == 2 and n <= 4 * PAGE - 16:
        addr = kmem.stack_alloc(n)
        lay._free.append(lambda: kmem.stack_free(addr))
    else:
        addr = kmem.kmalloc(n, kmem.GFP_KERNEL)
        lay._free.append(lambda: kmem.kfree(addr))
    return addr


def _user_map(lay: Layout, n: int) -> int:
    mm = kmem.current_mm()
    length = max(n, 1) + PAGE
    base = mm.mmap(length)
    lay._free.append(lambda: mm.munmap(base, length))
    return base


def _user_region(uaddr: int, n: int):
    return lambda: kmem.current_mm().user_views(uaddr, n, True)[0]


def make(kind: str, seg_lens: list[int], direction: int = ITER_DEST, *, seed: int = 0,
         orders: list[int] | None = None, start: int = 0, slack: int = 0) -> Layout:
    """Build a ``kind`` iterator.  Vector types use ``seg_lens``; FOLIOQ and
    XARRAY use folios of ``orders`` starting ``start`` bytes in; ``count``
    is the bytes covered minus ``slack``."""
    rng = np.random.default_rng(seed)
    lay = Layout(kind)
    if kind in ("ubuf", "iovec"):
        if kind == "ubuf":
            seg_lens = [sum(seg_lens)]
        segs = []
        for n in seg_lens:
            base = _user_map(lay, n + PAGE) + int(rng.integers(0, PAGE))
            segs.append(iovec(base, n))
            if n:
                lay.regions.append(_user_region(base, n))
        total = sum(seg_lens)
        if kind == "ubuf":
            iov_iter_ubuf(lay.it, direction, segs[0].iov_base, total - slack)
        else:
            iov_iter_init(lay.it, direction, segs, len(segs), total - slack)
    elif kind == "kvec":
        segs = []
        for k, n in enumerate(seg_lens):
            addr = _kernel_buf(lay, n, k % 3)
            segs.append(kvec(addr, n))
            if n:
                lay.regions.append(lambda a=addr, n=n: kmem.virt_views(a, n, write=True))
        iov_iter_kvec(lay.it, direction, segs, len(segs), sum(seg_lens) - slack)
    elif kind in ("bvec", "bvecq"):
        segs = []
        for n in seg_lens:
            off = int(rng.integers(0, 2 * PAGE))
            order = (max(1, -(-(off + n) // PAGE)) - 1).bit_length()
            page = kmem.alloc_pages(kmem.GFP_KERNEL, order)
            lay._free.append(lambda p=page, o=order: kmem.__free_pages(p, o))
            off = min(off, (PAGE << order) - n)
            segs.append(bio_vec(page, n, off))
            if n:
                lay.regions.append(lambda p=page, o=off, n=n: kmem.page_views(p, o, n, write=True))
        if kind == "bvec":
            iov_iter_bvec(lay.it, direction, segs, len(segs), sum(seg_lens) - slack)
        else:
            head = tail = None
            for k in range(0, max(len(segs), 1), BVECQ_SLOTS):
                bq = bvecq_alloc_one(BVECQ_SLOTS, kmem.GFP_KERNEL)
                for b in segs[k:k + BVECQ_SLOTS]:
                    bq.add(b.bv_page, b.bv_len, b.bv_offset)
                if tail is None:
                    head = bq
                else:
                    bvecq_append(tail, bq)
                tail = bq
            iov_iter_bvec_queue(lay.it, direction, head, 0, 0, sum(seg_lens) - slack)
            lay.extra["bvecq"] = head
    elif kind == "folioq":
        folios = [kmem.folio_alloc(kmem.GFP_KERNEL, o) for o in orders]
        for f in folios:
            lay._free.append(lambda f=f: kmem.folio_put(f))
        fq = kmem.folioq_from_folios(folios)
        total = sum(PAGE << o for o in orders) - start
        # The start offset lies in the first folio.
        first = folios[0]
        lay.regions.append(lambda: kmem.page_views(first, start, (PAGE << first.order) - start,
                                                   write=True))
        for f in folios[1:]:
            lay.regions.append(lambda f=f: kmem.page_views(f, 0, PAGE << f.order, write=True))
        iov_iter_folio_queue(lay.it, direction, fq, 0, start, total - slack)
        lay.extra["folioq"] = fq
    elif kind == "xarray":
        mapping = kmem.AddressSpace()
        index = 0
        folios = []
        for o in orders:
            index = (index + (1 << o) - 1) & ~((1 << o) - 1)
            f = kmem.folio_alloc(kmem.GFP_KERNEL, o)
            kmem.filemap_add_folio(mapping, f, index, kmem.GFP_KERNEL)
            folios.append((index, f))
            index += 1 << o
        # Alignment may leave holes; the reference follows the kernel's walk,
        # so only hole-free layouts (non-increasing orders) are built here.
        first_index = folios[0][0]
        lay.regions.append(lambda: kmem.page_views(folios[0][1], start,
                                                   (PAGE << folios[0][1].order) - start,
                                                   write=True))
        for _, f in folios[1:]:
            lay.regions.append(lambda f=f: kmem.page_views(f, 0, PAGE << f.order, write=True))

        def drop():
            for _, f in folios:
                kmem.filemap_remove_folio(f)
                kmem.folio_put(f)

        lay._free.append(drop)
        total = sum(PAGE << f.order for _, f in folios) - start
        iov_iter_xarray(lay.it, direction, mapping.i_pages, first_index * PAGE + start,
                        total - slack)
        lay.extra["mapping"] = mapping
    elif kind == "discard":
        iov_iter_discard(lay.it, ITER_DEST, sum(seg_lens) - slack)
    else:
        raise ValueError(kind)
    lay.count = lay.it.count
    return lay
