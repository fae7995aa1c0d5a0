"""Cost of the DMA engine path in both worlds (sgl/engine_aes.py against
its converted twin iovcrypto/engine_aes.py), cbc(aes) encryption in place
on the engine, submitted and waited for (crypto_wait_req).

Layouts, each at several segment counts N (one segment per page):

- ``pages``: N separate pages, N scatterlist entries / N bio_vecs;
- ``contig``: N physically contiguous pages of one folio, still one
  entry / bio_vec per page (the converted driver may link them as one
  physical range; dma_map_sg may merge them into one DMA segment);
- ``user``: N page-aligned pages of user memory.  The iov_iter driver gets
  an ITER_UBUF and pins inside the driver; the scatterlist caller has to
  pin the pages itself (pin_user_pages_fast) and unpin them after, and
  that pin/unpin is inside its clock, since it is the same work.

Building the caller's descriptors (scatterlist entries, bio_vecs, the
iov_iter) is outside the clock.

How it measures, so that a loaded 2-core machine gives a stable figure:
a CPU-time clock (time.process_time_ns) per request; the garbage
collector disabled during a timed block (and a collection between rounds,
outside the clock); the two worlds in one process, in interleaved blocks
(sg block, iov block, sg block, ...) of the same number of requests, and
every segment count of a layout in the same rounds.  A block's figure is
the median request; a world's figure is the median over its blocks;
``iov/sg`` is the median over the pairs of (iov block median / sg block
median), so a burst of load hits both sides of a pair alike.

Per layout it also fits ``t = fixed + slope * N`` by least squares over the
segment counts: ``fixed`` is the per-request cost, ``slope`` the
per-segment cost of each world.

``descB``: descriptor bytes of a request, measured on an untimed request:
the caller's description (N scatterlist entries of SIZEOF_SCATTERLIST,
or N bio_vecs of SIZEOF_BIO_VEC; a ubuf iterator has none) plus what the
driver and the engine count in kmem.stats (hardware descriptors, driver
arrays).  A scatterlist entry also carries the DMA address and length
that dma_map_sg writes back; the converted driver keeps its bus segments
in its own request context instead.

Goal per row (issue #12, item 9): iov/sg <= 1.05 and fewer descriptor
bytes on the iov_iter side.

    python3 benchmarks/bench_engine.py [--quick] [--pairs N]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable

import kmem
import sgl
from ciphers.algapi import CRYPTO_TFM_REQ_MAY_BACKLOG
from ciphers.crypto_api import CryptoWait, crypto_req_done, crypto_wait_req
from iovcrypto import (
    ITER_DEST,
    bio_vec,
    bvec_set_page,
    crypto_alloc_skcipher,
    crypto_free_skcipher,
    crypto_skcipher_encrypt,
    crypto_skcipher_setkey,
    iov_iter,
    iov_iter_bvec,
    iov_iter_ubuf,
    skcipher_request_alloc,
    skcipher_request_free,
    skcipher_request_set_callback,
    skcipher_request_set_iter,
)
from iovcrypto.uio import SIZEOF_BIO_VEC
from kmem import PAGE_SIZE
from sgl.scatterlist import SIZEOF_SCATTERLIST

_free_pages = kmem.__free_pages  # (inside a class body the name would be mangled)
GOAL = 1.05
LAYOUTS = ("pages", "contig", "user")
COUNTS = (4, 16, 64)


class Layout:
    """``n`` pages of one kind, and fresh descriptors over them."""

    def __init__(self, kind: str, n: int) -> None:
        self.kind, self.n = kind, n
        self.total = n * PAGE_SIZE
        self._free: list[Callable[[], None]] = []
        self.pages: list = []
        self.uaddr = 0
        if kind == "contig":
            order = (n - 1).bit_length()
            folio = kmem.alloc_pages(kmem.GFP_KERNEL, order)
            self._free.append(lambda: _free_pages(folio, order))
            self.pages = [kmem.folio_page(folio, i) for i in range(n)]
        elif kind == "pages":
            for _ in range(n):
                p = kmem.alloc_page(kmem.GFP_KERNEL)
                self._free.append(lambda p=p: _free_pages(p, 0))
                self.pages.append(p)
        else:
            mm = kmem.current_mm()
            self.uaddr = mm.mmap(self.total)
            self._free.append(lambda: mm.munmap(self.uaddr, self.total))
            # Populate it once, so that no request pays the first fault.
            ret, pinned = kmem.pin_user_pages_fast(self.uaddr, n, kmem.FOLL_WRITE)
            assert ret == n, ret
            kmem.unpin_user_pages(pinned, n)

    def sg(self) -> tuple[object, Callable[[], object]]:
        """(scatterlist, the caller's work inside the clock)."""
        a = sgl.sg_array(self.n)
        sgl.sg_init_table(a, self.n)
        if self.kind != "user":
            for i, p in enumerate(self.pages):
                sgl.sg_set_page(a[i], p, PAGE_SIZE, 0)
            return a, lambda: None

        def pin() -> Callable[[], None]:
            ret, pinned = kmem.pin_user_pages_fast(self.uaddr, self.n, kmem.FOLL_WRITE)
            assert ret == self.n, ret
            for i, p in enumerate(pinned):
                sgl.sg_set_page(a[i], p, PAGE_SIZE, 0)
            return lambda: kmem.unpin_user_pages(pinned, self.n)
        return a, pin

    def iter(self) -> iov_iter:
        s = iov_iter()
        # In place with one iterator: it is the destination (ITER_DEST).
        if self.kind == "user":
            iov_iter_ubuf(s, ITER_DEST, self.uaddr, self.total)
            return s
        bv = [bio_vec() for _ in range(self.n)]
        for b, p in zip(bv, self.pages, strict=True):
            bvec_set_page(b, p, PAGE_SIZE, 0)
        iov_iter_bvec(s, ITER_DEST, bv, self.n, self.total)
        return s

    def caller_desc_bytes(self, world: str) -> int:
        if world == "sg":
            return self.n * SIZEOF_SCATTERLIST
        return 0 if self.kind == "user" else self.n * SIZEOF_BIO_VEC

    def free(self) -> None:
        for f in reversed(self._free):
            f()


class World:
    """One world's engine tfm and request; ``block(lay, k)`` times ``k``
    requests and returns their CPU times in ns."""

    def __init__(self, name: str) -> None:
        self.name = name
        if name == "sg":
            self.tfm = sgl.crypto_alloc_skcipher("cbc-aes-engine")
            sgl.crypto_skcipher_setkey(self.tfm, bytes(16), 16)
            self.req = sgl.skcipher_request_alloc(self.tfm, kmem.GFP_KERNEL)
        else:
            self.tfm = crypto_alloc_skcipher("cbc-aes-engine")
            crypto_skcipher_setkey(self.tfm, bytes(16), 16)
            self.req = skcipher_request_alloc(self.tfm, kmem.GFP_KERNEL)

    def _one(self, lay: Layout) -> int:
        req = self.req
        wait = CryptoWait()
        if self.name == "sg":
            a, pin = lay.sg()
            sgl.skcipher_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG, crypto_req_done,
                                              wait)
            sgl.skcipher_request_set_crypt(req, a, a, lay.total, bytearray(16))
            t = time.process_time_ns()
            unpin = pin()
            ret = crypto_wait_req(sgl.crypto_skcipher_encrypt(req), wait)
            if unpin is not None:
                unpin()
            t = time.process_time_ns() - t
        else:
            s = lay.iter()
            skcipher_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG, crypto_req_done, wait)
            skcipher_request_set_iter(req, s, s, lay.total, bytearray(16))
            t = time.process_time_ns()
            ret = crypto_wait_req(crypto_skcipher_encrypt(req), wait)
            t = time.process_time_ns() - t
        assert ret == 0, ret
        return t

    def block(self, lay: Layout, k: int) -> list[int]:
        gc.disable()
        try:
            return [self._one(lay) for _ in range(k)]
        finally:
            gc.enable()

    def desc_bytes(self, lay: Layout) -> int:
        with kmem.cost_counters() as c:
            self._one(lay)
        return c.descriptor_bytes + lay.caller_desc_bytes(self.name)

    def free(self) -> None:
        if self.name == "sg":
            sgl.skcipher_request_free(self.req)
            sgl.crypto_free_skcipher(self.tfm)
        else:
            skcipher_request_free(self.req)
            crypto_free_skcipher(self.tfm)


def measure(sg: World, iov: World, lays: list[Layout], pairs: int, block_ns: float
            ) -> list[dict]:
    """Interleaved blocks of the two worlds on one layout at every segment
    count: each round takes one sg and one iov block per count, so the
    counts of a layout (and the fit over them) see the same conditions."""
    ks = []
    for lay in lays:
        for w in (sg, iov):             # warm up: key schedules, caches, first faults
            w.block(lay, 2)
        est = statistics.median(sg.block(lay, 3) + iov.block(lay, 3))
        ks.append(max(3, min(40, int(block_ns / max(est, 1)))))
    med = [([], [], []) for _ in lays]  # per count: sg medians, iov medians, ratios
    for i in range(pairs):
        # Alternate which world goes first, so neither always follows the GC.
        first, second = (sg, iov) if i % 2 == 0 else (iov, sg)
        for lay, k, (m_sg, m_iov, ratios) in zip(lays, ks, med, strict=True):
            a = statistics.median(first.block(lay, k))
            b = statistics.median(second.block(lay, k))
            s, v = (a, b) if first is sg else (b, a)
            m_sg.append(s)
            m_iov.append(v)
            ratios.append(v / s)
        gc.collect()
    return [{"sg": statistics.median(m_sg) / 1e3, "iov": statistics.median(m_iov) / 1e3,
             "ratio": statistics.median(ratios), "k": k,
             "desc_sg": sg.desc_bytes(lay), "desc_iov": iov.desc_bytes(lay)}
            for lay, k, (m_sg, m_iov, ratios) in zip(lays, ks, med, strict=True)]


def fit(ns: list[int], ts: list[float]) -> tuple[float, float]:
    """Least-squares (fixed, slope) of t = fixed + slope * n."""
    mx, my = statistics.fmean(ns), statistics.fmean(ts)
    sxx = sum((x - mx) ** 2 for x in ns)
    slope = sum((x - mx) * (y - my) for x, y in zip(ns, ts, strict=True)) / sxx
    return my - slope * mx, slope


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer, shorter blocks (~10 s)")
    ap.add_argument("--pairs", type=int, help="interleaved sg/iov block pairs per row")
    ap.add_argument("--layout", action="append", choices=LAYOUTS, help="repeatable")
    args = ap.parse_args()
    counts = COUNTS
    pairs = args.pairs or (15 if args.quick else 31)
    block_ns = 8e6 if args.quick else 20e6
    layouts = args.layout or LAYOUTS

    sg, iov = World("sg"), World("iov")
    print(f"cbc(aes) on the engine, in place; CPU time, median of {pairs} interleaved "
          f"block pairs; goal iov/sg <= {GOAL} and descB iov < sg")
    print(f"{'layout':12} {'reqs/blk':>8} {'sg µs/req':>10} {'iov µs/req':>10} {'iov/sg':>7} "
          f"{'descB sg':>9} {'descB iov':>9}  result")
    misses = 0
    fits = []
    for kind in layouts:
        ts_sg, ts_iov = [], []
        lays = [Layout(kind, n) for n in counts]
        try:
            rows = measure(sg, iov, lays, pairs, block_ns)
        finally:
            for lay in lays:
                lay.free()
        for n, r in zip(counts, rows, strict=True):
            ts_sg.append(r["sg"])
            ts_iov.append(r["iov"])
            ok = r["ratio"] <= GOAL and r["desc_iov"] < r["desc_sg"]
            misses += not ok
            print(f"{f'{kind} x{n}':12} {r['k']:8} {r['sg']:10.1f} {r['iov']:10.1f} "
                  f"{r['ratio']:7.3f} {r['desc_sg']:9} {r['desc_iov']:9}  "
                  f"{'PASS' if ok else 'MISS'}")
        fits.append((kind, fit(list(counts), ts_sg), fit(list(counts), ts_iov)))
    print("\nleast-squares fit over N = " + ", ".join(map(str, counts))
          + ": per-request (fixed) and per-segment (slope) cost, µs")
    print(f"{'layout':12} {'sg fixed':>9} {'iov fixed':>9} {'iov-sg':>7} {'sg /seg':>8} "
          f"{'iov /seg':>8} {'iov/sg':>7}")
    for kind, (fs, ss), (fi, si) in fits:
        print(f"{kind:12} {fs:9.1f} {fi:9.1f} {fi - fs:7.1f} {ss:8.2f} {si:8.2f} "
              f"{si / ss:7.3f}")
    sg.free()
    iov.free()
    print(f"\n{'PASS' if not misses else f'MISS ({misses} rows)'}")
    return 1 if misses else 0


if __name__ == "__main__":
    raise SystemExit(main())
