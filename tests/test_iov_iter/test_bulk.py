"""The bulk copy path (iovcrypto/iterate_bulk.py, kmem/bulk.py) against the
per-segment walk: on thousands of random segment arrays, some clean, some
with a segment that must make a record (a stale page, device memory, a range
past its object, a freed object, vmalloc memory), copy_to_iter() and
copy_from_iter() must give the same return value, the same bytes in memory
and in the buffer, the same iterator state and the same ledger records with
the bulk path on and off."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import iovcrypto.iterate_bulk as bulk_mod
import kmem
from iovcrypto import (
    ITER_DEST,
    ITER_SOURCE,
    bio_vec,
    bvecq_alloc_chain,
    bvecq_put,
    copy_from_iter,
    copy_to_iter,
    iov_iter,
    iov_iter_advance,
    iov_iter_bvec,
    iov_iter_bvec_queue,
    iov_iter_folio_queue,
    iov_iter_kvec,
    kvec,
)
from iovcrypto.iterate import iterate_and_advance2
from kmem import sanitizer
from kmem.page_alloc import phys_frame_view

PAGE = kmem.PAGE_SIZE
# The package exports the iov_iter class under the module's name.
iov_iter_mod = importlib.import_module("iovcrypto.iov_iter")


class Case:
    """Allocations plus a segment array over them, built from one seed."""

    def __init__(self, seed: int, kind: str) -> None:
        self.rng = rng = np.random.default_rng(seed)
        self.kind = kind
        self.frames: list[tuple[int, int]] = []      # (pfn, bytes) to snapshot
        self.frees: list = []
        self.segs: list = []
        clean = rng.random() < 0.6
        if kind == "folioq":
            self._folioq(clean)
            return
        self.bv_kind = "bvec" if kind == "bvecq" else kind
        if rng.random() < 0.2:
            # Equal segments, aligned or not: the bulk path's row copies.
            seglen = int(rng.choice([512, 1024, PAGE]))
            for _ in range(int(rng.integers(8, 40))):
                off = int(rng.integers(0, PAGE // 512)) * 512 if rng.random() < 0.5 else 0
                f = self._folio(1)
                if self.bv_kind == "bvec":
                    self.segs.append(bio_vec(f, seglen, off))
                else:
                    self.segs.append(kvec(kmem.page_address(f) + off, seglen))
            return
        for _ in range(int(rng.integers(1, 40))):
            self.segs.append(self._segment(clean))

    def _folio(self, order: int) -> kmem.Folio:
        f = kmem.folio_alloc(kmem.GFP_KERNEL, order)
        self.frames.append((f.pfn, PAGE << order))
        self.frees.append(lambda: kmem.folio_put(f))
        return f

    def _kmalloc(self, size: int) -> int:
        a = kmem.kmalloc(size, kmem.GFP_KERNEL)
        page = kmem.virt_to_page(a).head
        self.frames.append((page.pfn, PAGE << page.order))
        self.frees.append(lambda: kmem.kfree(a))
        return a

    def _segment(self, clean: bool):
        rng = self.rng
        bad = None if clean or rng.random() > 0.08 else rng.choice(
            ["stale", "device", "oob", "freed_obj", "vmalloc", "small_oob"])
        empty = rng.random() < 0.05
        if self.bv_kind == "bvec":
            if bad == "device":
                f = kmem.alloc_device_pages(0)
                self.frees.append(lambda: kmem.free_device_pages(f))
                return bio_vec(f, int(rng.integers(1, PAGE)), 0)
            if bad == "stale":
                f = kmem.folio_alloc(kmem.GFP_KERNEL, 0)
                kmem.folio_put(f)
                return bio_vec(f, 512, 0)
            if rng.random() < 0.3:
                size = int(rng.choice([64, 100, 4096, 5000, 8192, 20000]))
                a = self._kmalloc(size)
                off = int(rng.integers(0, size))
                n = 0 if empty else int(rng.integers(1, size - off + 1))
                if bad in ("oob", "small_oob"):
                    n = size - off + int(rng.integers(1, 64))
                if bad == "freed_obj":
                    kmem.kfree(a)
                    self.frees.pop()
                page = kmem.virt_to_page(a + off)
                return bio_vec(page, n, (a + off) & (PAGE - 1))
            order = int(rng.integers(0, 3))
            f = self._folio(order)
            size = PAGE << order
            first = int(rng.integers(0, 1 << order))
            page = f if first == 0 else kmem.pfn_to_page(f.pfn + first)
            room = size - first * PAGE
            if rng.random() < 0.5:
                off, n = 0, min(PAGE, room)
            else:
                off = int(rng.integers(0, room))
                n = int(rng.integers(1, room - off + 1))
            if bad == "oob":
                n = room - off + int(rng.integers(1, PAGE))
            return bio_vec(page, 0 if empty else n, off)
        # kvec
        if bad == "vmalloc":
            a = kmem.vmalloc(3 * PAGE)
            self.frees.append(lambda: kmem.vfree(a))
            return kvec(a, int(rng.integers(1, 3 * PAGE)))
        if rng.random() < 0.5 or bad in ("freed_obj", "small_oob"):
            size = int(rng.choice([64, 100, 4096, 5000, 8192, 20000]))
            a = self._kmalloc(size)
            off = int(rng.integers(0, size))
            n = int(rng.integers(1, size - off + 1))
            if bad in ("oob", "small_oob"):
                n = size - off + int(rng.integers(1, 64))
            if bad == "freed_obj":
                kmem.kfree(a)
                self.frees.pop()
            return kvec(a + off, 0 if empty else n)
        order = int(rng.integers(0, 3))
        f = self._folio(order)
        size = PAGE << order
        off = int(rng.integers(0, size))
        n = int(rng.integers(1, size - off + 1))
        if bad == "oob":
            n = size - off + int(rng.integers(1, PAGE))
        return kvec(kmem.page_address(f) + off, 0 if empty else n)

    def _folioq(self, clean: bool) -> None:
        rng = self.rng
        folios = []
        for _ in range(int(rng.choice([rng.integers(1, 80), 62, 93]))):
            bad = None if clean or rng.random() > 0.05 else rng.choice(
                ["stale", "device", "order"])
            if bad == "device":
                f = kmem.alloc_device_pages(0)
                self.frees.append(lambda f=f: kmem.free_device_pages(f))
            elif bad == "stale":
                f = kmem.folio_alloc(kmem.GFP_KERNEL, 0)
                kmem.folio_put(f)
            else:
                f = self._folio(int(rng.integers(0, 3)))
            folios.append(f)
        self.fq = kmem.folioq_from_folios(folios)
        seg, k = self.fq, 0
        while seg is not None:
            for slot in range(seg.nr):
                if not clean and rng.random() < 0.03:
                    if rng.random() < 0.5:
                        seg.folios[slot] = None        # a hole: the walk stops there
                    else:
                        seg.orders[slot] += 1          # the queue lies about the size
                k += 1
            seg = seg.next
        self.fq_bytes = sum(PAGE << f.order for f in folios)

    def mutate(self) -> None:
        """Change the array after a description of it was kept (or not:
        an unchanged array must be found unchanged)."""
        rng = self.rng
        what = rng.choice(["none", "none", "field", "replace", "same", "grow", "shrink",
                           "stale", "swap"])
        if self.kind == "folioq":
            seg = self.fq
            slot = int(rng.integers(0, seg.nr))
            if what == "field":
                seg.orders[slot] += 1                  # lies about the size
            elif what == "replace":
                f = self._folio(int(rng.integers(0, 3)))
                seg.folios[slot], seg.orders[slot] = f, f.order
                self.fq_bytes = sum(PAGE << o for s in self._fq_segs()
                                    for o in s.orders[:s.nr])
            elif what in ("shrink", "grow"):
                seg.folios[slot] = None                # a hole
            elif what == "stale":
                self._restale(seg.folios, slot)
            return
        if self.kind == "bvecq":
            slots = [(bq, i) for bq in self._bq_segs() for i in range(bq.nr_slots)]
            bq, i = slots[int(rng.integers(0, len(slots)))]
            segs, k = bq.bv, i
            last = self._bq_segs()[-1]
            if what == "grow" and last.nr_slots < last.max_slots:
                f = self._folio(0)
                last.add(f, int(rng.integers(1, PAGE + 1)), 0)
                return
            if what == "shrink":
                last.nr_slots -= 1
                return
            if what == "replace":
                f = self._folio(0)
                segs[k] = bio_vec(f, int(rng.integers(1, PAGE + 1)), 0)
                return
        else:
            segs = self.segs
        if not segs:
            return
        k = k if self.kind == "bvecq" else int(rng.integers(0, len(segs)))
        if what == "swap":
            # Entries moved, no field stored: only comparing entries sees it.
            i = int(rng.integers(0, len(segs)))
            segs[i], segs[k] = segs[k], segs[i]
        if what == "field":
            if self.bv_kind == "bvec":
                segs[k].bv_offset += int(rng.integers(1, 100))
            else:
                segs[k].iov_base += int(rng.integers(1, 100))
        elif what == "same":
            old = segs[k]
            segs[k] = type(old)(*(getattr(old, f) for f in old.__slots__))
        elif what == "replace" and self.kind != "bvecq":
            segs[k] = self._segment(True)
        elif what == "grow" and self.kind != "bvecq":
            segs.append(self._segment(True))
        elif what == "shrink" and self.kind != "bvecq":
            segs.pop()
        elif what == "stale" and self.bv_kind == "bvec":
            self._restale(segs, k)

    def _restale(self, arr: list, k: int) -> None:
        """Free the folio under entry ``k`` and hand its frames out again:
        the entry is stale, though the frames are live memory once more."""
        old = self._stale_folio
        if old is None:
            return
        kmem.folio_put(old)
        self._stale_folio = None
        self.frees.remove(self._stale_free)
        self._folio(old.order)                          # likely the same frames

    def prepare_stale(self) -> None:
        """Point one entry at a folio of its own, to be freed by mutate()."""
        self._stale_folio = None
        if self.rng.random() > 0.2:
            return
        f = kmem.folio_alloc(kmem.GFP_KERNEL, 0)
        self.frames.append((f.pfn, PAGE))
        self._stale_folio = f
        self._stale_free = lambda: kmem.folio_put(f)
        self.frees.append(self._stale_free)
        if self.kind == "folioq":
            seg = self.fq
            slot = int(self.rng.integers(0, seg.nr))
            seg.folios[slot], seg.orders[slot] = f, 0
            self.fq_bytes = sum(PAGE << o for s in self._fq_segs() for o in s.orders[:s.nr])
            return
        if self.bv_kind != "bvec":
            return
        segs = self.chain_segs() if self.kind == "bvecq" else self.segs
        if segs:
            k = int(self.rng.integers(0, len(segs)))
            segs[k].bv_page, segs[k].bv_offset = f, 0
            segs[k].bv_len = min(segs[k].bv_len, PAGE)

    def _fq_segs(self) -> list:
        out, seg = [], self.fq
        while seg is not None:
            out.append(seg)
            seg = seg.next
        return out

    def chain(self) -> None:
        """Put the bio_vecs in an ITER_BVECQ chain of random segment sizes."""
        rng = self.rng
        self.head = head = bvecq_alloc_chain(0, kmem.GFP_KERNEL)
        bq, left = head, list(self.segs)
        while left:
            take = int(rng.integers(1, 30))
            for bv in left[:take]:
                if bq.nr_slots == bq.max_slots:
                    nxt = bvecq_alloc_chain(int(rng.integers(1, 30)), kmem.GFP_KERNEL)
                    bq.next, nxt.prev = nxt, bq
                    bq = nxt
                bq.add(bv.bv_page, bv.bv_len, bv.bv_offset)
            left = left[take:]
        self.frees.insert(0, lambda: bvecq_put(head))

    def _bq_segs(self) -> list:
        out, bq = [], self.head
        while bq is not None:
            out.append(bq)
            bq = bq.next
        return out

    def chain_segs(self) -> list:
        return [bv for bq in self._bq_segs() for bv in bq.bv[:bq.nr_slots]]

    def iterator(self, direction: int) -> iov_iter:
        it = iov_iter()
        if self.kind == "bvecq":
            segs = self.chain_segs()
            first = int(self.rng.integers(0, min(3, len(self.head.bv[:self.head.nr_slots])) + 1))
            first = min(first, self.head.nr_slots)
            skip = 0
            if first < self.head.nr_slots and self.rng.random() < 0.3:
                skip = int(self.rng.integers(0, self.head.bv[first].bv_len + 1))
            count = max(0, sum(b.bv_len for b in segs[first:]) - skip)
            iov_iter_bvec_queue(it, direction, self.head, first, skip, count)
            return it
        if self.kind == "folioq":
            skip = int(self.rng.integers(0, PAGE)) if self.rng.random() < 0.4 else 0
            count = self.fq_bytes - skip
            if self.fq.next is not None and self.rng.random() < 0.4:
                # End exactly at the end of the first segment of the queue.
                count = sum(PAGE << o for o in self.fq.orders[:self.fq.nr]) - skip
            iov_iter_folio_queue(it, direction, self.fq, 0, skip, max(0, count))
            return it
        lens = [s.bv_len if self.kind == "bvec" else s.iov_len for s in self.segs]
        init = iov_iter_bvec if self.kind == "bvec" else iov_iter_kvec
        init(it, direction, self.segs, len(self.segs), sum(lens))
        return it

    def snapshot(self) -> list[np.ndarray]:
        return [phys_frame_view(p, 0, n).copy() for p, n in self.frames]

    def restore(self, snap: list[np.ndarray]) -> None:
        for (p, n), data in zip(self.frames, snap):
            phys_frame_view(p, 0, n)[:] = data

    def free(self) -> None:
        for f in reversed(self.frees):
            f()


def _collect(base: np.ndarray, progress: int, length: int, out: list, _priv2: object) -> int:
    if length:
        out.append(base)
    return 0


def _state(it: iov_iter) -> tuple:
    return it.vec_idx, it.iov_offset, it.count, it._u, id(it._ptr)


def _run_case(seed: int, monkeypatch: pytest.MonkeyPatch, used: list[int]) -> None:
    kind = ("bvec", "kvec", "folioq", "bvecq")[seed % 4]
    case = Case(seed, kind)
    rng = case.rng
    if kind == "bvecq":
        if not case.segs:
            case.segs.append(case._segment(True))
        case.chain()
    to_iter = rng.random() < 0.5
    direction = ITER_DEST if to_iter else ITER_SOURCE
    # Keep a description, then perhaps change what it describes.
    case.prepare_stale()
    warm = case.iterator(direction)
    if warm.count:
        bulk_mod._resolve(warm, warm.count)
    case.mutate()
    base = case.iterator(direction)
    if base.count and rng.random() < 0.4:
        iov_iter_advance(base, int(rng.integers(0, base.count)))
    if base.count and rng.random() < 0.2:
        base.count = int(rng.integers(0, base.count))
    n = base.count if rng.random() < 0.3 else int(rng.integers(1, base.count + 200))
    if not n:
        n = 1
    src = rng.integers(0, 256, n, dtype=np.uint8)
    before = case.snapshot()
    results = []
    for bulk in (True, False):
        case.restore(before)
        if bulk:
            def counting(*a, _real=bulk_mod.bulk_copy):
                ok = _real(*a)
                used[0] += ok
                return ok
            monkeypatch.setattr(iov_iter_mod, "bulk_copy", counting)
        else:
            monkeypatch.setattr(iov_iter_mod, "bulk_copy", lambda *a: False)
        it = base.copy()
        buf = np.full(n, 0xA5, dtype=np.uint8)
        mark = sanitizer.mark()
        try:
            ret = copy_to_iter(src, n, it) if to_iter else copy_from_iter(buf, n, it)
        except kmem.KernelBug as e:         # a changed array may be one the walk trips on
            ret = str(e)
        records = [(r.kind, r.message) for r in sanitizer.since(mark)]
        del sanitizer.ledger.records[mark:]
        results.append((ret, _state(it), records, buf.tobytes(),
                        [m.tobytes() for m in case.snapshot()]))
    # The walkers' resolution: bulk_spans() against the collecting walk.
    it_b, it_p = base.copy(), base.copy()
    views_b = bulk_mod.bulk_spans(it_b, n)
    if views_b is not None:
        used[0] += 1
        views_p: list = []
        mark = sanitizer.mark()
        try:
            got = iterate_and_advance2(it_p, n, views_p, None, _collect, _collect,
                                       write=to_iter, page_steps=False)
        except kmem.KernelBug as e:
            raise AssertionError(f"seed {seed}: bulk_spans() where the walk fails") from e
        assert not sanitizer.since(mark), f"seed {seed}: bulk_spans() where a record was due"
        assert [len(v) for v in views_b] == [len(v) for v in views_p], f"seed {seed}: spans"
        assert sum(map(len, views_b)) == got
        assert all(np.shares_memory(a, b) for a, b in zip(views_b, views_p))
        assert _state(it_b) == _state(it_p), f"seed {seed}: spans iterator state"
    case.free()
    b, p = results
    what = f"seed {seed} ({kind}, {'to' if to_iter else 'from'}_iter, n={n})"
    assert b[0] == p[0], f"{what}: return value"
    assert b[1] == p[1], f"{what}: iterator state"
    assert b[2] == p[2], f"{what}: ledger"
    assert b[3] == p[3], f"{what}: buffer"
    assert b[4] == p[4], f"{what}: memory"


def test_bulk_matches_per_segment_path(monkeypatch: pytest.MonkeyPatch) -> None:
    used = [0]
    for seed in range(1000):
        _run_case(seed, monkeypatch, used)
    # The comparison means something only if the bulk path really ran.
    assert used[0] > 200


@pytest.mark.slow
def test_bulk_matches_per_segment_path_long(monkeypatch: pytest.MonkeyPatch) -> None:
    used = [0]
    for seed in range(1000, 2500):
        _run_case(seed, monkeypatch, used)
    assert used[0] > 300


def test_bulk_copies_whole_pages_as_rows() -> None:
    """4 KiB pages scattered over a bank: the row path, both directions,
    from the middle of a segment to the middle of another."""
    pages = [kmem.alloc_page(kmem.GFP_KERNEL) for _ in range(64)]
    data = np.random.default_rng(7).integers(0, 256, 64 * PAGE, dtype=np.uint8)
    for p, k in zip(pages, range(64)):
        kmem.copy_views(kmem.page_views(p, 0, PAGE, write=True), [data[k * PAGE:(k + 1) * PAGE]])
    bv = [bio_vec(p, PAGE, 0) for p in pages]
    it = iov_iter()
    iov_iter_bvec(it, ITER_SOURCE, bv, 64, 64 * PAGE)
    out = np.zeros(64 * PAGE, np.uint8)
    assert copy_from_iter(out, 40 * PAGE, it) == 40 * PAGE
    assert (it.vec_idx, it.iov_offset, it.nr_segs) == (40, 0, 24)
    assert copy_from_iter(out[40 * PAGE:], 24 * PAGE, it) == 24 * PAGE
    assert (out == data).all()
    it = iov_iter()
    iov_iter_bvec(it, ITER_DEST, bv, 64, 64 * PAGE)
    assert copy_to_iter(data[::-1].copy(), 64 * PAGE, it) == 64 * PAGE
    got = np.concatenate([kmem.page_views(p, 0, PAGE)[0] for p in pages])
    assert (got == data[::-1]).all()
    for p in pages:
        kmem.__free_page(p)
