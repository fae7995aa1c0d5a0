"""What ``iovcrypto compare`` measures over: the buffer layouts, each
described both ways (an iov_iter and a scatterlist over the same bytes),
and the routes an operation can take between the two worlds."""

from __future__ import annotations

import numpy as np

import kmem
from iovcrypto import (
    bio_vec,
    bvecq_alloc_one,
    bvecq_append,
    iov_iter,
    iov_iter_bvec,
    iov_iter_bvec_queue,
    iov_iter_folio_queue,
    iov_iter_kvec,
    iov_iter_ubuf,
    kvec,
)
from kmem import PAGE_SIZE
from kmem import __free_page as free_page
from kmem import __free_pages as free_pages
from sgl import sg_array, sg_init_table, sg_mark_end, sg_set_buf, sg_set_page

LAYOUTS = ("contiguous", "pages", "fragmented", "user", "folioq", "bvecq")
PATHS = ("a:extract", "b:sg", "c:iter", "d:sg>it", "e:it>sg", "f:lib")
PATH_DESC = {
    "a:extract": "iov_iter caller: extract_iter_to_sg + scatterlist API",
    "b:sg": "scatterlist caller: scatterlist API",
    "c:iter": "iov_iter caller: iov_iter API",
    "d:sg>it": "scatterlist API -> bridge -> iov_iter driver",
    "e:it>sg": "iov_iter API -> bridge -> scatterlist driver",
    "f:lib": "iov_iter caller: own walk + lib/crypto AES-GCM/CCM (no request)",
}
_FRAG = (1, 15, 17, 100, 333, 4095, 64, 2000, 700, 9, 1500)
_ORDERS = (2, 0, 1, 3)


# Layouts: the same bytes described both ways.

class Layout:
    """``total`` bytes of one memory layout, with the views of its bytes,
    a fresh iov_iter over it, and a scatterlist over it."""

    def __init__(self, kind: str, total: int) -> None:
        self.kind, self.total = kind, total
        self._free: list = []
        self.pieces: list[tuple[kmem.Page, int, int]] = []    # (page, offset, len)
        self.kvecs: list[kvec] = []
        self.uaddr = 0
        self.folioq = None
        getattr(self, "_" + kind)()

    def _contiguous(self) -> None:
        order = max(0, (-(-self.total // PAGE_SIZE) - 1).bit_length())
        page = kmem.alloc_pages(kmem.GFP_KERNEL, order)
        self._free.append(lambda: free_pages(page, order))
        self.pieces = [(page, 0, self.total)]
        self.kvecs = [kvec(kmem.page_address(page), self.total)]

    def _pages(self) -> None:
        left = self.total
        while left > 0:
            page = kmem.alloc_page(kmem.GFP_KERNEL)
            self._free.append(lambda p=page: free_page(p))
            n = min(left, PAGE_SIZE)
            self.pieces.append((page, 0, n))
            left -= n

    def _fragmented(self) -> None:
        left, k = self.total, 0
        while left > 0:
            n = min(left, _FRAG[k % len(_FRAG)])
            addr = kmem.kmalloc(n, kmem.GFP_KERNEL)
            self._free.append(lambda a=addr: kmem.kfree(a))
            self.kvecs.append(kvec(addr, n))
            left -= n
            k += 1

    def _user(self) -> None:
        mm = kmem.current_mm()
        length = self.total + 2 * PAGE_SIZE
        base = mm.mmap(length)
        self._free.append(lambda: mm.munmap(base, length))
        self.uaddr = base + 100

    def _bvecq(self) -> None:
        # Separate pages, described by a bvecq chain of 4-slot segments
        # (ITER_BVECQ; newer than v7.3) and, for the sg roads, one entry a page.
        self._pages()

    def _folioq(self) -> None:
        folios, left, k = [], self.total, 0
        while left > 0:
            f = kmem.folio_alloc(kmem.GFP_KERNEL, _ORDERS[k % len(_ORDERS)])
            self._free.append(lambda f=f: kmem.folio_put(f))
            folios.append(f)
            n = min(left, kmem.folio_size(f))
            self.pieces.append((f, 0, n))
            left -= n
            k += 1
        self.folioq = kmem.folioq_from_folios(folios)

    def views(self, write: bool = False) -> list[np.ndarray]:
        if self.kind == "user":
            return kmem.current_mm().user_views(self.uaddr, self.total, write)[0]
        if self.kvecs:
            return [v for kv in self.kvecs for v in kmem.virt_views(kv.iov_base, kv.iov_len,
                                                                    write=write)]
        return [v for p, o, n in self.pieces for v in kmem.page_views(p, o, n, write=write)]

    def write(self, data: np.ndarray) -> None:
        kmem.copy_views(self.views(True), [data])

    def read(self, off: int, n: int) -> bytes:
        return np.concatenate(self.views())[off:off + n].tobytes() if n else b""

    def iter(self, direction: int) -> iov_iter:
        it = iov_iter()
        if self.kind == "user":
            iov_iter_ubuf(it, direction, self.uaddr, self.total)
        elif self.kind == "bvecq":
            head = tail = None
            for k in range(0, len(self.pieces), 4):
                bq = bvecq_alloc_one(4, kmem.GFP_KERNEL)
                for p, o, n in self.pieces[k:k + 4]:
                    bq.add(p, n, o)
                if tail is None:
                    head = bq
                else:
                    bvecq_append(tail, bq)
                tail = bq
            iov_iter_bvec_queue(it, direction, head, 0, 0, self.total)
        elif self.kind == "folioq":
            iov_iter_folio_queue(it, direction, self.folioq, 0, 0, self.total)
        elif self.kvecs:
            iov_iter_kvec(it, direction, list(self.kvecs), len(self.kvecs), self.total)
        else:
            bv = [bio_vec(p, n, o) for p, o, n in self.pieces]
            iov_iter_bvec(it, direction, bv, len(bv), self.total)
        return it

    def sg(self, write: bool) -> tuple[object, int, list]:
        """A scatterlist over the bytes (user pages pinned for it): ``(first
        entry, entries, pinned pages)``."""
        pinned: list = []
        pieces = self.pieces
        if self.kind == "user":
            first = self.uaddr & ~(PAGE_SIZE - 1)
            npages = -(-(self.uaddr + self.total - first) // PAGE_SIZE)
            _ret, pinned = kmem.pin_user_pages_fast(first, npages, kmem.FOLL_WRITE if write else 0)
            off, left, pieces = self.uaddr - first, self.total, []
            for p in pinned:
                n = min(left, PAGE_SIZE - off)
                pieces.append((p, off, n))
                left -= n
                off = 0
        arr = sg_array(max(1, len(pieces) or len(self.kvecs)))
        sg_init_table(arr, len(arr))
        if self.kvecs and self.kind != "contiguous":
            for sg, kv in zip(arr, self.kvecs, strict=True):
                sg_set_buf(sg, kv.iov_base, kv.iov_len)
        else:
            for sg, (p, o, n) in zip(arr, pieces, strict=True):
                sg_set_page(sg, p, n, o)
        sg_mark_end(arr[-1])
        return arr[0], len(arr), pinned

    def free(self) -> None:
        for f in reversed(self._free):
            f()
        self._free.clear()
