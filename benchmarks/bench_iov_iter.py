"""Benchmark: the cost of walking an iov_iter in the model.

Prints, for KVEC, BVEC (4 KiB pages), FOLIOQ and IOVEC, with copy_to_iter
and copy_from_iter:

- the per-segment overhead in µs (time per segment of a walk over 4 KiB
  segments, minus what numpy needs to copy the same bytes contiguously),
  and the cost ratio of a walk over 4x the segments (~4.0 = linear);
- the throughput on 64 MiB relative to one contiguous numpy copy of the
  same 64 MiB (1.0 = as fast as numpy), for 4 KiB and 1 MiB segments.

All figures are ratios or differences measured in the same run (absolute
times on shared machines are noise).  Run: python3 benchmarks/bench_iov_iter.py
[--mib 64] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import kmem
from iovcrypto import (
    ITER_DEST,
    ITER_SOURCE,
    bio_vec,
    bvecq_alloc_chain,
    copy_from_iter,
    copy_to_iter,
    iov_iter,
    iov_iter_bvec,
    iov_iter_bvec_queue,
    iov_iter_folio_queue,
    iov_iter_init,
    iov_iter_kvec,
    iovec,
    kvec,
)

PAGE = kmem.PAGE_SIZE


class Buffers:
    """``nseg`` segments of ``seglen`` bytes of one iterator type."""

    def __init__(self, kind: str, nseg: int, seglen: int) -> None:
        self.kind, self.nseg, self.seglen = kind, nseg, seglen
        self.total = nseg * seglen
        self.free: list = []
        order = max(0, (seglen - 1).bit_length() - 12)
        if kind == "KVEC":
            addrs = [kmem.kmalloc(seglen, kmem.GFP_KERNEL) for _ in range(nseg)]
            self.free = [lambda: [kmem.kfree(a) for a in addrs]]
            self.segs = [kvec(a, seglen) for a in addrs]
        elif kind == "BVEC":
            pages = [kmem.alloc_pages(kmem.GFP_KERNEL, order) for _ in range(nseg)]
            self.free = [lambda: [kmem.folio_put(p) for p in pages]]
            self.segs = [bio_vec(p, seglen, 0) for p in pages]
        elif kind == "BVECQ":
            pages = [kmem.alloc_pages(kmem.GFP_KERNEL, order) for _ in range(nseg)]
            self.free = [lambda: [kmem.folio_put(p) for p in pages]]
            self.bq = bq = bvecq_alloc_chain(nseg, kmem.GFP_KERNEL)
            for p in pages:
                while bq.nr_slots == bq.max_slots:
                    bq = bq.next
                bq.add(p, seglen, 0)
        elif kind == "FOLIOQ":
            folios = [kmem.folio_alloc(kmem.GFP_KERNEL, order) for _ in range(nseg)]
            self.free = [lambda: [kmem.folio_put(f) for f in folios]]
            self.fq = kmem.folioq_from_folios(folios)
        elif kind == "IOVEC":
            mm = kmem.current_mm()
            base = mm.mmap(self.total, flags=kmem.MAP_PRIVATE | kmem.MAP_ANONYMOUS |
                           kmem.MAP_POPULATE)
            self.free = [lambda: mm.munmap(base, self.total)]
            self.segs = [iovec(base + k * seglen, seglen) for k in range(nseg)]
        else:
            raise ValueError(kind)

    def iterator(self, direction: int) -> iov_iter:
        it = iov_iter()
        if self.kind == "KVEC":
            iov_iter_kvec(it, direction, self.segs, self.nseg, self.total)
        elif self.kind == "BVEC":
            iov_iter_bvec(it, direction, self.segs, self.nseg, self.total)
        elif self.kind == "FOLIOQ":
            iov_iter_folio_queue(it, direction, self.fq, 0, 0, self.total)
        elif self.kind == "BVECQ":
            iov_iter_bvec_queue(it, direction, self.bq, 0, 0, self.total)
        else:
            iov_iter_init(it, direction, self.segs, self.nseg, self.total)
        return it

    def release(self) -> None:
        for f in self.free:
            f()


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def time_copies(buf: Buffers, data: np.ndarray, out: np.ndarray, repeat: int
                ) -> tuple[float, float]:
    def to():
        assert copy_to_iter(data, buf.total, buf.iterator(ITER_DEST)) == buf.total

    def frm():
        assert copy_from_iter(out, buf.total, buf.iterator(ITER_SOURCE)) == buf.total

    to()   # fault the host pages in before timing
    return best(to, repeat), best(frm, repeat)


def numpy_copy(n: int, repeat: int) -> float:
    a = np.zeros(n, np.uint8)
    b = np.ones(n, np.uint8)
    a[:] = b

    def run():
        a[:] = b

    return best(run, repeat)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    total = args.mib << 20
    kinds = ("KVEC", "BVEC", "FOLIOQ", "IOVEC")
    rng = np.random.default_rng(1)
    data = rng.integers(0, 256, total, dtype=np.uint8)
    out = np.empty(total, np.uint8)

    print("per-segment overhead, 4 KiB segments (µs/segment; x4 segments cost ratio)")
    n1 = 1024
    base1 = numpy_copy(n1 * PAGE, args.repeat)
    base4 = numpy_copy(4 * n1 * PAGE, args.repeat)
    for kind in kinds:
        row = []
        t = {}
        for n in (n1, 4 * n1):
            buf = Buffers(kind, n, PAGE)
            t[n] = time_copies(buf, data[:n * PAGE], out[:n * PAGE], args.repeat)
            buf.release()
        for d, name in ((0, "copy_to_iter"), (1, "copy_from_iter")):
            per_seg = (t[4 * n1][d] - base4) / (4 * n1) * 1e6
            row.append(f"{name} {per_seg:6.2f} µs (x4: {t[4 * n1][d] / t[n1][d]:4.2f})")
        print(f"  {kind:7s} " + "   ".join(row))
    del base1

    print(f"throughput on {args.mib} MiB relative to one contiguous numpy copy "
          "(targets: >= 0.5 at 4 KiB, >= 0.9 at 1 MiB)")
    flat = numpy_copy(total, args.repeat)
    print(f"  (numpy copy of {args.mib} MiB: {flat * 1e3:.1f} ms)")
    for seglen in (PAGE, 1 << 20):
        for kind in kinds:
            buf = Buffers(kind, total // seglen, seglen)
            to, frm = time_copies(buf, data, out, args.repeat)
            buf.release()
            print(f"  {seglen >> 10:5d} KiB {kind:7s} copy_to_iter {flat / to:5.2f}   "
                  f"copy_from_iter {flat / frm:5.2f}")


if __name__ == "__main__":
    main()
