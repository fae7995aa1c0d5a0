"""Benchmark: the cost of walking an iov_iter in the model.

Prints, for KVEC, BVEC (4 KiB pages), FOLIOQ, IOVEC and BVECQ, with
copy_to_iter and copy_from_iter:

- the per-segment cost beyond numpy's in µs: the slope of the copy's CPU
  time between 1024 and 4096 segments of 4 KiB, less the slope of one
  contiguous numpy copy of the same bytes (0 = the segments cost nothing
  beyond their bytes);
- the throughput on 64 MiB relative to one contiguous numpy copy of the
  same 64 MiB (1.0 = as fast as numpy), for 4 KiB and 1 MiB segments.

Timing as in benchmarks/timing.py: CPU time, collector off, the reference
timed beside the subject in each round, medians of rounds.
Run: python3 benchmarks/bench_iov_iter.py [--mib 64] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys

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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import median_ratio, median_slope

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


def copies(buf: Buffers, data: np.ndarray, out: np.ndarray):
    """copy_to_iter and copy_from_iter over the whole of ``buf``."""
    def to():
        assert copy_to_iter(data, buf.total, buf.iterator(ITER_DEST)) == buf.total

    def frm():
        assert copy_from_iter(out, buf.total, buf.iterator(ITER_SOURCE)) == buf.total

    return to, frm


def numpy_copy(n: int):
    a = np.zeros(n, np.uint8)
    b = np.ones(n, np.uint8)

    def run():
        a[:] = b

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    total = args.mib << 20
    kinds = ("KVEC", "BVEC", "FOLIOQ", "IOVEC", "BVECQ")
    n1 = 1024
    rng = np.random.default_rng(1)
    data = rng.integers(0, 256, max(total, 4 * n1 * PAGE), dtype=np.uint8)
    out = np.empty(len(data), np.uint8)
    counts = (n1, 4 * n1)
    print(f"per-segment cost beyond numpy's, 4 KiB segments (µs/segment; slope between "
          f"{counts[0]} and {counts[1]} segments, median of {args.repeat} rounds)")
    base = median_slope({n: numpy_copy(n * PAGE) for n in counts}, args.repeat)
    for kind in kinds:
        bufs = {n: Buffers(kind, n, PAGE) for n in counts}
        fns = {n: copies(b, data[:n * PAGE], out[:n * PAGE]) for n, b in bufs.items()}
        row = []
        for d, name in ((0, "copy_to_iter"), (1, "copy_from_iter")):
            slope = median_slope({n: f[d] for n, f in fns.items()}, args.repeat) - base
            row.append(f"{name} {slope * 1e6:6.2f} µs")
        for b in bufs.values():
            b.release()
        print(f"  {kind:7s} " + "   ".join(row))

    print(f"throughput on {args.mib} MiB relative to one contiguous numpy copy "
          "(targets: >= 0.5 at 4 KiB, >= 0.7 at 1 MiB)")
    flat = numpy_copy(total)
    for seglen in (PAGE, 1 << 20):
        for kind in kinds:
            buf = Buffers(kind, total // seglen, seglen)
            to, frm = copies(buf, data[:total], out[:total])
            r_to = median_ratio(flat, to, args.repeat)
            r_from = median_ratio(flat, frm, args.repeat)
            buf.release()
            print(f"  {seglen >> 10:5d} KiB {kind:7s} copy_to_iter {r_to:5.2f}   "
                  f"copy_from_iter {r_from:5.2f}")


if __name__ == "__main__":
    main()
