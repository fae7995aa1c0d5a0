"""Cost of the DMA engine path in both worlds (sgl/engine_aes.py against
its converted twin iovcrypto/engine_aes.py), cbc(aes) on the engine.

For each layout -- N pages described by N scatterlist entries / N
bio_vecs (one segment per page), and one contiguous run -- it measures in
one run, with a CPU-time clock, the median of several rounds of a
request submitted and waited for (crypto_wait_req), in place:

- ``sg µs/req`` and ``iov µs/req``: per request, driver + device + the
  completion path (the caller's descriptors are built outside the clock);
- ``µs/seg``: the per-segment cost, from the difference between 64 and 4
  segments;
- ``iov/sg``: the iov_iter driver's time over the scatterlist driver's on
  the same layout (target <= 1.05);
- ``descB sg/iov``: the descriptor bytes of a request: the caller's
  description (N scatterlist entries of SIZEOF_SCATTERLIST, or N bio_vecs
  of SIZEOF_BIO_VEC; built outside the clock) plus what the driver and
  the engine count in kmem.stats (hardware descriptors, driver arrays).
  The scatterlist entry is twice a bio_vec because it also carries the
  DMA address and length that dma_map_sg writes back; the converted
  driver keeps its bus segments in its own request context instead.

    python3 benchmarks/bench_engine.py [--quick]
"""

from __future__ import annotations

import statistics
import sys
import time

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
    skcipher_request_alloc,
    skcipher_request_free,
    skcipher_request_set_callback,
    skcipher_request_set_iter,
)
from iovcrypto.uio import SIZEOF_BIO_VEC
from kmem import PAGE_SIZE
from sgl.scatterlist import SIZEOF_SCATTERLIST

_free_pages = kmem.__free_pages  # (inside a class body the name would be mangled)


def cpu() -> float:
    return time.process_time()


class Pages:
    def __init__(self, n: int, contiguous: bool) -> None:
        self.n = n
        order = (n - 1).bit_length()
        if contiguous:
            self.folios = [kmem.alloc_pages(kmem.GFP_KERNEL, order)]
            self.pages = [kmem.folio_page(self.folios[0], i) for i in range(n)]
        else:
            self.folios = [kmem.alloc_page(kmem.GFP_KERNEL) for _ in range(n)]
            self.pages = self.folios
        self.order = order if contiguous else 0

    def sg(self):
        a = sgl.sg_array(self.n)
        sgl.sg_init_table(a, self.n)
        for i, p in enumerate(self.pages):
            sgl.sg_set_page(a[i], p, PAGE_SIZE, 0)
        return a

    def iters(self):
        bv = [bio_vec() for _ in range(self.n)]
        for b, p in zip(bv, self.pages, strict=True):
            bvec_set_page(b, p, PAGE_SIZE, 0)
        s = iov_iter()
        # In place with one iterator: it is the destination (ITER_DEST).
        iov_iter_bvec(s, ITER_DEST, bv, self.n, self.n * PAGE_SIZE)
        return s

    def free(self) -> None:
        for f in self.folios:
            _free_pages(f, self.order)


def run_sg(pages: Pages, rounds: int) -> tuple[float, int]:
    tfm = sgl.crypto_alloc_skcipher("cbc-aes-engine")
    sgl.crypto_skcipher_setkey(tfm, bytes(16), 16)
    req = sgl.skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    times = []
    desc = 0
    for _ in range(rounds):
        a = pages.sg()
        wait = CryptoWait()
        sgl.skcipher_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG, crypto_req_done, wait)
        sgl.skcipher_request_set_crypt(req, a, a, pages.n * PAGE_SIZE, bytearray(16))
        with kmem.cost_counters() as c:
            t = cpu()
            assert crypto_wait_req(sgl.crypto_skcipher_encrypt(req), wait) == 0
            times.append(cpu() - t)
        desc = c.descriptor_bytes + pages.n * SIZEOF_SCATTERLIST
    sgl.skcipher_request_free(req)
    sgl.crypto_free_skcipher(tfm)
    return statistics.median(times), desc


def run_iov(pages: Pages, rounds: int) -> tuple[float, int]:
    tfm = crypto_alloc_skcipher("cbc-aes-engine")
    crypto_skcipher_setkey(tfm, bytes(16), 16)
    req = skcipher_request_alloc(tfm, kmem.GFP_KERNEL)
    times = []
    desc = 0
    for _ in range(rounds):
        s = pages.iters()
        wait = CryptoWait()
        skcipher_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG, crypto_req_done, wait)
        skcipher_request_set_iter(req, s, s, pages.n * PAGE_SIZE, bytearray(16))
        with kmem.cost_counters() as c:
            t = cpu()
            assert crypto_wait_req(crypto_skcipher_encrypt(req), wait) == 0
            times.append(cpu() - t)
        desc = c.descriptor_bytes + pages.n * SIZEOF_BIO_VEC
    skcipher_request_free(req)
    crypto_free_skcipher(tfm)
    return statistics.median(times), desc


def main() -> None:
    quick = "--quick" in sys.argv
    rounds = 5 if quick else 15
    print(f"{'layout':16} {'sg µs/req':>10} {'iov µs/req':>10} {'iov/sg':>7} "
          f"{'descB sg':>9} {'descB iov':>9}")
    per_seg = {}
    for contiguous in (False, True):
        for n in (4, 64):
            pages = Pages(n, contiguous)
            # Warm up both paths once (key schedules, caches).
            run_sg(pages, 1)
            run_iov(pages, 1)
            (ts, ds), (ti, di) = run_sg(pages, rounds), run_iov(pages, rounds)
            pages.free()
            name = f"{n} {'contig' if contiguous else 'pages'}"
            per_seg[(contiguous, n)] = (ts, ti)
            print(f"{name:16} {ts * 1e6:10.0f} {ti * 1e6:10.0f} {ti / ts:7.2f} {ds:9} {di:9}")
    for contiguous in (False,):
        (s4, i4), (s64, i64) = per_seg[(contiguous, 4)], per_seg[(contiguous, 64)]
        print(f"per segment (pages): sg {(s64 - s4) / 60 * 1e6:.1f} µs, "
              f"iov {(i64 - i4) / 60 * 1e6:.1f} µs")


if __name__ == "__main__":
    main()
