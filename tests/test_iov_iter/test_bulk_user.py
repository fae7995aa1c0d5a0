"""The bulk path over user memory (ITER_IOVEC, ITER_UBUF through the mm's
numpy page table) against the per-page walk, on random address spaces:
mappings populated or not, read-only or PROT_NONE stretches, driver
mappings, holes between mappings, segments running off a mapping or past
TASK_SIZE, nofault iterators, and an address space changed after the bulk
path described it once (unmapped, protected, a segment moved).  Each side
runs on its own freshly built address space from the same seed, and must
give the same return value, iterator state, ledger records, kernel buffer,
and the same present pages with the same bytes."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import iovcrypto.iterate_bulk as bulk_mod
import kmem
from iovcrypto import (
    ITER_DEST,
    ITER_SOURCE,
    copy_from_iter,
    copy_to_iter,
    iov_iter,
    iov_iter_advance,
    iov_iter_init,
    iov_iter_ubuf,
    iovec,
)
from kmem import PAGE_SIZE as PAGE
from kmem import sanitizer
from kmem.mmap import PROT_NONE, PROT_READ, PROT_WRITE, TASK_SIZE
from kmem.page_alloc import phys_frame_view

iov_iter_mod = importlib.import_module("iovcrypto.iov_iter")
RW = PROT_READ | PROT_WRITE


class UserCase:
    """An address space and a user segment layout, built from one seed."""

    def __init__(self, seed: int, kind: str) -> None:
        self.rng = rng = np.random.default_rng(seed)
        self.kind = kind
        self.mm = kmem.mm_alloc()
        self.extra: list = []
        self.maps: list[tuple[int, int]] = []
        with kmem.use_mm(self.mm):
            for _ in range(int(rng.integers(1, 4))):
                npages = int(rng.integers(1, 48))
                populate = rng.random() < 0.85
                flags = kmem.MAP_PRIVATE | kmem.MAP_ANONYMOUS
                if populate:
                    flags |= kmem.MAP_POPULATE
                if rng.random() < 0.1:
                    # A driver's mapping of pages it owns: the per-page path.
                    pages = [kmem.alloc_page(kmem.GFP_KERNEL) for _ in range(npages)]
                    self.extra.extend(pages)
                    base = self.mm.mmap_pages(pages)
                else:
                    base = self.mm.mmap(npages * PAGE, RW, 0, flags)
                self.maps.append((base, npages * PAGE))
                r = rng.random()
                if r < 0.08:
                    self.mm.mprotect(base, npages * PAGE, PROT_READ)
                elif r < 0.12:
                    self.mm.mprotect(base, npages * PAGE, PROT_NONE)
                elif r < 0.2 and npages > 2:
                    # Split the mapping: a read-only stretch inside.
                    lo = int(rng.integers(1, npages - 1))
                    self.mm.mprotect(base + lo * PAGE, PAGE, PROT_READ)
            # Known bytes in every present page.
            for vpn in sorted(self.mm.pages):
                page = self.mm.pages[vpn]
                phys_frame_view(page.pfn, 0, PAGE)[:] = rng.integers(0, 256, PAGE, np.uint8)
            self.segs = self._segments()

    def _range(self) -> tuple[int, int]:
        rng = self.rng
        base, size = self.maps[int(rng.integers(0, len(self.maps)))]
        r = rng.random()
        if r < 0.03:
            return TASK_SIZE - int(rng.integers(1, PAGE)), int(rng.integers(1, 2 * PAGE))
        off = int(rng.integers(0, size))
        n = int(rng.integers(1, size - off + 1))
        if r < 0.08:
            n += int(rng.integers(1, 2 * PAGE))          # runs off the mapping
        return base + off, n

    def _segments(self) -> list[tuple[int, int]]:
        rng = self.rng
        if self.kind == "ubuf":
            base, size = self.maps[int(rng.integers(0, len(self.maps)))]
            if rng.random() < 0.5:
                return [(base, size)]
            return [self._range()]
        if rng.random() < 0.3:
            # Whole pages in order, then shuffled: the row copies.
            base, size = max(self.maps, key=lambda m: m[1])
            segs = [(base + k * PAGE, PAGE) for k in range(size // PAGE)]
            if rng.random() < 0.5:
                rng.shuffle(segs)
            return segs
        segs = [self._range() for _ in range(int(rng.integers(1, 40)))]
        if rng.random() < 0.05:
            segs[int(rng.integers(0, len(segs)))] = (0, 0)
        return segs

    def vec(self) -> list[iovec]:
        return [iovec(b, n) for b, n in self.segs]

    def iterator(self, direction: int, vec: list[iovec] | None) -> iov_iter:
        it = iov_iter()
        total = sum(n for _, n in self.segs)
        if self.kind == "ubuf":
            iov_iter_ubuf(it, direction, self.segs[0][0], self.segs[0][1])
        else:
            iov_iter_init(it, direction, vec, len(vec), total)
        return it

    def mutate(self, vec: list[iovec]) -> None:
        """Change the address space or the array after the bulk path has
        described them once."""
        rng = self.rng
        what = rng.choice(["none", "none", "unmap", "protect", "move", "swap", "remap", "remap"])
        base, size = self.maps[int(rng.integers(0, len(self.maps)))]
        lo = int(rng.integers(0, size // PAGE)) * PAGE
        if what == "unmap":
            self.mm.munmap(base + lo, PAGE)
        elif what == "remap":
            # Unmapped, its frame handed to the kernel, mapped again empty:
            # the page table must not still point at that frame.
            if self.mm.munmap(base + lo, PAGE) == 0:
                self.extra.append(kmem.alloc_page(kmem.GFP_KERNEL))
                self.mm.mmap(PAGE, RW, base + lo)
        elif what == "protect":
            self.mm.mprotect(base + lo, PAGE, PROT_READ if rng.random() < 0.7 else PROT_NONE)
        elif what == "move" and vec:
            k = int(rng.integers(0, len(vec)))
            vec[k].iov_base = base + lo
        elif what == "swap" and len(vec) > 1:
            i, k = (int(x) for x in rng.integers(0, len(vec), 2))
            vec[i], vec[k] = vec[k], vec[i]

    def memory(self) -> dict[int, bytes]:
        return {vpn: phys_frame_view(p.pfn, 0, PAGE).tobytes()
                for vpn, p in sorted(self.mm.pages.items())}

    def free(self) -> None:
        for v in list(self.mm.vmas):
            self.mm.munmap(v.start, v.end - v.start)
        for p in self.extra:
            kmem.folio_put(p)


def _one_side(seed: int, kind: str, bulk: bool, monkeypatch: pytest.MonkeyPatch,
              used: list[int]) -> tuple:
    case = UserCase(seed, kind)
    rng = case.rng
    to_iter = rng.random() < 0.5
    direction = ITER_DEST if to_iter else ITER_SOURCE
    nofault = rng.random() < 0.15
    vec = case.vec()
    if bulk:
        def counting(*a, _real=bulk_mod.bulk_copy):
            ok = _real(*a)
            used[0] += ok
            return ok
        monkeypatch.setattr(iov_iter_mod, "bulk_copy", counting)
    else:
        monkeypatch.setattr(iov_iter_mod, "bulk_copy", lambda *a: False)
    with kmem.use_mm(case.mm):
        warm = case.iterator(direction, vec)
        if warm.count and bulk:
            bulk_mod._resolve(warm, warm.count)     # keep a description
        case.mutate(vec)
        it = case.iterator(direction, vec)
        it.nofault = nofault
        if it.count and rng.random() < 0.3:
            iov_iter_advance(it, int(rng.integers(0, it.count)))
        n = it.count if rng.random() < 0.4 else int(rng.integers(1, it.count + 200))
        n = max(n, 1)
        src = rng.integers(0, 256, n, dtype=np.uint8)
        buf = np.full(n, 0xA5, dtype=np.uint8)
        mark = sanitizer.mark()
        ret = copy_to_iter(src, n, it) if to_iter else copy_from_iter(buf, n, it)
        records = [(r.kind, r.message) for r in sanitizer.since(mark)]
        del sanitizer.ledger.records[mark:]
        state = (it.vec_idx, it.iov_offset, it.count, it._u,
                 it._ptr if kind == "ubuf" else None)
        out = (ret, state, records, buf.tobytes(), case.memory())
    case.free()
    return out, f"seed {seed} ({kind}, {'to' if to_iter else 'from'}_iter, n={n})"


def _run_case(seed: int, monkeypatch: pytest.MonkeyPatch, used: list[int]) -> None:
    kind = ("iovec", "ubuf")[seed % 2]
    b, what = _one_side(seed, kind, True, monkeypatch, used)
    p, _ = _one_side(seed, kind, False, monkeypatch, used)
    assert b[0] == p[0], f"{what}: return value"
    assert b[1] == p[1], f"{what}: iterator state"
    assert b[2] == p[2], f"{what}: ledger"
    assert b[3] == p[3], f"{what}: buffer"
    assert b[4].keys() == p[4].keys(), f"{what}: pages present"
    assert b[4] == p[4], f"{what}: memory"


def test_user_bulk_matches_per_page_path(monkeypatch: pytest.MonkeyPatch) -> None:
    used = [0]
    for seed in range(300):
        _run_case(seed, monkeypatch, used)
    # The comparison means something only if the bulk path really ran.
    assert used[0] > 40


@pytest.mark.slow
def test_user_bulk_matches_per_page_path_long(monkeypatch: pytest.MonkeyPatch) -> None:
    used = [0]
    for seed in range(300, 1000):
        _run_case(seed, monkeypatch, used)
    assert used[0] > 100


def test_user_bulk_faults_like_the_walk() -> None:
    """A write into a read-only page in the middle of a populated range:
    the copy stops at that page (bulk refuses, the walk faults), and a
    page that is not present is faulted in by the walk."""
    mm = kmem.mm_alloc()
    with kmem.use_mm(mm):
        base = mm.mmap(32 * PAGE, RW, 0, kmem.MAP_PRIVATE | kmem.MAP_ANONYMOUS |
                       kmem.MAP_POPULATE)
        mm.mprotect(base + 20 * PAGE, PAGE, PROT_READ)
        vec = [iovec(base + k * PAGE, PAGE) for k in range(32)]
        it = iov_iter()
        iov_iter_init(it, ITER_DEST, vec, 32, 32 * PAGE)
        data = np.arange(32 * PAGE, dtype=np.uint32).astype(np.uint8)
        assert copy_to_iter(data, 32 * PAGE, it) == 20 * PAGE
        assert (it.vec_idx, it.iov_offset) == (20, 0)
        # Reading back the first 20 pages goes the bulk way.
        it = iov_iter()
        iov_iter_init(it, ITER_SOURCE, vec, 20, 20 * PAGE)
        out = np.zeros(20 * PAGE, np.uint8)
        assert bulk_mod.bulk_copy(it, 20 * PAGE, out, False)
        assert (out == data[:20 * PAGE]).all()
        # Unmapped page 3: no bulk, and the walk stops there.
        mm.munmap(base + 3 * PAGE, PAGE)
        it = iov_iter()
        iov_iter_init(it, ITER_SOURCE, vec, 20, 20 * PAGE)
        assert not bulk_mod.bulk_copy(it, 20 * PAGE, out, False)
        assert copy_from_iter(out, 20 * PAGE, it) == 3 * PAGE
        mm.munmap(base, 32 * PAGE)
